// Worker-thread entry: the vision encoder on onnxruntime-node, off the room's event loop (a run of
// onnxruntime-node blocks the thread that calls it). Started by server/vision/encoder-worker.ts.
// In: encode {id, rgba} | close. Out: ready {hash} | fatal {message} | features {id, features, ms,
// batch} | error {id, message}. Images that arrive while a run is in progress are encoded
// together in the next run (one batch, up to `batchMax`).
import { parentPort, workerData } from "node:worker_threads";
import { nodeBackend } from "../../core/runtime/backend-node.ts";
import { nodePackageFiles } from "../../core/runtime/model/files-node.ts";
import { rgbaToPixels, VisionEncoder } from "../../core/vision/encoder.ts";
import { loadVisionPackage } from "../../core/vision/manifest.ts";

interface Data {
  dir: string;
  threads: number;
  batchMax: number;
}

interface Job {
  id: number;
  rgba: Uint8Array;
}

async function main(): Promise<void> {
  const port = parentPort!;
  const d = workerData as Data;
  const pkg = await loadVisionPackage(d.dir, nodePackageFiles);
  const encoder = await VisionEncoder.create(pkg, nodeBackend({ threads: d.threads }));
  const S = pkg.manifest.image_size, per = pkg.manifest.grid * pkg.manifest.grid * pkg.manifest.feature_dim;
  const queue: Job[] = [];
  let running = false;
  let scheduled = false;

  const drain = async () => {
    running = true;
    while (queue.length > 0) {
      const jobs = queue.splice(0, d.batchMax);
      try {
        const pixels = new Float32Array(jobs.length * 3 * S * S);
        jobs.forEach((j, b) => pixels.set(rgbaToPixels(j.rgba, S), b * 3 * S * S));
        const t0 = performance.now();
        const feats = await encoder.encode(pixels, jobs.length);
        const ms = performance.now() - t0;
        jobs.forEach((j, b) => {
          const features = feats.slice(b * per, (b + 1) * per);
          port.postMessage({ type: "features", id: j.id, features, ms, batch: jobs.length }, [features.buffer]);
        });
      } catch (e) {
        for (const j of jobs) port.postMessage({ type: "error", id: j.id, message: (e as Error).message });
      }
    }
    running = false;
  };

  port.on("message", (m: { type: string; id?: number; rgba?: Uint8Array }) => {
    if (m.type === "encode") {
      queue.push({ id: m.id!, rgba: m.rgba! });
      // The next macrotask: images posted in the same burst join one batch.
      if (!running && !scheduled) {
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          void drain();
        });
      }
    } else if (m.type === "close") {
      void encoder.release().finally(() => port.close());
    }
  });
  port.postMessage({ type: "ready", hash: pkg.hash });
}

main().catch((e) => {
  parentPort?.postMessage({ type: "fatal", message: (e as Error).message });
});
