import { ArcRotateCamera, Ray, type AbstractMesh, type Scene, Vector3 } from "./babylon.ts";
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
/** Zoom range the player chooses from (m); walls may pull the camera closer than the minimum. */
const MIN_ZOOM = 3;
const MAX_ZOOM = 22;
/** Gap kept between the camera and a wall in front of it (m). */
const WALL_GAP = 0.3;
/**
 * Half-width of the arm the camera keeps clear (m): besides the centre line, four rays end this far
 * to the camera's right, left, above and below, so a roof or post beside the line, which would fill
 * the picture from just in front of the lens, pulls the camera in too.
 */
const PROBE = 0.6;
/** How quickly the camera moves back out once the wall is gone (1/s). */
const RELEASE_RATE = 3;

export class FollowCamera {
  readonly camera: ArcRotateCamera;
  /** The distance the player asked for with the wheel; the camera is closer when a wall is in the way. */
  private zoom = 8;
  private lastRadius = 8;

  /** canvas: where mouse input comes from; null for headless use (tests). */
  constructor(private scene: Scene, canvas: HTMLCanvasElement | null) {
    // Start behind a player facing +Z: the camera sits at -Z looking toward +Z (alpha = -π/2).
    this.camera = new ArcRotateCamera("follow", -Math.PI / 2, 1.3, 8, new Vector3(0, HEAD, 0), scene);
    const c = this.camera;
    c.lowerRadiusLimit = 0.8;
    c.upperRadiusLimit = MAX_ZOOM;
    c.lowerBetaLimit = 0.25;
    c.upperBetaLimit = 1.45; // stay above the ground plane
    c.wheelDeltaPercentage = 0.01;
    c.panningSensibility = 0; // no panning: the camera belongs to the player
    c.minZ = 0.1;
    c.maxZ = 400;
    c.fov = 0.9;
    // The arrow keys belong to the game (movement and orbit), not to the camera's own input.
    c.inputs.removeByType("ArcRotateCameraKeyboardMoveInput");
    if (canvas) c.attachControl(canvas, true);
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
    this.avoidWalls(dt);
  }

  /**
   * Keep scene objects from coming between the player and the camera: cast a ray from the
   * look-at point out to the chosen zoom; when it hits a building, sit just in front of it.
   */
  private avoidWalls(dt: number): void {
    const c = this.camera;
    // A radius we did not set came from the wheel: that is the new chosen zoom.
    if (Math.abs(c.radius - this.lastRadius) > 1e-4) this.zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, c.radius));
    const clear = Math.max(c.lowerRadiusLimit ?? 0.8, this.clearance(this.zoom));
    // Pull in at once (never show the inside of a wall), ease back out.
    const radius = clear < c.radius ? clear : c.radius + (clear - c.radius) * (1 - Math.exp(-RELEASE_RATE * dt));
    c.radius = radius;
    this.lastRadius = radius;
  }

  /**
   * How far out along the arm the camera can sit (at most `zoom`): the nearest scene object hit by
   * the centre ray or by the four rays that end PROBE beside the camera, less WALL_GAP, scaled back
   * to a distance along the arm.
   */
  private clearance(zoom: number): number {
    const c = this.camera;
    const dir = new Vector3(Math.cos(c.alpha) * Math.sin(c.beta), Math.cos(c.beta), Math.sin(c.alpha) * Math.sin(c.beta));
    // The camera's right and up, across the arm.
    const right = Vector3.Cross(Vector3.Up(), dir).normalize();
    const up = Vector3.Cross(dir, right).normalize();
    const end = dir.scale(zoom);
    let best = zoom;
    for (const side of [Vector3.Zero(), right, right.scale(-1), up, up.scale(-1)]) {
      const to = end.add(side.scale(PROBE));
      const length = to.length();
      const hit = this.scene.pickWithRay(new Ray(c.target.clone(), to.scale(1 / length), length), isSceneObject, false);
      // A hit at fraction f of a side ray stands for the camera at f of the zoom.
      if (hit?.hit) best = Math.min(best, (hit.distance / length) * zoom - WALL_GAP);
    }
    return best;
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

/** Scene-file objects block the camera; avatars, name tags and the ground do not. */
function isSceneObject(m: AbstractMesh): boolean {
  return m.isEnabled() && (m.metadata as { kith?: unknown } | null)?.kith !== undefined;
}
