// The adapter bank: lazy loading, LRU within a byte budget, hot reload with rows in flight keeping
// their revision, rollback, and broken packs rejected while the others keep working.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeBackend } from "../core/runtime/backend-node.ts";
import { LanguageModel } from "../core/runtime/index.ts";
import { baseModelHash } from "../core/runtime/lora/base-hash.ts";
import { AdapterBank } from "../core/runtime/lora/bank.ts";
import { foldMixture } from "../core/runtime/lora/mixture.ts";
import type { BaseModelRef } from "../core/runtime/lora/pack.ts";
import { nodePackageFiles } from "../core/runtime/model/files-node.ts";
import { loadModelPackage } from "../core/runtime/model/package.ts";
import { Scheduler } from "../core/runtime/scheduler/scheduler.ts";
import { DecoderSession } from "../core/runtime/session.ts";
import { nodeBankFiles } from "../server/adapters/files.ts";
import { handleAdapterRequest } from "../server/adapters/operator.ts";
import { createServer } from "node:http";
import { makeModel, writeAdapter } from "./adapter-fixtures.ts";

let work: string;
let root: string;
let base: BaseModelRef;
let model: LanguageModel;
const meta = () => ["--kind", "mood", "--base-hash", base.hash, "--base-name", "tiny"];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "kith-bank-"));
  root = `${work}/adapters`;
  await makeModel(`${work}/model`, ["--vocab", "300", "--hidden", "32", "--layers", "2", "--heads", "2", "--kv-heads", "1", "--intermediate", "64", "--seed", "4"]);
  const pkg = await loadModelPackage(`${work}/model`, nodePackageFiles);
  base = { config: pkg.config, hash: baseModelHash(pkg), name: "tiny" };
  await Promise.all([
    writeAdapter(`${work}/model`, `${root}/a`, ["--seed", "1", "--r", "4", ...meta()]),
    writeAdapter(`${work}/model`, `${root}/b`, ["--seed", "2", "--r", "4", ...meta()]),
    writeAdapter(`${work}/model`, `${root}/c`, ["--seed", "3", "--r", "4", ...meta()]),
    writeAdapter(`${work}/model`, `${work}/a-v2`, ["--seed", "9", "--r", "4", "--version", "2", "--scale", "1.5", ...meta()]),
    writeAdapter(`${work}/model`, `${root}/wrongbase`, ["--seed", "5", "--r", "4", "--kind", "mood", "--base-hash", "0123456789abcdef"]),
  ]);
  model = LanguageModel.fromSession(await DecoderSession.create(pkg, nodeBackend({ threads: 1 })), pkg);
}, 240_000);

afterAll(async () => {
  await model?.release();
  if (work) rmSync(work, { recursive: true, force: true });
});

const newBank = (budgetBytes?: number) => {
  let t = 0;
  return new AdapterBank({ root, files: nodeBankFiles, base, budgetBytes, now: () => ++t });
};

describe("adapter bank", () => {
  it("lists packs before loading, loads lazily, reports bytes and last use", async () => {
    const bank = newBank();
    const before = await bank.list();
    expect(before.map((a) => a.id)).toEqual(["a", "b", "c", "wrongbase"]);
    expect(before.every((a) => !a.loaded && a.bytes === 0 && a.lastUsed === null)).toBe(true);
    const a = await bank.get("a");
    const row = (await bank.list()).find((x) => x.id === "a")!;
    expect(row).toMatchObject({ kind: "mood", version: "1", revision: 1, loaded: true, bytes: a.bytes, lastUsed: 1, error: null, baseModel: base.hash });
    expect(await bank.get("a")).toBe(a); // cached: same arrays
    expect(bank.stats.loads).toBe(1);
  });

  it("keeps converted tensors within the byte budget, least recently used out first", async () => {
    const probe = await newBank().get("a");
    const bank = newBank(2 * probe.bytes);
    await bank.get("a");
    await bank.get("b");
    await bank.get("a"); // a is now more recent than b
    await bank.get("c");
    const loaded = Object.fromEntries((await bank.list()).map((x) => [x.id, x.loaded]));
    expect(loaded).toMatchObject({ a: true, b: false, c: true });
    expect(bank.bytesHeld).toBeLessThanOrEqual(2 * probe.bytes);
    await bank.get("b"); // read again from disk: same content, same revision
    expect((await bank.list()).find((x) => x.id === "b")!.revision).toBe(1);
    expect(bank.stats.evictions).toBeGreaterThanOrEqual(2);
  });

  it("a pack for another base model is rejected with both hashes; the others keep working", async () => {
    const bank = newBank();
    await expect(bank.get("wrongbase")).rejects.toThrow(new RegExp(`trained for base model 0123456789abcdef \\(model\\), but the loaded base model is ${base.hash} \\(tiny\\)`));
    expect((await bank.list()).find((x) => x.id === "wrongbase")!.error).toMatch(/0123456789abcdef/);
    await expect(bank.get("a")).resolves.toBeTruthy();
    await expect(bank.get("../model")).rejects.toThrow(/adapter id "..\/model" is not valid/);
  });

  it("hot reload: a changed pack becomes revision 2, rows in flight finish on revision 1; rollback restores it", async () => {
    const bank = newBank();
    const prompt = [5, 6, 7, 8, 9];
    const opts = { maxNewTokens: 16, eosTokenIds: [] as number[] };
    const v1 = foldMixture([{ pack: await bank.get("a"), weight: 1 }]);
    const alone1 = (await new Scheduler(model).submit({ prompt, options: opts, lora: v1 }).result).tokens;

    // Start a reply on revision 1, swap the files mid-reply, reload.
    const sched = new Scheduler(model);
    let swapped = false, n = 0;
    const inflight = sched.submit({
      prompt, options: opts, lora: foldMixture([{ pack: await bank.get("a"), weight: 1 }]),
      onLogits: () => {
        if (++n === 4) {
          for (const f of ["adapter_config.json", "adapter_model.safetensors", "adapter.json"]) cpSync(`${work}/a-v2/${f}`, `${root}/a/${f}`);
          swapped = true;
        }
      },
    });
    while (!swapped) await new Promise((r) => setTimeout(r, 1));
    expect(await bank.checkForChanges()).toEqual(["a"]);
    const v2pack = await bank.get("a");
    expect((await bank.list()).find((x) => x.id === "a")).toMatchObject({ version: "2", revision: 2 });
    const r = await inflight.result;
    expect(r.tokens).toEqual(alone1);
    expect(r.versions).toEqual({ a: "1" });

    const alone2 = (await new Scheduler(model).submit({ prompt, options: opts, lora: foldMixture([{ pack: v2pack, weight: 1 }]) }).result).tokens;
    expect(alone2).not.toEqual(alone1); // the new revision really differs

    const back = bank.rollback("a");
    expect((await bank.list()).find((x) => x.id === "a")).toMatchObject({ version: "1", revision: 1 });
    expect((await new Scheduler(model).submit({ prompt, options: opts, lora: foldMixture([{ pack: back, weight: 1 }]) }).result).tokens).toEqual(alone1);
    expect(() => bank.rollback("a", 7)).toThrow(/no revision 7 to roll back to. Kept: 1, 2/);
  });

  it("a corrupt update is rejected: the previous revision keeps serving, other packs unaffected", async () => {
    const bank = newBank();
    const b1 = await bank.get("b");
    await bank.get("c");
    writeFileSync(`${root}/b/adapter_model.safetensors`, "garbage, half written");
    expect(await bank.checkForChanges()).toEqual([]);
    const row = (await bank.list()).find((x) => x.id === "b")!;
    expect(row.error).toMatch(/adapter pack "b".*adapter_model\.safetensors: truncated safetensors file/);
    expect(row.revision).toBe(1);
    expect(await bank.get("b")).toBe(b1);
    await expect(bank.reload("b")).rejects.toThrow(/adapter pack "b"/);
    await expect(bank.get("c")).resolves.toBeTruthy();
  });

  it("operator HTTP view: list, reload, rollback; errors as 400 with the message", async () => {
    const bank = newBank();
    await bank.get("c");
    const server = createServer(async (req, res) => {
      if (!(await handleAdapterRequest(bank, req, res))) res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const call = (method: string, path: string) => fetch(`http://127.0.0.1:${port}${path}`, { method }).then(async (r) => ({ status: r.status, body: await r.json().catch(() => null) }));
    try {
      const list = await call("GET", "/adapters");
      expect(list.status).toBe(200);
      expect(list.body.find((x: { id: string }) => x.id === "c")).toMatchObject({ loaded: true, revision: 1, kind: "mood" });
      expect(await call("POST", "/adapters/c/reload")).toEqual({ status: 200, body: { changed: false, revision: 1 } });
      const rb = await call("POST", "/adapters/c/rollback");
      expect(rb.status).toBe(400);
      expect(rb.body.error).toMatch(/no revision before 1 to roll back to/);
      expect((await call("POST", "/adapters/wrongbase/reload")).body.error).toMatch(/trained for base model 0123456789abcdef/);
      expect((await call("GET", "/elsewhere")).status).toBe(404);
    } finally {
      server.close();
    }
  });
});
