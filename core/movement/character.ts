// One walking character in a Rapier world: a capsule on a kinematic body moved by Rapier's
// character controller (slides along walls, climbs steps and slopes, snaps to ground, pushes
// dynamic props). Server and client run the same step for the same input.
import { COLLISION_GROUPS, RAPIER, type PhysicsWorld } from "./world.ts";
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

export class CharacterBody {
  readonly body: RAPIER.RigidBody;
  readonly collider: RAPIER.Collider;
  private readonly controller: RAPIER.KinematicCharacterController;
  motion: Motion = { vx: 0, vy: 0, vz: 0, grounded: false };
  private readonly collision = new RAPIER.CharacterCollision();
  private idleTicks = 0;
  yaw = 0;

  constructor(private readonly physics: PhysicsWorld, feet: readonly number[], yaw = 0) {
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
    this.controller.computeColliderMovement(
      this.collider, { x: v.vx * dt, y: v.vy * dt, z: v.vz * dt }, undefined, COLLISION_GROUPS.playerMovement,
    );
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

  /** Moves the character instantly (spawn, respawn, reconciliation). */
  teleport(feet: readonly number[]): void {
    this.body.setTranslation({ x: feet[0], y: feet[1] + FEET_TO_CENTRE, z: feet[2] }, true);
    this.body.setNextKinematicTranslation({ x: feet[0], y: feet[1] + FEET_TO_CENTRE, z: feet[2] });
    this.motion = { vx: 0, vy: 0, vz: 0, grounded: false };
  }

  dispose(): void {
    this.physics.world.removeCharacterController(this.controller);
    this.physics.world.removeRigidBody(this.body);
  }
}
