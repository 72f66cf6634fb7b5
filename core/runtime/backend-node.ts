import os from "node:os";
import * as ort from "onnxruntime-node";
import type { Backend } from "./backend.ts";
import { FileGraphCache } from "./onnx/graph-cache-node.ts";

export interface NodeBackendOptions {
  /** Intra-op threads; default: every core (os.availableParallelism()). */
  threads?: number;
  /** Let idle intra-op threads spin waiting for work (onnxruntime's own default). Default false:
   *  on cores shared with other work (the room tick, other processes) spinning steals the time the
   *  compute threads need; measured 2–5× slower decode steps with it on a busy 2-core machine
   *  (core/runtime/README.md, Benchmarks). Turn it on only for a machine dedicated to the model. */
  spinning?: boolean;
}

// Node backend: onnxruntime-node CPU. Only imported from Node code (server, tests, benchmarks).
// Sequential execution (one inter-op thread): the decoder is a chain of layers, nothing to overlap.
// The memory arena and memory patterns stay on (onnxruntime's defaults); glibc's own trimming is
// the remaining allocator cost, handled by MALLOC_* in the npm scripts (README, Benchmarks).
export function nodeBackend(opts: NodeBackendOptions = {}): Backend {
  const threads = opts.threads ?? Math.max(1, os.availableParallelism());
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`nodeBackend: threads must be a positive integer, got ${threads}`);
  return {
    name: "node",
    ort,
    executionProviders: ["cpu"],
    sessionOptions: {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: "sequential",
      extra: { session: { intra_op: { allow_spinning: opts.spinning ? "1" : "0" } } },
    },
    openGraphCache: (dir) => new FileGraphCache(dir),
  };
}
