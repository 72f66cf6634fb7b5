import type { InferenceSession, Tensor } from "onnxruntime-common";
import type { GraphCache } from "./onnx/graph-cache.ts";

// Which onnxruntime the decoder runs on. core/ never imports onnxruntime-node or -web itself: the
// server passes the Node one (backend-node.ts), the browser page the web one (backend-web.ts).
export interface Backend {
  name: "node" | "web";
  ort: { InferenceSession: typeof InferenceSession; Tensor: typeof Tensor };
  executionProviders: InferenceSession.ExecutionProviderConfig[];
  /** Extra session options (threads etc.), merged over the decoder's defaults. */
  sessionOptions?: InferenceSession.SessionOptions;
  /** On-disk cache of built graphs (Node only); `dir` comes from DecoderSession.create's cacheDir. */
  openGraphCache?(dir: string): GraphCache;
}
