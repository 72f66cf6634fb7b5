// One request inside a batch: its prompt, its config, its PRNG, its stopping rules, its text
// stream and its result. The batch (batch-state.ts) hands it one row of logits per step; the row
// picks a token, updates its text and says whether it is finished. Rows know nothing of the KV
// cache; the batch knows nothing of sampling or text.

import type { GenerationConfig } from "./config.ts";
import { ChunkQueue } from "./chunk-queue.ts";
import { processorsFor, type LogitsProcessor } from "./logits-processors.ts";
import { mulberry32, randomSeed, type Rng } from "./rng.ts";
import { argmax, sampleFromLogits } from "./sampler.ts";
import { IncrementalDecoder, StopStringFilter, type DecodeFn } from "./text-stream.ts";

export type FinishReason = "stop" | "length" | "abort";

/** One streamed step: the sampled id and the text that became safe to show ("" while held back). */
export interface StreamChunk {
  token: number;
  text: string;
}

export interface GenerationResult {
  text: string;
  /** Generated ids, including a final EOS / stop token if that is what ended the row. */
  tokenIds: number[];
  finishReason: FinishReason;
  promptTokens: number;
  /** The PRNG seed used (null for greedy), so a sampled reply can be replayed. */
  seed: number | null;
  timings: {
    /** Request start → first token sampled, ms (includes waiting for the batch and the prefill). */
    ttftMs: number;
    totalMs: number;
    /** Tokens after the first ÷ time after the first token (the decode rate this row saw). */
    decodeTokensPerSecond: number;
  };
}

export interface RowLimits {
  vocabSize: number;
  /** Model context in positions (max_position_embeddings). */
  maxPositions: number;
  /** EOS ids of the model, used when the config gives none. */
  eosTokenIds: readonly number[];
  /**
   * Ids the tokenizer can write (its size): a model whose vocab_size is padded past the tokenizer
   * (a multiple of 64, say) never picks the padding rows, which no text decodes to. Default: all.
   */
  outputSize?: number;
}

/** Visual tokens for a row: `embeds` [n, H] replace the embeddings of the n `tokenId` ids. */
export interface ImageSplice {
  tokenId: number;
  embeds: Float32Array;
}

export class GenerationRow {
  readonly promptIds: readonly number[];
  /** Visual tokens spliced into the prompt's embeddings at prefill (LanguageModel.createRow checks them). */
  image: ImageSplice | null = null;
  readonly maxNewTokens: number;
  readonly tokens: number[] = [];
  readonly chunks = new ChunkQueue<StreamChunk>();
  readonly result: Promise<GenerationResult>;
  finishReason: FinishReason | null = null;

  // Batch bookkeeping (owned by BatchState): left-padding columns in the KV cache, and the position
  // the pending token (the last sampled one, not yet fed) will take.
  padLeft = 0;
  get pendingToken(): number {
    return this.tokens[this.tokens.length - 1];
  }
  get pendingPosition(): number {
    return this.promptIds.length + this.tokens.length - 1;
  }

  private readonly processors: LogitsProcessor[];
  private readonly rng: Rng | null;
  private readonly seed: number | null;
  private readonly seen: Set<number>;
  private readonly stopIds: Set<number>;
  private readonly decoder: IncrementalDecoder | null;
  private readonly stops: StopStringFilter;
  private readonly t0 = performance.now();
  private readonly outputSize: number;
  private tFirst = 0;
  private resolve!: (r: GenerationResult) => void;
  private rejectResult!: (e: unknown) => void;

  constructor(
    promptIds: readonly number[],
    readonly config: GenerationConfig,
    limits: RowLimits,
    decode: DecodeFn | null,
    readonly signal?: AbortSignal,
  ) {
    const L = promptIds.length;
    if (L === 0) throw new Error("generate: the prompt is empty (0 tokens); give at least one token");
    for (let i = 0; i < L; i++) {
      const id = promptIds[i];
      if (!Number.isInteger(id) || id < 0 || id >= limits.vocabSize) {
        throw new Error(`generate: prompt token ${id} at index ${i} is outside the vocabulary [0, ${limits.vocabSize})`);
      }
    }
    if (L >= limits.maxPositions) {
      throw new Error(
        `generate: the prompt has ${L} tokens but the model's context is ${limits.maxPositions} positions; ` +
          `shorten it to at most ${limits.maxPositions - 1} tokens to leave room for a reply`,
      );
    }
    this.promptIds = promptIds;
    // Each generated token but the last is fed back at position L, L+1, ...; all must fit.
    this.maxNewTokens = Math.min(config.maxNewTokens, limits.maxPositions - L);
    this.outputSize = Math.min(limits.outputSize ?? limits.vocabSize, limits.vocabSize);
    this.processors = processorsFor(config);
    this.seed = config.doSample ? (config.seed ?? randomSeed()) : null;
    this.rng = this.seed === null ? null : mulberry32(this.seed);
    this.seen = new Set(config.repetitionPenalty !== 1 ? promptIds : []);
    this.stopIds = new Set([...(config.eosTokenIds ?? limits.eosTokenIds), ...config.stopTokenIds]);
    this.decoder = decode ? new IncrementalDecoder(decode) : null;
    this.stops = new StopStringFilter(config.stopStrings);
    this.result = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.rejectResult = reject;
    });
    // A caller that only reads the stream must not get an unhandled rejection from the result.
    this.result.catch(() => undefined);
  }

  get finished(): boolean {
    return this.finishReason !== null;
  }

  /**
   * Picks the next token from this row's logits [V] (changed in place) and streams it. A failure
   * here (a processor, the sampler, the decoder) fails this row alone; the batch goes on.
   */
  accept(logits: Float32Array): void {
    if (this.finished) return;
    try {
      this.acceptToken(logits);
    } catch (e) {
      this.fail(e);
    }
  }

  private acceptToken(logits: Float32Array): void {
    if (this.outputSize < logits.length) logits.fill(-Infinity, this.outputSize);
    for (const p of this.processors) p(logits, this.seen);
    const token = this.rng ? sampleFromLogits(logits, this.rng) : argmax(logits);
    if (this.tokens.length === 0) this.tFirst = performance.now();
    this.tokens.push(token);
    if (this.processors.length > 0) this.seen.add(token);

    let text = "";
    let reason: FinishReason | null = null;
    if (this.stopIds.has(token)) {
      reason = "stop";
    } else {
      if (this.decoder) text = this.stops.push(this.decoder.push(token));
      if (this.stops.stopped) reason = "stop";
      else if (this.tokens.length >= this.maxNewTokens) reason = "length";
    }
    if (reason && !this.stops.stopped && this.decoder) text += this.stops.push(this.decoder.flush()) + this.stops.flush();
    this.chunks.push({ token, text });
    if (reason) this.finish(reason);
  }

  /** Ends the row early (caller's AbortSignal, or the batch shutting down). */
  abort(): void {
    // Text still held back (part of a character or of a possible stop string) is dropped: the
    // result's text is exactly what was streamed.
    if (!this.finished) this.finish("abort");
  }

  /** Ends the row with an error (the forward pass failed); the stream and result reject. */
  fail(e: unknown): void {
    if (this.finished) return;
    this.finishReason = "abort";
    this.chunks.fail(e);
    this.rejectResult(e);
  }

  private finish(reason: FinishReason): void {
    this.finishReason = reason;
    const tEnd = performance.now();
    const n = this.tokens.length;
    this.chunks.end();
    this.resolve({
      text: this.stops.shown,
      tokenIds: [...this.tokens],
      finishReason: reason,
      promptTokens: this.promptIds.length,
      seed: this.seed,
      timings: {
        ttftMs: n > 0 ? this.tFirst - this.t0 : tEnd - this.t0,
        totalMs: tEnd - this.t0,
        decodeTokensPerSecond: n > 1 && tEnd > this.tFirst ? ((n - 1) * 1000) / (tEnd - this.tFirst) : 0,
      },
    });
  }
}
