// "Enter — talk to Brom Ironhand (blacksmith)": shown while an NPC is in talk range and the
// player faces it, just above the chat input (where the line will be typed). While the chat box
// is open it says who the line will go to.

export class TalkPrompt {
  readonly el: HTMLDivElement;
  private shown = "";

  /** Placed right before `input`. */
  constructor(input: HTMLElement) {
    this.el = document.createElement("div");
    this.el.id = "talk-prompt";
    this.el.hidden = true;
    input.before(this.el);
  }

  /** The NPC on offer (null hides the prompt); `typing` while the chat box is open. */
  set(npc: { name: string; role?: string } | null, typing: boolean): void {
    const key = npc ? `${typing ? 1 : 0}${npc.name}\u0000${npc.role ?? ""}` : "";
    if (key === this.shown) return;
    this.shown = key;
    this.el.hidden = npc === null;
    this.el.replaceChildren();
    if (!npc) return;
    const who = document.createElement("b");
    who.textContent = npc.name;
    const role = npc.role ? ` (${npc.role})` : "";
    if (typing) {
      this.el.append("talking to ", who, role);
    } else {
      const key = document.createElement("kbd");
      key.textContent = "Enter";
      this.el.append(key, " — talk to ", who, role);
    }
  }
}
