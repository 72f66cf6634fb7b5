import type { Engine } from "./babylon.ts";

// Keeps the frame rate playable on slow GPUs (and software rendering) by rendering fewer
// pixels: every WINDOW_MS we look at the frame rate and step the hardware scaling level
// (1 = one pixel per CSS pixel, 2 = a quarter of the pixels) up when it is low and back down
// when there is headroom. `?scale=N` fixes the level instead.

const WINDOW_MS = 1500;
const LOW_FPS = 24;
const HIGH_FPS = 50;
const STEP = 0.25;
const MAX_LEVEL = 3;

export class AdaptiveResolution {
  private frames = 0;
  private since = performance.now();
  private readonly fixed: number | null;
  private readonly minLevel: number;

  constructor(private engine: Engine, search = location.search) {
    // Never render above the screen's own resolution, nor above 1.5× on dense screens (cost).
    this.minLevel = 1 / Math.min(1.5, globalThis.devicePixelRatio || 1);
    const raw = new URLSearchParams(search).get("scale");
    const n = raw === null ? NaN : Number(raw);
    this.fixed = Number.isFinite(n) && n >= 0.25 && n <= 8 ? n : null;
    engine.setHardwareScalingLevel(this.fixed ?? this.minLevel);
  }

  get level(): number { return this.engine.getHardwareScalingLevel(); }

  /** Call once per frame. */
  update(now = performance.now()): void {
    if (this.fixed !== null) return;
    this.frames++;
    const elapsed = now - this.since;
    if (elapsed < WINDOW_MS) return;
    const fps = (this.frames * 1000) / elapsed;
    this.frames = 0;
    this.since = now;
    const level = this.level;
    // Far too slow (software rendering): take bigger steps so it gets playable quickly.
    const step = fps < LOW_FPS / 3 ? 2 * STEP : STEP;
    if (fps < LOW_FPS && level < MAX_LEVEL) this.engine.setHardwareScalingLevel(Math.min(MAX_LEVEL, level + step));
    else if (fps > HIGH_FPS && level > this.minLevel) this.engine.setHardwareScalingLevel(Math.max(this.minLevel, level - STEP));
  }
}
