// NPC conversations end to end: a real server (createKithServer) with the committed model in its
// worker thread, real @colyseus/sdk bots. A bot walks up to Brom and asks about his work; two bots
// talk to two NPCs at once; bad chat input is refused and the room carries on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { matchMaker } from "@colyseus/core";
import { readFileSync } from "node:fs";
import { parseCharacterCardJson } from "../core/character/schema.ts";
import { parseReply } from "../core/prompt/reply.ts";
import { parseScene } from "../core/scene/load.ts";
import { createKithServer, type KithServer } from "../server/kith-server.ts";
import type { WorldRoom } from "../server/world-room.ts";
import { joinBot, listen, sleep, streamed, waitFor, walkTo, type Bot } from "./helpers/dialogue-bots.ts";

const brom = parseCharacterCardJson(readFileSync("adapters/brom/character.json", "utf8"), "brom");

// Brom's forge yard and Mira's stall 20 m apart; each bot spawns 8 m from one of them.
const scene = parseScene({
  name: "yard",
  ground: { size: [80, 80] },
  objects: [
    { id: "forge", name: "forge", tags: ["forge", "building"], shape: { kind: "box", size: [3, 2.5, 3] }, position: [-4, 1.25, 11] },
    { id: "anvil", name: "anvil", tags: ["anvil"], shape: { kind: "box", size: [0.8, 0.8, 0.5] }, position: [-1.5, 0.4, 9] },
    { id: "stall", name: "market stall", tags: ["stall"], shape: { kind: "box", size: [2, 1, 1] }, position: [23, 0.5, 10] },
  ],
  spawns: [{ position: [0, 0, 0] }, { position: [20, 0, 0] }],
  npcs: [
    { id: "brom", character: "brom", name: "Brom Ironhand", role: "blacksmith", position: [0, 0, 8], facing: Math.PI },
    { id: "mira", character: "mira", name: "Mira Vell", role: "merchant", position: [20, 0, 8], facing: Math.PI },
  ],
}, "yard.json");

let kith: KithServer;
const logs: string[] = [];

beforeAll(async () => {
  kith = await createKithServer({ port: 0, scene, earshot: 12, dialogue: { deadlineMs: 20_000, rate: { perMinute: 60, burst: 4 } }, log: (l) => logs.push(l) });
});
afterAll(async () => { await kith?.close(); });

async function serverRoom(): Promise<WorldRoom> {
  const [listing] = await matchMaker.query({ name: "world" });
  return matchMaker.getLocalRoomById(listing.roomId) as WorldRoom;
}

function checkReply(text: string, h: ReturnType<typeof listen>, reply: string) {
  expect(streamed(h, reply)).toBe(text);
  expect(parseReply(text).text).toBe(text); // no tags left in the spoken line
}

describe("NPC conversations", () => {
  it("a bot walks up to Brom and asks about his work: thinking, streamed tokens, the whole reply", async () => {
    const bot = await joinBot(kith.url, { name: "Ada" });
    const h = listen(bot);
    await walkTo(bot, 0, 8, 2.5);
    bot.send("chat", { text: "What do you make at your forge?" });
    await waitFor(() => h.replies.length === 1, 30_000, "npc_reply");
    expect(h.thinking).toHaveLength(1);
    expect(h.thinking[0]).toMatchObject({ npc: "brom", to: [bot.sessionId] });
    const r = h.replies[0];
    expect(r).toMatchObject({ npc: "brom", name: "Brom Ironhand", reply: h.thinking[0].reply, to: [bot.sessionId], fallback: false, filtered: false });
    expect(h.tokens.length).toBeGreaterThan(0);
    checkReply(r.text, h, r.reply);
    expect(r.text.length).toBeGreaterThan(0);
    expect(brom.moods).toContain(r.mood);
    for (const a of r.actions) expect(a).toMatch(/^(emote|give|walk_to|point_at|turn_to):[a-z0-9][a-z0-9_-]*$/);
    expect(h.actions.map((a) => a.action)).toEqual(r.actions);
    // Brom stopped to talk and faces the bot; the prompt held his card, the yard as it is, and the line.
    const npc = bot.state.npcs.get("brom")!;
    expect(npc.state).toBe("talk");
    const me = bot.state.players.get(bot.sessionId)!;
    const want = Math.atan2(me.x - npc.x, me.z - npc.z);
    expect(Math.abs(Math.atan2(Math.sin(npc.yaw - want), Math.cos(npc.yaw - want)))).toBeLessThan(0.2);
    const prompt = (await serverRoom()).dialogue!.lastPrompt("brom")!;
    expect(prompt).toContain("<|persona|>You are Brom Ironhand, the blacksmith.");
    expect(prompt).toMatch(/<\|near\|>[\s\S]*player: player, [\d.]+ m ahead/);
    expect(prompt).toMatch(/anvil: anvil/);
    expect(prompt.endsWith("<|player|>What do you make at your forge?<|end|>\n<|npc|>")).toBe(true);
    // The cached line-by-line token count used to fit prompts equals encoding the whole prompt.
    const rt = kith.dialogue!;
    expect(rt.countTokens(prompt)).toBe(rt.tokenizer.encode(prompt, { addSpecialTokens: false }).length);
    expect(rt.countTokens(prompt)).toBeLessThanOrEqual(512 - 48);

    // Danger in the room (a scene flag): the next prompt says so.
    const room = await serverRoom();
    room.dialogue!.threat = 1;
    room.dialogue!.threatWhat = "wolves at the gate";
    bot.send("chat", { text: "What was that noise?" });
    await waitFor(() => h.replies.length === 2, 30_000, "second npc_reply");
    room.dialogue!.threat = 0;
    const second = room.dialogue!.lastPrompt("brom")!;
    expect(second).toContain("<|state|>danger: wolves at the gate\n");
    // The first exchange, as history: the NPC turn written as the model writes one (mood tag first).
    expect(second).toContain(`<|player|>What do you make at your forge?<|end|>\n<|npc|>[mood:${r.mood}] ${r.text}`);
    await bot.leave();
  });

  it("two bots talk to two NPCs at once: both answered, the scheduler batched them", async () => {
    const a = await joinBot(kith.url, { name: "Bea" });
    const b = await joinBot(kith.url, { name: "Cid" });
    const ha = listen(a), hb = listen(b);
    const pa = a.state.players.get(a.sessionId)!, pb = b.state.players.get(b.sessionId)!;
    const [nearBrom, nearMira] = Math.abs(pa.x) < Math.abs(pb.x) ? [a, b] : [b, a];
    await Promise.all([walkTo(nearBrom, 0, 8, 3), walkTo(nearMira, 20, 8, 3)]);
    type Stats = { stats: { batchSizeHistogram: Record<string, number> } };
    const hBrom = nearBrom === a ? ha : hb, hMira = nearBrom === a ? hb : ha;
    // Two lines sent together overlap in the scheduler unless one reply is over before the other
    // starts (a one-word answer on a busy machine); up to three exchanges, one of them must batch.
    let batched = 0;
    for (let round = 1; round <= 3 && batched === 0; round++) {
      const before = (await kith.dialogue!.model.stats()) as Stats;
      nearBrom.send("chat", { text: "Good day, smith. How is the iron today?", to: "brom" });
      nearMira.send("chat", { text: "What do you sell at your stall?", to: "mira" });
      await waitFor(() => hBrom.replies.length >= round && hMira.replies.length >= round, 40_000, "both replies");
      const rBrom = hBrom.replies[round - 1], rMira = hMira.replies[round - 1];
      expect(rBrom).toMatchObject({ npc: "brom", fallback: false });
      expect(rMira).toMatchObject({ npc: "mira", fallback: false });
      checkReply(rBrom.text, hBrom, rBrom.reply);
      checkReply(rMira.text, hMira, rMira.reply);
      const after = (await kith.dialogue!.model.stats()) as Stats;
      batched = Object.entries(after.stats.batchSizeHistogram)
        .filter(([size]) => Number(size) >= 2)
        .reduce((s, [size, n]) => s + n - (before.stats.batchSizeHistogram[size] ?? 0), 0);
    }
    expect(batched).toBeGreaterThan(0);
    await a.leave();
    await b.leave();
  });

  it("empty, 10 KB, control-character and flooding lines are refused; the room keeps answering", async () => {
    const bot = await joinBot(kith.url, { name: "Dot" });
    const h = listen(bot);
    await walkTo(bot, 0, 8, 2.5);
    bot.send("chat", { text: "   " });
    bot.send("chat", { text: "x".repeat(10_000) });
    bot.send("chat", { text: "hi\u0007there" });
    bot.send("chat", { text: "hello", to: "no-such-npc" });
    await waitFor(() => h.rejected.length >= 4, 5000, "four rejections");
    expect(h.rejected.map((r) => r.reason)).toEqual([
      expect.stringMatching(/chat text is empty/),
      expect.stringMatching(/payload too large/),
      expect.stringMatching(/control characters/),
      'no NPC "no-such-npc" here',
    ]);
    await sleep(5200); // let the chat rate bucket refill (1/s, burst 5)
    const before = h.rejected.length;
    for (let i = 0; i < 12; i++) bot.send("chat", { text: `Flood line number ${i}` });
    await waitFor(() => h.rejected.length - before >= 7, 5000, "flood rejections");
    const flood = h.rejected.slice(before).map((r) => r.reason);
    expect(flood.some((r) => /rate limit/.test(r))).toBe(true);
    expect(flood.some((r) => /still answering you/.test(r))).toBe(true); // at most 2 lines of one player wait
    expect(flood.some((r) => /talking too fast for Brom Ironhand/.test(r))).toBe(true); // 4 lines at once per player at most
    // Brom answers what he kept (one at a time, in order), and then a fresh line.
    await waitFor(() => h.replies.length >= 3, 60_000, "replies to the kept flood lines");
    await sleep(1500);
    bot.send("chat", { text: "Sorry about that. Do you sell horseshoes?", to: "brom" });
    await waitFor(() => h.replies.some((r) => h.thinking.length >= 4 && r.reply === h.thinking.at(-1)!.reply), 30_000, "reply after the flood");
    for (const r of h.replies) checkReply(r.text, h, r.reply);
    expect(logs.some((l) => /\[world\] rejected .* chat: .*chat text is empty/.test(l))).toBe(true);
    await bot.leave();
  });
});
