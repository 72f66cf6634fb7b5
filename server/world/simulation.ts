// The authoritative world simulation: Rapier world from the scene, players, NPCs, movable props,
// stepped at a fixed 30 Hz and mirrored into WorldState. No Colyseus here; the room drives it.
import { buildPhysicsWorld, COLLISION_GROUPS, FEET_TO_CENTRE, GROUP, MOVEMENT, RAPIER, type PhysicsWorld } from "../../core/movement/index.ts";
import type { MoveMessage } from "../../core/protocol/messages.ts";
import type { Scene } from "../../core/scene/schema.ts";
import { PropState, WorldState, type PlayerState } from "../../core/state/world-state.ts";
import { NpcAgent } from "./npc-agent.ts";
import { PlayerAgent } from "./player-agent.ts";
import type { TickSections } from "../tick-metrics.ts";

/** Prop pose changes smaller than this (m, or quaternion component) are not replicated. */
const PROP_EPSILON = 1e-3;
/** Spacing of the rings of fallback spots around a taken spawn point, m. */
const SPAWN_CLEARANCE = 1.2;
/** Eye height above the feet, m (line-of-sight rays go from head to head). */
export const EYE_HEIGHT = 1.6;
/** Line-of-sight rays hit only static world colliders: players, NPCs and movable props do not block. */
const SIGHT_GROUPS = (0xffff << 16) | GROUP.world;

export class WorldSimulation {
  readonly state: WorldState;
  readonly physics: PhysicsWorld;
  readonly players = new Map<string, PlayerAgent>();
  readonly npcs = new Map<string, NpcAgent>();
  private readonly props: Array<{ body: RAPIER.RigidBody; state: PropState }> = [];
  private nextSpawn = 0;
  /** Seconds per tick. */
  readonly dt = 1 / MOVEMENT.tickHz;
  /** Wall time of the last tick's parts, ms (for TickMetrics; four performance.now() calls). */
  readonly sections: TickSections = { inputs: 0, npcs: 0, step: 0, sync: 0 };
  /** Every player's replicated state (feet x, y, z), refilled each tick for the NPCs; reused. */
  private readonly playerFeet: PlayerState[] = [];

  /** Call initPhysics() before constructing. */
  constructor(readonly scene: Scene, state = new WorldState()) {
    this.state = state;
    this.physics = buildPhysicsWorld(scene);
    for (const spawn of scene.npcs) {
      const npc = new NpcAgent(this.physics, spawn);
      this.npcs.set(spawn.id, npc);
      state.npcs.set(spawn.id, npc.state);
    }
    for (const [id, body] of this.physics.props) {
      const prop = new PropState();
      const t = body.translation(), r = body.rotation();
      Object.assign(prop, { id, x: t.x, y: t.y, z: t.z, qx: r.x, qy: r.y, qz: r.z, qw: r.w });
      this.props.push({ body, state: prop });
      state.props.set(id, prop);
    }
  }

  /** Adds a player at the next free spawn point (round robin), or a free spot near one. */
  addPlayer(id: string, name: string): PlayerAgent {
    const spot = this.pickSpawn();
    const player = new PlayerAgent(this.physics, id, name, spot.feet, spot.facing);
    this.players.set(id, player);
    this.state.players.set(id, player.state);
    return player;
  }

  removePlayer(id: string): void {
    const player = this.players.get(id);
    if (player === undefined) return;
    player.dispose();
    this.players.delete(id);
    this.state.players.delete(id);
  }

  /** Queues a validated move for the next ticks; returns a reason when refused. */
  queueInput(id: string, move: MoveMessage): string | undefined {
    const player = this.players.get(id);
    if (player === undefined) return "not in the world";
    return player.enqueue(move);
  }

  /**
   * The room skipped `ticks` of simulation time (its loop fell further behind than it catches
   * up): players' inputs sent during that time are still queued, and may be worked off.
   */
  skipped(ticks: number): void {
    for (const player of this.players.values()) player.bankSkippedTicks(ticks);
  }

  /** One fixed step: inputs → characters, NPCs, physics step, state mirror, respawns. */
  tick(): void {
    const dt = this.dt;
    const t0 = performance.now();
    for (const player of this.players.values()) player.applyInput(dt);
    const t1 = performance.now();
    const feet = this.playerFeet;
    feet.length = 0;
    for (const player of this.players.values()) feet.push(player.state);
    for (const npc of this.npcs.values()) npc.update(dt, feet);
    const t2 = performance.now();
    this.physics.world.step();
    const t3 = performance.now();
    for (const player of this.players.values()) {
      player.syncState();
      if (player.state.y < MOVEMENT.respawnBelowY) this.respawn(player);
    }
    for (const prop of this.props) this.syncProp(prop);
    const s = this.sections;
    s.inputs = t1 - t0; s.npcs = t2 - t1; s.step = t3 - t2; s.sync = performance.now() - t3;
  }

  /**
   * Next spawn point (round robin) where a capsule fits without touching a player or a collider;
   * when every point is taken, the first free spot on rings around them (1.2 m apart); as a last
   * resort the spawn point itself. Feet are lifted 5 cm so the capsule starts clear of the ground.
   */
  private pickSpawn(): { feet: number[]; facing: number } {
    const spawns = this.scene.spawns;
    const start = this.nextSpawn++;
    for (const ring of [0, 1, 2, 3]) {
      for (let i = 0; i < spawns.length; i++) {
        const spawn = spawns[(start + i) % spawns.length];
        const steps = ring === 0 ? 1 : 8 * ring;
        for (let k = 0; k < steps; k++) {
          const angle = (2 * Math.PI * k) / steps;
          const feet = [
            spawn.position[0] + Math.sin(angle) * ring * SPAWN_CLEARANCE,
            spawn.position[1] + 0.05,
            spawn.position[2] + Math.cos(angle) * ring * SPAWN_CLEARANCE,
          ];
          if (this.isFree(feet)) return { feet, facing: spawn.facing };
        }
      }
    }
    const spawn = spawns[start % spawns.length];
    return { feet: [spawn.position[0], spawn.position[1] + 0.05, spawn.position[2]], facing: spawn.facing };
  }

  /** Whether a character capsule with its feet at `feet` overlaps nothing (players included). */
  private isFree(feet: number[]): boolean {
    const centre = { x: feet[0], y: feet[1] + FEET_TO_CENTRE, z: feet[2] };
    if (Math.abs(centre.x) > this.physics.halfWidth - 1 || Math.abs(centre.z) > this.physics.halfDepth - 1) return false;
    // Players added since the last step are not in Rapier's query structures yet: check them directly.
    for (const p of this.players.values()) {
      const t = p.character.body.translation();
      if (Math.hypot(t.x - centre.x, t.z - centre.z) < 2 * MOVEMENT.capsuleRadius + 0.2 && Math.abs(t.y - centre.y) < 2) return false;
    }
    // Slightly fatter than the character, so neighbours do not start in contact.
    const probe = new RAPIER.Capsule(MOVEMENT.capsuleHalfHeight, MOVEMENT.capsuleRadius + 0.1);
    return this.physics.world.intersectionWithShape(centre, { x: 0, y: 0, z: 0, w: 1 }, probe, undefined, COLLISION_GROUPS.playerMovement) === null;
  }

  private respawn(player: PlayerAgent): void {
    const spot = this.pickSpawn();
    player.character.teleport(spot.feet);
    player.clearInputs();
    player.syncState();
  }

  private syncProp({ body, state }: { body: RAPIER.RigidBody; state: PropState }): void {
    if (body.isSleeping()) return;
    let t = body.translation();
    // A prop knocked out of the world comes back to where the scene put it.
    if (t.y < MOVEMENT.respawnBelowY) {
      const o = this.scene.objects.find((obj) => obj.id === state.id)!;
      body.setTranslation({ x: o.position[0], y: o.position[1], z: o.position[2] }, true);
      body.setLinvel({ x: 0, y: 0, z: 0 }, true);
      t = body.translation();
    }
    const r = body.rotation();
    if (Math.abs(state.x - t.x) > PROP_EPSILON) state.x = t.x;
    if (Math.abs(state.y - t.y) > PROP_EPSILON) state.y = t.y;
    if (Math.abs(state.z - t.z) > PROP_EPSILON) state.z = t.z;
    if (Math.abs(state.qx - r.x) > PROP_EPSILON || Math.abs(state.qy - r.y) > PROP_EPSILON ||
        Math.abs(state.qz - r.z) > PROP_EPSILON || Math.abs(state.qw - r.w) > PROP_EPSILON) {
      state.qx = r.x; state.qy = r.y; state.qz = r.z; state.qw = r.w;
    }
  }

  /**
   * Whether nothing static stands between two feet positions, ray from head (EYE_HEIGHT) to head
   * through the static colliders only (a Rapier ray cast; characters and props do not block).
   */
  lineOfSight(a: { x: number; y: number; z: number }, b: { x: number; y: number; z: number }): boolean {
    const dx = b.x - a.x, dy = b.y - a.y, dz = b.z - a.z;
    const len = Math.hypot(dx, dy, dz);
    if (len < 1e-3) return true;
    const ray = new RAPIER.Ray({ x: a.x, y: a.y + EYE_HEIGHT, z: a.z }, { x: dx / len, y: dy / len, z: dz / len });
    const hit = this.physics.world.castRay(ray, len, true, RAPIER.QueryFilterFlags.EXCLUDE_DYNAMIC, SIGHT_GROUPS);
    return hit === null;
  }

  /** Feet position of a player or NPC by id, or undefined. */
  positionOf(id: string): { x: number; y: number; z: number } | undefined {
    return this.players.get(id)?.position() ?? this.npcs.get(id)?.position();
  }

  dispose(): void {
    this.physics.world.free();
  }
}
