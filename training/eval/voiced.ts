import type { Scheduler, SchedulerRequest, SchedulerResult } from "../../core/runtime/scheduler/scheduler.ts";
import { sightCheckFor, voiceAgreeing, voicePlainly } from "../../core/vision/agree.ts";

// Replies in the grounding evaluations, voiced as the server voices them (server/dialogue/conversations.ts).

/** Greedy replies, or with `--temperature` sampled as the server samples (top-p 0.9), seeded per question. */
export function replyOptions(temperature: number, i: number, maxNewTokens = 40) {
  return temperature > 0 ? { maxNewTokens, doSample: true, temperature, topP: 0.9, seed: 1 + i } : { maxNewTokens, doSample: false };
}

/**
 * Case `i`'s reply as the server voices it: when `prompt` (the text `req` carries, as text or ids)
 * has a sight answer or a summary of the view, the reply is checked against it
 * (core/vision/agree.ts: sightCheckFor) and, when they disagree, written `sightRetries` more times (sampled at 0.7, seeded per case and try); the first
 * that agrees is kept, else the one that disagrees least. `tries` counts the replies written.
 * `firstOptions` replace the first try's options (greedy, or `temperature` seeded by `i`).
 */
export async function voicedReply(
  sched: Scheduler,
  req: Omit<SchedulerRequest, "options">,
  c: { prompt: string; say: string; i: number },
  a: { temperature: number; sightRetries: number; maxNewTokens?: number; firstOptions?: SchedulerRequest["options"] },
) {
  const check = sightCheckFor(c.prompt, c.say);
  const once = (options: SchedulerRequest["options"]) => sched.submit({ ...req, options }).result;
  const first = () => once(a.firstOptions ?? replyOptions(a.temperature, c.i, a.maxNewTokens));
  if (check === null || a.sightRetries === 0) {
    const result = await first();
    return { result, text: result.text, tries: 1, checked: false, agrees: true, plain: false };
  }
  // As the server: when no try agrees, the answer said plainly in the closest reply's mood and opening words.
  const plainly = check.plainly === null ? undefined : (least: SchedulerResult) => ({ ...least, text: voicePlainly(least.text, check.plainly!) });
  const v = await voiceAgreeing(first, (k) => once(replyOptions(0.7, c.i + k * 100_003, a.maxNewTokens)), check.agrees, a.sightRetries, plainly);
  return { result: v.result, text: v.result.text, tries: v.tries, checked: true, agrees: v.disagreements.length === 0, plain: v.plain };
}

/** How often the check re-voiced a reply, how often no try agreed, and how often the answer was then said plainly. */
export function retryFigures(voiced: readonly { tries: number; checked: boolean; agrees: boolean; plain: boolean }[]) {
  const checked = voiced.filter((v) => v.checked);
  const share = (keep: (v: (typeof checked)[number]) => boolean) => Math.round((checked.filter(keep).length / Math.max(1, checked.length)) * 10000) / 10000;
  return { checked: checked.length, revoiced: share((v) => v.tries > 1), no_try_agreed: share((v) => !v.agrees), said_plainly: share((v) => v.plain) };
}
