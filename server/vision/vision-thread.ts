// Worker-thread entry: the vision encoder (onnxruntime-node), the projector and the package's prop
// detector, off the room's event loop (an onnxruntime-node run blocks the thread that calls it, a
// projection is ~1.4 M multiply-adds of plain TypeScript, a detection ~2.6 M). Started by
// server/vision/vision-worker.ts.
// In: encode {id, rgba} | project {id, features} | close.
// Out: ready {hash} | fatal {message} | done {id, features?, tokens, seen?, encodeMs?, batch?, projectMs} |
// error {id, message}. Images that arrive while a run is in progress are encoded together in the
// next run (one batch, up to `batchMax`).
import { parentPort, workerData } from "node:worker_threads";
import { nodeBackend } from "../../core/runtime/backend-node.ts";
import { nodePackageFiles } from "../../core/runtime/model/files-node.ts";
import { mirrorPixels, rgbaToPixels, VisionEncoder } from "../../core/vision/encoder.ts";
import { PropDetector } from "../../core/vision/detector.ts";
import { loadVisionPackage } from "../../core/vision/manifest.ts";
import { checkFeatures, Projector } from "../../core/vision/projector.ts";

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
  const projector = new Projector(pkg);
  const detector = pkg.detectorWeights && pkg.manifest.detector ? new PropDetector(pkg.detectorWeights, pkg.manifest, pkg.manifest.detector) : null;
  const S = pkg.manifest.image_size, per = pkg.manifest.grid * pkg.manifest.grid * pkg.manifest.feature_dim;
  const queue: Job[] = [];
  let running = false;
  let scheduled = false;

  const project = (features: Float32Array, mirror?: Float32Array) => {
    const t0 = performance.now();
    const tokens = projector.project(features);
    // The props the detector finds (the sight lines of a line about props), when the package has
    // one: from both looks when the mirrored picture's features came too.
    const seen = detector?.sight(features, mirror);
    return { tokens, seen, projectMs: performance.now() - t0 };
  };

  const drain = async () => {
    running = true;
    while (queue.length > 0) {
      const jobs = queue.splice(0, d.batchMax);
      try {
        // Each picture and, with a detector, its mirror (the detector's second look), in one batch.
        const looks = detector ? 2 : 1, n = jobs.length * looks;
        const pixels = new Float32Array(n * 3 * S * S);
        jobs.forEach((j, b) => {
          const px = rgbaToPixels(j.rgba, S);
          pixels.set(px, b * 3 * S * S);
          if (looks === 2) pixels.set(mirrorPixels(px, S), (jobs.length + b) * 3 * S * S);
        });
        const t0 = performance.now();
        const feats = await encoder.encode(pixels, n);
        const encodeMs = performance.now() - t0;
        jobs.forEach((j, b) => {
          const features = feats.slice(b * per, (b + 1) * per);
          const problem = checkFeatures(features, pkg.manifest);
          if (problem !== null) {
            port.postMessage({ type: "error", id: j.id, message: `the server's encoder produced unusable ${problem}` });
            return;
          }
          const mirror = looks === 2 ? feats.subarray((jobs.length + b) * per, (jobs.length + b + 1) * per) : undefined;
          const { tokens, seen, projectMs } = project(features, mirror);
          port.postMessage({ type: "done", id: j.id, features, tokens, seen, encodeMs, batch: jobs.length, projectMs }, [features.buffer, tokens.buffer as ArrayBuffer]);
        });
      } catch (e) {
        for (const j of jobs) port.postMessage({ type: "error", id: j.id, message: (e as Error).message });
      }
    }
    running = false;
  };

  port.on("message", (m: { type: string; id?: number; rgba?: Uint8Array; features?: Float32Array; mirror?: Float32Array }) => {
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
    } else if (m.type === "project") {
      try {
        const { tokens, seen, projectMs } = project(m.features!, m.mirror);
        port.postMessage({ type: "done", id: m.id, tokens, seen, projectMs }, [tokens.buffer as ArrayBuffer]);
      } catch (e) {
        port.postMessage({ type: "error", id: m.id, message: (e as Error).message });
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
