import {
  CreateBox, CreateCapsule, CreateCylinder, CreateSphere, Mesh, Quaternion,
  type Scene, type ShadowGenerator, TransformNode,
} from "./babylon.ts";
import { jointOf, NECK_Y, type Look, type Part } from "./avatar-look.ts";
import type { Palette } from "./build-world.ts";
import { NameTag } from "./name-tag.ts";
import { SpeechBubble, BUBBLE_HEIGHT, type BubbleContent } from "./speech-bubble.ts";
import { gestureFor, gesturePose, holdWeight, pointArm, POINT_SECONDS, type Euler, type Gesture } from "./emotes.ts";
import type { MoodStyle } from "../dialogue/mood.ts";

// A character on screen: a root at the feet (moved by prediction or interpolation), a
// body node that bobs while walking, joints (shoulders, neck) that gestures turn, primitive
// parts from a Look, a billboard name tag (with a mood badge for NPCs) and a speech bubble.

/** Bob: height (m) and steps per second while walking. */
const BOB_HEIGHT = 0.07;
const STEP_RATE = 2.2;
/** Shoulder joint relative to the feet (m), and how far arms swing (rad) at full stride. */
const SHOULDER_X = 0.34;
const SHOULDER_Y = 1.26;
const ARM_SWING = 0.55;
/** Height of a pointing arm's shoulder above the feet, for aiming (m). */
const POINT_FROM_Y = SHOULDER_Y;

export class Avatar {
  readonly root: TransformNode;
  private body: TransformNode;
  private neck: TransformNode;
  private tag: NameTag;
  private parts: Mesh[] = [];
  private bubble: SpeechBubble | null = null;
  /** Seconds the bubble has left; Infinity while a caller (the dialogue) holds it. */
  private bubbleLeft = 0;
  private tagHeight: number;
  private walkPhase = 0;
  private shoulders: TransformNode[] = [];
  /** 0..1 blend toward walking, eased so the bob starts and stops softly. */
  private walk = 0;
  walking = false;
  /** Gesture playing (emote) and seconds into it. */
  private gesture: { name: string; g: Gesture; t: number } | null = null;
  /** Point target (world position) and seconds into the pointing. */
  private point: { at: [number, number, number]; t: number } | null = null;

  constructor(scene: Scene, id: string, look: Look, label: { name: string; role?: string }, palette: Palette, shadows: ShadowGenerator | null) {
    this.root = new TransformNode(`avatar:${id}`, scene);
    this.root.rotationQuaternion = Quaternion.Identity();
    this.body = new TransformNode(`avatar-body:${id}`, scene);
    this.body.parent = this.root;
    this.neck = new TransformNode(`neck:${id}`, scene);
    this.neck.parent = this.body;
    this.neck.position.set(0, NECK_Y, 0);
    // Arms and hands hang from a shoulder node per side, so they can swing while walking.
    for (const side of ["l", "r"] as const) {
      const shoulder = new TransformNode(`shoulder-${side}:${id}`, scene);
      shoulder.parent = this.body;
      shoulder.position.set(side === "l" ? -SHOULDER_X : SHOULDER_X, SHOULDER_Y, 0);
      this.shoulders.push(shoulder);
    }
    for (const p of look.parts) {
      const m = buildPart(p, scene);
      const joint = jointOf(p.name);
      const node = joint === "shoulder-l" ? this.shoulders[0] : joint === "shoulder-r" ? this.shoulders[1] : joint === "neck" ? this.neck : this.body;
      m.parent = node;
      if (node !== this.body) {
        m.position.x -= node.position.x;
        m.position.y -= node.position.y;
      }
      m.material = palette.get(p.colour);
      m.receiveShadows = true;
      m.isPickable = false;
      shadows?.addShadowCaster(m, false);
      this.parts.push(m);
    }
    this.tag = new NameTag(scene, id, label);
    this.tag.mesh.parent = this.root;
    this.tag.mesh.position.y = look.tagHeight;
    this.tagHeight = look.tagHeight;
  }

  /** The line shown in the speech bubble, "" when none (or while thinking). */
  get saying(): string { return this.bubble && !this.bubble.thinking ? this.bubble.text : ""; }
  /** True while the bubble shows the thinking dots. */
  get thinking(): boolean { return this.bubble?.thinking === true; }

  /** Show a line in a speech bubble above the name tag for a few seconds (longer lines stay longer). */
  say(text: string): void {
    this.showLine({ text });
    this.bubbleLeft = Math.min(12, 3 + text.length / 12);
  }

  /** Show a bubble until told otherwise (null removes it): NPC replies, timed by the dialogue. */
  showLine(content: BubbleContent | null): void {
    if (!content || (!content.thinking && content.text === "")) { this.disposeBubble(); return; }
    if (!this.bubble) {
      this.bubble = new SpeechBubble(this.root.getScene(), this.root.name);
      this.bubble.mesh.parent = this.root;
      // The bubble's box is drawn on the bottom of its texture: put that edge just above the tag.
      this.bubble.mesh.position.y = this.tagHeight + 0.3 + BUBBLE_HEIGHT / 2;
    }
    this.bubble.set(content);
    this.bubbleLeft = Infinity;
  }

  /** True while the bubble is one held by showLine (not a timed `say`). */
  get holdsLine(): boolean { return this.bubble !== null && this.bubbleLeft === Infinity; }

  /** Mood badge on the name tag (null removes it). */
  setMood(mood: MoodStyle | null): void { this.tag.setMood(mood); }

  /**
   * Play an emote gesture. The same emote asked for again while its first half still plays
   * (the event and the replicated state both announce it) does not restart it.
   */
  emote(name: string): void {
    const cur = this.gesture;
    if (cur && cur.name === name && cur.t < cur.g.duration / 2) return;
    this.gesture = { name, g: gestureFor(name), t: 0 };
  }

  /** Point an arm at a world position (m) for a few seconds. */
  pointAt(at: [number, number, number]): void {
    this.point = { at, t: 0 };
  }

  /** Name of the gesture playing, or "point" while pointing, or null: for the debug hook. */
  get gesturing(): string | null {
    if (this.gesture) return this.gesture.name;
    return this.point ? "point" : null;
  }

  private disposeBubble(): void {
    this.bubble?.dispose();
    this.bubble = null;
  }

  /** Feet position (m) and rotation quaternion [x, y, z, w]. */
  setPose(position: readonly number[], rotation: readonly number[]): void {
    this.root.position.set(position[0], position[1], position[2]);
    this.root.rotationQuaternion!.set(rotation[0], rotation[1], rotation[2], rotation[3]);
  }

  /** Advance the walk bob, gestures and the bubble by dt seconds. */
  animate(dt: number): void {
    if (this.bubble && (this.bubbleLeft -= dt) <= 0) this.disposeBubble();
    this.bubble?.animate(performance.now());
    const target = this.walking ? 1 : 0;
    this.walk += (target - this.walk) * Math.min(1, dt * 8);
    this.walkPhase = (this.walkPhase + dt * STEP_RATE * Math.PI) % (2 * Math.PI);
    // One arm forward while the other goes back, once per two bobs (one per stride).
    const swing = Math.sin(this.walkPhase) * ARM_SWING * this.walk;
    let armL: Euler = [swing, 0, 0];
    let armR: Euler = [-swing, 0, 0];
    let neck: Euler = [0, 0, 0];
    let lean = 0, lift = 0;

    if (this.gesture) {
      this.gesture.t += dt;
      const pose = gesturePose(this.gesture.g, this.gesture.t);
      if (!pose) this.gesture = null;
      else {
        armL = add(armL, pose.armL);
        armR = add(armR, pose.armR);
        neck = pose.neck;
        lean = pose.lean;
        lift = pose.lift;
      }
    }
    if (this.point) {
      this.point.t += dt;
      const w = holdWeight(this.point.t, POINT_SECONDS);
      if (w <= 0) this.point = null;
      else {
        const { yaw, elevation } = this.localDirection(this.point.at);
        const aim = pointArm(yaw, elevation);
        if (aim.side === "r") armR = mix(armR, aim.shoulder, w);
        else armL = mix(armL, aim.shoulder, w);
      }
    }

    this.body.position.y = Math.abs(Math.sin(this.walkPhase)) * BOB_HEIGHT * this.walk + lift;
    this.body.rotation.z = Math.sin(this.walkPhase) * 0.05 * this.walk;
    this.body.rotation.x = lean;
    this.neck.rotation.set(neck[0], neck[1], neck[2]);
    if (this.shoulders.length === 2) {
      this.shoulders[0].rotation.set(armL[0], armL[1], armL[2]);
      this.shoulders[1].rotation.set(armR[0], armR[1], armR[2]);
    }
  }

  /** Direction to a world point in this character's frame: yaw (rad, > 0 to its right) and elevation (rad). */
  private localDirection(at: [number, number, number]): { yaw: number; elevation: number } {
    const p = this.root.position;
    const q = this.root.rotationQuaternion!;
    const facing = 2 * Math.atan2(q.y, q.w);
    const dx = at[0] - p.x, dz = at[2] - p.z, dy = at[1] - (p.y + POINT_FROM_Y);
    const bearing = Math.atan2(dx, dz);
    const yaw = Math.atan2(Math.sin(bearing - facing), Math.cos(bearing - facing));
    return { yaw, elevation: Math.atan2(dy, Math.hypot(dx, dz)) };
  }

  dispose(): void {
    this.disposeBubble();
    this.tag.dispose();
    // Parts share the palette's materials: dispose the nodes only.
    this.root.dispose(false, false);
  }
}

function add(a: Euler, b: Euler): Euler { return [a[0] + b[0], a[1] + b[1], a[2] + b[2]]; }
function mix(a: Euler, b: Euler, w: number): Euler { return [a[0] + (b[0] - a[0]) * w, a[1] + (b[1] - a[1]) * w, a[2] + (b[2] - a[2]) * w]; }

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
