import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { parseScene } from "../../core/scene/load.ts";
import type { NpcSpawn, Scene } from "../../core/scene/schema.ts";
import type { CharacterCard } from "../../core/character/schema.ts";
import { loadCards } from "../eval/world.ts";

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
  const scene = parseScene(readFileSync(scenePath, "utf8"), scenePath);
  const cards = loadCards(root);
  const adapters = join(root, "adapters");
  const npcs = scene.npcs.filter((n) => cards.has(n.character));
  if (npcs.length === 0) throw new Error(`${scenePath}: none of its NPCs has a card under ${adapters}/<character>/character.json`);
  return { sceneName, scene, npcs, cards };
}
