// Scene loading: JSON text or value → validated Scene, or a SceneError naming the file, the path
// inside it (e.g. `objects[12].shape.radius`) and what is wrong. Isomorphic: reading from disk
// lives in server/scene-file.ts, which passes `assetExists` so glTF references get checked.
import type { z } from "zod";
import { Scene } from "./schema.ts";
import { didYouMean } from "./suggest.ts";

export type ScenePath = ReadonlyArray<string | number>;

export class SceneError extends Error {
  constructor(
    /** File name as given by the caller (e.g. "scenes/village.json"). */
    readonly file: string,
    /** Path inside the file, "" for the whole document. */
    readonly path: string,
    /** What is wrong, in words. */
    readonly problem: string,
    /** Further problems found in the same pass, each "path: problem" (the message lists up to 9). */
    readonly others: string[] = [],
  ) {
    const more = others.slice(0, 9).map((o) => `\n  also ${o}`).join("");
    const rest = others.length > 9 ? `\n  … and ${others.length - 9} more` : "";
    super(`${file}: ${path === "" ? "" : `${path}: `}${problem}${more}${rest}`);
    this.name = "SceneError";
  }
}

export interface ParseSceneOptions {
  /** Returns whether `assets/<src>` exists; glTF sources are checked only when given. */
  assetExists?: (src: string) => boolean;
}

/** `["objects", 12, "shape", "radius"]` → `objects[12].shape.radius`. */
export function formatPath(path: ScenePath): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? part : `.${part}`;
  }
  return out;
}

/** Short description of a JSON value for error messages: `string "NaN"`, `null`, `an array`. */
function describe(value: unknown): string {
  if (value === undefined) return "nothing (the field is missing)";
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === "string") return `string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value)}`;
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}

function valueAt(root: unknown, path: ScenePath): unknown {
  let v: unknown = root;
  for (const part of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[part];
  }
  return v;
}

/** Known keys of the object schema an unrecognized key was found in (for suggestions). */
const KNOWN_KEYS: Record<string, readonly string[]> = {
  scene: ["name", "description", "ground", "sky", "timeOfDay", "objects", "lights", "spawns", "npcs", "$schema"],
  object: ["id", "name", "tags", "shape", "position", "rotation", "scale", "colour", "movable", "mass", "collider"],
  npc: ["id", "character", "name", "role", "position", "facing", "waypoints", "speed", "colour"],
  shape: ["kind", "size", "radius", "height", "src", "bounds"],
  light: ["kind", "direction", "position", "intensity", "range", "colour"],
  spawn: ["position", "facing"],
  ground: ["size", "colour"],
};

function keysFor(path: ScenePath): readonly string[] {
  const last = path[path.length - 1];
  const parent = path[path.length - 2];
  if (path.length === 0) return KNOWN_KEYS.scene;
  if (last === "shape" || last === "collider") return KNOWN_KEYS.shape;
  if (last === "ground") return KNOWN_KEYS.ground;
  if (typeof last === "number" && parent === "objects") return KNOWN_KEYS.object;
  if (typeof last === "number" && parent === "npcs") return KNOWN_KEYS.npc;
  if (typeof last === "number" && parent === "lights") return KNOWN_KEYS.light;
  if (typeof last === "number" && parent === "spawns") return KNOWN_KEYS.spawn;
  return [];
}

/** One zod issue → the words of a SceneError (without file and path). */
function problemOf(issue: z.core.$ZodIssue, input: unknown): string {
  const actual = valueAt(input, issue.path as ScenePath);
  switch (issue.code) {
    case "invalid_union": {
      const options = (issue as { options?: unknown[] }).options;
      if (Array.isArray(options) && options.length > 0) {
        const names = options.map(String);
        const field = String(issue.path[issue.path.length - 1] ?? "kind");
        const what = issue.path.includes("lights") ? "light" : issue.path.includes("collider") ? "collider" : "shape";
        const shown = typeof actual === "string" ? `"${actual}"` : describe(actual);
        return `unknown ${what} ${field} ${shown}${typeof actual === "string" ? didYouMean(actual, names) : ""} (expected one of ${names.map((n) => `"${n}"`).join(", ")})`;
      }
      return `${issue.message}; got ${describe(actual)}`;
    }
    case "invalid_type": {
      const expected = issue.expected === "number" ? "a finite number" : issue.expected === "tuple" ? "an array [x, y, z]" : `a ${issue.expected}`;
      if (typeof actual === "number" && !Number.isFinite(actual)) return `expected a finite number, got ${actual}`;
      return `expected ${expected}, got ${describe(actual)}`;
    }
    case "unrecognized_keys": {
      const known = keysFor(issue.path as ScenePath);
      return issue.keys.map((k) => `unknown field "${k}"${didYouMean(k, known)}`).join("; ");
    }
    case "too_small":
    case "too_big":
      return `${issue.message}; got ${describe(actual)}`;
    default:
      return `${issue.message}; got ${describe(actual)}`;
  }
}

/** JSON.parse with the line and column of a syntax error. */
function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const pos = /position (\d+)/.exec(message);
    if (pos) {
      const before = text.slice(0, Number(pos[1]));
      const line = before.split("\n").length;
      const column = Number(pos[1]) - before.lastIndexOf("\n");
      throw new SceneError(file, "", `invalid JSON at line ${line}, column ${column}: ${message}`);
    }
    throw new SceneError(file, "", `invalid JSON: ${message}`);
  }
}

/**
 * Validates a scene. `json` is the file's text or its parsed value; `fileName` is only used in
 * messages. Throws SceneError naming every schema problem (the first leads), else the first
 * cross-reference problem.
 */
export function parseScene(json: unknown, fileName: string, options: ParseSceneOptions = {}): Scene {
  const input = typeof json === "string" ? parseJsonText(json, fileName) : json;
  const result = Scene.safeParse(input);
  if (!result.success) {
    // The first issue leads (schema order puts the earliest field first, where a reader looks);
    // the rest follow so one edit-and-retry fixes them all.
    const [issue, ...rest] = result.error.issues;
    const others = rest.map((i) => `${formatPath(i.path as ScenePath) || "(document)"}: ${problemOf(i, input)}`);
    throw new SceneError(fileName, formatPath(issue.path as ScenePath), problemOf(issue, input), others);
  }
  const scene = result.data;
  checkReferences(scene, fileName, options);
  return scene;
}

/** Checks the schema cannot express: unique ids, things inside the ground, assets that exist. */
function checkReferences(scene: Scene, file: string, options: ParseSceneOptions): void {
  const seen = new Map<string, string>();
  const claim = (id: string, path: string) => {
    const first = seen.get(id);
    if (first !== undefined) throw new SceneError(file, path, `duplicate id "${id}" (already used by ${first})`);
    seen.set(id, path);
  };
  scene.objects.forEach((o, i) => claim(o.id, `objects[${i}].id`));
  scene.npcs.forEach((n, i) => claim(n.id, `npcs[${i}].id`));

  // Ground is centred on the origin: x in [-w/2, w/2], z in [-d/2, d/2].
  const [w, d] = scene.ground.size;
  const inside = (p: readonly number[], path: string) => {
    if (Math.abs(p[0]) > w / 2 || Math.abs(p[2]) > d / 2) {
      throw new SceneError(file, path, `[${p.join(", ")}] is outside the ground (${w} x ${d} m centred on the origin)`);
    }
  };
  scene.objects.forEach((o, i) => inside(o.position, `objects[${i}].position`));
  scene.spawns.forEach((s, i) => inside(s.position, `spawns[${i}].position`));
  scene.npcs.forEach((n, i) => {
    inside(n.position, `npcs[${i}].position`);
    n.waypoints.forEach((p, j) => inside(p, `npcs[${i}].waypoints[${j}]`));
  });

  scene.objects.forEach((o, i) => {
    if (o.shape.kind !== "gltf") return;
    const src = o.shape.src;
    const path = `objects[${i}].shape.src`;
    if (src.startsWith("/") || src.split(/[\\/]/).includes("..") || /^[a-z]+:/i.test(src)) {
      throw new SceneError(file, path, `"${src}" must be a relative path inside assets/ (no "..", no leading "/", no URL)`);
    }
    if (options.assetExists && !options.assetExists(src)) {
      throw new SceneError(file, path, `asset "assets/${src}" does not exist`);
    }
  });
}
