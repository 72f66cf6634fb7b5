import type { Axes } from "./keys.ts";

// Keys + camera → one `move` input. Movement is relative to the camera: W walks away
// from the camera, D to the camera's right. The character turns to face where it walks,
// so we send that direction as `yaw` with forward = 1 and right = 0. Standing still keeps
// the last facing. Yaw: radians about +Y, 0 faces +Z, direction (sin yaw, 0, cos yaw).

export type MoveIntent = { forward: number; right: number; yaw: number; run: boolean; jump: boolean };

/**
 * @param cameraYaw horizontal direction the camera looks, as a yaw.
 * @param lastYaw the facing to keep when not moving.
 * Returns null when there is nothing to send (no movement, no jump).
 */
export function moveIntent(axes: Axes, cameraYaw: number, lastYaw: number): MoveIntent | null {
  const fx = Math.sin(cameraYaw), fz = Math.cos(cameraYaw);
  // Babylon's default left-handed view (as core/movement assumes): the right of a view
  // looking along f is up × f = (fz, 0, -fx), so at yaw 0 right is +X.
  const rx = fz, rz = -fx;
  const dx = fx * axes.forward + rx * axes.right;
  const dz = fz * axes.forward + rz * axes.right;
  const len = Math.hypot(dx, dz);
  if (len < 1e-6) {
    return axes.jump ? { forward: 0, right: 0, yaw: lastYaw, run: axes.run, jump: true } : null;
  }
  return { forward: 1, right: 0, yaw: Math.atan2(dx, dz), run: axes.run, jump: axes.jump };
}

/** Yaw the camera looks along, from an ArcRotateCamera's alpha (camera sits at target + (cos α, ·, sin α)). */
export function cameraYawFromAlpha(alpha: number): number {
  return Math.atan2(-Math.cos(alpha), -Math.sin(alpha));
}
