import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { colourName } from "../core/prompt/nearby.ts";
import { parseScene } from "../core/scene/load.ts";
import { buildSurroundingsSuite } from "../training/data/evals.ts";
import { run, parseArgs } from "../training/data/main.ts";
import { Rng } from "../training/data/rng.ts";
import { anchoredIds, sceneVariant } from "../training/data/scene-variants.ts";
import { loadWorld } from "../training/data/world.ts";
import { caseMoment } from "../core/eval/case.ts";
import { assemblePrompt } from "../core/prompt/context.ts";
import { approxTokens } from "../training/data/sample.ts";

const world = loadWorld(".");
const anchored = anchoredIds(world.scene, world.cards.values());
const dist = (a: readonly number[], b: readonly number[]) => Math.hypot(a[0] - b[0], a[2] - b[2]);

describe("scene variants", () => {
  it("keep the named places and the far objects, and set down new props of named colours around every NPC", () => {
    expect(anchored.size).toBeGreaterThan(3);
    const v = sceneVariant(world.scene, anchored, new Rng(3));
    expect(() => parseScene(JSON.stringify(v), "variant")).not.toThrow();
    const ids = new Set(v.objects.map((o) => o.id));
    for (const id of anchored) expect(ids.has(id)).toBe(true);
    const far = world.scene.objects.filter((o) => world.scene.npcs.every((n) => dist(n.position, o.position) >= 10));
    for (const o of far) expect(ids.has(o.id)).toBe(true);
    expect(v.npcs).toEqual(world.scene.npcs);
    const placed = v.objects.filter((o) => /-v\d+$/.test(o.id));
    for (const npc of v.npcs) {
      const mine = placed.filter((o) => dist(o.position, npc.position) <= 5.01);
      expect(mine.length).toBeGreaterThanOrEqual(2);
    }
    for (const o of placed) expect(o.tags).toContain(colourName(o.colour));
    // Near an NPC the village's own props are thinned out, not all kept.
    const nearBefore = world.scene.objects.filter((o) => !anchored.has(o.id) && world.scene.npcs.some((n) => dist(n.position, o.position) < 10));
    const kept = nearBefore.filter((o) => ids.has(o.id));
    expect(kept.length).toBeLessThan(nearBefore.length);
  });

  it("are reproducible from the seed and differ between seeds", () => {
    const a = sceneVariant(world.scene, anchored, new Rng(5)), b = sceneVariant(world.scene, anchored, new Rng(5)), c = sceneVariant(world.scene, anchored, new Rng(6));
    expect(a).toEqual(b);
    expect(c.objects.map((o) => o.id)).not.toEqual(a.objects.map((o) => o.id));
  });

  it("data engine: --scene-variants puts the new props in the prompt, and the nearby replies name them", () => {
    const out = mkdtempSync(join(tmpdir(), "kith-sv-"));
    const { summary } = run(parseArgs(["--out", out, "--samples", "300", "--seed", "4", "--no-evals", "--scene-variants", "1", "--intents", "nearby,what_is,point"]), () => {});
    expect(summary.scene_variant_samples).toBe(300);
    const rows = readFileSync(join(out, "train.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(new Set(rows.map((r) => r.intent))).toEqual(new Set(["nearby", "what_is", "point"]));
    let naming = 0;
    for (const r of rows) {
      const near = r.prompt.slice(r.prompt.indexOf("<|near|>"), r.prompt.lastIndexOf("<|player|>"));
      const named = [...near.matchAll(/- ([a-z0-9-]+-v\d+): ([a-z ]+),/g)].map((m) => m[2]);
      if (named.some((n) => r.completion.includes(n))) naming++;
    }
    // Most replies name at least one prop that only this sample's prompt holds.
    expect(naming / rows.length).toBeGreaterThan(0.5);
    expect(() => parseArgs(["--intents", "nearby,flying"])).toThrow(/unknown: flying/);
    expect(() => parseArgs(["--scene-variants", "2"])).toThrow(/\[0, 1\]/);
  });

  it("a plain run draws no variant", () => {
    const out = mkdtempSync(join(tmpdir(), "kith-sv0-"));
    const { summary } = run(parseArgs(["--out", out, "--samples", "200", "--seed", "4", "--no-evals"]), () => {});
    expect(summary.scene_variant_samples).toBe(0);
    expect(readFileSync(join(out, "train.jsonl"), "utf8")).not.toMatch(/-v\d+: /);
  });
});

describe("surroundings suite", () => {
  it("asks in held-out phrasings about props only the case's own scene holds, and the eval's prompt lists them", () => {
    const { cases, scenes } = buildSurroundingsSuite(world, 7, 30, 3, (k) => `variant-${k}`, (rng) => sceneVariant(world.scene, anchored, rng));
    expect(cases.length).toBe(30);
    for (const c of cases) {
      expect(c.tags).toContain("heldout:template");
      const scene = scenes[Number(c.scene.slice("variant-".length))];
      const village = new Set(world.scene.objects.map((o) => o.name));
      const prompt = assemblePrompt(caseMoment(c, scene, world.cards), approxTokens).text;
      if (c.checks.action) {
        const id = c.checks.action.split(":")[1];
        expect(id).toMatch(/-v\d+$/);
        expect(prompt).toContain(`${id}:`);
      } else {
        for (const name of c.checks.contains_any!) {
          expect(village.has(name)).toBe(false);
          expect(prompt).toContain(`: ${name},`);
        }
      }
    }
  });

  it("the committed suite and its scenes are what npm run data:surroundings writes", () => {
    const dir = mkdtempSync(join(tmpdir(), "kith-surr-"));
    execFileSync(process.execPath, ["--import", "tsx", "training/data/surroundings-cli.ts", "--out", join(dir, "s.jsonl"), "--scenes", join(dir, "scenes")], { stdio: "pipe" });
    const strip = (t: string) => t.replaceAll(relative(process.cwd(), join(dir, "scenes")), "evals/scenes");
    expect(strip(readFileSync(join(dir, "s.jsonl"), "utf8"))).toBe(readFileSync("evals/surroundings.jsonl", "utf8"));
    for (const f of readdirSync(join(dir, "scenes"))) expect(readFileSync(join(dir, "scenes", f), "utf8")).toBe(readFileSync(join("evals/scenes", f), "utf8"));
  });
});
