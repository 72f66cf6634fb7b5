// Scheduler counters for operators and benchmarks. Times in ms; rates per second of busy time
// (time the loop spent in admit/prefill/step, not idle waiting).

const WINDOW = 256; // recent samples kept for percentiles

export class SchedulerStats {
  submitted = 0;
  rejected = 0;
  steps = 0;
  prefills = 0;
  prefillTokens = 0;
  /** Tokens generated (one per row per step, plus one per prefilled row). */
  tokens = 0;
  busyMs = 0;
  /** Batch size → number of decode steps run at that size. */
  readonly batchSizeHistogram: Record<number, number> = {};
  private readonly queueWaits: number[] = [];
  private serviceEwma = 0;

  recordStep(rows: number): void {
    this.steps++;
    this.tokens += rows;
    this.batchSizeHistogram[rows] = (this.batchSizeHistogram[rows] ?? 0) + 1;
  }

  recordQueueWait(ms: number): void {
    this.queueWaits.push(ms);
    if (this.queueWaits.length > WINDOW) this.queueWaits.shift();
  }

  /** Admission → finish time of completed requests (exponential moving average). */
  recordService(ms: number): void {
    this.serviceEwma = this.serviceEwma === 0 ? ms : 0.8 * this.serviceEwma + 0.2 * ms;
  }

  serviceMsEstimate(): number {
    return this.serviceEwma;
  }

  snapshot(): {
    submitted: number; rejected: number; steps: number; prefills: number; tokens: number;
    tokensPerSecond: number; batchSizeHistogram: Record<number, number>; queueWaitP50Ms: number; queueWaitP95Ms: number;
  } {
    const q = [...this.queueWaits].sort((a, b) => a - b);
    const pct = (p: number) => (q.length ? q[Math.min(q.length - 1, Math.floor(p * q.length))] : 0);
    return {
      submitted: this.submitted,
      rejected: this.rejected,
      steps: this.steps,
      prefills: this.prefills,
      tokens: this.tokens,
      tokensPerSecond: this.busyMs > 0 ? (this.tokens * 1000) / this.busyMs : 0,
      batchSizeHistogram: { ...this.batchSizeHistogram },
      queueWaitP50Ms: pct(0.5),
      queueWaitP95Ms: pct(0.95),
    };
  }
}
