import type { NpcReplyEvent, NpcThinkingEvent, NpcTokenEvent } from "../../core/protocol/index.ts";
import { spokenText } from "./spoken-text.ts";

// NPC replies as they stream in, one speech bubble per NPC. Pure bookkeeping (times are
// passed in, in ms), so the rules below are unit-tested without a browser:
//
// - A reply is known by (npc, reply id). `npc_thinking` opens it, `npc_token`s append to it,
//   `npc_reply` closes it with the authoritative whole line.
// - An NPC's bubble shows its newest reply. A newer reply supersedes an unfinished older one;
//   late tokens of the older one are ignored (its final line still goes to the chat log once).
// - Events may arrive duplicated or out of order: a token before `npc_thinking` opens the reply
//   already speaking, a late `npc_thinking` never resets streamed text, anything after the
//   reply ended is ignored, and a duplicate `npc_reply` is reported as not new.
// - The final line replaces whatever the deltas added up to, so a lost or doubled delta is
//   corrected when the reply ends.

export type BubblePhase = "thinking" | "speaking" | "done";

export interface NpcBubble {
  npc: string;
  reply: string;
  phase: BubblePhase;
  /** Text shown: tag-free, whitespace collapsed; "" while thinking. */
  text: string;
  /** When the reply opened and when its bubble last changed (ms). */
  startedAt: number;
  changedAt: number;
  /** Done bubbles: when they disappear (ms). */
  until: number;
  /** Every distinct text the bubble showed, "…" for thinking (bounded; for tests and the debug hook). */
  history: string[];
}

export interface ReplyStreamOptions {
  /** How long a finished line stays up, from its length (ms). */
  lingerMs: (text: string) => number;
  /** A reply with no news for this long is dropped (the server lost it) (ms). */
  staleMs: number;
  /** Reply ids remembered as finished, to recognise late duplicates. */
  remember: number;
}

export const REPLY_STREAM_DEFAULTS: ReplyStreamOptions = {
  lingerMs: (text) => Math.min(15_000, 4_000 + 60 * text.length),
  staleMs: 30_000,
  remember: 512,
};

const HISTORY_MAX = 64;

export class ReplyStreams {
  private bubbles = new Map<string, NpcBubble & { raw: string }>();
  /** Replies that may no longer touch a bubble (finished or superseded), oldest first. */
  private closed = new Map<string, true>();
  /** Replies whose final line was already delivered. */
  private logged = new Map<string, true>();
  private opts: ReplyStreamOptions;

  constructor(opts: Partial<ReplyStreamOptions> = {}) {
    this.opts = { ...REPLY_STREAM_DEFAULTS, ...opts };
  }

  /** An NPC started composing a reply. Returns true when a bubble changed. */
  thinking(e: NpcThinkingEvent, now: number): boolean {
    const key = keyOf(e.npc, e.reply);
    if (this.closed.has(key)) return false;
    const cur = this.bubbles.get(e.npc);
    if (cur?.reply === e.reply) return false; // duplicate, or late after tokens: keep the text
    this.supersede(cur);
    this.bubbles.set(e.npc, { npc: e.npc, reply: e.reply, phase: "thinking", text: "", raw: "", startedAt: now, changedAt: now, until: Infinity, history: ["…"] });
    return true;
  }

  /** The next piece of spoken text. Returns true when a bubble changed. */
  token(e: NpcTokenEvent, now: number): boolean {
    if (typeof e.text !== "string" || e.text.length === 0) return false;
    const key = keyOf(e.npc, e.reply);
    if (this.closed.has(key)) return false;
    let cur = this.bubbles.get(e.npc);
    if (cur?.reply !== e.reply) {
      this.supersede(cur);
      cur = { npc: e.npc, reply: e.reply, phase: "speaking", text: "", raw: "", startedAt: now, changedAt: now, until: Infinity, history: [] };
      this.bubbles.set(e.npc, cur);
    }
    cur.raw += e.text;
    const wasThinking = cur.phase === "thinking";
    cur.phase = "speaking";
    cur.changedAt = now;
    return this.show(cur, spokenText(cur.raw, true)) || wasThinking;
  }

  /**
   * The reply ended with its whole line. Returns true the first time this reply ends (the caller
   * logs the line then), false for a duplicate.
   */
  reply(e: NpcReplyEvent, now: number): boolean {
    const key = keyOf(e.npc, e.reply);
    if (this.logged.has(key)) return false;
    remember(this.logged, key, this.opts.remember);
    remember(this.closed, key, this.opts.remember);
    const cur = this.bubbles.get(e.npc);
    // A superseded reply's line goes to the log only; the bubble belongs to the newer one.
    if (cur && cur.reply !== e.reply) return true;
    const text = spokenText(e.text);
    const b = cur ?? { npc: e.npc, reply: e.reply, phase: "done" as BubblePhase, text: "", raw: "", startedAt: now, changedAt: now, until: 0, history: [] };
    b.phase = "done";
    b.raw = e.text;
    b.changedAt = now;
    b.until = now + this.opts.lingerMs(text);
    this.show(b, text);
    if (text === "") this.bubbles.delete(e.npc);
    else this.bubbles.set(e.npc, b);
    return true;
  }

  /** Drop bubbles whose time is up; returns the NPCs whose bubble went away. */
  expire(now: number): string[] {
    const gone: string[] = [];
    for (const [npc, b] of this.bubbles) {
      const over = b.phase === "done" ? now >= b.until : now - b.changedAt >= this.opts.staleMs;
      if (!over) continue;
      if (b.phase !== "done") remember(this.closed, keyOf(npc, b.reply), this.opts.remember);
      this.bubbles.delete(npc);
      gone.push(npc);
    }
    return gone;
  }

  get(npc: string): NpcBubble | undefined { return this.bubbles.get(npc); }
  all(): NpcBubble[] { return [...this.bubbles.values()]; }

  private supersede(b: (NpcBubble & { raw: string }) | undefined): void {
    if (b && b.phase !== "done") remember(this.closed, keyOf(b.npc, b.reply), this.opts.remember);
  }

  private show(b: NpcBubble, text: string): boolean {
    if (text === b.text) return false;
    b.text = text;
    if (text !== "") {
      b.history.push(text);
      if (b.history.length > HISTORY_MAX) b.history.splice(1, 1); // keep the first entry (thinking)
    }
    return true;
  }
}

function keyOf(npc: string, reply: string): string { return `${npc}\u0000${reply}`; }

function remember(set: Map<string, true>, key: string, max: number): void {
  set.set(key, true);
  while (set.size > max) set.delete(set.keys().next().value!);
}
