// NPC views with the real model in its worker thread: a bot's view of Brom goes into his reply as
// 16 visual tokens spliced into the decoder's inputs (a reply, not a fallback: the runtime took
// the image); a view older than 15 s is not used; pictures sent by a game that cannot run the
// encoder are encoded in the server's worker thread, in batches, to the tokens the features of
// the same encoder give.
import { rmSync } from "node:fs";
import { dirname } from "node:path";
import { matchMaker } from "@colyseus/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeBackend } from "../core/runtime/backend-node.ts";
import { nodePackageFiles } from "../core/runtime/model/files-node.ts";
import { DEFAULT_LIMITS } from "../core/protocol/limits.ts";
import { rgbaToPixels, VisionEncoder } from "../core/vision/encoder.ts";
import { loadVisionPackage } from "../core/vision/manifest.ts";
import { Projector } from "../core/vision/projector.ts";
import { createKithServer, type KithServer } from "../server/kith-server.ts";
import type { WorldRoom } from "../server/world-room.ts";
import { joinBot, listen, waitFor, walkTo, type Bot } from "./helpers/dialogue-bots.ts";
import { featureBytes, makeVisionPackage, testImage, visionYard } from "./helpers/vision.ts";

const scene = visionYard();

let pkgDir: string;
let kith: KithServer;
let bot: Bot;
let h: ReturnType<typeof listen>;
const logs: string[] = [];

beforeAll(async () => {
  pkgDir = makeVisionPackage(11);
  kith = await createKithServer({
    port: 0, scene, vision: { dir: pkgDir }, log: (l) => logs.push(l),
    dialogue: { deadlineMs: 30_000, temperature: 0, maxNewTokens: 24, rate: null, sight: "eyes" }, // the eyes' path, whatever the package records
  });
  expect(kith.vision, logs.join("\n")).toBeDefined();
  bot = await joinBot(kith.url, { name: "Ada" });
  h = listen(bot);
  await walkTo(bot, 0, 5, 2.5);
}, 180_000);

afterAll(async () => {
  await bot?.leave();
  await kith?.close();
  if (pkgDir) rmSync(dirname(pkgDir), { recursive: true, force: true });
});

async function room(): Promise<WorldRoom> {
  const [listing] = await matchMaker.query({ name: "world" });
  return matchMaker.getLocalRoomById(listing.roomId) as WorldRoom;
}

async function ask(text: string) {
  const n = h.replies.length;
  bot.send("chat", { text, to: "brom" });
  await waitFor(() => h.replies.length > n, 60_000, "npc_reply");
  return h.replies[n];
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe("NPC views with the real model", { timeout: 120_000 }, () => {
  it("a view older than 15 s is not used: Brom talks blind, the barrel back among his nearby facts", async () => {
    const r = await room();
    r.npcViews!.set("brom", { tokens: new Float32Array(16 * 192), at: Date.now() - 16_000, from: bot.sessionId, source: "features" });
    const reply = await ask("What do you see?");
    expect(reply.fallback).toBe(false);
    expect(r.dialogue!.lastImage("brom")).toBeNull();
    expect(r.dialogue!.lastPrompt("brom")).not.toContain("<|image|>");
    expect(r.dialogue!.lastPrompt("brom")).toMatch(/barrel-red: red barrel/);
  });

  it("Brom answers with the bot's view in his prompt: 16 visual tokens spliced in by the runtime", async () => {
    const r = await room();
    const f = Float32Array.from({ length: 64 * 64 }, (_, i) => Math.sin(i * 0.11) * 2);
    bot.send("npc_view", { npc: "brom", features: featureBytes(f) });
    await waitFor(() => r.npcViews!.latest("brom") !== undefined, 5000, "view stored");
    const reply = await ask("What do you see?");
    expect(reply).toMatchObject({ npc: "brom", fallback: false, filtered: false });
    expect(reply.text.length).toBeGreaterThan(0);
    expect(r.dialogue!.lastImage("brom")).toBe(r.npcViews!.latest("brom")!.tokens);
    expect(r.dialogue!.lastPrompt("brom")).toMatch(/\n(<\|image\|>){16}\n<\|near\|>/);
    expect(logs.filter((l) => /fallback|reply failed/.test(l))).toEqual([]);
  });

  it("pictures: encoded in the worker thread (a burst in one batch) to the tokens of the same encoder's features, within 1e-4", async () => {
    const r = await room();
    const pkg = await loadVisionPackage(pkgDir, nodePackageFiles);
    const encoder = await VisionEncoder.create(pkg, nodeBackend({ threads: 1 }));
    const projector = new Projector(pkg);
    const colours: [number, number, number][] = [[170, 40, 33], [40, 60, 170], [200, 190, 60]];
    const runsBefore = kith.vision!.encodeRuns.length;
    // The burst must fit the view rate limit: let the earlier test's view refill the bucket.
    const rate = DEFAULT_LIMITS.rates.view;
    await new Promise((r) => setTimeout(r, (1000 * rate.capacity) / rate.perSecond));
    for (const c of colours) bot.send("npc_view", { npc: "brom", image: testImage(c) });
    await waitFor(() => kith.vision!.encodeRuns.length - runsBefore >= colours.length, 10_000, `three images encoded (refused: ${JSON.stringify(h.rejected)})`);
    await waitFor(() => r.npcViews!.latest("brom")?.source === "image", 5000, "image view stored");
    // The last picture sent is the view kept; its tokens match the features path.
    const last = testImage(colours[colours.length - 1]);
    const expected = projector.project(await encoder.encode(rgbaToPixels(last), 1));
    expect(maxDiff(r.npcViews!.latest("brom")!.tokens, expected)).toBeLessThan(1e-4);
    // And a reply goes out with them.
    const reply = await ask("What colour is it?");
    expect(reply.fallback).toBe(false);
    expect(r.dialogue!.lastImage("brom")).toBe(r.npcViews!.latest("brom")!.tokens);
    const runs = kith.vision!.encodeRuns.slice(runsBefore);
    console.log(JSON.stringify({ encodeRuns: runs, projectMs: kith.vision!.projectMs.slice(-6) }));
    expect(h.rejected).toEqual([]);
    await encoder.release();
  });
});
