// Scene validation: the village loads; broken files fail with messages naming file, path and problem.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseScene, SceneError } from "../core/scene/load.ts";
import { loadSceneFile, resolveSceneName } from "../server/scene-file.ts";
import { initPhysics } from "../core/movement/world.ts";
import { WorldSimulation } from "../server/world/simulation.ts";

const villageText = fs.readFileSync("scenes/village.json", "utf8");
const village = () => JSON.parse(villageText);

/** The SceneError thrown by parsing `json`, or fails the test. */
function errorOf(json: unknown, file = "scenes/broken.json"): SceneError {
  try {
    parseScene(json, file);
  } catch (err) {
    expect(err).toBeInstanceOf(SceneError);
    return err as SceneError;
  }
  throw new Error("expected a SceneError");
}

describe("village scene", () => {
  const scene = loadSceneFile("scenes/village.json");

  it("loads and has the five NPCs with their exact ids and names", () => {
    expect(scene.name).toBe("Oakhollow");
    expect(scene.npcs.map((n) => [n.id, n.character, n.name, n.role])).toEqual([
      ["brom", "brom", "Brom Ironhand", "blacksmith"],
      ["mira", "mira", "Mira Vell", "merchant"],
      ["aldric", "aldric", "Aldric Thorne", "guard"],
      ["hilde", "hilde", "Hilde Barrow", "innkeeper"],
      ["wen", "wen", "Old Wen", "herbalist"],
    ]);
    expect(scene.npcs.find((n) => n.id === "aldric")!.waypoints.length).toBeGreaterThanOrEqual(2);
  });

  it("has the village's landmarks, shapes, lights, spawns and movable props", () => {
    const tags = new Set(scene.objects.flatMap((o) => o.tags));
    for (const t of ["well", "stall", "awning", "forge", "anvil", "chimney", "tavern", "herb", "tree", "fence", "barrel", "crate", "sack", "cart", "signpost", "gate"]) {
      expect(tags.has(t), t).toBe(true);
    }
    expect(scene.objects.some((o) => o.name === "The Rusty Tankard")).toBe(true);
    expect(new Set(scene.objects.map((o) => o.shape.kind))).toEqual(new Set(["box", "cylinder", "sphere", "cone"]));
    expect(scene.objects.filter((o) => o.tags.includes("stall") && o.tags.includes("awning")).length).toBeGreaterThanOrEqual(3);
    expect(scene.objects.filter((o) => o.movable).length).toBeGreaterThanOrEqual(6);
    expect(new Set(scene.objects.map((o) => String(o.colour))).size).toBeGreaterThan(10);
    expect(scene.lights.map((l) => l.kind)).toEqual(expect.arrayContaining(["hemispheric", "directional"]));
    expect(scene.spawns.length).toBeGreaterThanOrEqual(4);
    expect(scene.ground.size).toEqual([80, 80]);
  });

  it("puts NPCs next to their places and the herb hut near the well", () => {
    const near = (id: string, tag: string, within: number) => {
      const npc = scene.npcs.find((n) => n.id === id)!;
      const d = Math.min(...scene.objects.filter((o) => o.tags.includes(tag))
        .map((o) => Math.hypot(o.position[0] - npc.position[0], o.position[2] - npc.position[2])));
      expect(d, `${id} near ${tag}`).toBeLessThan(within);
    };
    near("brom", "anvil", 3);
    near("mira", "stall", 3);
    near("aldric", "gate", 8);
    near("hilde", "tavern", 4);
    near("wen", "herb", 4);
    const hut = scene.objects.find((o) => o.id === "herb-hut")!;
    expect(Math.hypot(hut.position[0], hut.position[2])).toBeLessThan(15);
  });

  it("runs in the simulation: nobody spawns inside a collider, NPCs stand on the ground", async () => {
    await initPhysics();
    const sim = new WorldSimulation(scene);
    for (let i = 0; i < scene.spawns.length; i++) sim.addPlayer(`p${i}`, `P${i}`);
    for (let t = 0; t < 30; t++) sim.tick();
    scene.spawns.forEach((s, i) => {
      const p = sim.state.players.get(`p${i}`)!;
      // Depenetration would shove a player sideways; a free spawn leaves it where it was put.
      expect(Math.hypot(p.x - s.position[0], p.z - s.position[2]), `spawn ${i}`).toBeLessThan(0.1);
      expect(Math.abs(p.y)).toBeLessThan(0.1);
    });
    for (const npc of sim.state.npcs.values()) expect(Math.abs(npc.y)).toBeLessThan(0.01);
    sim.dispose();
  });
});

describe("broken scenes", () => {
  it("a misspelt shape kind names the path and suggests the right one", () => {
    const json = village();
    json.objects[12].shape.kind = "cilinder";
    const err = errorOf(json);
    expect(err.file).toBe("scenes/broken.json");
    expect(err.path).toBe("objects[12].shape.kind");
    expect(err.message).toContain('unknown shape kind "cilinder" — did you mean "cylinder"?');
    expect(err.message.startsWith("scenes/broken.json: objects[12].shape.kind:")).toBe(true);
  });

  it("a number given as the string \"NaN\" is refused with its path", () => {
    const json = village();
    const i = json.objects.findIndex((o: { shape: { kind: string } }) => o.shape.kind === "cylinder");
    json.objects[i].shape.radius = "NaN";
    const err = errorOf(json);
    expect(err.path).toBe(`objects[${i}].shape.radius`);
    expect(err.problem).toBe('expected a finite number, got string "NaN"');
  });

  it("several problems in one file are all named, the first leading", () => {
    const json = village();
    json.objects[3].shape.kind = "cilinder";
    json.objects[7].position[1] = "NaN";
    delete json.npcs[1].role;
    const err = errorOf(json);
    expect(err.path).toBe("objects[3].shape.kind");
    expect(err.others).toHaveLength(2);
    expect(err.message).toContain("\n  also objects[7].position[1]: expected a finite number");
    expect(err.message).toContain("\n  also npcs[1].role:");
  });

  it("a missing field is named", () => {
    const json = village();
    delete json.npcs[2].position;
    const err = errorOf(json);
    expect(err.path).toBe("npcs[2].position");
    expect(err.problem).toMatch(/missing/);
  });

  it("a duplicate id names both places", () => {
    const json = village();
    json.objects[5].id = json.objects[1].id;
    const err = errorOf(json);
    expect(err.path).toBe("objects[5].id");
    expect(err.problem).toBe(`duplicate id "${json.objects[1].id}" (already used by objects[1].id)`);
  });

  it("a misspelt field is named with a suggestion", () => {
    const json = village();
    json.objects[0].shape.raduis = 1;
    const err = errorOf(json);
    expect(err.path).toBe("objects[0].shape");
    expect(err.problem).toBe('unknown field "raduis" — did you mean "radius"?');
  });

  it("other problems: light kind, out of the ground, colour, empty spawns, bad JSON", () => {
    const light = village(); light.lights[0].kind = "hemisferic";
    expect(errorOf(light).message).toContain('lights[0].kind: unknown light kind "hemisferic" — did you mean "hemispheric"?');
    const far = village(); far.npcs[0].waypoints = [[0, 0, 0], [500, 0, 0]];
    expect(errorOf(far).message).toContain("npcs[0].waypoints[1]: [500, 0, 0] is outside the ground (80 x 80 m");
    const colour = village(); colour.objects[3].colour = "blue";
    expect(errorOf(colour).path).toBe("objects[3].colour");
    const noSpawns = village(); noSpawns.spawns = [];
    expect(errorOf(noSpawns).path).toBe("spawns");
    expect(errorOf('{"name": "x",\n  "objects": [}').message).toMatch(/^scenes\/broken\.json: invalid JSON/);
    const nan = village(); nan.objects[0].position = [0, null, 0];
    expect(errorOf(nan).message).toContain("objects[0].position[1]: expected a finite number, got null");
  });

  it("glTF sources must stay inside assets/ and exist when loading from disk", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kith-scene-"));
    const json = village();
    json.objects[0].shape = { kind: "gltf", src: "models/missing.glb", bounds: [1, 1, 1] };
    const file = path.join(dir, "gltf.json");
    fs.writeFileSync(file, JSON.stringify(json));
    expect(() => loadSceneFile(file, dir)).toThrow(/objects\[0\]\.shape\.src: asset "assets\/models\/missing\.glb" does not exist/);
    fs.mkdirSync(path.join(dir, "models"));
    fs.writeFileSync(path.join(dir, "models", "missing.glb"), "glTF");
    expect(loadSceneFile(file, dir).objects[0].shape.kind).toBe("gltf");
    json.objects[0].shape.src = "../../etc/passwd";
    expect(errorOf(json).message).toMatch(/objects\[0\]\.shape\.src: .* must be a relative path inside assets/);
  });

  it("unknown scene names list what exists", () => {
    expect(() => resolveSceneName("vilage")).toThrow(/no such scene "vilage"; available: .*village/);
    expect(() => loadSceneFile("scenes/nope.json")).toThrow(/nope\.json: file not found/);
  });
});
