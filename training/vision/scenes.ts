import { personSolid } from "../../core/vision/seen.ts";
import { parseScene } from "../../core/scene/load.ts";
import type { Scene, SceneInput, Vec3 } from "../../core/scene/schema.ts";
import { COLOUR_RGB, COLOURS, KINDS, type ColourWord, type Kind } from "../../core/vision/vocab.ts";
import { solidOf, type Pose, type Solid } from "../../core/vision/view.ts";
import { footprintDistance } from "../../core/prompt/nearby.ts";
import { Rng } from "../data/rng.ts";

// Seeded procedural scenes for the vision data: an NPC standing somewhere, ground, sky and light
// for a time of day (night has lanterns), sometimes fog, background clutter from the village's
// vocabulary (fences, trees, stalls, walls and houses, wells, carts, other villagers) mostly to
// the sides or far, and 0..6 grounding props (core/vision/vocab.ts) scattered mostly in front of
// the NPC. Every scene passes the scene schema (core/scene/load.ts). Also views of a real scene
// file from its NPCs' poses, exact and perturbed, for evaluation.

/** Another villager drawn with the client's own avatar (client/world/avatars.ts). */
export type Figure = { id: string; role: string; position: Vec3; facing: number };

export type View = {
  seed: number;
  scene: Scene;
  npc: Pose & { id: string };
  figures: Figure[];
  /** "morning" | "noon" | "evening" | "night", and whether the ground is small enough for fog. */
  time: string;
  fog: boolean;
};

export const ROLES = ["blacksmith", "merchant", "guard", "innkeeper", "herbalist"] as const;

/** Solids other villagers occupy, for core/vision/view.ts. */
export function figureSolids(figures: readonly Figure[]): Solid[] {
  return figures.map((f) => personSolid(f.id, [f.position[0], 0, f.position[2]]));
}

type Obj = SceneInput["objects"][number];
type Rgb = [number, number, number];
const clamp01 = (x: number) => Math.min(1, Math.max(0, x));
const jitter = (rng: Rng, c: Rgb, d: number): Rgb => [clamp01(c[0] + (rng.float() * 2 - 1) * d), clamp01(c[1] + (rng.float() * 2 - 1) * d), clamp01(c[2] + (rng.float() * 2 - 1) * d)];
const r3 = (x: number) => Math.round(x * 1000) / 1000;
const rgb3 = (c: Rgb): Rgb => [r3(c[0]), r3(c[1]), r3(c[2])];
const range = (rng: Rng, lo: number, hi: number) => lo + rng.float() * (hi - lo);

const TIMES = {
  morning: { hours: [7, 9.5], sky: [0.72, 0.8, 0.9] as Rgb },
  noon: { hours: [10.5, 14.5], sky: [0.53, 0.72, 0.91] as Rgb },
  evening: { hours: [16.5, 18.5], sky: [0.88, 0.62, 0.42] as Rgb },
  night: { hours: [21, 23.5], sky: [0.07, 0.09, 0.17] as Rgb },
};
type Time = keyof typeof TIMES;

const GROUNDS: Rgb[] = [[0.36, 0.54, 0.25], [0.3, 0.46, 0.22], [0.42, 0.55, 0.3], [0.5, 0.4, 0.28], [0.44, 0.36, 0.26], [0.52, 0.5, 0.46], [0.45, 0.45, 0.42]];
const WOODS: Rgb[] = [[0.42, 0.29, 0.17], [0.48, 0.35, 0.22], [0.36, 0.25, 0.15], [0.55, 0.4, 0.25]];
const WALLS: Rgb[] = [[0.55, 0.53, 0.5], [0.43, 0.42, 0.4], [0.61, 0.44, 0.28], [0.82, 0.78, 0.68], [0.6, 0.5, 0.38]];
const CLOTH: Rgb[] = [[0.78, 0.22, 0.17], [0.18, 0.44, 0.71], [0.88, 0.69, 0.13], [0.24, 0.56, 0.29], [0.55, 0.4, 0.7]];
const LEAVES: Rgb[] = [[0.25, 0.48, 0.2], [0.18, 0.37, 0.2], [0.32, 0.5, 0.22]];

/** Size of each grounding kind at scale 1: shape and the height of its centre above the ground. */
function propShape(kind: Kind, s: number): { shape: Obj["shape"]; y: number; radius: number } {
  switch (kind) {
    case "barrel": return { shape: { kind: "cylinder", radius: r3(0.45 * s), height: r3(1.1 * s) }, y: r3(0.55 * s), radius: 0.45 * s };
    case "crate": { const e = r3(0.9 * s); return { shape: { kind: "box", size: [e, e, e] }, y: r3(e / 2), radius: 0.64 * s }; }
    case "sack": return { shape: { kind: "sphere", radius: r3(0.4 * s) }, y: r3(0.32 * s), radius: 0.4 * s };
    case "bucket": return { shape: { kind: "cylinder", radius: r3(0.22 * s), height: r3(0.35 * s) }, y: r3(0.175 * s), radius: 0.22 * s };
  }
}

const MATERIAL: Record<Kind, string> = { barrel: "wood", crate: "wood", sack: "cloth", bucket: "wood" };

/** A world point at `dist` metres and `angle` rad (0 = where the NPC faces, > 0 to its right). */
function around(npc: Pose, angle: number, dist: number): [number, number] {
  const yaw = npc.facing + angle;
  return [npc.position[0] + Math.sin(yaw) * dist, npc.position[2] + Math.cos(yaw) * dist];
}

type Footprint = { x: number; z: number; r: number };

/**
 * One generated view. The same seed gives the same scene. `names` biases nothing: kinds and
 * colours are uniform over the vocabulary.
 */
export function generateView(seed: number): View {
  const rng = new Rng(seed * 7919 + 17);
  const time = rng.weighted({ morning: 3, noon: 3, evening: 2, night: 2 }) as Time;
  const t = TIMES[time];
  const fog = rng.chance(0.25);
  const half = fog ? range(rng, 11, 20) : range(rng, 30, 60);
  const npc: Pose & { id: string } = { id: "viewer", position: [r3(range(rng, -3, 3)), 0, r3(range(rng, -3, 3))], facing: r3(range(rng, -Math.PI, Math.PI)) };
  const inside = (x: number, z: number, m = 1) => Math.abs(x) < half - m && Math.abs(z) < half - m;
  const taken: Footprint[] = [{ x: npc.position[0], z: npc.position[2], r: 0.9 }];
  const free = (x: number, z: number, r: number) => taken.every((f) => Math.hypot(f.x - x, f.z - z) > f.r + r + 0.15);
  const objects: Obj[] = [];
  const lights: SceneInput["lights"] = [];
  let n = 0;
  const id = (what: string) => `${what}-${n++}`;
  const add = (o: Obj) => { objects.push(o); };

  // Lights: day scenes sometimes take the client's sun from timeOfDay, sometimes their own.
  if (time === "night") {
    lights.push({ kind: "hemispheric", direction: [0, 1, 0], intensity: r3(range(rng, 0.45, 0.6)), colour: rgb3([0.62, 0.68, 0.9]) });
    lights.push({ kind: "directional", direction: [r3(range(rng, -0.6, 0.6)), -1, r3(range(rng, -0.6, 0.6))], intensity: r3(range(rng, 0.25, 0.4)), colour: rgb3([0.7, 0.76, 1]) });
  } else if (rng.chance(0.4)) {
    const warm = time === "noon" ? 0 : 0.15;
    lights.push({ kind: "hemispheric", direction: [0, 1, 0], intensity: r3(range(rng, 0.45, 0.75)), colour: rgb3(jitter(rng, [0.88, 0.92, 1], 0.05)) });
    lights.push({ kind: "directional", direction: [r3(range(rng, -0.8, 0.8)), -1, r3(range(rng, -0.8, 0.8))], intensity: r3(range(rng, 0.7, 1.2)), colour: rgb3([1, 0.95 - warm, 0.85 - 2 * warm]) });
  }

  // Clutter: mostly beside or behind the NPC, or far ahead.
  const clutterCount = rng.int(4, 12);
  for (let c = 0; c < clutterCount; c++) {
    const ahead = rng.chance(0.35);
    const angle = ahead ? range(rng, -0.6, 0.6) : (rng.chance(0.5) ? 1 : -1) * range(rng, 0.6, Math.PI);
    const dist = ahead ? range(rng, 9, 24) : range(rng, 3, 20);
    const [x, z] = around(npc, angle, dist);
    const what = rng.weighted({ fence: 3, tree: 3, stall: 2, wall: 2, house: 2, well: 1, cart: 1, lamp: 1 });
    const yaw = r3(range(rng, -Math.PI, Math.PI));
    const wood = rgb3(jitter(rng, rng.pick(WOODS), 0.03));
    const r = { fence: 2, tree: 1.5, stall: 2, wall: 2.5, house: 4.5, well: 1.4, cart: 1.8, lamp: 0.4 }[what];
    if (!inside(x, z, r + 0.3) || !free(x, z, r)) continue;
    taken.push({ x, z, r });
    const rx = (dx: number, dz: number): Vec3 => [r3(x + dx * Math.cos(yaw) + dz * Math.sin(yaw)), 0, r3(z - dx * Math.sin(yaw) + dz * Math.cos(yaw))];
    const at = (dx: number, y: number, dz: number): Vec3 => { const p = rx(dx, dz); return [p[0], r3(y), p[2]]; };
    switch (what) {
      case "fence": {
        const len = range(rng, 3, 4.5);
        add({ id: id("fence"), name: "fence", tags: ["fence", "wood", "brown"], shape: { kind: "box", size: [r3(len), 1.2, 0.15] }, position: [r3(x), 0.6, r3(z)], rotation: [0, yaw, 0], colour: wood });
        break;
      }
      case "tree": {
        const h = range(rng, 2.6, 4.4);
        add({ id: id("tree-trunk"), name: "tree trunk", tags: ["tree", "trunk", "wood", "brown"], shape: { kind: "cylinder", radius: 0.3, height: r3(h) }, position: [r3(x), r3(h / 2), r3(z)], colour: rgb3(jitter(rng, [0.36, 0.24, 0.13], 0.03)) });
        const leaves = rgb3(jitter(rng, rng.pick(LEAVES), 0.04));
        if (rng.chance(0.5)) add({ id: id("tree-crown"), name: "tree crown", tags: ["tree", "crown", "leaves", "green"], shape: { kind: "sphere", radius: 1.8 }, position: [r3(x), r3(h + 1.2), r3(z)], colour: leaves });
        else add({ id: id("tree-crown"), name: "tree crown", tags: ["tree", "crown", "leaves", "green"], shape: { kind: "cone", radius: 1.9, height: 3.4 }, position: [r3(x), r3(h + 1.5), r3(z)], colour: leaves });
        break;
      }
      case "stall": {
        const cloth = rgb3(jitter(rng, rng.pick(CLOTH), 0.04));
        add({ id: id("stall-counter"), name: "stall counter", tags: ["stall", "counter", "wood", "brown"], shape: { kind: "box", size: [3, 1, 1.2] }, position: at(0, 0.5, -0.6), rotation: [0, yaw, 0], colour: wood });
        for (const [dx, dz] of [[-1.4, -1.2], [1.4, -1.2], [-1.4, 0.8], [1.4, 0.8]]) {
          add({ id: id("stall-post"), name: "stall post", tags: ["stall", "post", "wood", "brown"], shape: { kind: "box", size: [0.15, 2.6, 0.15] }, position: at(dx, 1.3, dz), rotation: [0, yaw, 0], colour: wood });
        }
        add({ id: id("stall-awning"), name: "stall awning", tags: ["stall", "awning", "cloth"], shape: { kind: "box", size: [3.4, 0.12, 2.6] }, position: at(0, 2.66, -0.2), rotation: [0, yaw, 0], colour: cloth });
        break;
      }
      case "wall": {
        const len = range(rng, 4, 8), h = range(rng, 1.5, 3);
        add({ id: id("wall"), name: "wall", tags: ["wall", "stone", "grey"], shape: { kind: "box", size: [r3(len), r3(h), 0.5] }, position: [r3(x), r3(h / 2), r3(z)], rotation: [0, yaw, 0], colour: rgb3(jitter(rng, rng.pick(WALLS), 0.03)) });
        break;
      }
      case "house": {
        const w = range(rng, 5, 9), d = range(rng, 4, 7), h = range(rng, 3, 5);
        add({ id: id("house"), name: "house", tags: ["house", "building"], shape: { kind: "box", size: [r3(w), r3(h), r3(d)] }, position: [r3(x), r3(h / 2), r3(z)], rotation: [0, yaw, 0], colour: rgb3(jitter(rng, rng.pick(WALLS), 0.03)) });
        add({ id: id("house-roof"), name: "roof", tags: ["house", "roof"], shape: { kind: "box", size: [r3(w + 0.6), 0.45, r3(d + 0.6)] }, position: [r3(x), r3(h + 0.22), r3(z)], rotation: [0, yaw, 0], colour: rgb3(jitter(rng, rng.pick([[0.23, 0.25, 0.28], [0.72, 0.59, 0.25], [0.5, 0.22, 0.16]] as Rgb[]), 0.03)) });
        break;
      }
      case "well": {
        add({ id: id("well"), name: "well", tags: ["well", "stone", "grey"], shape: { kind: "cylinder", radius: 1.1, height: 1 }, position: [r3(x), 0.5, r3(z)], colour: rgb3(jitter(rng, [0.54, 0.54, 0.52], 0.03)) });
        add({ id: id("well-roof"), name: "well roof", tags: ["well", "roof"], shape: { kind: "cone", radius: 1.4, height: 0.9 }, position: [r3(x), 2.65, r3(z)], colour: rgb3(jitter(rng, [0.56, 0.23, 0.18], 0.03)) });
        for (const dx of [-0.9, 0.9]) add({ id: id("well-post"), name: "well post", tags: ["well", "post"], shape: { kind: "box", size: [0.2, 2.2, 0.2] }, position: at(dx, 1.1, 0), rotation: [0, yaw, 0], colour: wood });
        break;
      }
      case "cart": {
        add({ id: id("cart-bed"), name: "cart", tags: ["cart", "wood"], shape: { kind: "box", size: [2.2, 0.7, 3.6] }, position: at(0, 1.15, 0), rotation: [0, yaw, 0], colour: wood });
        for (const dx of [-1.2, 1.2]) add({ id: id("cart-wheel"), name: "wheel", tags: ["cart", "wheel"], shape: { kind: "cylinder", radius: 0.8, height: 0.15 }, position: at(dx, 0.8, 0), rotation: [0, yaw, Math.PI / 2], colour: rgb3([0.3, 0.21, 0.13]) });
        if (rng.chance(0.6)) add({ id: id("cart-hay"), name: "hay", tags: ["cart", "hay"], shape: { kind: "box", size: [1.9, 0.6, 3] }, position: at(0, 1.8, 0), rotation: [0, yaw, 0], colour: rgb3(jitter(rng, [0.85, 0.71, 0.29], 0.04)) });
        break;
      }
      case "lamp": {
        add({ id: id("lamp-post"), name: "lamp post", tags: ["lamp", "post"], shape: { kind: "cylinder", radius: 0.08, height: 2.4 }, position: [r3(x), 1.2, r3(z)], colour: rgb3([0.2, 0.2, 0.22]) });
        add({ id: id("lamp"), name: "lantern", tags: ["lantern", "light"], shape: { kind: "sphere", radius: 0.18 }, position: [r3(x), 2.5, r3(z)], colour: rgb3([0.95, 0.8, 0.35]) });
        if (time === "night") lights.push({ kind: "point", position: [r3(x), 2.4, r3(z)], intensity: r3(range(rng, 0.8, 1.2)), range: r3(range(rng, 10, 14)), colour: rgb3([1, 0.75, 0.45]) });
        break;
      }
    }
  }
  // Night: lanterns near the NPC so what is in front of it is lit.
  if (time === "night") {
    const lanterns = rng.int(1, 3);
    for (let l = 0; l < lanterns; l++) {
      const [x, z] = around(npc, range(rng, -0.9, 0.9), range(rng, 1.5, 6));
      lights.push({ kind: "point", position: [r3(x), r3(range(rng, 2.2, 3.2)), r3(z)], intensity: r3(range(rng, 0.9, 1.4)), range: r3(range(rng, 10, 16)), colour: rgb3(jitter(rng, [1, 0.78, 0.5], 0.05)) });
    }
  }

  // Other villagers, drawn as the game draws NPCs.
  const figures: Figure[] = [];
  const figureCount = rng.weighted({ 0: 5, 1: 3, 2: 2 });
  for (let f = 0; f < Number(figureCount); f++) {
    const [x, z] = around(npc, range(rng, -Math.PI, Math.PI), range(rng, 2.5, 14));
    if (!inside(x, z) || !free(x, z, 0.4)) continue;
    taken.push({ x, z, r: 0.4 });
    figures.push({ id: `figure-${f}`, role: rng.pick(ROLES), position: [r3(x), 0, r3(z)], facing: r3(range(rng, -Math.PI, Math.PI)) });
  }

  // Grounding props: mostly in front of the NPC, within the eye's view.
  const propCount = Number(rng.weighted({ 0: 1, 1: 2, 2: 2.5, 3: 2.5, 4: 2, 5: 1.2, 6: 1 }));
  let placed = 0;
  for (let tries = 0; placed < propCount && tries < propCount * 12; tries++) {
    const kind: Kind = rng.pick(KINDS);
    const colour: ColourWord = rng.pick(COLOURS);
    const s = range(rng, 0.7, 1.3);
    const front = rng.chance(0.78);
    const angle = front ? range(rng, -0.5, 0.5) : range(rng, -Math.PI, Math.PI);
    const dist = front ? 1.8 + Math.pow(rng.float(), 1.3) * 9 : range(rng, 1.2, 16);
    const [x, z] = around(npc, angle, dist);
    const { shape, y, radius } = propShape(kind, s);
    if (!inside(x, z) || !free(x, z, radius)) continue;
    taken.push({ x, z, r: radius });
    add({
      id: `${kind}-${placed}`, name: `${colour} ${kind}`, tags: [kind, colour, MATERIAL[kind]], shape,
      position: [r3(x), y, r3(z)], rotation: [0, r3(range(rng, -Math.PI, Math.PI)), 0],
      colour: rgb3(jitter(rng, COLOUR_RGB[colour], 0.04)), movable: true, mass: 20,
    });
    placed++;
  }

  const groundColour = rgb3(jitter(rng, rng.pick(GROUNDS), 0.03));
  const sky = rgb3(jitter(rng, t.sky, 0.04));
  const json: SceneInput = {
    name: `vision-${seed}`,
    ground: { size: [r3(2 * half), r3(2 * half)], colour: groundColour },
    sky: { colour: sky },
    timeOfDay: r3(range(rng, t.hours[0], t.hours[1])),
    objects,
    lights,
    spawns: [{ position: [npc.position[0], 0, npc.position[2]], facing: npc.facing }],
    npcs: [],
  };
  return { seed, scene: parseScene(json, `generated scene ${seed}`), npc, figures, time, fog };
}

/**
 * Views of a real scene from its NPCs: each NPC's own pose, then `extra` views near a random NPC
 * with the pose moved (up to 2.5 m, facing turned, or turned toward a prop) and, in some,
 * movable props moved about. The viewing NPC is not drawn; the others are (as figures).
 */
export function sceneViews(scene: Scene, opts: { npc?: string; extra: number; seed: number }): View[] {
  const npcs = opts.npc ? scene.npcs.filter((n) => n.id === opts.npc) : scene.npcs;
  if (npcs.length === 0) throw new Error(opts.npc ? `scene ${scene.name} has no NPC "${opts.npc}" (it has: ${scene.npcs.map((n) => n.id).join(", ")})` : `scene ${scene.name} has no NPCs`);
  const rng = new Rng(opts.seed);
  const views: View[] = [];
  const timeOf = (h: number) => (h >= 20 || h < 5 ? "night" : h < 10 ? "morning" : h < 16 ? "noon" : "evening");
  const props = scene.objects.filter((o) => o.movable);
  const make = (i: number, who: (typeof npcs)[number], position: Vec3, facing: number, sc: Scene): View => ({
    seed: opts.seed * 1000 + i, scene: sc, npc: { id: who.id, position, facing }, time: timeOf(sc.timeOfDay), fog: false,
    figures: sc.npcs.filter((n) => n.id !== who.id).map((n) => ({ id: n.id, role: n.role, position: n.position, facing: n.facing })),
  });
  for (const who of npcs) views.push(make(views.length, who, who.position, who.facing, scene));
  // Objects a standing NPC could not be inside (not flat stones, not roofs overhead).
  const solid = scene.objects.filter((o) => { const s = solidOf(o); return s.centre[1] + s.half[1] > 0.3 && s.centre[1] - s.half[1] < 1.8; });
  const clear = (x: number, z: number) => solid.every((o) => footprintDistance(o, x, z) > 0.5);
  for (let e = 0; e < opts.extra; e++) {
    const who = rng.pick(npcs);
    let position: Vec3 = [who.position[0], 0, who.position[2]];
    for (let tries = 0; tries < 20; tries++) {
      const p: Vec3 = [r3(who.position[0] + range(rng, -2.5, 2.5)), 0, r3(who.position[2] + range(rng, -2.5, 2.5))];
      if (clear(p[0], p[2])) { position = p; break; }
    }
    let facing = who.facing + range(rng, -0.9, 0.9);
    if (props.length > 0 && rng.chance(0.5)) {
      const p = rng.pick(props);
      facing = Math.atan2(p.position[0] - position[0], p.position[2] - position[2]) + range(rng, -0.35, 0.35);
    }
    let sc = scene;
    if (rng.chance(0.35)) {
      const moved = scene.objects.map((o) => o.movable && rng.chance(0.5)
        ? { ...o, position: [r3(o.position[0] + range(rng, -2, 2)), o.position[1], r3(o.position[2] + range(rng, -2, 2))] as Vec3, rotation: [0, r3(range(rng, -Math.PI, Math.PI)), 0] as Vec3 }
        : o);
      sc = { ...scene, objects: moved };
    }
    views.push(make(views.length, who, position, r3(Math.atan2(Math.sin(facing), Math.cos(facing))), sc));
  }
  return views;
}
