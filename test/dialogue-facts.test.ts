// Grounding in the card: asked about his work, Brom answers with what his card says. A bot stands
// at Brom's forge and asks three of his card's own `ask` questions (greedy decoding, so the run is
// repeatable); each reply must contain one of that fact's `expect` words (thirty / Garrick / Old
// Temper). This measures the model, not the plumbing: it needs a model trained on the cards, and
// the lore check (which would say the card's line when the model does not) is off.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { parseCharacterCardJson } from "../core/character/schema.ts";
import { parseScene } from "../core/scene/load.ts";
import { createKithServer, type KithServer } from "../server/kith-server.ts";
import { joinBot, listen, waitFor, walkTo } from "./helpers/dialogue-bots.ts";

const brom = parseCharacterCardJson(readFileSync("adapters/brom/character.json", "utf8"), "brom");
const scene = parseScene(readFileSync("scenes/village.json", "utf8"), "scenes/village.json");

let kith: KithServer;
beforeAll(async () => {
  kith = await createKithServer({ port: 0, scene, dialogue: { temperature: 0, rate: null, deadlineMs: 30_000, loreRetries: 0 } });
});
afterAll(async () => { await kith?.close(); });

describe("Brom's replies carry his card's facts", () => {
  const questions = [
    { ask: "how long have you worked this forge?", fact: brom.facts.find((f) => f.expect.includes("thirty"))! },
    { ask: "who taught you smithing?", fact: brom.facts.find((f) => f.expect.includes("Garrick"))! },
    { ask: "does your hammer have a name?", fact: brom.facts.find((f) => f.expect.includes("Old Temper"))! },
  ];

  it("asked about his work at the forge, each reply states the fact asked about", async () => {
    const bot = await joinBot(kith.url, { name: "Tam", playerKey: "facts-test-tam" });
    const h = listen(bot);
    const npc = scene.npcs.find((n) => n.id === "brom")!;
    // Stand 2 m in front of him.
    await walkTo(bot, npc.position[0] + 2 * Math.sin(npc.facing), npc.position[2] + 2 * Math.cos(npc.facing), 0.6, 30_000);
    const answers: { ask: string; reply: string; ok: boolean }[] = [];
    for (const q of questions) {
      bot.send("chat", { text: q.ask, to: "brom" });
      await waitFor(() => h.replies.length === answers.length + 1, 40_000, "npc_reply");
      const reply = h.replies.at(-1)!.text;
      answers.push({ ask: q.ask, reply, ok: q.fact.expect.some((w) => reply.toLowerCase().includes(w.toLowerCase())) });
      await new Promise((r) => setTimeout(r, 1100)); // chat rate: one line a second
    }
    console.log(answers.map((a) => `${a.ok ? "ok " : "MISS"} ${a.ask} → ${a.reply}`).join("\n"));
    expect(answers.filter((a) => !a.ok)).toEqual([]);
    await bot.leave();
  }, 180_000);
});
