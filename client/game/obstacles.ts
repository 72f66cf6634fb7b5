import { COLLISION_GROUPS, FEET_TO_CENTRE, MOVEMENT, RAPIER, type PhysicsWorld } from "../../core/movement/index.ts";
import type { WorldState } from "../../core/state/index.ts";

// Other characters in our prediction world, in the same collision groups the server gives them:
// NPCs are capsules our character bumps into, other players are capsules it passes through
// (core/movement/world.ts COLLISION_GROUPS). Without the same rules here we would predict
// a bump the server does not have, or none where it has one, and then be pulled back. Each capsule sits at the entity's latest
// server position (feet + FEET_TO_CENTRE); they do not move between patches.

export class Obstacles {
  private bodies = new Map<string, RAPIER.RigidBody>();

  constructor(private physics: PhysicsWorld) {}

  get count(): number { return this.bodies.size; }

  /** Match the capsules to the state: everyone except `selfId`. */
  sync(state: WorldState, selfId: string | null): void {
    const seen = new Set<string>();
    const place = (key: string, groups: number, x: number, y: number, z: number) => {
      seen.add(key);
      let body = this.bodies.get(key);
      if (!body) {
        body = this.physics.world.createRigidBody(RAPIER.RigidBodyDesc.kinematicPositionBased());
        this.physics.world.createCollider(RAPIER.ColliderDesc.capsule(MOVEMENT.capsuleHalfHeight, MOVEMENT.capsuleRadius).setCollisionGroups(groups), body);
        this.bodies.set(key, body);
      }
      body.setTranslation({ x, y: y + FEET_TO_CENTRE, z }, false);
    };
    state.players.forEach((p, id) => { if (id !== selfId) place(`player:${id}`, COLLISION_GROUPS.player, p.x, p.y, p.z); });
    state.npcs.forEach((n, id) => place(`npc:${id}`, COLLISION_GROUPS.npc, n.x, n.y, n.z));
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
