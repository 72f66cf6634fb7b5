// Generation config: one place for defaults, one merge order, one validator.
//
// Order (later wins): DEFAULT_GENERATION_CONFIG → the package's generation_config.json (snake_case,
// Hugging Face layout) → the per-call overrides (camelCase). The merged result is validated once;
// every error names the field, what is allowed and what it got.

export interface GenerationConfig {
  /** Tokens to generate at most (clamped to what fits in the model's context). */
  maxNewTokens: number;
  /** false → greedy (argmax); true → sample with temperature / topK / topP. */
  doSample: boolean;
  /** Logits are divided by this before sampling (> 0). Ignored when greedy. */
  temperature: number;
  /** Keep only the k most likely tokens; 0 = off. Ignored when greedy. */
  topK: number;
  /** Keep the smallest set of tokens whose probability sums to ≥ topP; 1 = off. Ignored when greedy. */
  topP: number;
  /** CTRL-style penalty on tokens already in the prompt or output; 1 = off, > 1 discourages repeats. */
  repetitionPenalty: number;
  /** Seed of the per-row PRNG (uint32). Same seed + same prompt + same config → same tokens. */
  seed: number | null;
  /** Generation ends when the text contains one of these; the stop string is not part of the result. */
  stopStrings: string[];
  /** Generation ends after one of these tokens (kept out of the text, like EOS). */
  stopTokenIds: number[];
  /** End-of-sequence ids; null = take them from the model (config.json / generation_config.json). */
  eosTokenIds: number[] | null;
}

export const DEFAULT_GENERATION_CONFIG: Readonly<GenerationConfig> = Object.freeze({
  maxNewTokens: 128,
  doSample: false,
  temperature: 1.0,
  topK: 50,
  topP: 1.0,
  repetitionPenalty: 1.0,
  seed: null,
  stopStrings: [],
  stopTokenIds: [],
  eosTokenIds: null,
});

/** The fields a caller may override per call. */
export type GenerationOptions = Partial<GenerationConfig>;

const KEYS = Object.keys(DEFAULT_GENERATION_CONFIG) as (keyof GenerationConfig)[];

/**
 * Reads a generation_config.json object (Hugging Face names) into our camelCase fields. Unknown keys
 * are ignored (the file carries many that do not concern us, e.g. "transformers_version");
 * known keys with a bad type are an error naming the key.
 */
export function fromHfGenerationConfig(json: unknown, source = "generation_config.json"): GenerationOptions {
  if (json === undefined || json === null) return {};
  if (typeof json !== "object" || Array.isArray(json)) {
    throw new Error(`${source}: expected a JSON object, got ${describe(json)}`);
  }
  const j = json as Record<string, unknown>;
  const out: GenerationOptions = {};
  const num = (k: string): number | undefined => {
    if (j[k] === undefined || j[k] === null) return undefined;
    if (typeof j[k] !== "number") throw new Error(`${source}: "${k}" must be a number, got ${describe(j[k])}`);
    return j[k] as number;
  };
  const maxNew = num("max_new_tokens");
  if (maxNew !== undefined) out.maxNewTokens = maxNew;
  if (j.do_sample !== undefined && j.do_sample !== null) {
    if (typeof j.do_sample !== "boolean") throw new Error(`${source}: "do_sample" must be a boolean, got ${describe(j.do_sample)}`);
    out.doSample = j.do_sample;
  }
  const t = num("temperature");
  if (t !== undefined) out.temperature = t;
  const k = num("top_k");
  if (k !== undefined) out.topK = k;
  const p = num("top_p");
  if (p !== undefined) out.topP = p;
  const rp = num("repetition_penalty");
  if (rp !== undefined) out.repetitionPenalty = rp;
  if (j.eos_token_id !== undefined && j.eos_token_id !== null) {
    const e = j.eos_token_id;
    const ids = Array.isArray(e) ? e : [e];
    if (!ids.every((x) => Number.isInteger(x))) {
      throw new Error(`${source}: "eos_token_id" must be an integer or a list of integers, got ${describe(e)}`);
    }
    out.eosTokenIds = ids as number[];
  }
  return out;
}

/** Merges layers left to right and validates the result. Unknown override keys are an error. */
export function resolveGenerationConfig(...layers: (GenerationOptions | undefined)[]): GenerationConfig {
  const merged: Record<string, unknown> = { ...DEFAULT_GENERATION_CONFIG };
  for (const layer of layers) {
    if (!layer) continue;
    for (const [key, value] of Object.entries(layer)) {
      if (!KEYS.includes(key as keyof GenerationConfig)) {
        throw new Error(`generation config: unknown option "${key}". Valid options: ${KEYS.join(", ")}`);
      }
      if (value !== undefined) merged[key] = value;
    }
  }
  validate(merged);
  return merged as unknown as GenerationConfig;
}

function validate(c: Record<string, unknown>): void {
  const bad = (field: string, want: string): never => {
    throw new Error(`generation config: ${field} must be ${want}, got ${describe(c[field])}`);
  };
  const isInt = (v: unknown) => typeof v === "number" && Number.isInteger(v);
  const isNum = (v: unknown) => typeof v === "number" && Number.isFinite(v);
  if (!isInt(c.maxNewTokens) || (c.maxNewTokens as number) < 1) bad("maxNewTokens", "an integer ≥ 1");
  if (typeof c.doSample !== "boolean") bad("doSample", "a boolean");
  if (!isNum(c.temperature) || (c.temperature as number) <= 0) bad("temperature", "a finite number > 0");
  if (!isInt(c.topK) || (c.topK as number) < 0) bad("topK", "an integer ≥ 0 (0 = off)");
  if (!isNum(c.topP) || (c.topP as number) <= 0 || (c.topP as number) > 1) bad("topP", "a number in (0, 1]");
  if (!isNum(c.repetitionPenalty) || (c.repetitionPenalty as number) <= 0) bad("repetitionPenalty", "a finite number > 0");
  if (c.seed !== null && (!isInt(c.seed) || (c.seed as number) < 0 || (c.seed as number) > 0xffffffff)) {
    bad("seed", "null or an integer in [0, 2^32)");
  }
  if (!Array.isArray(c.stopStrings) || !c.stopStrings.every((s) => typeof s === "string" && s.length > 0)) {
    bad("stopStrings", "an array of non-empty strings");
  }
  const idList = (v: unknown) => Array.isArray(v) && v.every((x) => isInt(x) && x >= 0);
  if (!idList(c.stopTokenIds)) bad("stopTokenIds", "an array of token ids (integers ≥ 0)");
  if (c.eosTokenIds !== null && !idList(c.eosTokenIds)) bad("eosTokenIds", "null or an array of token ids");
}

function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(describe).join(", ")}]`;
  if (v === null) return "null";
  if (typeof v === "object") return "an object";
  return String(v);
}
