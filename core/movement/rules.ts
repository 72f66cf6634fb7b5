// Movement rules shared by the server (authoritative) and the client (prediction): speeds,
// acceleration, gravity, jump, and the function that turns one input into a velocity.
// Units: metres, seconds, radians. Yaw 0 faces +Z; +right is +X at yaw 0 (Babylon's left-handed view).
import type { PlayerAnim } from "../state/world-state.ts";

export const MOVEMENT = {
  /** Simulation rate; one `move` input is applied per tick. */
  tickHz: 30,
  walkSpeed: 4,
  runSpeed: 7,
  /** Horizontal acceleration toward the wanted velocity, m/s². High: responsive, no ice-skating. */
  accel: 40,
  /** Downward acceleration, m/s². */
  gravity: 20,
  /** Upward speed at take-off, m/s (≈ 1.05 m jump with gravity 20). */
  jumpSpeed: 6.5,
  maxFallSpeed: 40,
  /** Character capsule: radius and half-height of its straight part (total height 1.8 m). */
  capsuleRadius: 0.35,
  capsuleHalfHeight: 0.55,
  /** Highest step climbed without jumping, and the steepest walkable slope (radians). */
  stepHeight: 0.4,
  maxSlope: (50 * Math.PI) / 180,
  /** Stick to the ground over small drops (m), so walking down steps does not become falling. */
  snapToGround: 0.3,
  /** Gap the controller keeps from obstacles, m. */
  skin: 0.02,
  /** Below this height the player is respawned. */
  respawnBelowY: -20,
} as const;

/** The part of a `move` message the rules need. */
export interface MoveInput {
  forward: number;
  right: number;
  run: boolean;
  jump: boolean;
  yaw: number;
}

export const NO_INPUT: MoveInput = { forward: 0, right: 0, run: false, jump: false, yaw: 0 };

/** Velocity of a character, m/s, and whether it stood on ground after its last step. */
export interface Motion {
  vx: number;
  vy: number;
  vz: number;
  grounded: boolean;
}

/** Wanted horizontal velocity (m/s) for an input: axes clamped to a unit disc, rotated by yaw. */
export function desiredVelocity(input: MoveInput): { x: number; z: number } {
  let f = clampAxis(input.forward);
  let r = clampAxis(input.right);
  const length = Math.hypot(f, r);
  if (length > 1) { f /= length; r /= length; }
  const speed = input.run ? MOVEMENT.runSpeed : MOVEMENT.walkSpeed;
  const sin = Math.sin(input.yaw);
  const cos = Math.cos(input.yaw);
  // forward = (sin yaw, 0, cos yaw); right = (cos yaw, 0, -sin yaw)
  return { x: (f * sin + r * cos) * speed, z: (f * cos - r * sin) * speed };
}

/** Velocity after one step of `dt` seconds: accelerate toward the wanted velocity, gravity, jump. */
export function nextVelocity(motion: Motion, input: MoveInput, dt: number): { vx: number; vy: number; vz: number } {
  const want = desiredVelocity(input);
  const dx = want.x - motion.vx;
  const dz = want.z - motion.vz;
  const gap = Math.hypot(dx, dz);
  const maxChange = MOVEMENT.accel * dt;
  const k = gap > maxChange ? maxChange / gap : 1;
  // On ground the character does not push down: Rapier's controller stalls for a tick now and
  // then when asked to move into the floor, and snap-to-ground keeps it on slopes and steps down.
  let vy: number;
  if (motion.grounded) vy = input.jump ? MOVEMENT.jumpSpeed : 0;
  else vy = Math.max(motion.vy - MOVEMENT.gravity * dt, -MOVEMENT.maxFallSpeed);
  return { vx: motion.vx + dx * k, vy, vz: motion.vz + dz * k };
}

/** Animation for a motion: airborne → jump/fall; on ground by horizontal speed. */
export function animFor(motion: Motion): PlayerAnim {
  if (!motion.grounded) return motion.vy > 0 ? "jump" : "fall";
  const speed = Math.hypot(motion.vx, motion.vz);
  if (speed < 0.3) return "idle";
  return speed > (MOVEMENT.walkSpeed + MOVEMENT.runSpeed) / 2 ? "run" : "walk";
}

/** Angle in (-π, π]. */
export function normalizeYaw(yaw: number): number {
  const twoPi = Math.PI * 2;
  let a = yaw % twoPi;
  if (a <= -Math.PI) a += twoPi;
  else if (a > Math.PI) a -= twoPi;
  return a;
}

function clampAxis(v: number): number {
  return Number.isFinite(v) ? Math.max(-1, Math.min(1, v)) : 0;
}
