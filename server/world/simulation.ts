// The authoritative world simulation: Rapier world from the scene, players, NPCs, movable props,
// stepped at a fixed 30 Hz and mirrored into WorldState. No Colyseus here; the room drives it.
import { buildPhysicsWorld, MOVEMENT, type PhysicsWorld } from "../../core/movement/index.ts";
import type { MoveMessage } from "../../core/protocol/messages.ts";
import type { Scene } from "../../core/scene/schema.ts";
import { PropState, WorldState } from "../../core/state/world-state.ts";
import { NpcAgent } from "./npc-agent.ts";
import { PlayerAgent } from "./player-agent.ts";
import type RAPIER from "@dimforge/rapier3d-compat";

/** Prop pose changes smaller than this (m, or quaternion component) are not replicated. */
const PROP_EPSILON = 1e-3;
/** A spawn point with a player's feet within this distance (m) is taken. */
const SPAWN_CLEARANCE = 1;

export class WorldSimulation {
  readonly state: WorldState;
  readonly physics: PhysicsWorld;
  readonly players = new Map<string, PlayerAgent>();
  readonly npcs = new Map<string, NpcAgent>();
  private readonly props: Array<{ body: RAPIER.RigidBody; state: PropState }> = [];
  private nextSpawn = 0;
  /** Seconds per tick. */
  readonly dt = 1 / MOVEMENT.tickHz;

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

  /** Adds a player at the next free spawn point (round robin). */
  addPlayer(id: string, name: string): PlayerAgent {
    const spawn = this.pickSpawn();
    // Lift 5 cm so the capsule does not start touching the ground.
    const feet = [spawn.position[0], spawn.position[1] + 0.05, spawn.position[2]];
    const player = new PlayerAgent(this.physics, id, name, feet, spawn.facing);
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

  /** One fixed step: inputs → characters, NPCs, physics step, state mirror, respawns. */
  tick(): void {
    const dt = this.dt;
    for (const player of this.players.values()) player.applyInput(dt);
    const feet = [...this.players.values()].map((p) => p.state);
    for (const npc of this.npcs.values()) npc.update(dt, feet);
    this.physics.world.step();
    for (const player of this.players.values()) {
      player.syncState();
      if (player.state.y < MOVEMENT.respawnBelowY) this.respawn(player);
    }
    for (const prop of this.props) this.syncProp(prop);
  }

  /** Next spawn in round-robin order with nobody standing on it; any spawn when all are taken. */
  private pickSpawn(): Scene["spawns"][number] {
    const spawns = this.scene.spawns;
    for (let i = 0; i < spawns.length; i++) {
      const spawn = spawns[(this.nextSpawn + i) % spawns.length];
      const [x, , z] = spawn.position;
      const taken = [...this.players.values()].some((p) => Math.hypot(p.state.x - x, p.state.z - z) < SPAWN_CLEARANCE);
      if (!taken) {
        this.nextSpawn += i + 1;
        return spawn;
      }
    }
    return spawns[this.nextSpawn++ % spawns.length];
  }

  private respawn(player: PlayerAgent): void {
    const spawn = this.pickSpawn();
    player.character.teleport([spawn.position[0], spawn.position[1] + 0.05, spawn.position[2]]);
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

  /** Feet position of a player or NPC by id, or undefined. */
  positionOf(id: string): { x: number; y: number; z: number } | undefined {
    return this.players.get(id)?.position() ?? this.npcs.get(id)?.position();
  }

  dispose(): void {
    this.physics.world.free();
  }
}
