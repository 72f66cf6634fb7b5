// Timings measured inside the room: simulation ticks and patch encoding+sending, in ms.
// Ring buffers of the last `capacity` samples; percentiles over what is held.

class Samples {
  private readonly values: Float64Array;
  private count = 0;
  private next = 0;

  constructor(capacity: number) {
    this.values = new Float64Array(capacity);
  }

  push(ms: number): void {
    this.values[this.next] = ms;
    this.next = (this.next + 1) % this.values.length;
    this.count = Math.min(this.count + 1, this.values.length);
  }

  /** p in [0, 1]; NaN when empty. */
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    const sorted = Array.from(this.values.subarray(0, this.count)).sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  }

  get size(): number {
    return this.count;
  }

  clear(): void {
    this.count = 0;
    this.next = 0;
  }
}

export class TickMetrics {
  /** Duration of one simulation tick (inputs, NPCs, Rapier step, state writes), wall clock. */
  readonly tick: Samples;
  /** Duration of one broadcastPatch (schema delta encoding + handing bytes to sockets). */
  readonly patch: Samples;
  /** Patch bytes handed to each client (the same delta goes to every client). */
  patchBytes = 0;
  patches = 0;

  constructor(capacity = 30 * 120) {
    this.tick = new Samples(capacity);
    this.patch = new Samples(capacity);
  }

  clear(): void {
    this.tick.clear();
    this.patch.clear();
    this.patchBytes = 0;
    this.patches = 0;
  }
}
