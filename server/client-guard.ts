// Per-client abuse guard: a token bucket per message type, a strike bucket (each rejection takes
// a token; empty → kick), and a notice bucket that throttles `rejected` replies and log lines.
import { DEFAULT_LIMITS, TokenBucket, type ProtocolLimits } from "../core/protocol/index.ts";

export class ClientGuard {
  private readonly rates: Record<"move" | "chat" | "view" | "other", TokenBucket>;
  private readonly strikes: TokenBucket;
  private readonly notices: TokenBucket;
  /** Rejections not reported (reply and log) because the notice bucket was empty. */
  suppressed = 0;
  kicked = false;

  constructor(private readonly limits: ProtocolLimits = DEFAULT_LIMITS, now = Date.now()) {
    this.rates = {
      move: new TokenBucket(limits.rates.move, now),
      chat: new TokenBucket(limits.rates.chat, now),
      view: new TokenBucket(limits.rates.view, now),
      other: new TokenBucket(limits.rates.other, now),
    };
    this.strikes = new TokenBucket(limits.strikes, now);
    this.notices = new TokenBucket({ capacity: 20, perSecond: 5 }, now);
  }

  /** Takes a token for a message of `type`; returns a reason when over the rate. */
  admit(type: unknown, now = Date.now()): string | undefined {
    const key = type === "move" || type === "chat" ? type : type === "npc_view" ? "view" : "other";
    if (this.rates[key].take(now)) return undefined;
    const limit = this.limits.rates[key];
    const what = key === "other" ? "unknown" : key === "view" ? "npc_view" : key;
    return `rate limit: more than ${limit.perSecond} ${what} messages per second (burst ${limit.capacity})`;
  }

  /** Records a rejection; true when the client has run out of strikes and must be kicked. */
  strike(now = Date.now()): boolean {
    return !this.strikes.take(now);
  }

  /** Whether this rejection should be replied to and logged (throttled). */
  notice(now = Date.now()): boolean {
    if (this.notices.take(now)) return true;
    this.suppressed++;
    return false;
  }
}
