import type { WeightStore } from "../runtime/model/safetensors.ts";
import type { VisionManifest } from "./manifest.ts";
import { checkFeatures } from "./projector.ts";
import type { SightFact } from "./seen.ts";
import { COLOURS, KINDS } from "./vocab.ts";

// The prop detector of a vision package (training/vision/train_detector.py): a small head on the
// encoder's features that says, per cell of the grid, whether a visible prop's centre is there and
// its kind, colour and depth. Its props become the sight lines (core/vision/seen.ts) that the
// `skill-sight` pack reads, so the NPC answers about the props in its picture with the same pack
// that reads them from the scene graph. Same math as the Python `Detector` and `decode`:
//   features as a (D, G, G) grid → 3×3 conv (D → H) → ReLU → 3×3 conv (H → H) → ReLU →
//   1×1 conv (H → 1 + kinds + colours + 1): object logit, kind and colour logits, log-depth;
//   a cell is a prop when sigmoid(object) ≥ threshold and no neighbour (3×3) reading as the same
//   kind and colour is more likely.
// About 2.6 M multiply-adds a view (D = H = 64): a few milliseconds of plain TypeScript.

export interface DetectorSpec {
  file: string;
  hidden: number;
  /** Object probability a cell needs (the held-out best F1 in training). */
  threshold: number;
  /** Probability a faint prop needs (LOOK_THRESHOLD when absent). */
  look_threshold?: number;
  /** P(kind) and P(colour) a sure prop needs at its cell (LABEL_THRESHOLD when absent). */
  label_threshold?: number;
  /** P(kind) and P(colour) a sure prop needs to be named when the NPC says all it sees; one below it
   *  is still counted, found and said to be there (absent: every sure prop is named). */
  list_threshold?: number;
  /** Object-level precision, recall, F1 on the held-out split, as trained. */
  heldout?: { precision: number; recall: number; f1: number };
}

export interface DetectedProp {
  kind: string;
  colour: string;
  /** Grid cell of the prop's centre (row from the top, column from the left). */
  cy: number;
  cx: number;
  /** Camera-space metres. */
  depth: number;
  /** Object probability. */
  p: number;
  /** The lesser of P(kind) and P(colour) at the prop's cell: how sure its label is. */
  label: number;
}

/**
 * Probability a kind and colour need, at their best cell, to be kept as a faint prop: one the
 * detector is not sure of, used only when a player's question names it ("where is the grey crate?",
 * core/vision/ask.ts). A question about a thing says the player sees one, so the NPC looks for that
 * thing rather than for any prop. Chosen on views rendered for it alone (data/vision/val, seed 4243;
 * training/vision/README.md "Looking for what is asked"): side and depth answers gain the most at
 * 0.1, where a kind and colour not in view reach it about twice in a hundred.
 */
export const LOOK_THRESHOLD = 0.1;

/**
 * P(kind) and P(colour) a prop needs, at its cell, to be told as seen (listed, counted, said to be
 * there); a prop below it is kept as a faint one, for a question that names it. Most of the
 * detector's wrong props are a barrel read as a crate or the reverse, and those are the ones it is
 * least sure of the kind of. Chosen on data/vision/val (training/vision/README.md, "Sure of what it
 * is").
 */
export const LABEL_THRESHOLD = 0;

/** The most props a view's sight facts hold (the rendered views never show more than 6). */
export const MAX_SEEN = 12;

/** Output channels of the head: object, kinds, colours, log-depth. */
export const DETECTOR_OUTPUTS = 1 + KINDS.length + COLOURS.length + 1;

/** Tensor shapes of a detector with feature width D and hidden width H. */
export function detectorShapes(D: number, H: number): Record<string, number[]> {
  return {
    "c1.weight": [H, D, 3, 3], "c1.bias": [H],
    "c2.weight": [H, H, 3, 3], "c2.bias": [H],
    "out.weight": [DETECTOR_OUTPUTS, H, 1, 1], "out.bias": [DETECTOR_OUTPUTS],
  };
}

/** 3×3 convolution, padding 1, on a (C, G, G) grid → (O, G, G), ReLU after. */
function conv3(x: Float32Array, C: number, G: number, w: Float32Array, b: Float32Array, O: number): Float32Array {
  const y = new Float32Array(O * G * G);
  for (let o = 0; o < O; o++) {
    const out = o * G * G;
    y.fill(b[o], out, out + G * G);
    for (let c = 0; c < C; c++) {
      const wb = (o * C + c) * 9, xb = c * G * G;
      for (let ky = 0; ky < 3; ky++) {
        for (let kx = 0; kx < 3; kx++) {
          const wv = w[wb + ky * 3 + kx];
          for (let yy = 0; yy < G; yy++) {
            const sy = yy + ky - 1;
            if (sy < 0 || sy >= G) continue;
            for (let xx = 0; xx < G; xx++) {
              const sx = xx + kx - 1;
              if (sx >= 0 && sx < G) y[out + yy * G + xx] += wv * x[xb + sy * G + sx];
            }
          }
        }
      }
    }
  }
  for (let i = 0; i < y.length; i++) if (y[i] < 0) y[i] = 0;
  return y;
}

/** Softmax over channels from..from+n of one cell of a head's output (N cells a channel). */
function softmaxAt(out: Float32Array, N: number, from: number, n: number, cell: number): number[] {
  let max = -Infinity;
  for (let k = 0; k < n; k++) max = Math.max(max, out[(from + k) * N + cell]);
  const e = Array.from({ length: n }, (_, k) => Math.exp(out[(from + k) * N + cell] - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}

/**
 * The props in a head's output ((1 + kinds + colours + 1) channels of G×G cells, channel-major),
 * most likely first: a cell is a prop when sigmoid(object) ≥ threshold and no neighbour (3×3)
 * reading as the same kind and colour is more likely.
 */
export function decodeHead(out: Float32Array, G: number, threshold: number): DetectedProp[] {
  const N = G * G;
  if (out.length !== DETECTOR_OUTPUTS * N) throw new RangeError(`head output has ${out.length} values, expected ${DETECTOR_OUTPUTS} × ${N}`);
  const prob = (cell: number) => 1 / (1 + Math.exp(-out[cell]));
  const argmax = (from: number, n: number, cell: number) => {
    let best = 0;
    for (let k = 1; k < n; k++) if (out[(from + k) * N + cell] > out[(from + best) * N + cell]) best = k;
    return best;
  };
  // Each cell's reading (kind, colour) and object probability, once.
  const kindAt = Int32Array.from({ length: N }, (_, cell) => argmax(1, KINDS.length, cell));
  const colourAt = Int32Array.from({ length: N }, (_, cell) => argmax(1 + KINDS.length, COLOURS.length, cell));
  const label = (cell: number) => kindAt[cell] * COLOURS.length + colourAt[cell];
  const props: DetectedProp[] = [];
  for (let cy = 0; cy < G; cy++) {
    for (let cx = 0; cx < G; cx++) {
      const cell = cy * G + cx;
      const p = prob(cell);
      if (p < threshold) continue;
      // Kept unless a neighbour reading as the same kind and colour is more likely: two different
      // props in neighbouring cells both count (a quarter of the props in view stand so).
      let peak = true;
      for (let dy = -1; dy <= 1 && peak; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const y = cy + dy, x = cx + dx;
          if (y >= 0 && y < G && x >= 0 && x < G && prob(y * G + x) > p && label(y * G + x) === label(cell)) { peak = false; break; }
        }
      }
      if (!peak) continue;
      props.push({
        kind: KINDS[kindAt[cell]],
        colour: COLOURS[colourAt[cell]],
        cy, cx,
        depth: Math.exp(out[(DETECTOR_OUTPUTS - 1) * N + cell]),
        p,
        label: Math.min(Math.max(...softmaxAt(out, N, 1, KINDS.length, cell)), Math.max(...softmaxAt(out, N, 1 + KINDS.length, COLOURS.length, cell))),
      });
    }
  }
  return props.sort((a, b) => b.p - a.p);
}

/**
 * The faint props of a head's output: for each kind and colour that none of `sure` reads as, its
 * best cell by P(object)·P(kind)·P(colour), kept when that is at least `look` (`p` holds it).
 */
export function faintProps(out: Float32Array, G: number, sure: readonly DetectedProp[], look = LOOK_THRESHOLD): DetectedProp[] {
  const N = G * G, K = KINDS.length, C = COLOURS.length;
  const taken = new Set(sure.map((d) => `${d.colour} ${d.kind}`));
  const softmax = (from: number, n: number, cell: number) => softmaxAt(out, N, from, n, cell);
  const best = new Map<string, DetectedProp>();
  for (let cell = 0; cell < N; cell++) {
    const obj = 1 / (1 + Math.exp(-out[cell]));
    if (obj < look) continue;
    const pk = softmax(1, K, cell), pc = softmax(1 + K, C, cell);
    for (let k = 0; k < K; k++) {
      for (let c = 0; c < C; c++) {
        const p = obj * pk[k] * pc[c], label = `${COLOURS[c]} ${KINDS[k]}`;
        if (p < look || taken.has(label) || (best.get(label)?.p ?? 0) >= p) continue;
        best.set(label, { kind: KINDS[k], colour: COLOURS[c], cy: Math.floor(cell / G), cx: cell % G, depth: Math.exp(out[(DETECTOR_OUTPUTS - 1) * N + cell]), p, label: Math.min(pk[k], pc[c]) });
      }
    }
  }
  return [...best.values()].sort((a, b) => b.p - a.p);
}

export class PropDetector {
  private readonly w: Record<string, Float32Array> = {};

  constructor(
    weights: WeightStore,
    private readonly manifest: VisionManifest,
    readonly spec: DetectorSpec,
  ) {
    for (const [name, shape] of Object.entries(detectorShapes(manifest.feature_dim, spec.hidden))) this.w[name] = weights.get(name, shape).data;
  }

  /** The props in a view's features ([grid², D], cells row-major; checked like a client's), most likely first. */
  detect(features: Float32Array): DetectedProp[] {
    return decodeHead(this.head(features), this.manifest.grid, this.spec.threshold);
  }

  /**
   * The head's output for a view's features: (1 + kinds + colours + 1) channels of grid² cells.
   * With `mirror`, the features of the same picture mirrored left to right: the mean of both
   * outputs, the mirror's flipped back (test-time augmentation: a prop read the same way in both
   * looks is surer, one read differently less so; training/vision/README.md, "Two looks").
   */
  head(features: Float32Array, mirror?: Float32Array): Float32Array {
    const out = this.headOf(features);
    if (mirror === undefined) return out;
    const m = this.headOf(mirror), G = this.manifest.grid;
    for (let ch = 0; ch < DETECTOR_OUTPUTS; ch++) {
      for (let y = 0; y < G; y++) {
        const row = ch * G * G + y * G;
        for (let x = 0; x < G; x++) out[row + x] = (out[row + x] + m[row + G - 1 - x]) / 2;
      }
    }
    return out;
  }

  private headOf(features: Float32Array): Float32Array {
    const problem = checkFeatures(features, this.manifest);
    if (problem) throw new RangeError(problem);
    const { grid: G, feature_dim: D } = this.manifest, H = this.spec.hidden, N = G * G;
    const g = new Float32Array(D * N); // (D, G, G) from [cells, D]
    for (let cell = 0; cell < N; cell++) for (let d = 0; d < D; d++) g[d * N + cell] = features[cell * D + d];
    const h2 = conv3(conv3(g, D, G, this.w["c1.weight"], this.w["c1.bias"], H), H, G, this.w["c2.weight"], this.w["c2.bias"], H);
    const out = new Float32Array(DETECTOR_OUTPUTS * N);
    const wo = this.w["out.weight"], bo = this.w["out.bias"];
    for (let o = 0; o < DETECTOR_OUTPUTS; o++) {
      for (let cell = 0; cell < N; cell++) {
        let s = bo[o];
        for (let h = 0; h < H; h++) s += wo[o * H + h] * h2[h * N + cell];
        out[o * N + cell] = s;
      }
    }
    return out;
  }

  /**
   * What the NPC sees, as sight facts (nearest first): the left half of the picture is its left.
   * At most MAX_SEEN props, the most likely: a picture the detector reads as full of props (noise,
   * an art style it never saw) must not crowd the rest of the prompt out. After them, marked
   * `faint`, the kinds and colours it is not sure of (faintProps; a prop whose kind or colour it
   * reads at less than the label threshold is one of them), most likely first: only a
   * question that names one of them reads it (core/vision/ask.ts answerSight). `mirror`: the
   * features of the picture mirrored, when the client sent them (head).
   */
  sight(features: Float32Array, mirror?: Float32Array): SightFact[] {
    const G = this.manifest.grid, out = this.head(features, mirror);
    // A prop whose kind or colour the detector is unsure of is not told as seen; faintProps keeps it.
    const sureOfLabel = this.spec.label_threshold ?? LABEL_THRESHOLD;
    const sure = decodeHead(out, G, this.spec.threshold).filter((d) => d.label >= sureOfLabel).slice(0, MAX_SEEN);
    const fact = (d: DetectedProp, id: string): SightFact => ({ id, label: `${d.colour} ${d.kind}`, depth: d.depth, side: d.cx < G / 2 ? "left" : "right" });
    const listed = this.spec.list_threshold ?? 0;
    const told = (d: DetectedProp, id: string): SightFact => (d.label < listed ? { ...fact(d, id), unlisted: true } : fact(d, id));
    const faint = faintProps(out, G, sure, this.spec.look_threshold ?? LOOK_THRESHOLD).slice(0, MAX_SEEN);
    return [
      ...sure.map((d, i) => told(d, `seen-${i + 1}`)).sort((a, b) => a.depth - b.depth),
      ...faint.map((d, i) => ({ ...fact(d, `faint-${i + 1}`), faint: true as const })),
    ];
  }
}
