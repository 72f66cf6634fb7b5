import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { Scene, type NpcSpawn } from "../../core/scene/schema.ts";
import { parseCharacterCardJson, type CharacterCard } from "../../core/character/schema.ts";

// What the data engine generates from: one scene and the character cards of its NPCs.

export interface World {
  sceneName: string;
  scene: Scene;
  /** NPC spawns that have a character card, in scene order. */
  npcs: NpcSpawn[];
  cards: Map<string, CharacterCard>;
}

export function loadWorld(root: string, sceneName = "village"): World {
  const scenePath = join(root, "scenes", `${sceneName}.json`);
  if (!existsSync(scenePath)) throw new Error(`${scenePath}: scene file not found`);
  const parsed = Scene.safeParse(JSON.parse(readFileSync(scenePath, "utf8")));
  if (!parsed.success) {
    throw new Error(`${scenePath}: invalid scene:\n` + parsed.error.issues.map((i) => `  at ${i.path.join(".")}: ${i.message}`).join("\n"));
  }
  const scene = parsed.data;
  const cards = new Map<string, CharacterCard>();
  const adapters = join(root, "adapters");
  for (const dir of existsSync(adapters) ? readdirSync(adapters) : []) {
    const file = join(adapters, dir, "character.json");
    if (existsSync(file)) {
      const card = parseCharacterCardJson(readFileSync(file, "utf8"), file);
      cards.set(card.id, card);
    }
  }
  const npcs = scene.npcs.filter((n) => cards.has(n.character));
  if (npcs.length === 0) throw new Error(`${scenePath}: none of its NPCs has a card under ${adapters}/<character>/character.json`);
  return { sceneName, scene, npcs, cards };
}
