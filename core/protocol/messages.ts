// Every message between client and server. Client→server messages are validated on arrival by
// parseClientMessage (validate.ts); server→client messages are typed here for both sides.
import { z } from "zod";

const finite = z.number().finite();

/**
 * `move`: one movement input, sent once per simulation tick (30 Hz) while the player acts.
 * The server applies inputs in order, one per tick, and reports the last applied `seq` in
 * PlayerState.lastInput so the client can replay newer inputs (reconciliation).
 */
export const MoveMessage = z.object({
  /** Input sequence number, increasing by one per input. */
  seq: z.number().int().min(0).max(2 ** 31 - 1),
  /** Forward/back axis in [-1, 1]; +1 walks where the player faces. */
  forward: finite.min(-1).max(1),
  /** Strafe axis in [-1, 1]; +1 walks to the player's right. */
  right: finite.min(-1).max(1),
  run: z.boolean(),
  jump: z.boolean(),
  /** Facing in radians about +Y (0 faces +Z); any finite angle, normalised by the server. */
  yaw: finite.min(-1000).max(1000),
}).strict();
export type MoveMessage = z.infer<typeof MoveMessage>;

export const CHAT_MAX_CHARS = 280;

/** `chat`: a line said aloud; heard by players within earshot. Text is trimmed first. */
export const ChatMessage = z.object({
  text: z.string()
    .transform((s) => s.trim())
    .pipe(z.string()
      .min(1, "chat text is empty")
      .max(CHAT_MAX_CHARS, `chat text is longer than ${CHAT_MAX_CHARS} characters`)
      // C0/C1 control characters (newlines included), plus bidi overrides that could spoof text.
      .regex(/^[^\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]*$/, "chat text contains control characters")),
  /** Optional NPC id the line is addressed to; without it, the nearest NPC in earshot that can see the speaker answers. */
  to: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "chat `to` must be an NPC id").optional(),
}).strict();
export type ChatMessage = z.infer<typeof ChatMessage>;

/** Bytes of an `npc_view` image: 64×64 RGBA, row 0 = top (core/vision/README.md). */
export const VIEW_IMAGE_BYTES = 64 * 64 * 4;
/** Cells of the encoder's feature grid (8×8); `features` holds 64·D little-endian float32. */
export const VIEW_CELLS = 64;
/** Largest `features` accepted before the server checks the exact size for its encoder (D ≤ 128). */
export const VIEW_FEATURES_MAX_BYTES = VIEW_CELLS * 128 * 4;

const Bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, "expected binary bytes (a Uint8Array)");

/**
 * `npc_view`: what an NPC sees, from the client of a player talking to it: either the vision
 * encoder's `features` (64·D little-endian float32: an 8×8 grid of D-vectors, row-major from the
 * top-left; optionally `mirror`, those of the picture mirrored left to right) or the raw `image` (64×64 RGBA bytes, row 0 = top) for the server to encode. The
 * exact feature size (D from the server's vision.json), the value range and the NPC's distance
 * are checked by the room (server/vision/).
 */
export const NpcViewMessage = z.object({
  npc: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "npc_view `npc` must be an NPC id"),
  features: Bytes.optional(),
  /** With `features`: the encoder's features of the same picture mirrored left to right (the detector's second look). */
  mirror: Bytes.optional(),
  image: Bytes.optional(),
}).strict().superRefine((m, ctx) => {
  if (m.mirror !== undefined && (m.features === undefined || m.mirror.byteLength !== m.features.byteLength)) {
    ctx.addIssue({ code: "custom", path: ["mirror"], message: "`mirror` comes with `features`, the same size" });
  }
  if ((m.features === undefined) === (m.image === undefined)) {
    ctx.addIssue({ code: "custom", message: "expected exactly one of `features` or `image`" });
  }
  if (m.image !== undefined && m.image.byteLength !== VIEW_IMAGE_BYTES) {
    ctx.addIssue({ code: "custom", path: ["image"], message: `expected ${VIEW_IMAGE_BYTES} bytes (64×64 RGBA), got ${m.image.byteLength}` });
  }
  const f = m.features?.byteLength;
  if (f !== undefined && (f === 0 || f % (VIEW_CELLS * 4) !== 0 || f > VIEW_FEATURES_MAX_BYTES)) {
    ctx.addIssue({ code: "custom", path: ["features"], message: `expected 64·D float32 (a non-zero multiple of ${VIEW_CELLS * 4} bytes, at most ${VIEW_FEATURES_MAX_BYTES}), got ${f} bytes` });
  }
});
export type NpcViewMessage = z.infer<typeof NpcViewMessage>;

/** Client→server schemas by type: the single list the validator and the room dispatch on. */
export const CLIENT_MESSAGES = { move: MoveMessage, chat: ChatMessage, npc_view: NpcViewMessage } as const;
export type ClientMessageType = keyof typeof CLIENT_MESSAGES;
export const CLIENT_MESSAGE_TYPES = Object.keys(CLIENT_MESSAGES) as ClientMessageType[];
export type ClientMessage =
  | { type: "move"; message: MoveMessage }
  | { type: "chat"; message: ChatMessage }
  | { type: "npc_view"; message: NpcViewMessage };

// ---- server → client ----

/** `chat`: a line heard by this client; `distance` in metres from the speaker. */
export interface ChatEvent {
  /** Speaker id: a player's sessionId or an NPC id. */
  from: string;
  name: string;
  text: string;
  distance: number;
}

/** `rejected`: a message from this client was dropped; `type` is what it was sent as. */
export interface RejectedEvent {
  type: string;
  reason: string;
}

/** `npc_thinking`: an NPC heard a line and is composing a reply (`reply` identifies it). */
export interface NpcThinkingEvent {
  npc: string;
  reply: string;
  /** sessionIds of the players the reply answers. */
  to: string[];
}

/** `npc_token`: the next piece of an NPC's spoken text (tags stripped), in order. */
export interface NpcTokenEvent {
  npc: string;
  reply: string;
  text: string;
}

/** `npc_reply`: an NPC finished a reply; `text` is the whole spoken line. */
export interface NpcReplyEvent {
  npc: string;
  name: string;
  reply: string;
  to: string[];
  text: string;
  /** The reply's mood tag (or the character's default). */
  mood: string;
  /** Gate mixture weights over the character's adapters (adapter id → weight). */
  weights: Record<string, number>;
  /** Action tags as written, e.g. "give:apple", in order. */
  actions: string[];
  /** True when the line is an in-character fallback (model failed or missed its deadline). */
  fallback: boolean;
  /** True when the safety filter replaced the model's line with a deflection. */
  filtered: boolean;
}

/** `npc_action`: an action tag from a reply, applied (`ok`) or skipped with the reason. */
export interface NpcActionEvent {
  npc: string;
  reply: string;
  action: string;
  ok: boolean;
  reason?: string;
}

export interface ServerMessages {
  chat: ChatEvent;
  rejected: RejectedEvent;
  npc_thinking: NpcThinkingEvent;
  npc_token: NpcTokenEvent;
  npc_reply: NpcReplyEvent;
  npc_action: NpcActionEvent;
}
export type ServerMessageType = keyof ServerMessages;
export const SERVER_MESSAGE_TYPES: readonly ServerMessageType[] = ["chat", "rejected", "npc_thinking", "npc_token", "npc_reply", "npc_action"];

/** WebSocket close code the room uses when it kicks a client for sustained abuse. */
export const CLOSE_KICKED_FOR_ABUSE = 4008;
