import type { CharacterCard } from "../character/schema.ts";
import type { Scene, Vec3 } from "../scene/schema.ts";
import { buildPrompt, type BuiltPrompt, type CountTokens, type Turn } from "./layout.ts";
import { nearbyFacts, renderNearbyFact, type Entity, type Pose } from "./nearby.ts";
import { personaCore, selectFacts } from "./persona.ts";
import { sightNearby, type SightFact } from "../vision/seen.ts";

// One call from a scene moment to a fitted prompt. The server (a live conversation) and the data
// engine (training samples) both assemble prompts here, so a model sees at play time exactly
// what it saw in training: the persona core, the 4 most relevant card facts, the state, up to 6
// nearby things (the player, other NPCs and objects the line names included), memory, recent
// turns and the player's line.

/** A 512-token context less room for the reply. */
export const DEFAULT_PROMPT_BUDGET = 448;
export const PERSONA_FACTS = 4;

export interface Moment {
  card: CharacterCard;
  scene: Scene;
  /** The NPC's scene id (left out of its own nearby facts). */
  npcId: string;
  pose: Pose;
  /** Where the player stands; default 2 m in front of the NPC. */
  playerPosition?: Vec3;
  /** Other NPCs (and players) worth seeing; the scene's NPC spawns are a fair default. */
  others?: Entity[];
  state?: string;
  memory?: string;
  history?: Turn[];
  say: string;
  /**
   * Number of visual tokens of the NPC's view (core/vision), when it has a fresh one: the prompt gets the
   * `<|image|>` placeholders, and its nearby facts leave out movable props (what the NPC knows of
   * those comes from its eyes); landmarks and people stay.
   */
  view?: number;
  /**
   * What the NPC sees, from the scene graph (core/vision/seen.ts), for a line about sight answered
   * without a view: the usual nearby lines with the props in view marked, in-view props beyond
   * them added.
   */
  sight?: readonly SightFact[];
  /**
   * Where `sight` comes from: the scene graph (default) or the NPC's eyes (a vision package's prop
   * detector, core/vision/detector.ts). From the eyes, the nearby facts leave out movable props, as
   * with a view: what the NPC knows of those is what its eyes found.
   */
  sightFrom?: "scene" | "eyes";
}

// Each object list without its movable props, kept per list (a live scene keeps one list, and
// nearby.ts caches word sets per list).
const landmarksCache = new WeakMap<Scene["objects"], Scene["objects"]>();

function withoutProps(scene: Scene): Scene {
  let objects = landmarksCache.get(scene.objects);
  if (objects === undefined) landmarksCache.set(scene.objects, (objects = scene.objects.filter((o) => !o.movable)));
  return { ...scene, objects };
}

/** Other NPCs of the scene as entities at their spawn points (for offline use: evals, data). */
export function sceneNpcEntities(scene: Scene, except: string): Entity[] {
  return scene.npcs.filter((n) => n.id !== except).map((n) => ({ id: n.id, name: n.name, position: n.position, colour: n.colour, tags: [n.role] }));
}

/** The player a little in front of the NPC: `ahead` metres forward, `side` metres to its right. */
export function playerInFront(pose: Pose, ahead = 2, side = 0): Vec3 {
  const [x, y, z] = pose.position;
  const f = [Math.sin(pose.facing), Math.cos(pose.facing)];
  return [x + f[0] * ahead + f[1] * side, y, z + f[1] * ahead - f[0] * side];
}

/** Words for the villagers facts are about, from the scene's NPCs: "the blacksmith" finds Brom's facts. */
export function factAliases(scene: Scene): Record<string, string> {
  return Object.fromEntries(scene.npcs.map((n) => [n.character, `${n.role} ${n.name}`]));
}

export function assemblePrompt(m: Moment, countTokens: CountTokens, budget = DEFAULT_PROMPT_BUDGET): BuiltPrompt {
  const player: Entity = { id: "player", name: "player", tags: ["player"], position: m.playerPosition ?? playerInFront(m.pose) };
  const others = m.others ?? sceneNpcEntities(m.scene, m.npcId);
  const seen = (m.view !== undefined && m.view > 0) || (m.sight && m.sightFrom === "eyes") ? withoutProps(m.scene) : m.scene;
  const facts = nearbyFacts(seen, m.pose, { mention: m.say, exclude: [m.npcId], entities: [player, ...others] });
  // Props in view beyond the usual lines are looked up among `seen`'s objects: from the eyes, none.
  const nearby = m.sight ? sightNearby(facts, m.sight, seen.objects, m.pose, m.say) : facts.map(renderNearbyFact);
  return buildPrompt({
    persona: personaCore(m.card),
    facts: selectFacts(m.card, m.say, PERSONA_FACTS, factAliases(m.scene)),
    view: m.view,
    state: m.state ?? "",
    nearby,
    memory: m.memory ?? "",
    history: m.history ?? [],
    say: m.say,
  }, budget, countTokens);
}
