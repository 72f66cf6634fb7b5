import type { LoraTarget } from "../session.ts";
import { AdapterError } from "./errors.ts";

// PEFT's adapter_config.json for LoRA, as PEFT writes it (LoraConfig.to_dict()), read into the
// parts that change the math. Which modules an adapter touches and with what rank/alpha follows
// PEFT's own rules (check_target_module_exists, get_pattern_key):
//   target_modules  list: a module matches when its name equals an entry or ends with "." + entry;
//                   string: a regex that must match the whole module name; "all-linear": every
//                   linear but the output layer; null: PEFT's default for the architecture (q, v).
//   layers_to_transform (int | list) with layers_pattern: only list targets, layer index read
//                   from the name (".layers.3." → 3).
//   rank_pattern / alpha_pattern: {regex: value}; the first key matching the end of the name wins.
//   use_rslora: scaling alpha / √r instead of alpha / r.
// Refused, each with a message saying so: DoRA, modules_to_save, bias other than "none", lora_bias,
// embedding / lm_head targets, non-LoRA peft types, layer_replication, target_parameters.
// fan_in_fan_out is accepted: it only says how a Conv1D base weight is laid out; the factors of a
// LoRA on nn.Linear have the same shapes either way (PEFT itself resets it to false for Linear).

export interface PeftConfig {
  r: number;
  loraAlpha: number;
  useRslora: boolean;
  targetModules: string[] | string | "all-linear" | null;
  excludeModules: string[] | string | null;
  layersToTransform: number | number[] | null;
  layersPattern: string | string[] | null;
  rankPattern: Record<string, number>;
  alphaPattern: Record<string, number>;
  fanInFanOut: boolean;
  baseModelNameOrPath: string | null;
}

/** Module names of our targets, as HF Llama-family models name them. */
export const TARGET_MODULE: Record<LoraTarget, string> = {
  q: "self_attn.q_proj", k: "self_attn.k_proj", v: "self_attn.v_proj", o: "self_attn.o_proj",
  gate: "mlp.gate_proj", up: "mlp.up_proj", down: "mlp.down_proj",
};
const LINEAR_SUFFIXES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];
/** PEFT's default target_modules for llama / qwen2 / mistral. */
const DEFAULT_TARGETS = ["q_proj", "v_proj"];
const REFUSED_MODULES = ["embed_tokens", "lm_head"];

export function moduleName(layer: number, t: LoraTarget): string {
  return `model.layers.${layer}.${TARGET_MODULE[t]}`;
}

export function parsePeftConfig(json: unknown, source: string): PeftConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new AdapterError(`${source}: expected a JSON object`);
  const c = json as Record<string, unknown>;
  const bad = (field: string, why: string): never => {
    throw new AdapterError(`${source}: "${field}" ${why}`);
  };
  const peftType = c.peft_type ?? "LORA";
  if (peftType !== "LORA") bad("peft_type", `is ${JSON.stringify(peftType)}; only "LORA" adapters are supported`);
  if (c.use_dora === true) bad("use_dora", "is true: DoRA adapters are not supported (their magnitude vectors change the base weight per row); retrain without use_dora");
  if (Array.isArray(c.modules_to_save) && c.modules_to_save.length > 0) {
    bad("modules_to_save", `lists ${JSON.stringify(c.modules_to_save)}: fully trained modules are not supported, only low-rank updates`);
  }
  if (c.bias !== undefined && c.bias !== "none") bad("bias", `is ${JSON.stringify(c.bias)}; only "none" is supported (trained biases would change the shared base model)`);
  if (c.lora_bias === true) bad("lora_bias", "is true: a bias on lora_B is not supported");
  if (c.layer_replication != null) bad("layer_replication", "is set: layer replication is not supported");
  if (Array.isArray(c.target_parameters) && c.target_parameters.length > 0) bad("target_parameters", "is set: parameter targeting is not supported");
  if (c.trainable_token_indices != null) bad("trainable_token_indices", "is set: trained token embeddings are not supported");

  const posInt = (field: string, v: unknown): number => {
    if (!Number.isInteger(v) || (v as number) < 1) bad(field, `must be a positive integer, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const num = (field: string, v: unknown): number => {
    if (typeof v !== "number" || !Number.isFinite(v)) bad(field, `must be a number, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const r = posInt("r", c.r ?? 8);
  const loraAlpha = num("lora_alpha", c.lora_alpha ?? 8);
  const useRslora = c.use_rslora === true;

  const strList = (field: string, v: unknown): string[] | string | null => {
    if (v === null || v === undefined) return null;
    if (typeof v === "string") return v;
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
    return bad(field, `must be a list of module names, a regex string or null, got ${JSON.stringify(v)}`);
  };
  const targetModules = strList("target_modules", c.target_modules);
  if (Array.isArray(targetModules)) {
    for (const m of targetModules) {
      if (REFUSED_MODULES.some((x) => m === x || m.endsWith(`.${x}`))) {
        bad("target_modules", `includes "${m}": embedding and lm_head adapters are not supported, only the seven linear projections (${LINEAR_SUFFIXES.join(", ")})`);
      }
    }
  }
  const excludeModules = strList("exclude_modules", c.exclude_modules);
  for (const [field, v] of [["target_modules", targetModules], ["exclude_modules", excludeModules]] as const) {
    if (typeof v === "string" && v !== "all-linear") compile(field, v, source);
  }

  let layersToTransform: number | number[] | null = null;
  const lt = c.layers_to_transform;
  if (lt !== null && lt !== undefined) {
    if (Number.isInteger(lt) && (lt as number) >= 0) layersToTransform = lt as number;
    else if (Array.isArray(lt) && lt.every((x) => Number.isInteger(x) && x >= 0)) layersToTransform = lt as number[];
    else bad("layers_to_transform", `must be a layer index, a list of them, or null, got ${JSON.stringify(lt)}`);
  }
  const lp = c.layers_pattern;
  let layersPattern: string | string[] | null = null;
  if (typeof lp === "string" && lp.length > 0) layersPattern = lp;
  else if (Array.isArray(lp) && lp.every((x) => typeof x === "string")) layersPattern = lp.length ? (lp as string[]) : null;
  else if (lp !== null && lp !== undefined && lp !== "") bad("layers_pattern", `must be a string, a list of strings or null, got ${JSON.stringify(lp)}`);

  const patternMap = (field: string, v: unknown): Record<string, number> => {
    if (v === null || v === undefined) return {};
    if (typeof v !== "object" || Array.isArray(v)) bad(field, `must be an object {pattern: value}, got ${JSON.stringify(v)}`);
    const out: Record<string, number> = {};
    for (const [k, x] of Object.entries(v as object)) {
      compile(`${field}.${k}`, `(.*\\.)?${k}$`, source);
      out[k] = field === "rank_pattern" ? posInt(`${field}.${k}`, x) : num(`${field}.${k}`, x);
    }
    return out;
  };
  return {
    r,
    loraAlpha,
    useRslora,
    targetModules,
    excludeModules,
    layersToTransform,
    layersPattern,
    rankPattern: patternMap("rank_pattern", c.rank_pattern),
    alphaPattern: patternMap("alpha_pattern", c.alpha_pattern),
    fanInFanOut: c.fan_in_fan_out === true,
    baseModelNameOrPath: typeof c.base_model_name_or_path === "string" ? c.base_model_name_or_path : null,
  };
}

function compile(field: string, pattern: string, source: string): RegExp {
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch (e) {
    throw new AdapterError(`${source}: "${field}" is not a valid regular expression (${(e as Error).message})`);
  }
}

/** Does the config put a LoRA on module `name` (e.g. "model.layers.0.self_attn.q_proj")? */
export function isTargeted(cfg: PeftConfig, name: string): boolean {
  const ex = cfg.excludeModules;
  if (typeof ex === "string" && new RegExp(`^(?:${ex})$`).test(name)) return false;
  if (Array.isArray(ex) && (ex.includes(name) || ex.some((e) => name.endsWith(`.${e}`)))) return false;
  let targets = cfg.targetModules ?? DEFAULT_TARGETS;
  if (targets === "all-linear") targets = LINEAR_SUFFIXES;
  if (typeof targets === "string") return new RegExp(`^(?:${targets})$`).test(name);
  if (targets.includes(name)) return true;
  const found = targets.some((t) => name.endsWith(`.${t}`));
  const layers = cfg.layersToTransform;
  if (!found || layers === null || (Array.isArray(layers) && layers.length === 0)) return found;
  let m: RegExpMatchArray | null = null;
  if (cfg.layersPattern === null) m = name.match(/^.*\.[^.]*\.(\d+)\./);
  else {
    for (const p of typeof cfg.layersPattern === "string" ? [cfg.layersPattern] : cfg.layersPattern) {
      m = name.match(new RegExp(`^.*\\.${p}\\.(\\d+)\\.`));
      if (m) break;
    }
  }
  if (!m) return false;
  const idx = Number(m[1]);
  return typeof layers === "number" ? idx === layers : layers.includes(idx);
}

function patternValue(pattern: Record<string, number>, name: string): number | undefined {
  for (const [k, v] of Object.entries(pattern)) if (new RegExp(`^(?:(.*\\.)?${k})$`).test(name)) return v;
  return undefined;
}

/** Rank, alpha and scaling (alpha/r, rsLoRA alpha/√r) of module `name`. */
export function moduleRank(cfg: PeftConfig, name: string): { rank: number; alpha: number; scaling: number } {
  const rank = patternValue(cfg.rankPattern, name) ?? cfg.r;
  const alpha = patternValue(cfg.alphaPattern, name) ?? cfg.loraAlpha;
  return { rank, alpha, scaling: cfg.useRslora ? alpha / Math.sqrt(rank) : alpha / rank };
}
