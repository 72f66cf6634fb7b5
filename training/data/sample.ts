import type { Mood } from "../../core/character/schema.ts";
import { renderCompletion, type Turn } from "../../core/prompt/layout.ts";
import type { Pose } from "../../core/prompt/nearby.ts";
import { assemblePrompt, DEFAULT_PROMPT_BUDGET, playerInFront, sceneNpcEntities } from "../../core/prompt/context.ts";
import { personSolid, sightFacts } from "../../core/vision/seen.ts";
import { nearInAnswer, readSightQuestion } from "../../core/vision/ask.ts";
import { answersFromSight } from "../../core/vision/sight.ts";
import { formatReply } from "../../core/prompt/reply.ts";
import { restateFact } from "../../core/prompt/restate.ts";
import { Rng } from "./rng.ts";
import {
  CALM_STATES, HISTORY_INTENTS, INTENT_WEIGHTS, listPhrase, makeSituation, PLAYER_NAMES, voice, type Ctx, type Situation, type Split,
} from "./situations.ts";
import type { World } from "./world.ts";

// One complete training sample: a situation placed in a scene moment (NPC pose, player position,
// state, memory, earlier turns), rendered through the one prompt layout.

/** Prompt budget in tokens: a 512-token context less room for the reply. */
export const PROMPT_BUDGET = DEFAULT_PROMPT_BUDGET;

/** Token estimate before our tokenizer exists: ~3.3 bytes per BPE token, markers one each. */
export function approxTokens(text: string): number {
  let markers = 0;
  const rest = text.replace(/<\|[a-z_]+\|>/g, () => { markers++; return ""; });
  return markers + Math.ceil(Buffer.byteLength(rest, "utf8") / 3.3);
}

export interface Sample {
  id: string;
  split: Split;
  npc: string;
  intent: string;
  template: string;
  heldout?: "template" | "combo";
  mood: Mood;
  actions: string[];
  state: string;
  say: string;
  /** Prompt text ending in <|npc|>; the loss is on `completion` only. */
  prompt: string;
  /** The NPC line with tags, ending in <|end|>. */
  completion: string;
  /** Estimated prompt tokens (approxTokens). */
  tokens: number;
}

export interface Scenario {
  sample: Sample;
  situation: Situation;
  history: Turn[];
  pose: Pose;
}

/** The NPC's pose: at its spawn, or jittered, or somewhere on its patrol route. */
function poseFor(world: World, npcIndex: number, rng: Rng, jitter: boolean): Pose {
  const npc = world.npcs[npcIndex];
  if (!jitter) return { position: npc.position, facing: npc.facing };
  if (npc.waypoints.length >= 2 && rng.chance(0.5)) {
    const i = rng.int(0, npc.waypoints.length - 1);
    const a = npc.waypoints[i];
    const b = npc.waypoints[(i + 1) % npc.waypoints.length];
    const t = rng.float();
    return { position: [a[0] + (b[0] - a[0]) * t, a[1], a[2] + (b[2] - a[2]) * t], facing: Math.atan2(b[0] - a[0], b[2] - a[2]) };
  }
  if (rng.chance(0.4)) return { position: npc.position, facing: npc.facing };
  return {
    position: [npc.position[0] + (rng.float() - 0.5), npc.position[1], npc.position[2] + (rng.float() - 0.5)],
    facing: npc.facing + (rng.float() - 0.5) * 0.8,
  };
}

export interface MakeOptions {
  /** Fix the NPC (index into world.npcs) instead of drawing one. */
  npcIndex?: number;
  intent?: string;
  /** Jitter the NPC pose and vary state/memory/history (default true); evals use false. */
  vary?: boolean;
  noise?: number;
  /** Share of training phrasings drawn from the phrase grammar (default 0: flat templates only). */
  phraseGrammar?: number;
  /** A line about sight (core/vision/sight.ts) gets the props in the NPC's view marked among its
   *  nearby lines, as the server's scene-graph sight path writes them (core/vision/seen.ts). */
  sightLines?: boolean;
  /** Share of fact, villager, rumour and quest samples whose reply is the card fact they are about,
   *  in the NPC's words (restate.ts), when retrieval put that fact in the prompt (teaches copying
   *  the answer from the prompt's fact line). */
  restateFacts?: number;
}

/** Draws one scenario. `id` is stored in the sample; returns undefined if the draw had nothing. */
export function makeScenario(world: World, rng: Rng, split: Split, id: string, options: MakeOptions = {}): Scenario | undefined {
  const vary = options.vary ?? true;
  const npcIndex = options.npcIndex ?? rng.int(0, world.npcs.length - 1);
  const npc = world.npcs[npcIndex];
  const card = world.cards.get(npc.character)!;
  const pose = poseFor(world, npcIndex, rng, vary);
  const ctx: Ctx = { world, card, npc, pose, rng, split, noise: options.noise ?? 1, phraseGrammar: options.phraseGrammar ?? 0 };
  const intent = options.intent ?? rng.weighted(INTENT_WEIGHTS);
  const situation = makeSituation(ctx, intent);
  if (!situation) return undefined;

  // Earlier turns: the situation's own (haggling after asking the price), else 0-2 exchanges.
  let history = situation.history;
  if (history.length === 0 && vary && situation.intent !== "greet") {
    const n = rng.weighted({ 0: 5, 1: 3, 2: 2 } as Record<string, number>);
    // Earlier turns always use training phrasings; a held-out sample differs in its last line.
    const hctx: Ctx = { ...ctx, split: "train" };
    for (let i = 0; i < Number(n); i++) {
      const h = makeSituation(hctx, rng.pick(HISTORY_INTENTS));
      if (h) history = [...history, { role: "player", text: h.say }, { role: "npc", text: h.reply }];
    }
  }
  const state = situation.state || (vary && rng.chance(0.3) ? rng.pick(CALM_STATES) : "");
  const memory = situation.intent === "remember_name" ? situation.memory
    : vary && rng.chance(0.25) ? `The player is called ${rng.pick(PLAYER_NAMES)}.` : "";

  // The player stands 1.5-3 m in front of the NPC, a little to one side.
  const playerPosition = playerInFront(pose, 1.5 + rng.float() * 1.5, (rng.float() - 0.5) * 1.5);
  const others = sceneNpcEntities(world.scene, npc.id).filter((e) => world.npcs.some((n) => n.id === e.id));
  const sight = options.sightLines && answersFromSight(situation.say)
    ? sightFacts(world.scene.objects, pose, [...others.map((e) => personSolid(e.id, e.position)), personSolid("player", playerPosition)])
    : undefined;
  const built = assemblePrompt({
    card, scene: world.scene, npcId: npc.id, pose, playerPosition, others,
    state, memory, history, say: situation.say, sight,
  }, approxTokens, PROMPT_BUDGET);

  let reply = situation.reply;
  if (sight && situation.intent === "nearby" && readSightQuestion(situation.say)?.t === "list") {
    // "What do you see?" on the sight path names what its answer line names: the props in sight,
    // nearest first, then the nearest other thing (core/vision/ask.ts).
    const near = nearInAnswer(built.text);
    const names = [...new Set(sight.map((s) => s.label)), ...(near ? [near] : [])];
    if (names.length) reply = formatReply(voice(ctx, "nearby", { list: listPhrase(names.map((n) => `the ${n}`)) }), situation.mood, situation.actions);
  }
  const restate = options.restateFacts ?? 0;
  if (restate > 0 && situation.fact && built.parts.facts.includes(situation.fact) && rng.chance(restate)) {
    reply = formatReply(restateFact(card, situation.fact, rng), situation.mood, situation.actions);
  }
  const sample: Sample = {
    id, split, npc: npc.id, intent: situation.intent, template: situation.template, heldout: situation.heldout,
    mood: situation.mood, actions: situation.actions.map((a) => `${a.kind}:${a.arg}`), state, say: situation.say,
    prompt: built.text, completion: renderCompletion(reply), tokens: built.tokens,
  };
  return { sample, situation, history: built.parts.history, pose };
}

export { formatReply };
