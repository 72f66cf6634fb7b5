import { z } from "zod";

// Scene file schema (scenes/<name>.json). Units: metres, radians, RGB in 0..1 or "#rrggbb".
// Y is up. Rotations are Euler angles [x, y, z] in radians; yaw is rotation about +Y, where
// yaw 0 faces +Z.
// Positions: an object's `position` is the centre of its shape (as Babylon's MeshBuilder builds
// it: box/sphere centred, cylinder/cone/capsule centred on their height along +Y); spawn and NPC
// positions are the feet (the point on the ground the character stands on).
// Euler rotations apply in Babylon's order (yaw Y, then pitch X, then roll Z), i.e. the quaternion
// Quaternion.RotationYawPitchRoll(rotation[1], rotation[0], rotation[2]).

const finite = z.number().finite();
export const Vec3 = z.tuple([finite, finite, finite]);
export type Vec3 = z.infer<typeof Vec3>;

export const Colour = z.union([
  z.string().regex(/^#[0-9a-fA-F]{6}$/, "expected a colour like \"#a05a2c\""),
  z.tuple([finite.min(0).max(1), finite.min(0).max(1), finite.min(0).max(1)]),
]);
export type Colour = z.infer<typeof Colour>;

export const Id = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "ids are lowercase letters, digits, _ and -");

/** Primitive shapes the client builds and the server turns into colliders. */
export const Shape = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("box"), size: Vec3 }).strict(),
  z.object({ kind: z.literal("sphere"), radius: finite.positive() }).strict(),
  z.object({ kind: z.literal("cylinder"), radius: finite.positive(), height: finite.positive() }).strict(),
  z.object({ kind: z.literal("cone"), radius: finite.positive(), height: finite.positive() }).strict(),
  // Capsule height is the full height, caps included (as Babylon's CreateCapsule).
  z.object({ kind: z.literal("capsule"), radius: finite.positive(), height: finite.positive() }).strict(),
  // A glTF/GLB file under assets/; `bounds` gives the collider box when `collider` is absent.
  z.object({ kind: z.literal("gltf"), src: z.string().min(1), bounds: Vec3 }).strict(),
]);
export type Shape = z.infer<typeof Shape>;

/** Explicit collider; when absent the server derives one from the shape. */
export const Collider = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("box"), size: Vec3, offset: Vec3.optional() }).strict(),
  z.object({ kind: z.literal("sphere"), radius: finite.positive(), offset: Vec3.optional() }).strict(),
  z.object({ kind: z.literal("cylinder"), radius: finite.positive(), height: finite.positive(), offset: Vec3.optional() }).strict(),
  z.object({ kind: z.literal("none") }).strict(),
]);
export type Collider = z.infer<typeof Collider>;

export const SceneObject = z.object({
  id: Id,
  name: z.string().min(1).max(64),
  tags: z.array(z.string().min(1).max(32)).max(16).default([]),
  shape: Shape,
  position: Vec3,
  rotation: Vec3.default([0, 0, 0]),
  scale: Vec3.default([1, 1, 1]),
  colour: Colour.default("#a0a0a0"),
  /** Movable props are dynamic bodies players can push; others are static. */
  movable: z.boolean().default(false),
  /** Mass in kg, movable props only. */
  mass: finite.positive().default(20),
  collider: Collider.optional(),
}).strict();
export type SceneObject = z.infer<typeof SceneObject>;

export const Light = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("hemispheric"), direction: Vec3, intensity: finite.min(0), colour: Colour.optional() }).strict(),
  z.object({ kind: z.literal("directional"), direction: Vec3, intensity: finite.min(0), colour: Colour.optional() }).strict(),
  z.object({ kind: z.literal("point"), position: Vec3, intensity: finite.min(0), range: finite.positive().optional(), colour: Colour.optional() }).strict(),
]);
export type Light = z.infer<typeof Light>;

export const NpcSpawn = z.object({
  id: Id,
  /** Character id: adapters/<character>/character.json (from the training work). */
  character: Id,
  name: z.string().min(1).max(64),
  role: z.string().min(1).max(64),
  position: Vec3,
  /** Yaw in radians. */
  facing: finite.default(0),
  /** Optional patrol route, walked in a loop. */
  waypoints: z.array(Vec3).max(64).default([]),
  /** Walking speed in m/s along waypoints. */
  speed: finite.positive().max(10).default(1.2),
  colour: Colour.optional(),
}).strict();
export type NpcSpawn = z.infer<typeof NpcSpawn>;

export const Scene = z.object({
  $schema: z.string().optional(),
  name: z.string().min(1).max(64),
  description: z.string().max(2000).default(""),
  ground: z.object({
    size: z.tuple([finite.positive(), finite.positive()]),
    colour: Colour.default("#4a7a3a"),
  }).strict(),
  sky: z.object({ colour: Colour.default("#87b5e5") }).strict().default({ colour: "#87b5e5" }),
  /** Time of day in hours, 0..24; the client lights the scene from it. */
  timeOfDay: finite.min(0).max(24).default(12),
  objects: z.array(SceneObject).max(4096),
  lights: z.array(Light).max(64).default([]),
  spawns: z.array(z.object({ position: Vec3, facing: finite.default(0) }).strict()).min(1),
  npcs: z.array(NpcSpawn).max(256).default([]),
}).strict();
export type Scene = z.infer<typeof Scene>;
export type SceneInput = z.input<typeof Scene>;
