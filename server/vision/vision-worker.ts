import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { SightFact } from "../../core/vision/seen.ts";

// The vision package's compute in a worker thread (vision-thread.ts), so a room tick never waits
// on it: project(features) → visual tokens (and, with a package that has a prop detector, the props
// it finds); encode(rgba) → features and tokens of a 64×64 RGBA picture (the pixel fallback;
// pictures sent close together are encoded as one batch).

export interface VisionWorkerOptions {
  /** Vision package folder; the worker loads it itself and reports its hash. */
  dir: string;
  /** onnxruntime intra-op threads in the worker (default 1: the model worker has the cores). */
  threads?: number;
  /** Pictures per encoder run at most (default 8). */
  batchMax?: number;
}

export interface Projected {
  /** Visual tokens [tokens·H]. */
  tokens: Float32Array;
  /** The props the package's detector found, nearest first; undefined when it has none. */
  seen?: SightFact[];
  /** Projector (and detector) wall time, ms. */
  projectMs: number;
}

export interface EncodedImage extends Projected {
  /** Features [grid²·D]. */
  features: Float32Array;
  /** Wall time of the encoder run that produced them, ms (the whole batch). */
  encodeMs: number;
  /** Pictures in that run. */
  batch: number;
}

type Reply =
  | { type: "done"; id: number; tokens: Float32Array; seen?: SightFact[]; projectMs: number; features?: Float32Array; encodeMs?: number; batch?: number }
  | { type: "error"; id: number; message: string };

export class VisionWorker {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Reply & { type: "done" }) => void; reject: (e: Error) => void }>();
  private closed = false;

  private constructor(private readonly worker: Worker, readonly hash: string) {
    worker.on("message", (m: Reply) => {
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      if (m.type === "done") p.resolve(m);
      else p.reject(new Error(m.message));
    });
    worker.on("error", (e) => this.failAll(`vision worker failed: ${e.message}`));
    worker.on("exit", () => this.failAll("vision worker exited"));
  }

  static start(opts: VisionWorkerOptions): Promise<VisionWorker> {
    const entry = new URL("./vision-thread.ts", import.meta.url).href;
    const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm/api").replace(/\.cjs$/, ".mjs")).href;
    // The entry is TypeScript: a two-line bootstrap registers tsx's loader in the worker, then imports it.
    const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
    const worker = new Worker(boot, { eval: true, workerData: { dir: opts.dir, threads: opts.threads ?? 1, batchMax: opts.batchMax ?? 8 } });
    return new Promise((resolve, reject) => {
      const onMsg = (m: { type: string; hash?: string; message?: string }) => {
        if (m.type === "ready") {
          worker.off("message", onMsg);
          worker.off("error", reject);
          resolve(new VisionWorker(worker, m.hash!));
        } else if (m.type === "fatal") {
          worker.off("message", onMsg);
          void worker.terminate();
          reject(new Error(`vision worker: ${m.message}`));
        }
      };
      worker.on("message", onMsg);
      worker.once("error", reject);
    });
  }

  /** Visual tokens of checked features [grid²·D], with the mirrored picture's for the detector (the arrays are handed over, not copied). */
  async project(features: Float32Array, mirror?: Float32Array): Promise<Projected> {
    const r = await this.call({ type: "project", features, mirror }, [features.buffer as ArrayBuffer, ...(mirror ? [mirror.buffer as ArrayBuffer] : [])]);
    return { tokens: r.tokens, seen: r.seen, projectMs: r.projectMs };
  }

  /** Features and visual tokens of one RGBA picture (64×64×4 bytes, row 0 = top). */
  async encode(rgba: Uint8Array): Promise<EncodedImage> {
    // A copy to hand over: the message's bytes are a view into the socket's receive buffer (and a
    // Node Buffer's slice() would not copy).
    const copy = new Uint8Array(rgba.byteLength);
    copy.set(rgba);
    const r = await this.call({ type: "encode", rgba: copy }, [copy.buffer]);
    return { features: r.features!, tokens: r.tokens, seen: r.seen, encodeMs: r.encodeMs!, batch: r.batch!, projectMs: r.projectMs };
  }

  /** Requests waiting or running. */
  get inFlight(): number {
    return this.pending.size;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const exited = new Promise((r) => this.worker.once("exit", r));
    this.worker.postMessage({ type: "close" });
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
    await this.worker.terminate();
  }

  private call(message: Record<string, unknown>, transfer: ArrayBuffer[]): Promise<Reply & { type: "done" }> {
    if (this.closed) return Promise.reject(new Error("vision worker is closed"));
    const id = this.nextId++;
    const result = new Promise<Reply & { type: "done" }>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.worker.postMessage({ ...message, id }, transfer);
    return result;
  }

  private failAll(message: string): void {
    for (const p of this.pending.values()) p.reject(new Error(message));
    this.pending.clear();
  }
}
