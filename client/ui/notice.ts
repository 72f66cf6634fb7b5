// Unobtrusive notices (e.g. the server rejected an input): a small line near the bottom
// centre that fades after a few seconds. Repeats of the same text are merged.

const SHOW_MS = 3500;

export class Notices {
  readonly el: HTMLDivElement;

  constructor(parent: HTMLElement) {
    this.el = document.createElement("div");
    this.el.id = "notices";
    parent.append(this.el);
  }

  /** showMs: how long it stays before fading. */
  show(text: string, showMs = SHOW_MS): void {
    const same = [...this.el.children].find((c) => c.textContent === text);
    same?.remove();
    const n = document.createElement("div");
    n.className = "notice";
    n.textContent = text;
    this.el.append(n);
    while (this.el.childElementCount > 3) this.el.firstElementChild!.remove();
    setTimeout(() => n.classList.add("fade"), showMs);
    setTimeout(() => n.remove(), showMs + 600);
  }
}
