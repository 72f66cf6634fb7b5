import { ModelError } from "./errors.ts";

// The decoder shape we build graphs for, read from a Hugging Face config.json. All three supported
// architectures are the same pre-norm Llama block; they differ only in defaults and q/k/v bias.
export type Architecture = "llama" | "qwen2" | "mistral";

export interface ModelConfig {
  architecture: Architecture;
  hiddenSize: number; // H
  intermediateSize: number; // MLP width I
  numLayers: number;
  numHeads: number; // query heads
  numKvHeads: number; // key/value heads (GQA when < numHeads)
  headDim: number; // hd; usually H / numHeads
  rmsNormEps: number;
  ropeTheta: number;
  maxPositions: number;
  vocabSize: number; // V
  tieWordEmbeddings: boolean; // lm_head shares embed_tokens
  attentionBias: boolean; // q/k/v (and for llama, o) projections carry a bias
  bosTokenId?: number;
  eosTokenIds: number[];
}

const ARCHITECTURES: Record<string, Architecture> = {
  LlamaForCausalLM: "llama",
  Qwen2ForCausalLM: "qwen2",
  MistralForCausalLM: "mistral",
};
const MODEL_TYPES: Record<string, Architecture> = { llama: "llama", qwen2: "qwen2", mistral: "mistral" };

/** Parse config.json content; `source` names the file in error messages. */
export function parseModelConfig(json: unknown, source: string): ModelConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ModelError(`${source}: expected a JSON object`);
  }
  const c = json as Record<string, unknown>;
  const architecture = readArchitecture(c, source);

  const int = (field: string, fallback?: number): number => {
    const v = c[field] ?? fallback;
    if (v === undefined) throw new ModelError(`${source}: missing required field "${field}"`);
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
      throw new ModelError(`${source}: field "${field}" must be a positive integer, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const num = (field: string, fallback: number): number => {
    const v = c[field] ?? fallback;
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
      throw new ModelError(`${source}: field "${field}" must be a positive number, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const bool = (field: string, fallback: boolean): boolean => {
    const v = c[field] ?? fallback;
    if (typeof v !== "boolean") throw new ModelError(`${source}: field "${field}" must be true or false, got ${JSON.stringify(v)}`);
    return v;
  };

  const hiddenSize = int("hidden_size");
  const numHeads = int("num_attention_heads");
  const numKvHeads = int("num_key_value_heads", numHeads);
  if (numHeads % numKvHeads !== 0) {
    throw new ModelError(`${source}: num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKvHeads})`);
  }
  if (c.head_dim === undefined && hiddenSize % numHeads !== 0) {
    throw new ModelError(`${source}: hidden_size (${hiddenSize}) is not divisible by num_attention_heads (${numHeads}) and head_dim is not given`);
  }
  const headDim = int("head_dim", hiddenSize / numHeads);
  if (headDim % 2 !== 0) throw new ModelError(`${source}: head_dim must be even for rotary embeddings, got ${headDim}`);

  const ropeScaling = c.rope_scaling;
  if (ropeScaling !== undefined && ropeScaling !== null) {
    const kind = (ropeScaling as Record<string, unknown>).rope_type ?? (ropeScaling as Record<string, unknown>).type;
    if (kind !== "default") {
      throw new ModelError(
        `${source}: rope_scaling ${JSON.stringify(kind)} is not supported. Should be one of: null, {"rope_type": "default"}`,
      );
    }
  }
  if (architecture === "mistral" || architecture === "qwen2") {
    const sliding = c.use_sliding_window ?? (architecture === "mistral" ? c.sliding_window != null : false);
    if (sliding === true) {
      throw new ModelError(`${source}: sliding-window attention is not supported; set "use_sliding_window": false or "sliding_window": null`);
    }
  }
  const act = c.hidden_act ?? "silu";
  if (act !== "silu") throw new ModelError(`${source}: hidden_act ${JSON.stringify(act)} is not supported. Should be one of: "silu"`);

  const eos = c.eos_token_id;
  let eosTokenIds: number[] = [];
  if (Array.isArray(eos)) eosTokenIds = eos.map((e, i) => tokenId(e, `eos_token_id[${i}]`, source));
  else if (eos !== undefined && eos !== null) eosTokenIds = [tokenId(eos, "eos_token_id", source)];
  const bos = c.bos_token_id;

  return {
    architecture,
    hiddenSize,
    intermediateSize: int("intermediate_size"),
    numLayers: int("num_hidden_layers"),
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: num("rms_norm_eps", 1e-6),
    ropeTheta: num("rope_theta", 10000),
    maxPositions: int("max_position_embeddings", 2048),
    vocabSize: int("vocab_size"),
    tieWordEmbeddings: bool("tie_word_embeddings", false),
    // Qwen2 always has q/k/v bias (and no o bias); Llama/Mistral follow attention_bias (q/k/v/o).
    attentionBias: architecture === "qwen2" ? true : bool("attention_bias", false),
    bosTokenId: bos === undefined || bos === null ? undefined : tokenId(bos, "bos_token_id", source),
    eosTokenIds,
  };
}

function readArchitecture(c: Record<string, unknown>, source: string): Architecture {
  const list = c.architectures;
  if (Array.isArray(list) && list.length > 0) {
    const name = list[0];
    const arch = typeof name === "string" ? ARCHITECTURES[name] : undefined;
    if (!arch) {
      throw new ModelError(
        `${source}: unsupported architecture ${JSON.stringify(name)}. Should be one of: ${Object.keys(ARCHITECTURES).join(", ")}`,
      );
    }
    return arch;
  }
  const mt = c.model_type;
  const arch = typeof mt === "string" ? MODEL_TYPES[mt] : undefined;
  if (!arch) {
    throw new ModelError(
      `${source}: unsupported or missing model_type ${JSON.stringify(mt)} (and no "architectures"). Should be one of: ${Object.keys(MODEL_TYPES).join(", ")}`,
    );
  }
  return arch;
}

function tokenId(v: unknown, field: string, source: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
    throw new ModelError(`${source}: field "${field}" must be a token id (integer ≥ 0), got ${JSON.stringify(v)}`);
  }
  return v;
}
