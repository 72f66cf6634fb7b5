import {
  Color3, CreateBox, CreateCapsule, CreateCylinder, CreatePlane, CreateSphere, DynamicTexture, Mesh, Quaternion,
  type Scene, type ShadowGenerator, StandardMaterial, TransformNode,
} from "./babylon.ts";
import type { Look, Part } from "./avatar-look.ts";
import type { Palette } from "./build-world.ts";

// A character on screen: a root at the feet (moved by prediction or interpolation), a
// body node that bobs while walking, primitive parts from a Look, and a billboard name tag.

/** Bob: height (m) and steps per second while walking. */
const BOB_HEIGHT = 0.07;
const STEP_RATE = 2.2;
/** Shoulder joint relative to the feet (m), and how far arms swing (rad) at full stride. */
const SHOULDER_X = 0.34;
const SHOULDER_Y = 1.26;
const ARM_SWING = 0.55;

export class Avatar {
  readonly root: TransformNode;
  private body: TransformNode;
  private tag: Mesh;
  private parts: Mesh[] = [];
  private bubble: Mesh | null = null;
  private bubbleLeft = 0;
  /** The line shown in the speech bubble, "" when none. */
  saying = "";
  private tagHeight: number;
  private walkPhase = 0;
  private shoulders: TransformNode[] = [];
  /** 0..1 blend toward walking, eased so the bob starts and stops softly. */
  private walk = 0;
  walking = false;

  constructor(scene: Scene, id: string, look: Look, label: { name: string; role?: string }, palette: Palette, shadows: ShadowGenerator | null) {
    this.root = new TransformNode(`avatar:${id}`, scene);
    this.root.rotationQuaternion = Quaternion.Identity();
    this.body = new TransformNode(`avatar-body:${id}`, scene);
    this.body.parent = this.root;
    // Arms and hands hang from a shoulder node per side, so they can swing while walking.
    for (const side of ["l", "r"] as const) {
      const shoulder = new TransformNode(`shoulder-${side}:${id}`, scene);
      shoulder.parent = this.body;
      shoulder.position.set(side === "l" ? -SHOULDER_X : SHOULDER_X, SHOULDER_Y, 0);
      this.shoulders.push(shoulder);
    }
    for (const p of look.parts) {
      const m = buildPart(p, scene);
      const side = /^(arm|hand)-([lr])$/.exec(p.name)?.[2];
      if (side) {
        m.parent = this.shoulders[side === "l" ? 0 : 1];
        m.position.x -= side === "l" ? -SHOULDER_X : SHOULDER_X;
        m.position.y -= SHOULDER_Y;
      } else {
        m.parent = this.body;
      }
      m.material = palette.get(p.colour);
      m.receiveShadows = true;
      m.isPickable = false;
      shadows?.addShadowCaster(m, false);
      this.parts.push(m);
    }
    this.tag = buildNameTag(scene, id, label);
    this.tag.parent = this.root;
    this.tag.position.y = look.tagHeight;
    this.tagHeight = look.tagHeight;
  }

  /** Show a line in a speech bubble above the name tag for a few seconds (longer lines stay longer). */
  say(text: string): void {
    this.disposeBubble();
    const scene = this.root.getScene();
    this.bubble = buildBubble(scene, this.root.name, text);
    this.bubble.parent = this.root;
    this.bubble.position.y = this.tagHeight + 0.75;
    this.bubbleLeft = Math.min(12, 3 + text.length / 12);
    this.saying = text;
  }

  private disposeBubble(): void {
    if (!this.bubble) return;
    const mat = this.bubble.material as StandardMaterial | null;
    mat?.diffuseTexture?.dispose();
    mat?.dispose();
    this.bubble.dispose();
    this.bubble = null;
    this.saying = "";
  }

  /** Feet position (m) and rotation quaternion [x, y, z, w]. */
  setPose(position: readonly number[], rotation: readonly number[]): void {
    this.root.position.set(position[0], position[1], position[2]);
    this.root.rotationQuaternion!.set(rotation[0], rotation[1], rotation[2], rotation[3]);
  }

  /** Advance the walk bob by dt seconds. */
  animate(dt: number): void {
    if (this.bubble && (this.bubbleLeft -= dt) <= 0) this.disposeBubble();
    const target = this.walking ? 1 : 0;
    this.walk += (target - this.walk) * Math.min(1, dt * 8);
    this.walkPhase = (this.walkPhase + dt * STEP_RATE * Math.PI) % (2 * Math.PI);
    this.body.position.y = Math.abs(Math.sin(this.walkPhase)) * BOB_HEIGHT * this.walk;
    this.body.rotation.z = Math.sin(this.walkPhase) * 0.05 * this.walk;
    // One arm forward while the other goes back, once per two bobs (one per stride).
    const swing = Math.sin(this.walkPhase) * ARM_SWING * this.walk;
    if (this.shoulders.length === 2) {
      this.shoulders[0].rotation.x = swing;
      this.shoulders[1].rotation.x = -swing;
    }
  }

  dispose(): void {
    this.disposeBubble();
    const mat = this.tag.material as StandardMaterial | null;
    mat?.diffuseTexture?.dispose();
    mat?.dispose();
    this.root.dispose(false, false);
  }
}

function buildPart(p: Part, scene: Scene): Mesh {
  const [w, h, d] = p.size;
  let m: Mesh;
  switch (p.kind) {
    case "box": m = CreateBox(p.name, { width: w, height: h, depth: d }, scene); break;
    case "sphere": m = CreateSphere(p.name, { diameterX: w, diameterY: h, diameterZ: d, segments: 12 }, scene); break;
    case "cylinder": m = CreateCylinder(p.name, { diameter: w, height: h, tessellation: 16 }, scene); break;
    case "cone": m = CreateCylinder(p.name, { diameterTop: 0, diameterBottom: w, height: h, tessellation: 16 }, scene); break;
    case "capsule": m = CreateCapsule(p.name, { radius: w / 2, height: h, tessellation: 12, subdivisions: 1 }, scene); break;
  }
  m.position.set(p.at[0], p.at[1], p.at[2]);
  if (p.rotation) m.rotation.set(p.rotation[0], p.rotation[1], p.rotation[2]);
  return m;
}

/** Tag texture size (px); the plane is TAG_WIDTH m wide, so 1 m ≈ 256 px. */
const TAG_PX: [number, number] = [512, 128];
const TAG_WIDTH = 1.8;

function buildNameTag(scene: Scene, id: string, label: { name: string; role?: string }): Mesh {
  const tex = new DynamicTexture(`tag-tex:${id}`, { width: TAG_PX[0], height: TAG_PX[1] }, scene, true);
  tex.hasAlpha = true;
  const ctx = tex.getContext() as CanvasRenderingContext2D;
  const [W, H] = TAG_PX;
  ctx.clearRect(0, 0, W, H);
  const nameFont = "bold 44px system-ui, sans-serif";
  const roleFont = "italic 30px system-ui, sans-serif";
  ctx.font = nameFont;
  let textW = ctx.measureText(label.name).width;
  if (label.role) { ctx.font = roleFont; textW = Math.max(textW, ctx.measureText(label.role).width); }
  const boxW = Math.min(W - 4, textW + 40);
  const boxH = label.role ? 110 : 64;
  const x0 = (W - boxW) / 2, y0 = (H - boxH) / 2;
  ctx.fillStyle = label.role ? "rgba(40, 28, 16, 0.72)" : "rgba(15, 20, 30, 0.62)";
  ctx.beginPath();
  ctx.roundRect(x0, y0, boxW, boxH, 18);
  ctx.fill();
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  ctx.font = nameFont;
  ctx.fillStyle = "#ffffff";
  ctx.fillText(label.name, W / 2, label.role ? y0 + 38 : H / 2, W - 24);
  if (label.role) {
    ctx.font = roleFont;
    ctx.fillStyle = "#f4d58d";
    ctx.fillText(label.role, W / 2, y0 + 82, W - 24);
  }
  tex.update();

  return billboard(scene, `tag:${id}`, tex, TAG_WIDTH, (TAG_WIDTH * H) / W);
}

/**
 * A camera-facing plane showing `tex` (name tags, speech bubbles). These are UI: unlit and not
 * fogged, so distant names and lines stay readable. Size in metres.
 */
function billboard(scene: Scene, name: string, tex: DynamicTexture, width: number, height: number): Mesh {
  const plane = CreatePlane(name, { width, height }, scene);
  plane.billboardMode = TransformNode.BILLBOARDMODE_ALL;
  plane.isPickable = false;
  const mat = new StandardMaterial(`${name}:mat`, scene);
  mat.diffuseTexture = tex;
  mat.emissiveColor = Color3.White();
  mat.disableLighting = true;
  mat.useAlphaFromDiffuseTexture = true;
  mat.backFaceCulling = false;
  mat.fogEnabled = false;
  plane.material = mat;
  return plane;
}

/** Bubble texture (px) and plane width (m). */
const BUBBLE_PX: [number, number] = [512, 192];
const BUBBLE_WIDTH = 2.4;
const BUBBLE_LINES = 4;

/** Greedy word wrap to at most `maxLines` lines of `width` px; the last line ends in "…" if cut. */
function wrap(ctx: CanvasRenderingContext2D, text: string, width: number, maxLines: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    const next = line ? `${line} ${word}` : word;
    if (ctx.measureText(next).width <= width || !line) { line = next; continue; }
    lines.push(line);
    line = word;
    if (lines.length === maxLines) break;
  }
  if (lines.length < maxLines && line) lines.push(line);
  else if (line) lines[maxLines - 1] = `${lines[maxLines - 1]}…`;
  return lines;
}

function buildBubble(scene: Scene, id: string, text: string): Mesh {
  const [W, H] = BUBBLE_PX;
  const tex = new DynamicTexture(`bubble-tex:${id}`, { width: W, height: H }, scene, true);
  tex.hasAlpha = true;
  const ctx = tex.getContext() as CanvasRenderingContext2D;
  ctx.clearRect(0, 0, W, H);
  ctx.font = "30px system-ui, sans-serif";
  const lines = wrap(ctx, text, W - 48, BUBBLE_LINES);
  const lineH = 36;
  const boxH = lines.length * lineH + 24;
  const boxW = Math.min(W - 8, Math.max(...lines.map((l) => ctx.measureText(l).width)) + 40);
  const x0 = (W - boxW) / 2, y0 = H - 20 - boxH;
  ctx.fillStyle = "rgba(255, 252, 244, 0.93)";
  ctx.beginPath();
  ctx.roundRect(x0, y0, boxW, boxH, 16);
  // The tail points down at the speaker.
  ctx.moveTo(W / 2 - 12, y0 + boxH);
  ctx.lineTo(W / 2, H - 4);
  ctx.lineTo(W / 2 + 12, y0 + boxH);
  ctx.fill();
  ctx.fillStyle = "#2a2216";
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  lines.forEach((l, i) => ctx.fillText(l, W / 2, y0 + 12 + lineH * (i + 0.5)));
  tex.update();
  return billboard(scene, `bubble:${id}`, tex, BUBBLE_WIDTH, (BUBBLE_WIDTH * H) / W);
}
