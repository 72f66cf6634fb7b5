import type { Backend, OrtSession } from "../runtime/backend.ts";
import { ModelError } from "../runtime/model/errors.ts";
import { buildEncoderGraph } from "./encoder-graph.ts";
import type { VisionManifest, VisionPackage } from "./manifest.ts";

// Runs the vision encoder on either onnxruntime: the browser (onnxruntime-web, wasm) for features
// the client sends, the server (onnxruntime-node) for games that send pixels.

/** Interleaved bytes with `channels` per pixel (RGB first; row 0 = top) → pixels [3, size, size] in 0..1. */
function toPlanar(bytes: Uint8Array, channels: 3 | 4, size: number, what: string): Float32Array {
  const n = size * size;
  if (bytes.length !== n * channels) throw new RangeError(`image: expected ${n * channels} ${what} bytes (${size}×${size}), got ${bytes.length}`);
  const out = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    out[i] = bytes[channels * i] / 255;
    out[n + i] = bytes[channels * i + 1] / 255;
    out[2 * n + i] = bytes[channels * i + 2] / 255;
  }
  return out;
}

/** RGBA bytes (row 0 = top) → pixels [3, size, size] in 0..1, the encoder's input layout. */
export const rgbaToPixels = (rgba: Uint8Array, size = 64) => toPlanar(rgba, 4, size, "RGBA");

/** Pixels [3, size, size] (or several pictures one after another) mirrored left to right: the
 *  second look the eyes' detector takes (core/vision/detector.ts, PropDetector.sight). */
export function mirrorPixels(pixels: Float32Array, size = 64): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let row = 0; row < pixels.length / size; row++) {
    const at = row * size;
    for (let x = 0; x < size; x++) out[at + x] = pixels[at + size - 1 - x];
  }
  return out;
}

/** One picture's pixels and its mirror's, one batch of two: the detector's two looks, encoded in one run. */
export function withMirror(pixels: Float32Array, size = 64): Float32Array {
  const both = new Float32Array(2 * pixels.length);
  both.set(pixels);
  both.set(mirrorPixels(pixels, size), pixels.length);
  return both;
}

/** RGB bytes (row 0 = top; the renderer's images.u8 layout) → pixels [3, size, size] in 0..1. */
export const rgbToPixels = (rgb: Uint8Array, size = 64) => toPlanar(rgb, 3, size, "RGB");

export class VisionEncoder {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly backend: Backend, private readonly session: OrtSession, readonly manifest: VisionManifest) {}

  static async create(pkg: VisionPackage, backend: Backend): Promise<VisionEncoder> {
    const bytes = buildEncoderGraph(pkg);
    const session = await backend.ort.InferenceSession.create(bytes, {
      executionProviders: backend.executionProviders,
      graphOptimizationLevel: "all",
      ...backend.sessionOptions,
    });
    return new VisionEncoder(backend, session, pkg.manifest);
  }

  /** pixels [B, 3, S, S] → features [B, grid², D]. Runs are serialized. */
  encode(pixels: Float32Array, batch = 1): Promise<Float32Array> {
    const S = this.manifest.image_size;
    if (!Number.isInteger(batch) || batch < 1) throw new ModelError(`encode: batch must be a positive integer, got ${batch}`);
    if (pixels.length !== batch * 3 * S * S) throw new ModelError(`encode: pixels has ${pixels.length} values, expected ${batch}×3×${S}×${S}`);
    const run = async () => {
      const input = new this.backend.ort.Tensor("float32", pixels, [batch, 3, S, S]);
      const out = await this.session.run({ pixels: input });
      return out.features.data as Float32Array;
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
