// Adapters in conversations: with no pack for Brom the reply comes from the base model (weights
// {}); a persona pack written while the server runs is found and the next replies are generated
// with it (weights { brom: 1 }); the mood pack the rule gate picks is still missing and left out.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createKithServer, type KithServer } from "../server/kith-server.ts";
import { writeSafe } from "./adapter-fixtures-st.ts";
import { bromYard, joinBot, listen, sleep, waitFor, walkTo } from "./helpers/dialogue-bots.ts";

const scene = bromYard();

const root = mkdtempSync(join(tmpdir(), "kith-adapters-"));
let kith: KithServer;
const logs: string[] = [];

beforeAll(async () => {
  mkdirSync(join(root, "brom"));
  copyFileSync("adapters/brom/character.json", join(root, "brom", "character.json"));
  kith = await createKithServer({ port: 0, scene, log: (l) => logs.push(l), dialogue: { adaptersDir: root, adapterRetryMs: 100, rate: null } });
});
afterAll(async () => {
  await kith?.close();
  rmSync(root, { recursive: true, force: true });
});

/** A rank-2 PEFT LoRA on q_proj and v_proj of every layer of assets/model (hidden 192, 2 kv heads × 32). */
function writePersonaPack(dir: string): void {
  // Every layer of the default model (a PEFT pack without layers_to_transform targets them all).
  const cfg = JSON.parse(readFileSync("assets/model/config.json", "utf8"));
  const r = 2, layers: number = cfg.num_hidden_layers, hidden: number = cfg.hidden_size;
  const kv = cfg.num_key_value_heads * (cfg.head_dim ?? hidden / cfg.num_attention_heads);
  let seed = 11;
  const rnd = (n: number) => Float32Array.from({ length: n }, () => ((seed = (seed * 48271) % 2147483647) / 2147483647 - 0.5) * 0.02);
  const tensors: Record<string, Float32Array> = {};
  const shapes: Record<string, number[]> = {};
  for (let i = 0; i < layers; i++) {
    for (const [m, out] of [["q_proj", hidden], ["v_proj", kv]] as const) {
      const base = `base_model.model.model.layers.${i}.self_attn.${m}`;
      tensors[`${base}.lora_A.weight`] = rnd(r * hidden); shapes[`${base}.lora_A.weight`] = [r, hidden];
      tensors[`${base}.lora_B.weight`] = rnd(out * r); shapes[`${base}.lora_B.weight`] = [out, r];
    }
  }
  writeSafe(join(dir, "adapter_model.safetensors"), tensors, (n) => shapes[n]);
  writeFileSync(join(dir, "adapter_config.json"), JSON.stringify({ peft_type: "LORA", r, lora_alpha: 4, target_modules: ["q_proj", "v_proj"], bias: "none", task_type: "CAUSAL_LM" }));
}

describe("adapters in conversations", () => {
  it("no pack: the base model answers; a pack that arrives later is used for the next replies", async () => {
    const bot = await joinBot(kith.url, { name: "Hal" });
    const h = listen(bot);
    await walkTo(bot, 0, 5, 2.5);
    bot.send("chat", { text: "Hello, smith.", to: "brom" });
    await waitFor(() => h.replies.length === 1, 30_000, "first reply");
    expect(h.replies[0]).toMatchObject({ fallback: false, weights: {} });
    expect(logs.some((l) => /adapter "brom" not used: .*adapter_config\.json is missing/.test(l))).toBe(true);

    writePersonaPack(join(root, "brom"));
    for (let i = 0; i < 4 && h.replies.at(-1)!.weights.brom !== 1; i++) {
      await sleep(300);
      bot.send("chat", { text: "What do you sell?", to: "brom" });
      await waitFor(() => h.replies.length === i + 2, 30_000, "next reply");
    }
    const last = h.replies.at(-1)!;
    expect(last.weights).toEqual({ brom: 1 }); // the rule gate's mood-calm pack does not exist: left out
    expect(last.fallback).toBe(false);
    expect(last.text.length).toBeGreaterThan(0);
    await bot.leave();
  });

  it("a broken gate pack: the server starts, says why, and the rule gate picks the moods", async () => {
    const broken = mkdtempSync(join(tmpdir(), "kith-gate-broken-"));
    cpSync("adapters", broken, { recursive: true });
    const spec = JSON.parse(readFileSync(join(broken, "gate", "gate.json"), "utf8"));
    spec.word_cues.moods.angry = "(idiot"; // an operator's typo: an unclosed group
    writeFileSync(join(broken, "gate", "gate.json"), JSON.stringify(spec));
    const seen: string[] = [];
    const other = await createKithServer({ port: 0, scene, log: (l) => seen.push(l), dialogue: { adaptersDir: broken, rate: null } });
    try {
      expect(other.dialogue!.gate.kind).toBe("rules");
      expect(seen.some((l) => /\[adapters\] gate pack .*"word_cues\.moods\.angry" is not a valid regular expression.*rule gate/.test(l))).toBe(true);
      const bot = await joinBot(other.url, { name: "Ivo" });
      const h = listen(bot);
      await walkTo(bot, 0, 5, 2.5);
      bot.send("chat", { text: "You are a useless old crook", to: "brom" });
      await waitFor(() => h.replies.length === 1, 30_000, "reply under the rule gate");
      expect(h.replies[0]).toMatchObject({ fallback: false, weights: { brom: 1, "mood-angry": 0.8 } });
      await bot.leave();
    } finally {
      await other.close();
      rmSync(broken, { recursive: true, force: true });
    }
  });
});
