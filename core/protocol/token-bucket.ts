// Token bucket: `capacity` tokens, refilled continuously at `perSecond`; each event takes one.
import type { RateLimit } from "./limits.ts";

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(private readonly limit: RateLimit, nowMs: number) {
    this.tokens = limit.capacity;
    this.last = nowMs;
  }

  /** Takes one token at time `nowMs` (milliseconds); false when the bucket is empty. */
  take(nowMs: number): boolean {
    const elapsed = Math.max(0, nowMs - this.last) / 1000;
    this.last = nowMs;
    this.tokens = Math.min(this.limit.capacity, this.tokens + elapsed * this.limit.perSecond);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds from `nowMs` until a token is available (0 when one is). Does not take one. */
  waitMs(nowMs: number): number {
    const elapsed = Math.max(0, nowMs - this.last) / 1000;
    const tokens = Math.min(this.limit.capacity, this.tokens + elapsed * this.limit.perSecond);
    return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) / this.limit.perSecond) * 1000);
  }
}
