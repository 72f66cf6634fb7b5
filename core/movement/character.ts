// One walking character in a Rapier world: a capsule on a kinematic body moved by Rapier's
// character controller (slides along walls, climbs steps and slopes, snaps to ground, pushes
// dynamic props). Server and client run the same step for the same input.
import { COLLISION_GROUPS, GROUND_TOP_Y, RAPIER, type PhysicsWorld } from "./world.ts";
import { MOVEMENT, animFor, nextVelocity, normalizeYaw, type Motion, type MoveInput } from "./rules.ts";
import type { PlayerAnim } from "../state/world-state.ts";

/** Feet-to-centre distance of the capsule, m. */
export const FEET_TO_CENTRE = MOVEMENT.capsuleHalfHeight + MOVEMENT.capsuleRadius;

/** Mass used when the character pushes dynamic props, kg. */
const CHARACTER_MASS = 80;
/** An idle grounded character re-runs the controller every this many ticks. */
const IDLE_RECHECK = 15;
/** Fraction of the closing speed given to a pushed body per contact (0..1; < 1 feels heavy). */
const PUSH_STRENGTH = 0.5;
/**
 * Open-ground fast path (see moveIfClear): the probe box reaches this far past the capsule on
 * every side, m (more than the controller's skin, so anything the controller could touch is seen).
 */
const CLEAR_MARGIN = 0.05;
/** A grounded character whose feet are at most this far above the ground slab stands on it, m. */
const ON_GROUND_SLAB = 0.05;
/** The probe of a walking character starts this far above the slab, so the slab itself is not hit, m. */
const ABOVE_SLAB = 0.005;
const IDENTITY = { x: 0, y: 0, z: 0, w: 1 };
/**
 * Rapier's controller can stall against a wall it already touches (within its skin): each of its
 * up-to-20 slide iterations hits the wall at distance 0 and gives up only a few percent of the
 * move, so one move costs 0.3-4.5 ms and the character sticks to the wall instead of sliding (in the
 * village, most of a busy tick). A move that hit this many surfaces has stalled: the walls it
 * pressed into are remembered, and later moves have the part going into them removed before the
 * controller runs (it then slides in one or two iterations, as it should). Creases (two walls)
 * leave the move along both or none. A wall is forgotten once it is out of reach. Only fixed
 * colliders count: props are pushed and NPCs move.
 */
const STALL_HITS = 6;
/** A remembered wall stays while a ray from the character toward it hits within this margin past the capsule, m. */
const WALL_REACH = 0.1;
/** Surfaces whose normal is steeper than the climbable slope are walls (cos of maxSlope). */
const WALL_NORMAL_Y = Math.cos(MOVEMENT.maxSlope);

interface Wall {
  /** Outward horizontal normal (unit). */
  nx: number;
  nz: number;
  /** Height of the contact, where the reach ray is cast. */
  y: number;
  collider: RAPIER.Collider;
}

export class CharacterBody {
  readonly body: RAPIER.RigidBody;
  readonly collider: RAPIER.Collider;
  private readonly controller: RAPIER.KinematicCharacterController;
  motion: Motion = { vx: 0, vy: 0, vz: 0, grounded: false };
  private readonly collision = new RAPIER.CharacterCollision();
  /** Box swept by one move plus CLEAR_MARGIN; its half extents are rewritten per move. */
  private readonly probe = new RAPIER.Cuboid(1, 1, 1);
  private idleTicks = 0;
  private walls: Wall[] = [];
  /** Surfaces Rapier's controller hit in this character's last move (0 when it did not run). */
  lastHits = 0;
  private readonly ray = new RAPIER.Ray({ x: 0, y: 0, z: 0 }, { x: 1, y: 0, z: 0 });
  yaw = 0;

  /**
   * `fastPath: false` always runs Rapier's controller (tests compare the two; the bench can
   * measure what the open-ground fast path saves).
   */
  constructor(private readonly physics: PhysicsWorld, feet: readonly number[], yaw = 0, private readonly options: { fastPath?: boolean } = {}) {
    const { world } = physics;
    this.body = world.createRigidBody(
      RAPIER.RigidBodyDesc.kinematicPositionBased().setTranslation(feet[0], feet[1] + FEET_TO_CENTRE, feet[2]),
    );
    this.collider = world.createCollider(
      RAPIER.ColliderDesc.capsule(MOVEMENT.capsuleHalfHeight, MOVEMENT.capsuleRadius).setCollisionGroups(COLLISION_GROUPS.player),
      this.body,
    );
    this.controller = world.createCharacterController(MOVEMENT.skin);
    this.controller.setUp({ x: 0, y: 1, z: 0 });
    this.controller.setMaxSlopeClimbAngle(MOVEMENT.maxSlope);
    this.controller.setMinSlopeSlideAngle(MOVEMENT.maxSlope);
    this.controller.enableAutostep(MOVEMENT.stepHeight, 0.2, false);
    this.controller.enableSnapToGround(MOVEMENT.snapToGround);
    // Pushing is done in push() below: Rapier's built-in impulse solver costs ~0.3 ms per
    // character per tick in the WebAssembly build, 20x the rest of the controller.
    this.yaw = normalizeYaw(yaw);
  }

  /**
   * Applies one input for `dt` seconds: computes the collision-free move and schedules it for
   * the next world.step(). Call once per character per tick, then step the world.
   */
  step(input: MoveInput, dt: number): void {
    this.yaw = normalizeYaw(input.yaw);
    const v = nextVelocity(this.motion, input, dt);
    // Standing still on the ground: nothing to compute (the controller is most of a tick's cost).
    // Every IDLE_RECHECK ticks it runs anyway, in case the ground moved away.
    if (this.motion.grounded && v.vx === 0 && v.vy === 0 && v.vz === 0 && ++this.idleTicks % IDLE_RECHECK !== 0) return;
    if (v.vx !== 0 || v.vz !== 0) this.idleTicks = 0;
    this.lastHits = 0;
    if (this.options.fastPath !== false && this.moveIfClear(v, dt)) return;
    const [mx, mz] = this.clipToWalls(v.vx * dt, v.vz * dt);
    this.controller.computeColliderMovement(this.collider, { x: mx, y: v.vy * dt, z: mz }, undefined, COLLISION_GROUPS.playerMovement);
    this.lastHits = this.controller.numComputedCollisions();
    this.rememberWalls();
    const moved = this.controller.computedMovement();
    // Only a blocked move can have hit something to push (ground contact does not block it).
    if (Math.hypot(moved.x, moved.z) < Math.hypot(v.vx, v.vz) * dt - 1e-3) this.push(v.vx, v.vz);
    const grounded = this.controller.computedGrounded();
    const p = this.body.translation();
    this.body.setNextKinematicTranslation({ x: p.x + moved.x, y: p.y + moved.y, z: p.z + moved.z });
    // Blocked horizontally → keep only what was achieved, so speed does not build up against walls.
    const vx = Math.abs(moved.x) < Math.abs(v.vx * dt) ? moved.x / dt : v.vx;
    const vz = Math.abs(moved.z) < Math.abs(v.vz * dt) ? moved.z / dt : v.vz;
    // Landed or hit a ceiling → vertical speed stops.
    let vy = v.vy;
    if ((grounded && vy < 0) || (vy > 0 && moved.y < vy * dt * 0.5)) vy = 0;
    // Just took off: the controller may still report ground contact on the take-off tick.
    const airborne = v.vy > 0 && moved.y > 0;
    this.motion = { vx, vy, vz, grounded: grounded && !airborne };
  }

  /**
   * The controller's answer without running it, where it is provably trivial: the box swept by
   * the capsule this tick (plus CLEAR_MARGIN) overlaps no world object, prop or NPC, so the
   * move is unobstructed. Two cases: walking on the open ground slab (the box starts just above
   * the slab, the character stays grounded at its height), and flying clear of everything (the
   * box includes the space below the feet, so landing and ceilings go to the controller). One
   * box query instead of the controller's several shape casts (≈ 5x cheaper). Returns false,
   * touching nothing, when the controller must run.
   */
  private moveIfClear(v: { vx: number; vy: number; vz: number }, dt: number): boolean {
    const walking = this.motion.grounded && v.vy === 0;
    if (this.motion.grounded && !walking) return false; // take-off: the controller decides
    const p = this.body.translation();
    const feetY = p.y - FEET_TO_CENTRE;
    const dx = v.vx * dt, dy = walking ? 0 : v.vy * dt, dz = v.vz * dt;
    let bottom: number;
    if (walking) {
      if (feetY - GROUND_TOP_Y > ON_GROUND_SLAB) return false; // standing on an object
      bottom = GROUND_TOP_Y + ABOVE_SLAB;
    } else {
      bottom = Math.min(feetY, feetY + dy) - CLEAR_MARGIN;
      if (bottom <= GROUND_TOP_Y + ABOVE_SLAB) return false; // about to land
    }
    const top = Math.max(feetY, feetY + dy) + 2 * FEET_TO_CENTRE + CLEAR_MARGIN;
    const half = this.probe.halfExtents;
    half.x = MOVEMENT.capsuleRadius + Math.abs(dx) / 2 + CLEAR_MARGIN;
    half.y = (top - bottom) / 2;
    half.z = MOVEMENT.capsuleRadius + Math.abs(dz) / 2 + CLEAR_MARGIN;
    const centre = { x: p.x + dx / 2, y: (top + bottom) / 2, z: p.z + dz / 2 };
    const hit = this.physics.world.intersectionWithShape(centre, IDENTITY, this.probe, undefined, COLLISION_GROUPS.playerMovement);
    if (hit !== null) return false;
    this.body.setNextKinematicTranslation({ x: p.x + dx, y: p.y + dy, z: p.z + dz });
    this.motion = { vx: v.vx, vy: v.vy, vz: v.vz, grounded: walking };
    return true;
  }

  /** The horizontal move without the part going into remembered walls (after forgetting those out of reach). */
  private clipToWalls(mx: number, mz: number): [number, number] {
    if (this.walls.length === 0) return [mx, mz];
    const p = this.body.translation();
    this.walls = this.walls.filter((w) => {
      this.ray.origin = { x: p.x, y: w.y, z: p.z };
      this.ray.dir = { x: -w.nx, y: 0, z: -w.nz };
      return w.collider.isValid() && w.collider.castRay(this.ray, MOVEMENT.capsuleRadius + MOVEMENT.skin + WALL_REACH, true) >= 0;
    });
    for (let pass = 0; pass < 2; pass++) {
      for (const w of this.walls) {
        const into = mx * w.nx + mz * w.nz;
        if (into < 0) { mx -= into * w.nx; mz -= into * w.nz; }
      }
    }
    // Still going into one: an inside corner, nowhere to slide.
    for (const w of this.walls) if (mx * w.nx + mz * w.nz < -1e-9) return [0, 0];
    return [mx, mz];
  }

  /** After a stalled move: the fixed walls it pressed into (props are pushed and NPCs move: not walls). */
  private rememberWalls(): void {
    const n = this.lastHits;
    if (n < STALL_HITS) return;
    const walls: Wall[] = [];
    for (let i = 0; i < n && walls.length < 3; i++) {
      const hit = this.controller.computedCollision(i, this.collision);
      const c = hit?.collider;
      const body = c?.parent();
      if (!hit || !c || (body && !body.isFixed()) || hit.normal1.y > WALL_NORMAL_Y) continue; // props and NPCs move
      const len = Math.hypot(hit.normal1.x, hit.normal1.z);
      if (len < 1e-3) continue;
      const nx = hit.normal1.x / len, nz = hit.normal1.z / len;
      if (walls.some((w) => w.collider.handle === c.handle && w.nx * nx + w.nz * nz > 0.99)) continue;
      walls.push({ nx, nz, y: hit.witness1.y, collider: c });
    }
    this.walls = walls;
  }

  /**
   * Pushes dynamic bodies the character ran into: an impulse along the push direction that
   * brings the body's speed toward the character's, scaled down for bodies heavier than it.
   */
  private push(vx: number, vz: number): void {
    const speed = Math.hypot(vx, vz);
    if (speed < 1e-3) return;
    const n = this.controller.numComputedCollisions();
    for (let i = 0; i < n; i++) {
      const hit = this.controller.computedCollision(i, this.collision);
      const body = hit?.collider?.parent();
      if (!body || !body.isDynamic()) continue;
      // Push direction: the character's horizontal heading (the hit normal can point up-ish on edges).
      const dx = vx / speed, dz = vz / speed;
      const bodyVel = body.linvel();
      const closing = speed - (bodyVel.x * dx + bodyVel.z * dz);
      if (closing <= 0) continue;
      const mass = body.mass();
      const j = Math.min(mass, CHARACTER_MASS) * closing * PUSH_STRENGTH;
      body.applyImpulse({ x: dx * j, y: 0, z: dz * j }, true);
    }
  }

  /** Feet position after the last world.step(). */
  feet(): { x: number; y: number; z: number } {
    const p = this.body.translation();
    return { x: p.x, y: p.y - FEET_TO_CENTRE, z: p.z };
  }

  anim(): PlayerAnim {
    return animFor(this.motion);
  }

  /**
   * Puts the body (and its collider) where the last step() scheduled it, now, so that another
   * step() can follow within the same tick: the server works off a backlog of inputs this way,
   * one input per step, as the client predicted them. Motion and remembered walls carry over.
   */
  settle(): void {
    this.body.setTranslation(this.body.nextTranslation(), true);
    this.physics.world.propagateModifiedBodyPositionsToColliders();
  }

  /** Moves the character instantly (spawn, respawn, reconciliation). */
  teleport(feet: readonly number[]): void {
    this.walls = [];
    this.body.setTranslation({ x: feet[0], y: feet[1] + FEET_TO_CENTRE, z: feet[2] }, true);
    this.body.setNextKinematicTranslation({ x: feet[0], y: feet[1] + FEET_TO_CENTRE, z: feet[2] });
    this.motion = { vx: 0, vy: 0, vz: 0, grounded: false };
  }

  dispose(): void {
    this.physics.world.removeCharacterController(this.controller);
    this.physics.world.removeRigidBody(this.body);
  }
}
