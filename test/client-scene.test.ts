import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Scene as SceneSchema } from "../core/scene/schema.ts";
import { NullEngine, Scene } from "../client/world/babylon.ts";
import { buildWorld } from "../client/world/build-world.ts";
import { colourToRgb, planScene, sunDirection } from "../client/world/scene-plan.ts";
import { FollowCamera } from "../client/world/camera.ts";

// Scene → mesh description (pure) and → Babylon meshes on a NullEngine (no WebGL).

const sceneJson = JSON.parse(readFileSync(new URL("./fixtures/client-mini-scene.json", import.meta.url), "utf8"));
const scene = SceneSchema.parse(sceneJson);

describe("scene plan", () => {
  it("parses colours in both forms", () => {
    expect(colourToRgb("#ff8000")).toEqual([1, 128 / 255, 0]);
    expect(colourToRgb([0.1, 0.2, 0.3])).toEqual([0.1, 0.2, 0.3]);
  });

  it("describes every object with resolved sizes", () => {
    const plan = planScene(scene);
    const byId = new Map(plan.meshes.map((m) => [m.id, m]));
    expect(plan.meshes.length).toBe(scene.objects.length);
    expect(byId.get("house")).toMatchObject({ kind: "box", size: [4, 3, 5], castsShadow: true });
    expect(byId.get("roof")).toMatchObject({ kind: "cone", size: [7.2, 2, 7.2] });
    expect(byId.get("roof")!.colour).toEqual([0.6, 0.2, 0.15]);
    expect(byId.get("ball")).toMatchObject({ kind: "sphere", size: [0.4, 0.4, 0.4], movable: true, castsShadow: true });
    expect(byId.get("post")).toMatchObject({ kind: "capsule", size: [0.3, 1.4, 0.3], scale: [1, 2, 1] });
    expect(byId.get("statue")).toMatchObject({ kind: "placeholder", size: [1, 2, 1], castsShadow: false });
    expect(plan.ground).toEqual({ width: 40, depth: 30, colour: colourToRgb("#4a7a3a") });
    expect(plan.sky).toEqual(colourToRgb("#87b5e5"));
  });

  it("derives a sky light and a shadow-casting sun when the scene names none", () => {
    const plan = planScene(scene);
    expect(plan.lights.map((l) => l.kind)).toEqual(["hemispheric", "directional"]);
    const sun = plan.lights[1];
    expect(sun.kind === "directional" && sun.shadows).toBe(true);
    // Afternoon sun is in the west (light travels toward +X) and always points down.
    expect(sunDirection(15)[0]).toBeGreaterThan(0);
    expect(sunDirection(9)[0]).toBeLessThan(0);
    for (let h = 0; h <= 24; h += 1.5) expect(sunDirection(h)[1]).toBeLessThan(0);
  });

  it("keeps the scene's own lights", () => {
    const lit = SceneSchema.parse({ ...sceneJson, lights: [{ kind: "point", position: [1, 2, 3], intensity: 0.5 }] });
    const plan = planScene(lit);
    expect(plan.lights.find((l) => l.kind === "point")).toMatchObject({ position: [1, 2, 3], intensity: 0.5, range: 12 });
  });
});

describe("built world (NullEngine)", () => {
  it("builds one mesh per object with position, rotation, scale and colour", () => {
    const engine = new NullEngine();
    const bscene = new Scene(engine);
    const world = buildWorld(planScene(scene), bscene);
    expect(world.meshes.size).toBe(scene.objects.length);
    const roof = world.meshes.get("roof")!;
    expect(roof.position.asArray()).toEqual([0, 4, 0]);
    expect(roof.rotation.y).toBeCloseTo(0.785398);
    const mat = roof.material as import("@babylonjs/core/Materials/standardMaterial.js").StandardMaterial;
    expect([mat.diffuseColor.r, mat.diffuseColor.g, mat.diffuseColor.b]).toEqual([0.6, 0.2, 0.15]);
    const post = world.meshes.get("post")!;
    expect(post.scaling.asArray()).toEqual([1, 2, 1]);
    // Bounding boxes match the shapes: the house is 4 × 3 × 5 around its centre.
    const house = world.meshes.get("house")!;
    house.computeWorldMatrix(true);
    const bb = house.getBoundingInfo().boundingBox;
    expect(bb.extendSize.asArray().map((v) => +v.toFixed(5))).toEqual([2, 1.5, 2.5]);
    // Movable props keep a live world matrix; static ones are frozen.
    expect(world.meshes.get("ball")!.isWorldMatrixFrozen).toBe(false);
    expect(house.isWorldMatrixFrozen).toBe(true);
    // Shadows: the sun casts, the tiny ball and the placeholder do not.
    const casters = world.shadows!.getShadowMap()!.renderList!;
    expect(casters).toContain(house);
    expect(casters).not.toContain(world.meshes.get("statue"));
    expect(bscene.clearColor.r).toBeCloseTo(0x87 / 255);
    world.dispose();
    expect(bscene.meshes.length).toBe(0);
    bscene.dispose();
    engine.dispose();
  });
});

describe("follow camera (NullEngine)", () => {
  /** A Babylon scene on a NullEngine holding one scene-file object. */
  function sceneWith(object: Record<string, unknown>) {
    const engine = new NullEngine();
    const bscene = new Scene(engine);
    const world = buildWorld(planScene(SceneSchema.parse({ ...sceneJson, objects: [object] })), bscene);
    return { bscene, world, dispose: () => { bscene.dispose(); engine.dispose(); } };
  }
  /** The camera behind a player at the origin who faces +Z (it sits at -Z), after one frame. */
  function cameraBehindOrigin(bscene: Scene): FollowCamera {
    const cam = new FollowCamera(bscene, null);
    cam.lookAlong(0);
    cam.snapTo([0, 0, 0]);
    cam.update(1 / 60, [0, 0, 0]);
    return cam;
  }

  it("comes in front of a wall between it and the player, and goes back out after", () => {
    // A wall 4 m behind the player.
    const { bscene, world, dispose } = sceneWith({ id: "wall", name: "Wall", shape: { kind: "box", size: [10, 10, 0.5] }, position: [0, 2, -4] });
    const cam = cameraBehindOrigin(bscene);
    // Chosen zoom 8 m, but the wall's near face is ~3.9 m away along the view ray.
    expect(cam.camera.radius).toBeLessThan(4);
    expect(cam.camera.radius).toBeGreaterThan(2);
    world.dispose();
    for (let i = 0; i < 120; i++) cam.update(1 / 30, [0, 0, 0]);
    expect(cam.camera.radius).toBeCloseTo(8, 1);
    expect(cam.yaw).toBeCloseTo(0);
    cam.orbit(1, 0.5); // ArrowRight for half a second
    expect(cam.yaw).toBeGreaterThan(0.5);
    dispose();
  });

  it("comes in front of a post beside the line to the player, which would fill the picture", () => {
    // A thin post 6 m behind the player, 0.45 m to one side of the camera's line: the line itself
    // misses it, the camera would sit just past it. 2 m to the side it stays out of the picture's
    // middle and the camera keeps its zoom.
    for (const [x, near, far] of [[0.45, 4.5, 6.3], [-0.45, 4.5, 6.3], [2, 7.99, 8.01]]) {
      const { bscene, dispose } = sceneWith({ id: "post", name: "Post", shape: { kind: "box", size: [0.3, 5, 0.3] }, position: [x, 2.5, -6] });
      const r = cameraBehindOrigin(bscene).camera.radius;
      expect(r, `post at x ${x}`).toBeGreaterThan(near);
      expect(r, `post at x ${x}`).toBeLessThan(far);
      dispose();
    }
  });
});
