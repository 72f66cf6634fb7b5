import { z } from "zod";
import { CharacterCardError, parseCharacterCard, type CharacterCard, type CharacterCardInput } from "./schema.ts";

// Importer for SillyTavern "Character Card V2" JSON (spec "chara_card_v2", spec_version "2.0").
// Field mapping (V2 -> ours):
//   data.name -> name; data.description (+ scenario) -> description / lore; data.personality ->
//   personality; data.first_mes + data.alternate_greetings -> greetings; data.mes_example
//   (<START> blocks of {{user}}:/{{char}}: lines) -> sampleDialogue; data.character_book.entries
//   (enabled ones) -> facts (keys become the fact's `expect` words); data.tags -> tags;
//   data.extensions.kith (an object) -> merged over the result, so authors can add what V2 lacks
//   (goods, actions, moods, speakingStyle...). {{char}} becomes the name, {{user}} "you".

const BookEntry = z.object({
  keys: z.array(z.string()).default([]),
  content: z.string(),
  enabled: z.boolean().default(true),
  name: z.string().optional(),
  comment: z.string().optional(),
}).passthrough();

const V2Data = z.object({
  name: z.string().min(1, "the card needs a name"),
  description: z.string().default(""),
  personality: z.string().default(""),
  scenario: z.string().default(""),
  first_mes: z.string().default(""),
  mes_example: z.string().default(""),
  creator_notes: z.string().default(""),
  system_prompt: z.string().default(""),
  post_history_instructions: z.string().default(""),
  alternate_greetings: z.array(z.string()).default([]),
  character_book: z.object({ entries: z.array(BookEntry).default([]) }).passthrough().optional(),
  tags: z.array(z.string()).default([]),
  creator: z.string().default(""),
  character_version: z.string().default(""),
  extensions: z.record(z.string(), z.unknown()).default({}),
}).passthrough();

const V2Card = z.object({
  spec: z.literal("chara_card_v2"),
  spec_version: z.string().optional(),
  data: V2Data,
}).passthrough();

export interface ImportOptions {
  /** Our id for the character; default: the name in lowercase with non-letters as "-". */
  id?: string;
  /** Our role; default: extensions.kith.role, else the first tag, else "villager". */
  role?: string;
  source?: string;
}

/** Splits mes_example into player/NPC pairs. Lines start with "{{user}}:" or "{{char}}:"; a
 * message runs until the next speaker line; <START> separates conversations. */
export function parseMesExample(mes: string, charName: string): { player: string; npc: string }[] {
  const pairs: { player: string; npc: string }[] = [];
  const userRe = /^\s*(\{\{user\}\}|<USER>)\s*:\s*/i;
  const charRe = new RegExp(`^\\s*(\\{\\{char\\}\\}|<BOT>|${escapeRe(charName)})\\s*:\\s*`, "i");
  for (const block of mes.split(/<START>/i)) {
    const messages: { who: "player" | "npc"; text: string }[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (userRe.test(line)) messages.push({ who: "player", text: line.replace(userRe, "") });
      else if (charRe.test(line)) messages.push({ who: "npc", text: line.replace(charRe, "") });
      else if (messages.length > 0 && line.trim()) messages[messages.length - 1].text += " " + line.trim();
    }
    for (let i = 0; i + 1 < messages.length; i++) {
      if (messages[i].who === "player" && messages[i + 1].who === "npc") {
        pairs.push({ player: messages[i].text.trim(), npc: messages[i + 1].text.trim() });
        i++;
      }
    }
  }
  return pairs.filter((p) => p.player && p.npc);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 64) || "character";
}

/** Average words per sentence of the NPC's sample lines, bucketed like SpeakingStyle.sentenceLength. */
function sentenceLength(lines: string[]): "short" | "medium" | "long" {
  const sentences = lines.flatMap((l) => l.split(/[.!?]+/).map((s) => s.trim()).filter(Boolean));
  if (sentences.length === 0) return "medium";
  const words = sentences.reduce((n, s) => n + s.split(/\s+/).length, 0) / sentences.length;
  return words < 7 ? "short" : words < 15 ? "medium" : "long";
}

/** Converts a parsed V2 card (JSON value) into our card; throws CharacterCardError naming paths. */
export function importCharacterCardV2(value: unknown, options: ImportOptions = {}): CharacterCard {
  const source = options.source ?? "SillyTavern V2 card";
  const parsed = V2Card.safeParse(value);
  if (!parsed.success) {
    throw new CharacterCardError(source, parsed.error.issues.map((i) => ({
      path: i.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, ""),
      message: i.message,
    })));
  }
  const d = parsed.data.data;
  const macros = (s: string) => s.replace(/\{\{char\}\}/gi, d.name).replace(/\{\{user\}\}/gi, "you").trim();
  // Our lines are capped at 400 characters (a tiny model's context is 512 tokens).
  const clip = (s: string) => (s.length > 400 ? s.slice(0, 397) + "..." : s);
  const kith = (d.extensions.kith && typeof d.extensions.kith === "object" ? d.extensions.kith : {}) as Record<string, unknown>;
  const samples = parseMesExample(d.mes_example, d.name).map((p) => ({ player: clip(macros(p.player)), npc: clip(macros(p.npc)) })).slice(0, 64);
  const facts = (d.character_book?.entries ?? [])
    .filter((e) => e.enabled && e.content.trim())
    .slice(0, 200).map((e) => ({ text: clip(macros(e.content)), topic: "lore" as const, expect: e.keys.filter(Boolean).map((k) => k.slice(0, 64)).slice(0, 16) }));
  const greetings = [d.first_mes, ...d.alternate_greetings].map(macros).filter(Boolean).map(clip).slice(0, 32);
  const card: CharacterCardInput = {
    id: options.id ?? slug(d.name),
    name: d.name,
    role: options.role ?? (typeof kith.role === "string" ? kith.role : d.tags[0] ?? "villager"),
    description: macros(d.description).slice(0, 1000) || `${d.name}.`,
    personality: macros(d.personality).slice(0, 600) || "Not described.",
    speakingStyle: {
      summary: macros(d.personality).slice(0, 600) || "Plain speech.",
      sentenceLength: sentenceLength(samples.map((s) => s.npc)),
    },
    facts,
    lore: [macros(d.scenario), macros(d.creator_notes)].filter(Boolean).join("\n\n").slice(0, 4000),
    greetings: greetings.length > 0 ? greetings : [`Hello. I am ${d.name}.`],
    sampleDialogue: samples,
    tags: d.tags.map((t) => t.slice(0, 32)).filter(Boolean).slice(0, 32),
  };
  const { role: _role, ...overrides } = kith;
  return parseCharacterCard({ ...card, ...overrides }, source);
}
