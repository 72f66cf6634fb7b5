import { makeScenario } from "./sample.ts";
import { Rng } from "./rng.ts";
import type { Checks, Situation } from "./situations.ts";
import type { World } from "./world.ts";

// Evaluation suites from the held-out split: the NPC at its spawn pose, held-out phrasings or
// held-out fact/intent combinations, checks on what a correct reply contains.

export const SUITES: Record<string, string[]> = {
  persona: ["fact", "introduce", "rumour", "quest"],
  villagers_places: ["villager", "directions", "fact", "what_is", "nearby"],
  trading: ["price", "buy", "haggle", "goods_list", "repair"],
  mood: ["insult", "praise", "danger", "sad_news"],
  actions: ["emote", "point", "walk", "turn", "buy"],
  injection: ["injection", "are_you_ai", "ooc"],
};

export interface EvalCase {
  id: string;
  scene: string;
  npc: string;
  history: { role: "player" | "npc"; text: string }[];
  say: string;
  state: string;
  tags: string[];
  checks: Checks;
}

/** Up to `perSuite` cases per suite, spread over the NPCs and the suite's intents. */
export function buildEvalSuites(world: World, seed: number, perSuite: number): Record<string, EvalCase[]> {
  const out: Record<string, EvalCase[]> = {};
  for (const [suite, intents] of Object.entries(SUITES)) {
    const rng = new Rng(`evals|${suite}|${seed}`);
    const cases: EvalCase[] = [];
    const seen = new Set<string>();
    for (let attempt = 0; cases.length < perSuite && attempt < perSuite * 60; attempt++) {
      const npcIndex = attempt % world.npcs.length;
      const intent = intents[Math.floor(attempt / world.npcs.length) % intents.length];
      const sc = makeScenario(world, rng, "heldout", "", { npcIndex, intent, vary: false, noise: 0.5 });
      if (!sc) continue;
      const s: Situation = sc.situation;
      const wanted = suite === "actions" ? Boolean(s.checks.action) : s.suite === suite;
      if (!wanted || Object.keys(s.checks).length === 0) continue;
      const key = `${sc.sample.npc}|${s.sayClean.toLowerCase()}|${s.state}`;
      if (seen.has(key)) continue;
      seen.add(key);
      cases.push({
        id: `${suite}-${String(cases.length + 1).padStart(3, "0")}`,
        scene: world.sceneName,
        npc: sc.sample.npc,
        history: sc.history.map((t) => ({ role: t.role, text: t.text })),
        say: s.say,
        state: s.state,
        tags: [s.intent, s.template, `heldout:${s.heldout}`],
        checks: s.checks,
      });
    }
    out[suite] = cases;
  }
  return out;
}

/** Intents whose answers come from the prompt's nearby lines. */
export const SURROUNDINGS_INTENTS = ["nearby", "what_is", "point"];

/**
 * The "surroundings" suite: nearby questions in held-out phrasings, asked in scene variants
 * (scene-variants.ts) that no training sample was drawn in. Each variant scene is returned to be
 * written beside the suite (a case's `scene` is that file's path). A case counts only what the
 * prompt alone can tell: a reply must name a prop the variant set down ("-v" ids), never one that
 * stands in the village's own scene file or shares a name with one.
 */
export function buildSurroundingsSuite(world: World, seed: number, cases: number, scenes: number, scenePath: (k: number) => string, vary: (rng: Rng) => World["scene"]): { cases: EvalCase[]; scenes: World["scene"][] } {
  const rng = new Rng(`evals|surroundings|${seed}`);
  const out: EvalCase[] = [];
  const seen = new Set<string>();
  const variants = Array.from({ length: scenes }, () => vary(rng));
  // A name the village's own scene also uses could be answered from memory: not a check.
  const villageNames = new Set(world.scene.objects.map((o) => o.name));
  for (let attempt = 0; out.length < cases && attempt < cases * 80; attempt++) {
    const k = attempt % scenes;
    const w: World = { ...world, scene: variants[k] };
    const npcIndex = Math.floor(attempt / scenes) % world.npcs.length;
    const intent = SURROUNDINGS_INTENTS[Math.floor(attempt / (scenes * world.npcs.length)) % SURROUNDINGS_INTENTS.length];
    const sc = makeScenario(w, rng, "heldout", "", { npcIndex, intent, vary: false, noise: 0.5 });
    if (!sc) continue;
    const s = sc.situation;
    const placed = new Set(variants[k].objects.filter((o) => /-v\d+$/.test(o.id) && !villageNames.has(o.name)).map((o) => o.name));
    let checks: Checks | null = null;
    if (s.intent === "point") checks = s.checks.action && /-v\d+$/.test(s.checks.action) && sc.sample.prompt.includes(`${s.checks.action.split(":")[1]}:`) ? s.checks : null;
    else {
      // Only names the prompt lists (a long persona can push nearby lines out of the budget).
      const names = (s.checks.contains_any ?? []).filter((n) => placed.has(n) && sc.sample.prompt.includes(`: ${n},`));
      checks = names.length ? { ...s.checks, contains_any: names } : null;
    }
    if (!checks) continue;
    const key = `${k}|${sc.sample.npc}|${s.sayClean.toLowerCase()}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({
      id: `surroundings-${String(out.length + 1).padStart(3, "0")}`, scene: scenePath(k), npc: sc.sample.npc,
      history: sc.history.map((t) => ({ role: t.role, text: t.text })), say: s.say, state: s.state,
      tags: [s.intent, s.template, `heldout:${s.heldout}`], checks,
    });
  }
  return { cases: out, scenes: variants };
}
