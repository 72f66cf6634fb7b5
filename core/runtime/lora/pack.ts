import type { ModelConfig } from "../model/config.ts";
import { contentHash, type PackageFiles } from "../model/package.ts";
import { parseSafetensors, toFloat32, type TensorEntry } from "../model/safetensors.ts";
import { loraDims } from "../onnx/decoder-graph.ts";
import { LORA_TARGETS, type LoraTarget } from "../session.ts";
import { AdapterError } from "./errors.ts";
import { factorArray } from "./shared.ts";
import { isTargeted, moduleName, moduleRank, parsePeftConfig, type PeftConfig } from "./peft-config.ts";

// An adapter pack: adapters/<id>/ with
//   adapter_config.json        PEFT LoRA config (peft-config.ts)
//   adapter_model.safetensors  base_model.model.<module>.lora_A.weight [r, in], .lora_B.weight [out, r]
//   adapter.json               {kind, name, version, base_model: {hash, name}}  (Kith metadata)
//   character.json             the card, for character packs (not read here)
// Loaded into the runtime's layout: per layer and target A [in, r] and B [r, out] with the scaling
// folded into B, so a row's update is (x·A)·B exactly as the decoder graph's lora inputs take it.

export type AdapterKind = "character" | "mood" | "skill";
export const ADAPTER_KINDS: readonly AdapterKind[] = ["character", "mood", "skill"];

export interface AdapterMeta {
  kind: AdapterKind;
  name: string;
  version: string;
  /** null when the pack has no adapter.json (a plain PEFT adapter): shapes are checked, identity is not. */
  baseModel: { hash: string; name: string } | null;
}

/** One low-rank update: A [in, rank], B [rank, out] (scaling and any mixture weight folded in). */
export interface LowRank {
  rank: number;
  A: Float32Array;
  B: Float32Array;
}
/** Index = layer; a missing target is no update. */
export type AdapterLayers = Array<Partial<Record<LoraTarget, LowRank>>>;

export interface AdapterPack {
  id: string;
  dir: string;
  meta: AdapterMeta;
  peft: PeftConfig;
  layers: AdapterLayers;
  /** Bytes of the converted f32 tensors (what the bank's memory budget counts). */
  bytes: number;
  /** Content hash of the pack's files: changes when any of them changes. */
  contentHash: string;
  /** Number of (layer, target) modules with an update, and the largest rank among them. */
  modules: number;
  maxRank: number;
}

/** The base model the pack must fit: its shape and its content fingerprint (base-hash.ts). */
export interface BaseModelRef {
  config: ModelConfig;
  hash: string;
  name?: string;
}

const PREFIX = "base_model.model.";

export function parseAdapterMeta(json: unknown, source: string): AdapterMeta {
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new AdapterError(`${source}: expected a JSON object`);
  const m = json as Record<string, unknown>;
  if (!ADAPTER_KINDS.includes(m.kind as AdapterKind)) {
    throw new AdapterError(`${source}: "kind" is ${JSON.stringify(m.kind)}. Should be one of: ${ADAPTER_KINDS.join(", ")}`);
  }
  if (typeof m.name !== "string" || m.name.length === 0) throw new AdapterError(`${source}: "name" must be a non-empty string`);
  if (typeof m.version !== "string" && typeof m.version !== "number") throw new AdapterError(`${source}: "version" must be a string or number`);
  const b = m.base_model as Record<string, unknown> | undefined;
  if (typeof b !== "object" || b === null || typeof b.hash !== "string" || b.hash.length === 0) {
    throw new AdapterError(`${source}: "base_model" must be {"hash": "<base model fingerprint>", "name": "..."}; get the hash with: npm run adapters -- hash <model dir>`);
  }
  return { kind: m.kind as AdapterKind, name: m.name, version: String(m.version), baseModel: { hash: b.hash, name: typeof b.name === "string" ? b.name : "" } };
}

export async function loadAdapterPack(dir: string, files: PackageFiles, base: BaseModelRef, id = dir.replace(/\/+$/, "").split("/").pop() ?? dir): Promise<AdapterPack> {
  const path = (name: string) => `${dir.replace(/\/+$/, "")}/${name}`;
  const where = `adapter pack "${id}" (${dir})`;
  const readJson = async (name: string): Promise<{ json: unknown; bytes: Uint8Array } | null> => {
    if (!(await files.exists(path(name)))) return null;
    const bytes = await files.read(path(name));
    try {
      return { json: JSON.parse(new TextDecoder().decode(bytes)), bytes };
    } catch (e) {
      throw new AdapterError(`${where}: ${name} is not valid JSON (${(e as Error).message})`);
    }
  };
  const cfgFile = await readJson("adapter_config.json");
  if (!cfgFile) throw new AdapterError(`${where}: adapter_config.json is missing (a pack needs adapter_config.json and adapter_model.safetensors)`);
  const peft = parsePeftConfig(cfgFile.json, `${where}: adapter_config.json`);
  const metaFile = await readJson("adapter.json");
  const meta: AdapterMeta = metaFile
    ? parseAdapterMeta(metaFile.json, `${where}: adapter.json`)
    : { kind: "character", name: id, version: "peft", baseModel: null };
  if (meta.baseModel && meta.baseModel.hash !== base.hash) {
    throw new AdapterError(
      `${where}: trained for base model ${meta.baseModel.hash}${meta.baseModel.name ? ` (${meta.baseModel.name})` : ""}, ` +
        `but the loaded base model is ${base.hash}${base.name ? ` (${base.name})` : ""}; retrain it for this base or load the base it was made for`,
    );
  }
  const stFile = path("adapter_model.safetensors");
  if (!(await files.exists(stFile))) {
    const bin = await files.exists(path("adapter_model.bin"));
    throw new AdapterError(`${where}: adapter_model.safetensors is missing${bin ? " (adapter_model.bin found: pickled weights are not read; save with safe_serialization=True)" : ""}`);
  }
  const stBytes = await files.read(stFile);
  let tensors: Map<string, TensorEntry>;
  try {
    tensors = parseSafetensors(stBytes, "adapter_model.safetensors");
  } catch (e) {
    throw new AdapterError(`${where}: ${(e as Error).message}`);
  }

  const c = base.config;
  const used = new Set<string>();
  const layers: AdapterLayers = Array.from({ length: c.numLayers }, () => ({}));
  let bytes = 0, modules = 0, maxRank = 0;
  for (let i = 0; i < c.numLayers; i++) {
    for (const t of LORA_TARGETS) {
      const name = moduleName(i, t);
      if (!isTargeted(peft, name)) continue;
      const kA = `${PREFIX}${name}.lora_A.weight`, kB = `${PREFIX}${name}.lora_B.weight`;
      const eA = tensors.get(kA), eB = tensors.get(kB);
      if (!eA || !eB) {
        throw new AdapterError(`${where}: adapter_model.safetensors has no tensor "${!eA ? kA : kB}", but adapter_config.json targets module ${name}`);
      }
      used.add(kA).add(kB);
      const { rank, scaling } = moduleRank(peft, name);
      const d = loraDims(c, t);
      const check = (k: string, e: TensorEntry, want: number[]) => {
        if (e.shape.length !== 2 || e.shape[0] !== want[0] || e.shape[1] !== want[1]) {
          throw new AdapterError(`${where}: tensor "${k}" has shape ${JSON.stringify(e.shape)}, expected ${JSON.stringify(want)} (rank ${rank} from adapter_config.json, module ${d.in}→${d.out} in the base model)`);
        }
      };
      check(kA, eA, [rank, d.in]);
      check(kB, eB, [d.out, rank]);
      const a = toFloat32(eA), b = toFloat32(eB);
      for (const [k, x] of [[kA, a], [kB, b]] as const) {
        for (let j = 0; j < x.length; j++) if (!Number.isFinite(x[j])) throw new AdapterError(`${where}: tensor "${k}" holds a non-finite value (${x[j]}) at flat index ${j}`);
      }
      // A [in, r] = loraAᵀ; B [r, out] = scaling · loraBᵀ.
      const A = factorArray(d.in * rank);
      for (let r = 0; r < rank; r++) for (let n = 0; n < d.in; n++) A[n * rank + r] = a[r * d.in + n];
      const B = factorArray(rank * d.out);
      for (let o = 0; o < d.out; o++) for (let r = 0; r < rank; r++) B[r * d.out + o] = scaling * b[o * rank + r];
      layers[i][t] = { rank, A, B };
      bytes += (A.length + B.length) * 4;
      modules++;
      maxRank = Math.max(maxRank, rank);
    }
  }
  for (const k of tensors.keys()) {
    if (used.has(k)) continue;
    if (/lora_magnitude_vector/.test(k)) throw new AdapterError(`${where}: tensor "${k}" is a DoRA magnitude vector; DoRA adapters are not supported`);
    if (/lora_embedding_|embed_tokens|lm_head/.test(k)) throw new AdapterError(`${where}: tensor "${k}" adapts the embeddings or lm_head; only the seven linear projections are supported`);
    const layer = k.match(/\.layers\.(\d+)\./);
    if (layer && Number(layer[1]) >= c.numLayers) throw new AdapterError(`${where}: tensor "${k}" is for layer ${layer[1]}, but the base model has ${c.numLayers} layers`);
    throw new AdapterError(`${where}: unexpected tensor "${k}" (not a lora_A/lora_B weight of a module adapter_config.json targets)`);
  }
  if (modules === 0) throw new AdapterError(`${where}: adapter_config.json targets no module of this base model`);
  const hashParts = [cfgFile.bytes, stBytes, metaFile?.bytes ?? new Uint8Array(0)].map((b) => contentHash(b)).join(":");
  return { id, dir, meta, peft, layers, bytes, contentHash: contentHash(new TextEncoder().encode(hashParts)), modules, maxRank };
}
