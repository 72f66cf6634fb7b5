import os from "node:os";
import * as ort from "onnxruntime-node";
import type { Backend } from "./backend.ts";
import { FileGraphCache } from "./onnx/graph-cache-node.ts";
import { loadNativeOrt, nativeOrt } from "./ort-native.ts";

export interface NodeBackendOptions {
  /** Intra-op threads; default: every core (os.availableParallelism()). */
  threads?: number;
  /** How idle intra-op threads wait for the next kernel: a number spins that many microseconds,
   *  then sleeps (`session.intra_op.spin_duration_us`); default DEFAULT_SPIN_US. The kernels of one
   *  forward are microseconds apart, so a short spin bridges them, while a thread idle between
   *  forwards still sleeps. `false` or 0: sleep at once (each parallel kernel then pays a wake-up).
   *  `true`: spin without limit (onnxruntime's own default), which on cores shared with other work
   *  (the room tick, other processes) steals the time the compute threads need: 2–5× slower decode
   *  steps measured on a busy 2-core machine. Measurements: core/runtime/README.md, "Spinning". */
  spinning?: boolean | number;
  /** Run sessions through the project's native binding (native/kith-ort), whose kith.LoraAdd kernel
   *  applies a batch's adapters in one call per LoRA group, or through onnxruntime-node. Default
   *  "auto": the binding when it is built (scripts/setup.sh builds it), else onnxruntime-node with a
   *  one-time warning. true: the binding or an error. Both run the same onnxruntime library. */
  native?: boolean | "auto";
}

let warnedNoNative = false;

// Node backend: onnxruntime-node CPU. Only imported from Node code (server, tests, benchmarks).
// Sequential execution (one inter-op thread): the decoder is a chain of layers, nothing to overlap.
// The memory arena and memory patterns stay on (onnxruntime's defaults); glibc's own trimming is
// the remaining allocator cost, handled by MALLOC_* in the npm scripts (README, Benchmarks).
/** Default spin of idle intra-op threads, µs: decode steps of a small model 1.2–1.9× faster on a
 *  quiet 2-core machine than sleeping at once, no slower with one core busy elsewhere. */
export const DEFAULT_SPIN_US = 50;

export function nodeBackend(opts: NodeBackendOptions = {}): Backend {
  const threads = opts.threads ?? Math.max(1, os.availableParallelism());
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`nodeBackend: threads must be a positive integer, got ${threads}`);
  const spin = opts.spinning ?? DEFAULT_SPIN_US;
  if (typeof spin === "number" && !(Number.isInteger(spin) && spin >= 0)) throw new Error(`nodeBackend: spinning must be true, false or a whole number of microseconds, got ${spin}`);
  const intraOp: Record<string, string> = spin === false || spin === 0 ? { allow_spinning: "0" } : spin === true ? { allow_spinning: "1" } : { allow_spinning: "1", spin_duration_us: String(spin) };
  const want = opts.native ?? "auto";
  const native = want === false ? null : loadNativeOrt();
  if (native && "error" in native) {
    if (want === true) throw new Error(`nodeBackend: native binding unavailable: ${native.error}`);
    if (!warnedNoNative) console.warn(`[kith] onnxruntime-node without the native LoRA kernel (${native.error}); adapters cost more per step`);
    warnedNoNative = true;
  }
  const useNative = native !== null && !("error" in native);
  return {
    name: "node",
    ort: useNative ? nativeOrt : ort,
    loraOp: useNative ? "kith" : "standard",
    executionProviders: ["cpu"],
    sessionOptions: {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: "sequential",
      extra: { session: { intra_op: intraOp } },
    },
    openGraphCache: (dir) => new FileGraphCache(dir),
  };
}
