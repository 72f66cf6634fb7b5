import { readFileSync, existsSync } from "node:fs";
import { basename } from "node:path";
import type { CharacterCard } from "../../core/character/schema.ts";
import { caseMoment, parseEvalCase, type EvalCase } from "../../core/eval/case.ts";
import { applyChecks } from "../../core/eval/checks.ts";
import type { CaseResult } from "../../core/eval/score.ts";
import { assemblePrompt, factAliases, playerInFront } from "../../core/prompt/context.ts";
import { checkFor } from "../../core/prompt/checks.ts";
import type { ReplyCheck } from "../../core/prompt/reply-check.ts";
import { parseReply } from "../../core/prompt/reply.ts";
import type { Scene } from "../../core/scene/schema.ts";
import type { CallOptions, LanguageModel } from "../../core/runtime/index.ts";
import type { FoldedLora } from "../../core/runtime/lora/mixture.ts";
import { personSolid, sightFacts } from "../../core/vision/seen.ts";
import { answersFromSight } from "../../core/vision/sight.ts";
import { voicedReply } from "./voiced.ts";
import { Scheduler } from "../../core/runtime/scheduler/scheduler.ts";
import { loadCards, loadScene } from "./world.ts";

// Runs one evaluation suite through the runtime: each case becomes the prompt the game would
// build (assemblePrompt, token counts from the model's own tokenizer), cases are generated in
// batches (one forward per step for the whole batch), replies are parsed and checked.

export function readSuite(path: string): EvalCase[] {
  if (!existsSync(path)) throw new Error(`suite ${path}: not found`);
  const cases: EvalCase[] = [];
  readFileSync(path, "utf8").split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new Error(`${path}:${i + 1}: not valid JSON (${(e as Error).message})`);
    }
    cases.push(parseEvalCase(v, `${path}:${i + 1}`));
  });
  if (cases.length === 0) throw new Error(`suite ${path}: no cases`);
  return cases;
}

export const suiteName = (path: string) => basename(path).replace(/\.jsonl$/, "");

export interface SuiteOptions {
  root: string;
  batch?: number;
  /** Sampling instead of greedy; seed + case index seeds each row. */
  sample?: { seed: number; temperature?: number; topP?: number };
  maxNewTokens?: number;
  /** Progress lines (with ETA) go here; default stderr. */
  progress?: (line: string) => void;
  /**
   * The adapter mixture for a case (the game's path: bank + gate). With it, cases are generated
   * through the continuous-batching Scheduler, each row with its own folded mixture.
   */
  mixture?: (c: EvalCase, card: CharacterCard, promptIds: number[], sight: boolean) => Promise<FoldedLora | null>;
  /**
   * Lines about sight (core/vision/sight.ts) as the server answers them by default: the props in
   * the NPC's view marked among the nearby lines (core/vision/seen.ts); `mixture` is told (its
   * `sight` argument), so it can add the skill-sight pack.
   */
  sight?: boolean;
  /** Sight replies that disagree with their answer are written this many times again (the server's `sightRetries`, 4). */
  sightRetries?: number;
  /** With `mixture`: a reply that disagrees with its text-path check (a card fact, a trade, an action, the surroundings, the gate's mood: core/prompt/checks.ts) is written this many times again (the server's `loreRetries`, 4). */
  loreRetries?: number;
}

export interface RunResult extends CaseResult {
  prompt: string;
  /** The character id of the NPC that was asked. */
  speaker: string;
  text: string;
  mood: string | null;
  actions: string[];
  /** Adapter id → weight the reply was generated with (runs with a mixture only). */
  weights?: Record<string, number>;
  /** Runs with a mixture: how the reply was checked (sight or lore), how many were written, whether the answer was said plainly, and the checks' verdict on the first reply (the model's own). */
  voiced?: { kind?: ReplyCheck["kind"]; tries: number; plain: boolean; firstFails: string[] };
}

export async function runSuite(model: LanguageModel, cases: EvalCase[], opts: SuiteOptions): Promise<RunResult[]> {
  const scenes = new Map<string, Scene>();
  const cards: Map<string, CharacterCard> = loadCards(opts.root);
  const count = (t: string) => model.tokenizer.encode(t, { addSpecialTokens: false }).length;
  const speakers: string[] = [];
  const speakerCards: CharacterCard[] = [];
  const sights: boolean[] = [];
  const prompts = cases.map((c) => {
    if (!scenes.has(c.scene)) scenes.set(c.scene, loadScene(c.scene, opts.root));
    const scene = scenes.get(c.scene)!;
    const moment = caseMoment(c, scene, cards);
    speakers.push(moment.card.id);
    speakerCards.push(moment.card);
    const sight = opts.sight === true && answersFromSight(c.say);
    sights.push(sight);
    if (!sight) return assemblePrompt(moment, count).text;
    const people = [...(moment.others ?? []), { id: "player", position: moment.playerPosition ?? playerInFront(moment.pose) }].map((e) => personSolid(e.id, e.position));
    return assemblePrompt({ ...moment, sight: sightFacts(scene.objects, moment.pose, people) }, count).text;
  });
  const B = opts.batch ?? 16;
  const log = opts.progress ?? ((l: string) => process.stderr.write(l + "\n"));
  const out: RunResult[] = [];
  const t0 = performance.now();
  const result = (k: number, text: string, weights?: Record<string, number>, voiced?: RunResult["voiced"]): RunResult => {
    const c = cases[k];
    const parsed = parseReply(text);
    return {
      id: c.id, tags: c.tags, reply: text, fails: applyChecks(parsed, c.checks), prompt: prompts[k], speaker: speakers[k],
      text: parsed.text, mood: parsed.mood, actions: parsed.actions.map((a) => `${a.kind}:${a.arg}`), ...(weights ? { weights } : {}), ...(voiced ? { voiced } : {}),
    };
  };
  if (opts.mixture) {
    const loreRetries = opts.loreRetries ?? 4;
    const sched = new Scheduler(model, { maxBatch: B, maxQueue: cases.length * (1 + Math.max(opts.sightRetries ?? 4, loreRetries)) + 1 });
    const subs = [];
    for (let k = 0; k < cases.length; k++) {
      const ids = model.encodePrompt(prompts[k]);
      const lora = await opts.mixture(cases[k], speakerCards[k], ids, sights[k]);
      const options = {
        maxNewTokens: opts.maxNewTokens ?? 64,
        ...(opts.sample ? { doSample: true, seed: opts.sample.seed + k, temperature: opts.sample.temperature ?? 0.7, topP: opts.sample.topP ?? 0.9 } : { doSample: false }),
      };
      // The reply is checked as the server checks it: a sight line's against its answer (core/vision/agree.ts),
      // any other line's by core/prompt/checks.ts (a card fact, a trade, a request to act, what is around, the gate's mood).
      const c = cases[k];
      const scene = scenes.get(c.scene)!;
      const check = checkFor(speakerCards[k], c.say, {
        prompt: prompts[k], scene, bySight: sights[k], sight: (opts.sightRetries ?? 4) > 0, text: loreRetries > 0, aliases: factAliases(scene), pick: k, state: c.state,
        weights: lora?.weights,
      });
      const voiced = voicedReply(sched, { prompt: ids, lora }, { prompt: prompts[k], say: c.say, i: k, check },
        { temperature: 0, sightRetries: opts.sightRetries ?? 4, loreRetries, maxNewTokens: options.maxNewTokens, firstOptions: options });
      subs.push(voiced.then((v) => {
        const el = (performance.now() - t0) / 1000;
        if ((k + 1) % B === 0) log(`eval: ~${k + 1}/${cases.length} cases, ${el.toFixed(0)} s`);
        return result(k, v.text, v.result.weights, { kind: v.kind, tries: v.tries, plain: v.plain, firstFails: applyChecks(parseReply(v.first), c.checks) });
      }));
    }
    const rs = await Promise.all(subs);
    await sched.close();
    log(`eval: ${rs.length}/${cases.length} cases, ${((performance.now() - t0) / 1000).toFixed(0)} s (scheduler, adapters)`);
    return rs;
  }
  for (let i = 0; i < cases.length; i += B) {
    const idx = cases.slice(i, i + B).map((_, j) => i + j);
    const callOpts: CallOptions[] = idx.map((k) => ({
      maxNewTokens: opts.maxNewTokens ?? 64,
      ...(opts.sample ? { doSample: true, seed: opts.sample.seed + k, temperature: opts.sample.temperature ?? 0.7, topP: opts.sample.topP ?? 0.9 } : { doSample: false }),
    }));
    const results = await model.generateBatch(idx.map((k) => prompts[k]), callOpts);
    results.forEach((r, j) => out.push(result(idx[j], r.text)));
    const done = out.length, el = (performance.now() - t0) / 1000;
    log(`eval: ${done}/${cases.length} cases, ${el.toFixed(0)} s, ETA ${((el / done) * (cases.length - done)).toFixed(0)} s`);
  }
  return out;
}
