// Input and output filters for NPC dialogue: a player's line is checked before it reaches the
// model, the NPC's reply before it reaches players. Rules come from rule files (rules.ts) resolved
// for the scene's age rating; matching runs on normalised text (normalise.ts). A blocked line is
// logged with its reason and answered with an in-character deflection (deflect.ts).
// Format and configuration: server/safety/README.md.
import type { CharacterCard } from "../../core/character/schema.ts";
import { deflectionLine } from "./deflect.ts";
import { normalise } from "./normalise.ts";
import type { Category, Rule, SafetyRules } from "./rules.ts";

export { loadSafetyRules, parseRuleFile, sceneRulesFile, SafetyRulesError, RATINGS, CATEGORIES, DEFAULT_RULES_FILE } from "./rules.ts";
export type { Rule, SafetyRules, Rating, Category, RuleFile } from "./rules.ts";
export { deflectionLine } from "./deflect.ts";
export { DialogueRateLimiter } from "./rate-limit.ts";
export type { DialogueRateLimitOptions } from "./rate-limit.ts";

export type Side = "input" | "output";

/** Why a line was blocked. `reason` reads "<category>: <rule reason>", prefixed "reply: " for output. */
export type SafetyVerdict =
  | { ok: true }
  | { ok: false; reason: string; rule: string; category: Category | "length" | "empty" };

export interface SafetyFilterOptions {
  /** Gets one line per blocked item: side, rule, reason and the matched text. */
  log?: (line: string) => void;
}

/** How much of a matched piece of text goes into the log. */
const LOG_MATCH_CHARS = 60;

export class SafetyFilter {
  private readonly allow: RegExp | undefined;

  constructor(readonly rules: SafetyRules, private readonly options: SafetyFilterOptions = {}) {
    this.allow = rules.allow.length > 0
      ? new RegExp(`(?<= )(?:${rules.allow.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")})(?= )`, "gu")
      : undefined;
  }

  /** Checks a player's line before it goes to the model. */
  checkInput(text: string): SafetyVerdict {
    return this.check("input", text, this.rules.maxInputChars, this.rules.blockInput);
  }

  /** Checks an NPC's reply before players see it. */
  checkOutput(text: string): SafetyVerdict {
    return this.check("output", text, this.rules.maxOutputChars, this.rules.blockOutput);
  }

  /** The NPC's in-character line instead of a blocked one (deflectionLine). */
  deflect(card: CharacterCard, reason: string, seed?: number): string {
    return deflectionLine(card, reason, seed);
  }

  private check(side: Side, text: unknown, maxChars: number, rules: readonly Rule[]): SafetyVerdict {
    const prefix = side === "output" ? "reply: " : "";
    if (typeof text !== "string") return this.block(side, { name: "not-text", category: "empty", reason: `${prefix}empty: not text` }, typeof text);
    if (text.trim() === "") return this.block(side, { name: "empty", category: "empty", reason: `${prefix}empty: nothing said` }, "");
    if ([...text].length > maxChars) {
      return this.block(side, { name: "too-long", category: "length", reason: `${prefix}length: longer than ${maxChars} characters` }, `${[...text].length} characters`);
    }
    let { plain, stream } = normalise(text);
    if (this.allow) {
      stream = stream.replace(this.allow, "");
      plain = ` ${plain} `.replace(this.allow, "").trim();
    }
    for (const rule of rules) {
      const hit = (rule.words && stream.match(rule.words)?.[0]) ?? firstMatch(rule.patterns, plain, stream);
      if (hit !== undefined) {
        return this.block(side, { name: rule.name, category: rule.category, reason: `${prefix}${rule.category}: ${rule.reason}` }, hit);
      }
    }
    return { ok: true };
  }

  private block(side: Side, rule: { name: string; category: Category | "length" | "empty"; reason: string }, matched: string): SafetyVerdict {
    const shown = matched.length > LOG_MATCH_CHARS ? matched.slice(0, LOG_MATCH_CHARS) + "…" : matched;
    this.options.log?.(`[safety] ${side} blocked by ${rule.name} (${rule.reason}): ${JSON.stringify(shown)}`);
    return { ok: false, reason: rule.reason, rule: rule.name, category: rule.category };
  }
}

function firstMatch(patterns: readonly RegExp[], plain: string, stream: string): string | undefined {
  for (const p of patterns) {
    const m = plain.match(p) ?? stream.match(p);
    if (m) return m[0];
  }
  return undefined;
}
