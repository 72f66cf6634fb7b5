import { moodStyle } from "../dialogue/mood.ts";

// A compact panel for the NPC the player talks to: name, mood (symbol, word, colour) and the
// combination gate's weights for the last reply, one bar per adapter, largest first.

export type NpcPanelData = {
  name: string;
  role?: string;
  mood: string | null;
  /** Adapter id → mixture weight (0..1), from the last reply. */
  weights: Record<string, number> | null;
};

export class NpcPanel {
  readonly el: HTMLDivElement;
  private shown = "";

  constructor(parent: HTMLElement) {
    this.el = document.createElement("div");
    this.el.id = "npc-panel";
    this.el.hidden = true;
    parent.append(this.el);
  }

  set(data: NpcPanelData | null): void {
    const key = JSON.stringify(data);
    if (key === this.shown) return;
    this.shown = key;
    this.el.hidden = data === null;
    this.el.replaceChildren();
    if (!data) return;
    const head = document.createElement("div");
    head.className = "head";
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = data.name;
    head.append(name);
    if (data.mood) {
      const m = moodStyle(data.mood);
      const chip = document.createElement("span");
      chip.className = "mood";
      chip.dataset.mood = m.word;
      chip.style.background = m.colour;
      chip.textContent = `${m.symbol} ${m.word}`;
      head.append(chip);
    }
    this.el.append(head);
    const entries = Object.entries(data.weights ?? {})
      .filter(([, w]) => typeof w === "number" && Number.isFinite(w))
      .sort((a, b) => b[1] - a[1]);
    if (entries.length === 0) return;
    const bars = document.createElement("div");
    bars.className = "weights";
    bars.title = "Adapter mixture weights of the last reply";
    for (const [id, w] of entries) {
      const row = document.createElement("div");
      row.className = "weight";
      row.dataset.adapter = id;
      const label = document.createElement("span");
      label.className = "label";
      label.textContent = id;
      const bar = document.createElement("span");
      bar.className = "bar";
      const fill = document.createElement("span");
      fill.style.width = `${Math.round(Math.max(0, Math.min(1, w)) * 100)}%`;
      bar.append(fill);
      const value = document.createElement("span");
      value.className = "value";
      value.textContent = w.toFixed(2);
      row.append(label, bar, value);
      bars.append(row);
    }
    this.el.append(bars);
  }
}
