import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeBackend } from "../core/runtime/backend-node.ts";
import { nodePackageFiles } from "../core/runtime/model/files-node.ts";
import { mirrorPixels, rgbaToPixels, VisionEncoder, withMirror } from "../core/vision/encoder.ts";
import { decodeHead, MAX_SEEN, PropDetector } from "../core/vision/detector.ts";
import { loadVisionPackage } from "../core/vision/manifest.ts";
import { checkFeatures, Projector } from "../core/vision/projector.ts";

// The vision encoder (ONNX graph built in TypeScript) and projector against the PyTorch reference
// (training/vision/model.py), on a seeded random package.

const PY = "/usr/bin/python3";
let dir: string;
let ref: { pixels: number[]; features: number[]; tokens: number[] };
let detRef: { features: number[]; detected: [number, number, string, string, number, number][][] };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "kith-vision-"));
  execFileSync(PY, ["training/vision/make_package.py", "--random", "--out", join(dir, "pkg"), "--hidden", "64", "--feature-dim", "32", "--seed", "3"]);
  execFileSync(PY, ["training/vision/reference.py", "--pkg", join(dir, "pkg"), "--out", join(dir, "ref.json")]);
  ref = JSON.parse(readFileSync(join(dir, "ref.json"), "utf8"));
  execFileSync(PY, ["training/vision/make_package.py", "--random", "--out", join(dir, "wide"), "--hidden", "64", "--feature-dim", "32", "--seed", "4", "--widths", "16,40,56,72,80"]);
  execFileSync(PY, ["training/vision/reference.py", "--pkg", join(dir, "wide"), "--out", join(dir, "wide.json")]);
  execFileSync(PY, ["training/vision/make_package.py", "--random", "--out", join(dir, "det"), "--hidden", "64", "--feature-dim", "32", "--seed", "5", "--detector-hidden", "24"]);
  execFileSync(PY, ["training/vision/reference.py", "--pkg", join(dir, "det"), "--out", join(dir, "det.json")]);
  detRef = JSON.parse(readFileSync(join(dir, "det.json"), "utf8"));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe("vision encoder and projector", () => {
  it("match PyTorch within 1e-4 (features and visual tokens, batch of 2)", async () => {
    const pkg = await loadVisionPackage(join(dir, "pkg"), nodePackageFiles);
    const enc = await VisionEncoder.create(pkg, nodeBackend({ threads: 1 }));
    const feats = await enc.encode(Float32Array.from(ref.pixels), 2);
    expect(maxDiff(feats, ref.features)).toBeLessThan(1e-4);
    const proj = new Projector(pkg);
    const per = 64 * 32;
    const tokens = new Float32Array(2 * 16 * 64);
    for (let b = 0; b < 2; b++) tokens.set(proj.project(feats.subarray(b * per, (b + 1) * per)), b * 16 * 64);
    expect(maxDiff(tokens, ref.tokens)).toBeLessThan(1e-4);
    // the two pictures differ, so their tokens do
    expect(maxDiff(tokens.subarray(0, 1024), tokens.subarray(1024))).toBeGreaterThan(1e-5);
    await enc.release();
  });

  it("loads an encoder with its own widths (vision.json encoder_convs) and matches PyTorch", async () => {
    const pkg = await loadVisionPackage(join(dir, "wide"), nodePackageFiles);
    expect(pkg.manifest.encoder_convs).toEqual([[3, 16, 1], [16, 40, 2], [40, 56, 2], [56, 72, 2], [72, 80, 1]]);
    const wide = JSON.parse(readFileSync(join(dir, "wide.json"), "utf8"));
    const enc = await VisionEncoder.create(pkg, nodeBackend({ threads: 1 }));
    const feats = await enc.encode(Float32Array.from(wide.pixels), 2);
    expect(maxDiff(feats, wide.features)).toBeLessThan(1e-4);
    await enc.release();
  });

  it("the prop detector finds the same props as PyTorch (cells, kinds, colours, depths)", async () => {
    const pkg = await loadVisionPackage(join(dir, "det"), nodePackageFiles);
    expect(pkg.manifest.detector).toEqual({ file: "detector.safetensors", hidden: 24, threshold: 0.5 });
    const det = new PropDetector(pkg.detectorWeights!, pkg.manifest, pkg.manifest.detector!);
    const per = 64 * 32;
    let props = 0;
    for (let b = 0; b < 2; b++) {
      const got = det.detect(Float32Array.from(detRef.features.slice(b * per, (b + 1) * per)));
      const want = detRef.detected[b];
      const key = (cy: number, cx: number) => `${cy},${cx}`;
      expect(got.map((d) => key(d.cy, d.cx)).sort()).toEqual(want.map((w) => key(w[0], w[1])).sort());
      for (const [cy, cx, kind, colour, depth, p] of want) {
        const d = got.find((g) => g.cy === cy && g.cx === cx)!;
        expect([d.kind, d.colour]).toEqual([kind, colour]);
        expect(Math.abs(d.depth - depth) / depth).toBeLessThan(1e-4);
        expect(Math.abs(d.p - p)).toBeLessThan(1e-5);
      }
      props += want.length;
      // As sight facts: nearest first, the picture's left half is the NPC's left.
      // The faint ones after them: none reads as a sure prop does.
      const all = det.sight(Float32Array.from(detRef.features.slice(b * per, (b + 1) * per)));
      const sight = all.filter((s) => !s.faint);
      expect(all.slice(0, sight.length)).toEqual(sight);
      expect(sight.map((s) => s.depth)).toEqual([...sight.map((s) => s.depth)].sort((x, y) => x - y));
      for (const s of sight) expect(got.some((d) => `${d.colour} ${d.kind}` === s.label && (d.cx < 4) === (s.side === "left"))).toBe(true);
      for (const s of all.slice(sight.length)) expect(sight.some((x) => x.label === s.label)).toBe(false);
    }
    expect(props).toBeGreaterThan(0);
    // Two looks: the head's output is the mean of the picture's and its mirror's, the mirror's
    // columns flipped back; the sight facts are that output decoded.
    const f0 = Float32Array.from(detRef.features.slice(0, per)), f1 = Float32Array.from(detRef.features.slice(per, 2 * per));
    const a = det.head(f0), m = det.head(f1), both = det.head(f0, f1), G = 8;
    let worst = 0;
    for (let ch = 0; ch < both.length / (G * G); ch++) {
      for (let y = 0; y < G; y++) for (let x = 0; x < G; x++) {
        const at = ch * G * G + y * G;
        worst = Math.max(worst, Math.abs(both[at + x] - (a[at + x] + m[at + G - 1 - x]) / 2));
      }
    }
    expect(worst).toBeLessThan(1e-6);
    expect(det.sight(f0, f1).filter((s) => !s.faint).map((s) => s.label).sort()).toEqual(decodeHead(both, G, 0.5).slice(0, MAX_SEEN).map((d) => `${d.colour} ${d.kind}`).sort());
    expect(det.head(f0, f1)).not.toEqual(a);
    // A prop whose kind or colour is read at less than the label threshold is not told as seen,
    // only kept as a faint one (for a question that names it).
    const labels = decodeHead(both, G, 0.5).slice(0, MAX_SEEN).map((d) => d.label).sort((x, y) => x - y);
    expect(labels.length).toBeGreaterThan(1);
    const bar = (labels[0] + labels[labels.length - 1]) / 2;
    const strict = new PropDetector(pkg.detectorWeights!, pkg.manifest, { ...pkg.manifest.detector!, label_threshold: bar });
    const seen = strict.sight(f0, f1), all = decodeHead(both, G, 0.5);
    const sure = all.filter((d) => d.label >= bar).slice(0, MAX_SEEN), name = (d: { colour: string; kind: string }) => `${d.colour} ${d.kind}`;
    expect(seen.filter((s) => !s.faint).map((s) => s.label).sort()).toEqual(sure.map(name).sort());
    const unsure = all.filter((d) => d.label < bar && !sure.some((x) => name(x) === name(d)));
    expect(unsure.length).toBeGreaterThan(0);
    for (const d of unsure) expect(seen.some((s) => s.faint && s.label === name(d))).toBe(true);
    // The list threshold: a sure prop whose label is read at less than it is still seen (counted,
    // found) but marked unlisted, so "what do you see?" leaves it out; the others are not marked.
    const listing = new PropDetector(pkg.detectorWeights!, pkg.manifest, { ...pkg.manifest.detector!, list_threshold: bar });
    const told = listing.sight(f0, f1).filter((s) => !s.faint), top = all.slice(0, MAX_SEEN);
    expect(told.map((s) => s.label).sort()).toEqual(top.map(name).sort());
    expect(told.filter((s) => s.unlisted).map((s) => s.label).sort()).toEqual(top.filter((d) => d.label < bar).map(name).sort());
    expect(told.some((s) => s.unlisted)).toBe(true);
    expect(told.some((s) => !s.unlisted)).toBe(true);
    // A package whose detector file is damaged fails to load, naming the tensor.
    cpSync(join(dir, "det"), join(dir, "det-bad"), { recursive: true });
    const bad = JSON.parse(readFileSync(join(dir, "det-bad", "vision.json"), "utf8"));
    bad.detector.hidden = 30;
    writeFileSync(join(dir, "det-bad", "vision.json"), JSON.stringify(bad));
    await expect(loadVisionPackage(join(dir, "det-bad"), nodePackageFiles)).rejects.toThrow(/detector.safetensors: tensor "c1.weight" has shape \[24,32,3,3\], expected \[30,32,3,3\]/);
    bad.detector.threshold = 2;
    writeFileSync(join(dir, "det-bad", "vision.json"), JSON.stringify(bad));
    await expect(loadVisionPackage(join(dir, "det-bad"), nodePackageFiles)).rejects.toThrow(/"detector.threshold" must be a probability/);
    bad.detector.threshold = 0.6;
    bad.detector.look_threshold = "low";
    writeFileSync(join(dir, "det-bad", "vision.json"), JSON.stringify(bad));
    await expect(loadVisionPackage(join(dir, "det-bad"), nodePackageFiles)).rejects.toThrow(/"detector.look_threshold" must be a probability/);
    bad.detector.look_threshold = 0.1;
    bad.detector.label_threshold = 1;
    writeFileSync(join(dir, "det-bad", "vision.json"), JSON.stringify(bad));
    await expect(loadVisionPackage(join(dir, "det-bad"), nodePackageFiles)).rejects.toThrow(/"detector.label_threshold" must be a probability from 0/);
    bad.detector.label_threshold = 0.8;
    bad.detector.list_threshold = -0.5;
    writeFileSync(join(dir, "det-bad", "vision.json"), JSON.stringify(bad));
    await expect(loadVisionPackage(join(dir, "det-bad"), nodePackageFiles)).rejects.toThrow(/"detector.list_threshold" must be a probability from 0/);
  });

  it("mirrors a picture left to right, each channel's rows, and batches it after the picture", () => {
    const S = 4, px = Float32Array.from({ length: 3 * S * S }, (_, i) => i);
    const m = mirrorPixels(px, S);
    for (let c = 0; c < 3; c++) for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) expect(m[c * S * S + y * S + x]).toBe(px[c * S * S + y * S + S - 1 - x]);
    expect(mirrorPixels(m, S)).toEqual(px);
    expect(withMirror(px, S)).toEqual(Float32Array.from([...px, ...m]));
  });

  it("converts RGBA rows top-first into planar pixels", () => {
    const rgba = new Uint8Array(64 * 64 * 4);
    rgba.set([255, 0, 51, 255], 0); // top-left pixel
    rgba.set([0, 255, 0, 255], (63 * 64 + 63) * 4); // bottom-right
    const px = rgbaToPixels(rgba);
    expect(px[0]).toBe(1);
    expect(px[2 * 4096]).toBeCloseTo(0.2, 6);
    expect(px[4096 + 4095]).toBe(1);
    expect(() => rgbaToPixels(new Uint8Array(100))).toThrow(/expected 16384 RGBA bytes/);
  });

  it("checkFeatures names what is wrong", async () => {
    const pkg = await loadVisionPackage(join(dir, "pkg"), nodePackageFiles);
    const m = pkg.manifest;
    expect(checkFeatures(new Float32Array(64 * 32), m)).toBeNull();
    expect(checkFeatures(new Float32Array(10), m)).toMatch(/expected 2048 values/);
    const nan = new Float32Array(64 * 32); nan[7] = NaN;
    expect(checkFeatures(nan, m)).toMatch(/value 7 is not finite/);
    const big = new Float32Array(64 * 32); big[3] = 99;
    expect(checkFeatures(big, m)).toMatch(/outside ±8/);
  });

  it("refuses damaged packages, naming the file", async () => {
    const bad = join(dir, "bad");
    cpSync(join(dir, "pkg"), bad, { recursive: true });
    const enc = readFileSync(join(bad, "encoder.safetensors"));
    writeFileSync(join(bad, "encoder.safetensors"), enc.subarray(0, enc.length - 100));
    await expect(loadVisionPackage(bad, nodePackageFiles)).rejects.toThrow(/encoder\.safetensors: truncated/);
    const m = JSON.parse(readFileSync(join(dir, "pkg", "vision.json"), "utf8"));
    writeFileSync(join(bad, "vision.json"), JSON.stringify({ ...m, grid: 7 }));
    await expect(loadVisionPackage(bad, nodePackageFiles)).rejects.toThrow(/vision\.json: "grid" is 7/);
    const convs = [[3, 24, 1], [24, 32, 2], [32, 48, 2], [48, 64, 2], [64, 64, 1]];
    writeFileSync(join(bad, "vision.json"), JSON.stringify({ ...m, encoder_convs: [convs[0], [20, 32, 2], ...convs.slice(2)] }));
    await expect(loadVisionPackage(bad, nodePackageFiles)).rejects.toThrow(/"encoder_convs"\[1\] reads 20 channels but the layer before gives 24/);
    writeFileSync(join(bad, "vision.json"), JSON.stringify({ ...m, encoder_convs: [...convs.slice(0, 4), [64, 64, 2]] }));
    await expect(loadVisionPackage(bad, nodePackageFiles)).rejects.toThrow(/"encoder_convs"\[4\] has stride 2; this runtime needs 1/);
    writeFileSync(join(bad, "vision.json"), JSON.stringify({ ...m, encoder_convs: convs.map(([i, o, s]) => [i, o === 64 ? 128 : o, s]) }));
    await expect(loadVisionPackage(bad, nodePackageFiles)).rejects.toThrow(/"encoder_convs"\[4\] reads 64 channels but the layer before gives 128/);
    writeFileSync(join(bad, "vision.json"), "{nope");
    await expect(loadVisionPackage(bad, nodePackageFiles)).rejects.toThrow(/vision\.json: not valid JSON/);
    await expect(loadVisionPackage(join(dir, "none"), nodePackageFiles)).rejects.toThrow(/vision\.json missing/);
  });
});
