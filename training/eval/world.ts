import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseCharacterCardJson, type CharacterCard } from "../../core/character/schema.ts";
import { parseScene } from "../../core/scene/load.ts";
import type { Scene } from "../../core/scene/schema.ts";

// Scenes and character cards for evaluation, read from the repository layout:
// scenes/<name>.json (or a path to a scene file) and adapters/<character>/character.json.

export function loadScene(ref: string, root: string): Scene {
  const path = /[\\/]|\.json$/.test(ref) ? resolve(root, ref) : join(root, "scenes", `${ref}.json`);
  if (!existsSync(path)) throw new Error(`scene "${ref}": ${path} not found`);
  return parseScene(readFileSync(path, "utf8"), path);
}

/** Every card under <root>/adapters, by character id. */
export function loadCards(root: string): Map<string, CharacterCard> {
  const cards = new Map<string, CharacterCard>();
  const dir = join(root, "adapters");
  for (const d of existsSync(dir) ? readdirSync(dir) : []) {
    const file = join(dir, d, "character.json");
    if (existsSync(file)) {
      const card = parseCharacterCardJson(readFileSync(file, "utf8"), file);
      cards.set(card.id, card);
    }
  }
  return cards;
}
