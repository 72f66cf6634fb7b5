// Reads a scene from disk: scenes/<name>.json by name, or any path. Node only.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Scene } from "../core/scene/schema.ts";
import { parseScene, SceneError } from "../core/scene/load.ts";

/** Repository root (server/..). */
export const ROOT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const SCENES_DIR = path.join(ROOT_DIR, "scenes");
export const ASSETS_DIR = path.join(ROOT_DIR, "assets");

/** Loads and validates a scene file; glTF sources are checked against `assetsDir`. */
export function loadSceneFile(file: string, assetsDir = ASSETS_DIR): Scene {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SceneError(file, "", code === "ENOENT" ? "file not found" : `cannot read: ${(err as Error).message}`);
  }
  return parseScene(text, path.relative(process.cwd(), file) || file, {
    assetExists: (src) => fs.existsSync(path.join(assetsDir, src)),
  });
}

/** `village` → scenes/village.json; a value with a slash or ending in .json is taken as a path. */
export function resolveSceneName(nameOrPath: string): string {
  if (nameOrPath.includes("/") || nameOrPath.endsWith(".json")) return path.resolve(nameOrPath);
  if (!/^[a-z0-9][a-z0-9_-]*$/i.test(nameOrPath)) {
    throw new SceneError(nameOrPath, "", "scene names are letters, digits, _ and - (or give a path to a .json file)");
  }
  const file = path.join(SCENES_DIR, `${nameOrPath}.json`);
  if (!fs.existsSync(file)) {
    const available = fs.readdirSync(SCENES_DIR).filter((f) => f.endsWith(".json") && !f.endsWith(".safety.json")).map((f) => f.slice(0, -5));
    throw new SceneError(file, "", `no such scene "${nameOrPath}"; available: ${available.join(", ") || "(none)"}`);
  }
  return file;
}
