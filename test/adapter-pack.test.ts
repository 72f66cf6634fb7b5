// Adapter packs: PEFT config rules, and every refusal names the pack, the file and what is wrong.
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseModelHash } from "../core/runtime/lora/base-hash.ts";
import { loadAdapterPack, type BaseModelRef } from "../core/runtime/lora/pack.ts";
import { isTargeted, moduleRank, parsePeftConfig } from "../core/runtime/lora/peft-config.ts";
import { nodePackageFiles } from "../core/runtime/model/files-node.ts";
import { loadModelPackage } from "../core/runtime/model/package.ts";
import { makeModel, writeAdapter } from "./adapter-fixtures.ts";

let work: string;
let base: BaseModelRef;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "kith-pack-"));
  await makeModel(`${work}/model`, ["--vocab", "300", "--hidden", "32", "--layers", "2", "--heads", "2", "--kv-heads", "1", "--intermediate", "64", "--seed", "2"]);
  const pkg = await loadModelPackage(`${work}/model`, nodePackageFiles);
  base = { config: pkg.config, hash: baseModelHash(pkg), name: "tiny" };
  await writeAdapter(`${work}/model`, `${work}/good`, ["--r", "4", "--alpha", "8", "--kind", "mood", "--name", "good", "--base-hash", base.hash, "--base-name", "tiny"]);
}, 240_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A copy of the good pack, changed by `edit`. */
function variant(name: string, edit: (dir: string) => void): string {
  const dir = `${work}/${name}`;
  cpSync(`${work}/good`, dir, { recursive: true });
  edit(dir);
  return dir;
}
const editJson = (file: string, fn: (j: Record<string, unknown>) => void) => {
  const j = JSON.parse(readFileSync(file, "utf8"));
  fn(j);
  writeFileSync(file, JSON.stringify(j));
};
const load = (dir: string) => loadAdapterPack(dir, nodePackageFiles, base);

describe("PEFT target rules", () => {
  const cfg = (o: Record<string, unknown>) => parsePeftConfig({ r: 8, lora_alpha: 16, ...o }, "test");
  const q0 = "model.layers.0.self_attn.q_proj", d1 = "model.layers.1.mlp.down_proj", k3 = "model.layers.3.self_attn.k_proj";
  it("list, regex, all-linear, default, layers_to_transform, exclude_modules", () => {
    expect(isTargeted(cfg({ target_modules: ["q_proj"] }), q0)).toBe(true);
    expect(isTargeted(cfg({ target_modules: ["q_proj"] }), d1)).toBe(false);
    expect(isTargeted(cfg({ target_modules: ".*\\.mlp\\..*" }), d1)).toBe(true);
    expect(isTargeted(cfg({ target_modules: "mlp" }), d1)).toBe(false); // regex must match the whole name
    expect(isTargeted(cfg({ target_modules: "all-linear" }), k3)).toBe(true);
    expect(isTargeted(cfg({ target_modules: null }), q0)).toBe(true);
    expect(isTargeted(cfg({ target_modules: null }), k3)).toBe(false);
    expect(isTargeted(cfg({ target_modules: ["k_proj"], layers_to_transform: [3] }), k3)).toBe(true);
    expect(isTargeted(cfg({ target_modules: ["k_proj"], layers_to_transform: 2 }), k3)).toBe(false);
    expect(isTargeted(cfg({ target_modules: ["k_proj"], layers_to_transform: [3], layers_pattern: "blocks" }), k3)).toBe(false);
    expect(isTargeted(cfg({ target_modules: ["k_proj"], layers_to_transform: [3], layers_pattern: "layers" }), k3)).toBe(true);
    expect(isTargeted(cfg({ target_modules: "all-linear", exclude_modules: ["down_proj"] }), d1)).toBe(false);
  });
  it("rank_pattern, alpha_pattern, rsLoRA scaling", () => {
    const c = cfg({ rank_pattern: { "layers.1.mlp.down_proj": 2 }, alpha_pattern: { q_proj: 4 } });
    expect(moduleRank(c, d1)).toEqual({ rank: 2, alpha: 16, scaling: 8 });
    expect(moduleRank(c, q0)).toEqual({ rank: 8, alpha: 4, scaling: 0.5 });
    expect(moduleRank(cfg({ use_rslora: true }), q0).scaling).toBeCloseTo(16 / Math.sqrt(8));
  });
});

describe("adapter pack loading", () => {
  it("loads a PEFT pack: A [in, r] = loraAᵀ, B [r, out] = scaling·loraBᵀ", async () => {
    const p = await load(`${work}/good`);
    expect(p.meta).toEqual({ kind: "mood", name: "good", version: "1", baseModel: { hash: base.hash, name: "tiny" } });
    expect(p.modules).toBe(14);
    expect(p.maxRank).toBe(4);
    const { readSafe } = await import("./adapter-fixtures-st.ts");
    const st = readSafe(`${work}/good/adapter_model.safetensors`);
    const a = st["base_model.model.model.layers.1.mlp.up_proj.lora_A.weight"]; // [4, 32]
    const b = st["base_model.model.model.layers.1.mlp.up_proj.lora_B.weight"]; // [64, 4]
    const f = p.layers[1].up!;
    expect(f.A[5 * 4 + 3]).toBeCloseTo(a[3 * 32 + 5], 6);
    expect(f.B[2 * 64 + 7]).toBeCloseTo(2 * b[7 * 4 + 2], 6); // scaling 8/4
  });

  it("a plain PEFT adapter without adapter.json loads unchanged (kind character, base unverified)", async () => {
    const p = await load(variant("plain", (d) => rmSync(`${d}/adapter.json`)));
    expect(p.meta.baseModel).toBeNull();
    expect(p.modules).toBe(14);
  });

  const refusals: [string, (d: string) => void, RegExp][] = [
    ["other-base", (d) => editJson(`${d}/adapter.json`, (j) => ((j.base_model as { hash: string }).hash = "00ff00ff00ff00ff")), /trained for base model 00ff00ff00ff00ff \(tiny\), but the loaded base model is [0-9a-f]{16} \(tiny\)/],
    ["dora", (d) => editJson(`${d}/adapter_config.json`, (j) => (j.use_dora = true)), /"use_dora" is true: DoRA adapters are not supported/],
    ["save", (d) => editJson(`${d}/adapter_config.json`, (j) => (j.modules_to_save = ["lm_head"])), /"modules_to_save" lists \["lm_head"\]: fully trained modules are not supported/],
    ["embed", (d) => editJson(`${d}/adapter_config.json`, (j) => (j.target_modules = ["q_proj", "embed_tokens"])), /includes "embed_tokens": embedding and lm_head adapters are not supported/],
    ["bias", (d) => editJson(`${d}/adapter_config.json`, (j) => (j.bias = "all")), /"bias" is "all"; only "none" is supported/],
    ["kind", (d) => editJson(`${d}/adapter.json`, (j) => (j.kind = "hat")), /"kind" is "hat". Should be one of: character, mood, skill/],
    ["rank", (d) => editJson(`${d}/adapter_config.json`, (j) => (j.r = 8)), /tensor "base_model\.model\.model\.layers\.0\.self_attn\.q_proj\.lora_A\.weight" has shape \[4,32\], expected \[8,32\]/],
    ["truncated", (d) => truncateSync(`${d}/adapter_model.safetensors`, 900), /adapter pack "truncated".*adapter_model\.safetensors: truncated safetensors file/],
    ["cut", (d) => truncateSync(`${d}/adapter_model.safetensors`, statSync(`${d}/adapter_model.safetensors`).size - 64), /adapter pack "cut".*adapter_model\.safetensors: truncated safetensors file: tensor "base_model\.model\.model\.layers\.1\.self_attn\.v_proj\.lora_B\.weight" ends at byte \d+ of the data section but only \d+ bytes are present/],
    ["garbage", (d) => writeFileSync(`${d}/adapter_model.safetensors`, "not a safetensors file at all"), /adapter pack "garbage".*adapter_model\.safetensors: truncated safetensors file \(header says/],
    ["missing", (d) => editJson(`${d}/adapter_config.json`, (j) => (j.target_modules = "all-linear")), /./],
    ["noconfig", (d) => rmSync(`${d}/adapter_config.json`), /adapter_config\.json is missing/],
  ];
  for (const [name, edit, msg] of refusals) {
    if (name === "missing") continue; // same tensors: all-linear == the seven; covered by the parity suite
    it(`refuses: ${name}`, async () => {
      await expect(load(variant(name, edit))).rejects.toThrow(msg);
    });
  }

  it("refuses a tensor the config does not target, naming it", async () => {
    const dir = variant("untargeted", (d) => editJson(`${d}/adapter_config.json`, (j) => (j.target_modules = ["q_proj"])));
    await expect(load(dir)).rejects.toThrow(/unexpected tensor "base_model\.model\.model\.layers\.\d\.(self_attn\.[kvo]|mlp\.(gate|up|down))_proj\.lora_[AB]\.weight" \(not a lora_A\/lora_B weight of a module adapter_config\.json targets\)/);
  });

  it("refuses a config targeting a module with no tensors, naming the tensor", async () => {
    const dir = variant("lessdata", (d) => editJson(`${d}/adapter_config.json`, (j) => (j.target_modules = "all-linear")));
    // all-linear is the same seven modules here, so remove one pair from the file instead.
    const { readSafe, writeSafe } = await import("./adapter-fixtures-st.ts");
    const st = readSafe(`${dir}/adapter_model.safetensors`);
    delete st["base_model.model.model.layers.1.mlp.gate_proj.lora_B.weight"];
    writeSafe(`${dir}/adapter_model.safetensors`, st, (k) => (k.includes("lora_A") ? [4, k.includes("down_proj") ? 64 : 32] : [k.includes("gate_proj") || k.includes("up_proj") ? 64 : k.includes("k_proj") || k.includes("v_proj") ? 16 : 32, 4]));
    await expect(load(dir)).rejects.toThrow(/has no tensor "base_model\.model\.model\.layers\.1\.mlp\.gate_proj\.lora_B\.weight", but adapter_config\.json targets module model\.layers\.1\.mlp\.gate_proj/);
  });
});
