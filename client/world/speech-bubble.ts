import { DynamicTexture, type Mesh, type Scene } from "./babylon.ts";
import { billboard, disposeBillboard } from "./billboard.ts";
import { fitLines, wrapText } from "./bubble-layout.ts";

// A speech bubble over a character: one texture and plane, redrawn in place as the line grows
// (NPC replies stream in piece by piece). The box is sized to the text and sits on the bottom
// edge of the texture, just above the name tag; a line too long for the bubble shows its newest
// lines while it streams and its first lines once done. "Thinking" draws three bouncing dots.

/** Texture (px) and plane width (m); 1 m ≈ 213 px. */
const PX: [number, number] = [512, 256];
export const BUBBLE_WIDTH = 2.4;
export const BUBBLE_HEIGHT = (BUBBLE_WIDTH * PX[1]) / PX[0];
const MAX_LINES = 5;
const LINE_H = 40;
const FONT = "34px system-ui, sans-serif";
/** Dot animation step (ms). */
const DOT_MS = 300;

export type BubbleContent = {
  text: string;
  /** Waiting for the first words: dots instead of text. */
  thinking?: boolean;
  /** The line is still growing: keep its end in view. */
  streaming?: boolean;
};

export class SpeechBubble {
  readonly mesh: Mesh;
  private tex: DynamicTexture;
  private content: BubbleContent = { text: "" };
  private dotStep = -1;

  constructor(scene: Scene, id: string) {
    this.tex = new DynamicTexture(`bubble-tex:${id}`, { width: PX[0], height: PX[1] }, scene, true);
    this.tex.hasAlpha = true;
    this.mesh = billboard(scene, `bubble:${id}`, this.tex, BUBBLE_WIDTH, BUBBLE_HEIGHT);
  }

  get text(): string { return this.content.text; }
  get thinking(): boolean { return this.content.thinking === true; }

  /** Show this content; redraws only when it changed. */
  set(content: BubbleContent): void {
    const c = this.content;
    if (c.text === content.text && !!c.thinking === !!content.thinking && !!c.streaming === !!content.streaming && this.dotStep >= 0) return;
    this.content = { ...content };
    this.draw(performance.now());
  }

  /** Advance the thinking dots (call every frame). */
  animate(now: number): void {
    if (this.content.thinking && Math.floor(now / DOT_MS) !== this.dotStep) this.draw(now);
  }

  dispose(): void { disposeBillboard(this.mesh); }

  private draw(now: number): void {
    const [W, H] = PX;
    const ctx = this.tex.getContext() as CanvasRenderingContext2D;
    ctx.clearRect(0, 0, W, H);
    ctx.font = FONT;
    this.dotStep = Math.floor(now / DOT_MS);
    const thinking = this.content.thinking === true;
    const lines = thinking ? [] : fitLines(wrapText(this.content.text, (s) => ctx.measureText(s).width, W - 48), MAX_LINES, this.content.streaming ? "end" : "start");
    const boxH = thinking ? 56 : lines.length * LINE_H + 24;
    const boxW = thinking ? 120 : Math.min(W - 8, Math.max(60, ...lines.map((l) => ctx.measureText(l).width)) + 40);
    const x0 = (W - boxW) / 2, y0 = H - 20 - boxH;
    ctx.fillStyle = "rgba(255, 252, 244, 0.93)";
    ctx.beginPath();
    ctx.roundRect(x0, y0, boxW, boxH, 16);
    // The tail points down at the speaker.
    ctx.moveTo(W / 2 - 12, y0 + boxH);
    ctx.lineTo(W / 2, H - 4);
    ctx.lineTo(W / 2 + 12, y0 + boxH);
    ctx.fill();
    if (thinking) {
      // Three dots; one at a time hops up and darkens.
      const up = this.dotStep % 3;
      for (let i = 0; i < 3; i++) {
        ctx.fillStyle = i === up ? "#2a2216" : "#9a9080";
        ctx.beginPath();
        ctx.arc(W / 2 + (i - 1) * 26, y0 + boxH / 2 - (i === up ? 6 : 0), 8, 0, 2 * Math.PI);
        ctx.fill();
      }
    } else {
      ctx.fillStyle = "#2a2216";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      lines.forEach((l, i) => ctx.fillText(l, W / 2, y0 + 12 + LINE_H * (i + 0.5)));
    }
    this.tex.update();
  }
}
