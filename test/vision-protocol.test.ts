// The `npc_view` message: the validator's shape checks, the per-client rate, the server's feature
// checks (exact size for its encoder, finite, within ±feature_limit), the ViewStore; then a real
// Colyseus server (a recording stand-in for the model worker) where a bot's view reaches the NPC's
// reply request as visual tokens, and every kind of bad view is refused while the room carries on.
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { matchMaker } from "@colyseus/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseClientMessage, DEFAULT_LIMITS, VIEW_IMAGE_BYTES } from "../core/protocol/index.ts";
import { ChunkQueue } from "../core/runtime/generate/chunk-queue.ts";
import type { StreamChunk } from "../core/runtime/generate/row.ts";
import type { SchedulerResult } from "../core/runtime/scheduler/scheduler.ts";
import { ClientGuard } from "../server/client-guard.ts";
import type { ReplyModel } from "../server/dialogue/ports.ts";
import { createKithServer, type KithServer } from "../server/kith-server.ts";
import { staticFiles } from "../server/static-files.ts";
import { nodeBackend } from "../core/runtime/backend-node.ts";
import { rgbaToPixels, VisionEncoder } from "../core/vision/encoder.ts";
import { Projector } from "../core/vision/projector.ts";
import { ViewStore } from "../server/vision/view-store.ts";
import { VisionRuntime } from "../server/vision/vision-runtime.ts";
import type { WorldRoom } from "../server/world-room.ts";
import { joinBot, listen, waitFor, walkTo, type Bot } from "./helpers/dialogue-bots.ts";
import { featureBytes, makeVisionPackage, testImage, visionYard } from "./helpers/vision.ts";

const FEATURES = 64 * 64; // 8×8 cells × D 64 (the test package)

describe("npc_view validator (core/protocol)", () => {
  const ok = (payload: unknown) => parseClientMessage("npc_view", payload);
  const reason = (payload: unknown) => {
    const r = ok(payload);
    return r.ok ? "accepted" : r.reason;
  };

  it("takes features or an image as binary bytes (a Node Buffer too)", () => {
    expect(ok({ npc: "brom", features: new Uint8Array(FEATURES * 4) })).toMatchObject({ ok: true, type: "npc_view" });
    expect(ok({ npc: "brom", image: new Uint8Array(VIEW_IMAGE_BYTES) })).toMatchObject({ ok: true, type: "npc_view" });
    expect(ok({ npc: "brom", features: Buffer.alloc(FEATURES * 4) }).ok).toBe(true);
  });

  it("refuses the wrong shapes, naming what is wrong", () => {
    expect(reason({ npc: "brom" })).toBe("npc_view: expected exactly one of `features` or `image`");
    expect(reason({ npc: "brom", features: new Uint8Array(256), image: new Uint8Array(VIEW_IMAGE_BYTES) })).toBe("npc_view: expected exactly one of `features` or `image`");
    expect(reason({ npc: "brom", image: new Uint8Array(100) })).toBe("npc_view.image: expected 16384 bytes (64×64 RGBA), got 100");
    expect(reason({ npc: "brom", features: new Uint8Array(1000) })).toMatch(/^npc_view\.features: expected 64·D float32 .* got 1000 bytes$/);
    expect(reason({ npc: "brom", features: new Uint8Array(0) })).toMatch(/got 0 bytes$/);
    expect(reason({ npc: "brom", features: Array.from({ length: 256 }, () => 0) })).toBe("npc_view.features: expected binary bytes (a Uint8Array)");
    expect(reason({ npc: "../etc", image: new Uint8Array(VIEW_IMAGE_BYTES) })).toBe("npc_view.npc: npc_view `npc` must be an NPC id");
    expect(reason({ npc: "brom", image: new Uint8Array(VIEW_IMAGE_BYTES), extra: 1 })).toMatch(/^npc_view: Unrecognized key/);
    expect(reason({ npc: "brom", features: new Uint8Array(70_000) })).toBe(`npc_view: payload too large (over ${DEFAULT_LIMITS.maxViewPayloadBytes} bytes)`);
    // The mirrored picture's features come with the features, the same size.
    expect(ok({ npc: "brom", features: new Uint8Array(FEATURES * 4), mirror: new Uint8Array(FEATURES * 4) })).toMatchObject({ ok: true, type: "npc_view" });
    expect(reason({ npc: "brom", features: new Uint8Array(FEATURES * 4), mirror: new Uint8Array(256) })).toBe("npc_view.mirror: `mirror` comes with `features`, the same size");
    expect(reason({ npc: "brom", image: new Uint8Array(VIEW_IMAGE_BYTES), mirror: new Uint8Array(256) })).toBe("npc_view.mirror: `mirror` comes with `features`, the same size");
    // Other messages keep their small limit.
    expect(parseClientMessage("chat", { text: "x", pad: new Uint8Array(2000) })).toMatchObject({ ok: false, reason: "chat: payload too large (over 1024 bytes)" });
  });

  it("rate: a burst of 3, then 2 per second", () => {
    const t = 1_000_000;
    const guard = new ClientGuard(DEFAULT_LIMITS, t);
    expect([0, 1, 2].map(() => guard.admit("npc_view", t))).toEqual([undefined, undefined, undefined]);
    expect(guard.admit("npc_view", t)).toBe("rate limit: more than 2 npc_view messages per second (burst 3)");
    expect(guard.admit("npc_view", t + 500)).toBeUndefined();
    expect(guard.admit("npc_view", t + 500)).toMatch(/rate limit/);
    // Views do not use up chat's bucket.
    expect(guard.admit("chat", t + 500)).toBeUndefined();
  });
});

describe("ViewStore", () => {
  const view = (at: number, source: "features" | "image" = "features") => ({ tokens: new Float32Array([at]), at, from: "p", source });

  it("a view is fresh for 15 s; an older view landing late does not replace a newer one", () => {
    const store = new ViewStore();
    store.set("brom", view(1000));
    expect(store.fresh("brom", 1000 + 15_000)?.at).toBe(1000);
    expect(store.fresh("brom", 1000 + 15_001)).toBeUndefined();
    store.set("brom", view(3000));
    store.set("brom", view(2000, "image")); // an image sent before, encoded after
    expect(store.latest("brom")).toMatchObject({ at: 3000, source: "features" });
  });

  it("settled() waits for a view being encoded, and no longer than it is told", async () => {
    const store = new ViewStore();
    let land!: () => void;
    store.track("brom", new Promise<void>((r) => (land = r)).then(() => store.set("brom", view(5))));
    const waiting = store.settled("brom", 60_000).then((landed) => ({ landed, at: store.latest("brom")?.at }));
    land();
    expect(await waiting).toEqual({ landed: true, at: 5 });
    expect(await store.settled("wen", 20)).toBe(true); // nothing in progress
    store.track("mira", new Promise<void>(() => undefined)); // never lands
    expect(await store.settled("mira", 20)).toBe(false);
    expect(store.latest("mira")).toBeUndefined();
  });
});

let pkgDir: string;
let vision: VisionRuntime;
/** The projector on this thread, to check what the server's worker thread made. */
let projector: Projector;

beforeAll(async () => {
  pkgDir = makeVisionPackage(7);
  vision = await VisionRuntime.create({ dir: pkgDir });
  projector = new Projector(vision.pkg);
}, 120_000);

afterAll(async () => {
  await vision?.close();
  if (pkgDir) rmSync(dirname(pkgDir), { recursive: true, force: true });
});

describe("loading the vision package (server/vision)", () => {
  it("a missing, damaged or mismatched package is one log line and no vision, never a crash", async () => {
    const lines: string[] = [];
    expect(await VisionRuntime.open({ dir: "/nonexistent/vision" }, undefined, (l) => lines.push(l))).toBeNull();
    expect(lines.at(-1)).toBe("[vision] NPCs will talk without seeing: /nonexistent/vision/vision.json: no vision package here (vision.json missing)");
    const broken = join(dirname(pkgDir), "broken");
    cpSync(pkgDir, broken, { recursive: true });
    writeFileSync(join(broken, "projector.safetensors"), readFileSync(join(pkgDir, "projector.safetensors")).subarray(0, 1000));
    expect(await VisionRuntime.open({ dir: broken }, undefined, (l) => lines.push(l))).toBeNull();
    expect(lines.at(-1)).toMatch(/^\[vision\] NPCs will talk without seeing: .*broken\/projector\.safetensors: truncated safetensors file/);
    expect(await VisionRuntime.open({ dir: pkgDir }, { hiddenSize: 576, baseHash: vision.pkg.manifest.base_model }, (l) => lines.push(l))).toBeNull();
    expect(lines.at(-1)).toMatch(/hidden 192 does not match the language model's hidden size 576/);
    expect(await VisionRuntime.open({ dir: pkgDir }, { hiddenSize: 192, baseHash: "0123456789abcdef" }, (l) => lines.push(l))).toBeNull();
    expect(lines.at(-1)).toContain(`trained for base model ${vision.pkg.manifest.base_model}, this server runs 0123456789abcdef`);
  });
});

describe("feature checks (server/vision)", () => {
  it("an image from a receive buffer is copied to the encoder thread; the buffer stays usable", async () => {
    const socketBuffer = Buffer.alloc(VIEW_IMAGE_BYTES + 100);
    socketBuffer.set(testImage(), 40);
    const { features, tokens } = await vision.encodeImage(socketBuffer.subarray(40, 40 + VIEW_IMAGE_BYTES));
    expect(features.length).toBe(FEATURES);
    expect(tokens.length).toBe(16 * 192);
    expect(socketBuffer.byteLength).toBe(VIEW_IMAGE_BYTES + 100); // not detached
    expect(Array.from(socketBuffer.subarray(40, 44))).toEqual(Array.from(testImage().subarray(0, 4)));
  });


  it("decodes little-endian float32 at any offset of the receive buffer", () => {
    const f = Float32Array.from({ length: FEATURES }, (_, i) => Math.sin(i) * 7.5);
    const wire = featureBytes(f);
    const shifted = Buffer.alloc(wire.length + 3);
    shifted.set(wire, 3);
    const d = vision.decodeFeatures(shifted.subarray(3));
    expect(d.ok && Array.from(d.features)).toEqual(Array.from(f));
  });

  it("refuses a wrong size, a value that is not finite, a value past ±feature_limit", () => {
    const f = new Float32Array(FEATURES);
    expect(vision.decodeFeatures(featureBytes(f.subarray(0, 32 * 64)))).toEqual({ ok: false, reason: "features: expected 16384 bytes (8×8×64 float32), got 8192" });
    f[10] = NaN;
    expect(vision.decodeFeatures(featureBytes(f))).toEqual({ ok: false, reason: "features: value 10 is not finite (NaN)" });
    f[10] = -Infinity;
    expect(vision.decodeFeatures(featureBytes(f))).toMatchObject({ ok: false, reason: expect.stringMatching(/value 10 is not finite/) });
    f[10] = 8.5;
    expect(vision.decodeFeatures(featureBytes(f))).toEqual({ ok: false, reason: "features: value 10 = 8.5 is outside ±8" });
    f[10] = -8;
    expect(vision.decodeFeatures(featureBytes(f)).ok).toBe(true);
  });
});

/** Records every request and answers each with a fixed line. */
class RecordingModel implements ReplyModel {
  readonly requests: Parameters<ReplyModel["submit"]>[0][] = [];
  submit(req: Parameters<ReplyModel["submit"]>[0]) {
    this.requests.push(req);
    const chunks = new ChunkQueue<StreamChunk>();
    const text = "[mood:calm] I see the yard.";
    chunks.push({ token: 1, text });
    chunks.end();
    const result: SchedulerResult = {
      text, tokens: [1], finish: "stop", weights: {}, versions: {}, promptTokens: 0,
      timings: { queueMs: 0, ttftMs: 0, totalMs: 0, decodeTokensPerSecond: 0 },
    };
    return { chunks, result: Promise.resolve(result) };
  }
  async stats() { return {}; }
  async close() {}
}

// Brom faces the spawn; a movable red barrel stands between; a landmark anvil beside him. The
// second spawn is 19 m from Brom (too far for a view to count).
const scene = visionYard([[0, 0, 0], [0, 0, -14]]);

describe("npc_view in a real room", () => {
  let kith: KithServer;
  const model = new RecordingModel();
  const logs: string[] = [];
  let near: Bot, far: Bot;
  let h: ReturnType<typeof listen>, hf: ReturnType<typeof listen>;

  beforeAll(async () => {
    // sight "eyes": these tests are the eyes' path (the default, "auto", uses the scene graph until the package reads its views).
    kith = await createKithServer({ port: 0, scene, vision, dialogue: { model, rate: null, sight: "eyes" }, log: (l) => logs.push(l) });
    near = await joinBot(kith.url, { name: "Ada" });
    far = await joinBot(kith.url, { name: "Bo" });
    h = listen(near);
    hf = listen(far);
    await walkTo(near, 0, 5, 2.5);
  }, 120_000);
  afterAll(async () => {
    await near?.leave();
    await far?.leave();
    await kith?.close();
  });

  const room = async () => {
    const [listing] = await matchMaker.query({ name: "world" });
    return matchMaker.getLocalRoomById(listing.roomId) as WorldRoom;
  };
  /** The reply's first request (a sight reply that disagrees with its answer is written again: more follow). */
  const ask = async (bot: Bot, text: string) => {
    const n = h.replies.length, first = model.requests.length;
    bot.send("chat", { text, to: "brom" });
    await waitFor(() => h.replies.length > n, 20_000, "npc_reply");
    return model.requests[first]!;
  };

  it("without a view the NPC talks blind: no image, props in its nearby facts", async () => {
    const req = await ask(near, "What do you see?");
    expect((req as { image?: unknown }).image).toBeUndefined();
    // The scene path works the question out first, and that answer is sampled cool (sightTemperature).
    expect(req.options).toMatchObject({ doSample: true, temperature: 0.2 });
    const r = await room();
    expect(r.dialogue!.lastPrompt("brom")).toContain("<|near|>- sight answer: ");
    expect(r.dialogue!.lastPrompt("brom")).not.toContain("<|image|>");
    expect(r.dialogue!.lastPrompt("brom")).toMatch(/barrel-red: red barrel/);
    expect(r.dialogue!.lastImage("brom")).toBeNull();
  });

  it("features arrive as binary, become the NPC's visual tokens, and go with its next reply request", async () => {
    const f = Float32Array.from({ length: FEATURES }, (_, i) => Math.cos(i * 0.37) * 3);
    near.send("npc_view", { npc: "brom", features: featureBytes(f) });
    const r = await room();
    await waitFor(() => r.npcViews?.latest("brom") !== undefined, 5000, "view stored");
    const v = r.npcViews!.latest("brom")!;
    expect(v).toMatchObject({ from: near.sessionId, source: "features" });
    // Bit for bit what the projector makes of the features sent: the bytes came through intact.
    expect(Array.from(v.tokens)).toEqual(Array.from(projector.project(f)));
    expect(v.tokens.length).toBe(16 * 192);

    const req = await ask(near, "What do you see?");
    expect((req as { image?: Float32Array }).image).toBe(v.tokens);
    expect(req.options).toMatchObject({ doSample: true, temperature: 0.7 }); // no worked-out answer: the usual heat
    expect(r.dialogue!.lastImage("brom")).toBe(v.tokens);
    const prompt = r.dialogue!.lastPrompt("brom")!;
    // 16 placeholders right after the persona section; props come from the eyes now, landmarks stay.
    expect(prompt).toMatch(/\n(<\|image\|>){16}\n<\|near\|>/);
    expect(prompt).not.toMatch(/barrel-red/);
    expect(prompt).toMatch(/anvil: anvil/);
    expect(h.rejected).toEqual([]);
    expect(hf.rejected).toEqual([]);
  });

  it("a line that is not about what is in sight takes the text path, though a fresh view is there", async () => {
    const r = await room();
    expect(r.npcViews!.latest("brom")).toBeDefined();
    const req = await ask(near, "How much for a horseshoe?");
    expect((req as { image?: unknown }).image).toBeUndefined();
    expect(r.dialogue!.lastImage("brom")).toBeNull();
    expect(r.dialogue!.lastPrompt("brom")).not.toContain("<|image|>");
    expect(r.dialogue!.lastPrompt("brom")).toMatch(/barrel-red: red barrel/);
    // The next line about sight has the view again.
    const seen = await ask(near, "Is the red barrel on your left?");
    expect((seen as { image?: Float32Array }).image).toBe(r.npcViews!.latest("brom")!.tokens);
  });

  it("a picture sent instead of features ends as the same tokens, within 1e-4, as the features the same encoder gives", async () => {
    const img = testImage([40, 60, 170]);
    // A client that runs the encoder (here on onnxruntime-node, as a page does on -web) sends features…
    const encoder = await VisionEncoder.create(vision.pkg, nodeBackend({ threads: 1 }));
    const f = await encoder.encode(rgbaToPixels(img), 1);
    await encoder.release();
    const r = await room();
    const viewBefore = r.npcViews!.latest("brom");
    near.send("npc_view", { npc: "brom", features: featureBytes(f) });
    await waitFor(() => r.npcViews!.latest("brom") !== viewBefore, 5000, "features view stored");
    expect(r.npcViews!.latest("brom")!.source).toBe("features");
    const fromFeatures = r.npcViews!.latest("brom")!.tokens;
    // …one that cannot sends the picture, and the server encodes it.
    near.send("npc_view", { npc: "brom", image: img });
    await waitFor(() => r.npcViews?.latest("brom")?.source === "image", 10_000, "image view stored");
    const fromImage = r.npcViews!.latest("brom")!.tokens;
    let diff = 0;
    for (let i = 0; i < fromFeatures.length; i++) diff = Math.max(diff, Math.abs(fromFeatures[i] - fromImage[i]));
    expect(diff).toBeLessThan(1e-4);
    expect(vision.encodeRuns.length).toBeGreaterThan(0);
  });

  it("bad views are refused with their reason and logged; the good view stays; the room keeps answering", async () => {
    const r = await room();
    const before = r.npcViews!.latest("brom")!;
    await new Promise((res) => setTimeout(res, 1600)); // a full view bucket (2/s, burst 3)
    const zeros = new Float32Array(FEATURES);
    const nan = zeros.slice(); nan[5] = NaN;
    const big = zeros.slice(); big[6] = 9;
    near.send("npc_view", { npc: "brom", features: featureBytes(zeros.subarray(0, FEATURES / 2)) });
    near.send("npc_view", { npc: "brom", features: featureBytes(nan) });
    near.send("npc_view", { npc: "brom", features: featureBytes(big) });
    await waitFor(() => h.rejected.length >= 3, 5000, "three refusals");
    await new Promise((res) => setTimeout(res, 1600)); // the view bucket refills (2/s, burst 3)
    near.send("npc_view", { npc: "nobody", features: featureBytes(zeros) });
    near.send("npc_view", { npc: "brom", image: new Uint8Array(10) });
    near.send("npc_view", { npc: "brom", features: featureBytes(zeros), mirror: featureBytes(nan) });
    far.send("npc_view", { npc: "brom", features: featureBytes(zeros) });
    await waitFor(() => h.rejected.length >= 6 && hf.rejected.length >= 1, 5000, "more refusals");
    expect(h.rejected.map((x) => [x.type, x.reason])).toEqual([
      ["npc_view", "features: expected 16384 bytes (8×8×64 float32), got 8192"],
      ["npc_view", "features: value 5 is not finite (NaN)"],
      ["npc_view", "features: value 6 = 9 is outside ±8"],
      ["npc_view", 'no NPC "nobody" here'],
      ["npc_view", "npc_view.image: expected 16384 bytes (64×64 RGBA), got 10"],
      ["npc_view", "mirror features: value 5 is not finite (NaN)"],
    ]);
    expect(hf.rejected).toEqual([{ type: "npc_view", reason: expect.stringMatching(/^too far from Brom Ironhand \(1\d\.\d m; views count within 8 m\)$/) }]);
    // A flood: past the burst, refused by the rate limit.
    await new Promise((res) => setTimeout(res, 1600));
    for (let i = 0; i < 8; i++) near.send("npc_view", { npc: "brom", features: featureBytes(zeros) });
    await waitFor(() => h.rejected.length >= 11, 5000, "flood refusals");
    expect(h.rejected.slice(6).every((x) => x.reason === "rate limit: more than 2 npc_view messages per second (burst 3)")).toBe(true);
    expect(logs.some((l) => /\[world\] rejected \S+ npc_view: features: value 5 is not finite/.test(l))).toBe(true);
    // None of the refused views replaced the NPC's view (the three admitted flood views did: zeros).
    const after = r.npcViews!.latest("brom")!;
    expect(after.at).toBeGreaterThanOrEqual(before.at);
    expect(Array.from(after.tokens)).toEqual(Array.from(projector.project(zeros)));
    // Still connected, still answered.
    const req = await ask(near, "Are you still there? What do you see?");
    expect(Array.from((req as { image?: Float32Array }).image!)).toEqual(Array.from(after.tokens));
    expect(near.connection.isOpen).toBe(true);
  });

  it("the server serves the vision package it runs at /vision/ (the page's encoder loads it); 404 without vision", async () => {
    const served = await (await fetch(`${kith.url}/vision/vision.json`)).json();
    expect(served).toMatchObject({ feature_dim: 64, tokens: 16, hidden: 192 });
    const files = staticFiles({ clientDir: "/nonexistent", scenesDir: "scenes", assetsDir: "assets" }, () => ({}), () => ({}));
    const blind = http.createServer((req, res) => files(req, res, () => res.end()));
    await new Promise<void>((ok) => blind.listen(0, "127.0.0.1", ok));
    try {
      const res = await fetch(`http://127.0.0.1:${(blind.address() as AddressInfo).port}/vision/vision.json`);
      expect(res.status).toBe(404);
      expect(await res.text()).toMatch(/vision is off/);
    } finally {
      blind.close();
    }
  });
});
