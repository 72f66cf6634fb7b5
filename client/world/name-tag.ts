import { DynamicTexture, type Mesh, type Scene } from "./babylon.ts";
import { billboard, disposeBillboard } from "./billboard.ts";
import type { MoodStyle } from "../dialogue/mood.ts";

// Name tag over a character: name, role (NPCs) and, once an NPC has a mood, a small mood badge
// (coloured pill with symbol and word) beside the role. Redrawn in place when the mood changes.

/** Tag texture size (px); the plane is TAG_WIDTH m wide, so 1 m ≈ 256 px. */
const TAG_PX: [number, number] = [512, 128];
const TAG_WIDTH = 1.8;
const NAME_FONT = "bold 44px system-ui, sans-serif";
const ROLE_FONT = "italic 30px system-ui, sans-serif";
const MOOD_FONT = "bold 24px system-ui, sans-serif";

export type TagLabel = { name: string; role?: string };

export class NameTag {
  readonly mesh: Mesh;
  private tex: DynamicTexture;
  private mood: MoodStyle | null = null;

  constructor(scene: Scene, id: string, private label: TagLabel) {
    this.tex = new DynamicTexture(`tag-tex:${id}`, { width: TAG_PX[0], height: TAG_PX[1] }, scene, true);
    this.tex.hasAlpha = true;
    this.draw();
    this.mesh = billboard(scene, `tag:${id}`, this.tex, TAG_WIDTH, (TAG_WIDTH * TAG_PX[1]) / TAG_PX[0]);
  }

  /** Show (or with null, remove) the mood badge. */
  setMood(mood: MoodStyle | null): void {
    if (mood?.word === this.mood?.word) return;
    this.mood = mood;
    this.draw();
  }

  dispose(): void { disposeBillboard(this.mesh); }

  private draw(): void {
    const ctx = this.tex.getContext() as CanvasRenderingContext2D;
    const [W, H] = TAG_PX;
    const { name, role } = this.label;
    const mood = this.mood;
    ctx.clearRect(0, 0, W, H);
    ctx.font = NAME_FONT;
    const nameW = ctx.measureText(name).width;
    let secondW = 0;
    let roleW = 0;
    const moodText = mood ? `${mood.symbol} ${mood.word}` : "";
    let pillW = 0;
    if (role) { ctx.font = ROLE_FONT; roleW = ctx.measureText(role).width; secondW = roleW; }
    if (mood) { ctx.font = MOOD_FONT; pillW = ctx.measureText(moodText).width + 22; secondW += (role ? 12 : 0) + pillW; }
    const twoLines = role !== undefined || mood !== null;
    const boxW = Math.min(W - 4, Math.max(nameW, secondW) + 40);
    const boxH = twoLines ? 110 : 64;
    const x0 = (W - boxW) / 2, y0 = (H - boxH) / 2;
    ctx.fillStyle = role ? "rgba(40, 28, 16, 0.72)" : "rgba(15, 20, 30, 0.62)";
    ctx.beginPath();
    ctx.roundRect(x0, y0, boxW, boxH, 18);
    ctx.fill();
    ctx.textBaseline = "middle";
    ctx.textAlign = "center";
    ctx.font = NAME_FONT;
    ctx.fillStyle = "#ffffff";
    ctx.fillText(name, W / 2, twoLines ? y0 + 38 : H / 2, W - 24);
    if (!twoLines) { this.tex.update(); return; }
    // Second line: role, then the mood pill, centred together.
    const y = y0 + 82;
    let x = (W - Math.min(secondW, W - 24)) / 2;
    ctx.textAlign = "left";
    if (role) {
      ctx.font = ROLE_FONT;
      ctx.fillStyle = "#f4d58d";
      ctx.fillText(role, x, y, W - 24 - pillW);
      x += Math.min(roleW, W - 24 - pillW) + 12;
    }
    if (mood) {
      ctx.fillStyle = mood.colour;
      ctx.beginPath();
      ctx.roundRect(x, y - 17, pillW, 34, 17);
      ctx.fill();
      ctx.font = MOOD_FONT;
      ctx.fillStyle = "#1c1a16";
      ctx.fillText(moodText, x + 11, y + 1);
    }
    this.tex.update();
  }
}
