// Chat box: a log of lines (sender + text) and one input. Enter focuses the input,
// Enter sends, Escape leaves it. While the input has focus the game ignores movement
// keys (see `typing`).

export type ChatLine = {
  from: string;
  text: string;
  kind?: "player" | "npc" | "system" | "self";
  /** A small mark after the text, e.g. "fallback"; `noteTitle` explains it on hover. */
  note?: string;
  noteTitle?: string;
};

/** Lines kept in the log; older ones scroll away for good. */
const MAX_LINES = 200;
/** Longest line a player may send (characters); the server validates too. */
export const MAX_SAY = 280;

export class ChatBox {
  readonly el: HTMLDivElement;
  readonly log: HTMLDivElement;
  readonly input: HTMLInputElement;
  private onSend: (text: string) => void = () => {};

  constructor(parent: HTMLElement) {
    const box = document.createElement("div");
    this.el = box;
    box.id = "chat";
    this.log = document.createElement("div");
    this.log.id = "chat-log";
    this.log.setAttribute("aria-live", "polite");
    this.input = document.createElement("input");
    this.input.id = "chat-input";
    this.input.type = "text";
    this.input.maxLength = MAX_SAY;
    this.input.autocomplete = "off";
    this.input.placeholder = "Press Enter to talk";
    box.append(this.log, this.input);
    parent.append(box);

    this.input.addEventListener("keydown", (e) => {
      // Keys typed into the chat never reach the game.
      e.stopPropagation();
      if (e.key === "Enter") {
        const text = this.input.value.trim();
        if (text) this.onSend(text);
        this.input.value = "";
        this.input.blur();
        e.preventDefault();
      } else if (e.key === "Escape") {
        this.input.value = "";
        this.input.blur();
        e.preventDefault();
      }
    });
    this.input.addEventListener("keyup", (e) => e.stopPropagation());
    window.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && document.activeElement !== this.input) {
        this.input.focus();
        e.preventDefault();
      }
    });
  }

  /** True while the player is typing: movement keys must be ignored. */
  get typing(): boolean { return document.activeElement === this.input; }

  sent(handler: (text: string) => void): void { this.onSend = handler; }

  /** Placeholder of the input (says who a line will go to). */
  set placeholder(text: string) { if (this.input.placeholder !== text) this.input.placeholder = text; }

  add(line: ChatLine): void {
    const row = document.createElement("div");
    row.className = `line ${line.kind ?? "player"}`;
    const who = document.createElement("span");
    who.className = "from";
    who.textContent = line.from;
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = line.text;
    row.append(who, text);
    if (line.note) {
      const note = document.createElement("span");
      note.className = "note";
      note.textContent = line.note;
      if (line.noteTitle) note.title = line.noteTitle;
      row.append(note);
      row.dataset.note = line.note;
    }
    this.log.append(row);
    while (this.log.childElementCount > MAX_LINES) this.log.firstElementChild!.remove();
    this.log.scrollTop = this.log.scrollHeight;
  }
}
