// Safety rule files: the default rules (server/safety/default-rules.json) plus an optional
// per-scene file (scenes/<scene>.safety.json), validated with zod, merged, and resolved for one age
// rating into the lists the filter runs. Format: server/safety/README.md.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { closest } from "../../core/scene/suggest.ts";
import { plainText, streamTokens, wordRegex } from "./normalise.ts";

export const RATINGS = ["everyone", "teen", "mature"] as const;
export type Rating = (typeof RATINGS)[number];

export const CATEGORIES = [
  "profanity", "slur", "sexual", "violence", "harassment", "illegal", "prompt-leak", "ai-claim", "link", "personal-info", "other",
] as const;
export type Category = (typeof CATEGORIES)[number];

export const DEFAULT_RULES_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), "default-rules.json");
const SCENES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "scenes");

const Name = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "rule names are lowercase letters, digits, _ and -");
const Word = z.string().min(1).max(100).refine((w) => !w.slice(1, -1).includes("*"), "* is allowed only at the start or end of a word");

const RuleSpec = z.object({
  name: Name,
  /** Why a line is blocked, in words (logged, and the reason the filter returns). */
  reason: z.string().min(1).max(200),
  category: z.enum(CATEGORIES).default("other"),
  /** Ratings at which the rule blocks. */
  ratings: z.array(z.enum(RATINGS)).min(1).default([...RATINGS]),
  /** Which side it checks: the player's line, the NPC's reply, or both. */
  on: z.array(z.enum(["input", "output"])).min(1).default(["input", "output"]),
  /** Words and phrases, matched as whole tokens with leetspeak and repeats; `*` at an end = any rest. */
  words: z.array(Word).max(2000).default([]),
  /** Regular expressions (case-insensitive, Unicode), run on the normalised text and token stream. */
  patterns: z.array(z.string().min(1).max(1000)).max(200).default([]),
}).strict().superRefine((rule, ctx) => {
  if (rule.words.length === 0 && rule.patterns.length === 0) {
    ctx.addIssue({ code: "custom", path: ["words"], message: "a rule needs words or patterns" });
  }
  rule.patterns.forEach((p, i) => {
    try {
      new RegExp(p, "iu");
    } catch (err) {
      ctx.addIssue({ code: "custom", path: ["patterns", i], message: `not a valid regular expression: ${(err as Error).message}` });
    }
  });
});
export type RuleSpec = z.infer<typeof RuleSpec>;

/** One rule file: the defaults, or a scene's overrides (every field optional there). */
export const RuleFile = z.object({
  $schema: z.string().optional(),
  rating: z.enum(RATINGS).optional(),
  maxInputChars: z.number().int().min(1).max(100_000).optional(),
  maxOutputChars: z.number().int().min(1).max(100_000).optional(),
  /** New rules; one with the name of a default rule replaces it. */
  rules: z.array(RuleSpec).max(500).default([]),
  /** Names of default rules to turn off. */
  disable: z.array(Name).max(500).default([]),
  /** Words no word rule or pattern matches in this scene (a place called "Cockfosters"). */
  allow: z.array(z.string().min(1).max(100)).max(500).default([]),
}).strict();
export type RuleFile = z.infer<typeof RuleFile>;

/** A rule ready to run. */
export interface Rule {
  name: string;
  reason: string;
  category: Category;
  /** Runs on the token stream. */
  words?: RegExp;
  /** Each runs on the plain text and on the token stream. */
  patterns: RegExp[];
}

export interface SafetyRules {
  rating: Rating;
  maxInputChars: number;
  maxOutputChars: number;
  /** Rules checked on a player's line, at this rating. */
  blockInput: Rule[];
  /** Rules checked on an NPC's reply, at this rating. */
  blockOutput: Rule[];
  /** Normalised allowed words (removed before matching). */
  allow: string[];
  /** Files read, defaults first. */
  sources: string[];
}

/** A rule file that cannot be used; the message names the file, the path inside it and the problem. */
export class SafetyRulesError extends Error {
  constructor(readonly file: string, readonly path: string, readonly problem: string) {
    super(`${file}: ${path === "" ? "" : `${path}: `}${problem}`);
    this.name = "SafetyRulesError";
  }
}

const KNOWN_KEYS: Record<string, readonly string[]> = {
  file: Object.keys(RuleFile.shape),
  rule: ["name", "reason", "category", "ratings", "on", "words", "patterns"],
};

function formatPath(p: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const part of p) out += typeof part === "number" ? `[${part}]` : out === "" ? String(part) : `.${String(part)}`;
  return out;
}

/** Parses rule-file JSON text; every problem is reported with the file and its path. */
export function parseRuleFile(text: string, file: string): RuleFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new SafetyRulesError(file, "", `not valid JSON: ${(err as Error).message}`);
  }
  const result = RuleFile.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      let message = issue.message;
      if (issue.code === "unrecognized_keys") {
        const known = issue.path.length === 0 ? KNOWN_KEYS.file : KNOWN_KEYS.rule;
        message = issue.keys.map((k) => {
          const guess = closest(k, known);
          return `unknown field "${k}"${guess ? ` — did you mean "${guess}"?` : ""} (expected one of ${known.join(", ")})`;
        }).join("; ");
      }
      return { path: formatPath(issue.path), message };
    });
    const [first, ...others] = problems;
    const more = others.map((o) => `\n  also ${o.path ? `${o.path}: ` : ""}${o.message}`).join("");
    throw new SafetyRulesError(file, first.path, first.message + more);
  }
  const names = new Set<string>();
  result.data.rules.forEach((r, i) => {
    if (names.has(r.name)) throw new SafetyRulesError(file, `rules[${i}].name`, `rule "${r.name}" appears twice`);
    names.add(r.name);
  });
  return result.data;
}

function readRuleFile(file: string, optional: boolean): RuleFile | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && optional) return undefined;
    throw new SafetyRulesError(file, "", code === "ENOENT" ? "file not found" : `cannot read: ${(err as Error).message}`);
  }
  return parseRuleFile(text, file);
}

/** `village` → <dir>/village.safety.json; a scene path `x/forest.json` → `x/forest.safety.json`. */
export function sceneRulesFile(sceneName: string, dir = SCENES_DIR): string {
  if (sceneName.includes("/") || sceneName.endsWith(".json")) return sceneName.replace(/\.json$/, "") + ".safety.json";
  return path.join(dir, `${sceneName}.safety.json`);
}

export interface LoadSafetyRulesOptions {
  /** The default rules (server/safety/default-rules.json). */
  defaultsFile?: string;
}

function checkRating(value: string, source: string): Rating {
  if ((RATINGS as readonly string[]).includes(value)) return value as Rating;
  const guess = closest(value, RATINGS);
  throw new SafetyRulesError(source, "rating", `unknown rating "${value}"${guess ? ` — did you mean "${guess}"?` : ""} (expected one of ${RATINGS.join(", ")})`);
}

/**
 * The rules for a scene at a rating: the default file, then `scenes/<scene>.safety.json` if it
 * exists (its rules replace defaults of the same name or add new ones; `disable` drops defaults;
 * `rating` and the limits replace the defaults'). `rating` given here wins over both files.
 * `dir` is where per-scene files live (default scenes/).
 */
export function loadSafetyRules(sceneName: string, rating?: string, dir?: string, options: LoadSafetyRulesOptions = {}): SafetyRules {
  const defaultsFile = options.defaultsFile ?? DEFAULT_RULES_FILE;
  const defaults = readRuleFile(defaultsFile, false)!;
  for (const key of ["rating", "maxInputChars", "maxOutputChars"] as const) {
    if (defaults[key] === undefined) throw new SafetyRulesError(defaultsFile, key, "the default rule file must set it");
  }
  const sceneFile = sceneRulesFile(sceneName, dir);
  const scene = readRuleFile(sceneFile, true);

  const byName = new Map<string, RuleSpec>(defaults.rules.map((r) => [r.name, r]));
  if (scene) {
    scene.disable.forEach((name, i) => {
      if (!byName.has(name)) {
        const guess = closest(name, [...byName.keys()]);
        throw new SafetyRulesError(sceneFile, `disable[${i}]`, `no default rule "${name}"${guess ? ` — did you mean "${guess}"?` : ""}`);
      }
      byName.delete(name);
    });
    for (const r of scene.rules) byName.set(r.name, r);
  }

  const resolvedRating = rating !== undefined ? checkRating(rating, "rating argument") : (scene?.rating ?? defaults.rating!);
  const allow = [...defaults.allow, ...(scene?.allow ?? [])].map((w) => streamTokens(plainText(w)).join(" ")).filter(Boolean);
  const active = [...byName.values()].filter((r) => r.ratings.includes(resolvedRating));
  const compiled = new Map(active.map((r) => [r.name, compileRule(r)]));
  return {
    rating: resolvedRating,
    maxInputChars: scene?.maxInputChars ?? defaults.maxInputChars!,
    maxOutputChars: scene?.maxOutputChars ?? defaults.maxOutputChars!,
    blockInput: active.filter((r) => r.on.includes("input")).map((r) => compiled.get(r.name)!),
    blockOutput: active.filter((r) => r.on.includes("output")).map((r) => compiled.get(r.name)!),
    allow,
    sources: scene ? [defaultsFile, sceneFile] : [defaultsFile],
  };
}

export function compileRule(spec: RuleSpec): Rule {
  return {
    name: spec.name,
    reason: spec.reason,
    category: spec.category,
    words: wordRegex(spec.words),
    patterns: spec.patterns.map((p) => new RegExp(p, "iu")),
  };
}
