// Per-player dialogue rate limit: how many lines a player may say to NPCs, as a token bucket per
// player key (burst, then a steady rate per minute). Separate from the room's per-client message
// limits (core/protocol/limits.ts): those guard the socket, this guards the model's time.
import { TokenBucket } from "../../core/protocol/token-bucket.ts";

export interface DialogueRateLimitOptions {
  /** Sustained lines per minute per player. Default 12. */
  perMinute?: number;
  /** Lines a player may say in a burst. Default 4. */
  burst?: number;
  /** Players tracked before idle ones (bucket full again) are dropped. Default 10000. */
  maxTracked?: number;
}

export class DialogueRateLimiter {
  private readonly perMinute: number;
  private readonly burst: number;
  private readonly maxTracked: number;
  private readonly buckets = new Map<string, { bucket: TokenBucket; last: number }>();

  constructor(opts: DialogueRateLimitOptions = {}) {
    this.perMinute = opts.perMinute ?? 12;
    this.burst = opts.burst ?? 4;
    this.maxTracked = opts.maxTracked ?? 10_000;
    if (!(this.perMinute > 0) || !Number.isFinite(this.perMinute)) throw new RangeError(`dialogue rate: perMinute must be a positive number, got ${this.perMinute}`);
    if (!Number.isInteger(this.burst) || this.burst < 1) throw new RangeError(`dialogue rate: burst must be an integer ≥ 1, got ${this.burst}`);
    if (!Number.isInteger(this.maxTracked) || this.maxTracked < 1) throw new RangeError(`dialogue rate: maxTracked must be an integer ≥ 1, got ${this.maxTracked}`);
  }

  /** Takes one line from the player's allowance at `now` (ms); when none is left, says how long to wait. */
  admit(playerKey: string, now: number = Date.now()): { ok: true } | { ok: false; retryInMs: number } {
    let entry = this.buckets.get(playerKey);
    if (!entry) {
      if (this.buckets.size >= this.maxTracked) this.sweep(now);
      entry = { bucket: new TokenBucket({ capacity: this.burst, perSecond: this.perMinute / 60 }, now), last: now };
      this.buckets.set(playerKey, entry);
    }
    entry.last = Math.max(entry.last, now);
    if (entry.bucket.take(now)) return { ok: true };
    return { ok: false, retryInMs: Math.max(1, entry.bucket.waitMs(now)) };
  }

  /** Drops a player's bucket (they left). */
  forget(playerKey: string): void {
    this.buckets.delete(playerKey);
  }

  /** Players currently tracked. */
  get size(): number {
    return this.buckets.size;
  }

  /** Drops players idle long enough for their bucket to be full again; then the oldest if still over. */
  private sweep(now: number): void {
    const refillMs = (this.burst / this.perMinute) * 60_000;
    for (const [key, e] of this.buckets) if (now - e.last >= refillMs) this.buckets.delete(key);
    if (this.buckets.size >= this.maxTracked) {
      const oldest = [...this.buckets.entries()].sort((a, b) => a[1].last - b[1].last);
      for (const [key] of oldest.slice(0, this.buckets.size - this.maxTracked + 1)) this.buckets.delete(key);
    }
  }
}
