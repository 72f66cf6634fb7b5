import { colourName } from "../../core/prompt/nearby.ts";
import type { CharacterCard } from "../../core/character/schema.ts";
import type { Scene, SceneObject, Vec3 } from "../../core/scene/schema.ts";
import { COLOUR_RGB, COLOURS } from "../../core/vision/vocab.ts";
import type { Rng } from "./rng.ts";

// Scene variants for the data engine: the same village, but what stands around each NPC changes
// from sample to sample. With one fixed scene every "what's near you?" has one answer per NPC, and
// a model can answer it from memory without reading the prompt's nearby lines (measured: the
// committed model names the forge's own props for a view full of crates and sacks). In a variant
// the props within reach of the NPCs are thinned out and new ones are set down at random, so only
// the prompt says what is there. Places that have names in the lore (the well, the forge, walk_to
// targets) stay where they are, so directions and walking keep their answers.

/** Props a variant may set down: name, shape, size (metres), tags. Names are what players say. */
export const VARIANT_PROPS: { name: string; shape: SceneObject["shape"]; tags: string[] }[] = [
  { name: "crate", shape: { kind: "box", size: [0.9, 0.9, 0.9] }, tags: ["crate", "box", "wood"] },
  { name: "barrel", shape: { kind: "cylinder", radius: 0.4, height: 1 }, tags: ["barrel", "cask"] },
  { name: "sack", shape: { kind: "sphere", radius: 0.4 }, tags: ["sack", "bag"] },
  { name: "bucket", shape: { kind: "cylinder", radius: 0.2, height: 0.35 }, tags: ["bucket", "pail"] },
  { name: "basket", shape: { kind: "cylinder", radius: 0.3, height: 0.3 }, tags: ["basket", "wicker"] },
  { name: "bench", shape: { kind: "box", size: [1.6, 0.5, 0.45] }, tags: ["bench", "seat"] },
  { name: "cart", shape: { kind: "box", size: [1.4, 0.8, 2.2] }, tags: ["cart", "wagon"] },
  { name: "lantern", shape: { kind: "box", size: [0.25, 0.4, 0.25] }, tags: ["lantern", "lamp", "light"] },
  { name: "hay bale", shape: { kind: "box", size: [1.1, 0.6, 0.6] }, tags: ["hay", "bale", "straw"] },
  { name: "log pile", shape: { kind: "box", size: [1.5, 0.7, 0.8] }, tags: ["logs", "log", "pile", "firewood", "wood"] },
  { name: "wheelbarrow", shape: { kind: "box", size: [0.7, 0.6, 1.3] }, tags: ["wheelbarrow", "barrow"] },
  { name: "stool", shape: { kind: "cylinder", radius: 0.2, height: 0.45 }, tags: ["stool", "seat"] },
  { name: "chest", shape: { kind: "box", size: [0.9, 0.6, 0.5] }, tags: ["chest", "trunk", "box"] },
  { name: "ladder", shape: { kind: "box", size: [0.5, 2.4, 0.1] }, tags: ["ladder"] },
  { name: "pumpkin", shape: { kind: "sphere", radius: 0.3 }, tags: ["pumpkin", "gourd"] },
  { name: "boulder", shape: { kind: "sphere", radius: 0.7 }, tags: ["boulder", "rock", "stone"] },
  { name: "flower pot", shape: { kind: "cylinder", radius: 0.2, height: 0.3 }, tags: ["flower", "flowers", "pot"] },
  { name: "water trough", shape: { kind: "box", size: [1.8, 0.5, 0.5] }, tags: ["trough", "water"] },
  { name: "table", shape: { kind: "box", size: [1.2, 0.75, 0.8] }, tags: ["table"] },
  { name: "scarecrow", shape: { kind: "box", size: [0.6, 1.8, 0.3] }, tags: ["scarecrow"] },
  { name: "woodpile", shape: { kind: "box", size: [1.2, 1, 0.6] }, tags: ["woodpile", "wood", "pile"] },
  { name: "anvil block", shape: { kind: "box", size: [0.5, 0.6, 0.5] }, tags: ["block", "anvil"] },
  { name: "rain barrel", shape: { kind: "cylinder", radius: 0.45, height: 1.1 }, tags: ["barrel", "rain", "water"] },
  { name: "grindstone", shape: { kind: "cylinder", radius: 0.45, height: 0.25 }, tags: ["grindstone", "whetstone", "stone"] },
  { name: "beehive", shape: { kind: "cylinder", radius: 0.3, height: 0.6 }, tags: ["beehive", "hive", "bees"] },
  { name: "milk churn", shape: { kind: "cylinder", radius: 0.2, height: 0.7 }, tags: ["churn", "milk"] },
  { name: "coil of rope", shape: { kind: "cylinder", radius: 0.3, height: 0.15 }, tags: ["rope", "coil"] },
  { name: "signboard", shape: { kind: "box", size: [0.8, 1.2, 0.1] }, tags: ["signboard", "sign", "board"] },
];

export interface VariantOptions {
  /** Objects within this many metres of an NPC may be removed or replaced (default 10). */
  reach?: number;
  /** Chance that a removable object near an NPC is taken away (default 0.6). */
  dropChance?: number;
  /** New props set down around each NPC: [min, max] (default [2, 6]). */
  props?: [number, number];
}

const hex = (rgb: readonly number[]) => "#" + rgb.map((c) => Math.round(Math.max(0, Math.min(1, c)) * 255).toString(16).padStart(2, "0")).join("");

/** Ids that name a place in the lore: the walk_to targets of the cards (the forge, the well, …). */
export function anchoredIds(scene: Scene, cards: Iterable<CharacterCard>): Set<string> {
  const ids = new Set<string>();
  for (const c of cards) for (const id of c.actions.walkTo) if (scene.objects.some((o) => o.id === id)) ids.add(id);
  return ids;
}

/**
 * A copy of `scene` in which the objects near the NPCs are thinned out and new props (a random
 * kind and colour each, no two of a kind around one NPC) are set down 0.8–5 m from each NPC. Objects far from every NPC and `anchored` ones are kept as they are.
 */
export function sceneVariant(scene: Scene, anchored: Set<string>, rng: Rng, options: VariantOptions = {}): Scene {
  const reach = options.reach ?? 10;
  const dropChance = options.dropChance ?? 0.6;
  const [lo, hi] = options.props ?? [2, 6];
  const near = (p: Vec3) => scene.npcs.some((n) => Math.hypot(n.position[0] - p[0], n.position[2] - p[2]) < reach);
  const objects = scene.objects.filter((o) => anchored.has(o.id) || !near(o.position) || !rng.chance(dropChance));
  const taken = objects.map((o) => ({ x: o.position[0], z: o.position[2], r: 0.5 }));
  let serial = 0;
  for (const npc of scene.npcs) {
    const kinds = new Set<string>();
    const n = rng.int(lo, hi);
    for (let k = 0, tries = 0; k < n && tries < 60; tries++) {
      const prop = rng.pick(VARIANT_PROPS);
      if (kinds.has(prop.name)) continue;
      const dist = 0.8 + rng.float() * 4.2;
      const angle = rng.float() * 2 * Math.PI;
      const x = npc.position[0] + Math.sin(angle) * dist, z = npc.position[2] + Math.cos(angle) * dist;
      if (taken.some((t) => Math.hypot(t.x - x, t.z - z) < t.r + 0.6)) continue;
      if (scene.npcs.some((o) => Math.hypot(o.position[0] - x, o.position[2] - z) < 1)) continue;
      const word = rng.pick(COLOURS);
      const rgb = COLOUR_RGB[word].map((c) => c + (rng.float() - 0.5) * 0.04);
      // Only colours the nearby lines can name back the same way (colourName's palette).
      if (colourName(hex(rgb)) !== word) continue;
      const height = prop.shape.kind === "box" ? prop.shape.size[1] : prop.shape.kind === "cylinder" ? prop.shape.height : prop.shape.kind === "sphere" ? 2 * prop.shape.radius : 1;
      objects.push({
        id: `${prop.name.replace(/ /g, "-")}-v${serial++}`, name: prop.name, tags: [...prop.tags, word], shape: prop.shape,
        position: [Math.round(x * 100) / 100, height / 2, Math.round(z * 100) / 100], rotation: [0, Math.round(rng.float() * 628) / 100, 0],
        scale: [1, 1, 1], colour: hex(rgb), movable: false, mass: 20,
      });
      taken.push({ x, z, r: 0.8 });
      kinds.add(prop.name);
      k++;
    }
  }
  return { ...scene, name: `${scene.name}-variant`, objects };
}
