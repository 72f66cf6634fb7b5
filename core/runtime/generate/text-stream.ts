// Turning a growing list of token ids into streamed text.
//
// IncrementalDecoder: byte-level tokenizers split multi-byte UTF-8 characters over several tokens;
// decoding a partial character gives U+FFFD. We decode a small window of recent ids and only emit
// once the window's text no longer ends in U+FFFD, so a stream never shows half a character. The
// window starts one token earlier than the new text (prefixOffset) so tokenizers that treat the
// first token of a decode specially (leading-space stripping) still produce the right delta.
//
// StopStringFilter: stop strings may span token boundaries ("\nUs" + "er:"). The filter holds back
// the tail of the text that could still become a stop string and cuts the text where one appears;
// the streamed text never contains a stop string or a part of one.

export type DecodeFn = (ids: number[]) => string;

export class IncrementalDecoder {
  private readonly ids: number[] = [];
  private prefixOffset = 0;
  private readOffset = 0;

  constructor(private readonly decode: DecodeFn) {}

  /** Adds one id; returns the newly complete text ("" while a character is still incomplete). */
  push(id: number): string {
    this.ids.push(id);
    const prefixText = this.decode(this.ids.slice(this.prefixOffset, this.readOffset));
    const fullText = this.decode(this.ids.slice(this.prefixOffset));
    if (fullText.length > prefixText.length && !fullText.endsWith("\uFFFD") && fullText.startsWith(prefixText)) {
      this.prefixOffset = this.readOffset;
      this.readOffset = this.ids.length;
      return fullText.slice(prefixText.length);
    }
    return "";
  }

  /** End of stream: whatever is left, even if it is an incomplete character (then it shows as U+FFFD). */
  flush(): string {
    const prefixText = this.decode(this.ids.slice(this.prefixOffset, this.readOffset));
    const fullText = this.decode(this.ids.slice(this.prefixOffset));
    this.prefixOffset = this.readOffset = this.ids.length;
    return fullText.startsWith(prefixText) ? fullText.slice(prefixText.length) : "";
  }
}

export class StopStringFilter {
  private text = "";
  private emitted = 0;
  private readonly maxLen: number;
  /** Set once a stop string was found: the final text ends right before it. */
  stopped = false;

  constructor(private readonly stops: readonly string[]) {
    this.maxLen = stops.reduce((m, s) => Math.max(m, s.length), 0);
  }

  /** Adds decoded text; returns the part that is now safe to show. Check `stopped` after each call. */
  push(delta: string): string {
    if (this.stopped || delta.length === 0) return "";
    const before = this.text.length;
    this.text += delta;
    if (this.stops.length === 0) return this.release(this.text.length);
    // Only a match that ends inside the new text is new; start looking far enough back for it.
    const from = Math.max(0, before - this.maxLen + 1);
    let cut = -1;
    for (const s of this.stops) {
      const at = this.text.indexOf(s, from);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      this.stopped = true;
      this.text = this.text.slice(0, cut);
      return this.release(cut);
    }
    return this.release(this.text.length - this.heldBack());
  }

  /** End of stream without a stop string: everything held back is released. */
  flush(): string {
    return this.release(this.text.length);
  }

  /** Text shown so far (equals the final text after flush or a stop). */
  get shown(): string {
    return this.text.slice(0, this.emitted);
  }

  private release(upTo: number): string {
    if (upTo <= this.emitted) return "";
    const out = this.text.slice(this.emitted, upTo);
    this.emitted = upTo;
    return out;
  }

  /** Length of the longest suffix of the text that is a proper prefix of some stop string. */
  private heldBack(): number {
    const t = this.text;
    for (let n = Math.min(this.maxLen - 1, t.length - this.emitted); n > 0; n--) {
      const tail = t.slice(t.length - n);
      if (this.stops.some((s) => s.length > n && s.startsWith(tail))) return n;
    }
    return 0;
  }
}
