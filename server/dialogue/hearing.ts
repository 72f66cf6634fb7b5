import type { WorldSimulation } from "../world/simulation.ts";

// Who hears a player's line and who answers it. An NPC hears a line said within `hearing` metres
// of it when a ray from the speaker's head to its head meets no static collider. The answer comes
// from the NPC the line is addressed to (`to`), or, without `to`, from the nearest hearing NPC in
// front of the speaker (within `frontAngle` of where they face) and within `talk` metres.

export interface HearingOptions {
  /** NPCs hear lines said within this distance, m. */
  hearing: number;
  /** Without `to`, only an NPC this close answers, m. */
  talk: number;
  /** Half-angle of "in front of the speaker", radians. */
  frontAngle: number;
}

export const HEARING_DEFAULTS: HearingOptions = { hearing: 8, talk: 5, frontAngle: Math.PI / 3 };

export type Addressee =
  | { ok: true; npc: string; hearers: string[] }
  | { ok: false; hearers: string[]; reason?: string };

export function findAddressee(sim: WorldSimulation, speaker: string, to: string | undefined, o: HearingOptions): Addressee {
  const player = sim.players.get(speaker);
  if (player === undefined) return { ok: false, hearers: [], reason: "not in the world" };
  const from = player.position();
  const hearers: { id: string; distance: number; bearing: number }[] = [];
  let named: { id: string; distance: number; sees: boolean } | undefined;
  for (const [id, npc] of sim.npcs) {
    const at = npc.position();
    const dx = at.x - from.x, dz = at.z - from.z;
    const distance = Math.hypot(dx, at.y - from.y, dz);
    if (distance > o.hearing && id !== to) continue;
    const sees = sim.lineOfSight(from, at);
    if (id === to) named = { id, distance, sees };
    if (distance <= o.hearing && sees) {
      // Angle between the speaker's facing (yaw 0 = +Z) and the direction to the NPC.
      const bearing = Math.abs(Math.atan2(Math.sin(Math.atan2(dx, dz) - player.state.yaw), Math.cos(Math.atan2(dx, dz) - player.state.yaw)));
      hearers.push({ id, distance, bearing });
    }
  }
  hearers.sort((a, b) => a.distance - b.distance);
  const ids = hearers.map((h) => h.id);
  if (to !== undefined) {
    if (!sim.npcs.has(to)) return { ok: false, hearers: ids, reason: `no NPC "${to}" here` };
    if (named === undefined || named.distance > o.hearing) {
      const d = named ? named.distance : Math.hypot(sim.npcs.get(to)!.position().x - from.x, sim.npcs.get(to)!.position().z - from.z);
      return { ok: false, hearers: ids, reason: `${to} is out of earshot (${d.toFixed(1)} m away, hearing ${o.hearing} m)` };
    }
    if (!named.sees) return { ok: false, hearers: ids, reason: `${to} cannot hear you through the wall` };
    return { ok: true, npc: to, hearers: ids };
  }
  const front = hearers.find((h) => h.distance <= o.talk && (h.bearing <= o.frontAngle || h.distance < 1.5));
  return front ? { ok: true, npc: front.id, hearers: ids } : { ok: false, hearers: ids };
}
