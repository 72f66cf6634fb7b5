// Unit tests of the small generation parts: config, PRNG, logits processors, samplers, stop strings.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { fromHfGenerationConfig, resolveGenerationConfig, DEFAULT_GENERATION_CONFIG } from "../core/runtime/generate/config.ts";
import { mulberry32 } from "../core/runtime/generate/rng.ts";
import { kthLargest, processorsFor, repetitionPenalty, temperature, topK, topP } from "../core/runtime/generate/logits-processors.ts";
import { argmax, sampleFromLogits } from "../core/runtime/generate/sampler.ts";
import { StopStringFilter } from "../core/runtime/generate/text-stream.ts";
import { concatRows, selectRows } from "../core/runtime/generate/kv-ops.ts";
import { BatchState, type DecoderLike } from "../core/runtime/generate/batch-state.ts";
import { GenerationRow } from "../core/runtime/generate/row.ts";

const f32 = (xs: number[]) => Float32Array.from(xs);

describe("generation config", () => {
  it("merges defaults, generation_config.json and per-call options in that order", () => {
    const file = fromHfGenerationConfig({ do_sample: true, temperature: 0.7, top_p: 0.9, eos_token_id: [2, 7], max_new_tokens: 64, transformers_version: "4.44" });
    const cfg = resolveGenerationConfig(file, { temperature: 0.2 });
    expect(cfg).toMatchObject({ doSample: true, temperature: 0.2, topP: 0.9, eosTokenIds: [2, 7], maxNewTokens: 64, topK: 50 });
    expect(resolveGenerationConfig()).toEqual(DEFAULT_GENERATION_CONFIG);
  });

  it("names the bad field and what is allowed", () => {
    expect(() => resolveGenerationConfig({ temperature: 0 })).toThrow(/temperature must be a finite number > 0, got 0/);
    expect(() => resolveGenerationConfig({ topP: 1.5 })).toThrow(/topP must be a number in \(0, 1\], got 1.5/);
    expect(() => resolveGenerationConfig({ maxNewTokens: 2.5 })).toThrow(/maxNewTokens must be an integer ≥ 1/);
    expect(() => resolveGenerationConfig({ stopStrings: [""] })).toThrow(/stopStrings must be an array of non-empty strings/);
    expect(() => resolveGenerationConfig({ seed: -1 })).toThrow(/seed must be null or an integer/);
    expect(() => resolveGenerationConfig({ topk: 3 } as never)).toThrow(/unknown option "topk". Valid options: maxNewTokens, doSample/);
    expect(() => fromHfGenerationConfig({ temperature: "hot" })).toThrow(/generation_config.json: "temperature" must be a number, got "hot"/);
    expect(() => fromHfGenerationConfig({ eos_token_id: "x" })).toThrow(/"eos_token_id" must be an integer or a list of integers/);
  });
});

describe("mulberry32", () => {
  it("is deterministic per seed and roughly uniform", () => {
    const a = mulberry32(42), b = mulberry32(42), c = mulberry32(43);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xs);
    const r = mulberry32(7);
    const bins = new Array(10).fill(0);
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const u = r.next();
      expect(u >= 0 && u < 1).toBe(true);
      bins[Math.floor(u * 10)]++;
    }
    for (const count of bins) expect(Math.abs(count - n / 10)).toBeLessThan(600); // ~6 sigma
  });
});

describe("logits processors", () => {
  it("repetition penalty divides positive and multiplies negative logits of seen tokens", () => {
    const l = f32([2, -2, 1, 0.5]);
    repetitionPenalty(2)(l, new Set([0, 1]));
    expect(Array.from(l)).toEqual([1, -4, 1, 0.5]);
  });

  it("temperature scales logits", () => {
    const l = f32([2, -1, 0]);
    temperature(0.5)(l, new Set());
    expect(Array.from(l)).toEqual([4, -2, 0]);
  });

  it("top-k keeps the k largest (and ties with the k-th)", () => {
    const l = f32([1, 5, 3, 3, 0, 4]);
    topK(3)(l, new Set());
    expect(Array.from(l)).toEqual([-Infinity, 5, 3, 3, -Infinity, 4]);
    const m = f32([1, 5, 2, 0, 4]);
    topK(2)(m, new Set());
    expect(Array.from(m)).toEqual([-Infinity, 5, -Infinity, -Infinity, 4]);
  });

  it("kthLargest agrees with sorting (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 200 }), fc.nat(), (xs, kSeed) => {
        const arr = f32(xs);
        const k = 1 + (kSeed % arr.length);
        const sorted = Array.from(arr).sort((a, b) => b - a);
        expect(kthLargest(arr, k)).toBe(sorted[k - 1]);
      }),
    );
  });

  it("top-p keeps the smallest prefix reaching p", () => {
    // probs ∝ [0.5, 0.25, 0.125, 0.125]
    const l = f32([Math.log(4), Math.log(2), 0, 0]);
    topP(0.7)(l, new Set());
    expect(Array.from(l).map(Number.isFinite)).toEqual([true, true, false, false]);
    const m = f32([Math.log(4), Math.log(2), 0, 0]);
    topP(0.3)(m, new Set());
    expect(Array.from(m).map(Number.isFinite)).toEqual([true, false, false, false]);
    // 0.8 needs the third token, which ties with the fourth → both kept.
    const n = f32([Math.log(4), Math.log(2), 0, 0]);
    topP(0.8)(n, new Set());
    expect(Array.from(n).map(Number.isFinite)).toEqual([true, true, true, true]);
  });

  it("top-p never removes the most likely token and always keeps mass ≥ p (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.float({ min: -10, max: 10, noNaN: true }), { minLength: 2, maxLength: 60 }), fc.double({ min: 0.01, max: 0.99, noNaN: true }), (xs, p) => {
        const l = f32(xs);
        const probs = softmax(l);
        const best = argmax(l);
        topP(p)(l, new Set());
        expect(Number.isFinite(l[best])).toBe(true);
        let kept = 0;
        l.forEach((x, i) => { if (Number.isFinite(x)) kept += probs[i]; });
        expect(kept).toBeGreaterThanOrEqual(p - 1e-6);
      }),
    );
  });

  it("greedy configs only run the repetition penalty", () => {
    expect(processorsFor(resolveGenerationConfig({ temperature: 0.5, topK: 3 }))).toHaveLength(0);
    expect(processorsFor(resolveGenerationConfig({ repetitionPenalty: 1.3 }))).toHaveLength(1);
    expect(processorsFor(resolveGenerationConfig({ doSample: true, temperature: 0.5, topK: 3, topP: 0.9 }))).toHaveLength(3);
  });
});

describe("samplers", () => {
  it("argmax picks the first of equal maxima", () => {
    expect(argmax(f32([1, 3, 3, 2]))).toBe(1);
  });

  it("seeded sampling is reproducible", () => {
    const l = f32([0.1, 0.5, 2, -1, 0.3]);
    const draw = (seed: number) => { const r = mulberry32(seed); return Array.from({ length: 50 }, () => sampleFromLogits(l, r)); };
    expect(draw(1234)).toEqual(draw(1234));
    expect(draw(1234)).not.toEqual(draw(4321));
  });

  it("draws follow softmax(logits) (chi-square over 200k draws)", () => {
    const l = f32([0, 1, 2, -1, 0.5, -Infinity]);
    const p = softmax(l);
    const r = mulberry32(99);
    const n = 200_000;
    const counts = new Array(l.length).fill(0);
    for (let i = 0; i < n; i++) counts[sampleFromLogits(l, r)]++;
    expect(counts[5]).toBe(0);
    let chi2 = 0;
    for (let i = 0; i < 5; i++) chi2 += (counts[i] - n * p[i]) ** 2 / (n * p[i]);
    // 4 degrees of freedom: P(chi2 > 18.47) = 0.001.
    expect(chi2).toBeLessThan(18.47);
  });

  it("top-k + temperature sampling only draws kept tokens, with renormalised probabilities", () => {
    const base = [0, 1, 2, -1, 0.5];
    const r = mulberry32(5);
    const procs = processorsFor(resolveGenerationConfig({ doSample: true, temperature: 2, topK: 2 }));
    const counts = new Array(base.length).fill(0);
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const l = f32(base);
      for (const proc of procs) proc(l, new Set());
      counts[sampleFromLogits(l, r)]++;
    }
    expect(counts[0] + counts[3] + counts[4]).toBe(0);
    const expected2 = Math.exp(1) / (Math.exp(1) + Math.exp(0.5)); // logits/2 = [.., 0.5, 1]
    expect(Math.abs(counts[2] / n - expected2)).toBeLessThan(0.01);
  });

  it("errors when every token was removed", () => {
    expect(() => sampleFromLogits(f32([-Infinity, -Infinity]), mulberry32(1))).toThrow(/every token was removed/);
  });
});

describe("StopStringFilter", () => {
  const run = (stops: string[], deltas: string[]) => {
    const f = new StopStringFilter(stops);
    const out: string[] = [];
    for (const d of deltas) {
      out.push(f.push(d));
      if (f.stopped) break;
    }
    if (!f.stopped) out.push(f.flush());
    return { out, stopped: f.stopped, shown: f.shown };
  };

  it("finds a stop string spread over several tokens and never shows any of it", () => {
    const r = run(["\nUser:"], ["Hello", " there", "\nUs", "er", ":", " more"]);
    expect(r.stopped).toBe(true);
    expect(r.out.join("")).toBe("Hello there");
    expect(r.out.join("")).not.toContain("\n");
  });

  it("releases held-back text when it turns out not to be a stop string", () => {
    const r = run(["END"], ["the EN", "D", "x"]);
    expect(r.stopped).toBe(true);
    expect(r.out).toEqual(["the ", ""]);
    const s = run(["END"], ["the EN", "emy", " wins"]);
    expect(s.stopped).toBe(false);
    expect(s.out.join("")).toBe("the ENemy wins");
    expect(s.out[0]).toBe("the ");
  });

  it("picks the earliest of several stop strings in one delta", () => {
    const r = run(["bb", "a"], ["xxbba"]);
    expect(r.shown).toBe("xx");
  });

  it("streamed text is cut at the first stop string completed (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 4, unit: fc.constantFrom("a", "b", "c") }), { maxLength: 12 }), fc.array(fc.string({ minLength: 1, maxLength: 3, unit: fc.constantFrom("a", "b", "c") }), { minLength: 1, maxLength: 3 }), (deltas, stops) => {
        // Reference: generation stops after the first delta that completes a stop string; the
        // text is cut at the earliest stop string in the text up to that delta.
        let text = "";
        let cut = -1;
        for (const d of deltas) {
          text += d;
          for (const s of stops) { const at = text.indexOf(s); if (at >= 0 && (cut < 0 || at < cut)) cut = at; }
          if (cut >= 0) break;
        }
        const r = run(stops, deltas);
        expect(r.out.join("")).toBe(cut >= 0 ? text.slice(0, cut) : text);
        expect(r.stopped).toBe(cut >= 0);
      }),
      { numRuns: 500 },
    );
  });
});

function softmax(l: Float32Array): number[] {
  const max = Math.max(...l);
  const e = Array.from(l, (x) => Math.exp(x - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

describe("KV cache batch edits", () => {
  const shape = { numLayers: 2, numKvHeads: 2, headDim: 3 };
  // Value encodes (layer, k/v, row, head, position, dim) so every misplaced copy shows.
  const make = (B: number, P: number, tag: number) => {
    const mk = (l: number, w: number) =>
      Float32Array.from({ length: B * 2 * P * 3 }, (_, i) => {
        const d = i % 3, p = Math.floor(i / 3) % P, h = Math.floor(i / (3 * P)) % 2, b = Math.floor(i / (3 * P * 2));
        return tag * 1e5 + l * 1e4 + w * 1e3 + b * 100 + h * 10 + p + d / 10;
      });
    return { batch: B, length: P, key: [mk(0, 0), mk(1, 0)], value: [mk(0, 1), mk(1, 1)] };
  };
  const at = (a: Float32Array, P: number, b: number, h: number, p: number, d: number) => a[((b * 2 + h) * P + p) * 3 + d];

  it("selectRows keeps rows in the given order and trims left columns", () => {
    const kv = make(3, 5, 1);
    const out = selectRows(kv, [2, 0], 2, shape);
    expect(out.batch).toBe(2);
    expect(out.length).toBe(3);
    for (let l = 0; l < 2; l++) {
      for (const [j, b] of [[0, 2], [1, 0]]) {
        for (let h = 0; h < 2; h++) for (let p = 0; p < 3; p++) for (let d = 0; d < 3; d++) {
          expect(at(out.key[l], out.capacity!, j, h, p, d)).toBe(at(kv.key[l], 5, b, h, p + 2, d));
          expect(at(out.value[l], out.capacity!, j, h, p, d)).toBe(at(kv.value[l], 5, b, h, p + 2, d));
        }
      }
    }
    expect(() => selectRows(kv, [3], 0, shape)).toThrow(/row 3 outside \[0, 3\)/);
  });

  it("concatRows right-aligns both caches and zero-fills the padding", () => {
    const a = make(1, 4, 1), b = make(2, 2, 2);
    const out = concatRows(a, b, shape);
    expect(out.batch).toBe(3);
    expect(out.length).toBe(4);
    for (let l = 0; l < 2; l++) {
      for (let h = 0; h < 2; h++) for (let d = 0; d < 3; d++) {
        const C = out.capacity!; // results have room to grow; columns [0, length) hold the data
        for (let p = 0; p < 4; p++) expect(at(out.key[l], C, 0, h, p, d)).toBe(at(a.key[l], 4, 0, h, p, d));
        for (const r of [0, 1]) {
          expect(at(out.value[l], C, 1 + r, h, 0, d)).toBe(0);
          expect(at(out.value[l], C, 1 + r, h, 1, d)).toBe(0);
          for (let p = 0; p < 2; p++) expect(at(out.value[l], C, 1 + r, h, p + 2, d)).toBe(at(b.value[l], 2, r, h, p, d));
        }
      }
    }
  });
});

describe("BatchState when the forward pass fails", () => {
  it("fails every row: results and streams reject with the error, nothing is left running", async () => {
    const config = { numLayers: 1, numKvHeads: 1, headDim: 2, hiddenSize: 2, vocabSize: 8, maxPositions: 64, eosTokenIds: [] };
    const session = {
      config,
      embed: (ids: number[]) => new Float32Array(ids.length * 2),
      forward: async () => {
        throw new Error("session lost");
      },
    } as unknown as DecoderLike;
    const batch = new BatchState(session);
    const limits = { vocabSize: 8, maxPositions: 64, eosTokenIds: [] };
    const rows = [new GenerationRow([1, 2], resolveGenerationConfig(), limits, null), new GenerationRow([3], resolveGenerationConfig(), limits, null)];
    await expect(batch.add(rows)).rejects.toThrow(/session lost/);
    for (const r of rows) {
      await expect(r.result).rejects.toThrow(/session lost/);
      await expect(r.chunks.next()).rejects.toThrow(/session lost/);
      expect(r.finished).toBe(true);
    }
    expect(batch.active).toBe(0);
    await batch.step(); // nothing to do, no throw
  });
});

describe("GenerationRow picks only ids the tokenizer can write, and fails alone", () => {
  it("never picks the padding rows past the tokenizer's size, greedy or sampled", () => {
    const limits = { vocabSize: 8, maxPositions: 64, eosTokenIds: [], outputSize: 5 };
    // The padding rows (5..7) carry the largest logits, as an untrained padding row may.
    const logits = () => Float32Array.from([0, 1, 2, 0.5, 0, 9, 9, 9]);
    const greedy = new GenerationRow([1], resolveGenerationConfig({ maxNewTokens: 1 }), limits, null);
    greedy.accept(logits());
    expect(greedy.tokens).toEqual([2]);
    for (let seed = 1; seed <= 50; seed++) {
      const sampled = new GenerationRow([1], resolveGenerationConfig({ maxNewTokens: 1, doSample: true, temperature: 1, seed }), limits, null);
      sampled.accept(logits());
      expect(sampled.tokens[0]).toBeLessThan(5);
    }
  });

  it("a row whose decoding throws fails with the error instead of throwing into the batch", async () => {
    const limits = { vocabSize: 8, maxPositions: 64, eosTokenIds: [] };
    const bad = new GenerationRow([1], resolveGenerationConfig({ maxNewTokens: 2 }), limits, () => { throw new Error("cannot decode id 3"); });
    const good = new GenerationRow([2], resolveGenerationConfig({ maxNewTokens: 1 }), limits, (t) => t.join(","));
    const logits = Float32Array.from([0, 0, 0, 5, 0, 0, 0, 0]);
    expect(() => bad.accept(logits.slice())).not.toThrow();
    good.accept(logits.slice());
    expect(bad.finished).toBe(true);
    await expect(bad.result).rejects.toThrow(/cannot decode id 3/);
    await expect(bad.chunks.next()).rejects.toThrow(/cannot decode id 3/);
    expect((await good.result).tokenIds).toEqual([3]);
  });
});
