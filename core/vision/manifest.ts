import { ModelError } from "../runtime/model/errors.ts";
import { contentHash, type PackageFiles } from "../runtime/model/package.ts";
import { parseSafetensors, WeightStore } from "../runtime/model/safetensors.ts";
import { detectorShapes, type DetectorSpec } from "./detector.ts";

// The vision package (assets/vision/): vision.json + encoder.safetensors + projector.safetensors,
// written by training/vision/package.py. Loading checks the manifest against the contract in
// README.md and every tensor's shape, so a damaged package fails here, naming the file.

export interface GroundingRecord {
  accuracy: number;
  blind_accuracy: number;
  questions: number;
}

export interface VisionManifest {
  format: 1;
  image_size: number;
  grid: number;
  feature_dim: number;
  feature_limit: number;
  tokens: number;
  hidden: number;
  /** Hash of the base model the projector was trained for (training/lora.py base_model_hash). */
  base_model: string;
  encoder: string;
  projector: string;
  /** (in, out, stride) of the encoder's five 3×3 convolutions; absent: ENCODER_CONVS. */
  encoder_convs?: [number, number, number][];
  trained?: boolean;
  /** The skill adapter (adapters/<id>/) trained with this projector: applied at weight 1 whenever
   *  an NPC answers with a view (training/vision/train_grounding.py writes it). */
  adapter?: string;
  /** The package's held-out grounding evaluation (npm run eval:grounding): accuracy seeing and
   *  with a blank picture. Absent: never evaluated. readsViews decides from it. */
  grounding?: GroundingRecord;
  /** With a prop detector: the same evaluation on the questions the visual tokens answered (the
   *  rest went to the detector). readsViews decides from this one when present. */
  grounding_tokens?: GroundingRecord;
  /** The prop detector on the encoder's features (core/vision/detector.ts), when the package has one. */
  detector?: DetectorSpec;
}

/** How much better than blind a package must answer before the server trusts its eyes. */
export const READS_VIEW_MARGIN = 0.1;

/**
 * Whether the package's recorded evaluation shows its visual tokens read the views (seeing beats
 * blind by READS_VIEW_MARGIN): `grounding_tokens` when the package has a detector, else `grounding`.
 */
export function readsViews(m: VisionManifest): boolean {
  const g = m.grounding_tokens ?? m.grounding;
  return g !== undefined && g.accuracy - g.blind_accuracy >= READS_VIEW_MARGIN;
}

export interface VisionPackage {
  dir: string;
  manifest: VisionManifest;
  encoderWeights: WeightStore;
  projectorWeights: WeightStore;
  /** The detector's tensors, when the manifest names one. */
  detectorWeights?: WeightStore;
  hash: string;
}

/** (in, out, stride) of the encoder's 3×3 convolutions when vision.json names none;
 *  training/vision/model.py CONVS. A package may choose other widths, never other strides. */
export const ENCODER_CONVS: readonly [number, number, number][] = [[3, 24, 1], [24, 32, 2], [32, 48, 2], [48, 64, 2], [64, 64, 1]];
const MAX_WIDTH = 512;

/** The package's convolution layout (its own or the default). */
export function encoderConvs(m: VisionManifest): readonly [number, number, number][] {
  return m.encoder_convs ?? ENCODER_CONVS;
}

function checkConvs(v: unknown, fail: (what: string) => never) {
  const want = `${ENCODER_CONVS.length} [in, out, stride] triples with strides ${ENCODER_CONVS.map((c) => c[2]).join(", ")}`;
  if (!Array.isArray(v) || v.length !== ENCODER_CONVS.length) fail(`"encoder_convs" must be ${want}`);
  let prev = 3;
  (v as unknown[]).forEach((c, k) => {
    const ok = Array.isArray(c) && c.length === 3 && c.every((x) => Number.isInteger(x));
    if (!ok) fail(`"encoder_convs"[${k}] must be [in, out, stride], got ${JSON.stringify(c)}`);
    const [i, o, s] = c as number[];
    if (i !== prev) fail(`"encoder_convs"[${k}] reads ${i} channels but the layer before gives ${prev}`);
    if (o < 1 || o > MAX_WIDTH) fail(`"encoder_convs"[${k}] has ${o} output channels (1–${MAX_WIDTH})`);
    if (s !== ENCODER_CONVS[k][2]) fail(`"encoder_convs"[${k}] has stride ${s}; this runtime needs ${ENCODER_CONVS[k][2]}`);
    prev = o;
  });
}

function parseManifest(json: unknown, file: string): VisionManifest {
  const m = json as Record<string, unknown>;
  const fail = (what: string): never => { throw new ModelError(`${file}: ${what}`); };
  if (typeof m !== "object" || m === null) fail("expected a JSON object");
  if (m.format !== 1) fail(`format ${JSON.stringify(m.format)} is not supported (expected 1)`);
  const need: [keyof VisionManifest, number | null][] = [["image_size", 64], ["grid", 8], ["tokens", 16], ["feature_dim", null], ["feature_limit", null], ["hidden", null]];
  for (const [k, fixed] of need) {
    const v = m[k];
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) fail(`"${k}" must be a positive number, got ${JSON.stringify(v)}`);
    if (fixed !== null && v !== fixed) fail(`"${k}" is ${v}; this runtime supports ${fixed}`);
  }
  for (const k of ["encoder", "projector", "base_model"] as const) if (typeof m[k] !== "string" || !(m[k] as string)) fail(`"${k}" must be a non-empty string`);
  if (m.encoder_convs !== undefined) checkConvs(m.encoder_convs, fail);
  for (const k of ["grounding", "grounding_tokens"] as const) {
    if (m[k] === undefined) continue;
    const g = m[k] as Record<string, unknown>;
    const frac = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v >= 0 && v <= 1;
    if (typeof g !== "object" || g === null || !frac(g.accuracy) || !frac(g.blind_accuracy) || !(typeof g.questions === "number" && g.questions >= 0)) {
      fail(`"${k}" must be {accuracy, blind_accuracy (0..1), questions}, got ${JSON.stringify(m[k])}`);
    }
  }
  if (m.detector !== undefined) {
    const d = m.detector as Record<string, unknown>;
    if (typeof d !== "object" || d === null || typeof d.file !== "string" || !d.file) fail(`"detector" must be {file, hidden, threshold}, got ${JSON.stringify(m.detector)}`);
    if (!Number.isInteger(d.hidden) || (d.hidden as number) < 1 || (d.hidden as number) > MAX_WIDTH) fail(`"detector.hidden" must be a whole number 1–${MAX_WIDTH}, got ${JSON.stringify(d.hidden)}`);
    if (typeof d.threshold !== "number" || !(d.threshold > 0 && d.threshold < 1)) fail(`"detector.threshold" must be a probability between 0 and 1, got ${JSON.stringify(d.threshold)}`);
    if (d.look_threshold !== undefined && (typeof d.look_threshold !== "number" || !(d.look_threshold > 0 && d.look_threshold <= 1))) fail(`"detector.look_threshold" must be a probability above 0 and at most 1, got ${JSON.stringify(d.look_threshold)}`);
    if (d.label_threshold !== undefined && (typeof d.label_threshold !== "number" || !(d.label_threshold >= 0 && d.label_threshold < 1))) fail(`"detector.label_threshold" must be a probability from 0 up to (not including) 1, got ${JSON.stringify(d.label_threshold)}`);
    if (d.list_threshold !== undefined && (typeof d.list_threshold !== "number" || !(d.list_threshold >= 0 && d.list_threshold < 1))) fail(`"detector.list_threshold" must be a probability from 0 up to (not including) 1, got ${JSON.stringify(d.list_threshold)}`);
  }
  return m as unknown as VisionManifest;
}

function expectShapes(w: WeightStore, file: string, shapes: Record<string, number[]>) {
  for (const [name, shape] of Object.entries(shapes)) {
    if (!w.has(name)) throw new ModelError(`${file}: missing tensor "${name}" (expected shape ${JSON.stringify(shape)})`);
    w.get(name, shape);
  }
}

/** `detector: false` skips the detector's file (a browser that only encodes has no use for it). */
export async function loadVisionPackage(dir: string, fs: PackageFiles, opts: { detector?: boolean } = {}): Promise<VisionPackage> {
  const mpath = `${dir}/vision.json`;
  if (!(await fs.exists(mpath))) throw new ModelError(`${mpath}: no vision package here (vision.json missing)`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(await fs.read(mpath)));
  } catch (e) {
    throw new ModelError(`${mpath}: not valid JSON (${(e as Error).message})`);
  }
  const manifest = parseManifest(json, mpath);
  const D = manifest.feature_dim, H = manifest.hidden;
  const encPath = `${dir}/${manifest.encoder}`, projPath = `${dir}/${manifest.projector}`;
  const encBytes = await fs.read(encPath), projBytes = await fs.read(projPath);
  const encoderWeights = new WeightStore(parseSafetensors(encBytes, encPath));
  const projectorWeights = new WeightStore(parseSafetensors(projBytes, projPath));
  const encShapes: Record<string, number[]> = {};
  const convs = encoderConvs(manifest);
  convs.forEach(([i, o], k) => {
    encShapes[`conv${k}.weight`] = [o, i, 3, 3];
    encShapes[`conv${k}.bias`] = [o];
  });
  encShapes["out.weight"] = [D, convs[convs.length - 1][1], 1, 1];
  encShapes["out.bias"] = [D];
  expectShapes(encoderWeights, encPath, encShapes);
  expectShapes(projectorWeights, projPath, {
    "merge.weight": [H, 4 * D], "merge.bias": [H], "out.weight": [H, H], "out.bias": [H], pos: [manifest.tokens, H],
  });
  let detectorWeights: WeightStore | undefined;
  let detBytes: Uint8Array = new Uint8Array(0);
  if (manifest.detector && opts.detector !== false) {
    const detPath = `${dir}/${manifest.detector.file}`;
    detBytes = await fs.read(detPath);
    detectorWeights = new WeightStore(parseSafetensors(detBytes, detPath));
    expectShapes(detectorWeights, detPath, detectorShapes(D, manifest.detector.hidden));
  }
  const parts = [contentHash(encBytes), contentHash(projBytes), ...(detectorWeights ? [contentHash(detBytes)] : [])];
  const hash = contentHash(new Uint8Array(parts.join("").split("").map((c) => c.charCodeAt(0))));
  return { dir, manifest, encoderWeights, projectorWeights, detectorWeights, hash };
}
