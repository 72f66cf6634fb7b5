// Size and rate limits for client→server messages: one place for the numbers, applied by the
// room (server/world-room.ts) and respected by the client (which sends `move` once per 30 Hz tick).

export interface RateLimit {
  /** Bucket size: how many messages may arrive in a burst. */
  capacity: number;
  /** Refill rate in messages per second (the sustained rate allowed). */
  perSecond: number;
}

export interface ProtocolLimits {
  /** Largest accepted payload, in bytes of its encoding (estimated from the decoded value). */
  maxPayloadBytes: number;
  /** Largest accepted `npc_view` payload (features or a 64×64 RGBA image), bytes. */
  maxViewPayloadBytes: number;
  /** WebSocket frame cap; a larger frame closes the socket before it is decoded (code 1009). */
  socketMaxPayloadBytes: number;
  /** Per-client token bucket per message type; `other` covers unknown types. */
  rates: { move: RateLimit; chat: RateLimit; view: RateLimit; other: RateLimit };
  /** Each rejection takes a token; a client whose bucket runs dry is kicked (sustained abuse). */
  strikes: RateLimit;
  /** Colyseus' own per-client cap (messages per second) above which it drops the socket outright. */
  hardMessagesPerSecond: number;
}

export const DEFAULT_LIMITS: ProtocolLimits = {
  maxPayloadBytes: 1024,
  // 32 KB of features (D ≤ 128) and as much of their mirror's, or a 16 KB image, plus the NPC id and keys.
  maxViewPayloadBytes: 64 * 1024 + 256,
  socketMaxPayloadBytes: 80 * 1024,
  rates: {
    move: { capacity: 60, perSecond: 40 },
    chat: { capacity: 5, perSecond: 1 },
    // npc_view: a client sends one when a conversation starts and one every 3 s while it lasts.
    view: { capacity: 3, perSecond: 2 },
    other: { capacity: 10, perSecond: 2 },
  },
  strikes: { capacity: 60, perSecond: 3 },
  hardMessagesPerSecond: 400,
};
