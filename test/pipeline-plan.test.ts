import { describe, expect, it } from "vitest";
import { parseArgs, perPack, SHARES, splitLanes } from "../training/pipeline.ts";

describe("npm run pipeline: options and the time plan", () => {
  it("reads its options with defaults and refuses bad ones", () => {
    expect(parseArgs(["--out", "runs/a"])).toMatchObject({ out: "runs/a", minutes: 90, scene: "village", cards: "adapters", samples: 60000, seed: 1, lanes: 2, tokenizer: null, initFrom: null, baseVoice: "card" });
    expect(parseArgs(["--out", "runs/a"]).layers).toBe(9);
    expect(parseArgs(["--out", "x", "--layers", "12"]).layers).toBe(12);
    expect(() => parseArgs(["--out", "x", "--layers", "0"])).toThrow(/--layers 0: should be a number ≥ 1/);
    expect(parseArgs(["--out", "x", "--base-voice", "neutral"]).baseVoice).toBe("neutral");
    expect(() => parseArgs(["--out", "x", "--base-voice", "quiet"])).toThrow(/--base-voice quiet: should be card or neutral/);
    expect(parseArgs(["--out", "x", "--minutes", "30", "--init-from", "assets/model", "--lanes", "1"])).toMatchObject({ minutes: 30, initFrom: "assets/model", lanes: 1 });
    expect(() => parseArgs([])).toThrow(/--out is required/);
    expect(() => parseArgs(["--out", "x", "--minutes", "0"])).toThrow(/--minutes 0: should be a number ≥ 1/);
    expect(() => parseArgs(["--out", "x", "--minutes"])).toThrow(/--minutes needs a value/);
    expect(() => parseArgs(["--out", "x", "--epochs", "3"])).toThrow(/unknown option --epochs/);
  });

  it("splits packs over lanes and gives each its share of the lane's time", () => {
    expect(splitLanes(["a", "b", "c", "d", "e"], 2)).toEqual([["a", "c", "e"], ["b", "d"]]);
    expect(splitLanes(["a"], 3)).toEqual([["a"]]);
    // 5 packs on 2 lanes: the longer lane runs 3 one after another.
    expect(perPack(15, 5, 2)).toBeCloseTo(5);
    expect(perPack(15, 5, 1)).toBeCloseTo(3);
    expect(perPack(15, 2, 4)).toBeCloseTo(15);
    expect(perPack(15, 0, 2)).toBe(0);
    expect(SHARES.base + SHARES.characters + SHARES.moods).toBeCloseTo(1);
  });
});
