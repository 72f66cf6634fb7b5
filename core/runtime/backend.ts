import type { InferenceSession, Tensor } from "onnxruntime-common";
import type { GraphCache } from "./onnx/graph-cache.ts";

// Which onnxruntime the decoder runs on. core/ never imports onnxruntime-node or -web itself: the
// server passes the Node one (backend-node.ts), the browser page the web one (backend-web.ts).
/** The part of an onnxruntime session the runtime uses. */
export interface OrtSession {
  run(feeds: InferenceSession.FeedsType): Promise<InferenceSession.ReturnType>;
  release(): Promise<void>;
}
/** The part of an onnxruntime JavaScript API the runtime uses: onnxruntime-node's or -web's, or the
 *  project's native binding (ort-native.ts). */
export interface OrtApi {
  InferenceSession: { create(bytes: Uint8Array, options?: InferenceSession.SessionOptions): Promise<OrtSession> };
  Tensor: typeof Tensor;
}

export interface Backend {
  name: "node" | "web";
  ort: OrtApi;
  /** "kith": sessions know the kith.LoraAdd operator (native/kith-ort), and decoder graphs apply
   *  LoRA updates with it; otherwise with standard operators. */
  loraOp?: "standard" | "kith";
  executionProviders: InferenceSession.ExecutionProviderConfig[];
  /** Extra session options (threads etc.), merged over the decoder's defaults. */
  sessionOptions?: InferenceSession.SessionOptions;
  /** On-disk cache of built graphs (Node only); `dir` comes from DecoderSession.create's cacheDir. */
  openGraphCache?(dir: string): GraphCache;
}
