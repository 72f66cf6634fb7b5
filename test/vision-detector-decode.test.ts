import { describe, expect, it } from "vitest";
import { decodeHead, DETECTOR_OUTPUTS, faintProps } from "../core/vision/detector.ts";
import { COLOURS, KINDS, type ColourWord, type Kind } from "../core/vision/vocab.ts";

// Hand-built head outputs on a 6×6 grid: each cell's object logit, one kind and one colour that
// win their argmax, and a log-depth. Checks the decode rule the runtime and train_detector.py share.
const G = 6, N = G * G;

function head(cells: { cy: number; cx: number; logit: number; kind: Kind; colour: ColourWord; depth?: number }[]): Float32Array {
  const out = new Float32Array(DETECTOR_OUTPUTS * N).fill(0);
  for (let c = 0; c < N; c++) out[c] = -8; // nothing anywhere else
  for (const { cy, cx, logit, kind, colour, depth = 3 } of cells) {
    const cell = cy * G + cx;
    out[cell] = logit;
    out[(1 + KINDS.indexOf(kind)) * N + cell] = 5;
    out[(1 + KINDS.length + COLOURS.indexOf(colour)) * N + cell] = 5;
    out[(DETECTOR_OUTPUTS - 1) * N + cell] = Math.log(depth);
  }
  return out;
}

describe("detector decode", () => {
  it("keeps two different props standing in neighbouring cells", () => {
    const props = decodeHead(head([
      { cy: 2, cx: 2, logit: 3, kind: "barrel", colour: "red", depth: 4 },
      { cy: 2, cx: 3, logit: 2, kind: "crate", colour: "red", depth: 5 },
      { cy: 3, cx: 3, logit: 1.5, kind: "barrel", colour: "blue" },
    ]), G, 0.6);
    expect(props.map((p) => `${p.colour} ${p.kind}`)).toEqual(["red barrel", "red crate", "blue barrel"]);
    expect(props[0]).toMatchObject({ cy: 2, cx: 2 });
    expect(props[0].depth).toBeCloseTo(4, 5);
    expect(props[1].depth).toBeCloseTo(5, 5);
  });

  it("reads one prop spread over neighbouring cells as one, at its most likely cell", () => {
    const props = decodeHead(head([
      { cy: 1, cx: 1, logit: 1, kind: "sack", colour: "white" },
      { cy: 1, cx: 2, logit: 4, kind: "sack", colour: "white" },
      { cy: 2, cx: 2, logit: 2, kind: "sack", colour: "white" },
    ]), G, 0.6);
    expect(props).toHaveLength(1);
    expect(props[0]).toMatchObject({ kind: "sack", colour: "white", cy: 1, cx: 2 });
  });

  it("keeps the same prop twice when two cells apart, and drops cells under the threshold", () => {
    const props = decodeHead(head([
      { cy: 0, cx: 0, logit: 2, kind: "bucket", colour: "grey" },
      { cy: 0, cx: 2, logit: 3, kind: "bucket", colour: "grey" },
      { cy: 5, cx: 5, logit: 0.2, kind: "crate", colour: "green" }, // sigmoid 0.55 < 0.6
    ]), G, 0.6);
    expect(props.map((p) => [p.cy, p.cx])).toEqual([[0, 2], [0, 0]]);
  });

  it("refuses an output of the wrong size", () => {
    expect(() => decodeHead(new Float32Array(10), G, 0.6)).toThrow(/head output has 10 values/);
  });
});

describe("faint props", () => {
  // One cell whose object probability and kind/colour readings are set as probabilities.
  function soft(cells: { cy: number; cx: number; obj: number; kinds: Partial<Record<Kind, number>>; colours: Partial<Record<ColourWord, number>>; depth?: number }[]): Float32Array {
    const out = new Float32Array(DETECTOR_OUTPUTS * N).fill(0);
    for (let c = 0; c < N; c++) out[c] = -8;
    const logOr = (p: number | undefined) => Math.log(p ?? 1e-6);
    for (const { cy, cx, obj, kinds, colours, depth = 3 } of cells) {
      const cell = cy * G + cx;
      out[cell] = Math.log(obj / (1 - obj));
      KINDS.forEach((k, i) => (out[(1 + i) * N + cell] = logOr(kinds[k])));
      COLOURS.forEach((c, i) => (out[(1 + KINDS.length + i) * N + cell] = logOr(colours[c])));
      out[(DETECTOR_OUTPUTS - 1) * N + cell] = Math.log(depth);
    }
    return out;
  }
  const out = soft([
    // under the 0.6 threshold: a crate, grey or brown
    { cy: 1, cx: 4, obj: 0.5, kinds: { crate: 0.9, barrel: 0.1 }, colours: { grey: 0.6, brown: 0.4 }, depth: 6 },
    // a sure red barrel
    { cy: 3, cx: 1, obj: 0.95, kinds: { barrel: 1 }, colours: { red: 0.7, brown: 0.3 }, depth: 2 },
  ]);
  it("keeps each kind and colour the sure reading does not, at its best cell, when P(object)·P(kind)·P(colour) reaches the bar", () => {
    const sure = decodeHead(out, G, 0.6);
    expect(sure.map((p) => `${p.colour} ${p.kind}`)).toEqual(["red barrel"]);
    const faint = faintProps(out, G, sure, 0.1);
    // most likely first: brown barrel (the sure cell's second colour, 0.95 · 1 · 0.3), grey crate
    // (0.5 · 0.9 · 0.6), brown crate (0.5 · 0.9 · 0.4)
    expect(faint.map((p) => `${p.colour} ${p.kind}`)).toEqual(["brown barrel", "grey crate", "brown crate"]);
    expect(faint[0]).toMatchObject({ cy: 3, cx: 1 });
    expect(faint[0].p).toBeCloseTo(0.285, 3);
    expect(faint[1]).toMatchObject({ cy: 1, cx: 4 });
    expect(faint[1].p).toBeCloseTo(0.27, 3);
    expect(faint[1].depth).toBeCloseTo(6, 4);
    // a higher bar keeps fewer; the grey barrel (0.5 · 0.1 · 0.6 = 0.03) never passes 0.1
    expect(faintProps(out, G, sure, 0.25).map((p) => `${p.colour} ${p.kind}`)).toEqual(["brown barrel", "grey crate"]);
    expect(faint.some((p) => p.kind === "barrel" && p.colour === "grey")).toBe(false);
  });

  it("says how sure each prop's label is: the lesser of P(kind) and P(colour) at its cell", () => {
    const [barrel] = decodeHead(out, G, 0.6);
    expect(barrel.label).toBeCloseTo(0.7, 4); // P(barrel) 1, P(red) 0.7
    const [crate] = decodeHead(out, G, 0.4).filter((p) => p.kind === "crate");
    expect(crate.label).toBeCloseTo(0.6, 4); // P(crate) 0.9, P(grey) 0.6
    expect(faintProps(out, G, [], 0.1).find((p) => p.colour === "brown" && p.kind === "crate")!.label).toBeCloseTo(0.4, 4);
  });
});
