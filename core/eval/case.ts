import type { CharacterCard } from "../character/schema.ts";
import type { Scene } from "../scene/schema.ts";
import { sceneNpcEntities, type Moment } from "../prompt/context.ts";
import type { Turn } from "../prompt/layout.ts";
import { CHECK_NAMES, type Checks } from "./checks.ts";

// One evaluation case (a line of evals/<suite>.jsonl) and the scene moment it describes: the NPC
// at its spawn pose, the player 2 m in front, the other carded NPCs at their spawns (as the data
// engine builds held-out samples), the case's state, history and line.

export interface EvalCase {
  id: string;
  /** A scene name ("village" → scenes/village.json) or a path to a scene file. */
  scene: string;
  /** The NPC's id in the scene. */
  npc: string;
  history: Turn[];
  say: string;
  state: string;
  tags: string[];
  checks: Checks;
}

/** Validates one parsed JSONL line; errors name the source line and the field. */
export function parseEvalCase(value: unknown, where: string): EvalCase {
  const bad = (msg: string): never => { throw new Error(`${where}: ${msg}`); };
  if (!value || typeof value !== "object" || Array.isArray(value)) bad("a case must be a JSON object");
  const v = value as Record<string, unknown>;
  for (const k of ["id", "scene", "npc", "say"]) if (typeof v[k] !== "string" || !(v[k] as string).length) bad(`"${k}" must be a non-empty string`);
  const history = v.history ?? [];
  if (!Array.isArray(history)) bad(`"history" must be a list of {role, text}`);
  (history as unknown[]).forEach((t, i) => {
    const tt = t as Record<string, unknown>;
    if (!tt || (tt.role !== "player" && tt.role !== "npc") || typeof tt.text !== "string") bad(`history[${i}] must be {role: "player"|"npc", text: string}`);
  });
  const tags = v.tags ?? [];
  if (!Array.isArray(tags) || tags.some((t) => typeof t !== "string")) bad(`"tags" must be a list of strings`);
  const checks = v.checks;
  if (!checks || typeof checks !== "object" || Array.isArray(checks)) bad(`"checks" must be an object`);
  const c = checks as Record<string, unknown>;
  for (const k of Object.keys(c)) if (!(CHECK_NAMES as readonly string[]).includes(k)) bad(`unknown check "${k}"; checks: ${CHECK_NAMES.join(", ")}`);
  if (Object.keys(c).length === 0) bad(`"checks" is empty`);
  for (const k of ["contains_any", "contains_none"]) {
    if (c[k] !== undefined && (!Array.isArray(c[k]) || (c[k] as unknown[]).some((w) => typeof w !== "string" || !w))) bad(`"${k}" must be a list of non-empty strings`);
  }
  if (c.action !== undefined && (typeof c.action !== "string" || !/^[a-z_]+:[a-z0-9_-]+$/i.test(c.action))) bad(`"action" must look like "give:apple"`);
  if (c.mood !== undefined && typeof c.mood !== "string") bad(`"mood" must be a string`);
  if (v.state !== undefined && typeof v.state !== "string") bad(`"state" must be a string`);
  return {
    id: v.id as string, scene: v.scene as string, npc: v.npc as string, say: v.say as string,
    history: history as Turn[], state: (v.state as string | undefined) ?? "", tags: tags as string[], checks: c as Checks,
  };
}

/** The moment to hand to assemblePrompt. `cards` maps character id → card. */
export function caseMoment(c: EvalCase, scene: Scene, cards: Map<string, CharacterCard>): Moment {
  const spawn = scene.npcs.find((n) => n.id === c.npc);
  if (!spawn) throw new Error(`case ${c.id}: NPC "${c.npc}" is not in the scene (has: ${scene.npcs.map((n) => n.id).join(", ")})`);
  const card = cards.get(spawn.character);
  if (!card) throw new Error(`case ${c.id}: no character card for "${spawn.character}"`);
  const carded = new Set(scene.npcs.filter((n) => cards.has(n.character)).map((n) => n.id));
  return {
    card, scene, npcId: spawn.id, pose: { position: spawn.position, facing: spawn.facing },
    others: sceneNpcEntities(scene, spawn.id).filter((e) => carded.has(e.id)),
    state: c.state, history: c.history, say: c.say,
  };
}
