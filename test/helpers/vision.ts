// Shared by the vision suites: a seeded random vision package for the committed base model, the
// wire form of features, test pictures, and the yard scene they play in.
import { parseScene } from "../../core/scene/load.ts";
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Writes an untrained vision package for assets/model (hidden 192, D 64) into a fresh temp folder;
 *  `detectorHidden`: with a random prop detector of that width. */
export function makeVisionPackage(seed = 1, detectorHidden = 0): string {
  const dir = join(mkdtempSync(join(tmpdir(), "kith-vision-")), "pkg");
  const det = detectorHidden > 0 ? ["--detector-hidden", String(detectorHidden)] : [];
  execFileSync("/usr/bin/python3", ["training/vision/make_package.py", "--random", "--out", dir, "--base-model", "assets/model", "--seed", String(seed), ...det], { stdio: "pipe" });
  return dir;
}

/** Features as sent: little-endian float32 bytes. */
export function featureBytes(features: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(features.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < features.length; i++) view.setFloat32(i * 4, features[i], true);
  return out;
}

/** A 64×64 RGBA picture: a sky-ish top half, ground below, and a coloured block left of centre. */
export function testImage(block: [number, number, number] = [170, 40, 33], size = 64): Uint8Array {
  const rgba = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = 4 * (y * size + x);
      const inBlock = x >= 18 && x < 30 && y >= 30 && y < 46;
      const c = inBlock ? block : y < size / 2 ? [150, 180, 215] : [90, 120, 60];
      rgba[i] = c[0];
      rgba[i + 1] = c[1];
      rgba[i + 2] = c[2];
      rgba[i + 3] = 255;
    }
  }
  return rgba;
}

/** Brom faces the spawn; a movable red barrel stands between; a landmark anvil beside him.
 *  `spawns` are player spawn points (default: one at the origin, 5 m from Brom). */
export function visionYard(spawns: [number, number, number][] = [[0, 0, 0]]) {
  return parseScene({
    name: "yard",
    ground: { size: [60, 60] },
    objects: [
      { id: "anvil", name: "anvil", tags: ["anvil"], shape: { kind: "box", size: [0.8, 0.8, 0.5] }, position: [-1.5, 0.4, 5] },
      { id: "barrel-red", name: "red barrel", tags: ["barrel", "red"], shape: { kind: "cylinder", radius: 0.45, height: 1.1 }, position: [1.6, 0.55, 3], colour: "#9e3326", movable: true, mass: 40 },
    ],
    spawns: spawns.map((position) => ({ position })),
    npcs: [{ id: "brom", character: "brom", name: "Brom Ironhand", role: "blacksmith", position: [0, 0, 5], facing: Math.PI }],
  }, "yard.json");
}
