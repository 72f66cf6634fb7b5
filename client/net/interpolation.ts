// Entity interpolation for remote players, NPCs and movable props: state patches arrive
// at the server's tick rate (30 Hz) with jitter; we draw every entity INTERP_DELAY_MS in
// the past, between the two snapshots around that time, so motion looks smooth.
// Pure data, no Babylon: times are ms (performance.now()), positions metres, quaternions
// [x, y, z, w].

export const INTERP_DELAY_MS = 100;
/** Snapshots older than this behind the newest are dropped (ms). */
const KEEP_MS = 1000;

export type Pose = {
  position: [number, number, number];
  /** Rotation as a unit quaternion [x, y, z, w]. */
  rotation: [number, number, number, number];
};

type Snapshot = Pose & { t: number };

export class SnapshotBuffer {
  private snaps: Snapshot[] = [];

  /** Record a pose received at local time t (ms). Out-of-order times are ignored. */
  push(t: number, pose: Pose): void {
    const last = this.snaps[this.snaps.length - 1];
    if (last && t < last.t) return;
    if (last && t === last.t) this.snaps.pop();
    this.snaps.push({ t, position: [...pose.position], rotation: [...pose.rotation] });
    while (this.snaps.length > 2 && this.snaps[1].t < t - KEEP_MS) this.snaps.shift();
  }

  get size(): number { return this.snaps.length; }

  /** Newest pose received, or null before the first. */
  latest(): Pose | null {
    return this.snaps[this.snaps.length - 1] ?? null;
  }

  /**
   * Pose at render time `now - delay`: interpolated between the snapshots around it,
   * held at the ends (no extrapolation: a stalled stream freezes rather than drifts).
   */
  sample(now: number, delay = INTERP_DELAY_MS): Pose | null {
    const s = this.snaps;
    if (s.length === 0) return null;
    const t = now - delay;
    if (t <= s[0].t) return s[0];
    const last = s[s.length - 1];
    if (t >= last.t) return last;
    let i = s.length - 2;
    while (i > 0 && s[i].t > t) i--;
    const a = s[i], b = s[i + 1];
    const k = (t - a.t) / (b.t - a.t);
    return {
      position: [lerp(a.position[0], b.position[0], k), lerp(a.position[1], b.position[1], k), lerp(a.position[2], b.position[2], k)],
      rotation: nlerp(a.rotation, b.rotation, k),
    };
  }
}

const lerp = (a: number, b: number, k: number) => a + (b - a) * k;

/** Normalised linear quaternion blend along the shorter arc: close enough to slerp at 30 Hz. */
export function nlerp(a: Pose["rotation"], b: Pose["rotation"], k: number): Pose["rotation"] {
  const dot = a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3];
  const sign = dot < 0 ? -1 : 1;
  const q: Pose["rotation"] = [
    lerp(a[0], sign * b[0], k), lerp(a[1], sign * b[1], k), lerp(a[2], sign * b[2], k), lerp(a[3], sign * b[3], k),
  ];
  const n = Math.hypot(q[0], q[1], q[2], q[3]) || 1;
  return [q[0] / n, q[1] / n, q[2] / n, q[3] / n];
}

/** Quaternion for a yaw about +Y (radians; yaw 0 faces +Z). */
export function yawQuat(yaw: number): Pose["rotation"] {
  return [0, Math.sin(yaw / 2), 0, Math.cos(yaw / 2)];
}
