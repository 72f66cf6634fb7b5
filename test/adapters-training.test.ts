// The adapter and gate trainers end to end on the committed base model: a small data set from the
// data engine, a few LoRA steps for a character pack and a mood pack (the mood trained on top of
// the frozen persona), a few gate epochs; then the packs load through the runtime's bank and gate
// loader, and the runtime's logits (persona 1 + mood 0.8, folded as the game folds them) match
// PyTorch with PEFT's math within 2e-4; the runtime gate gives PyTorch's logits on the trainer's
// own features, and the runtime computes those features (mean prompt embedding, threat) as the
// trainer did. Needs python3-torch.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeBackend } from "../core/runtime/backend-node.ts";
import { lastLineIds, loadGate, MlpGate } from "../core/runtime/gate/gate.ts";
import { chooseMixture, pruneWeights } from "../core/runtime/gate/mix.ts";
import { MOOD_WORDS } from "../core/runtime/gate/rules.ts";
import { LanguageModel } from "../core/runtime/index.ts";
import { AdapterBank } from "../core/runtime/lora/bank.ts";
import { baseModelHash } from "../core/runtime/lora/base-hash.ts";
import { build } from "../core/runtime/lora/batch-inputs.ts";
import { foldMixture } from "../core/runtime/lora/mixture.ts";
import { nodePackageFiles } from "../core/runtime/model/files-node.ts";
import { loadModelPackage, type ModelPackage } from "../core/runtime/model/package.ts";
import { Scheduler } from "../core/runtime/scheduler/scheduler.ts";
import { DecoderSession } from "../core/runtime/session.ts";
import { nodeBankFiles } from "../server/adapters/files.ts";
import { stateHour, stateThreat } from "../training/eval/gate-eval.ts";
import { maxAbsDiff, reference, type RefOut } from "./adapter-fixtures.ts";
import { hasTorch, PYTHON } from "./python.ts";

const MODEL = "assets/model";
// Float32 sums over 9 layers in two runtimes: the default model's logits agree to about 1.1e-4.
const TOL = 2e-4;
const STEPS = 4;

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 });
const tsx = join(process.cwd(), "node_modules", ".bin", "tsx");

let work: string;
let pkg: ModelPackage;
let session: DecoderSession;
let model: LanguageModel;
let bank: AdapterBank;
let prompt: number[];
let ref: RefOut[];
let trainLog: string;

describe.skipIf(!hasTorch())("adapter and gate training → runtime", () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "kith-adtrain-"));
    const data = join(work, "data"), ad = join(work, "adapters");
    run(tsx, ["training/data/main.ts", "--out", data, "--samples", "500", "--seed", "11", "--heldout", "0.2", "--no-evals"]);
    for (const split of ["train", "heldout"]) {
      run(tsx, ["training/tokenizer/encode-corpus.ts", "--tokenizer", join(MODEL, "tokenizer.json"), "--in", join(data, `${split}.jsonl`), "--out", join(data, split)]);
    }
    for (const d of readdirSync("adapters")) {
      try {
        mkdirSync(join(ad, d), { recursive: true });
        cpSync(join("adapters", d, "character.json"), join(ad, d, "character.json"));
      } catch {
        rmSync(join(ad, d), { recursive: true, force: true }); // not a character pack
      }
    }
    // A high learning rate so that three steps move the factors well clear of the tolerance.
    trainLog = run(PYTHON, ["training/train_adapters.py", `--model=${MODEL}`, `--train_data=${data}/train`, `--val_data=${data}/heldout`,
      `--adapters_dir=${ad}`, `--out_dir=${work}/out`, `--results_dir=${work}/results`, "--adapters=brom,mood-calm,skill-test", "--characters=brom",
      "--max_steps=3", "--lr=0.05", "--warmup_steps=1", "--eval_samples=4", "--batch_size=4"]);
    run(PYTHON, ["training/train_gate.py", `--model=${MODEL}`, `--train_data=${data}/train`, `--val_data=${data}/heldout`, `--adapters_dir=${ad}`,
      `--out=${ad}/gate`, `--results=${work}/results/gate.json`, "--epochs=3", "--val_samples=60", `--parity_out=${work}/gate-parity.json`]);

    pkg = await loadModelPackage(MODEL, nodePackageFiles);
    bank = new AdapterBank({ root: ad, files: nodeBankFiles, base: { config: pkg.config, hash: baseModelHash(pkg), name: MODEL } });
    session = await DecoderSession.create(pkg, nodeBackend({ threads: 1 }));
    model = LanguageModel.fromSession(session, pkg);
    const first = JSON.parse(readFileSync(join(data, "heldout.jsonl"), "utf8").split("\n")[0]) as { prompt: string };
    prompt = model.tokenizer.encode(first.prompt).slice(0, 40);
    ref = await reference(MODEL, [
      { prompt, steps: STEPS, adapters: [{ dir: join(ad, "brom"), weight: 1 }, { dir: join(ad, "mood-calm"), weight: 0.8 }] },
      { prompt, steps: STEPS, adapters: [] },
    ], work);
  }, 600_000);

  afterAll(async () => {
    await model?.release();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("writes PEFT packs for the base model the runtime fingerprints, with training progress on the way", async () => {
    expect(trainLog).toMatch(/\[brom\] step 3\/3 loss/);
    expect(trainLog).toMatch(/\[mood-calm\] held-out loss after 3 steps/);
    expect(trainLog).toMatch(/\[skill-test\] skill adapter: \d+ training samples/);
    for (const id of ["brom", "mood-calm", "skill-test"]) {
      const meta = JSON.parse(readFileSync(join(work, "adapters", id, "adapter.json"), "utf8"));
      expect(meta.base_model.hash).toBe(baseModelHash(pkg));
      expect(meta.kind).toBe(id === "brom" ? "character" : id === "mood-calm" ? "mood" : "skill");
      const cfg = JSON.parse(readFileSync(join(work, "adapters", id, "adapter_config.json"), "utf8"));
      expect(cfg).toMatchObject({ peft_type: "LORA", r: 8, lora_alpha: 16, use_dora: false, bias: "none", task_type: "CAUSAL_LM" });
    }
    const brom = await bank.get("brom");
    expect(brom.meta.kind).toBe("character");
    expect(brom.modules).toBe(pkg.config.numLayers * 7);
    expect((await bank.list()).find((a) => a.id === "mood-calm")?.error).toBeNull();
    expect((await bank.get("skill-test")).meta.kind).toBe("skill");
  });

  it("runtime logits with persona 1 + mood 0.8 match PyTorch (PEFT math) within 2e-4, and differ from the base", async () => {
    const lora = foldMixture([{ pack: await bank.get("brom"), weight: 1 }, { pack: await bank.get("mood-calm"), weight: 0.8 }]);
    const T = prompt.length;
    const fwd = (withLora: boolean) => session.forward({
      inputsEmbeds: session.embed(prompt), batch: 1, seqLen: T,
      positionIds: BigInt64Array.from({ length: T }, (_, t) => BigInt(t)), attentionMask: new BigInt64Array(T).fill(1n), past: null,
      lora: withLora ? build(session.config, session.loraTargets, [lora]) : undefined,
    });
    const withA = await fwd(true), plain = await fwd(false);
    expect(maxAbsDiff(withA.logits, ref[0].logits[0])).toBeLessThan(TOL);
    expect(maxAbsDiff(plain.logits, ref[1].logits[0])).toBeLessThan(TOL);
    expect(maxAbsDiff(withA.logits, plain.logits)).toBeGreaterThan(1e-2); // the trained adapters do something

    // Greedy decoding through the scheduler (the game's path) gives PyTorch's tokens and logits.
    const sched = new Scheduler(model, { maxBatch: 2 });
    const taps: Float32Array[] = [];
    const out = await sched.submit({ prompt, options: { maxNewTokens: STEPS, eosTokenIds: [], doSample: false }, lora, onLogits: (l) => taps.push(l) }).result;
    expect(out.tokens).toEqual(ref[0].tokens);
    for (let k = 1; k < taps.length; k++) expect(maxAbsDiff(taps[k], ref[0].logits[k])).toBeLessThan(TOL);
    expect(out.weights).toEqual({ brom: 1, "mood-calm": 0.8 });
  });

  it("the runtime loads the trained gate and gives PyTorch's logits on the trainer's features", async () => {
    const gate = await loadGate(join(work, "adapters", "gate"), nodePackageFiles, pkg.config.hiddenSize);
    expect(gate.kind).toBe("mlp");
    const par = JSON.parse(readFileSync(join(work, "gate-parity.json"), "utf8")) as { samples: number[]; features: number[][]; logits: number[][] };
    expect(par.features.length).toBeGreaterThan(4);
    let spread = 0;
    par.features.forEach((f, i) => {
      const got = (gate as MlpGate).logits(Float32Array.from(f));
      expect(maxAbsDiff(got, par.logits[i])).toBeLessThan(TOL);
      spread = Math.max(spread, Math.max(...par.logits[i]) - Math.min(...par.logits[i]));
    });
    expect(spread).toBeGreaterThan(0.1);
  });

  it("the trained gate carries the word cues, and its mood weights with the player's line match PyTorch's blend", async () => {
    const gate = (await loadGate(join(work, "adapters", "gate"), nodePackageFiles, pkg.config.hiddenSize)) as MlpGate;
    expect(gate.spec.wordCues?.share).toBe(0.5);
    expect(gate.spec.wordCues?.moods.map((m) => [m.id, m.pattern.source])).toEqual([["mood-angry", MOOD_WORDS.angry], ["mood-sad", MOOD_WORDS.sad], ["mood-cheerful", MOOD_WORDS.cheerful]]);
    const par = JSON.parse(readFileSync(join(work, "gate-parity.json"), "utf8")) as { features: number[][]; says: string[]; probs: number[][]; cued: number };
    expect(par.cued).toBeGreaterThan(0); // the data engine's insults and grief lines match the lists
    const outputs = gate.spec.outputs;
    const S = gate.summaryWidth;
    let flipped = 0;
    par.features.forEach((f, i) => {
      const [sin, cos, threat, standing] = f.slice(S, S + 4);
      const hour = ((Math.atan2(sin, cos) / (2 * Math.PI)) * 24 + 24) % 24;
      const d = gate.decide({
        candidates: { persona: null, moods: outputs, skills: [] },
        state: { timeOfDay: hour, threat, standing }, text: par.says[i], promptSummary: Float32Array.from(f.slice(0, S)),
      });
      outputs.forEach((id, k) => expect(d.weights[id] / gate.spec.strength).toBeCloseTo(par.probs[i][k], 4));
      if (d.reason.includes("word cue")) flipped++;
    });
    expect(flipped).toBeGreaterThanOrEqual(par.cued);
  });

  it("the runtime derives the gate's features (prompt mean, player-line mean, threat, hour) from a sample as the trainer did", async () => {
    const gate = (await loadGate(join(work, "adapters", "gate"), nodePackageFiles, pkg.config.hiddenSize)) as MlpGate;
    expect(gate.spec.summary).toBe("prompt+line");
    const H = gate.summaryWidth;
    expect(H).toBe(2 * pkg.config.hiddenSize);
    const par = JSON.parse(readFileSync(join(work, "gate-parity.json"), "utf8")) as { samples: number[]; features: number[][] };
    const lines = readFileSync(join(work, "data", "heldout.jsonl"), "utf8").split("\n").filter(Boolean);
    par.samples.forEach((i, k) => {
      const s = JSON.parse(lines[i]) as { prompt: string; state: string; say: string };
      const ids = model.tokenizer.encode(s.prompt);
      const summary = gate.summarize((x) => session.embed(x), ids);
      expect(maxAbsDiff(summary, par.features[k].slice(0, H))).toBeLessThan(1e-5);
      // The line half is the player's line: its tokens are the encoded `say` (as the prompt wrote it).
      const line = lastLineIds(ids, 6, 8);
      expect(model.tokenizer.decode(line)).toContain(s.say.trim().slice(0, 8));
      expect(par.features[k][H + 2]).toBe(stateThreat(s.state));
      const h = stateHour(s.state);
      if (h !== null) expect(par.features[k][H]).toBeCloseTo(Math.sin((2 * Math.PI * h) / 24), 5);
    });
  });

  it("chooseMixture: gate weights over the card's moods, persona at 1; packs not trained are skipped and named", async () => {
    const gate = await loadGate(join(work, "adapters", "gate"), nodePackageFiles, pkg.config.hiddenSize);
    const card = JSON.parse(readFileSync(join(work, "adapters", "brom", "character.json"), "utf8"));
    const choice = await chooseMixture(bank, gate, session, {
      candidates: { persona: "brom", moods: card.adapters.moods, skills: [] }, state: { timeOfDay: 12, threat: 0, standing: 0 }, promptIds: prompt,
    });
    expect(choice.decision.source).toBe("mlp");
    expect(choice.decision.weights.brom).toBe(1);
    const moodSum = card.adapters.moods.reduce((s: number, m: string) => s + (choice.decision.weights[m] ?? 0), 0);
    expect(moodSum).toBeCloseTo(0.8, 5);
    // Skipped: the moods the gate weighed enough to fold that have no trained pack here.
    const kept = Object.keys(pruneWeights(choice.decision.weights, "brom")).filter((id) => id !== "brom");
    expect(choice.skipped.map((s) => s.id).sort()).toEqual(kept.filter((m) => m !== "mood-calm").sort());
    expect(choice.lora?.weights.brom).toBe(1);
  });

  it("--init_from refuses a pack made for another base unless --init_any_base, which then starts from its factors", () => {
    // The trained brom pack, relabelled as made for another base (as a pack of the base this one was fine-tuned from is).
    const src = join(work, "other-base-brom"), ad2 = join(work, "adapters2");
    cpSync(join(work, "adapters", "brom"), src, { recursive: true });
    const meta = JSON.parse(readFileSync(join(src, "adapter.json"), "utf8"));
    writeFileSync(join(src, "adapter.json"), JSON.stringify({ ...meta, base_model: { ...meta.base_model, hash: "0123456789abcdef" } }));
    mkdirSync(join(ad2, "brom"), { recursive: true });
    cpSync(join("adapters", "brom", "character.json"), join(ad2, "brom", "character.json"));
    const args = (extra: string[]) => ["training/train_adapters.py", `--model=${MODEL}`, `--train_data=${work}/data/train`, `--val_data=${work}/data/heldout`,
      `--adapters_dir=${ad2}`, `--out_dir=${work}/out2`, `--results_dir=${work}/results2`, "--adapters=brom", `--init_from=${src}`,
      "--max_steps=1", "--lr=0", "--min_lr=0", "--warmup_steps=1", "--eval_samples=2", "--batch_size=2", ...extra];
    let refusal = "";
    try {
      run(PYTHON, args([]));
    } catch (e) {
      refusal = String((e as { stderr?: string }).stderr ?? e);
    }
    expect(refusal).toMatch(/trained for base 0123456789abcdef, but this base is [0-9a-f]{16}/);
    const log = run(PYTHON, args(["--init_any_base"]));
    expect(log).toContain("base hash not checked (--init_any_base)");
    expect(log).toContain(`starting from the factors of ${src}`);
    // lr 0: the written factors are the pack's own.
    const tensors = (dir: string) => readFileSync(join(dir, "adapter_model.safetensors"));
    expect(tensors(join(ad2, "brom")).equals(tensors(src))).toBe(true);
  });
});
