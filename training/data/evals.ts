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
