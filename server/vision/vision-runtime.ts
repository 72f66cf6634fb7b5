import path from "node:path";
import { nodePackageFiles } from "../../core/runtime/model/files-node.ts";
import { loadVisionPackage, type VisionManifest, type VisionPackage } from "../../core/vision/manifest.ts";
import { checkFeatures } from "../../core/vision/projector.ts";
import { ROOT_DIR } from "../scene-file.ts";
import { VisionWorker, type Projected } from "./vision-worker.ts";

// What every room's NPC views share in one server process: the vision package (loaded once at
// start) and a worker thread with the projector (features → visual tokens: ~1.4 M multiply-adds,
// 3-12 ms of plain TypeScript on a busy core, too much for the room's thread at many views a
// second) and the pixel fallback's encoder. The room's thread only decodes and checks features.
// A missing or broken package, or one built for another language model, is logged and NPCs talk
// without eyes.

export interface VisionOptions {
  /** Vision package folder (default assets/vision; env KITH_VISION in main.ts). */
  dir?: string;
  /** Encoder threads in the worker (default 1). */
  threads?: number;
  /** Images per encoder run at most (default 8). */
  batchMax?: number;
}

export const VISION_DEFAULTS = { dir: path.join(ROOT_DIR, "assets", "vision") } as const;

/** The language model the visual tokens are for. */
export interface VisionTarget {
  hiddenSize: number;
  /** baseModelHash of the model package (the manifest's `base_model`). */
  baseHash: string;
}

/** Encoder runs remembered for stats. */
const KEEP_TIMINGS = 200;

export class VisionRuntime {
  /** Pictures encoded by the pixel fallback: wall ms of the encoder run each was in, and that run's size (most recent last). */
  readonly encodeRuns: { ms: number; batch: number }[] = [];
  /** Projector wall ms per view, in the worker thread (most recent last). */
  readonly projectMs: number[] = [];

  private constructor(
    readonly pkg: VisionPackage,
    private readonly worker: VisionWorker,
  ) {}

  get manifest(): VisionManifest {
    return this.pkg.manifest;
  }

  /** Bytes of a features message: grid² · D little-endian float32. */
  get featureBytes(): number {
    const m = this.manifest;
    return m.grid * m.grid * m.feature_dim * 4;
  }

  /**
   * Loads the package and starts the encoder worker. Throws with a message naming the file and
   * what is wrong; `open` below turns that into a log line and null.
   */
  static async create(opts: VisionOptions, target?: VisionTarget): Promise<VisionRuntime> {
    const dir = opts.dir ?? VISION_DEFAULTS.dir;
    const pkg = await loadVisionPackage(dir, nodePackageFiles);
    const m = pkg.manifest;
    if (target !== undefined && m.hidden !== target.hiddenSize) {
      throw new Error(`${dir}/vision.json: hidden ${m.hidden} does not match the language model's hidden size ${target.hiddenSize}`);
    }
    if (target !== undefined && m.base_model !== target.baseHash) {
      throw new Error(`${dir}/vision.json: the projector was trained for base model ${m.base_model}, this server runs ${target.baseHash} (retrain or re-export the vision package)`);
    }
    const worker = await VisionWorker.start({ dir, threads: opts.threads, batchMax: opts.batchMax });
    if (worker.hash !== pkg.hash) {
      await worker.close();
      throw new Error(`${dir}: the package changed while loading (hash ${pkg.hash} vs ${worker.hash}); start again`);
    }
    return new VisionRuntime(pkg, worker);
  }

  /** `create`, or null with the reason logged: NPCs then talk blind. */
  static async open(opts: VisionOptions, target: VisionTarget | undefined, log: (line: string) => void): Promise<VisionRuntime | null> {
    try {
      const rt = await VisionRuntime.create(opts, target);
      log(`[vision] package ${rt.pkg.dir} (hash ${rt.pkg.hash}, D ${rt.manifest.feature_dim}, ${rt.manifest.tokens} tokens${rt.manifest.trained === false ? ", untrained" : ""})`);
      return rt;
    } catch (e) {
      log(`[vision] NPCs will talk without seeing: ${(e as Error).message}`);
      return null;
    }
  }

  /**
   * A features message's bytes (grid²·D little-endian float32) → the features, or why they cannot
   * be used: wrong length, a value that is not finite or outside ±feature_limit.
   */
  decodeFeatures(bytes: Uint8Array): { ok: true; features: Float32Array } | { ok: false; reason: string } {
    if (bytes.byteLength !== this.featureBytes) {
      const m = this.manifest;
      return { ok: false, reason: `features: expected ${this.featureBytes} bytes (${m.grid}×${m.grid}×${m.feature_dim} float32), got ${bytes.byteLength}` };
    }
    // DataView: the bytes may sit at any offset of the receive buffer, and the wire is little-endian.
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const features = new Float32Array(bytes.byteLength / 4);
    for (let i = 0; i < features.length; i++) features[i] = view.getFloat32(i * 4, true);
    const problem = checkFeatures(features, this.manifest);
    return problem === null ? { ok: true, features } : { ok: false, reason: problem };
  }

  /** Visual tokens [tokens·H] of checked features, and the detector's props when the package has one; in the worker thread (`features` is handed over: detached after). */
  async project(features: Float32Array, mirror?: Float32Array): Promise<{ tokens: Float32Array; seen?: Projected["seen"] }> {
    const r = await this.worker.project(features, mirror);
    remember(this.projectMs, r.projectMs);
    return { tokens: r.tokens, seen: r.seen };
  }

  /** Features (checked like a client's), visual tokens and the detector's props of a 64×64 RGBA picture, from the worker thread. */
  async encodeImage(rgba: Uint8Array): Promise<{ features: Float32Array; tokens: Float32Array; seen?: Projected["seen"] }> {
    const r = await this.worker.encode(rgba);
    remember(this.encodeRuns, { ms: r.encodeMs, batch: r.batch });
    remember(this.projectMs, r.projectMs);
    return { features: r.features, tokens: r.tokens, seen: r.seen };
  }

  close(): Promise<void> {
    return this.worker.close();
  }
}

function remember<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > KEEP_TIMINGS) list.shift();
}
