import { parseReply } from "../../core/prompt/reply.ts";

// Turns a reply's raw text, arriving in pieces, into the spoken text players see: the mood tag and
// action tags stripped, whitespace collapsed, exactly as parseReply will write the whole line. The
// pieces pushed out concatenate to parseReply(raw).text.
//
// How: the spoken text of the raw text so far is parseReply's text of it, minus any trailing
// "[..." that could still become a tag (held back until a "]" closes it or a character rules it
// out). That text only grows at the end as raw text arrives (tags are removed whole, whitespace
// collapsed and trimmed), so each push sends what was added since the last one.

/** A "[" followed by something that can still grow into a tag ("[", "[mood", "[mood: calm"). */
const OPEN_TAG = /\[(?:[a-z_]+\s*(?::\s*(?:[^\]\s]+\s*)?)?)?$/i;

export class SpokenStream {
  private raw = "";
  private sent = "";

  /** Adds raw model text; returns the spoken text to send now ("" when nothing is ready). */
  push(piece: string): string {
    this.raw += piece;
    const open = this.raw.match(OPEN_TAG);
    const ready = open ? this.raw.slice(0, open.index) : this.raw;
    return this.advance(parseReply(ready).text);
  }

  /** The raw text is complete: returns the rest of the spoken text. */
  end(): string {
    return this.advance(parseReply(this.raw).text);
  }

  /** All spoken text sent so far. */
  get text(): string {
    return this.sent;
  }

  get rawText(): string {
    return this.raw;
  }

  private advance(spoken: string): string {
    // By construction `spoken` extends what was sent; if it ever did not, hold until it does.
    if (!spoken.startsWith(this.sent) || spoken.length === this.sent.length) return "";
    const delta = spoken.slice(this.sent.length);
    this.sent = spoken;
    return delta;
  }
}
