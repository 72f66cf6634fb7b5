import wasmUrl from "onnxruntime-web/ort-wasm-simd-threaded.wasm?url";
import { webBackend, type OrtWebModule } from "../../core/runtime/backend-web.ts";
import { fetchPackageFiles } from "../../core/runtime/model/files-fetch.ts";
import { rgbaToPixels, VisionEncoder, withMirror } from "../../core/vision/encoder.ts";
import { loadVisionPackage, type VisionManifest } from "../../core/vision/manifest.ts";

// The vision encoder in the page: onnxruntime-web (wasm, one thread) running the graph built from
// the vision package the server runs (served at /vision/, so both sides use the same weights).
// onnxruntime-web is loaded only when vision is on, as its own chunk; its .wasm binary is a
// build asset (Vite copies it and hands us its URL), since the bundled module cannot find it
// next to itself.

export interface ViewEncoder {
  readonly manifest: VisionManifest;
  /** RGBA 64×64 (row 0 = top) → features [grid², D]. */
  encode(rgba: Uint8Array): Promise<Float32Array>;
  /** The same, and the features of the picture mirrored left to right (one batch of two): the server's detector takes both looks. */
  encodeBoth(rgba: Uint8Array): Promise<{ features: Float32Array; mirror: Float32Array }>;
}

/** Loads onnxruntime-web and the vision package under `base` (a URL prefix, e.g. ".../vision"). */
export async function loadViewEncoderAsync(base: string): Promise<ViewEncoder> {
  const ort = (await import("onnxruntime-web/wasm")) as unknown as OrtWebModule;
  // A page that is not cross-origin isolated gets one thread anyway; say so to skip the probe.
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = { wasm: new URL(wasmUrl, location.href).href };
  const pkg = await loadVisionPackage(base, fetchPackageFiles(), { detector: false }); // the server runs the detector
  const encoder = await VisionEncoder.create(pkg, webBackend(ort));
  const S = pkg.manifest.image_size;
  return {
    manifest: pkg.manifest,
    encode: (rgba) => encoder.encode(rgbaToPixels(rgba, S), 1),
    encodeBoth: async (rgba) => {
      const f = await encoder.encode(withMirror(rgbaToPixels(rgba, S), S), 2), per = f.length / 2;
      return { features: f.subarray(0, per), mirror: f.subarray(per) };
    },
  };
}
