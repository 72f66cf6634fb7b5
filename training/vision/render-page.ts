import { Engine, FreeCamera, Scene, Vector3 } from "../../client/world/babylon.ts";
import { planScene } from "../../client/world/scene-plan.ts";
import { buildWorld } from "../../client/world/build-world.ts";
import { Avatar } from "../../client/world/avatars.ts";
import { npcLook } from "../../client/world/avatar-look.ts";
import { createNpcEye } from "../../client/eye/eye.ts";
import type { Scene as SceneFile } from "../../core/scene/schema.ts";
import type { Figure } from "./scenes.ts";

// Page script of the vision renderer (bundled by esbuild, driven by render.ts in headless
// Chromium): for each view it builds the scene with the client's own code (scene-plan.ts,
// build-world.ts, avatars.ts), captures the NPC's eye (client/eye) and returns the pixels.

export type RenderItem = { scene: SceneFile; pose: { position: [number, number, number]; facing: number }; figures: Figure[] };

declare global {
  interface Window {
    /** Renders each item; resolves with base64 of N × size × size × 3 RGB bytes (row 0 = top). */
    renderViews(items: RenderItem[]): Promise<string>;
    renderTiming(): Record<string, number>;
  }
}

const canvas = document.createElement("canvas");
canvas.width = 64;
canvas.height = 64;
document.body.appendChild(canvas);
const engine = new Engine(canvas, false, { preserveDrawingBuffer: false, stencil: false }, false);

/** Milliseconds spent per stage, summed over views (for tuning the renderer). */
const timing = { build: 0, ready: 0, capture: 0, dispose: 0, views: 0, frames: 0 };
window.renderTiming = () => timing;

// Page options (query string): `shadow` = shadow map side for the renderer (0 keeps the game's),
// `inflight` = views rendered at once (their GPU read-backs overlap).
const query = new URLSearchParams(location.search);
const SHADOW_SIZE = Number(query.get("shadow") ?? 0) || 0;
const IN_FLIGHT = Math.max(1, Number(query.get("inflight") ?? 4) || 4);

const nextTick = () => new Promise<void>((r) => setTimeout(r, 0));

async function renderOne(item: RenderItem): Promise<Uint8Array> {
  let t = performance.now();
  const lap = (k: "build" | "ready" | "capture" | "dispose") => { const now = performance.now(); timing[k] += now - t; t = now; };
  const scene = new Scene(engine);
  try {
    // The main camera draws nothing (layer mask 0): frames only run the shadow map and the eye.
    const main = new FreeCamera("main", new Vector3(0, 50, 0), scene, true);
    main.layerMask = 0;
    const world = buildWorld(planScene(item.scene), scene);
    for (const f of item.figures) {
      const a = new Avatar(scene, f.id, npcLook(f.role), { name: f.id, role: f.role }, world.palette, world.shadows);
      a.setPose(f.position, [0, Math.sin(f.facing / 2), 0, Math.cos(f.facing / 2)]);
    }
    if (SHADOW_SIZE > 0) world.shadows?.getShadowMap()?.resize(SHADOW_SIZE);
    const eye = createNpcEye(scene);
    lap("build");
    // Poll readiness each tick (whenReadyAsync re-checks only every 150 ms).
    for (let tick = 0; !scene.isReady(); tick++) {
      if (tick > 20000) throw new Error("scene never became ready");
      await nextTick();
    }
    lap("ready");
    let done = false;
    const pixels = eye.capture(item.pose).finally(() => { done = true; });
    // Render frames until the eye has drawn (it removes its after-render observer then).
    for (let frames = 0; !done; frames++) {
      if (scene.onAfterRenderObservable.hasObservers()) { scene.render(); timing.frames++; }
      else await nextTick();
      if (frames > 2000) throw new Error("eye capture did not finish");
      if (scene.onAfterRenderObservable.hasObservers()) await nextTick();
    }
    const rgba = await pixels;
    lap("capture");
    const rgb = new Uint8Array(eye.size * eye.size * 3);
    for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) { rgb[j] = rgba[i]; rgb[j + 1] = rgba[i + 1]; rgb[j + 2] = rgba[i + 2]; }
    return rgb;
  } finally {
    scene.dispose();
    lap("dispose");
    timing.views++;
  }
}

window.renderViews = async (items) => {
  const parts: Uint8Array[] = new Array(items.length);
  let next = 0;
  const worker = async () => { for (let i = next++; i < items.length; i = next++) parts[i] = await renderOne(items[i]); };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, items.length) }, worker));
  let bin = "";
  for (const p of parts) for (let i = 0; i < p.length; i += 8192) bin += String.fromCharCode(...p.subarray(i, i + 8192));
  return btoa(bin);
};
