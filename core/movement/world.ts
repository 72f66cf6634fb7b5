// Builds a Rapier world from a scene: ground, border walls, static colliders, dynamic movable
// props. Isomorphic (@dimforge/rapier3d-compat runs in Node and the browser); the server steps it
// authoritatively and the client can build the same one to predict its own player.
import RAPIER from "@dimforge/rapier3d-compat";
import type { Scene, SceneObject } from "../scene/schema.ts";
import { quaternionFromEuler } from "./rotation.ts";
import { MOVEMENT } from "./rules.ts";

export type Rapier = typeof RAPIER;
export { RAPIER };

let ready: Promise<void> | undefined;
/** Loads Rapier's WebAssembly once; await before building a world. */
export function initPhysics(): Promise<void> {
  ready ??= RAPIER.init();
  return ready;
}

export interface PhysicsWorld {
  world: RAPIER.World;
  /** Dynamic bodies of movable props, by scene object id. */
  props: Map<string, RAPIER.RigidBody>;
  /** Ground half-extents in x and z (m); the ground top is y = 0. */
  halfWidth: number;
  halfDepth: number;
}

/**
 * Collision groups, Rapier's packed `(membership << 16) | filter`. Players do not block each
 * other (no doorway griefing, and Rapier's controller gets ~5x slower in crowds); they collide
 * with the world, props and NPCs.
 */
export const GROUP = { world: 0x0001, player: 0x0002, npc: 0x0004 } as const;
const ALL = 0xffff;
export const COLLISION_GROUPS = {
  world: (GROUP.world << 16) | ALL,
  player: (GROUP.player << 16) | ALL,
  npc: (GROUP.npc << 16) | ALL,
  /** What a player's character controller collides with. */
  playerMovement: (ALL << 16) | (GROUP.world | GROUP.npc),
} as const;

/** Top of the ground slab, m: everything inside the border walls stands on this plane unless on an object. */
export const GROUND_TOP_Y = 0;

/** Height of the invisible walls along the ground's border, m. */
const BORDER_WALL_HEIGHT = 20;

export function buildPhysicsWorld(scene: Scene): PhysicsWorld {
  const world = new RAPIER.World({ x: 0, y: -MOVEMENT.gravity, z: 0 });
  world.timestep = 1 / MOVEMENT.tickHz;
  const [width, depth] = scene.ground.size;
  const hw = width / 2, hd = depth / 2;

  // Ground: a 1 m thick slab whose top is GROUND_TOP_Y; walls keep everyone on it.
  const g = COLLISION_GROUPS.world;
  world.createCollider(RAPIER.ColliderDesc.cuboid(hw, 0.5, hd).setTranslation(0, GROUND_TOP_Y - 0.5, 0).setCollisionGroups(g));
  const h = BORDER_WALL_HEIGHT / 2;
  world.createCollider(RAPIER.ColliderDesc.cuboid(0.5, h, hd + 1).setTranslation(hw + 0.5, h, 0).setCollisionGroups(g));
  world.createCollider(RAPIER.ColliderDesc.cuboid(0.5, h, hd + 1).setTranslation(-hw - 0.5, h, 0).setCollisionGroups(g));
  world.createCollider(RAPIER.ColliderDesc.cuboid(hw + 1, h, 0.5).setTranslation(0, h, hd + 0.5).setCollisionGroups(g));
  world.createCollider(RAPIER.ColliderDesc.cuboid(hw + 1, h, 0.5).setTranslation(0, h, -hd - 0.5).setCollisionGroups(g));

  const props = new Map<string, RAPIER.RigidBody>();
  for (const object of scene.objects) {
    const desc = colliderFor(object)?.setCollisionGroups(g);
    if (desc === undefined) continue;
    const q = quaternionFromEuler(object.rotation);
    const [x, y, z] = object.position;
    if (object.movable) {
      const body = world.createRigidBody(
        RAPIER.RigidBodyDesc.dynamic().setTranslation(x, y, z).setRotation(q).setCcdEnabled(true)
          .setLinearDamping(0.5).setAngularDamping(0.5),
      );
      world.createCollider(desc.setMass(object.mass).setFriction(0.6), body);
      props.set(object.id, body);
    } else {
      // Static: a collider with no body is fixed in place. Offsets rotate with the object.
      const offset = rotate(q, desc.translation);
      desc.setTranslation(x + offset.x, y + offset.y, z + offset.z).setRotation(q);
      world.createCollider(desc);
    }
  }
  // Character controllers query the broad phase, which only learns of colliders on a step.
  world.step();
  return { world, props, halfWidth: hw, halfDepth: hd };
}

/** The collider for an object: its explicit `collider`, else derived from its shape; scaled. */
export function colliderFor(object: SceneObject): RAPIER.ColliderDesc | undefined {
  const [sx, sy, sz] = object.scale.map(Math.abs);
  const radial = Math.max(sx, sz);
  const c = object.collider;
  if (c !== undefined) {
    if (c.kind === "none") return undefined;
    const off = c.offset ?? [0, 0, 0];
    const desc =
      c.kind === "box" ? RAPIER.ColliderDesc.cuboid((c.size[0] * sx) / 2, (c.size[1] * sy) / 2, (c.size[2] * sz) / 2)
      : c.kind === "sphere" ? RAPIER.ColliderDesc.ball(c.radius * Math.max(sx, sy, sz))
      : RAPIER.ColliderDesc.cylinder((c.height * sy) / 2, c.radius * radial);
    return desc.setTranslation(off[0] * sx, off[1] * sy, off[2] * sz);
  }
  const s = object.shape;
  switch (s.kind) {
    case "box": return RAPIER.ColliderDesc.cuboid((s.size[0] * sx) / 2, (s.size[1] * sy) / 2, (s.size[2] * sz) / 2);
    case "sphere": return RAPIER.ColliderDesc.ball(s.radius * Math.max(sx, sy, sz));
    case "cylinder": return RAPIER.ColliderDesc.cylinder((s.height * sy) / 2, s.radius * radial);
    case "cone": return RAPIER.ColliderDesc.cone((s.height * sy) / 2, s.radius * radial);
    case "capsule": {
      const r = s.radius * radial;
      return RAPIER.ColliderDesc.capsule(Math.max(0, (s.height * sy) / 2 - r), r);
    }
    case "gltf": return RAPIER.ColliderDesc.cuboid((s.bounds[0] * sx) / 2, (s.bounds[1] * sy) / 2, (s.bounds[2] * sz) / 2);
  }
}

/** Rotates vector v by unit quaternion q. */
function rotate(q: { x: number; y: number; z: number; w: number }, v: { x: number; y: number; z: number }) {
  // v' = v + 2w(q×v) + 2 q×(q×v)
  const tx = 2 * (q.y * v.z - q.z * v.y);
  const ty = 2 * (q.z * v.x - q.x * v.z);
  const tz = 2 * (q.x * v.y - q.y * v.x);
  return {
    x: v.x + q.w * tx + (q.y * tz - q.z * ty),
    y: v.y + q.w * ty + (q.z * tx - q.x * tz),
    z: v.z + q.w * tz + (q.x * ty - q.y * tx),
  };
}
