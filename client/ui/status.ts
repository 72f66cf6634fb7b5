// Connection status badge in the top-left corner: what the player needs to know about
// the link to the server, at a glance. Text is the state word itself (tests read it).

export type ConnectionState = "connecting" | "connected" | "reconnecting" | "disconnected";

export class StatusBadge {
  readonly el: HTMLDivElement;
  private current: ConnectionState = "connecting";

  constructor(parent: HTMLElement) {
    this.el = document.createElement("div");
    this.el.id = "status";
    this.el.setAttribute("role", "status");
    parent.append(this.el);
    this.set("connecting");
  }

  get state(): ConnectionState { return this.current; }

  /** detail: a short extra line, e.g. "attempt 3" or the close reason. */
  set(state: ConnectionState, detail = ""): void {
    this.current = state;
    this.el.dataset.state = state;
    this.el.textContent = state;
    this.el.title = detail;
    if (detail) {
      const small = document.createElement("span");
      small.className = "detail";
      small.textContent = detail;
      this.el.append(small);
    }
  }
}
