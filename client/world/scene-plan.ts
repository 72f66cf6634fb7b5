import type { Colour, Light, Scene, SceneObject, Vec3 } from "../../core/scene/schema.ts";

// Pure description of what the client draws for a scene: no Babylon, no DOM.
// build-world.ts turns a ScenePlan into Babylon meshes; tests check the plan and the
// built meshes headless (NullEngine). Units: metres, radians, RGB 0..1. Y is up.

export type Rgb = [number, number, number];

/** One drawable primitive, sizes already resolved from the scene shape. */
export type MeshPlan = {
  id: string;
  name: string;
  /** "placeholder" stands in for a glTF model: a translucent box of its bounds. */
  kind: "box" | "sphere" | "cylinder" | "cone" | "capsule" | "placeholder";
  /** box/placeholder: [width x, height y, depth z]; round shapes: [2r, height, 2r]. */
  size: Vec3;
  position: Vec3;
  /** Euler [x, y, z] radians, applied as Babylon does (yaw y, then pitch x, then roll z). */
  rotation: Vec3;
  scale: Vec3;
  colour: Rgb;
  /** Movable props are moved by server state each frame. */
  movable: boolean;
  /** Small things do not cast shadows: cheaper, and they would only add speckle. */
  castsShadow: boolean;
  tags: string[];
};

export type LightPlan =
  | { kind: "hemispheric"; direction: Vec3; intensity: number; colour: Rgb; ground: Rgb }
  | { kind: "directional"; direction: Vec3; intensity: number; colour: Rgb; shadows: boolean }
  | { kind: "point"; position: Vec3; intensity: number; range: number; colour: Rgb };

export type ScenePlan = {
  name: string;
  ground: { width: number; depth: number; colour: Rgb };
  sky: Rgb;
  /** Squared-exponential (EXP2) fog density per metre; fog colour is the sky colour. */
  fogDensity: number;
  meshes: MeshPlan[];
  lights: LightPlan[];
};

/** "#rrggbb" or [r, g, b] in 0..1 → [r, g, b] in 0..1. */
export function colourToRgb(c: Colour): Rgb {
  if (typeof c === "string") {
    const n = Number.parseInt(c.slice(1), 16);
    return [((n >> 16) & 255) / 255, ((n >> 8) & 255) / 255, (n & 255) / 255];
  }
  return [c[0], c[1], c[2]];
}

/** Smallest dimension below which a mesh does not cast a shadow (metres, after scale). */
const SHADOW_MIN_SIZE = 0.35;

export function planObject(o: SceneObject): MeshPlan {
  const s = o.shape;
  let kind: MeshPlan["kind"];
  let size: Vec3;
  switch (s.kind) {
    case "box": kind = "box"; size = [s.size[0], s.size[1], s.size[2]]; break;
    case "sphere": kind = "sphere"; size = [2 * s.radius, 2 * s.radius, 2 * s.radius]; break;
    case "cylinder": kind = "cylinder"; size = [2 * s.radius, s.height, 2 * s.radius]; break;
    case "cone": kind = "cone"; size = [2 * s.radius, s.height, 2 * s.radius]; break;
    // Capsule height is the full height tip to tip (caps included), as Babylon builds it.
    case "capsule": kind = "capsule"; size = [2 * s.radius, Math.max(s.height, 2 * s.radius), 2 * s.radius]; break;
    case "gltf": kind = "placeholder"; size = [s.bounds[0], s.bounds[1], s.bounds[2]]; break;
  }
  const scaled = [size[0] * o.scale[0], size[1] * o.scale[1], size[2] * o.scale[2]].map(Math.abs);
  return {
    id: o.id,
    name: o.name,
    kind,
    size,
    position: [...o.position],
    rotation: [...o.rotation],
    scale: [...o.scale],
    colour: colourToRgb(o.colour),
    movable: o.movable,
    castsShadow: Math.max(...scaled) >= SHADOW_MIN_SIZE && kind !== "placeholder",
    tags: [...o.tags],
  };
}

/**
 * Sun from the time of day (hours 0..24): rises in the east (+X) at 6, highest at 12,
 * sets in the west (-X) at 18. Returns the direction light travels (pointing down).
 */
export function sunDirection(hours: number): Vec3 {
  const angle = ((hours - 6) / 12) * Math.PI; // 0 at sunrise, π at sunset
  const elevation = Math.max(0.25, Math.sin(angle)); // never quite flat: keeps shadows short enough
  const east = Math.cos(angle);
  // Tilt toward -Z a little so shadows fall at a pleasing angle, not straight along X.
  const d: Vec3 = [-east, -elevation, 0.45];
  const len = Math.hypot(d[0], d[1], d[2]);
  return [d[0] / len, d[1] / len, d[2] / len];
}

/** Daylight factor 0 (night) .. 1 (noon) from hours 0..24. */
export function daylight(hours: number): number {
  const s = Math.sin(((hours - 6) / 12) * Math.PI);
  return Math.min(1, Math.max(0.15, s * 1.2));
}

function planLight(l: Light): LightPlan {
  const colour = l.colour ? colourToRgb(l.colour) : ([1, 1, 1] as Rgb);
  switch (l.kind) {
    case "hemispheric":
      return { kind: "hemispheric", direction: [...l.direction], intensity: l.intensity, colour, ground: [0.35, 0.32, 0.28] };
    case "directional":
      return { kind: "directional", direction: [...l.direction], intensity: l.intensity, colour, shadows: false };
    case "point":
      return { kind: "point", position: [...l.position], intensity: l.intensity, range: l.range ?? 12, colour };
  }
}

/**
 * The whole scene as plain data. When the scene names no hemispheric or directional
 * light, a sky light and a sun are derived from timeOfDay. The first directional light
 * casts shadows (one shadow map is cheap; more are not).
 */
export function planScene(scene: Scene): ScenePlan {
  const lights = scene.lights.map(planLight);
  const day = daylight(scene.timeOfDay);
  if (!lights.some((l) => l.kind === "hemispheric")) {
    lights.unshift({ kind: "hemispheric", direction: [0, 1, 0], intensity: 0.35 + 0.35 * day, colour: [0.9, 0.95, 1], ground: [0.35, 0.32, 0.28] });
  }
  if (!lights.some((l) => l.kind === "directional")) {
    const warm = 1 - day; // low sun is warmer
    lights.push({ kind: "directional", direction: sunDirection(scene.timeOfDay), intensity: 0.4 + 0.6 * day, colour: [1, 0.95 - 0.15 * warm, 0.85 - 0.3 * warm], shadows: true });
  }
  const sun = lights.find((l) => l.kind === "directional");
  if (sun && sun.kind === "directional") sun.shadows = true;
  const [w, d] = scene.ground.size;
  return {
    name: scene.name,
    ground: { width: w, depth: d, colour: colourToRgb(scene.ground.colour) },
    sky: colourToRgb(scene.sky.colour),
    // Squared-exponential fog: ~13% at a quarter of the ground's size, ~50% at half of it,
    // so the ground's far edge melts into the sky instead of ending in a hard line.
    fogDensity: 1.6 / Math.max(w, d, 1),
    meshes: scene.objects.map(planObject),
    lights,
  };
}
