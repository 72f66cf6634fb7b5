// The running batch: rows of different lengths sharing one KV cache and one forward pass per step.
//
// Layout: the cache holds P positions per row ([B, kvh, P, hd] per layer). Rows are right-aligned:
// row r's first `padLeft[r]` columns are padding (attention mask 0), the rest its real tokens. So a
// row's mask is always 0…0 1…1 and padLeft is all we keep of it. Every row has exactly one pending
// token between steps (sampled, not yet fed), so a step feeds one token per row: inputs [B, 1].
//
// Rows join at step boundaries: add() prefills the new rows as their own left-padded batch, samples
// their first token, then concatenates their cache to the running one (the shorter side gets
// zero padding on the left). Finished rows leave at the end of a step: with `compact` (default) the
// cache is rebuilt without them and without columns that are padding in every remaining row, so
// later steps do not pay for them; without it they stay as dead rows until the batch empties.
// This is the base the continuous-batching scheduler drives: it calls add() and step() in turn.

import type { DecoderSession, KvCache, LoraInputs } from "../session.ts";
import { concatRows, selectRows, type KvShape } from "./kv-ops.ts";
import type { GenerationRow, ImageSplice } from "./row.ts";

/** The part of DecoderSession the batch needs. */
export type DecoderLike = Pick<DecoderSession, "config" | "embed" | "forward">;

export interface BatchOptions {
  /** Drop finished rows (and padding no row needs) from the cache after each step. Default true. */
  compact?: boolean;
  /** Per-row LoRA inputs for a forward over `rows` (in batch order); the scheduler supplies them. */
  lora?: (rows: readonly GenerationRow[]) => LoraInputs | undefined;
}

export class BatchState {
  /** Rows in cache order; finished rows only stay here when compact is off. */
  rows: GenerationRow[] = [];
  past: KvCache | null = null;
  /** Counters for benchmarks and tests. */
  readonly stats = { steps: 0, prefills: 0, compactions: 0, forwardMs: 0 };
  private readonly shape: KvShape;
  private readonly compact: boolean;
  private readonly lora: BatchOptions["lora"];
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly session: DecoderLike,
    opts: BatchOptions = {},
  ) {
    const c = session.config;
    this.shape = { numLayers: c.numLayers, numKvHeads: c.numKvHeads, headDim: c.headDim };
    this.compact = opts.compact ?? true;
    this.lora = opts.lora;
  }

  /** Rows still generating. */
  get active(): number {
    return this.rows.reduce((n, r) => n + (r.finished ? 0 : 1), 0);
  }

  /** Prefills `rows` (one forward for all of them), samples their first token, joins them to the batch. */
  add(rows: GenerationRow[]): Promise<void> {
    return this.serial(() => this.addNow(rows));
  }

  /** One decode step for every active row. Resolves once tokens are sampled and streamed. */
  step(): Promise<void> {
    return this.serial(() => this.stepNow());
  }

  /** Steps until every row has finished. */
  async run(): Promise<void> {
    while (this.active > 0) await this.step();
  }

  // add() and step() both replace the cache; run them one at a time in call order.
  private serial(fn: () => Promise<void>): Promise<void> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async addNow(rows: GenerationRow[]): Promise<void> {
    const fresh = rows.filter((r) => !this.abortIfAsked(r));
    if (fresh.length === 0) return;
    const H = this.session.config.hiddenSize;
    const B = fresh.length;
    const T = Math.max(...fresh.map((r) => r.promptIds.length));
    const embeds = new Float32Array(B * T * H); // padding slots stay zero
    const positions = new BigInt64Array(B * T);
    const mask = new BigInt64Array(B * T);
    fresh.forEach((r, b) => {
      const L = r.promptIds.length;
      const pad = T - L;
      embeds.set(this.session.embed(r.promptIds as number[]), (b * T + pad) * H);
      if (r.image) spliceImage(embeds, (b * T + pad) * H, r.promptIds, r.image, H);
      for (let t = 0; t < L; t++) {
        positions[b * T + pad + t] = BigInt(t);
        mask[b * T + pad + t] = 1n;
      }
      r.padLeft = pad;
    });
    let out;
    try {
      out = await this.timed(() =>
        this.session.forward({ inputsEmbeds: embeds, batch: B, seqLen: T, positionIds: positions, attentionMask: mask, past: null, lora: this.lora?.(fresh), logits: "last" }),
      );
    } catch (e) {
      for (const r of fresh) r.fail(e);
      throw e;
    }
    this.stats.prefills++;
    const V = this.session.config.vocabSize;
    fresh.forEach((r, b) => {
      r.accept(out.logits.subarray(b * V, (b + 1) * V));
      this.abortIfAsked(r);
    });
    // Rows done after one token never join; the others' cache is trimmed to them.
    const keep = fresh.map((r, b) => (r.finished ? -1 : b)).filter((b) => b >= 0);
    if (keep.length === 0) return;
    const joining = keep.map((b) => fresh[b]);
    const trim = Math.min(...joining.map((r) => r.padLeft));
    for (const r of joining) r.padLeft -= trim;
    const cache = keep.length === B && trim === 0 ? out.present : selectRows(out.present, keep, trim, this.shape);
    this.join(joining, cache);
  }

  /** Appends rows with their own cache, right-aligning both caches to the longer one. */
  private join(rows: GenerationRow[], cache: KvCache): void {
    if (!this.past || this.rows.length === 0) {
      this.rows = rows;
      this.past = cache;
      return;
    }
    const P = Math.max(this.past.length, cache.length);
    for (const r of this.rows) r.padLeft += P - this.past.length;
    for (const r of rows) r.padLeft += P - cache.length;
    this.past = concatRows(this.past, cache, this.shape);
    this.rows = [...this.rows, ...rows];
  }

  private async stepNow(): Promise<void> {
    for (const r of this.rows) this.abortIfAsked(r);
    this.dropFinished();
    if (this.active === 0 || !this.past) return;
    const c = this.session.config;
    const B = this.rows.length;
    const P = this.past.length;
    const S = P + 1;
    // Dead rows (compact off) are fed their last token again; their logits are ignored.
    const ids = this.rows.map((r) => r.pendingToken);
    const embeds = this.session.embed(ids);
    const positions = BigInt64Array.from(this.rows, (r) => BigInt(r.pendingPosition));
    const mask = new BigInt64Array(B * S);
    this.rows.forEach((r, b) => mask.fill(1n, b * S + r.padLeft, (b + 1) * S));
    let out;
    try {
      out = await this.timed(() =>
        this.session.forward({ inputsEmbeds: embeds, batch: B, seqLen: 1, positionIds: positions, attentionMask: mask, past: this.past, lora: this.lora?.(this.rows), logits: "last" }),
      );
    } catch (e) {
      for (const r of this.rows) r.fail(e);
      this.rows = [];
      this.past = null;
      throw e;
    }
    this.past = out.present;
    this.stats.steps++;
    const V = c.vocabSize;
    this.rows.forEach((r, b) => {
      if (r.finished) return;
      r.accept(out.logits.subarray(b * V, (b + 1) * V));
      this.abortIfAsked(r);
    });
    this.dropFinished();
  }

  /** With compact: rebuilds the cache without finished rows and without all-padding columns. */
  private dropFinished(): void {
    if (!this.past) return;
    const alive = this.rows.map((r, b) => (r.finished ? -1 : b)).filter((b) => b >= 0);
    if (alive.length === 0) {
      this.rows = [];
      this.past = null;
      return;
    }
    if (!this.compact || alive.length === this.rows.length) return;
    const rows = alive.map((b) => this.rows[b]);
    const trim = Math.min(...rows.map((r) => r.padLeft));
    for (const r of rows) r.padLeft -= trim;
    this.past = selectRows(this.past, alive, trim, this.shape);
    this.rows = rows;
    this.stats.compactions++;
  }

  private abortIfAsked(r: GenerationRow): boolean {
    if (!r.finished && r.signal?.aborted) r.abort();
    return r.finished;
  }

  private async timed<T>(fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.stats.forwardMs += performance.now() - t0;
    }
  }
}

/** Writes a row's visual tokens over the embeddings of its image placeholders, in order. */
function spliceImage(embeds: Float32Array, base: number, ids: readonly number[], image: ImageSplice, H: number): void {
  let k = 0;
  for (let t = 0; t < ids.length; t++) {
    if (ids[t] !== image.tokenId) continue;
    embeds.set(image.embeds.subarray(k * H, (k + 1) * H), base + t * H);
    k++;
  }
}
