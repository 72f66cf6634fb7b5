// One NPC in the simulation: a kinematic capsule that walks its waypoint loop, or stands idle
// and turns to face the nearest player within FACE_RANGE.
import { COLLISION_GROUPS, RAPIER, FEET_TO_CENTRE, MOVEMENT, normalizeYaw, type PhysicsWorld } from "../../core/movement/index.ts";
import type { NpcSpawn } from "../../core/scene/schema.ts";
import { NpcState, type NpcActivity } from "../../core/state/world-state.ts";

/** An idle NPC turns toward the nearest player within this distance, m. */
export const FACE_RANGE = 4;
/** Turn rate, rad/s. */
const TURN_RATE = 4;
/** Distance at which a waypoint counts as reached, m. */
const ARRIVE = 0.1;

export class NpcAgent {
  readonly state = new NpcState();
  private readonly body: RAPIER.RigidBody;
  private target = 1;
  /** Set by conversations ("talk"); a talking NPC stops walking and faces its partner. */
  activity: NpcActivity;
  private feet: { x: number; y: number; z: number };

  constructor(physics: PhysicsWorld, readonly spawn: NpcSpawn) {
    const [x, y, z] = spawn.position;
    this.feet = { x, y, z };
    this.body = physics.world.createRigidBody(
      RAPIER.RigidBodyDesc.kinematicPositionBased().setTranslation(x, y + FEET_TO_CENTRE, z),
    );
    physics.world.createCollider(
      RAPIER.ColliderDesc.capsule(MOVEMENT.capsuleHalfHeight, MOVEMENT.capsuleRadius).setCollisionGroups(COLLISION_GROUPS.npc),
      this.body,
    );
    this.activity = spawn.waypoints.length >= 2 ? "patrol" : "idle";
    Object.assign(this.state, {
      id: spawn.id, character: spawn.character, name: spawn.name, role: spawn.role,
      x, y, z, yaw: normalizeYaw(spawn.facing), state: this.activity,
    });
  }

  /** Advances `dt` seconds; `players` are feet positions of every player (for facing). */
  update(dt: number, players: Iterable<{ x: number; z: number }>): void {
    const s = this.state;
    if (this.activity === "patrol" && this.spawn.waypoints.length >= 2) {
      const wp = this.spawn.waypoints[this.target];
      const dx = wp[0] - this.feet.x, dz = wp[2] - this.feet.z;
      const dist = Math.hypot(dx, dz);
      if (dist < ARRIVE) {
        this.target = (this.target + 1) % this.spawn.waypoints.length;
      } else {
        const step = Math.min(dist, this.spawn.speed * dt);
        this.feet = { x: this.feet.x + (dx / dist) * step, y: wp[1], z: this.feet.z + (dz / dist) * step };
        this.turnToward(Math.atan2(dx, dz), dt);
        this.body.setNextKinematicTranslation({ x: this.feet.x, y: this.feet.y + FEET_TO_CENTRE, z: this.feet.z });
      }
    } else {
      let nearest: { x: number; z: number } | undefined;
      let best = FACE_RANGE;
      for (const p of players) {
        const d = Math.hypot(p.x - this.feet.x, p.z - this.feet.z);
        if (d < best) { best = d; nearest = p; }
      }
      if (nearest !== undefined) this.turnToward(Math.atan2(nearest.x - this.feet.x, nearest.z - this.feet.z), dt);
    }
    if (s.x !== this.feet.x) s.x = this.feet.x;
    if (s.y !== this.feet.y) s.y = this.feet.y;
    if (s.z !== this.feet.z) s.z = this.feet.z;
    if (s.state !== this.activity) s.state = this.activity;
  }

  private turnToward(goal: number, dt: number): void {
    const diff = normalizeYaw(goal - this.state.yaw);
    const max = TURN_RATE * dt;
    const next = normalizeYaw(this.state.yaw + Math.max(-max, Math.min(max, diff)));
    if (Math.abs(next - this.state.yaw) > 1e-4) this.state.yaw = next;
  }

  position(): { x: number; y: number; z: number } {
    return { ...this.feet };
  }
}
