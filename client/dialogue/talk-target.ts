// Which NPC the player would talk to: one within talk range that the player roughly faces.
// Pure geometry on the ground plane (x, z in metres; yaw in radians about +Y, 0 faces +Z).

export const TALK_RANGE = {
  /** Farthest an NPC may stand to be offered (m). */
  range: 4,
  /** The NPC talked to stays the target up to this distance, so the prompt does not flicker at the edge (m). */
  keep: 4.5,
  /** Half-angle of the cone in front of the player (or the camera) that counts as facing (rad). */
  halfAngle: (60 * Math.PI) / 180,
  /** Closer than this, facing does not matter (m). */
  close: 1.2,
} as const;

export type Facing = { x: number; z: number; yaw: number };
export type Candidate = { id: string; x: number; z: number };

/** Absolute difference of two angles, in [0, π]. */
export function angleBetween(a: number, b: number): number {
  return Math.abs(Math.atan2(Math.sin(a - b), Math.cos(a - b)));
}

/**
 * The NPC to talk to, or null. The player faces an NPC when the bearing to it lies within
 * `halfAngle` of the character's yaw or of the camera's (`viewYaw`: a player who turned the
 * camera toward someone is looking at them). Among several, the nearest and most centred wins;
 * the `current` target is preferred so two NPCs side by side do not alternate.
 */
export function pickTalkTarget(
  me: Facing,
  npcs: Iterable<Candidate>,
  opts: { current?: string | null; viewYaw?: number; limits?: typeof TALK_RANGE } = {},
): string | null {
  const lim = opts.limits ?? TALK_RANGE;
  let best: string | null = null;
  let bestScore = Infinity;
  for (const n of npcs) {
    const dx = n.x - me.x, dz = n.z - me.z;
    const d = Math.hypot(dx, dz);
    if (!Number.isFinite(d)) continue;
    const isCurrent = n.id === opts.current;
    if (d > (isCurrent ? lim.keep : lim.range)) continue;
    const bearing = Math.atan2(dx, dz);
    let off = angleBetween(bearing, me.yaw);
    if (opts.viewYaw !== undefined) off = Math.min(off, angleBetween(bearing, opts.viewYaw));
    if (d > lim.close && off > lim.halfAngle) continue;
    const score = d * (1 + off / Math.PI) * (isCurrent ? 0.8 : 1);
    if (score < bestScore) { bestScore = score; best = n.id; }
  }
  return best;
}
