// In-character deflections: what an NPC says instead of answering a blocked line. Lines come from
// the character card's own situations (`lines.angry`, `lines.refuse_ooc`, `lines.are_you_ai`,
// `lines.injection`, `lines.unknown`); a card without them gets a line built from its speaking
// style (tics, how it addresses the player, sentence length). Never empty.
import type { CharacterCard } from "../../core/character/schema.ts";
import { mulberry32, randomSeed } from "../../core/runtime/generate/rng.ts";

/** Card situations to draw from, by what was blocked; first with lines wins. */
const SITUATIONS: Record<string, readonly string[]> = {
  // The player said something crude or hateful: the NPC takes offence.
  offence: ["angry", "refuse_ooc"],
  // The player tried to reach the machinery, or the reply leaked it: the NPC stays itself.
  machinery: ["injection", "are_you_ai", "refuse_ooc"],
  aiClaim: ["are_you_ai", "injection", "refuse_ooc"],
  // Links, contact details, over-long or empty lines, anything else: the NPC does not follow.
  other: ["refuse_ooc", "unknown"],
  // The NPC's own reply was blocked: it loses the thread rather than blame the player.
  reply: ["unknown", "refuse_ooc"],
};

const OFFENCE = /^(profanity|slur|sexual|violence|harassment|illegal)\b/;

function situationsFor(reason: string): readonly string[] {
  const isReply = /^reply:\s*/i.test(reason);
  const rest = reason.replace(/^reply:\s*/i, "").toLowerCase();
  if (/^ai-claim\b|\b(ai|language model|chatbot)\b/.test(rest)) return SITUATIONS.aiClaim;
  if (/^prompt-leak\b|\b(marker|prompt|instruction)/.test(rest)) return SITUATIONS.machinery;
  if (isReply) return SITUATIONS.reply;
  if (OFFENCE.test(rest) || /\b(profan|slur|sexual|violen|harass|insult|illegal)/.test(rest)) return SITUATIONS.offence;
  return SITUATIONS.other;
}


function pick<T>(items: readonly T[], next: () => number): T {
  return items[Math.floor(next() * items.length) % items.length];
}

/** Fills {address} {name} {role}; undefined when the line needs a slot we cannot fill. */
function fill(line: string, card: CharacterCard, address: string): string | undefined {
  const out = line.replace(/\{(address|name|role)\}/g, (_, slot: string) =>
    slot === "address" ? address : slot === "name" ? card.name : card.role);
  if (/\{[a-z_]+\}/.test(out)) return undefined;
  return out.replace(/\s+([,.!?])/g, "$1").replace(/,\s*([.!?])/g, "$1").replace(/\s+/g, " ").trim();
}

/** A deflection built from the speaking style, for cards without suitable lines. */
function fromStyle(card: CharacterCard, reply: boolean, next: () => number): string {
  const style = card.speakingStyle;
  const tic = style.tics.length > 0 ? pick(style.tics, next) + " " : "";
  const address = style.address.length > 0 ? pick(style.address, next) : "";
  const to = address ? `, ${address}` : "";
  const bodies = reply
    ? { short: `Lost my thread. Ask again${to}.`, medium: `Where was I? Ask me that again${to}.`,
        long: `Forgive me${to}, I have quite lost my thread; ask me again, if you would.` }
    : { short: `Not that. Something else${to}.`, medium: `Let's not talk about that${to}. Ask me something else.`,
        long: `I would rather not speak of such things${to}; ask me about something else, if you would.` };
  return (tic + bodies[style.sentenceLength]).trim();
}

/**
 * What the NPC says instead of answering: a line in its own voice fitting why the line was
 * blocked. `reason` is a SafetyFilter reason ("profanity: strong profanity", "reply: ai-claim: …")
 * or any text; `seed` picks the line (random when absent). Never empty.
 */
export function deflectionLine(card: CharacterCard, reason: string, seed?: number): string {
  const gen = mulberry32(seed ?? randomSeed());
  const next = () => gen.next();
  const address = card.speakingStyle.address.length > 0 ? pick(card.speakingStyle.address, next) : "friend";
  const situations = situationsFor(String(reason ?? ""));
  for (const situation of situations) {
    const lines = (card.lines[situation] ?? []).map((l) => fill(l, card, address)).filter((l): l is string => !!l);
    if (lines.length > 0) return pick(lines, next);
  }
  return fromStyle(card, situations === SITUATIONS.reply, next);
}
