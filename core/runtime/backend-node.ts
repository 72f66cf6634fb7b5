import os from "node:os";
import * as ort from "onnxruntime-node";
import type { Backend } from "./backend.ts";
import { FileGraphCache } from "./onnx/graph-cache-node.ts";

// Node backend: onnxruntime-node CPU. Only imported from Node code (server, tests, benchmarks).
export function nodeBackend(opts: { threads?: number } = {}): Backend {
  const threads = opts.threads ?? Math.max(1, os.availableParallelism());
  return {
    name: "node",
    ort,
    executionProviders: ["cpu"],
    sessionOptions: { intraOpNumThreads: threads, interOpNumThreads: 1 },
    openGraphCache: (dir) => new FileGraphCache(dir),
  };
}
