// Text ↔ token ids for a model package: tokenizer.json (+ tokenizer_config.json) through
// @huggingface/tokenizers, plus the special tokens and the chat template the package declares.

import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import { ChatTemplate, type ChatMessage } from "./chat-template.ts";

export interface TokenizerSource {
  /** Parsed tokenizer.json. */
  tokenizerJson: unknown;
  /** Parsed tokenizer_config.json, if the package has one. */
  tokenizerConfig?: unknown;
  /** The model's vocab_size: every id the tokenizer can produce must be below it. */
  vocabSize?: number;
  /** Names the package in error messages (usually its folder). */
  source?: string;
}

export interface EncodeOptions {
  /** Add the tokens the post-processor adds (e.g. BOS). Default true, like Hugging Face. */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Drop special tokens (BOS, EOS, chat markers) from the text. Default false. */
  skipSpecialTokens?: boolean;
}

export class TextTokenizer {
  readonly bosToken: string | null;
  readonly eosToken: string | null;
  readonly padToken: string | null;
  /** Ids of all special (added, special=true) tokens. */
  readonly specialIds: ReadonlySet<number>;
  /** Largest id the tokenizer knows + 1. */
  readonly size: number;
  private readonly chatTemplates: Map<string, ChatTemplate>;
  private readonly cleanUpSpaces: boolean;

  private constructor(
    private readonly hf: HfTokenizer,
    config: Record<string, unknown>,
    json: Record<string, unknown>,
    readonly source: string,
  ) {
    this.bosToken = tokenText(config.bos_token);
    this.eosToken = tokenText(config.eos_token);
    this.padToken = tokenText(config.pad_token);
    // clean_up_tokenization_spaces rewrites " ." → "." etc.; off unless the package asks for it,
    // since it makes decode(a + b) differ from decode(a) + decode(b) and confuses streaming.
    this.cleanUpSpaces = config.clean_up_tokenization_spaces === true;
    const added = Array.isArray(json.added_tokens) ? (json.added_tokens as Record<string, unknown>[]) : [];
    this.specialIds = new Set(added.filter((t) => t.special === true && typeof t.id === "number").map((t) => t.id as number));
    let maxId = -1;
    for (const id of hf.get_vocab(true).values()) if (id > maxId) maxId = id;
    this.size = maxId + 1;
    this.chatTemplates = parseChatTemplates(config.chat_template, source);
  }

  static fromPackage(src: TokenizerSource): TextTokenizer {
    const source = src.source ?? "tokenizer";
    const json = src.tokenizerJson;
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      throw new Error(`${source}/tokenizer.json: expected a JSON object`);
    }
    const cfg = src.tokenizerConfig ?? {};
    if (typeof cfg !== "object" || cfg === null || Array.isArray(cfg)) {
      throw new Error(`${source}/tokenizer_config.json: expected a JSON object`);
    }
    let hf: HfTokenizer;
    try {
      hf = new HfTokenizer(json, cfg);
    } catch (e) {
      throw new Error(`${source}/tokenizer.json: cannot build the tokenizer: ${(e as Error).message}`);
    }
    const tok = new TextTokenizer(hf, cfg as Record<string, unknown>, json as Record<string, unknown>, source);
    if (src.vocabSize !== undefined && tok.size > src.vocabSize) {
      throw new Error(
        `${source}/tokenizer.json: the tokenizer has ids up to ${tok.size - 1} but the model's vocab_size is ${src.vocabSize}; ` +
          `tokenizer and model do not belong together`,
      );
    }
    return tok;
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    if (typeof text !== "string") throw new Error(`tokenizer: encode() expects a string, got ${typeof text}`);
    return this.hf.encode(text, { add_special_tokens: opts.addSpecialTokens ?? true }).ids;
  }

  decode(ids: ArrayLike<number>, opts: DecodeOptions = {}): string {
    if (ids.length === 0) return "";
    const list = Array.from(ids);
    for (const id of list) {
      if (!Number.isInteger(id) || id < 0 || id >= this.size) {
        throw new Error(`tokenizer: cannot decode id ${id}; valid ids are 0..${this.size - 1}`);
      }
    }
    return this.hf.decode(list, {
      skip_special_tokens: opts.skipSpecialTokens ?? false,
      clean_up_tokenization_spaces: this.cleanUpSpaces,
    });
  }

  /** Id of a token string (e.g. "<|im_end|>"), or undefined. */
  tokenId(token: string): number | undefined {
    return this.hf.token_to_id(token);
  }

  /** Names of the chat templates this package has ("default" for a single one). */
  get chatTemplateNames(): string[] {
    return [...this.chatTemplates.keys()];
  }

  /**
   * Renders messages with the package's chat template (tokenizer_config.json "chat_template").
   * addGenerationPrompt appends the assistant header so the model answers next.
   */
  applyChatTemplate(
    messages: ChatMessage[],
    opts: { addGenerationPrompt?: boolean; template?: string; extra?: Record<string, unknown> } = {},
  ): string {
    const name = opts.template ?? "default";
    const tpl = this.chatTemplates.get(name);
    if (!tpl) {
      if (this.chatTemplates.size === 0) {
        throw new Error(`${this.source}/tokenizer_config.json: the package has no "chat_template"`);
      }
      throw new Error(`chat template "${name}" not found. Should be one of: ${this.chatTemplateNames.join(", ")}`);
    }
    return tpl.render(messages, {
      addGenerationPrompt: opts.addGenerationPrompt ?? true,
      bosToken: this.bosToken ?? "",
      eosToken: this.eosToken ?? "",
      extra: opts.extra,
    });
  }
}

/** Special tokens appear in tokenizer_config.json as a string or as {"content": "..."}. */
function tokenText(v: unknown): string | null {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && typeof (v as Record<string, unknown>).content === "string") {
    return (v as Record<string, string>).content;
  }
  return null;
}

/** "chat_template" is a string, or a list of {name, template} (named templates, e.g. "tool_use"). */
function parseChatTemplates(v: unknown, source: string): Map<string, ChatTemplate> {
  const out = new Map<string, ChatTemplate>();
  const where = `${source}/tokenizer_config.json: chat_template`;
  if (v === undefined || v === null) return out;
  if (typeof v === "string") {
    out.set("default", new ChatTemplate(v, where));
    return out;
  }
  if (Array.isArray(v)) {
    for (const [i, entry] of v.entries()) {
      const e = entry as Record<string, unknown>;
      if (!e || typeof e.name !== "string" || typeof e.template !== "string") {
        throw new Error(`${where}[${i}]: expected {"name": string, "template": string}`);
      }
      out.set(e.name, new ChatTemplate(e.template, `${where} "${e.name}"`));
    }
    return out;
  }
  throw new Error(`${where}: expected a string or a list of {"name", "template"}`);
}
