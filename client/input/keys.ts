// Keyboard state for the game: which keys are held, by KeyboardEvent.code (layout-proof:
// WASD stays where it is on AZERTY). Keys are ignored while the chat input has focus,
// and all are released when the window loses focus (no stuck "W" after alt-tab).

export type Axes = {
  /** -1..1: W / ArrowUp forward, S / ArrowDown back. */
  forward: number;
  /** -1..1: D right, A left. */
  right: number;
  /** -1..1: camera orbit, ArrowRight / E clockwise, ArrowLeft / Q counter-clockwise. */
  turn: number;
  run: boolean;
  jump: boolean;
};

const GAME_KEYS = new Set([
  "KeyW", "KeyA", "KeyS", "KeyD", "KeyQ", "KeyE", "ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight",
  "Space", "ShiftLeft", "ShiftRight",
]);

export class Keys {
  private held = new Set<string>();

  constructor(target: Window, private isTyping: () => boolean) {
    target.addEventListener("keydown", (e) => {
      if (this.isTyping() || !GAME_KEYS.has(e.code)) return;
      this.held.add(e.code);
      e.preventDefault(); // arrows and space would scroll the page
    });
    target.addEventListener("keyup", (e) => { this.held.delete(e.code); });
    target.addEventListener("blur", () => this.held.clear());
  }

  /** Release everything (e.g. when the chat takes focus mid-stride). */
  clear(): void { this.held.clear(); }

  axes(): Axes {
    if (this.isTyping()) this.held.clear();
    const h = (c: string) => (this.held.has(c) ? 1 : 0);
    return {
      forward: Math.max(h("KeyW"), h("ArrowUp")) - Math.max(h("KeyS"), h("ArrowDown")),
      right: h("KeyD") - h("KeyA"),
      turn: Math.max(h("ArrowRight"), h("KeyE")) - Math.max(h("ArrowLeft"), h("KeyQ")),
      run: this.held.has("ShiftLeft") || this.held.has("ShiftRight"),
      jump: this.held.has("Space"),
    };
  }
}
