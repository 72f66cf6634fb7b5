import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hasTorch, PYTHON } from "./python.ts";
import { nodeBackend } from "../core/runtime/backend-node.ts";
import { nodePackageFiles } from "../core/runtime/model/files-node.ts";
import { VisionEncoder } from "../core/vision/encoder.ts";
import { PropDetector } from "../core/vision/detector.ts";
import { loadVisionPackage } from "../core/vision/manifest.ts";

// train_detector.py with --train_encoder=1 on a tiny dataset of flat squares (a coloured square
// per picture where its prop's centre is, a view record that says so), from a random package with
// a detector: the encoder is trained with the head, both are installed, the package's recorded
// grounding figures (measured with the old encoder) are dropped, and the loss falls.

const dir = mkdtempSync(join(tmpdir(), "kith-det-train-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RGB: Record<string, [number, number, number]> = { red: [168, 41, 33], blue: [46, 87, 158], white: [230, 224, 209] };
const KIND = ["barrel", "crate"];

function split(name: string, n: number, seed: number): void {
  const d = join(dir, "data", name);
  mkdirSync(d, { recursive: true });
  const img = new Uint8Array(n * 64 * 64 * 3).fill(90);
  const views: string[] = [];
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let i = 0; i < n; i++) {
    const colour = Object.keys(RGB)[Math.floor(rnd() * 3)], kind = KIND[Math.floor(rnd() * 2)];
    const u = 0.15 + rnd() * 0.7, v = 0.3 + rnd() * 0.5, size = kind === "crate" ? 10 : 6;
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
      const px = Math.round(u * 64 - size / 2 + x), py = Math.round(v * 64 - size / 2 + y);
      img.set(RGB[colour], ((i * 64 + py) * 64 + px) * 3);
    }
    views.push(JSON.stringify({ props: [{ kind, colour, visible: true, u, v, depth: 3 + rnd() * 5, px: size, pxWidth: size }] }));
  }
  writeFileSync(join(d, "images.u8"), img);
  writeFileSync(join(d, "views.jsonl"), views.join("\n") + "\n");
}

describe("train_detector.py --train_encoder", () => {
  it.skipIf(!hasTorch())("trains the encoder with the head and installs both", () => {
    const pkg = join(dir, "pkg");
    execFileSync(PYTHON, ["training/vision/make_package.py", "--random", "--out", pkg, "--hidden", "64", "--feature-dim", "32", "--seed", "7", "--detector-hidden", "16"]);
    const manifestFile = join(pkg, "vision.json");
    const m0 = JSON.parse(readFileSync(manifestFile, "utf8"));
    writeFileSync(manifestFile, JSON.stringify({ ...m0, grounding: { accuracy: 0.4, blind_accuracy: 0.3, questions: 9 }, detector: { ...m0.detector, look_threshold: 0.15, heldout: { precision: 0.1, recall: 0.2, f1: 0.3 } } }));
    const encoderBefore = readFileSync(join(pkg, "encoder.safetensors"));
    split("train", 64, 1);
    split("train2", 32, 3);
    split("heldout", 24, 2);
    split("val", 20, 4);
    const out = execFileSync(PYTHON, ["training/vision/train_detector.py", `--package=${pkg}`, `--data=${join(dir, "data")}`, `--out=${join(dir, "out")}`,
      "--max_steps=60", "--eval_every=30", "--batch=16", "--hidden=16", "--train_encoder=1", "--enc_lr=2e-3", "--install=1", "--train_splits=train,train2", "--val_split=val"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    expect(out).toMatch(/head starts from/);
    const last = JSON.parse(out.trim().split("\n").pop()!);
    // Both training splits, one held-out split; the threshold chosen on the validation split and
    // the held-out figures given at it.
    expect(last).toMatchObject({ encoder_trained: true, steps: 60, train_pictures: 96, heldout_pictures: 24 });
    expect(last.threshold_from).toMatch(/^val \(20 pictures, F1 /);
    expect(out).toContain(`threshold ${last.threshold} chosen on val`);
    const saved = JSON.parse(readFileSync(join(dir, "out", "detector_metrics.json"), "utf8")).metrics;
    expect(saved.f1).toBe(saved.by_threshold[String(last.threshold)].f1);
    const m1 = JSON.parse(readFileSync(manifestFile, "utf8"));
    expect(m1.grounding).toBeUndefined();
    // The manifest's other detector entries stay; the figures before are kept for the record.
    expect(m1.detector).toMatchObject({ file: "detector.safetensors", hidden: 16, look_threshold: 0.15, threshold: last.threshold, threshold_from: last.threshold_from });
    expect(m1.detector.heldout_before).toEqual({ precision: 0.1, recall: 0.2, f1: 0.3 });
    expect(m1.detector.heldout).toEqual({ precision: last.precision, recall: last.recall, f1: last.f1 });
    expect(m1.metrics.encoder_with_detector.steps).toBe(60);
    expect(readFileSync(join(pkg, "encoder.safetensors")).equals(encoderBefore)).toBe(false);
    const curve = JSON.parse(readFileSync(join(dir, "out", "detector_metrics.json"), "utf8")).curve as { train_loss: number }[];
    const mean = (xs: { train_loss: number }[]) => xs.reduce((a, c) => a + c.train_loss, 0) / xs.length;
    expect(mean(curve.slice(-10))).toBeLessThan(mean(curve.slice(0, 10)));
  }, 180_000);

  it.skipIf(!hasTorch())("--fresh trains a new, wider encoder with BatchNorm and ships it folded: the runtime finds what PyTorch finds", async () => {
    const pkg = join(dir, "pkg-fresh");
    execFileSync(PYTHON, ["training/vision/make_package.py", "--random", "--out", pkg, "--hidden", "64", "--feature-dim", "32", "--seed", "8", "--detector-hidden", "16"]);
    split("train", 64, 1);
    split("heldout", 24, 2);
    const out = execFileSync(PYTHON, ["training/vision/train_detector.py", `--package=${pkg}`, `--data=${join(dir, "data")}`, `--out=${join(dir, "out-fresh")}`,
      "--max_steps=40", "--eval_every=40", "--batch=16", "--hidden=12", "--fresh=1", "--widths=8,12,16,20,20", "--lr=3e-3", "--enc_lr=3e-3", "--install=1"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    expect(out).not.toMatch(/head starts from/);
    const last = JSON.parse(out.trim().split("\n").pop()!);
    expect(last).toMatchObject({ encoder_trained: true, encoder_fresh: true, steps: 40 });
    const m = JSON.parse(readFileSync(join(pkg, "vision.json"), "utf8"));
    expect(m.encoder_convs).toEqual([[3, 8, 1], [8, 12, 2], [12, 16, 2], [16, 20, 2], [20, 20, 1]]);
    expect(m.detector).toMatchObject({ hidden: 12 });
    expect(m.metrics.encoder_with_detector.fresh).toBe(true);
    // The installed (folded) encoder in the runtime's ONNX graph and the runtime's detector decode
    // against PyTorch's (training/vision/reference.py).
    const refFile = join(dir, "fresh-ref.json");
    execFileSync(PYTHON, ["training/vision/reference.py", "--pkg", pkg, "--out", refFile]);
    const ref = JSON.parse(readFileSync(refFile, "utf8")) as { pixels: number[]; features: number[]; detected: [number, number, string, string, number, number][][] };
    const vp = await loadVisionPackage(pkg, nodePackageFiles);
    const enc = await VisionEncoder.create(vp, nodeBackend({ threads: 1 }));
    const feats = await enc.encode(Float32Array.from(ref.pixels), 2);
    await enc.release();
    let worst = 0;
    for (let i = 0; i < feats.length; i++) worst = Math.max(worst, Math.abs(feats[i] - ref.features[i]));
    expect(worst).toBeLessThan(1e-3);
    const det = new PropDetector(vp.detectorWeights!, vp.manifest, vp.manifest.detector!);
    const per = 64 * 32;
    for (let b = 0; b < 2; b++) {
      const got = det.detect(Float32Array.from(ref.features.slice(b * per, (b + 1) * per)));
      expect(got.map((d) => `${d.cy},${d.cx} ${d.colour} ${d.kind}`).sort()).toEqual(ref.detected[b].map((w) => `${w[0]},${w[1]} ${w[3]} ${w[2]}`).sort());
    }
  }, 180_000);
});
