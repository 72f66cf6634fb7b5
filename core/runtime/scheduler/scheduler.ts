import type { GenerationOptions } from "../generate/config.ts";
import type { FinishReason, GenerationResult, GenerationRow, StreamChunk } from "../generate/row.ts";
import type { BatchState } from "../generate/batch-state.ts";
import type { LanguageModel, Prompt } from "../index.ts";
import { BatchLoraInputs } from "../lora/batch-inputs.ts";
import type { FoldedLora } from "../lora/mixture.ts";
import type { DecoderSession } from "../session.ts";
import { SchedulerStats } from "./stats.ts";

// Continuous batching: one running BatchState; requests join it at step boundaries and leave when
// done, so every forward pass serves every active conversation, each with its own adapter mixture.
//
//   loop:  admit from the FIFO queue (up to maxBatch rows, at most prefillTokensPerStep prompt
//          tokens per round so a burst of long prompts cannot stall the rows already decoding)
//          → batch.add(newcomers)   (prefill as their own batch, merge caches)
//          → batch.step()           (one token for every active row; finished rows leave)
//          → await yieldToHost()    (the room tick, sockets and timers run here)
//
// Every active row advances one token per step, so decoding is round-robin by construction;
// admission is first come, first served. The queue is bounded: submit() throws BusyError when it
// is full or when the estimated wait exceeds maxWaitMs. Each request may carry an AbortSignal and
// a deadline; both end the row after the step in flight ("abort" / "deadline").
//
// The API is plain data in, plain data out (prompt ids or text, options, a folded adapter update;
// chunks and a result back), so the same Scheduler runs on the server's event loop with awaits
// between steps, or inside a worker thread behind a message port (server/adapters/worker.ts).

export interface SchedulerRequest {
  prompt: Prompt;
  options?: GenerationOptions;
  /** The row's folded adapter mixture (lora/mixture.ts); null or absent = base model only. */
  lora?: FoldedLora | null;
  signal?: AbortSignal;
  /** Milliseconds from submit; past it the row ends with finish "deadline" (queued: never starts). */
  deadlineMs?: number;
  /** Test and debugging tap: each row's raw logits [V] before sampling. */
  onLogits?: (logits: Float32Array) => void;
  /** Visual tokens [n, H] for the prompt's n <|image|> placeholders (CallOptions.image). */
  image?: Float32Array;
}

export type SchedulerFinish = FinishReason | "deadline";

export interface SchedulerResult {
  text: string;
  tokens: number[];
  finish: SchedulerFinish;
  /** Adapter id → mixture weight this reply was generated with (empty: base model). */
  weights: Record<string, number>;
  versions: Record<string, string>;
  promptTokens: number;
  timings: { queueMs: number; ttftMs: number; totalMs: number; decodeTokensPerSecond: number };
}

export interface Submission {
  id: number;
  chunks: AsyncIterable<StreamChunk>;
  result: Promise<SchedulerResult>;
}

export class BusyError extends Error {
  override readonly name = "BusyError";
  constructor(
    readonly reason: "queue-full" | "wait-too-long" | "closed",
    message: string,
  ) {
    super(message);
  }
}

export interface SchedulerOptions {
  /** Rows decoded together at most. Default 16. */
  maxBatch?: number;
  /** Requests waiting for a row at most. Default 64. */
  maxQueue?: number;
  /** Refuse a request whose estimated wait for a row exceeds this (ms). Default Infinity. */
  maxWaitMs?: number;
  /** Prompt tokens prefilled per round at most (one request is always admitted). Default 2048. */
  prefillTokensPerStep?: number;
  /** Awaited between steps so the host's event loop runs. Default: a macrotask (setTimeout 0). */
  yieldToHost?: () => Promise<void>;
}

interface Pending {
  id: number;
  row: GenerationRow;
  ctl: AbortController;
  lora: FoldedLora | null;
  tSubmit: number;
  tAdmit: number;
  deadlineAt: number;
  deadlineHit: boolean;
  settle: (r: SchedulerResult) => void;
  fail: (e: unknown) => void;
}

const macrotask = () => new Promise<void>((r) => setTimeout(r, 0));

export class Scheduler {
  readonly stats = new SchedulerStats();
  private readonly queue: Pending[] = [];
  private readonly active = new Map<GenerationRow, Pending>();
  private readonly batch: BatchState;
  private readonly loraInputs: BatchLoraInputs;
  private readonly opts: Required<SchedulerOptions>;
  private running = false;
  private closed = false;
  private nextId = 1;

  constructor(
    private readonly model: LanguageModel,
    opts: SchedulerOptions = {},
  ) {
    this.opts = {
      maxBatch: opts.maxBatch ?? 16,
      maxQueue: opts.maxQueue ?? 64,
      maxWaitMs: opts.maxWaitMs ?? Infinity,
      prefillTokensPerStep: opts.prefillTokensPerStep ?? 2048,
      yieldToHost: opts.yieldToHost ?? macrotask,
    };
    const session = model.session as Partial<DecoderSession>;
    this.loraInputs = new BatchLoraInputs(model.config, session.loraTargets ?? []);
    this.batch = model.newBatch({ lora: (rows) => this.loraInputs.inputs(rows.map((r) => this.active.get(r)?.lora ?? null)) });
  }

  /** Requests waiting + rows decoding. */
  get load(): { queued: number; active: number } {
    return { queued: this.queue.length, active: this.active.size };
  }

  /** Estimated ms until a request submitted now gets a row (0 while there is room). */
  estimatedWaitMs(): number {
    const free = this.opts.maxBatch - this.active.size - this.queue.length;
    if (free > 0) return 0;
    const rounds = Math.ceil((this.queue.length + 1) / this.opts.maxBatch);
    return rounds * this.stats.serviceMsEstimate();
  }

  /** Queues a request. Throws BusyError (nothing queued) when full; bad input throws before queuing. */
  submit(req: SchedulerRequest): Submission {
    if (this.closed) throw new BusyError("closed", "scheduler: closed, not accepting requests");
    if (this.queue.length >= this.opts.maxQueue) {
      this.stats.rejected++;
      throw new BusyError("queue-full", `busy: ${this.queue.length} requests already waiting (maxQueue ${this.opts.maxQueue})`);
    }
    const wait = this.estimatedWaitMs();
    if (wait > this.opts.maxWaitMs) {
      this.stats.rejected++;
      throw new BusyError("wait-too-long", `busy: estimated wait ${Math.round(wait)} ms exceeds maxWaitMs ${this.opts.maxWaitMs}`);
    }
    if (req.deadlineMs !== undefined && !(req.deadlineMs > 0)) throw new Error(`scheduler: deadlineMs must be a positive number of ms, got ${req.deadlineMs}`);
    const ctl = new AbortController();
    const row = this.model.createRow(req.prompt, { ...req.options, signal: ctl.signal, ...(req.image ? { image: req.image } : {}) });
    if (req.onLogits) {
      const accept = row.accept.bind(row);
      const tap = req.onLogits;
      row.accept = (logits: Float32Array) => {
        if (!row.finished) tap(logits.slice());
        accept(logits);
      };
    }
    let settle!: (r: SchedulerResult) => void, fail!: (e: unknown) => void;
    const result = new Promise<SchedulerResult>((res, rej) => ((settle = res), (fail = rej)));
    result.catch(() => undefined);
    const now = performance.now();
    const p: Pending = {
      id: this.nextId++, row, ctl, lora: req.lora ?? null, tSubmit: now, tAdmit: 0,
      deadlineAt: req.deadlineMs ? now + req.deadlineMs : Infinity, deadlineHit: false, settle, fail,
    };
    if (req.signal) {
      if (req.signal.aborted) ctl.abort();
      else req.signal.addEventListener("abort", () => ctl.abort(), { once: true });
    }
    row.result.then(
      (r) => this.finish(p, r),
      (e) => {
        this.active.delete(p.row);
        fail(e);
      },
    );
    this.queue.push(p);
    this.stats.submitted++;
    // Started on a microtask: requests submitted in the same turn (a burst) are prefilled together.
    queueMicrotask(() => void this.loop());
    return { id: p.id, chunks: row.chunks, result };
  }

  /** Stops admitting; rows in flight and queued requests finish. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.running) await macrotask();
  }

  private finish(p: Pending, r: GenerationResult): void {
    this.active.delete(p.row);
    const finish: SchedulerFinish = p.deadlineHit ? "deadline" : r.finishReason;
    const now = performance.now();
    if (p.tAdmit > 0) this.stats.recordService(now - p.tAdmit);
    p.settle({
      text: r.text,
      tokens: r.tokenIds,
      finish,
      weights: p.lora?.weights ?? {},
      versions: p.lora?.versions ?? {},
      promptTokens: r.promptTokens,
      timings: {
        queueMs: (p.tAdmit || now) - p.tSubmit,
        ttftMs: r.tokenIds.length ? r.timings.ttftMs : 0,
        totalMs: now - p.tSubmit,
        decodeTokensPerSecond: r.timings.decodeTokensPerSecond,
      },
    });
  }

  /** Aborts rows past their deadline (queued or active). */
  private expire(now: number): void {
    for (const p of [...this.queue, ...this.active.values()]) {
      if (now >= p.deadlineAt && !p.row.finished) {
        p.deadlineHit = true;
        p.ctl.abort();
      }
    }
  }

  /** Takes requests from the head of the queue for this round. */
  private admit(now: number): Pending[] {
    const out: Pending[] = [];
    // Cancelled or expired while waiting: they leave the queue now, wherever they stand.
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const p = this.queue[i];
      if (p.ctl.signal.aborted) {
        this.queue.splice(i, 1);
        p.row.abort(); // resolves the result with finish "abort" / "deadline", no tokens
      }
    }
    let tokens = 0;
    while (this.queue.length > 0 && this.active.size + out.length < this.opts.maxBatch) {
      const p = this.queue[0];
      const n = p.row.promptIds.length;
      if (out.length > 0 && tokens + n > this.opts.prefillTokensPerStep) break;
      this.queue.shift();
      p.tAdmit = now;
      this.stats.recordQueueWait(now - p.tSubmit);
      tokens += n;
      out.push(p);
    }
    return out;
  }

  private async loop(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0 || this.batch.active > 0) {
        const t0 = performance.now();
        this.expire(t0);
        const joining = this.admit(t0);
        if (joining.length > 0) {
          for (const p of joining) this.active.set(p.row, p);
          try {
            await this.batch.add(joining.map((p) => p.row));
          } catch {
            // The rows were failed by the batch (their results reject); the others carry on.
          }
          this.stats.prefills++;
          this.stats.prefillTokens += joining.reduce((s, p) => s + p.row.promptIds.length, 0);
          this.stats.tokens += joining.length;
        }
        if (this.batch.active > 0) {
          const rows = this.batch.active;
          try {
            await this.batch.step();
          } catch {
            // A failed step fails every row in the batch (BatchState resets); queued work continues.
          }
          this.stats.recordStep(rows);
        }
        this.stats.busyMs += performance.now() - t0;
        await this.opts.yieldToHost();
      }
    } finally {
      this.running = false;
    }
  }
}
