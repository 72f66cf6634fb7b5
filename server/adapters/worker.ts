import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { ChunkQueue } from "../../core/runtime/generate/chunk-queue.ts";
import type { StreamChunk } from "../../core/runtime/generate/row.ts";
import type { ModelConfig } from "../../core/runtime/model/config.ts";
import { BusyError, type SchedulerOptions, type SchedulerRequest, type SchedulerResult } from "../../core/runtime/scheduler/scheduler.ts";
import type { SchedulerStats } from "../../core/runtime/scheduler/stats.ts";

// The scheduler in a worker thread, so a room tick never shares a thread with a forward pass.
// Same request and result shapes as Scheduler.submit; differences: refusals (BusyError) and bad
// input arrive as a rejected result instead of a synchronous throw, and the folded adapter update
// is copied to the worker (structured clone: ≈10 MB per rank-8 all-projection adapter on a 135M
// model; small next to a reply's compute).

export interface WorkerOptions {
  modelDir: string;
  cacheDir?: string;
  threads?: number;
  /** How the worker's idle onnxruntime threads wait (nodeBackend's `spinning`; default DEFAULT_SPIN_US). */
  spinning?: boolean | number;
  scheduler?: Omit<SchedulerOptions, "yieldToHost">;
}

type Req = Omit<SchedulerRequest, "onLogits">;

export class InferenceWorker {
  private nextId = 1;
  private readonly pending = new Map<number, { chunks: ChunkQueue<StreamChunk>; resolve: (r: SchedulerResult) => void; reject: (e: unknown) => void }>();

  private constructor(
    private readonly worker: Worker,
    readonly config: ModelConfig,
  ) {
    worker.on("message", (m: { type: string; id: number; chunk?: StreamChunk; result?: SchedulerResult; name?: string; reason?: string; message?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.type === "chunk") p.chunks.push(m.chunk!);
      else if (m.type === "result") {
        this.pending.delete(m.id);
        p.chunks.end();
        p.resolve(m.result!);
      } else if (m.type === "error") {
        this.pending.delete(m.id);
        const e = m.reason ? new BusyError(m.reason as BusyError["reason"], m.message!) : new Error(m.message);
        p.chunks.fail(e);
        p.reject(e);
      }
    });
  }

  static start(opts: WorkerOptions): Promise<InferenceWorker> {
    const entry = new URL("./inference-worker.ts", import.meta.url).href;
    const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm/api").replace(/\.cjs$/, ".mjs")).href; // the ESM build of the API
    // The entry is TypeScript: a two-line bootstrap registers tsx's loader in the worker, then imports it.
    const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
    const worker = new Worker(boot, { eval: true, workerData: opts });
    return new Promise((resolve, reject) => {
      const onMsg = (m: { type: string; config?: ModelConfig; message?: string }) => {
        if (m.type === "ready") {
          worker.off("message", onMsg);
          resolve(new InferenceWorker(worker, m.config!));
        } else if (m.type === "fatal") reject(new Error(`inference worker: ${m.message}`));
      };
      worker.on("message", onMsg);
      worker.once("error", reject);
    });
  }

  submit(req: Req): { chunks: AsyncIterable<StreamChunk>; result: Promise<SchedulerResult> } {
    const id = this.nextId++;
    const chunks = new ChunkQueue<StreamChunk>();
    const result = new Promise<SchedulerResult>((resolve, reject) => this.pending.set(id, { chunks, resolve, reject }));
    result.catch(() => undefined);
    const { signal, ...rest } = req;
    signal?.addEventListener("abort", () => this.worker.postMessage({ type: "abort", id }), { once: true });
    this.worker.postMessage({ type: "submit", id, req: rest });
    if (signal?.aborted) this.worker.postMessage({ type: "abort", id });
    return { chunks, result };
  }

  /** The scheduler's statistics and its queue load. */
  stats(): Promise<{ stats: ReturnType<SchedulerStats["snapshot"]>; load: { queued: number; active: number }; loraKernel: string }> {
    return new Promise((resolve) => {
      const on = (m: { type: string; stats: ReturnType<SchedulerStats["snapshot"]>; load: { queued: number; active: number }; loraKernel: string }) => {
        if (m.type === "stats") {
          this.worker.off("message", on);
          resolve({ stats: m.stats, load: m.load, loraKernel: m.loraKernel });
        }
      };
      this.worker.on("message", on);
      this.worker.postMessage({ type: "stats" });
    });
  }

  async close(): Promise<void> {
    this.worker.postMessage({ type: "close" });
    await new Promise((r) => this.worker.once("exit", r));
  }
}
