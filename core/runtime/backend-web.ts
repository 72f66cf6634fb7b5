import type { Env, InferenceSession, Tensor } from "onnxruntime-common";
import type { Backend } from "./backend.ts";

// Browser backend: onnxruntime-web on the wasm (CPU) execution provider. The page passes in the
// onnxruntime-web module it loaded, so core/ carries no hard dependency on either runtime package.
// Web sessions cannot run concurrently; DecoderSession already serializes its runs.
export interface OrtWebModule {
  InferenceSession: typeof InferenceSession;
  Tensor: typeof Tensor;
  env: Env;
}

export function webBackend(ort: OrtWebModule, opts: { threads?: number; wasmPaths?: string } = {}): Backend {
  // Threads need a cross-origin-isolated page (COOP/COEP headers); without it ORT falls back to 1.
  if (opts.threads !== undefined) ort.env.wasm.numThreads = opts.threads;
  if (opts.wasmPaths !== undefined) ort.env.wasm.wasmPaths = opts.wasmPaths;
  return { name: "web", ort, executionProviders: ["wasm"] };
}
