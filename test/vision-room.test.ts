// NPC views with the real model in its worker thread: a bot's view of Brom goes into his reply as
// 16 visual tokens spliced into the decoder's inputs (a reply, not a fallback: the runtime took
// the image); a view older than 15 s is not used; pictures sent by a game that cannot run the
// encoder are encoded in the server's worker thread, in batches, to the tokens the features of
// the same encoder give.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeBackend } from "../core/runtime/backend-node.ts";
import { nodePackageFiles } from "../core/runtime/model/files-node.ts";
import { DEFAULT_LIMITS } from "../core/protocol/limits.ts";
import { rgbaToPixels, VisionEncoder } from "../core/vision/encoder.ts";
import { loadVisionPackage } from "../core/vision/manifest.ts";
import { Projector } from "../core/vision/projector.ts";
import type { KithServer } from "../server/kith-server.ts";
import { waitFor, type Bot, type Heard } from "./helpers/dialogue-bots.ts";
import { askNpc, featureBytes, testImage, visionYardServer, worldRoom } from "./helpers/vision.ts";

let yard: Awaited<ReturnType<typeof visionYardServer>>;
let pkgDir: string;
let kith: KithServer;
let bot: Bot;
let h: Heard;
let logs: string[];

beforeAll(async () => {
  yard = await visionYardServer({ seed: 11, maxNewTokens: 24 });
  ({ pkgDir, kith, bot, h, logs } = yard);
}, 180_000);
afterAll(() => yard?.close());

const room = worldRoom;
const ask = (text: string) => askNpc(bot, h, text);

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
