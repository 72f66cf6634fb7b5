import type { Scheduler, SchedulerRequest, SchedulerResult } from "../../core/runtime/scheduler/scheduler.ts";
import { sightReplyCheck } from "../../core/vision/agree.ts";
import { voiceAgreeing, type ReplyCheck } from "../../core/prompt/reply-check.ts";

// Replies in the grounding evaluations, voiced as the server voices them (server/dialogue/conversations.ts).

/** Greedy replies, or with `--temperature` sampled as the server samples (top-p 0.9), seeded per question. */
export function replyOptions(temperature: number, i: number, maxNewTokens = 40) {
  return temperature > 0 ? { maxNewTokens, doSample: true, temperature, topP: 0.9, seed: 1 + i } : { maxNewTokens, doSample: false };
}

/**
 * Case `i`'s reply as the server voices it: the reply is checked (core/prompt/reply-check.ts) by
 * `c.check` when given, else by the sight check when `prompt` (the text `req` carries, as text or
 * ids) has a sight answer or a summary of the view; when they disagree it is written again
 * (`sightRetries` times for sight, `loreRetries` for the others; sampled at 0.7, seeded per case and try),
 * the first that agrees is kept, else the answer said plainly in the closest reply's mood.
 * `tries` counts the replies written; `first` is the first reply's text (the model's own, before any check). `firstOptions` replace the first try's options (greedy, or
 * `temperature` seeded by `i`).
 */
export async function voicedReply(
  sched: Scheduler,
  req: Omit<SchedulerRequest, "options">,
  c: { prompt: string; say: string; i: number; check?: ReplyCheck | null },
  a: { temperature: number; sightRetries: number; loreRetries?: number; maxNewTokens?: number; firstOptions?: SchedulerRequest["options"] },
) {
  const check = c.check !== undefined ? c.check : sightReplyCheck(c.prompt, c.say);
  const retries = check === null ? 0 : check.kind === "sight" ? a.sightRetries : (a.loreRetries ?? 0);
  const once = (options: SchedulerRequest["options"]) => sched.submit({ ...req, options }).result;
  let firstText = "";
  const first = async () => {
    const r = await once(a.firstOptions ?? replyOptions(a.temperature, c.i, a.maxNewTokens));
    firstText = r.text;
    return r;
  };
  if (check === null || retries === 0) {
    const result = await first();
    return { result, text: result.text, first: firstText, tries: 1, checked: false, kind: undefined, agrees: true, plain: false };
  }
  const voice = check.voice;
  const plainly = voice === null ? undefined : (least: SchedulerResult) => ({ ...least, text: voice(least.text) });
  const v = await voiceAgreeing(first, (k) => once(replyOptions(0.7, c.i + k * 100_003, a.maxNewTokens)), check.agrees, retries, plainly);
  return { result: v.result, text: v.result.text, first: firstText, tries: v.tries, checked: true, kind: check.kind, agrees: v.disagreements.length === 0, plain: v.plain };
}

/** How often the check re-voiced a reply, how often no try agreed, and how often the answer was then said plainly. */
export function retryFigures(voiced: readonly { tries: number; checked: boolean; kind?: ReplyCheck["kind"]; agrees: boolean; plain: boolean }[], kind?: ReplyCheck["kind"]) {
  const checked = voiced.filter((v) => v.checked && (kind === undefined || v.kind === kind));
  const share = (keep: (v: (typeof checked)[number]) => boolean) => Math.round((checked.filter(keep).length / Math.max(1, checked.length)) * 10000) / 10000;
  return { checked: checked.length, revoiced: share((v) => v.tries > 1), no_try_agreed: share((v) => !v.agrees), said_plainly: share((v) => v.plain) };
}
