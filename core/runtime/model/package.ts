import { parseModelConfig, type ModelConfig } from "./config.ts";
import { ModelError } from "./errors.ts";
import { parseSafetensors, WeightStore, type TensorEntry } from "./safetensors.ts";
import { expectedTensors } from "./tensors.ts";

// A model package is a folder in the Hugging Face layout:
//   config.json, model.safetensors | model.safetensors.index.json + shards,
//   tokenizer.json, [tokenizer_config.json], [generation_config.json]
// Reading goes through PackageFiles so core/ stays isomorphic (Node fs on the server, fetch in the
// browser); see files-node.ts and files-fetch.ts.

export interface PackageFiles {
  /** Whole file as bytes; `path` is `${dir}/${name}`. Rejects when absent. */
  read(path: string): Promise<Uint8Array>;
  exists(path: string): Promise<boolean>;
  /** Cheap identity of a file (Node). When absent the package hash falls back to hashing content. */
  stat?(path: string): Promise<{ size: number; mtimeMs: number }>;
}

export interface ModelPackage {
  dir: string;
  config: ModelConfig;
  weights: WeightStore;
  tokenizerJson: unknown;
  tokenizerConfig?: unknown;
  generationConfig?: unknown;
  /** Identity of config + weights: hex string, stable while the files are unchanged. */
  hash: string;
}

export async function loadModelPackage(dir: string, fs: PackageFiles): Promise<ModelPackage> {
  const path = (name: string) => `${dir.replace(/\/+$/, "")}/${name}`;
  const readJson = async (name: string, required: boolean): Promise<unknown> => {
    if (!(await fs.exists(path(name)))) {
      if (required) throw new ModelError(`${path(name)}: required file is missing from the model package`);
      return undefined;
    }
    const text = new TextDecoder().decode(await fs.read(path(name)));
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new ModelError(`${path(name)}: not valid JSON (${(e as Error).message})`);
    }
  };

  const configJson = await readJson("config.json", true);
  const config = parseModelConfig(configJson, path("config.json"));
  const tokenizerJson = await readJson("tokenizer.json", true);
  const tokenizerConfig = await readJson("tokenizer_config.json", false);
  const generationConfig = await readJson("generation_config.json", false);

  // Weights: one file, or an index mapping tensor name → shard file.
  let weightFiles: string[];
  if (await fs.exists(path("model.safetensors"))) {
    weightFiles = ["model.safetensors"];
  } else if (await fs.exists(path("model.safetensors.index.json"))) {
    const index = (await readJson("model.safetensors.index.json", true)) as { weight_map?: Record<string, string> };
    if (!index || typeof index.weight_map !== "object") {
      throw new ModelError(`${path("model.safetensors.index.json")}: missing "weight_map"`);
    }
    weightFiles = [...new Set(Object.values(index.weight_map))].sort();
  } else {
    throw new ModelError(`${dir}: no weights found; expected model.safetensors or model.safetensors.index.json`);
  }

  const entries = new Map<string, TensorEntry>();
  const idParts: string[] = [JSON.stringify(configJson)];
  for (const name of weightFiles) {
    const p = path(name);
    if (!(await fs.exists(p))) throw new ModelError(`${p}: weight shard listed in the index is missing`);
    const bytes = await fs.read(p);
    for (const [k, v] of parseSafetensors(bytes, p)) entries.set(k, v);
    if (fs.stat) {
      const st = await fs.stat(p);
      idParts.push(`${name}:${st.size}:${st.mtimeMs}`);
    } else {
      idParts.push(`${name}:${bytes.byteLength}:${contentHash(bytes)}`);
    }
  }
  const weights = new WeightStore(entries);
  // Check every tensor the graph will need now, so a bad checkpoint fails at load, naming the tensor.
  for (const t of expectedTensors(config)) {
    if (!weights.has(t.name)) {
      throw new ModelError(`${dir}: missing tensor "${t.name}" (expected shape ${JSON.stringify(t.shape)}) in ${weightFiles.join(", ")}`);
    }
    const e = weights.entry(t.name);
    if (e.shape.length !== t.shape.length || e.shape.some((d, i) => d !== t.shape[i])) {
      throw new ModelError(`${e.file}: tensor "${t.name}" has shape ${JSON.stringify(e.shape)}, expected ${JSON.stringify(t.shape)}`);
    }
  }
  return { dir, config, weights, tokenizerJson, tokenizerConfig, generationConfig, hash: contentHash(new TextEncoder().encode(idParts.join("\n"))) };
}

/** 64-bit FNV-1a style hash over 32-bit words (fast, not cryptographic); hex string. */
export function contentHash(bytes: Uint8Array): string {
  let h1 = 0x811c9dc5 | 0, h2 = 0x01000193 ^ bytes.byteLength;
  const words = bytes.byteLength >>> 2;
  const u32 = bytes.byteOffset % 4 === 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, words) : new Uint32Array(bytes.slice(0, words * 4).buffer);
  for (let i = 0; i < words; i++) {
    const w = u32[i];
    h1 = Math.imul(h1 ^ w, 0x01000193);
    h2 = Math.imul(h2 ^ (w >>> 7 | w << 25), 0x5bd1e995);
  }
  for (let i = words * 4; i < bytes.byteLength; i++) h1 = Math.imul(h1 ^ bytes[i], 0x01000193);
  return (h1 >>> 0).toString(16).padStart(8, "0") + (h2 >>> 0).toString(16).padStart(8, "0");
}
