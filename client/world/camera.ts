import { ArcRotateCamera, type Scene, Vector3 } from "./babylon.ts";
import { cameraYawFromAlpha } from "../input/move-intent.ts";

// Third-person follow camera: orbits the local player's head. Mouse drag orbits, the
// wheel zooms, ArrowLeft/ArrowRight (or Q/E) orbit from the keyboard. The target glides
// after the player (critically damped-ish) so prediction corrections never jerk the view.

/** Height of the look-at point above the feet (m). */
const HEAD = 1.5;
/** Keyboard orbit speed, radians per second. */
const ORBIT_SPEED = 1.8;
/** How quickly the target catches up with the player (1/s). */
const FOLLOW_RATE = 10;

export class FollowCamera {
  readonly camera: ArcRotateCamera;

  constructor(scene: Scene, canvas: HTMLCanvasElement) {
    // Start behind a player facing +Z: the camera sits at -Z looking toward +Z (alpha = -π/2).
    this.camera = new ArcRotateCamera("follow", -Math.PI / 2, 1.3, 8, new Vector3(0, HEAD, 0), scene);
    const c = this.camera;
    c.lowerRadiusLimit = 3;
    c.upperRadiusLimit = 30;
    c.lowerBetaLimit = 0.25;
    c.upperBetaLimit = 1.45; // stay above the ground plane
    c.wheelDeltaPercentage = 0.01;
    c.panningSensibility = 0; // no panning: the camera belongs to the player
    c.minZ = 0.1;
    c.maxZ = 400;
    c.fov = 0.9;
    // The arrow keys belong to the game (movement and orbit), not to the camera's own input.
    c.inputs.removeByType("ArcRotateCameraKeyboardMoveInput");
    c.attachControl(canvas, true);
  }

  /** Yaw the camera looks along (radians, 0 = +Z). */
  get yaw(): number { return cameraYawFromAlpha(this.camera.alpha); }

  /** Point the camera along a yaw (e.g. behind the player at spawn). */
  lookAlong(yaw: number): void {
    // Inverse of cameraYawFromAlpha: camera sits opposite the view direction.
    this.camera.alpha = Math.atan2(-Math.cos(yaw), -Math.sin(yaw));
  }

  /** Orbit by the keyboard turn axis (-1..1) for dt seconds. */
  orbit(turn: number, dt: number): void {
    // Turning the view right raises the yaw (right of +Z is +X), which lowers alpha.
    if (turn !== 0) this.camera.alpha -= turn * ORBIT_SPEED * dt;
  }

  /** Each frame: glide after the player's feet position. */
  update(dt: number, feet: readonly number[]): void {
    const c = this.camera;
    const k = 1 - Math.exp(-FOLLOW_RATE * dt);
    const t = c.target;
    this.moveTarget(new Vector3(t.x + (feet[0] - t.x) * k, t.y + (feet[1] + HEAD - t.y) * k, t.z + (feet[2] - t.z) * k));
  }

  /** Jump straight to the player (spawn, reconnect into a new place). */
  snapTo(feet: readonly number[]): void {
    this.moveTarget(new Vector3(feet[0], feet[1] + HEAD, feet[2]));
  }

  /** Move the look-at point and the camera with it (keep alpha, beta, radius). */
  private moveTarget(v: Vector3): void {
    // Plain `camera.target = v` keeps the camera where it is and re-aims it instead.
    this.camera.setTarget(v, false, false, true);
  }
}
