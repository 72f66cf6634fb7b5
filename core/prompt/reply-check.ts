// A reply checked against what its prompt says answers the player's line, and written again when
// they disagree. The checks: sight (core/vision/agree.ts: a reply about the props in view against
// the worked-out sight answer), lore (lore-check.ts: a question a card fact answers, against that
// fact; trade-check.ts: prices, sales, offers, the goods), act (act-check.ts: a request to act the
// card allows, against the action's tag), near (near-check.ts: what is around, against the
// nearby lines) and mood (mood-check.ts: the mood tag against the gate's mood). checks.ts picks the
// one for a line. The server and the evaluations voice replies
// through `voiceAgreeing` alike.

/** How a reply to one line is checked, and what is said when no written reply agrees. */
export interface ReplyCheck {
  /** Which check: the log and the evaluations count them apart. */
  kind: "sight" | "lore" | "act" | "near" | "mood";
  /** What in `reply` disagrees with the answer (empty: it agrees). */
  agrees: (reply: string) => string[];
  /** The answer in the voice of the reply that came closest (its mood and, where safe, its opening words); null: keep that reply. */
  voice: ((least: string) => string) | null;
}

/** The mood tag a reply opens with ("[mood:calm]"), if any. */
export function moodTagOf(reply: string): string | undefined {
  return /^\s*(\[mood:[a-z_]+\])/i.exec(reply)?.[1];
}

/** A generation voiced, checked against the answer: the reply kept, how many were written, what still disagrees, whether it is the answer said plainly. */
export interface Voiced<R> {
  result: R;
  tries: number;
  disagreements: string[];
  plain: boolean;
}

/**
 * The first reply that agrees: `first()` alone, and when it disagrees `retries` more written at once
 * (`again(k)`, k = 1..retries, sampled: a different wording, the same answer); the first of them that
 * agrees is kept. When none does: `plainly(least)` if given (the answer said plainly, made from the
 * reply that disagrees least), else that reply itself (the first on a tie), with what still disagrees.
 */
export async function voiceAgreeing<R extends { text: string }>(
  first: () => Promise<R>,
  again: (k: number) => Promise<R>,
  check: (text: string) => string[],
  retries: number,
  plainly?: (least: R) => R,
): Promise<Voiced<R>> {
  const r0 = await first();
  const d0 = check(r0.text);
  if (d0.length === 0 || retries <= 0) return { result: r0, tries: 1, disagreements: d0, plain: false };
  // A retry that fails (a busy worker, a deadline) only drops out: the first reply still stands.
  const more = (await Promise.allSettled(Array.from({ length: retries }, (_, i) => again(i + 1)))).flatMap((x) => (x.status === "fulfilled" ? [x.value] : []));
  let best: Voiced<R> = { result: r0, tries: 1 + retries, disagreements: d0, plain: false };
  for (const r of more) {
    const d = check(r.text);
    if (d.length < best.disagreements.length) best = { result: r, tries: 1 + retries, disagreements: d, plain: false };
    if (d.length === 0) return best;
  }
  return plainly ? { result: plainly(best.result), tries: best.tries, disagreements: best.disagreements, plain: true } : best;
}
