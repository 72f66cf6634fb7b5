import { z } from "zod";

// Character card (adapters/<id>/character.json). One card per character; the prompt layout
// (core/prompt/) renders its persona header from it, the data engine (training/data/) writes
// training dialogue from it, the server checks the NPC's action tags against `actions`.
// Prices are whole coins. Format notes for authors: core/character/README.md.

export const MOODS = ["calm", "cheerful", "angry", "afraid", "sad"] as const;
export const Mood = z.enum(MOODS);
export type Mood = z.infer<typeof Mood>;

const Id = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "ids are lowercase letters, digits, _ and -");
const Line = z.string().min(1).max(400);

/** What a fact is about; the data engine asks different questions per topic. */
export const FACT_TOPICS = ["self", "village", "goods", "villager", "place", "lore", "rumour", "quest"] as const;

/**
 * One thing the character knows and must state correctly.
 * `text` is a neutral statement (goes into the prompt); `ask` are player questions it answers,
 * `say` are in-voice answers; `expect` are words a correct answer contains (any of them), used by
 * the evaluation suites. `about` names the villager / place / item id the fact concerns.
 */
export const Fact = z.object({
  text: Line,
  topic: z.enum(FACT_TOPICS).default("lore"),
  about: Id.optional(),
  ask: z.array(Line).max(32).default([]),
  say: z.array(Line).max(32).default([]),
  expect: z.array(z.string().min(1).max(64)).max(16).default([]),
}).strict();
export type Fact = z.infer<typeof Fact>;

/** Something the character sells or a service they offer; price in whole coins per `unit`. */
export const Good = z.object({
  item: Id,
  name: z.string().min(1).max(64),
  price: z.number().int().min(0).max(100000),
  unit: z.string().min(1).max(32).default("each"),
  /** Lowest price the character accepts when haggled. */
  floor: z.number().int().min(0).max(100000).optional(),
  service: z.boolean().default(false),
}).strict();
export type Good = z.infer<typeof Good>;

export const SpeakingStyle = z.object({
  summary: z.string().min(1).max(600),
  /** Typical sentence length in words. */
  sentenceLength: z.enum(["short", "medium", "long"]),
  /** Verbal tics: phrases the character drops into lines ("Hmph.", "mark my words"). */
  tics: z.array(z.string().min(1).max(60)).max(16).default([]),
  favouriteWords: z.array(z.string().min(1).max(40)).max(24).default([]),
  /** How the character addresses the player ("citizen", "dearie"). */
  address: z.array(z.string().min(1).max(40)).max(8).default([]),
}).strict();

export const Exchange = z.object({ player: Line, npc: Line }).strict();

export const Actions = z.object({
  emotes: z.array(Id).max(32).default([]),
  /** Item ids the character may hand over with [give:item]. */
  give: z.array(Id).max(64).default([]),
  /** Scene object ids or tags the character may walk to with [walk_to:x]. */
  walkTo: z.array(Id).max(64).default([]),
}).strict();

export const AdapterRefs = z.object({
  /** The character's own persona adapter pack (adapters/<persona>/). */
  persona: Id,
  /** Shared mood adapter packs this character may mix in. */
  moods: z.array(Id).max(16).default([]),
  skills: z.array(Id).max(16).default([]),
}).strict();

/**
 * In-voice reply lines per situation, with {slots} the data engine fills
 * ({item}, {price}, {place}, {dir}, {dist}, {name}, {address}, ...). Keys are situation names
 * (training/data/situations.ts lists them); missing ones fall back to neutral lines.
 */
export const Lines = z.record(z.string().regex(/^[a-z_]+$/), z.array(Line).min(1).max(40));

export const CharacterCard = z.object({
  $schema: z.string().optional(),
  spec: z.literal("kith-character-1").default("kith-character-1"),
  id: Id,
  name: z.string().min(1).max(64),
  role: z.string().min(1).max(64),
  /** One or two sentences: who they are, where they stand. Part of the persona core. */
  description: z.string().min(1).max(1000),
  personality: z.string().min(1).max(600),
  speakingStyle: SpeakingStyle,
  facts: z.array(z.union([Line.transform((text) => Fact.parse({ text })), Fact])).max(200),
  goods: z.array(Good).max(64).default([]),
  lore: z.string().max(4000).default(""),
  greetings: z.array(Line).min(1).max(32),
  sampleDialogue: z.array(Exchange).max(64).default([]),
  actions: Actions.default({ emotes: [], give: [], walkTo: [] }),
  moods: z.array(Mood).min(1).default(["calm"]),
  defaultMood: Mood.default("calm"),
  adapters: AdapterRefs.optional(),
  lines: Lines.default({}),
  tags: z.array(z.string().min(1).max(32)).max(32).default([]),
}).strict().superRefine((card, ctx) => {
  if (!card.moods.includes(card.defaultMood)) {
    ctx.addIssue({ code: "custom", path: ["defaultMood"], message: `"${card.defaultMood}" is not in moods [${card.moods.join(", ")}]` });
  }
  const itemIds = new Set(card.goods.map((g) => g.item));
  card.actions.give.forEach((item, i) => {
    if (card.goods.length > 0 && !itemIds.has(item)) {
      ctx.addIssue({ code: "custom", path: ["actions", "give", i], message: `"${item}" is not one of goods [${[...itemIds].join(", ")}]` });
    }
  });
  card.goods.forEach((g, i) => {
    if (g.floor !== undefined && g.floor > g.price) {
      ctx.addIssue({ code: "custom", path: ["goods", i, "floor"], message: `floor ${g.floor} is above price ${g.price}` });
    }
  });
});
export type CharacterCard = z.infer<typeof CharacterCard>;
export type CharacterCardInput = z.input<typeof CharacterCard>;

/** Thrown for a card that does not validate; the message names the source and every bad path. */
export class CharacterCardError extends Error {
  constructor(readonly source: string, readonly issues: { path: string; message: string }[]) {
    super(`${source}: invalid character card:\n` + issues.map((i) => `  at ${i.path || "(root)"}: ${i.message}`).join("\n"));
    this.name = "CharacterCardError";
  }
}

/** Validates a parsed JSON value as a card; `source` names the file in error messages. */
export function parseCharacterCard(value: unknown, source = "character card"): CharacterCard {
  const result = CharacterCard.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, ""),
    message: issue.message,
  }));
  throw new CharacterCardError(source, issues);
}

/** Parses card JSON text; syntax errors and schema errors both name `source` (the file). */
export function parseCharacterCardJson(text: string, source: string): CharacterCard {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CharacterCardError(source, [{ path: "", message: `not valid JSON: ${(err as Error).message}` }]);
  }
  return parseCharacterCard(value, source);
}
