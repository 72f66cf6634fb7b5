import type { Colour, Scene, SceneObject, Vec3 } from "../scene/schema.ts";

// "Nearby" facts: what is around an NPC, as the NPC would describe it. The server builds them
// from the live scene state, the data engine from scene files; both call `nearbyFacts`.
//
// Conventions (core/scene/schema.ts, Babylon's left-handed frame): Y up, yaw 0 faces +Z, and at
// yaw 0 the NPC's right hand points to +X. So forward = (sin yaw, 0, cos yaw) and
// right = (cos yaw, 0, -sin yaw). Compass: +Z is north, +X is east.
// Distances are horizontal (XZ plane) in metres, from the NPC's feet to the nearest point of the
// object's footprint.

export const DIRECTIONS = ["ahead", "ahead-right", "right", "behind-right", "behind", "behind-left", "left", "ahead-left"] as const;
export type Direction = (typeof DIRECTIONS)[number];
export const COMPASS = ["north", "north-east", "east", "south-east", "south", "south-west", "west", "north-west"] as const;
export type Compass = (typeof COMPASS)[number];

/** A direction as an NPC says where a thing is ("behind me on the left"). */
export const RELATIVE_PHRASE: Record<Direction, string> = {
  ahead: "in front of me", "ahead-right": "ahead on my right", right: "to my right", "behind-right": "behind me on the right",
  behind: "behind me", "behind-left": "behind me on the left", left: "to my left", "ahead-left": "ahead on my left",
};


export interface Pose {
  position: Vec3;
  /** Yaw in radians. */
  facing: number;
}

/** Something that is not a scene object but can be near: a player, another NPC. */
export interface Entity {
  id: string;
  name: string;
  position: Vec3;
  colour?: Colour;
  tags?: string[];
  /** Footprint radius in metres. */
  radius?: number;
}

export interface NearbyFact {
  id: string;
  name: string;
  /** Colour name ("red", "brown"), from the object's colour; "" when it has none. */
  colour: string;
  tags: string[];
  /** Metres, rounded to 0.1. */
  distance: number;
  /** Relative to where the NPC faces. */
  direction: Direction;
  /** Absolute, from the NPC's position. */
  compass: Compass;
  /** True when the object was included because the player's line mentioned it. */
  mentioned: boolean;
}

export interface NearbyOptions {
  /** Only objects within this many metres (default 12). */
  radius?: number;
  /** At most this many facts (default 6), nearest first; mentioned objects always come first. */
  max?: number;
  /** Players and other NPCs to consider next to the scene objects. */
  entities?: Entity[];
  /** The player's line: objects it names are included whatever their distance. */
  mention?: string;
  /** Ids to leave out (the NPC itself). */
  exclude?: string[];
}

const PALETTE: [string, number, number, number][] = [
  ["black", 0.08, 0.08, 0.08], ["grey", 0.5, 0.5, 0.5], ["white", 0.92, 0.9, 0.86],
  ["red", 0.72, 0.18, 0.15], ["orange", 0.85, 0.45, 0.15], ["yellow", 0.88, 0.72, 0.2],
  ["green", 0.25, 0.55, 0.25], ["blue", 0.2, 0.4, 0.7], ["purple", 0.55, 0.4, 0.75],
  ["brown", 0.45, 0.3, 0.18], ["dark brown", 0.28, 0.2, 0.13], ["pink", 0.9, 0.55, 0.65],
];

function rgb(c: Colour): [number, number, number] {
  if (typeof c !== "string") return c;
  const n = parseInt(c.slice(1), 16);
  return [((n >> 16) & 255) / 255, ((n >> 8) & 255) / 255, (n & 255) / 255];
}

/** Nearest colour name in a small palette (squared RGB distance). */
export function colourName(c: Colour): string {
  const [r, g, b] = rgb(c);
  let best = "grey";
  let bestD = Infinity;
  for (const [name, pr, pg, pb] of PALETTE) {
    const d = (r - pr) ** 2 + (g - pg) ** 2 + (b - pb) ** 2;
    if (d < bestD) { bestD = d; best = name; }
  }
  return best;
}

/** Relative direction of a horizontal offset (dx, dz) for a body with the given yaw. */
export function relativeDirection(dx: number, dz: number, yaw: number): Direction {
  const ahead = dx * Math.sin(yaw) + dz * Math.cos(yaw);
  const right = dx * Math.cos(yaw) - dz * Math.sin(yaw);
  const angle = Math.atan2(right, ahead); // 0 = ahead, +pi/2 = right
  const sector = Math.round(angle / (Math.PI / 4));
  return DIRECTIONS[((sector % 8) + 8) % 8];
}

/** Compass direction of a horizontal offset; +Z north, +X east. */
export function compassDirection(dx: number, dz: number): Compass {
  const sector = Math.round(Math.atan2(dx, dz) / (Math.PI / 4));
  return COMPASS[((sector % 8) + 8) % 8];
}

/** Horizontal distance from point (px, pz) to the object's footprint (0 when inside). */
export function footprintDistance(obj: SceneObject, px: number, pz: number): number {
  const [ox, , oz] = obj.position;
  const dx = px - ox;
  const dz = pz - oz;
  const s = obj.shape;
  const [sx, , sz] = obj.scale;
  if (s.kind === "box" || s.kind === "gltf") {
    const size = s.kind === "box" ? s.size : s.bounds;
    // Into the box's local frame (inverse yaw rotation).
    const yaw = obj.rotation[1];
    const lx = dx * Math.cos(yaw) - dz * Math.sin(yaw);
    const lz = dx * Math.sin(yaw) + dz * Math.cos(yaw);
    const ex = Math.max(0, Math.abs(lx) - (size[0] * sx) / 2);
    const ez = Math.max(0, Math.abs(lz) - (size[2] * sz) / 2);
    return Math.hypot(ex, ez);
  }
  const r = s.radius * Math.max(sx, sz);
  return Math.max(0, Math.hypot(dx, dz) - r);
}

// Words a player may use for a thing that its name and tags do not contain.
const SYNONYMS: Record<string, string[]> = {
  tavern: ["inn", "pub", "tankard", "alehouse"],
  forge: ["smithy", "blacksmith", "smith"],
  herb: ["herbalist", "herbs"],
  stall: ["market", "stalls"],
  gate: ["entrance", "exit"],
  lookout: ["tower", "watchtower"],
  well: ["water"],
};

/** word -> the tags it is a synonym of. */
const SYNONYM_OF = new Map<string, string[]>();
for (const [key, syns] of Object.entries(SYNONYMS)) for (const w of syns) SYNONYM_OF.set(w, [...(SYNONYM_OF.get(w) ?? []), key]);

const COLOUR_WORDS = new Set([...PALETTE.flatMap(([name]) => name.split(" ")), "gray"]);

const STOPWORDS = new Set("the and you your for are what where how that this with from near there here have any can who why when which".split(" "));

function words(text: string): Set<string> {
  return new Set(text.toLowerCase().match(/[a-z]+/g) ?? []);
}

interface ObjectWords {
  obj: SceneObject;
  name: Set<string>;
  id: Set<string>;
  tags: Set<string>;
  /** Footprint area in m², breaks ties toward the bigger thing ("gate" -> the lintel, not a post). */
  area: number;
}

// Word sets per scene object, computed once per scene object list.
const objectWordsCache = new WeakMap<SceneObject[], ObjectWords[]>();

function objectWords(scene: Scene): ObjectWords[] {
  let cached = objectWordsCache.get(scene.objects);
  if (!cached) {
    cached = scene.objects.map((obj) => {
      const s = obj.shape;
      const size = s.kind === "box" ? s.size : s.kind === "gltf" ? s.bounds : [2 * s.radius, 0, 2 * s.radius];
      return {
        obj, name: words(obj.name), id: words(obj.id.replace(/[-_]/g, " ")), tags: new Set(obj.tags),
        area: size[0] * obj.scale[0] * size[2] * obj.scale[2],
      };
    });
    objectWordsCache.set(scene.objects, cached);
  }
  return cached;
}

function mentionScore(o: ObjectWords, w: string): number {
  let score = 0;
  if (o.obj.id === w) score += 4;
  if (o.name.has(w)) score += 2;
  if (o.tags.has(w)) score += 1;
  if (o.id.has(w)) score += 1;
  for (const key of SYNONYM_OF.get(w) ?? []) {
    if (o.tags.has(key) || o.id.has(key)) score += 1;
  }
  if (score > 0 && o.tags.has("building")) score += 1;
  return score;
}

interface Scored {
  o: ObjectWords;
  /** Score per word of the line. */
  per: number[];
  total: number;
}

/** Each scene object that the line's words name, with its score per word (colours count only beside another word). */
function scoreMentions(scene: Scene, line: string): { said: string[]; scored: Scored[] } {
  const said = [...words(line)].filter((w) => w.length >= 3 && !STOPWORDS.has(w));
  const scored: Scored[] = [];
  if (said.length === 0) return { said, scored };
  for (const o of objectWords(scene)) {
    const per = said.map((w) => mentionScore(o, w));
    const total = per.reduce((a, b) => a + b, 0);
    // A colour alone names no one thing ("what's that grey thing close to you?" is not the forge
    // across the village): it counts beside another word for the same object ("the red barrel").
    if (total > 0 && per.some((sc, i) => sc > 0 && !COLOUR_WORDS.has(said[i]))) scored.push({ o, per, total });
  }
  return { said, scored };
}

/**
 * Scene objects the line names, best match first: the object matching the most of the line's
 * words (summed scores; ties go to the bigger footprint), then the best for the words it left.
 */
export function mentionedObjects(scene: Scene, line: string): SceneObject[] {
  const { said, scored } = scoreMentions(scene, line);
  const out: SceneObject[] = [];
  const open = new Set(said.map((_, i) => i));
  while (open.size > 0) {
    let best: Scored | undefined;
    let bestScore = 0;
    for (const c of scored) {
      let sc = 0;
      for (const i of open) sc += c.per[i];
      if (sc > bestScore || (sc === bestScore && sc > 0 && best && c.o.area > best.o.area)) { best = c; bestScore = sc; }
    }
    if (!best || bestScore === 0) break;
    out.push(best.o.obj);
    for (const i of [...open]) if (best.per[i] > 0) open.delete(i);
  }
  return out;
}

/**
 * The one scene object (or place) a line names, or undefined when it names none, or when an
 * object of another name that stands apart matches it as well ("the stall" among four stalls, "the
 * spive stall": the footprint would decide, not the player). Of tied parts of one place, the biggest. What the reply checks hold a reply to (act-check.ts, near-check.ts).
 */
export function clearlyMentioned(scene: Scene, line: string): SceneObject | undefined {
  const { scored } = scoreMentions(scene, line);
  const top = Math.max(0, ...scored.map((c) => c.total));
  const best = scored.filter((c) => c.total === top);
  if (best.length === 0) return undefined;
  const one = best.reduce((a, b) => (b.o.area > a.o.area ? b : a)).o.obj;
  // Parts of one place tie and stand together (a stall's awning, counter and posts; the gate's
  // posts and lintel): that is still one place.
  const apart = (o: SceneObject) => Math.hypot(o.position[0] - one.position[0], o.position[2] - one.position[2]);
  return best.every((c) => c.o.obj.name === one.name || apart(c.o.obj) <= ONE_PLACE_M) ? one : undefined;
}

/** Objects tied for a line within this many metres of each other are one place. */
const ONE_PLACE_M = 5;

/** One scene object as a nearby fact from `pose` (what nearbyFacts writes for it). */
export function objectFact(obj: SceneObject, pose: Pose, mentioned = false): NearbyFact {
  const [px, , pz] = pose.position;
  return {
    id: obj.id, name: obj.name, colour: obj.colour === undefined ? "" : colourName(obj.colour), tags: obj.tags, mentioned,
    distance: Math.round(footprintDistance(obj, px, pz) * 10) / 10,
    direction: relativeDirection(obj.position[0] - px, obj.position[2] - pz, pose.facing),
    compass: compassDirection(obj.position[0] - px, obj.position[2] - pz),
  };
}

/**
 * What is near an NPC at `pose`: scene objects and entities within `radius`, nearest first, one per
 * name (a stall's four posts show up once), plus anything the player's line mentions.
 */
export function nearbyFacts(scene: Scene, pose: Pose, options: NearbyOptions = {}): NearbyFact[] {
  const radius = options.radius ?? 12;
  const max = options.max ?? 6;
  const exclude = new Set(options.exclude ?? []);
  const [px, , pz] = pose.position;
  const fact = (id: string, name: string, colour: Colour | undefined, tags: string[], pos: Vec3, dist: number, mentioned: boolean): NearbyFact => ({
    id, name, colour: colour === undefined ? "" : colourName(colour), tags, mentioned,
    distance: Math.round(dist * 10) / 10,
    direction: relativeDirection(pos[0] - px, pos[2] - pz, pose.facing),
    compass: compassDirection(pos[0] - px, pos[2] - pz),
  });
  const mentioned = options.mention ? mentionedObjects(scene, options.mention).filter((o) => !exclude.has(o.id)) : [];
  const mentionedIds = new Set(mentioned.map((o) => o.id));
  const candidates: NearbyFact[] = [];
  for (const obj of scene.objects) {
    if (exclude.has(obj.id) || mentionedIds.has(obj.id)) continue;
    const d = footprintDistance(obj, px, pz);
    if (d <= radius) candidates.push(fact(obj.id, obj.name, obj.colour, obj.tags, obj.position, d, false));
  }
  for (const e of options.entities ?? []) {
    if (exclude.has(e.id)) continue;
    const d = Math.max(0, Math.hypot(e.position[0] - px, e.position[2] - pz) - (e.radius ?? 0.3));
    if (d <= radius) candidates.push(fact(e.id, e.name, e.colour, e.tags ?? [], e.position, d, false));
  }
  candidates.sort((a, b) => a.distance - b.distance || a.id.localeCompare(b.id));
  const seenNames = new Set<string>();
  const out: NearbyFact[] = mentioned.map((o) => fact(o.id, o.name, o.colour, o.tags, o.position, footprintDistance(o, px, pz), true));
  for (const o of out) seenNames.add(o.name);
  for (const c of candidates) {
    if (out.length >= max) break;
    if (seenNames.has(c.name)) continue;
    seenNames.add(c.name);
    out.push(c);
  }
  return out.slice(0, Math.max(max, mentioned.length));
}

/** One prompt line per fact: `id: name, colour, 3.5 m ahead-left (north-west)`. */
export function renderNearbyFact(f: NearbyFact): string {
  const colour = !f.colour || f.name.includes(f.colour) ? "" : `, ${f.colour}`;
  const dist = f.distance < 1 ? "here" : `${Math.round(f.distance)} m ${f.direction} (${f.compass})`;
  return `${f.id}: ${f.name}${colour}, ${dist}`;
}
