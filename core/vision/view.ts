import type { SceneObject, Vec3 } from "../scene/schema.ts";
import { nameProp, type ColourWord, type Kind } from "./vocab.ts";

// What an NPC's eye sees of a scene, from geometry alone (no renderer): the eye pose and lens of
// the vision contract (core/vision/README.md), each grounding prop's place in the 64×64 picture,
// its depth and size, and whether it is in view (inside the frame, near enough, big enough, not
// hidden behind other objects). The data engine labels rendered views with it, the evaluation
// scores answers against it, tests check the eye with it. Isomorphic: plain maths only.
//
// Frames: Babylon's left-handed world, Y up; yaw 0 faces +Z and +X is then to the right
// (core/prompt/nearby.ts). Camera space: x right, y up, z forward (depth). Image: u to the right,
// v down, both 0..1 over the picture; row 0 is the top.

export const EYE = {
  /** Eye height above the feet (m). */
  height: 1.6,
  /** Downward pitch (rad). */
  pitch: 0.15,
  /** Vertical field of view (rad); the aspect is 1. */
  fov: 1.1,
  near: 0.1,
  far: 40,
  /** Picture side (px). */
  size: 64,
} as const;

/** Limits of "in view" for a prop. */
export const IN_VIEW = {
  /** Centre of the prop at least this far (fraction of the picture) inside the frame. */
  margin: 0.03,
  minDepth: 0.3,
  maxDepth: 14,
  /** Smallest apparent height (px). */
  minPx: 3,
  /** Largest blocked share of the sample rays before the prop counts as hidden. */
  maxOcclusion: 0.5,
} as const;

export type Pose = { position: Vec3; facing: number };
type V = [number, number, number];

export type EyeFrame = { origin: V; forward: V; right: V; up: V; tanHalf: number };

/** Eye position and axes for an NPC standing at `pose` (feet position, yaw). */
export function eyeFrame(pose: Pose): EyeFrame {
  const [x, y, z] = pose.position;
  const sy = Math.sin(pose.facing), cy = Math.cos(pose.facing);
  const sp = Math.sin(EYE.pitch), cp = Math.cos(EYE.pitch);
  return {
    origin: [x, y + EYE.height, z],
    forward: [sy * cp, -sp, cy * cp],
    right: [cy, 0, -sy],
    up: [sy * sp, cp, cy * sp],
    tanHalf: Math.tan(EYE.fov / 2),
  };
}

const dot = (a: V, b: V) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const sub = (a: V, b: V): V => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const add = (a: V, b: V, s = 1): V => [a[0] + b[0] * s, a[1] + b[1] * s, a[2] + b[2] * s];

/** World point → camera space [x right, y up, z depth]. */
export function toCamera(f: EyeFrame, p: V): V {
  const d = sub(p, f.origin);
  return [dot(d, f.right), dot(d, f.up), dot(d, f.forward)];
}

/** Camera-space point → image [u, v] (0..1, v down); null behind the near plane. */
export function toImage(f: EyeFrame, c: V): [number, number] | null {
  if (c[2] < EYE.near) return null;
  return [0.5 + c[0] / (c[2] * f.tanHalf) / 2, 0.5 - c[1] / (c[2] * f.tanHalf) / 2];
}

/** A scene object as a solid: centre, rotation (columns = local axes in world) and half extents. */
export type Solid = {
  id: string;
  form: "box" | "sphere" | "cylinder" | "cone";
  centre: V;
  axes: [V, V, V];
  half: V;
};

/** Local axes of Babylon's Euler rotation [x, y, z] (yaw Y, then pitch X, then roll Z). */
function axesOf(rot: Vec3): [V, V, V] {
  const [p, y, r] = rot;
  const cy = Math.cos(y), sy = Math.sin(y), cp = Math.cos(p), sp = Math.sin(p), cr = Math.cos(r), sr = Math.sin(r);
  // World = Ry · Rx · Rz · local (column vectors); each axis is that matrix's column.
  const col = (v: V): V => {
    const z1: V = [v[0] * cr - v[1] * sr, v[0] * sr + v[1] * cr, v[2]];
    const x1: V = [z1[0], z1[1] * cp - z1[2] * sp, z1[1] * sp + z1[2] * cp];
    return [x1[0] * cy + x1[2] * sy, x1[1], -x1[0] * sy + x1[2] * cy];
  };
  return [col([1, 0, 0]), col([0, 1, 0]), col([0, 0, 1])];
}

/** The solid a scene object occupies (glTF: its bounds box; capsules as cylinders). */
export function solidOf(o: SceneObject): Solid {
  const s = o.shape;
  const sc = o.scale.map(Math.abs) as V;
  let form: Solid["form"];
  let half: V;
  switch (s.kind) {
    case "box": form = "box"; half = [s.size[0] / 2, s.size[1] / 2, s.size[2] / 2]; break;
    case "gltf": form = "box"; half = [s.bounds[0] / 2, s.bounds[1] / 2, s.bounds[2] / 2]; break;
    case "sphere": form = "sphere"; half = [s.radius, s.radius, s.radius]; break;
    case "cylinder": case "capsule": form = "cylinder"; half = [s.radius, s.height / 2, s.radius]; break;
    case "cone": form = "cone"; half = [s.radius, s.height / 2, s.radius]; break;
  }
  return { id: o.id, form, centre: [...o.position] as V, axes: axesOf(o.rotation), half: [half[0] * sc[0], half[1] * sc[1], half[2] * sc[2]] };
}

/** Point in the solid's unit frame (box: the cube ±1; sphere: the unit ball; cylinder: r ≤ 1, |y| ≤ 1). */
function toUnit(s: Solid, p: V, isDir = false): V {
  const d = isDir ? p : sub(p, s.centre);
  return [dot(d, s.axes[0]) / s.half[0], dot(d, s.axes[1]) / s.half[1], dot(d, s.axes[2]) / s.half[2]];
}

/** Smallest t in (lo, hi) where the segment o + t·d enters the solid, or Infinity. */
export function segmentHit(s: Solid, o: V, d: V, lo: number, hi: number): number {
  const a = toUnit(s, o), b = toUnit(s, d, true);
  const inside = (t: number) => t > lo && t < hi;
  if (s.form === "box") {
    let t0 = -Infinity, t1 = Infinity;
    for (let i = 0; i < 3; i++) {
      if (Math.abs(b[i]) < 1e-12) { if (Math.abs(a[i]) > 1) return Infinity; continue; }
      let u = (-1 - a[i]) / b[i], w = (1 - a[i]) / b[i];
      if (u > w) [u, w] = [w, u];
      t0 = Math.max(t0, u); t1 = Math.min(t1, w);
    }
    if (t0 > t1) return Infinity;
    const t = Math.max(t0, lo);
    return t <= t1 && inside(t) ? t : Infinity;
  }
  if (s.form === "sphere") {
    const A = dot(b, b), B = 2 * dot(a, b), C = dot(a, a) - 1;
    const disc = B * B - 4 * A * C;
    if (disc < 0) return Infinity;
    const q = Math.sqrt(disc);
    const t0 = (-B - q) / (2 * A), t1 = (-B + q) / (2 * A);
    const t = Math.max(t0, lo);
    return t <= t1 && inside(t) ? t : Infinity;
  }
  if (s.form === "cylinder") {
    // Infinite cylinder x²+z² ≤ 1 clipped to |y| ≤ 1.
    let t0 = -Infinity, t1 = Infinity;
    const A = b[0] * b[0] + b[2] * b[2], B = 2 * (a[0] * b[0] + a[2] * b[2]), C = a[0] * a[0] + a[2] * a[2] - 1;
    if (A < 1e-12) { if (C > 0) return Infinity; }
    else {
      const disc = B * B - 4 * A * C;
      if (disc < 0) return Infinity;
      const q = Math.sqrt(disc);
      t0 = (-B - q) / (2 * A); t1 = (-B + q) / (2 * A);
    }
    if (Math.abs(b[1]) < 1e-12) { if (Math.abs(a[1]) > 1) return Infinity; }
    else {
      let u = (-1 - a[1]) / b[1], w = (1 - a[1]) / b[1];
      if (u > w) [u, w] = [w, u];
      t0 = Math.max(t0, u); t1 = Math.min(t1, w);
    }
    if (t0 > t1) return Infinity;
    const t = Math.max(t0, lo);
    return t <= t1 && inside(t) ? t : Infinity;
  }
  // Cone (base radius 1 at y = -1, apex at y = 1): march along the segment.
  const steps = 32;
  for (let i = 1; i < steps; i++) {
    const t = lo + ((hi - lo) * i) / steps;
    const y = a[1] + b[1] * t;
    if (y < -1 || y > 1) continue;
    const r = (1 - y) / 2;
    const x = a[0] + b[0] * t, z = a[2] + b[2] * t;
    if (x * x + z * z <= r * r) return t;
  }
  return Infinity;
}

export type Side = "left" | "right";

export type PropView = {
  id: string;
  kind: Kind;
  colour: ColourWord;
  /** In view: inside the frame, depth within limits, big enough and not mostly hidden. */
  visible: boolean;
  /** Why not visible: "frame" | "depth" | "small" | "occluded"; "" when visible. */
  why: "" | "frame" | "depth" | "small" | "occluded";
  /** Image position of the centre (0..1, v down); may lie outside 0..1. */
  u: number;
  v: number;
  /** Camera-space depth of the centre (m). */
  depth: number;
  /** Apparent height and width of the projected bounds (px, whole picture 64). */
  px: number;
  pxWidth: number;
  /** Share of sample rays from the eye blocked by other objects (0..1). */
  occlusion: number;
  /** From the NPC's own point of view: camera-space x below 0 is its left. */
  side: Side;
  /** Horizontal distance from the NPC's feet to the prop's centre (m, 0.1). */
  distance: number;
};

const r3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * Every grounding prop of `objects` (core/vision/vocab.ts nameProp) as the NPC at `pose` sees
 * it, in scene order. All objects (props included) block sight lines; `extra` adds solids that
 * are not scene objects (players, other NPCs) as blockers.
 */
export function viewProps(objects: readonly SceneObject[], pose: Pose, extra: readonly Solid[] = []): PropView[] {
  const f = eyeFrame(pose);
  const solids = [...objects.map(solidOf), ...extra];
  const out: PropView[] = [];
  objects.forEach((o, i) => {
    const name = nameProp(o);
    if (!name) return;
    const s = solids[i];
    const cc = toCamera(f, s.centre);
    const img = toImage(f, cc) ?? [cc[0] >= 0 ? 9 : -9, 0.5];
    // Projected bounds from the 8 corners of the solid's box (those in front of the eye).
    let u0 = Infinity, u1 = -Infinity, v0 = Infinity, v1 = -Infinity;
    for (const sx of [-1, 1]) for (const sy of [-1, 1]) for (const sz of [-1, 1]) {
      let p = add(s.centre, s.axes[0], sx * s.half[0]);
      p = add(p, s.axes[1], sy * s.half[1]);
      p = add(p, s.axes[2], sz * s.half[2]);
      const q = toImage(f, toCamera(f, p));
      if (!q) continue;
      u0 = Math.min(u0, q[0]); u1 = Math.max(u1, q[0]); v0 = Math.min(v0, q[1]); v1 = Math.max(v1, q[1]);
    }
    const px = Number.isFinite(v0) ? (v1 - v0) * EYE.size : 0;
    const pxWidth = Number.isFinite(u0) ? (u1 - u0) * EYE.size : 0;
    const occlusion = occludedShare(f, s, solids, i);
    const m = IN_VIEW.margin;
    let why: PropView["why"] = "";
    if (cc[2] < IN_VIEW.minDepth || cc[2] > IN_VIEW.maxDepth) why = "depth";
    else if (img[0] < m || img[0] > 1 - m || img[1] < m || img[1] > 1 - m) why = "frame";
    else if (px < IN_VIEW.minPx) why = "small";
    else if (occlusion > IN_VIEW.maxOcclusion) why = "occluded";
    out.push({
      id: o.id, kind: name.kind, colour: name.colour, visible: why === "", why,
      u: r3(img[0]), v: r3(img[1]), depth: r3(cc[2]), px: Math.round(px * 10) / 10, pxWidth: Math.round(pxWidth * 10) / 10,
      occlusion: r3(occlusion), side: cc[0] < 0 ? "left" : "right",
      distance: Math.round(Math.hypot(s.centre[0] - pose.position[0], s.centre[2] - pose.position[2]) * 10) / 10,
    });
  });
  return out;
}

/** Share of 9 sight lines (centre, edges, corners of the prop as the eye sees it) that another solid blocks. */
function occludedShare(f: EyeFrame, s: Solid, solids: readonly Solid[], self: number): number {
  const toEye = sub(f.origin, s.centre);
  const len = Math.hypot(toEye[0], toEye[1], toEye[2]) || 1;
  const view: V = [-toEye[0] / len, -toEye[1] / len, -toEye[2] / len];
  // Screen-aligned axes at the prop: right ⟂ view in the horizontal plane, up ⟂ both.
  let right: V = [view[2], 0, -view[0]];
  const rl = Math.hypot(right[0], right[2]) || 1;
  right = [right[0] / rl, 0, right[2] / rl];
  const up: V = [view[1] * right[2] - view[2] * right[1], view[2] * right[0] - view[0] * right[2], view[0] * right[1] - view[1] * right[0]];
  const w = 0.6 * (s.form === "box" ? (s.half[0] + s.half[2]) / 2 : Math.max(s.half[0], s.half[2]));
  const h = 0.6 * s.half[1];
  const offsets: [number, number][] = [[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1], [0.7, 0.7], [-0.7, 0.7], [0.7, -0.7], [-0.7, -0.7]];
  let blocked = 0;
  for (const [a, b] of offsets) {
    const p = add(add(s.centre, right, a * w), up, b * h);
    if (p[1] < 0.03) p[1] = 0.03;
    const d = sub(p, f.origin);
    for (let j = 0; j < solids.length; j++) {
      if (j === self) continue;
      if (segmentHit(solids[j], f.origin, d, 1e-4, 0.995) !== Infinity) { blocked++; break; }
    }
  }
  return blocked / offsets.length;
}
