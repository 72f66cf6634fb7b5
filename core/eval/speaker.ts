import type { CharacterCard } from "../character/schema.ts";
import { parseReply } from "../prompt/reply.ts";

// Who said this line? A multinomial naive Bayes over word unigrams and bigrams, trained per
// character on the card's own voice: greetings, sample-dialogue NPC lines and the `lines`
// templates (placeholders like {item} and tags removed). Applied to generated replies, its
// accuracy says how much each character's voice comes through. Add-one smoothing; uniform prior.

export function lineFeatures(text: string): string[] {
  const words = parseReply(text).text.toLowerCase().replace(/\{[a-z_]+\}/g, " ").match(/[\p{L}\p{N}']+/gu) ?? [];
  const feats = [...words];
  for (let i = 0; i + 1 < words.length; i++) feats.push(`${words[i]} ${words[i + 1]}`);
  return feats;
}

export function cardLines(card: CharacterCard): string[] {
  return [...card.greetings, ...card.sampleDialogue.map((e) => e.npc), ...Object.values(card.lines).flat()];
}

export class SpeakerClassifier {
  private constructor(
    readonly speakers: string[],
    private readonly logp: Map<string, number>[],
    private readonly unseen: number[],
  ) {}

  /** Trains on `lines` per speaker id. */
  static train(bySpeaker: Map<string, string[]>): SpeakerClassifier {
    if (bySpeaker.size < 2) throw new Error(`speaker classifier: need at least 2 speakers, got ${bySpeaker.size}`);
    const speakers = [...bySpeaker.keys()];
    const counts = speakers.map((s) => {
      const c = new Map<string, number>();
      for (const line of bySpeaker.get(s)!) for (const f of lineFeatures(line)) c.set(f, (c.get(f) ?? 0) + 1);
      return c;
    });
    const vocab = new Set(counts.flatMap((c) => [...c.keys()]));
    const logp: Map<string, number>[] = [];
    const unseen: number[] = [];
    counts.forEach((c) => {
      const total = [...c.values()].reduce((a, b) => a + b, 0) + vocab.size + 1;
      logp.push(new Map([...c].map(([f, n]) => [f, Math.log((n + 1) / total)])));
      unseen.push(Math.log(1 / total));
    });
    return new SpeakerClassifier(speakers, logp, unseen);
  }

  static fromCards(cards: Iterable<CharacterCard>): SpeakerClassifier {
    return SpeakerClassifier.train(new Map([...cards].map((c) => [c.id, cardLines(c)])));
  }

  /** The most likely speaker, or null for a line with no words. */
  predict(text: string): string | null {
    const feats = lineFeatures(text);
    if (feats.length === 0) return null;
    let best = -Infinity, who: string | null = null;
    this.speakers.forEach((s, k) => {
      const lp = this.logp[k];
      let score = 0;
      for (const f of feats) score += lp.get(f) ?? this.unseen[k];
      if (score > best) { best = score; who = s; }
    });
    return who;
  }
}
