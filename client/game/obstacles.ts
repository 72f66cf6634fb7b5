import { FEET_TO_CENTRE, MOVEMENT, RAPIER, type PhysicsWorld } from "../../core/movement/index.ts";
import type { WorldState } from "../../core/state/index.ts";

// Other characters as obstacles in our prediction world. On the server every player and NPC
// is a capsule our character bumps into; without the same capsules here we would predict
// walking through people and then be pulled back. Each capsule sits at the entity's latest
// server position (feet + FEET_TO_CENTRE); they do not move between patches.

export class Obstacles {
  private bodies = new Map<string, RAPIER.RigidBody>();

  constructor(private physics: PhysicsWorld) {}

  get count(): number { return this.bodies.size; }

  /** Match the capsules to the state: everyone except `selfId`. */
  sync(state: WorldState, selfId: string | null): void {
    const seen = new Set<string>();
    const place = (key: string, x: number, y: number, z: number) => {
      seen.add(key);
      let body = this.bodies.get(key);
      if (!body) {
        body = this.physics.world.createRigidBody(RAPIER.RigidBodyDesc.kinematicPositionBased());
        this.physics.world.createCollider(RAPIER.ColliderDesc.capsule(MOVEMENT.capsuleHalfHeight, MOVEMENT.capsuleRadius), body);
        this.bodies.set(key, body);
      }
      body.setTranslation({ x, y: y + FEET_TO_CENTRE, z }, false);
    };
    state.players.forEach((p, id) => { if (id !== selfId) place(`player:${id}`, p.x, p.y, p.z); });
    state.npcs.forEach((n, id) => place(`npc:${id}`, n.x, n.y, n.z));
    for (const [key, body] of this.bodies) {
      if (seen.has(key)) continue;
      this.physics.world.removeRigidBody(body);
      this.bodies.delete(key);
    }
  }

  clear(): void {
    for (const body of this.bodies.values()) this.physics.world.removeRigidBody(body);
    this.bodies.clear();
  }
}
