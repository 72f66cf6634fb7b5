// When the model cannot answer: a model that throws, a busy worker, a deadline of 1 ms (with the
// real model in its worker): the NPC says an in-character fallback line with fallback: true and
// the room carries on. Also: actions of a reply end to end (a give that lands in the inventory and
// an invalid one skipped with ok: false), and a shutdown that drains a reply still generating.
import { afterAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { parseCharacterCardJson } from "../core/character/schema.ts";
import { ChunkQueue } from "../core/runtime/generate/chunk-queue.ts";
import type { StreamChunk } from "../core/runtime/generate/row.ts";
import { BusyError, type SchedulerResult } from "../core/runtime/scheduler/scheduler.ts";
import { parseScene } from "../core/scene/load.ts";
import type { ReplyModel } from "../server/dialogue/ports.ts";
import { createKithServer, type KithServer } from "../server/kith-server.ts";
import { joinBot, listen, sleep, streamed, waitFor, walkTo } from "./helpers/dialogue-bots.ts";

const brom = parseCharacterCardJson(readFileSync("adapters/brom/character.json", "utf8"), "brom");

const scene = parseScene({
  name: "yard",
  ground: { size: [40, 40] },
  objects: [{ id: "well", name: "well", tags: ["well"], shape: { kind: "cylinder", radius: 1, height: 1 }, position: [6, 0.5, 6] }],
  spawns: [{ position: [0, 0, 0] }],
  npcs: [
    { id: "brom", character: "brom", name: "Brom Ironhand", role: "blacksmith", position: [0, 0, 5], facing: Math.PI },
    { id: "aldric", character: "aldric", name: "Aldric Thorne", role: "guard", position: [-4, 0, 2], speed: 1, waypoints: [[-4, 0, 2], [-4, 0, 6]] },
  ],
}, "yard.json");

/**
 * A stand-in for the worker whose behaviour the test picks: "throw" (the result rejects),
 * "busy" (BusyError, as the worker reports a full queue), a scripted reply streamed in pieces,
 * several scripted replies one per request, "hang" (streams nothing until aborted) or "wedged" (never
 * answers, not even an abort: a dead worker).
 */
class ScriptedModel implements ReplyModel {
  mode: "throw" | "busy" | "hang" | "wedged" | { reply: string } | { replies: string[] } = "throw";
  /** The options of each request, in order. */
  submitted: NonNullable<Parameters<ReplyModel["submit"]>[0]["options"]>[] = [];
  submit(req: Parameters<ReplyModel["submit"]>[0]) {
    const chunks = new ChunkQueue<StreamChunk>();
    this.submitted.push(req.options ?? {});
    // { replies }: one reply per request, in order (the last one repeats).
    const mode = typeof this.mode === "object" && "replies" in this.mode
      ? { reply: (this.mode.replies.length > 1 ? this.mode.replies.shift() : this.mode.replies[0])! }
      : this.mode;
    const result = (async (): Promise<SchedulerResult> => {
      const base = { tokens: [], weights: {}, versions: {}, promptTokens: (req.prompt as number[]).length, timings: { queueMs: 0, ttftMs: 0, totalMs: 0, decodeTokensPerSecond: 0 } };
      if (mode === "throw") { const e = new Error("onnxruntime: simulated kernel failure"); chunks.fail(e); throw e; }
      if (mode === "busy") { const e = new BusyError("queue-full", "busy: 64 requests already waiting (maxQueue 64)"); chunks.fail(e); throw e; }
      if (mode === "wedged") return new Promise<SchedulerResult>(() => undefined);
      if (mode === "hang") {
        await new Promise<void>((r) => req.signal?.addEventListener("abort", () => r(), { once: true }));
        chunks.end();
        return { ...base, text: "", finish: "abort" };
      }
      const pieces = mode.reply.match(/.{1,3}/gs) ?? [];
      for (const [i, text] of pieces.entries()) {
        chunks.push({ token: i, text });
        await new Promise((r) => setTimeout(r, 5));
      }
      chunks.end();
      return { ...base, text: mode.reply, finish: "stop" };
    })();
    result.catch(() => undefined);
    return { chunks, result };
  }
  async stats() { return {}; }
  async close() {}
}

const scripted = new ScriptedModel();
let kith: KithServer | undefined;
const logs: string[] = [];

afterAll(async () => { await kith?.close(); });

async function askBrom(text: string) {
  const bot = await joinBot(kith!.url, { name: "Eve" });
  const h = listen(bot);
  await walkTo(bot, 0, 5, 2.5);
  bot.send("chat", { text, to: "brom" });
  await waitFor(() => h.replies.length === 1, 20_000, "npc_reply");
  return { bot, h, r: h.replies[0] };
}

describe("fallbacks and actions (scripted model)", () => {
  it("a model that throws: the fallback line from the card, fallback: true, the error logged", async () => {
    kith = await createKithServer({ port: 0, scene, dialogue: { model: scripted, drainMs: 300, rate: null, quietSeconds: 1, deadlineMs: 1500 }, log: (l) => logs.push(l) });
    scripted.mode = "throw";
    const { bot, h, r } = await askBrom("Hello there!");
    expect(r).toMatchObject({ npc: "brom", fallback: true, filtered: false, mood: brom.defaultMood, actions: [] });
    expect(brom.lines.unknown).toContain(r.text);
    expect(streamed(h, r.reply)).toBe(r.text);
    expect(logs.some((l) => /\[dialogue\] brom → eve .*fallback line, Error: onnxruntime: simulated kernel failure/.test(l))).toBe(true);
    await bot.leave();
  });

  it("a busy worker: fallback too, and the next line is answered normally", async () => {
    scripted.mode = "busy";
    const { bot, h, r } = await askBrom("Are you open?");
    expect(r.fallback).toBe(true);
    expect(logs.some((l) => /fallback line, BusyError: busy/.test(l))).toBe(true);
    scripted.mode = { reply: "[mood:calm] Aye. Open." };
    bot.send("chat", { text: "Good.", to: "brom" });
    await waitFor(() => h.replies.length === 2, 20_000, "second reply");
    expect(h.replies[1]).toMatchObject({ text: "Aye. Open.", fallback: false, mood: "calm" });
    await bot.leave();
  });

  it("a worker that never answers: the backstop ends the wait after the deadline + 1 s with the fallback line", async () => {
    scripted.mode = "wedged";
    const t0 = Date.now();
    const { bot, h, r } = await askBrom("Hello?");
    expect(r.fallback).toBe(true);
    expect(Date.now() - t0).toBeGreaterThan(2500);
    expect(streamed(h, r.reply)).toBe(r.text);
    expect(logs.some((l) => /fallback line, no answer within the 1500 ms deadline \(\+1 s\): the model worker did not respond/.test(l))).toBe(true);
    await bot.leave();
  });

  it("actions end to end: a valid give lands in the inventory, invalid ones are skipped with ok: false", async () => {
    scripted.mode = { reply: "[mood:cheerful] Here. Good iron. [give:nails] [give:dragon] [walk_to:moon]" };
    const { bot, h, r } = await askBrom("I'll buy a bag of nails.");
    expect(r).toMatchObject({ text: "Here. Good iron.", mood: "cheerful", actions: ["give:nails", "give:dragon", "walk_to:moon"], fallback: false });
    expect(streamed(h, r.reply)).toBe("Here. Good iron.");
    await waitFor(() => h.actions.length === 3);
    expect(h.actions).toEqual([
      { npc: "brom", reply: r.reply, action: "give:nails", ok: true },
      { npc: "brom", reply: r.reply, action: "give:dragon", ok: false, reason: expect.stringMatching(/not something Brom Ironhand gives/) },
      { npc: "brom", reply: r.reply, action: "walk_to:moon", ok: false, reason: expect.stringMatching(/not one of Brom Ironhand's places/) },
    ]);
    await waitFor(() => bot.state.players.get(bot.sessionId)!.inventory.get("nails") === 1, 3000, "nails in the inventory");
    expect(logs.some((l) => /action give:dragon skipped/.test(l))).toBe(true);
    await bot.leave();
  });

  it("a sight reply that disagrees with its worked-out answer is written again at once; the first that agrees is said whole, else the answer plainly", async () => {
    // Nothing but a well in the yard: the answer line is "no barrels".
    scripted.mode = { replies: ["[mood:calm] Two barrels. By the well.", "[mood:calm] Three.", "[mood:calm] None. No barrels here.", "[mood:calm] One barrel."] };
    scripted.submitted = [];
    const { bot, h, r } = await askBrom("how many barrels do you see?");
    expect(r).toMatchObject({ text: "None. No barrels here.", fallback: false, filtered: false, mood: "calm" });
    expect(streamed(h, r.reply)).toBe(r.text);
    expect(scripted.submitted).toHaveLength(5); // the first, then the four retries at once
    expect(scripted.submitted[0]).toMatchObject({ doSample: true, temperature: 0.2 });
    expect(scripted.submitted.slice(1).every((o) => o.doSample && o.temperature === 0.7)).toBe(true);
    expect(logs.some((l) => /brom → eve: sight reply written 5 times$/.test(l))).toBe(true);
    // No try agrees: the answer is said plainly, in the mood and opening words of the reply that
    // disagreed least, and what that reply got wrong is logged.
    scripted.mode = { replies: ["[mood:calm] Two barrels, a red crate.", "[mood:angry] Two barrels.", "[mood:calm] A crate."] };
    bot.send("chat", { text: "how many barrels now?", to: "brom" });
    await waitFor(() => h.replies.length === 2, 20_000, "second reply");
    expect(h.replies[1]).toMatchObject({ text: "No barrels.", mood: "angry", fallback: false });
    expect(streamed(h, h.replies[1].reply)).toBe("No barrels.");
    expect(logs.filter((l) => /sight reply written 5 times, said plainly/.test(l))).toEqual(["[dialogue] brom → eve: sight reply written 5 times, said plainly: every try names a barrel the answer does not; says 2, the answer is 0"]);
    // Any other line streams as before: one request.
    scripted.mode = { reply: "[mood:calm] Aye." };
    scripted.submitted = [];
    bot.send("chat", { text: "Fine day.", to: "brom" });
    await waitFor(() => h.replies.length === 3, 20_000, "third reply");
    expect(scripted.submitted).toHaveLength(1);
    await bot.leave();
  });

  it("a reply to a question a card fact answers that does not say it is written again; when no try does, the fact in the card's words", async () => {
    const fact = brom.facts.find((f) => f.expect.includes("thirty"))!; // "Brom has worked the Oakhollow forge for thirty years."
    scripted.mode = { replies: ["[mood:calm] Ore cart's late.", "[mood:calm] Hmph.", "[mood:calm] Thirty years, lad.", "[mood:calm] Aye."] };
    scripted.submitted = [];
    const { bot, h, r } = await askBrom("so how long have you been smithing?");
    expect(r).toMatchObject({ text: "Thirty years, lad.", fallback: false, mood: "calm" });
    expect(streamed(h, r.reply)).toBe(r.text);
    expect(scripted.submitted).toHaveLength(5);
    expect(logs.some((l) => /brom → eve: lore reply written 5 times$/.test(l))).toBe(true);
    // No try says it: one of the fact's own lines, in the mood of the closest reply.
    scripted.mode = { replies: ["[mood:angry] Hmph. Busy."] };
    bot.send("chat", { text: "been at that forge long, then?", to: "brom" });
    await waitFor(() => h.replies.length === 2, 20_000, "second reply");
    expect(fact.say).toContain(h.replies[1].text);
    expect(h.replies[1]).toMatchObject({ mood: "angry", fallback: false });
    expect(logs.some((l) => /lore reply written 5 times, said plainly: every try does not say thirty or 30/.test(l))).toBe(true);
    // A reply that says it is kept as written, one request; so is any line that asks no fact.
    scripted.mode = { reply: "[mood:calm] Thirty winters." };
    scripted.submitted = [];
    bot.send("chat", { text: "how long have you worked this forge?", to: "brom" });
    await waitFor(() => h.replies.length === 3, 20_000, "third reply");
    expect(h.replies[2].text).toBe("Thirty winters.");
    scripted.mode = { reply: "[mood:calm] Aye. Good day." };
    bot.send("chat", { text: "fine weather for it, eh", to: "brom" });
    await waitFor(() => h.replies.length === 4, 20_000, "fourth reply");
    expect(scripted.submitted).toHaveLength(2);
    await bot.leave();
  });

  it("a request to act gets the action's tag, and a question about the surroundings the nearby lines' answer", async () => {
    // "Wave at me" answered in words alone, every try: the card's emote line with the tag.
    scripted.mode = { reply: "[mood:calm] Aye." };
    scripted.submitted = [];
    const { bot, h, r } = await askBrom("go on, wave at me");
    expect(scripted.submitted).toHaveLength(5);
    expect(r.actions).toEqual(["emote:wave"]);
    expect(brom.lines.emote).toContain(r.text);
    expect(logs.some((l) => /brom → eve: act reply written 5 times, said plainly: every try no \[emote:wave\]/.test(l))).toBe(true);
    // "Where's the well?" (east of Brom in this yard): a later try that says so is the one said.
    scripted.mode = { replies: ["[mood:calm] That way. West.", "[mood:calm] Hmph.", "[mood:calm] Well's east. Five metres.", "[mood:calm] Aye."] };
    bot.send("chat", { text: "where's the well, smith?", to: "brom" });
    await waitFor(() => h.replies.length === 2, 20_000, "second reply");
    expect(h.replies[1].text).toBe("Well's east. Five metres.");
    expect(logs.some((l) => /brom → eve: near reply written 5 times$/.test(l))).toBe(true);
    await bot.leave();
  });

  it("safety: a reply that claims to be an AI is cut before the claim reaches players and deflected in character", async () => {
    scripted.mode = { reply: "[mood:calm] Hmph. I am just a language model, lad. Ask me anything." };
    const { bot, h, r } = await askBrom("What are you?");
    expect(r).toMatchObject({ filtered: true, fallback: false, actions: [] });
    expect(r.text).not.toMatch(/language model/);
    expect(r.text.length).toBeGreaterThan(0);
    expect(streamed(h, r.reply)).not.toMatch(/language model/);
    expect(logs.some((l) => /brom → eve: output filtered \(.*\); deflected/.test(l))).toBe(true);
    await bot.leave();
  });

  it("safety: a crude line is deflected in character without reaching the model", async () => {
    scripted.mode = "throw"; // a model call would show as a fallback line instead
    const { bot, r } = await askBrom("fuck off, smith");
    expect(r).toMatchObject({ filtered: true, fallback: false });
    // One of the card's own angry / out-of-character lines, its {address} slot filled.
    const pool = [...brom.lines.angry, ...brom.lines.refuse_ooc].map((l) => new RegExp("^" + l.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[a-z_]+\}/g, "\\w+") + "$"));
    expect(pool.some((re) => re.test(r.text))).toBe(true);
    expect(logs.some((l) => /brom ← eve: input filtered/.test(l))).toBe(true);
    await bot.leave();
  });

  it("two players talk to Brom at once: one reply at a time, in turn; players out of earshot hear none of it", async () => {
    scripted.mode = { reply: "[mood:calm] Aye. One at a time." };
    const a = await joinBot(kith!.url, { name: "Ida" });
    const b = await joinBot(kith!.url, { name: "Jon" });
    const far = await joinBot(kith!.url, { name: "Kim" });
    const ha = listen(a), hb = listen(b), hf = listen(far);
    await Promise.all([walkTo(a, 0, 5, 2.5), walkTo(b, 0, 5, 2.5), walkTo(far, 0, -17, 0.5)]); // far: 22 m from Brom (earshot 20)
    a.send("chat", { text: "First!", to: "brom" });
    b.send("chat", { text: "Me too!", to: "brom" });
    await waitFor(() => ha.replies.length === 2 && hb.replies.length === 2, 10_000, "both replies heard by both");
    // Both players near Brom hear both replies; the first line's reply ends before the second starts.
    const [r1, r2] = ha.replies;
    expect(r1.to).toEqual([a.sessionId]);
    expect(r2.to).toEqual([b.sessionId]);
    expect(ha.order).toEqual([`thinking ${r1.reply}`, `reply ${r1.reply}`, `thinking ${r2.reply}`, `reply ${r2.reply}`]);
    expect(hb.order).toEqual(ha.order);
    expect(streamed(ha, r2.reply)).toBe("Aye. One at a time.");
    await sleep(300);
    expect(hf.thinking.length + hf.tokens.length + hf.replies.length).toBe(0);
    await Promise.all([a.leave(), b.leave(), far.leave()]);
  });

  it("a patrolling NPC stops to talk, faces the speaker, and walks on after a quiet spell", async () => {
    scripted.mode = { reply: "[mood:calm] Move along, citizen." };
    const bot = await joinBot(kith!.url, { name: "Gus" });
    const h = listen(bot);
    const aldric = () => bot.state.npcs.get("aldric")!;
    expect(aldric().state).toBe("patrol");
    bot.send("chat", { text: "Good evening, guard.", to: "aldric" });
    await waitFor(() => h.replies.length === 1, 10_000, "npc_reply");
    expect(h.replies[0]).toMatchObject({ npc: "aldric", text: "Move along, citizen." });
    await waitFor(() => aldric().state === "talk", 2000, "talk state");
    const held = { x: aldric().x, z: aldric().z };
    await new Promise((r) => setTimeout(r, 400));
    expect(Math.hypot(aldric().x - held.x, aldric().z - held.z)).toBeLessThan(0.01); // stands still
    await waitFor(() => aldric().state === "patrol", 5000, "back on patrol");
    await waitFor(() => Math.hypot(aldric().x - held.x, aldric().z - held.z) > 0.3, 5000, "walking again");
    await bot.leave();
  });

  it("shutdown drains: a reply still generating is aborted after drainMs and the server closes", async () => {
    scripted.mode = "hang";
    const bot = await joinBot(kith!.url, { name: "Fay" });
    const h = listen(bot);
    await walkTo(bot, 0, 5, 2.5);
    bot.send("chat", { text: "Tell me a long story.", to: "brom" });
    await waitFor(() => h.thinking.length === 1, 5000, "npc_thinking");
    const t0 = Date.now();
    await kith!.close();
    kith = undefined;
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(logs.some((l) => /shutdown: aborting 1 replies still generating after 300 ms/.test(l))).toBe(true);
  });
});

describe("deadline (real model in the worker)", () => {
  it("a 1 ms deadline: the NPC says its fallback line, fallback: true", async () => {
    kith = await createKithServer({ port: 0, scene, dialogue: { deadlineMs: 1 }, log: (l) => logs.push(l) });
    const { bot, h, r } = await askBrom("What do you make here?");
    expect(r.fallback).toBe(true);
    expect(brom.lines.unknown).toContain(r.text);
    expect(streamed(h, r.reply)).toBe(r.text);
    expect(logs.some((l) => /fallback line, deadline 1 ms passed before any word/.test(l))).toBe(true);
    await bot.leave();
  });
});
