import * as ort from "onnxruntime-web";
import { webBackend } from "../../core/runtime/backend-web.ts";
import { fetchPackageFiles } from "../../core/runtime/model/files-fetch.ts";
import { rgbToPixels, VisionEncoder } from "../../core/vision/encoder.ts";
import { loadVisionPackage } from "../../core/vision/manifest.ts";

// Page script for eval:grounding (bundled by esbuild; "onnxruntime-web" comes from an import map):
// encodes pictures with the vision encoder on onnxruntime-web (wasm), one picture per run as the
// game does, timing each run.
declare global {
  interface Window {
    encodeAll(pkgUrl: string, imagesUrl: string, count: number): Promise<{ features: number[]; ms: number[]; featureLen: number }>;
  }
}

window.encodeAll = async (pkgUrl, imagesUrl, count) => {
  const pkg = await loadVisionPackage(pkgUrl, fetchPackageFiles());
  const enc = await VisionEncoder.create(pkg, webBackend(ort, { threads: 1 }));
  const raw = new Uint8Array(await (await fetch(imagesUrl)).arrayBuffer());
  const S = pkg.manifest.image_size, n = S * S;
  const featureLen = pkg.manifest.grid * pkg.manifest.grid * pkg.manifest.feature_dim;
  const features = new Float32Array(count * featureLen);
  const ms: number[] = [];
  // one warm-up run: the first includes wasm compilation
  await enc.encode(new Float32Array(3 * n), 1);
  for (let i = 0; i < count; i++) {
    const px = rgbToPixels(raw.subarray(i * n * 3, (i + 1) * n * 3), S); // RGB, top row first
    const t = performance.now();
    const f = await enc.encode(px, 1);
    ms.push(performance.now() - t);
    features.set(f, i * featureLen);
  }
  await enc.release();
  return { features: Array.from(features), ms, featureLen };
};
