// Worker-thread entry: the model and the continuous-batching scheduler off the room's event loop.
// Started by server/adapters/worker.ts; messages in: submit {id, req} | abort {id} | stats | close;
// out: ready {config} | chunk {id, chunk} | result {id, result} | error {id, name, reason, message} | stats {stats, load, loraKernel}.
import { parentPort, workerData } from "node:worker_threads";
import { nodeBackend } from "../../core/runtime/backend-node.ts";
import { loadModel } from "../../core/runtime/index.ts";
import { nodePackageFiles } from "../../core/runtime/model/files-node.ts";
import { BusyError, Scheduler, type SchedulerOptions, type SchedulerRequest } from "../../core/runtime/scheduler/scheduler.ts";

interface Data {
  modelDir: string;
  cacheDir?: string;
  threads?: number;
  spinning?: boolean | number;
  scheduler?: Omit<SchedulerOptions, "yieldToHost">;
}

async function main(): Promise<void> {
  const port = parentPort!;
  const d = workerData as Data;
  const backend = nodeBackend({ threads: d.threads, spinning: d.spinning });
  const model = await loadModel(d.modelDir, { backend, files: nodePackageFiles, cacheDir: d.cacheDir });
  // For the operator's /stats: whether adapters run on the native kernel or the standard operators.
  const loraKernel = backend.loraOp === "kith" ? "native kith.LoraAdd" : "standard operators (native binding not built)";
  const sched = new Scheduler(model, d.scheduler);
  const ctls = new Map<number, AbortController>();
  port.on("message", async (m: { type: string; id?: number; req?: Omit<SchedulerRequest, "signal" | "onLogits"> }) => {
    if (m.type === "abort") ctls.get(m.id!)?.abort();
    else if (m.type === "stats") port.postMessage({ type: "stats", stats: sched.stats.snapshot(), load: sched.load, loraKernel });
    else if (m.type === "close") {
      await sched.close();
      await model.release();
      port.close();
    } else if (m.type === "submit") {
      const id = m.id!;
      const ctl = new AbortController();
      ctls.set(id, ctl);
      try {
        const s = sched.submit({ ...m.req!, signal: ctl.signal });
        for await (const chunk of s.chunks) port.postMessage({ type: "chunk", id, chunk });
        port.postMessage({ type: "result", id, result: await s.result });
      } catch (e) {
        port.postMessage({ type: "error", id, name: (e as Error).name, reason: e instanceof BusyError ? e.reason : null, message: (e as Error).message });
      } finally {
        ctls.delete(id);
      }
    }
  });
  port.postMessage({ type: "ready", config: model.config });
}

main().catch((e) => {
  parentPort?.postMessage({ type: "fatal", message: (e as Error).message });
});
