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

  /** The held samples, oldest first. */
  all(): number[] {
    if (this.count < this.values.length) return Array.from(this.values.subarray(0, this.count));
    return [...this.values.subarray(this.next), ...this.values.subarray(0, this.next)];
  }

  clear(): void {
    this.count = 0;
    this.next = 0;
  }
}

/** Wall time of the parts of one simulation tick, ms (WorldSimulation.tick fills it). */
export interface TickSections {
  /** Inputs applied to every player's character (the controller or its fast path). */
  inputs: number;
  npcs: number;
  /** Rapier's world.step(): broad phase, props' dynamics, kinematic bodies moved. */
  step: number;
  /** Bodies copied into the replicated state, respawns, props. */
  sync: number;
}

export class TickMetrics {
  /** Duration of one simulation tick (inputs, NPCs, Rapier step, state writes), wall clock. */
  readonly tick: Samples;
  /**
   * CPU time of the process during one tick (process.cpuUsage, user + system), ms. Unlike the
   * wall clock it does not grow when the machine is busy and the OS runs something else
   * mid-tick; it does include V8's helper threads (concurrent GC) working at the same time.
   */
  readonly tickCpu: Samples;
  /** When each tick in `tick` started (performance.now(), ms), to line ticks up with GC pauses. */
  readonly tickStart: Samples;
  /** Duration of one broadcastPatch (schema delta encoding + handing bytes to sockets). */
  readonly patch: Samples;
  /** Sums of the sections' wall times over the ticks counted in `sectionTicks`, ms. */
  readonly sections: TickSections = { inputs: 0, npcs: 0, step: 0, sync: 0 };
  sectionTicks = 0;
  /** Patch bytes handed to each client (the same delta goes to every client). */
  patchBytes = 0;
  patches = 0;

  constructor(capacity = 30 * 120) {
    this.tick = new Samples(capacity);
    this.tickCpu = new Samples(capacity);
    this.tickStart = new Samples(capacity);
    this.patch = new Samples(capacity);
  }

  /** Records one tick: wall ms, CPU ms, and its sections. */
  recordTick(wallMs: number, cpuMs: number, sections: TickSections, startMs = NaN): void {
    this.tick.push(wallMs);
    this.tickStart.push(startMs);
    this.tickCpu.push(cpuMs);
    this.sections.inputs += sections.inputs;
    this.sections.npcs += sections.npcs;
    this.sections.step += sections.step;
    this.sections.sync += sections.sync;
    this.sectionTicks++;
  }

  clear(): void {
    this.tick.clear();
    this.tickCpu.clear();
    this.tickStart.clear();
    this.patch.clear();
    this.sections.inputs = this.sections.npcs = this.sections.step = this.sections.sync = 0;
    this.sectionTicks = 0;
    this.patchBytes = 0;
    this.patches = 0;
  }
}
