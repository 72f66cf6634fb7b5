// Shared by the vision suites: a seeded random vision package for the committed base model, the
// wire form of features, and test pictures.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Writes an untrained vision package for assets/model (hidden 192, D 64) into a fresh temp folder. */
export function makeVisionPackage(seed = 1): string {
  const dir = join(mkdtempSync(join(tmpdir(), "kith-vision-")), "pkg");
  execFileSync("/usr/bin/python3", ["training/vision/make_package.py", "--random", "--out", dir, "--base-model", "assets/model", "--seed", String(seed)], { stdio: "pipe" });
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
