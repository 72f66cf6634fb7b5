// The operator API on a running server (real Colyseus server, model worker, adapter bank over a copy
// of adapters/): bearer-token auth, the adapter list, reload of a changed pack and roll back, the
// scheduler and tick statistics after a real conversation, and the API off without a token.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createKithServer, type KithServer } from "../server/kith-server.ts";
import { bromYard, joinBot, listen, waitFor, walkTo } from "./helpers/dialogue-bots.ts";

const TOKEN = "kith-operator-test-token-0123";
const root = mkdtempSync(join(tmpdir(), "kith-operator-"));
let kith: KithServer;
const logged: string[] = [];

const call = async (path: string, init: { method?: string; token?: string | null } = {}) => {
  const token = init.token === undefined ? TOKEN : init.token;
  const res = await fetch(kith.url + path, { method: init.method ?? "GET", headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as any };
};

beforeAll(async () => {
  cpSync("adapters", root, { recursive: true });
  kith = await createKithServer({ port: 0, scene: bromYard(), log: (line: string) => logged.push(line), operatorToken: TOKEN, vision: null, dialogue: { adaptersDir: root, rate: null } });
});
afterAll(async () => {
  await kith?.close();
  rmSync(root, { recursive: true, force: true });
});

describe("operator API", () => {
  it("answers only with the server's bearer token", async () => {
    for (const token of [null, "not-the-token-at-all-000", `${TOKEN}x`, TOKEN.slice(0, -1)]) {
      const r = await call("/adapters", { token });
      expect(r.status).toBe(401);
      expect(r.body.error).toMatch(/Authorization: Bearer/);
    }
    const r = await call("/adapters");
    expect(r.status).toBe(200);
    expect(r.body.map((p: { id: string }) => p.id)).toEqual(expect.arrayContaining(["brom", "mira", "mood-calm", "skill-sight"]));
    // Players' paths are untouched.
    expect((await fetch(kith.url + "/healthz")).status).toBe(200);
  });

  it("statistics count a real conversation", async () => {
    const before = await call("/stats");
    expect(before.status).toBe(200);
    const bot = await joinBot(kith.url, { name: "Opal" });
    const heard = listen(bot);
    await walkTo(bot, 0, 5, 2.5);
    bot.send("chat", { text: "What do you sell?", to: "brom" });
    await waitFor(() => heard.replies.length === 1, 30_000, "Brom's reply");
    const after = await call("/stats");
    expect(after.body.players).toBe(1);
    expect(after.body.rooms).toBe(1);
    expect(after.body.tick.samples).toBeGreaterThan(0);
    expect(after.body.tick.p99_ms).toBeGreaterThan(0);
    // A checked reply that disagrees is written again (up to loreRetries more tries, each logged):
    // every try is one request to the scheduler.
    const rewritten = logged.map((l) => /reply written (\d+) times/.exec(l)).find((m) => m !== null);
    const tries = rewritten ? Number(rewritten[1]) : 1;
    expect(after.body.scheduler.submitted).toBe(before.body.scheduler.submitted + tries);
    expect(after.body.scheduler.tokens).toBeGreaterThan(before.body.scheduler.tokens);
    expect(after.body.scheduler.load).toEqual({ queued: 0, active: 0 });
    expect(after.body.scheduler.lora_kernel).toBe("native kith.LoraAdd"); // the binding loads in the model's worker thread
    await bot.leave();
  });

  it("reloads a changed pack as a new revision and rolls it back; a bad id or route gets a clear error", async () => {
    const first = await call("/adapters/brom/reload", { method: "POST" });
    expect(first.status).toBe(200);
    const meta = join(root, "brom", "adapter.json");
    const card = JSON.parse(readFileSync(meta, "utf8"));
    writeFileSync(meta, JSON.stringify({ ...card, version: `${card.version}-hotfix` }));
    const reloaded = await call("/adapters/brom/reload", { method: "POST" });
    expect(reloaded.body).toEqual({ changed: true, revision: first.body.revision + 1 });
    const listed = (await call("/adapters")).body.find((p: { id: string }) => p.id === "brom");
    expect(listed).toMatchObject({ revision: first.body.revision + 1, version: `${card.version}-hotfix` });
    const back = await call("/adapters/brom/rollback", { method: "POST" });
    expect(back.body).toEqual({ revision: first.body.revision });
    expect((await call("/adapters")).body.find((p: { id: string }) => p.id === "brom")).toMatchObject({ revision: first.body.revision, version: card.version });

    const bad = await call("/adapters/..%2Fetc/reload", { method: "POST" });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/is not valid/);
    const none = await call("/adapters/brom/delete", { method: "POST" });
    expect(none.status).toBe(404);
    expect(none.body.error).toMatch(/GET \/adapters, POST \/adapters\/<id>\/reload/);
  });

  it("is off without a token, and refuses a short one before starting anything", async () => {
    const plain = await createKithServer({ port: 0, scene: bromYard(), log: () => undefined, vision: null });
    try {
      const r = await fetch(plain.url + "/stats", { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(r.status).toBe(404);
      expect(((await r.json()) as { error: string }).error).toMatch(/operator API is off.*KITH_OPERATOR_TOKEN/);
    } finally {
      await plain.close();
    }
    await expect(createKithServer({ port: 0, scene: bromYard(), operatorToken: "short" })).rejects.toThrow(/at least 16/);
  });
});
