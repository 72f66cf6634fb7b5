// Public API of the language-model runtime:
//
//   const model = await loadModel("assets/model", { backend: nodeBackend(), files: nodePackageFiles });
//   for await (const chunk of model.stream("Once upon", { maxNewTokens: 32 })) process.stdout.write(chunk.text);
//   const reply = await model.generate({ messages: [{ role: "user", content: "Hi" }] });
//
// Layers (each knows only the one below): backend → DecoderSession (graph + ORT session) →
// BatchState (KV cache, one forward per step) → GenerationRow (sampling, stopping, text) → here.

import type { Backend } from "./backend.ts";
import type { ChatMessage } from "./chat-template.ts";
import { fromHfGenerationConfig, resolveGenerationConfig, type GenerationConfig, type GenerationOptions } from "./generate/config.ts";
import { BatchState, type BatchOptions, type DecoderLike } from "./generate/batch-state.ts";
import { GenerationRow, type GenerationResult, type ImageSplice, type StreamChunk } from "./generate/row.ts";
import { MARKERS } from "../prompt/markers.ts";
import type { ModelConfig } from "./model/config.ts";
import { loadModelPackage, type ModelPackage, type PackageFiles } from "./model/package.ts";
import { DecoderSession, type DecoderSessionOptions } from "./session.ts";
import { TextTokenizer } from "./tokenizer.ts";

export type { ChatMessage } from "./chat-template.ts";
export type { GenerationConfig, GenerationOptions } from "./generate/config.ts";
export type { FinishReason, GenerationResult, StreamChunk } from "./generate/row.ts";
export { BatchState, GenerationRow, TextTokenizer, DecoderSession };

/** A prompt: plain text, token ids, or chat messages rendered with the package's chat template. */
export type Prompt = string | number[] | { messages: ChatMessage[]; template?: string };

export interface CallOptions extends GenerationOptions {
  /** Aborting ends the reply after the current step with finishReason "abort". */
  signal?: AbortSignal;
  /** Visual tokens [n, H] (core/vision projector output) spliced into inputs_embeds at the prompt's
   *  n `<|image|>` placeholder tokens, in order. */
  image?: Float32Array;
}

/** An async iterable of chunks that also carries the final result. */
export interface GenerationStream extends AsyncIterable<StreamChunk> {
  result: Promise<GenerationResult>;
}

export interface LoadModelOptions extends DecoderSessionOptions {
  backend: Backend;
  /** How package files are read: nodePackageFiles (Node) or fetchPackageFiles() (browser). */
  files: PackageFiles;
}

export async function loadModel(dir: string, opts: LoadModelOptions): Promise<LanguageModel> {
  const pkg = await loadModelPackage(dir, opts.files);
  const { backend, files: _files, ...sessionOpts } = opts;
  const session = await DecoderSession.create(pkg, backend, sessionOpts);
  return LanguageModel.fromSession(session, pkg);
}

export class LanguageModel {
  readonly config: ModelConfig;
  /** Defaults from the package's generation_config.json, overridden per call. */
  readonly defaults: GenerationOptions;

  private constructor(
    readonly session: DecoderLike & { release?: () => Promise<void> },
    readonly tokenizer: TextTokenizer,
    defaults: GenerationOptions,
  ) {
    this.config = session.config;
    this.defaults = defaults;
  }

  static fromSession(session: DecoderLike & { release?: () => Promise<void> }, pkg: Pick<ModelPackage, "dir" | "tokenizerJson" | "tokenizerConfig" | "generationConfig">): LanguageModel {
    const tokenizer = TextTokenizer.fromPackage({
      tokenizerJson: pkg.tokenizerJson,
      tokenizerConfig: pkg.tokenizerConfig,
      vocabSize: session.config.vocabSize,
      source: pkg.dir,
    });
    const defaults = fromHfGenerationConfig(pkg.generationConfig, `${pkg.dir}/generation_config.json`);
    return new LanguageModel(session, tokenizer, defaults);
  }

  /** Prompt → token ids (chat messages go through the chat template with the generation prompt). */
  encodePrompt(prompt: Prompt): number[] {
    if (typeof prompt === "string") return this.tokenizer.encode(prompt);
    if (Array.isArray(prompt)) return prompt;
    if (prompt && Array.isArray(prompt.messages)) {
      const text = this.tokenizer.applyChatTemplate(prompt.messages, { template: prompt.template });
      // The template already wrote BOS and friends; do not let the post-processor add them again.
      return this.tokenizer.encode(text, { addSpecialTokens: false });
    }
    throw new Error("generate: prompt must be a string, an array of token ids, or { messages: [...] }");
  }

  /** The merged, validated config for one call. */
  resolveConfig(opts: GenerationOptions = {}): GenerationConfig {
    return resolveGenerationConfig(this.defaults, opts);
  }

  /** A row for `prompt`, ready to join a BatchState (the scheduler's entry point). */
  createRow(prompt: Prompt, opts: CallOptions = {}): GenerationRow {
    const { signal, image, ...genOpts } = opts;
    const cfg = this.resolveConfig(genOpts);
    const ids = this.encodePrompt(prompt);
    const row = new GenerationRow(
      ids,
      cfg,
      { vocabSize: this.config.vocabSize, maxPositions: this.config.maxPositions, eosTokenIds: this.config.eosTokenIds, outputSize: this.tokenizer.size },
      (t) => this.tokenizer.decode(t, { skipSpecialTokens: true }),
      signal,
    );
    if (image) row.image = this.imageSplice(ids, image);
    return row;
  }

  /** Checks that `image` fills the prompt's `<|image|>` placeholders exactly. */
  private imageSplice(ids: readonly number[], image: Float32Array): ImageSplice {
    const H = this.config.hiddenSize;
    const tokenId = this.tokenizer.tokenId(MARKERS.image);
    if (tokenId === undefined) throw new Error(`generate: an image was given but this model's tokenizer has no ${MARKERS.image} token`);
    const slots = ids.reduce((n, id) => n + (id === tokenId ? 1 : 0), 0);
    if (image.length % H !== 0) throw new Error(`generate: image has ${image.length} values, not a whole number of ${H}-wide visual tokens`);
    if (slots !== image.length / H) throw new Error(`generate: the prompt has ${slots} ${MARKERS.image} placeholders but the image holds ${image.length / H} visual tokens`);
    for (let i = 0; i < image.length; i++) if (!Number.isFinite(image[i])) throw new Error(`generate: image value ${i} is not finite`);
    return { tokenId, embeds: image };
  }

  newBatch(opts?: BatchOptions): BatchState {
    return new BatchState(this.session, opts);
  }

  async generate(prompt: Prompt, opts: CallOptions = {}): Promise<GenerationResult> {
    const [result] = await this.generateBatch([prompt], opts);
    return result;
  }

  /** Streams one reply; breaking out of the loop aborts it. */
  stream(prompt: Prompt, opts: CallOptions = {}): GenerationStream {
    const row = this.createRow(prompt, opts); // bad input throws here, before any work
    const batch = this.newBatch();
    const driving = (async () => {
      await batch.add([row]);
      await batch.run();
    })();
    driving.catch((e) => row.fail(e));
    return {
      result: row.result,
      [Symbol.asyncIterator]: () => {
        const it = row.chunks[Symbol.asyncIterator]();
        return {
          next: () => it.next(),
          return: async () => {
            row.abort();
            return { value: undefined, done: true };
          },
        };
      },
    };
  }

  /**
   * Several prompts in one batch (one forward per step for all rows); each row stops on its own.
   * `opts` is shared, or one per prompt.
   */
  async generateBatch(prompts: Prompt[], opts: CallOptions | CallOptions[] = {}, batchOpts?: BatchOptions): Promise<GenerationResult[]> {
    if (Array.isArray(opts) && opts.length !== prompts.length) {
      throw new Error(`generateBatch: got ${prompts.length} prompts but ${opts.length} option objects`);
    }
    const rows = prompts.map((p, i) => this.createRow(p, Array.isArray(opts) ? opts[i] : opts));
    const batch = this.newBatch(batchOpts);
    await batch.add(rows);
    await batch.run();
    return Promise.all(rows.map((r) => r.result));
  }

  async release(): Promise<void> {
    await this.session.release?.();
  }
}
