// One NPC in the simulation: a kinematic capsule that walks its waypoint loop, or stands idle
// and turns to face the nearest player within FACE_RANGE. Conversations (server/dialogue/) take
// it over for a while: "talk" (stand and face a partner), gestures (emote, point), and "walk"
// (to a place with Rapier's character controller, then back to its post).
import { COLLISION_GROUPS, GROUP, RAPIER, FEET_TO_CENTRE, MOVEMENT, normalizeYaw, type PhysicsWorld } from "../../core/movement/index.ts";
import type { NpcSpawn } from "../../core/scene/schema.ts";
import { NpcState, type NpcActivity } from "../../core/state/world-state.ts";

/** An idle NPC turns toward the nearest player within this distance, m. */
export const FACE_RANGE = 4;
/** Turn rate, rad/s. */
const TURN_RATE = 4;
/** Distance at which a waypoint counts as reached, m. */
const ARRIVE = 0.1;
/** Walking speed for walk_to errands when the spawn gives none, m/s. */
const ERRAND_SPEED = 1.4;
/** An errand that makes less than this progress over STUCK_SECONDS gives up, m. */
const STUCK_PROGRESS = 0.2;
const STUCK_SECONDS = 1.5;
/** An errand (one way) ends after this long whatever happens, s. */
const ERRAND_MAX_SECONDS = 25;
/** Pause at the errand's goal before walking back, s. */
const ERRAND_PAUSE_SECONDS = 2;
/** What an NPC's errand controller collides with: the world (static objects, props), not characters. */
const ERRAND_FILTER = (0xffff << 16) | GROUP.world;

type Point = { x: number; z: number };

/** A walk_to errand: out to `goal`, pause, back to `home`. */
interface Errand {
  goal: Point;
  /** Close enough to the goal, m (from the goal point). */
  reach: number;
  home: Point;
  phase: "out" | "pause" | "back";
  timer: number;
  lastCheck: Point;
  sinceCheck: number;
  onArrive?: (reached: boolean) => void;
}

export class NpcAgent {
  readonly state = new NpcState();
  private readonly body: RAPIER.RigidBody;
  private readonly collider: RAPIER.Collider;
  private controller?: RAPIER.KinematicCharacterController;
  private target = 1;
  /** What the NPC does when no conversation holds it: "patrol" or "idle". */
  readonly rest: NpcActivity;
  /** Set by conversations ("talk"); a talking NPC stops walking and faces its partner. */
  activity: NpcActivity;
  private feet: { x: number; y: number; z: number };
  /** Whom to face while talking (or a fixed point), re-read every tick. */
  private facing?: () => Point | undefined;
  private emoteLeft = 0;
  private errand?: Errand;

  constructor(private readonly physics: PhysicsWorld, readonly spawn: NpcSpawn) {
    const [x, y, z] = spawn.position;
    this.feet = { x, y, z };
    this.body = physics.world.createRigidBody(
      RAPIER.RigidBodyDesc.kinematicPositionBased().setTranslation(x, y + FEET_TO_CENTRE, z),
    );
    this.collider = physics.world.createCollider(
      RAPIER.ColliderDesc.capsule(MOVEMENT.capsuleHalfHeight, MOVEMENT.capsuleRadius).setCollisionGroups(COLLISION_GROUPS.npc),
      this.body,
    );
    this.rest = spawn.waypoints.length >= 2 ? "patrol" : "idle";
    this.activity = this.rest;
    Object.assign(this.state, {
      id: spawn.id, character: spawn.character, name: spawn.name, role: spawn.role,
      x, y, z, yaw: normalizeYaw(spawn.facing), state: this.activity,
    });
  }

  /** Stops and faces whatever `face` returns each tick (a conversation partner). */
  talk(face: () => Point | undefined): void {
    this.facing = face;
    if (this.activity !== "walk") this.activity = "talk";
  }

  /** Ends the conversation hold: back to patrol or idle (an errand in progress carries on). */
  endTalk(): void {
    this.facing = undefined;
    if (this.activity === "talk") this.activity = this.rest;
  }

  /** Plays a gesture for `seconds` (replicated in NpcState.emote). */
  emote(name: string, seconds: number): void {
    this.state.emote = name;
    this.emoteLeft = seconds;
  }

  /** Faces a point (turn_to, point_at) until the conversation hold ends or something else is faced. */
  faceTowards(p: Point): void {
    this.facing = () => p;
  }

  get walking(): boolean {
    return this.errand !== undefined;
  }

  /**
   * Walks to within `reach` m of `goal` with Rapier's character controller (sliding along
   * walls), pauses, and walks back to where it stood; `onArrive` says whether it got there.
   */
  walkTo(goal: Point, reach: number, onArrive?: (reached: boolean) => void): void {
    this.controller ??= this.makeController();
    const here = { x: this.feet.x, z: this.feet.z };
    this.errand = { goal, reach, home: this.errand?.home ?? here, phase: "out", timer: 0, lastCheck: here, sinceCheck: 0, onArrive };
    this.activity = "walk";
  }

  /** Advances `dt` seconds; `players` are feet positions of every player (for facing). */
  update(dt: number, players: Iterable<{ x: number; z: number }>): void {
    const s = this.state;
    if (this.emoteLeft > 0) {
      this.emoteLeft -= dt;
      if (this.emoteLeft <= 0 && s.emote !== "") s.emote = "";
    }
    if (this.errand !== undefined) {
      this.runErrand(this.errand, dt);
    } else if (this.activity === "patrol" && this.spawn.waypoints.length >= 2) {
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
      let look = this.facing?.();
      if (look === undefined && this.facing === undefined) {
        let best = FACE_RANGE;
        for (const p of players) {
          const d = Math.hypot(p.x - this.feet.x, p.z - this.feet.z);
          if (d < best) { best = d; look = p; }
        }
      }
      if (look !== undefined && Math.hypot(look.x - this.feet.x, look.z - this.feet.z) > 1e-3) {
        this.turnToward(Math.atan2(look.x - this.feet.x, look.z - this.feet.z), dt);
      }
    }
    if (s.x !== this.feet.x) s.x = this.feet.x;
    if (s.y !== this.feet.y) s.y = this.feet.y;
    if (s.z !== this.feet.z) s.z = this.feet.z;
    if (s.state !== this.activity) s.state = this.activity;
  }

  private makeController(): RAPIER.KinematicCharacterController {
    const c = this.physics.world.createCharacterController(MOVEMENT.skin);
    c.setUp({ x: 0, y: 1, z: 0 });
    c.enableAutostep(MOVEMENT.stepHeight, 0.2, false);
    return c;
  }

  private runErrand(e: Errand, dt: number): void {
    e.timer += dt;
    if (e.phase === "pause") {
      if (e.timer >= ERRAND_PAUSE_SECONDS) Object.assign(e, { phase: "back", timer: 0, sinceCheck: 0, lastCheck: { x: this.feet.x, z: this.feet.z } });
      return;
    }
    const goal = e.phase === "out" ? e.goal : e.home;
    const reach = e.phase === "out" ? e.reach : ARRIVE;
    const dx = goal.x - this.feet.x, dz = goal.z - this.feet.z;
    const dist = Math.hypot(dx, dz);
    e.sinceCheck += dt;
    let stuck = false;
    if (e.sinceCheck >= STUCK_SECONDS) {
      stuck = Math.hypot(this.feet.x - e.lastCheck.x, this.feet.z - e.lastCheck.z) < STUCK_PROGRESS;
      e.sinceCheck = 0;
      e.lastCheck = { x: this.feet.x, z: this.feet.z };
    }
    if (dist <= reach || stuck || e.timer > ERRAND_MAX_SECONDS) {
      if (e.phase === "out") {
        e.onArrive?.(dist <= reach);
        Object.assign(e, { phase: "pause", timer: 0 });
      } else {
        this.errand = undefined;
        this.activity = this.facing !== undefined ? "talk" : this.rest;
      }
      return;
    }
    const step = Math.min(dist, (this.spawn.speed > 0 ? this.spawn.speed : ERRAND_SPEED) * dt);
    this.controller!.computeColliderMovement(this.collider, { x: (dx / dist) * step, y: 0, z: (dz / dist) * step }, undefined, ERRAND_FILTER);
    const moved = this.controller!.computedMovement();
    this.feet = { x: this.feet.x + moved.x, y: this.feet.y, z: this.feet.z + moved.z };
    this.turnToward(Math.atan2(dx, dz), dt);
    this.body.setNextKinematicTranslation({ x: this.feet.x, y: this.feet.y + FEET_TO_CENTRE, z: this.feet.z });
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
