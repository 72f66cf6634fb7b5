import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseCharacterCardJson, type CharacterCard } from "../../core/character/schema.ts";

// Character cards for the conversations: adapters/<folder>/character.json, by character id.
// A broken card stops the server with the card error (it names the file and every bad path).

export function loadCharacterCards(adaptersDir: string): Map<string, CharacterCard> {
  const cards = new Map<string, CharacterCard>();
  for (const d of existsSync(adaptersDir) ? readdirSync(adaptersDir).sort() : []) {
    const file = join(adaptersDir, d, "character.json");
    if (!existsSync(file)) continue;
    const card = parseCharacterCardJson(readFileSync(file, "utf8"), file);
    cards.set(card.id, card);
  }
  return cards;
}
