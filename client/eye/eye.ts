import { FreeCamera, RenderTargetTexture, TransformNode, Vector3, type AbstractMesh, type Scene } from "../world/babylon.ts";
import { EYE } from "../../core/vision/view.ts";

// An NPC's eye: its own camera at the vision contract's pose and lens (core/vision/README.md),
// rendering the scene's meshes into a small off-screen target on demand (never every frame),
// and reading the pixels back without stalling the render loop (WebGL2: a pixel-pack buffer and
// a fence polled until the GPU is done; other engines fall back to Babylon's readPixels).
//
// A capture happens right after the scene's next render, so the shadow map of that frame is
// current; the page's render loop drives it (a caller without a loop calls scene.render()).
// Billboards (name tags, speech bubbles) are UI and are not drawn; nodes named in `hide` (the
// NPC's own body) are left out too.

export type EyePose = {
  /** NPC feet (m). */
  position: readonly [number, number, number];
  /** Yaw (rad); 0 faces +Z (core/prompt/nearby.ts). */
  facing: number;
};

export type CaptureOptions = {
  /** Nodes whose meshes (and their children's) the eye does not draw, e.g. the NPC's avatar root. */
  hide?: readonly TransformNode[];
};

export interface NpcEye {
  /** Picture side (px). */
  readonly size: number;
  /** RGBA bytes, size × size × 4, row 0 = top of the picture, column 0 = left. */
  capture(pose: EyePose, opts?: CaptureOptions): Promise<Uint8Array>;
  dispose(): void;
}

/** Frames to wait for every mesh's shaders (for the eye's render pass) before giving up. */
const READY_FRAMES = 600;

type GlEngine = { _gl?: WebGL2RenderingContext; webGLVersion?: number; _currentFramebuffer?: WebGLFramebuffer | null };

export function createNpcEye(scene: Scene, opts: { size?: number } = {}): NpcEye {
  const size = opts.size ?? EYE.size;
  if (!Number.isInteger(size) || size < 1 || size > 4096) throw new RangeError(`createNpcEye: size must be a whole number of pixels 1..4096, got ${opts.size}`);
  const camera = new FreeCamera("npc-eye", Vector3.Zero(), scene, false);
  camera.fov = EYE.fov;
  camera.fovMode = FreeCamera.FOVMODE_VERTICAL_FIXED;
  camera.minZ = EYE.near;
  camera.maxZ = EYE.far;
  camera.inputs.clear();
  const target = new RenderTargetTexture("npc-eye", { width: size, height: size }, scene, {
    generateMipMaps: false, doNotChangeAspectRatio: true, generateDepthBuffer: true,
  });
  target.activeCamera = camera;
  target.refreshRate = RenderTargetTexture.REFRESHRATE_RENDER_ONCE;
  let hidden: readonly TransformNode[] = [];
  target.renderListPredicate = (m: AbstractMesh) =>
    m.billboardMode === TransformNode.BILLBOARDMODE_NONE && !hidden.some((n) => m === n || m.isDescendantOf(n));

  const engine = scene.getEngine() as unknown as GlEngine;
  const gl = engine._gl && (engine.webGLVersion ?? 1) >= 2 && typeof engine._gl.fenceSync === "function" ? engine._gl : null;
  let fbo: WebGLFramebuffer | null = null;
  let pbo: WebGLBuffer | null = null;
  let disposed = false;
  // Captures run one after another; each waits for the one before.
  let queue: Promise<unknown> = Promise.resolve();

  const place = (pose: EyePose) => {
    const [x, y, z] = pose.position;
    camera.position.set(x, y + EYE.height, z);
    // FreeCamera rotation: x pitches down for positive angles, y is the yaw.
    camera.rotation.set(EYE.pitch, pose.facing, 0);
    camera.getViewMatrix(true);
  };

  /** Start reading the target; resolves with bottom-up RGBA rows once the GPU has them. */
  const read = (): Promise<Uint8Array> => {
    const out = new Uint8Array(size * size * 4);
    const tex = target.getInternalTexture()?._hardwareTexture?.underlyingResource as WebGLTexture | undefined;
    if (!gl || !tex) {
      const p = target.readPixels(0, 0, out, false);
      if (!p) return Promise.reject(new Error("npc eye: the engine cannot read the eye's pixels"));
      return p.then(() => out);
    }
    fbo ??= gl.createFramebuffer();
    if (!pbo) {
      pbo = gl.createBuffer();
      gl.bindBuffer(gl.PIXEL_PACK_BUFFER, pbo);
      gl.bufferData(gl.PIXEL_PACK_BUFFER, out.byteLength, gl.STREAM_READ);
    } else gl.bindBuffer(gl.PIXEL_PACK_BUFFER, pbo);
    gl.bindFramebuffer(gl.FRAMEBUFFER, fbo);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, tex, 0);
    gl.readPixels(0, 0, size, size, gl.RGBA, gl.UNSIGNED_BYTE, 0);
    gl.bindBuffer(gl.PIXEL_PACK_BUFFER, null);
    gl.bindFramebuffer(gl.FRAMEBUFFER, engine._currentFramebuffer ?? null);
    const sync = gl.fenceSync(gl.SYNC_GPU_COMMANDS_COMPLETE, 0);
    gl.flush();
    return new Promise((resolve, reject) => {
      const poll = () => {
        if (disposed) { gl.deleteSync(sync); reject(new Error("npc eye: disposed during a capture")); return; }
        const status = gl.clientWaitSync(sync!, 0, 0);
        if (status === gl.TIMEOUT_EXPIRED) { setTimeout(poll, 1); return; }
        gl.deleteSync(sync);
        if (status === gl.WAIT_FAILED) { reject(new Error("npc eye: waiting for the GPU failed")); return; }
        gl.bindBuffer(gl.PIXEL_PACK_BUFFER, pbo);
        gl.getBufferSubData(gl.PIXEL_PACK_BUFFER, 0, out);
        gl.bindBuffer(gl.PIXEL_PACK_BUFFER, null);
        resolve(out);
      };
      poll();
    });
  };

  /** Render the eye after the scene's next frame, once every mesh it draws is ready. */
  const renderAfterFrame = (pose: EyePose): Promise<void> => new Promise((resolve, reject) => {
    let frames = 0;
    const observer = scene.onAfterRenderObservable.add(() => {
      if (disposed) { scene.onAfterRenderObservable.remove(observer); reject(new Error("npc eye: disposed during a capture")); return; }
      place(pose);
      if (!target.isReadyForRendering()) {
        if (++frames > READY_FRAMES) { scene.onAfterRenderObservable.remove(observer); reject(new Error("npc eye: the scene's shaders never became ready")); }
        return;
      }
      scene.onAfterRenderObservable.remove(observer);
      scene.incrementRenderId();
      scene.resetCachedMaterial();
      target.render(false);
      resolve();
    });
  });

  const flip = (rgba: Uint8Array): Uint8Array => {
    const row = size * 4;
    const out = new Uint8Array(rgba.length);
    for (let y = 0; y < size; y++) out.set(rgba.subarray((size - 1 - y) * row, (size - y) * row), y * row);
    return out;
  };

  return {
    size,
    capture(pose, o = {}) {
      if (disposed) return Promise.reject(new Error("npc eye: capture after dispose"));
      const p = pose.position;
      if (!Array.isArray(p) || p.length !== 3 || !p.every(Number.isFinite) || !Number.isFinite(pose.facing)) {
        return Promise.reject(new TypeError("npc eye: pose needs a finite position [x, y, z] and facing"));
      }
      const run = async () => {
        hidden = o.hide ?? [];
        await renderAfterFrame(pose);
        return flip(await read());
      };
      const result = queue.then(run, run);
      queue = result.catch(() => undefined);
      return result;
    },
    dispose() {
      disposed = true;
      if (gl) {
        if (pbo) gl.deleteBuffer(pbo);
        if (fbo) gl.deleteFramebuffer(fbo);
      }
      target.dispose();
      camera.dispose();
    },
  };
}
