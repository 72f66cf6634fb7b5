// Short procedural animations for primitive avatars, as data: for a time into the gesture,
// the rotations (Euler [x, y, z], radians, added to the rest pose) of the shoulders and the
// neck and how the body dips and leans. Pure, so gestures are tested without a renderer.
//
// Joint conventions (Babylon, left-handed, character facing +Z, +X its right):
// - shoulder x < 0 swings the arm forward and up (-π/2: straight ahead); shoulder z raises an arm
//   sideways (+z for the right arm, -z for the left; ±π: straight up); y turns it about the vertical.
// - neck x > 0 tips the head down (nod); neck y turns it (shake); neck z tilts it.
// - body lean > 0 bends forward (rad), lift moves the body up or down (m).

export type Euler = [number, number, number];
export type GesturePose = { armL: Euler; armR: Euler; neck: Euler; lean: number; lift: number };
type Shape = (t: number) => Partial<GesturePose>;

export type Gesture = { /** Seconds. */ duration: number; shape: Shape };

const { sin, PI } = Math;
const osc = (t: number, times: number) => sin(t * times * 2 * PI);

export const GESTURES: Record<string, Gesture> = {
  // Right arm raised high beside the head, rocking side to side three times.
  wave: { duration: 1.8, shape: (t) => ({ armR: [0, 0, 2.55 + 0.35 * osc(t, 3)] }) },
  nod: { duration: 1.0, shape: (t) => ({ neck: [0.32 * Math.abs(sin(t * 2 * PI)), 0, 0] }) },
  shake_head: { duration: 1.2, shape: (t) => ({ neck: [0, 0.45 * osc(t, 3), 0] }) },
  bow: { duration: 1.6, shape: () => ({ lean: 0.5, neck: [0.3, 0, 0] }) },
  curtsy: { duration: 1.4, shape: () => ({ lift: -0.12, lean: 0.15, armL: [0, 0, -0.45], armR: [0, 0, 0.45] }) },
  shrug: { duration: 1.2, shape: () => ({ armL: [-0.5, 0, -0.55], armR: [-0.5, 0, 0.55], neck: [0, 0, 0.18], lift: 0.03 }) },
  // Forearms folded in front of the chest: both arms forward, turned inward across the body.
  cross_arms: { duration: 2.6, shape: () => ({ armL: [-1.25, 0.95, 0], armR: [-1.25, -0.95, 0] }) },
  // Raise the right arm, then three blows down.
  hammer: { duration: 2.0, shape: (t) => ({ armR: [-1.6 - 0.9 * Math.abs(osc(t, 1.5)), 0, 0], lean: 0.12 }) },
  salute: { duration: 1.6, shape: () => ({ armR: [-2.5, -0.9, 0] }) },
  laugh: { duration: 1.5, shape: (t) => ({ lift: 0.04 * Math.abs(osc(t, 4)), neck: [-0.25, 0, 0], lean: -0.08 }) },
  clap: { duration: 1.5, shape: (t) => { const w = 0.55 + 0.3 * Math.abs(osc(t, 3)); return { armL: [-1.3, w, 0], armR: [-1.3, -w, 0] }; } },
  smile: { duration: 1.0, shape: () => ({ neck: [-0.1, 0, 0.16] }) },
  hug: { duration: 2.0, shape: () => ({ armL: [-1.5, 0.55, 0], armR: [-1.5, -0.55, 0], lean: 0.1 }) },
  wipe_hands: { duration: 1.5, shape: (t) => ({ armL: [-0.7 - 0.15 * osc(t, 3), 0.6, 0], armR: [-0.7 + 0.15 * osc(t, 3), -0.6, 0] }) },
  sniff_herbs: { duration: 1.8, shape: () => ({ armR: [-2.0, -0.7, 0], neck: [0.2, 0, 0] }) },
};

/** Gesture for an emote name; an unknown emote gets a nod, so every applied emote shows. */
export function gestureFor(emote: string): Gesture {
  return GESTURES[emote] ?? GESTURES.nod;
}

const REST: GesturePose = { armL: [0, 0, 0], armR: [0, 0, 0], neck: [0, 0, 0], lean: 0, lift: 0 };

/**
 * Pose `elapsed` seconds into a gesture, eased in and out over its first and last 20%;
 * null once it is over.
 */
export function gesturePose(g: Gesture, elapsed: number): GesturePose | null {
  if (!(elapsed >= 0) || elapsed >= g.duration) return null;
  const t = elapsed / g.duration;
  const w = smooth(Math.min(1, t / 0.2, (1 - t) / 0.2));
  const s = g.shape(t);
  const sc = (e: Euler | undefined): Euler => (e ? [e[0] * w, e[1] * w, e[2] * w] : [0, 0, 0]);
  return { armL: sc(s.armL), armR: sc(s.armR), neck: sc(s.neck), lean: (s.lean ?? 0) * w, lift: (s.lift ?? 0) * w };
}

export function restPose(): GesturePose { return { ...REST, armL: [0, 0, 0], armR: [0, 0, 0], neck: [0, 0, 0] }; }

/** Seconds an arm stays pointed, including easing. */
export const POINT_SECONDS = 2.8;

/**
 * Shoulder rotation that points an arm along a direction given in the character's own frame:
 * `yaw` about the vertical (0 = straight ahead, > 0 to its right) and `elevation` above the
 * horizontal (rad). The arm on the side of the target points (right for yaw ≥ 0).
 */
export function pointArm(yaw: number, elevation: number): { side: "l" | "r"; shoulder: Euler } {
  const e = Math.max(-1.2, Math.min(1.2, elevation));
  // Rx(-(π/2 + e)) turns the hanging arm (0, -1, 0) to (0, sin e, cos e); Ry(yaw) then turns it toward the target.
  return { side: yaw >= 0 ? "r" : "l", shoulder: [-(PI / 2 + e), yaw, 0] };
}

/** Weight of a held pose `elapsed` seconds into `seconds`, eased in and out over 0.4 s. */
export function holdWeight(elapsed: number, seconds: number): number {
  if (!(elapsed >= 0) || elapsed >= seconds) return 0;
  return smooth(Math.min(1, elapsed / 0.4, (seconds - elapsed) / 0.4));
}

function smooth(x: number): number {
  const c = Math.max(0, Math.min(1, x));
  return c * c * (3 - 2 * c);
}
