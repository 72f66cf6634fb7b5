import { existsSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { InferenceSession } from "onnxruntime-common";
import { Tensor } from "onnxruntime-node";
import type { OrtApi, OrtSession } from "./backend.ts";

// The project's own binding of onnxruntime's C API (native/kith-ort), shaped like the part of
// onnxruntime's JavaScript API the runtime uses. Its sessions know the kith.LoraAdd operator, which
// applies every row's adapter in one kernel call per LoRA group (decoder-graph.ts, loraOp "kith").
// It runs the same libonnxruntime.so.1 that onnxruntime-node ships, so everything else about a
// session (optimizations, kernels, threads) is the same onnxruntime. Node only.

interface Binding {
  init(libraryPath: string): string;
  createSession(bytes: Uint8Array, threads: number, config: [string, string][]): unknown;
  inputNames(s: unknown): string[];
  outputNames(s: unknown): string[];
  run(s: unknown, names: string[], types: number[], dims: number[][], data: Tensor["data"][], outputs: readonly string[]): Promise<{ type: number; dims: number[]; data: Tensor["data"] }[]>;
  release(s: unknown): void;
}

const ELEM: Record<string, number> = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9 };
const ELEM_NAME: Record<number, Tensor.Type> = { 1: "float32", 2: "uint8", 3: "int8", 6: "int32", 7: "int64", 9: "bool" };

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
export const NATIVE_ADDON = join(root, "native/kith-ort/build/kith_ort.node");

let loaded: { binding: Binding; version: string } | { error: string } | null = null;

/** libonnxruntime.so.1 inside the installed onnxruntime-node package. */
function ortLibrary(): string {
  const require = createRequire(import.meta.url);
  const pkg = dirname(require.resolve("onnxruntime-node/package.json"));
  const arch = process.arch === "arm64" ? "arm64" : "x64";
  for (const napi of readdirSync(join(pkg, "bin")).filter((d) => d.startsWith("napi-v")).sort().reverse()) {
    const lib = join(pkg, "bin", napi, process.platform, arch, "libonnxruntime.so.1");
    if (existsSync(lib)) return lib;
  }
  throw new Error(`no libonnxruntime.so.1 for ${process.platform}/${arch} under ${join(pkg, "bin")}`);
}

/** The binding, or why it cannot be used (not built, not Linux, failed to load). Loaded once. */
export function loadNativeOrt(): { binding: Binding; version: string } | { error: string } {
  if (loaded) return loaded;
  try {
    if (process.platform !== "linux") throw new Error(`built for Linux only (this is ${process.platform})`);
    if (!existsSync(NATIVE_ADDON)) throw new Error(`${NATIVE_ADDON} is not built (bash native/kith-ort/build.sh)`);
    const binding = createRequire(import.meta.url)(NATIVE_ADDON) as Binding;
    loaded = { binding, version: binding.init(ortLibrary()) };
  } catch (e) {
    loaded = { error: (e as Error).message };
  }
  return loaded;
}

/** onnxruntime-node's `extra` options flattened into session config entries ("session.intra_op.allow_spinning"). */
function configEntries(extra: unknown, prefix = ""): [string, string][] {
  if (extra === undefined || extra === null) return [];
  if (typeof extra !== "object") return [[prefix, String(extra)]];
  return Object.entries(extra as Record<string, unknown>).flatMap(([k, v]) => configEntries(v, prefix ? `${prefix}.${k}` : k));
}

class NativeSession implements OrtSession {
  private readonly inputSet: ReadonlySet<string>;
  private constructor(private readonly b: Binding, private handle: unknown, readonly inputNames: readonly string[], readonly outputNames: readonly string[]) {
    this.inputSet = new Set(inputNames);
  }

  static async create(bytes: Uint8Array, options: InferenceSession.SessionOptions = {}): Promise<NativeSession> {
    const n = loadNativeOrt();
    if ("error" in n) throw new Error(`native onnxruntime binding: ${n.error}`);
    if (options.executionMode && options.executionMode !== "sequential") throw new Error("native onnxruntime binding: only sequential execution");
    const handle = n.binding.createSession(bytes, options.intraOpNumThreads ?? 0, configEntries(options.extra));
    return new NativeSession(n.binding, handle, n.binding.inputNames(handle), n.binding.outputNames(handle));
  }

  async run(feeds: InferenceSession.FeedsType): Promise<InferenceSession.ReturnType> {
    const names = Object.keys(feeds);
    const missing = this.inputNames.filter((n) => !(n in feeds));
    if (missing.length) throw new Error(`native onnxruntime binding: input ${missing.join(", ")} missing`);
    const unknown = names.filter((n) => !this.inputSet.has(n));
    if (unknown.length) throw new Error(`native onnxruntime binding: ${unknown.join(", ")} is not an input of this model. Should be one of: ${this.inputNames.join(", ")}`);
    const tensors = names.map((k) => feeds[k] as Tensor);
    const types = tensors.map((t, i) => {
      const code = ELEM[t.type];
      if (code === undefined) throw new Error(`native onnxruntime binding: input ${names[i]} has type ${t.type}, which it does not pass`);
      return code;
    });
    const out = await this.b.run(this.handle, names, types, tensors.map((t) => [...t.dims]), tensors.map((t) => t.data), this.outputNames);
    const result: Record<string, Tensor> = {};
    out.forEach((o, i) => (result[this.outputNames[i]] = new Tensor(ELEM_NAME[o.type], o.data as Float32Array, o.dims)));
    return result;
  }

  async release(): Promise<void> {
    this.b.release(this.handle);
  }
}

/** The binding in the shape Backend.ort takes. */
export const nativeOrt: OrtApi = { InferenceSession: NativeSession, Tensor };
