import path from "node:path";
import type { CharacterCard } from "../../core/character/schema.ts";
import { loadGate, RuleGate, type Gate } from "../../core/runtime/gate/gate.ts";
import { AdapterError } from "../../core/runtime/lora/errors.ts";
import { baseModelHash } from "../../core/runtime/lora/base-hash.ts";
import { AdapterBank } from "../../core/runtime/lora/bank.ts";
import { nodePackageFiles } from "../../core/runtime/model/files-node.ts";
import { loadModelPackage } from "../../core/runtime/model/package.ts";
import type { SchedulerOptions } from "../../core/runtime/scheduler/scheduler.ts";

/** Prompt tokens admitted per scheduler step for dialogue (see DialogueRuntimeOptions.scheduler). */
export const DIALOGUE_PREFILL_TOKENS_PER_STEP = 512;
import { TextTokenizer } from "../../core/runtime/tokenizer.ts";
import { nodeBankFiles } from "../adapters/files.ts";
import { watchAdapters } from "../adapters/watch.ts";
import { InferenceWorker } from "../adapters/worker.ts";
import { MemoryStore } from "../memory/store.ts";
import { DialogueRateLimiter } from "../safety/filter.ts";
import { ROOT_DIR } from "../scene-file.ts";
import { loadCharacterCards } from "./cards.ts";
import { HEARING_DEFAULTS } from "./hearing.ts";
import type { ConversationMemory, ConversationSafety, ReplyModel } from "./ports.ts";

// Everything conversations share across rooms in one server process: the character cards, the
// tokenizer (prompt fitting on the main thread), the model in its worker thread, the adapter bank
// and the gate, the memory store and the safety filter. Built once by createKithServer, closed
// with the server.

export interface DialogueOptions {
  /** Model package folder (default assets/model). */
  modelDir?: string;
  /** Adapter packs and character cards (default adapters/). */
  adaptersDir?: string;
  /** Graph cache for the worker (default .cache/graphs). */
  cacheDir?: string;
  /** onnxruntime intra-op threads in the worker (default: its own default). */
  threads?: number;
  /** Microseconds the worker's idle onnxruntime threads spin before they sleep (default
   *  nodeBackend's DEFAULT_SPIN_US; 0: they sleep at once). See core/runtime/README.md, "Spinning". */
  spinUs?: number;
  /**
   * Scheduler options. Default prefillTokensPerStep here is 512 (the scheduler's own is 2048):
   * about one village prompt joins per step, so a burst of lines is prefilled over a few steps
   * between decode steps instead of in one long pass that stalls every stream. Measured with
   * bench:dialogue (32 players, one core busy with training): ttft p95 360 ms with 2048, 226 ms with 512.
   */
  scheduler?: Omit<SchedulerOptions, "yieldToHost">;
  /** Use this model instead of starting a worker (tests: a model that fails). */
  model?: ReplyModel;
  /**
   * An open memory store (not closed with the runtime); otherwise the SQLite file `memoryFile`
   * (server/memory/, opened and closed here); otherwise recent turns live in the room only.
   */
  memory?: ConversationMemory;
  memoryFile?: string;
  /** Input and output filter with in-character deflections (server/safety/); absent: none. */
  safety?: ConversationSafety;
  /** Where load-time problems that do not stop the server go (a refused gate pack); default console.warn. */
  log?: (line: string) => void;
  /** Lines per player per minute NPCs take, and the burst (default 12/min, burst 4; null: no limit). */
  rate?: { perMinute: number; burst: number } | null;
  /** NPCs hear lines within this distance, m (default 8). */
  hearing?: number;
  /** Without `to`, an NPC this close in front of the speaker answers, m (default 5). */
  talkRange?: number;
  /** A reply that has not finished by then ends (fallback line when nothing was said), ms (default 8000). */
  deadlineMs?: number;
  /** Tokens per reply at most (default 48). */
  maxNewTokens?: number;
  /** Lines waiting per NPC at most; the oldest beyond it is dropped with a notice (default 4). */
  queuePerNpc?: number;
  /** Lines one player may have waiting at one NPC (default 2). */
  queuePerPlayer?: number;
  /** A talking NPC goes back to its patrol after this long without a line, s (default 10). */
  quietSeconds?: number;
  /** Recent turns (per NPC and player) in the prompt (default 6). */
  historyTurns?: number;
  /** Game clock for the gate: hour at server start (default: the scene's timeOfDay) and game hours per real minute (default 0: fixed). */
  clock?: { startHour?: number; hoursPerMinute?: number };
  /** Room shutdown waits this long for replies in flight, then aborts them, ms (default 3000). */
  drainMs?: number;
  /** A pack the gate chose but the bank could not load is looked for again after this long, ms (default 10000). */
  adapterRetryMs?: number;
  /** Sampling: temperature 0 = greedy (default 0.7, top-p 0.9). */
  temperature?: number;
  topP?: number;
  /**
   * The temperature (at most `temperature`) of a reply that voices a sight answer worked out before
   * the model speaks (core/vision/ask.ts: "sight answer: two barrels"): the fact stays, the wording
   * still varies. Default 0.2.
   */
  sightTemperature?: number;
  /**
   * A reply voicing a sight answer is checked against it (core/vision/agree.ts: no thing it does not
   * name, the same count, side, yes or no); one that disagrees is written this many times again at
   * once, sampled at the reply temperature (0.7 when that is 0), and the first that agrees is said;
   * when none does, the answer itself, said plainly (core/vision/agree.ts: sayPlainly). Such a reply is sent whole when checked, not word by word.
   * 0 turns the check off. Default 4.
   */
  sightRetries?: number;
  /**
   * A reply to a question a card fact answers ("where does your silk come from?", "who are you?")
   * is checked against that fact (core/prompt/lore-check.ts: one of its `expect` words, or the
   * card's name or role); one that does not say it is written this many times again at once, and
   * the first that does is said; when none does, the fact in the card's own words (one of its `say`
   * lines) in the closest reply's mood. Sent whole when checked. 0 turns the check off. Default 4.
   */
  loreRetries?: number;
  /**
   * How a line about sight is answered (core/vision/sight.ts): "eyes" with the NPC's rendered view
   * (visual tokens and the vision package's skill pack), "scene" with what is in its view written
   * out from the scene graph (core/vision/seen.ts, the `skill-sight` pack), "auto" (default) the
   * eyes only when the vision package reads its views (its recorded held-out grounding accuracy
   * beats its blind accuracy by READS_VIEW_MARGIN), else the scene. Without a fresh view: the scene.
   */
  sight?: "auto" | "eyes" | "scene";
}

export const DIALOGUE_DEFAULTS = {
  modelDir: path.join(ROOT_DIR, "assets", "model"),
  adaptersDir: path.join(ROOT_DIR, "adapters"),
  cacheDir: path.join(ROOT_DIR, ".cache", "graphs"),
  hearing: HEARING_DEFAULTS.hearing,
  talkRange: HEARING_DEFAULTS.talk,
  deadlineMs: 8000,
  maxNewTokens: 48,
  queuePerNpc: 4,
  queuePerPlayer: 2,
  quietSeconds: 10,
  historyTurns: 6,
  drainMs: 3000,
  adapterRetryMs: 10_000,
  temperature: 0.7,
  topP: 0.9,
  sightTemperature: 0.2,
  sightRetries: 4,
  loreRetries: 4,
  sight: "auto",
} as const;

export type ResolvedDialogueOptions = Required<Pick<DialogueOptions, keyof typeof DIALOGUE_DEFAULTS>> & DialogueOptions;

export class DialogueRuntime {
  private closed = false;
  /** Packs that failed to load → when they were last tried (ms). */
  private readonly missing = new Map<string, number>();
  private readonly watcher: { stop(): void };

  private constructor(
    readonly options: ResolvedDialogueOptions,
    readonly cards: Map<string, CharacterCard>,
    readonly tokenizer: TextTokenizer,
    /** Tokens of context the model takes (prompt + reply). */
    readonly contextTokens: number,
    /** The base model: its hidden size and hash (what a vision package must be built for). */
    readonly base: { hiddenSize: number; hash: string },
    readonly model: ReplyModel,
    readonly bank: AdapterBank,
    readonly gate: Gate,
    /** Mean-embedding input for a trained (MLP) gate: rows of embed_tokens; null for the rule gate. */
    readonly embed: ((ids: number[]) => Float32Array) | null,
    readonly memory: ConversationMemory | null,
    readonly safety: ConversationSafety | null,
    /** Lines a player may address to NPCs (token bucket per player key); null: unlimited. */
    readonly rate: DialogueRateLimiter | null,
    private readonly ownsModel: boolean,
    private readonly ownsMemory: boolean,
  ) {
    // Changed packs reload (a new revision for new replies); broken updates keep the old one.
    this.watcher = watchAdapters(bank);
  }

  /** Notes a pack the gate chose but the bank could not serve (missing, broken). */
  noteMissing(id: string): void {
    if (!this.missing.has(id)) this.missing.set(id, Date.now());
  }

  /** Looks again, in the background, for packs that were missing a while ago (they may have been trained since). */
  retryMissing(ids: Iterable<string>): void {
    const now = Date.now();
    for (const id of ids) {
      const at = this.missing.get(id);
      if (at === undefined || now - at < this.options.adapterRetryMs) continue;
      this.missing.set(id, now);
      this.bank.reload(id).then(() => this.missing.delete(id), () => undefined);
    }
  }

  static async create(opts: DialogueOptions = {}): Promise<DialogueRuntime> {
    const o: ResolvedDialogueOptions = { ...DIALOGUE_DEFAULTS, ...stripUndefined(opts) };
    checkOptions(o);
    const cards = loadCharacterCards(o.adaptersDir);
    const pkg = await loadModelPackage(o.modelDir, nodePackageFiles);
    const tokenizer = TextTokenizer.fromPackage({ tokenizerJson: pkg.tokenizerJson, tokenizerConfig: pkg.tokenizerConfig, vocabSize: pkg.config.vocabSize, source: pkg.dir });
    const baseHash = baseModelHash(pkg);
    const bank = new AdapterBank({ root: o.adaptersDir, files: nodeBankFiles, base: { config: pkg.config, hash: baseHash, name: o.modelDir } });
    let gate: Gate;
    try {
      gate = await loadGate(path.join(o.adaptersDir, "gate"), nodePackageFiles, pkg.config.hiddenSize);
    } catch (e) {
      // A broken gate pack costs the trained gate, not the conversations: the rule gate picks moods.
      if (!(e instanceof AdapterError)) throw e;
      (o.log ?? ((line: string) => console.warn(line)))(`[adapters] ${e.message}; moods come from the rule gate until the pack is fixed and the server restarts`);
      gate = new RuleGate();
    }
    let embed: ((ids: number[]) => Float32Array) | null = null;
    if (gate.kind === "mlp") {
      const H = pkg.config.hiddenSize;
      const table = pkg.weights.get("model.embed_tokens.weight", [pkg.config.vocabSize, H]).data.slice();
      embed = (ids) => {
        const out = new Float32Array(ids.length * H);
        ids.forEach((id, i) => out.set(table.subarray(id * H, (id + 1) * H), i * H));
        return out;
      };
    }
    const ownsMemory = o.memory === undefined && o.memoryFile !== undefined;
    const memory = o.memory ?? (o.memoryFile !== undefined ? MemoryStore.open(o.memoryFile) : null);
    let model = o.model;
    try {
      model ??= await InferenceWorker.start({ modelDir: o.modelDir, cacheDir: o.cacheDir, threads: o.threads, spinning: o.spinUs, scheduler: { prefillTokensPerStep: DIALOGUE_PREFILL_TOKENS_PER_STEP, ...o.scheduler } });
    } catch (e) {
      if (ownsMemory) memory?.close();
      throw e;
    }
    return new DialogueRuntime(o, cards, tokenizer, pkg.config.maxPositions, { hiddenSize: pkg.config.hiddenSize, hash: baseHash }, model, bank, gate, embed, memory, o.safety ?? null,
      o.rate === null ? null : new DialogueRateLimiter(o.rate ?? {}), o.model === undefined, ownsMemory);
  }

  private readonly lineTokens = new Map<string, number>();
  private newlineTokens = -1;

  /**
   * Token count of prompt text, as the model will see it: the sum over its lines, each line's
   * count cached (prompt fitting counts the whole prompt several times, and most lines, the
   * persona and facts and turns, repeat from prompt to prompt). Lines start at a marker token or
   * after "\n", which the tokenizer never merges across, so the sum is exact (checked in tests);
   * ~1 ms per prompt instead of ~20 ms re-encoding it whole.
   */
  countTokens = (text: string): number => {
    if (this.newlineTokens < 0) this.newlineTokens = this.tokenizer.encode("\n", { addSpecialTokens: false }).length;
    if (this.lineTokens.size > 20_000) this.lineTokens.clear();
    let n = 0;
    const lines = text.split("\n");
    for (const line of lines) {
      if (line === "") continue;
      let c = this.lineTokens.get(line);
      if (c === undefined) {
        c = this.tokenizer.encode(line, { addSpecialTokens: false }).length;
        this.lineTokens.set(line, c);
      }
      n += c;
    }
    return n + (lines.length - 1) * this.newlineTokens;
  };

  /** Closes the worker and the memory store (those this runtime opened). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watcher.stop();
    try {
      if (this.ownsModel) await this.model.close();
    } finally {
      if (this.ownsMemory) this.memory?.close();
    }
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function checkOptions(o: ResolvedDialogueOptions): void {
  const num = (name: keyof ResolvedDialogueOptions, min: number, max: number, int = false) => {
    const v = o[name] as unknown;
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max || (int && !Number.isInteger(v))) {
      throw new Error(`dialogue option ${name}=${JSON.stringify(v)} must be ${int ? "an integer" : "a number"} in [${min}, ${max}]`);
    }
  };
  num("hearing", 0.1, 1000);
  num("talkRange", 0.1, 1000);
  num("deadlineMs", 1, 600_000);
  num("maxNewTokens", 1, 4096, true);
  num("queuePerNpc", 1, 1000, true);
  num("queuePerPlayer", 1, 1000, true);
  num("quietSeconds", 0, 3600);
  num("historyTurns", 0, 100, true);
  num("drainMs", 0, 600_000);
  num("adapterRetryMs", 0, 86_400_000);
  num("temperature", 0, 10);
  num("sightTemperature", 0, 10);
  num("sightRetries", 0, 8, true);
  num("loreRetries", 0, 8, true);
  num("topP", 0.01, 1);
  if (!["auto", "eyes", "scene"].includes(o.sight)) throw new Error(`dialogue option sight=${JSON.stringify(o.sight)} must be "auto", "eyes" or "scene"`);
}
