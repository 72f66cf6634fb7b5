// bench:dialogue — N bot players in one `world` room, each holding a conversation with its own NPC
// (the village's objects; N NPCs of the five village characters, placed on free spots of the
// ground with a spawn point 2 m in front of each). The server runs in a child process with the
// committed model in its worker thread; the bots (this process, nice 10) send a line to their NPC
// (`to`), wait for the reply, pause (reading it and typing the next: 3-7 s by default), and send
// the next. `--pause-min 0.5 --pause-max 1.5` makes every player a machine-gun talker instead.
// Measured by the bots, per line: time to first token = line sent → first npc_token of the reply
// to it; tokens per second per stream = tokens of the spoken reply (the model's tokenizer) after
// the first, over first token → npc_reply; replies; lost = lines that got no npc_reply (refused,
// or none within the deadline + 5 s; `lost_reasons` counts them by reason, e.g. the NPC walked out of
// earshot on an errand). Fallback replies (model failed or too late) are counted apart.
// Measured in the server: tick p50/p99 (server/tick-metrics.ts: one 30 Hz simulation tick), the
// event loop's delay p99 (what a late timer or message waits), the scheduler's statistics.
// Usage: npm run bench:dialogue -- [--players 32] [--seconds 60] [--pause-min 3] [--pause-max 7] [--spin-us 50].
// Progress on stderr; the last
// stdout line is one JSON object.
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { Client, type Room } from "@colyseus/sdk";
import { footprintDistance } from "../core/prompt/nearby.ts";
import type { NpcReplyEvent, NpcThinkingEvent, NpcTokenEvent, RejectedEvent } from "../core/protocol/messages.ts";
import { parseScene } from "../core/scene/load.ts";
import type { NpcSpawn, Scene } from "../core/scene/schema.ts";
import { TextTokenizer } from "../core/runtime/tokenizer.ts";
import { loadModelPackage } from "../core/runtime/model/package.ts";
import { nodePackageFiles } from "../core/runtime/model/files-node.ts";
import { positiveFlag, spinFlag } from "./shared.ts";

const WARMUP_S = 8;
const DEADLINE_MS = 8000;
/** A bot following its NPC speaks again once this close to it, m (the NPCs hear within 8 m). */
const FOLLOW_NEAR = 3;
const LINES = [
  "Good day! What do you do here?", "What do you sell?", "Tell me about the well.", "Where is the tavern?",
  "How much for a horseshoe?", "Any news from the south road?", "Who guards the gate?", "What is near you?",
  "Have you seen wolves lately?", "Thank you, that was kind.", "Where can I find herbs?", "What is your name?",
];
const CHARACTERS = ["brom", "mira", "aldric", "hilde", "wen"];

interface ServerStats {
  tickP50: number; tickP99: number; tickMax: number; ticks: number; tickCpuP99: number;
  loopDelayP99: number; cpuMs: number; scheduler: unknown;
}
type FromServer = { kind: "ready"; port: number; npcs: number } | { kind: "stats"; stats: ServerStats };

const flag = positiveFlag;
/** `--spin-us N`: the model worker's idle threads spin N µs before sleeping (KITH_MODEL_SPIN_US). */
const SPIN_US: number = ((s) => {
  if (typeof s !== "number") throw new Error("bench:dialogue takes --spin-us N (the server's KITH_MODEL_SPIN_US), not --spin");
  return s;
})(spinFlag());

const progress = (line: string) => process.stderr.write(`[bench:dialogue] ${line}\n`);

/** The village's objects with `n` NPCs (the five characters in turn) on free spots, a spawn 2 m in front of each. */
function benchScene(n: number): Scene {
  const village = parseScene(readFileSync("scenes/village.json", "utf8"), "scenes/village.json");
  const free = (x: number, z: number, clear: number) =>
    Math.abs(x) < village.ground.size[0] / 2 - 3 && Math.abs(z) < village.ground.size[1] / 2 - 3 &&
    village.objects.every((o) => footprintDistance(o, x, z) > clear);
  const npcs: NpcSpawn[] = [];
  const spawns: Scene["spawns"] = [];
  // Spots on a 7 m grid, middle first; the NPC faces -z, its player stands 2 m to its -z side.
  const spots: [number, number][] = [];
  for (let x = -35; x <= 35; x += 7) for (let z = -35; z <= 35; z += 7) spots.push([x, z]);
  spots.sort((a, b) => Math.hypot(...a) - Math.hypot(...b));
  for (const [x, z] of spots) {
    if (npcs.length >= n) break;
    if (!free(x, z, 1.5) || !free(x, z - 2, 1.5) || !free(x, z - 1, 1.5)) continue;
    const character = CHARACTERS[npcs.length % CHARACTERS.length];
    const base = village.npcs.find((s) => s.character === character)!;
    npcs.push({ ...base, id: `${character}-${npcs.length}`, position: [x, 0, z], facing: Math.PI, waypoints: [] });
    spawns.push({ position: [x, 0, z - 2], facing: 0 });
  }
  if (npcs.length < n) throw new Error(`only ${npcs.length} free spots for NPCs in the village; asked for ${n}`);
  return { ...village, name: "bench-village", npcs, spawns };
}

// ---- server side (child process) ----
async function serve(players: number): Promise<void> {
  const { createKithServer } = await import("../server/kith-server.ts");
  const dir = mkdtempSync(path.join(os.tmpdir(), "kith-bench-dialogue-"));
  const scene = benchScene(players);
  const kith = await createKithServer({
    port: 0, scene, log: () => undefined,
    dialogue: { memoryFile: path.join(dir, "memory.sqlite"), deadlineMs: DEADLINE_MS, rate: null, spinUs: SPIN_US, scheduler: { maxBatch: Math.max(16, players), maxQueue: 4 * players } },
  });
  const m = kith.metrics;
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  let cpuAtReset = process.cpuUsage();
  process.on("message", async (msg: { kind: string }) => {
    if (msg.kind === "reset") { m.clear(); loop.reset(); cpuAtReset = process.cpuUsage(); }
    if (msg.kind === "stats") {
      const c = process.cpuUsage(cpuAtReset);
      const stats: ServerStats = {
        tickP50: m.tick.percentile(0.5), tickP99: m.tick.percentile(0.99), tickMax: m.tick.percentile(1), ticks: m.tick.size,
        tickCpuP99: m.tickCpu.percentile(0.99), loopDelayP99: loop.percentile(99) / 1e6, cpuMs: (c.user + c.system) / 1000,
        scheduler: await kith.dialogue!.model.stats(),
      };
      process.send!({ kind: "stats", stats } satisfies FromServer);
    }
    if (msg.kind === "stop") {
      await kith.close();
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    }
  });
  process.send!({ kind: "ready", port: kith.port, npcs: scene.npcs.length } satisfies FromServer);
}

// ---- bots (parent process) ----
interface Line { sent: number; reply?: string; first?: number; done?: number; fallback?: boolean; text?: string; lost?: string }
interface Bot { room: Room; npc: string; lines: Line[]; current?: Line; stop: boolean; seq: number; following: boolean }

function request(child: ChildProcess): Promise<ServerStats> {
  return new Promise((resolve) => {
    const onMessage = (msg: FromServer) => { if (msg.kind === "stats") { child.off("message", onMessage); resolve(msg.stats); } };
    child.on("message", onMessage);
    child.send({ kind: "stats" });
  });
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const round = (x: number) => Math.round(x * 1000) / 1000;

async function main(): Promise<void> {
  const players = Math.floor(flag("players", 32));
  const seconds = flag("seconds", 60);
  const pauseMin = flag("pause-min", 3);
  const pauseMax = Math.max(pauseMin, flag("pause-max", 7));
  const loadAtStart = os.loadavg()[0];
  const pkg = await loadModelPackage("assets/model", nodePackageFiles);
  const tokenizer = TextTokenizer.fromPackage({ tokenizerJson: pkg.tokenizerJson, tokenizerConfig: pkg.tokenizerConfig, vocabSize: pkg.config.vocabSize, source: pkg.dir });
  progress(`starting the server (model worker, ${players} NPCs)…`);
  const child = fork(fileURLToPath(import.meta.url), ["--serve", "--players", String(players), "--spin-us", String(SPIN_US)], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  // Bots yield to the server. Lowered after the fork: the server would inherit nice 10.
  os.setPriority(process.pid, 10);
  const port = await new Promise<number>((resolve, reject) => {
    child.once("message", (msg: FromServer) => (msg.kind === "ready" ? resolve(msg.port) : reject(new Error("bad hello"))));
    child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
  });
  const url = `http://localhost:${port}`;
  const bots: Bot[] = [];
  for (let i = 0; i < players; i += 8) {
    const rooms = await Promise.all(Array.from({ length: Math.min(8, players - i) }, (_, k) => new Client(url).joinOrCreate("world", { name: `bot${i + k}`, playerKey: `bench-bot-${String(i + k).padStart(4, "0")}` })));
    for (const room of rooms) {
      const bot: Bot = { room, npc: "", lines: [], stop: false, seq: 0, following: false };
      room.onMessage("chat", () => undefined);
      room.onMessage("npc_action", () => undefined);
      room.onMessage("npc_thinking", (m: NpcThinkingEvent) => { if (bot.current && m.to.includes(room.sessionId) && m.npc === bot.npc) bot.current.reply ??= m.reply; });
      room.onMessage("npc_token", (m: NpcTokenEvent) => { if (bot.current && m.reply === bot.current.reply) bot.current.first ??= performance.now(); });
      room.onMessage("npc_reply", (m: NpcReplyEvent) => {
        const line = bot.current;
        if (!line || m.reply !== line.reply) return;
        Object.assign(line, { done: performance.now(), fallback: m.fallback, text: m.text });
        bot.current = undefined;
        if (!bot.stop) setTimeout(() => say(bot), 1000 * (pauseMin + Math.random() * (pauseMax - pauseMin)));
      });
      room.onMessage("rejected", (m: RejectedEvent) => {
        progress(`bot ${room.sessionId} refused: ${m.reason}`);
        if (bot.current && m.type === "chat") {
          bot.current.lost = m.reason;
          bot.current = undefined;
          // An NPC that walked off on an errand: follow it and talk again when close, as a player would.
          if (/out of earshot/.test(m.reason)) bot.following = true;
          else if (!bot.stop) setTimeout(() => say(bot), 1000);
        }
      });
      bots.push(bot);
    }
  }
  // Each bot talks to the NPC nearest to where it stands (its spawn is 2 m in front of one).
  await new Promise((r) => setTimeout(r, 500));
  for (const bot of bots) {
    const me = bot.room.state.players.get(bot.room.sessionId) as { x: number; z: number };
    let best = Infinity;
    bot.room.state.npcs.forEach((n: { x: number; z: number }, id: string) => {
      const d = Math.hypot(n.x - me.x, n.z - me.z);
      if (d < best) { best = d; bot.npc = id; }
    });
  }
  const claimed = new Set(bots.map((b) => b.npc));
  progress(`${bots.length} bots joined, talking to ${claimed.size} different NPCs; warming up ${WARMUP_S} s`);

  let lineNo = 0;
  function say(bot: Bot): void {
    if (bot.stop) return;
    const line: Line = { sent: performance.now() };
    bot.lines.push(line);
    bot.current = line;
    bot.room.send("chat", { text: LINES[lineNo++ % LINES.length], to: bot.npc });
  }
  // Bots following their NPC walk toward it (10 inputs a second) and speak again within FOLLOW_NEAR m.
  const follow = setInterval(() => {
    for (const bot of bots) {
      if (!bot.following) continue;
      const me = bot.room.state.players.get(bot.room.sessionId) as { x: number; z: number } | undefined;
      const npc = bot.room.state.npcs.get(bot.npc) as { x: number; z: number } | undefined;
      if (!me || !npc) continue;
      const dx = npc.x - me.x, dz = npc.z - me.z;
      const near = Math.hypot(dx, dz) <= FOLLOW_NEAR;
      bot.room.send("move", { seq: ++bot.seq, forward: near ? 0 : 1, right: 0, run: false, jump: false, yaw: Math.atan2(dx, dz) });
      if (near) { bot.following = false; say(bot); }
    }
  }, 100);
  // A line unanswered past the deadline (+5 s) is lost; its bot moves on.
  const watchdog = setInterval(() => {
    const now = performance.now();
    for (const bot of bots) {
      const l = bot.current;
      if (l && now - l.sent > DEADLINE_MS + 5000) { l.lost = "no reply"; bot.current = undefined; say(bot); }
    }
  }, 500);
  bots.forEach((bot, i) => setTimeout(() => say(bot), (i * 1000 * pauseMax) / bots.length));

  await new Promise((r) => setTimeout(r, WARMUP_S * 1000));
  child.send({ kind: "reset" });
  const t0 = performance.now();
  const started = Date.now();
  for (const bot of bots) bot.lines = bot.lines.filter((l) => l === bot.current); // count lines sent from now on
  const before = (await request(child)).scheduler as { stats: { tokens: number; steps: number; batchSizeHistogram: Record<string, number> } };
  for (let s = 5; s <= seconds; s += 5) {
    await new Promise((r) => setTimeout(r, Math.max(0, started + s * 1000 - Date.now())));
    const st = await request(child);
    const done = bots.flatMap((b) => b.lines).filter((l) => l.done !== undefined);
    const ttft = done.filter((l) => l.first !== undefined).map((l) => l.first! - l.sent);
    progress(`t=${s}/${seconds} s (ETA ${seconds - s} s): ${done.length} replies, ttft p50 ${pct(ttft, 0.5).toFixed(0)} ms p95 ${pct(ttft, 0.95).toFixed(0)} ms; tick p99 ${st.tickP99.toFixed(2)} ms; loop delay p99 ${st.loopDelayP99.toFixed(1)} ms`);
  }
  for (const bot of bots) bot.stop = true;
  clearInterval(follow);
  const measuredS = (performance.now() - t0) / 1000;
  const st = await request(child);
  // Let replies in flight finish (they count), up to the deadline.
  const waitUntil = performance.now() + DEADLINE_MS + 2000;
  while (bots.some((b) => b.current) && performance.now() < waitUntil) await new Promise((r) => setTimeout(r, 100));
  clearInterval(watchdog);
  for (const bot of bots) if (bot.current) bot.current.lost = "no reply before the end";

  const lines = bots.flatMap((b) => b.lines);
  const replied = lines.filter((l) => l.done !== undefined);
  const normal = replied.filter((l) => !l.fallback && l.first !== undefined);
  const ttft = replied.filter((l) => l.first !== undefined).map((l) => l.first! - l.sent);
  const rates = normal
    .map((l) => ({ n: tokenizer.encode(l.text!, { addSpecialTokens: false }).length, s: (l.done! - l.first!) / 1000 }))
    .filter((r) => r.n >= 3 && r.s > 0)
    .map((r) => (r.n - 1) / r.s);
  const sched = st.scheduler as { stats: { tokens: number; steps: number; batchSizeHistogram: Record<string, number>; queueWaitP95Ms: number } };
  const steps = sched.stats.steps - before.stats.steps;
  const rowsStepped = Object.entries(sched.stats.batchSizeHistogram).reduce((a, [k, v]) => a + Number(k) * (v - (before.stats.batchSizeHistogram[k] ?? 0)), 0);
  await Promise.all(bots.map((b) => b.room.leave().catch(() => undefined)));
  child.send({ kind: "stop" });
  console.log(JSON.stringify({
    players: bots.length,
    npcs: claimed.size,
    ttft_p50_ms: round(pct(ttft, 0.5)),
    ttft_p95_ms: round(pct(ttft, 0.95)),
    ttft_max_ms: round(pct(ttft, 1)),
    tok_s_per_stream: round(pct(rates, 0.5)),
    tok_s_per_stream_p10: round(pct(rates, 0.1)),
    tick_p50_ms: round(st.tickP50),
    tick_p99_ms: round(st.tickP99),
    tick_cpu_p99_ms: round(st.tickCpuP99),
    event_loop_delay_p99_ms: round(st.loopDelayP99),
    replies: replied.length,
    fallbacks: replied.filter((l) => l.fallback).length,
    lost: lines.filter((l) => l.lost !== undefined).length,
    // By reason, without the NPC's id and numbers ("out of earshot", "no reply before the end", …).
    lost_reasons: lines.reduce<Record<string, number>>((by, l) => {
      if (l.lost === undefined) return by;
      const why = l.lost.replace(/^\S+ is /, "").replace(/\s*\(.*\)/, "");
      return { ...by, [why]: (by[why] ?? 0) + 1 };
    }, {}),
    lines_sent: lines.length,
    pause_s: [pauseMin, pauseMax],
    replies_per_s: round(replied.length / measuredS),
    server_tokens_per_s: round((sched.stats.tokens - before.stats.tokens) / measuredS),
    mean_batch: round(steps > 0 ? rowsStepped / steps : 0),
    scheduler_queue_wait_p95_ms: round(sched.stats.queueWaitP95Ms),
    server_cpu_share: round(st.cpuMs / 1000 / measuredS),
    seconds: round(measuredS),
    load_avg_1m_start: round(loadAtStart),
    load_avg_1m_end: round(os.loadavg()[0]),
    cores: os.cpus().length,
    spin_us: SPIN_US,
    notes: "ttft: line sent -> first npc_token at the bot; tok/s: spoken-text tokens after the first over first token -> npc_reply (median over replies); server in a child process, bots at nice 10",
  }));
  process.exit(0);
}

if (process.argv.includes("--serve")) await serve(Math.floor(flag("players", 32)));
else await main();
