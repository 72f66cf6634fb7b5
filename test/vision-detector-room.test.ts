// The eyes with a prop detector, on a real server with the real model: a line about the props is
// answered from the props the package's detector finds in the bot's view (the sight lines and the
// skill-sight pack, no visual tokens, the scene's own props left out of the nearby lines); a
// generic line about sight still takes the view's visual tokens.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodePackageFiles } from "../core/runtime/model/files-node.ts";
import { MAX_SEEN, PropDetector } from "../core/vision/detector.ts";
import { loadVisionPackage } from "../core/vision/manifest.ts";
import { answerSight, sightAnswerLine } from "../core/vision/ask.ts";
import { SIGHT_SKILL, sightSummary } from "../core/vision/seen.ts";
import { waitFor } from "./helpers/dialogue-bots.ts";
import { askNpc, featureBytes, visionYardServer, worldRoom } from "./helpers/vision.ts";

let yard: Awaited<ReturnType<typeof visionYardServer>>;

beforeAll(async () => {
  yard = await visionYardServer({ seed: 12, detectorHidden: 32, maxNewTokens: 16 });
}, 180_000);
afterAll(() => yard?.close());

const room = worldRoom;
const ask = (text: string) => askNpc(yard.bot, yard.h, text);

describe("the eyes' prop detector in a conversation", { timeout: 120_000 }, () => {
  it("a line about the props reads what the detector found; a generic sight line keeps the visual tokens", async () => {
    const r = await room();
    const pkg = await loadVisionPackage(yard.pkgDir, nodePackageFiles);
    const detector = new PropDetector(pkg.detectorWeights!, pkg.manifest, pkg.manifest.detector!);
    const f = Float32Array.from({ length: 64 * 64 }, (_, i) => Math.sin(i * 0.37) * 3);
    const expected = detector.sight(f);
    expect(expected.length).toBeGreaterThan(0);
    // A random detector on a made-up picture finds props everywhere; the sight facts keep the most likely.
    expect(detector.detect(f).length).toBeGreaterThan(MAX_SEEN);
    expect(expected.filter((s) => !s.faint).length).toBe(MAX_SEEN);
    yard.bot.send("npc_view", { npc: "brom", features: featureBytes(f) });
    await waitFor(() => r.npcViews!.latest("brom") !== undefined, 5000, "view stored");
    // The worker thread's detector found what this one finds.
    expect(r.npcViews!.latest("brom")!.seen!.map((s) => [s.label, s.side, s.faint])).toEqual(expected.map((s) => [s.label, s.side, s.faint]));

    // With the mirrored picture's features too, the worker's detector reads both looks.
    const m = Float32Array.from({ length: 64 * 64 }, (_, i) => Math.cos(i * 0.21) * 2);
    const first = r.npcViews!.latest("brom")!;
    await new Promise((res) => setTimeout(res, 600)); // the view bucket (2/s)
    yard.bot.send("npc_view", { npc: "brom", features: featureBytes(f), mirror: featureBytes(m) });
    await waitFor(() => r.npcViews!.latest("brom") !== first, 5000, "second view stored");
    const both = detector.sight(f, m);
    expect(r.npcViews!.latest("brom")!.seen!.map((s) => [s.label, s.side, s.faint])).toEqual(both.map((s) => [s.label, s.side, s.faint]));
    expect(both).not.toEqual(expected);
    yard.bot.send("npc_view", { npc: "brom", features: featureBytes(f) });
    await waitFor(() => r.npcViews!.latest("brom")!.seen!.length === expected.length && r.npcViews!.latest("brom")!.seen!.every((s, i) => s.label === expected[i].label), 5000, "third view stored");

    const reply = await ask("What colour is the barrel?");
    expect(reply).toMatchObject({ npc: "brom", fallback: false });
    expect(reply.weights[SIGHT_SKILL]).toBe(1);
    const prompt = r.dialogue!.lastPrompt("brom")!;
    // The question worked out on what the eyes found (core/vision/ask.ts), then the summary.
    expect(prompt).toContain(`<|near|>- ${sightAnswerLine("What colour is the barrel?", expected)}\n- ${sightSummary(expected)}\n`);
    expect(prompt).not.toContain("<|image|>");
    expect(prompt).not.toMatch(/barrel-red:/); // the scene's props: what Brom knows of them is what his eyes found
    expect(prompt).toMatch(/anvil: anvil/); // landmarks stay
    expect(r.dialogue!.lastImage("brom")).toBeNull();

    // "What do you see?" is read too: the props the eyes found, then the nearest landmark.
    const whole = await ask("What do you see?");
    expect(whole.fallback).toBe(false);
    expect(r.dialogue!.lastImage("brom")).toBeNull();
    expect(r.dialogue!.lastPrompt("brom")).toContain(`<|near|>- sight answer: ${answerSight({ t: "list" }, expected)}; near: the `);

    // Any other line about sight is answered with the view's tokens.
    const generic = await ask("Anything you notice?");
    expect(generic.fallback).toBe(false);
    expect(r.dialogue!.lastImage("brom")).toBe(r.npcViews!.latest("brom")!.tokens);
    expect(r.dialogue!.lastPrompt("brom")).toMatch(/\n(<\|image\|>){16}\n<\|near\|>/);
    expect(yard.logs.filter((l) => /fallback|reply failed/.test(l))).toEqual([]);
  });
});
