// The eyes with a prop detector, on a real server with the real model: a line about the props is
// answered from the props the package's detector finds in the bot's view (the sight lines and the
// skill-sight pack, no visual tokens, the scene's own props left out of the nearby lines); a
// generic line about sight still takes the view's visual tokens.
import { rmSync } from "node:fs";
import { dirname } from "node:path";
import { matchMaker } from "@colyseus/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodePackageFiles } from "../core/runtime/model/files-node.ts";
import { PropDetector } from "../core/vision/detector.ts";
import { loadVisionPackage } from "../core/vision/manifest.ts";
import { SIGHT_SKILL, sightSummary } from "../core/vision/seen.ts";
import { createKithServer, type KithServer } from "../server/kith-server.ts";
import type { WorldRoom } from "../server/world-room.ts";
import { joinBot, listen, waitFor, walkTo, type Bot } from "./helpers/dialogue-bots.ts";
import { featureBytes, makeVisionPackage, visionYard } from "./helpers/vision.ts";

let pkgDir: string;
let kith: KithServer;
let bot: Bot;
let h: ReturnType<typeof listen>;
const logs: string[] = [];

beforeAll(async () => {
  pkgDir = makeVisionPackage(12, 32);
  kith = await createKithServer({
    port: 0, scene: visionYard(), vision: { dir: pkgDir }, log: (l) => logs.push(l),
    dialogue: { deadlineMs: 30_000, temperature: 0, maxNewTokens: 16, rate: null, sight: "eyes" },
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

describe("the eyes' prop detector in a conversation", { timeout: 120_000 }, () => {
  it("a line about the props reads what the detector found; a generic sight line keeps the visual tokens", async () => {
    const r = await room();
    const pkg = await loadVisionPackage(pkgDir, nodePackageFiles);
    const detector = new PropDetector(pkg.detectorWeights!, pkg.manifest, pkg.manifest.detector!);
    const f = Float32Array.from({ length: 64 * 64 }, (_, i) => Math.sin(i * 0.37) * 3);
    const expected = detector.sight(f);
    expect(expected.length).toBeGreaterThan(0);
    bot.send("npc_view", { npc: "brom", features: featureBytes(f) });
    await waitFor(() => r.npcViews!.latest("brom") !== undefined, 5000, "view stored");
    // The worker thread's detector found what this one finds.
    expect(r.npcViews!.latest("brom")!.seen!.map((s) => [s.label, s.side])).toEqual(expected.map((s) => [s.label, s.side]));

    const reply = await ask("What colour is the barrel?");
    expect(reply).toMatchObject({ npc: "brom", fallback: false });
    expect(reply.weights[SIGHT_SKILL]).toBe(1);
    const prompt = r.dialogue!.lastPrompt("brom")!;
    expect(prompt).toContain(`<|near|>- ${sightSummary(expected)}\n`);
    expect(prompt).not.toContain("<|image|>");
    expect(prompt).not.toMatch(/barrel-red:/); // the scene's props: what Brom knows of them is what his eyes found
    expect(prompt).toMatch(/anvil: anvil/); // landmarks stay
    expect(r.dialogue!.lastImage("brom")).toBeNull();

    const generic = await ask("What do you see?");
    expect(generic.fallback).toBe(false);
    expect(r.dialogue!.lastImage("brom")).toBe(r.npcViews!.latest("brom")!.tokens);
    expect(r.dialogue!.lastPrompt("brom")).toMatch(/\n(<\|image\|>){16}\n<\|near\|>/);
    expect(logs.filter((l) => /fallback|reply failed/.test(l))).toEqual([]);
  });
});
