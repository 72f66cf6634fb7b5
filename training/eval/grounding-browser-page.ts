import * as ort from "onnxruntime-web";
import { webBackend } from "../../core/runtime/backend-web.ts";
import { fetchPackageFiles } from "../../core/runtime/model/files-fetch.ts";
import { rgbToPixels, VisionEncoder, withMirror } from "../../core/vision/encoder.ts";
import { loadVisionPackage } from "../../core/vision/manifest.ts";

// Page script for eval:grounding (bundled by esbuild; "onnxruntime-web" comes from an import map):
// encodes pictures with the vision encoder on onnxruntime-web (wasm) as the game does: each picture
// and its mirror (the detector's second look) in one run of two, timing each run.
declare global {
  interface Window {
    encodeAll(pkgUrl: string, imagesUrl: string, count: number): Promise<{ features: number[]; mirrors: number[]; ms: number[]; featureLen: number }>;
  }
}

window.encodeAll = async (pkgUrl, imagesUrl, count) => {
  const pkg = await loadVisionPackage(pkgUrl, fetchPackageFiles());
  const enc = await VisionEncoder.create(pkg, webBackend(ort, { threads: 1 }));
  const raw = new Uint8Array(await (await fetch(imagesUrl)).arrayBuffer());
  const S = pkg.manifest.image_size, n = S * S;
  const featureLen = pkg.manifest.grid * pkg.manifest.grid * pkg.manifest.feature_dim;
  const features = new Float32Array(count * featureLen), mirrors = new Float32Array(count * featureLen);
  const ms: number[] = [];
  // one warm-up run: the first includes wasm compilation
  await enc.encode(new Float32Array(2 * 3 * n), 2);
  for (let i = 0; i < count; i++) {
    const both = withMirror(rgbToPixels(raw.subarray(i * n * 3, (i + 1) * n * 3), S), S); // RGB, top row first
    const t = performance.now();
    const f = await enc.encode(both, 2);
    ms.push(performance.now() - t);
    features.set(f.subarray(0, featureLen), i * featureLen);
    mirrors.set(f.subarray(featureLen), i * featureLen);
  }
  await enc.release();
  return { features: Array.from(features), mirrors: Array.from(mirrors), ms, featureLen };
};
