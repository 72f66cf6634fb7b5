import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";

// The pixel fallback's encoder in a worker thread (encoder-thread.ts), so a room tick never waits
// on a convolution. encode(rgba) resolves to the features [grid², D] of one 64×64 RGBA image;
// images sent close together are encoded as one batch.

export interface EncoderWorkerOptions {
  /** Vision package folder; the worker loads it itself and reports its hash. */
  dir: string;
  /** onnxruntime intra-op threads in the worker (default 1: the model worker has the cores). */
  threads?: number;
  /** Images per encoder run at most (default 8). */
  batchMax?: number;
}

export interface EncodedImage {
  features: Float32Array;
  /** Wall time of the encoder run that produced it, ms (the whole batch). */
  ms: number;
  /** Images in that run. */
  batch: number;
}

type Reply =
  | { type: "features"; id: number; features: Float32Array; ms: number; batch: number }
  | { type: "error"; id: number; message: string };

export class EncoderWorker {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: EncodedImage) => void; reject: (e: Error) => void }>();
  private closed = false;

  private constructor(private readonly worker: Worker, readonly hash: string) {
    worker.on("message", (m: Reply) => {
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      if (m.type === "features") p.resolve({ features: m.features, ms: m.ms, batch: m.batch });
      else p.reject(new Error(`vision encoder: ${m.message}`));
    });
    worker.on("error", (e) => this.failAll(`vision encoder worker failed: ${e.message}`));
    worker.on("exit", () => this.failAll("vision encoder worker exited"));
  }

  static start(opts: EncoderWorkerOptions): Promise<EncoderWorker> {
    const entry = new URL("./encoder-thread.ts", import.meta.url).href;
    const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm/api").replace(/\.cjs$/, ".mjs")).href;
    // The entry is TypeScript: a two-line bootstrap registers tsx's loader in the worker, then imports it.
    const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
    const worker = new Worker(boot, { eval: true, workerData: { dir: opts.dir, threads: opts.threads ?? 1, batchMax: opts.batchMax ?? 8 } });
    return new Promise((resolve, reject) => {
      const onMsg = (m: { type: string; hash?: string; message?: string }) => {
        if (m.type === "ready") {
          worker.off("message", onMsg);
          worker.off("error", reject);
          resolve(new EncoderWorker(worker, m.hash!));
        } else if (m.type === "fatal") {
          worker.off("message", onMsg);
          void worker.terminate();
          reject(new Error(`vision encoder worker: ${m.message}`));
        }
      };
      worker.on("message", onMsg);
      worker.once("error", reject);
    });
  }

  /** Features [grid², D] of one RGBA image (64×64×4 bytes, row 0 = top). */
  encode(rgba: Uint8Array): Promise<EncodedImage> {
    if (this.closed) return Promise.reject(new Error("vision encoder worker is closed"));
    const id = this.nextId++;
    // A copy to hand over: the message's bytes are a view into the socket's receive buffer (and a
    // Node Buffer's slice() would not copy).
    const copy = new Uint8Array(rgba.byteLength);
    copy.set(rgba);
    const result = new Promise<EncodedImage>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.worker.postMessage({ type: "encode", id, rgba: copy }, [copy.buffer]);
    return result;
  }

  /** Images waiting or being encoded. */
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

  private failAll(message: string): void {
    for (const p of this.pending.values()) p.reject(new Error(message));
    this.pending.clear();
  }
}
