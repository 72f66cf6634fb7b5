import type { CharacterCard } from "../../core/character/schema.ts";
import type { Action } from "../../core/prompt/reply.ts";
import type { SceneObject } from "../../core/scene/schema.ts";
import type { WorldSimulation } from "../world/simulation.ts";

// Action tags from an NPC's reply become world inputs, checked like a player's input: the card
// must allow the action, its target must exist in the live world, and it must be in reach.
//   emote:x      x in card.actions.emotes              → NpcState.emote = x for EMOTE_SECONDS
//   turn_to:t    t = player | an NPC id | a player's name | an object id or tag, within SIGHT_RANGE
//                → the NPC faces it
//   point_at:t   same targets                           → faces it, NpcState.emote = "point"
//   walk_to:p    p in card.actions.walkTo, an object id or tag, within WALK_RANGE
//                → walks there (character controller), pauses, walks back to its post
//   give:item    item in card.actions.give, the player within GIVE_RANGE
//                → PlayerState.inventory[item] += 1

export const ACTION_LIMITS = { emoteSeconds: 2.5, pointSeconds: 3, sightRange: 40, walkRange: 45, giveRange: 4, maxStack: 999 } as const;

export type ActionOutcome = { action: string; ok: true } | { action: string; ok: false; reason: string };

export interface ActionTarget {
  sim: WorldSimulation;
  card: CharacterCard;
  npcId: string;
  /** The player the reply answers (sessionId). */
  playerId: string;
}

type Point = { x: number; z: number };

const tagOf = (a: Action) => `${a.kind}:${a.arg}`;
const listOr = (xs: readonly string[]) => (xs.length ? xs.join(", ") : "none");

/** Applies each action in order; returns what happened to each, for npc_action events and logs. */
export function applyActions(t: ActionTarget, actions: Action[]): ActionOutcome[] {
  return actions.map((a) => {
    const reason = applyAction(t, a);
    return reason === undefined ? { action: tagOf(a), ok: true } : { action: tagOf(a), ok: false, reason };
  });
}

/** Applies one action; returns the reason it was skipped, or undefined when applied. */
export function applyAction(t: ActionTarget, a: Action): string | undefined {
  const npc = t.sim.npcs.get(t.npcId);
  if (npc === undefined) return `no NPC "${t.npcId}"`;
  const here = npc.position();
  const who = t.card.name;
  switch (a.kind) {
    case "emote": {
      if (!t.card.actions.emotes.includes(a.arg)) return `emote "${a.arg}" is not one of ${who}'s emotes (${listOr(t.card.actions.emotes)})`;
      npc.emote(a.arg, ACTION_LIMITS.emoteSeconds);
      return undefined;
    }
    case "turn_to":
    case "point_at": {
      const target = resolveTarget(t, a.arg);
      if (target === undefined) return `no "${a.arg}" to ${a.kind === "turn_to" ? "turn to" : "point at"} (not the player, an NPC, a player's name, or an object id or tag)`;
      const d = Math.hypot(target.x - here.x, target.z - here.z);
      if (d > ACTION_LIMITS.sightRange) return `"${a.arg}" is too far (${d.toFixed(1)} m, limit ${ACTION_LIMITS.sightRange} m)`;
      npc.faceTowards(target);
      if (a.kind === "point_at") npc.emote("point", ACTION_LIMITS.pointSeconds);
      return undefined;
    }
    case "walk_to": {
      if (!t.card.actions.walkTo.includes(a.arg)) return `walk_to "${a.arg}" is not one of ${who}'s places (${listOr(t.card.actions.walkTo)})`;
      const obj = findObject(t.sim, a.arg, here);
      if (obj === undefined) return `no object "${a.arg}" in this scene (by id or tag)`;
      const goal = { x: obj.position[0], z: obj.position[2] };
      const d = Math.hypot(goal.x - here.x, goal.z - here.z);
      if (d > ACTION_LIMITS.walkRange) return `"${a.arg}" is too far to walk to (${d.toFixed(1)} m, limit ${ACTION_LIMITS.walkRange} m)`;
      npc.walkTo(goal, footprintRadius(obj) + 1);
      return undefined;
    }
    case "give": {
      if (!t.card.actions.give.includes(a.arg)) return `"${a.arg}" is not something ${who} gives (${listOr(t.card.actions.give)})`;
      const player = t.sim.players.get(t.playerId);
      if (player === undefined) return "the player has left";
      const p = player.position();
      const d = Math.hypot(p.x - here.x, p.z - here.z);
      if (d > ACTION_LIMITS.giveRange) return `the player is too far to hand "${a.arg}" to (${d.toFixed(1)} m, limit ${ACTION_LIMITS.giveRange} m)`;
      const inv = player.state.inventory;
      inv.set(a.arg, Math.min(ACTION_LIMITS.maxStack, (inv.get(a.arg) ?? 0) + 1));
      return undefined;
    }
  }
}

/** Where a turn_to / point_at target is now: the player, an NPC, a player by name, an object. */
function resolveTarget(t: ActionTarget, arg: string): Point | undefined {
  if (arg === "player" || arg === "you") return t.sim.players.get(t.playerId)?.position();
  const npc = t.sim.npcs.get(arg);
  if (npc !== undefined) return npc.position();
  for (const p of t.sim.players.values()) {
    if (p.state.name.toLowerCase().replace(/\s+/g, "_") === arg) return p.position();
  }
  const here = t.sim.npcs.get(t.npcId)!.position();
  const obj = findObject(t.sim, arg, here);
  if (obj === undefined) return undefined;
  const prop = t.sim.state.props.get(obj.id);
  return prop ? { x: prop.x, z: prop.z } : { x: obj.position[0], z: obj.position[2] };
}

/** The scene object with this id, else the nearest one carrying it as a tag. */
function findObject(sim: WorldSimulation, arg: string, near: Point): SceneObject | undefined {
  const objects = sim.scene.objects;
  const byId = objects.find((o) => o.id === arg);
  if (byId) return byId;
  let best: SceneObject | undefined, bestD = Infinity;
  for (const o of objects) {
    if (!o.tags.includes(arg)) continue;
    const d = Math.hypot(o.position[0] - near.x, o.position[2] - near.z);
    if (d < bestD) { best = o; bestD = d; }
  }
  return best;
}

/** Half the larger horizontal extent of an object's footprint, m. */
function footprintRadius(o: SceneObject): number {
  const s = o.shape;
  const [sx, , sz] = o.scale;
  if (s.kind === "box") return Math.max(s.size[0] * sx, s.size[2] * sz) / 2;
  if (s.kind === "gltf") return Math.max(s.bounds[0] * sx, s.bounds[2] * sz) / 2;
  return s.radius * Math.max(sx, sz);
}
