import {
  Color3, Color4, CreateBox, CreateCapsule, CreateCylinder, CreateGround, CreateSphere, DirectionalLight,
  HemisphericLight, Mesh, PointLight, Scene, ShadowGenerator, StandardMaterial, Vector3,
} from "./babylon.ts";
import type { MeshPlan, Rgb, ScenePlan } from "./scene-plan.ts";

// Builds Babylon meshes and lights from a ScenePlan. Works on any engine, NullEngine
// included (no shader compiles happen until render), so tests can check it headless.

export type BuiltWorld = {
  /** Scene object id → its mesh. Movable props are looked up here by server state. */
  meshes: Map<string, Mesh>;
  ground: Mesh;
  shadows: ShadowGenerator | null;
  /** Materials by colour; avatars share it. */
  palette: Palette;
  dispose(): void;
};

const rgb = (c: Rgb) => new Color3(c[0], c[1], c[2]);

/**
 * One material per distinct colour: a village has many objects but few colours, and
 * shared materials keep the draw state small.
 */
export class Palette {
  private byKey = new Map<string, StandardMaterial>();
  constructor(private scene: Scene) {}
  get(c: Rgb, alpha = 1): StandardMaterial {
    const key = `${c.map((v) => v.toFixed(3)).join(",")}/${alpha}`;
    let m = this.byKey.get(key);
    if (!m) {
      m = new StandardMaterial(`mat:${key}`, this.scene);
      m.diffuseColor = rgb(c);
      // Matte surfaces: a village of wood, stone, cloth and thatch has little gloss.
      m.specularColor = new Color3(0.06, 0.06, 0.06);
      m.alpha = alpha;
      this.byKey.set(key, m);
    }
    return m;
  }
  all(): StandardMaterial[] { return [...this.byKey.values()]; }
}

export function buildMesh(p: MeshPlan, scene: Scene, palette: Palette): Mesh {
  const [w, h, d] = p.size;
  let m: Mesh;
  switch (p.kind) {
    case "box":
    case "placeholder":
      m = CreateBox(p.id, { width: w, height: h, depth: d }, scene);
      break;
    case "sphere":
      m = CreateSphere(p.id, { diameter: w, segments: 16 }, scene);
      break;
    case "cylinder":
      m = CreateCylinder(p.id, { diameter: w, height: h, tessellation: 24 }, scene);
      break;
    case "cone":
      m = CreateCylinder(p.id, { diameterTop: 0, diameterBottom: w, height: h, tessellation: 24 }, scene);
      break;
    case "capsule":
      m = CreateCapsule(p.id, { radius: w / 2, height: h, tessellation: 16, subdivisions: 2 }, scene);
      break;
  }
  m.position.set(p.position[0], p.position[1], p.position[2]);
  m.rotation.set(p.rotation[0], p.rotation[1], p.rotation[2]);
  m.scaling.set(p.scale[0], p.scale[1], p.scale[2]);
  m.material = palette.get(p.colour, p.kind === "placeholder" ? 0.5 : 1);
  m.metadata = { kith: { id: p.id, name: p.name, tags: p.tags, movable: p.movable } };
  m.receiveShadows = true;
  // Static geometry never moves: freezing its world matrix skips per-frame recomputation.
  if (!p.movable) m.freezeWorldMatrix();
  return m;
}

export function buildWorld(plan: ScenePlan, scene: Scene): BuiltWorld {
  const palette = new Palette(scene);
  scene.clearColor = new Color4(plan.sky[0], plan.sky[1], plan.sky[2], 1);
  scene.ambientColor = new Color3(0.25, 0.25, 0.25);
  scene.fogMode = Scene.FOGMODE_EXP2;
  scene.fogColor = rgb(plan.sky);
  scene.fogDensity = plan.fogDensity;

  const ground = CreateGround("ground", { width: plan.ground.width, height: plan.ground.depth, subdivisions: 1 }, scene);
  ground.material = palette.get(plan.ground.colour);
  ground.receiveShadows = true;
  ground.freezeWorldMatrix();

  let shadows: ShadowGenerator | null = null;
  const lights = plan.lights.map((l, i) => {
    switch (l.kind) {
      case "hemispheric": {
        const h = new HemisphericLight(`light${i}`, new Vector3(...l.direction), scene);
        h.intensity = l.intensity;
        h.diffuse = rgb(l.colour);
        h.groundColor = rgb(l.ground);
        h.specular = Color3.Black();
        return h;
      }
      case "directional": {
        const dl = new DirectionalLight(`light${i}`, new Vector3(...l.direction), scene);
        dl.intensity = l.intensity;
        dl.diffuse = rgb(l.colour);
        // Put the light well above the scene so its orthographic shadow frustum covers it.
        const reach = Math.max(plan.ground.width, plan.ground.depth);
        dl.position = new Vector3(...l.direction).scale(-reach);
        if (l.shadows && !shadows) {
          shadows = new ShadowGenerator(2048, dl);
          shadows.usePercentageCloserFiltering = true;
          shadows.bias = 0.0008;
          shadows.normalBias = 0.02;
          shadows.darkness = 0.35;
        }
        return dl;
      }
      case "point": {
        const pl = new PointLight(`light${i}`, new Vector3(...l.position), scene);
        pl.intensity = l.intensity;
        pl.range = l.range;
        pl.diffuse = rgb(l.colour);
        return pl;
      }
    }
  });

  const meshes = new Map<string, Mesh>();
  for (const p of plan.meshes) {
    const m = buildMesh(p, scene, palette);
    meshes.set(p.id, m);
    if (p.castsShadow && shadows) (shadows as ShadowGenerator).addShadowCaster(m, false);
  }

  return {
    meshes,
    ground,
    shadows,
    palette,
    dispose() {
      for (const m of meshes.values()) m.dispose();
      ground.dispose();
      (shadows as ShadowGenerator | null)?.dispose();
      for (const l of lights) l.dispose();
      for (const m of palette.all()) m.dispose();
    },
  };
}
