// bench:world — N bot clients walking, running, jumping and chatting in one `world` room of the
// village (5 NPCs). The server runs in a child process so bots do not share its event loop or
// its CPU accounting; the bots (this process) run at lower priority (nice 10). Where it can, the
// server's JavaScript thread gets a core to itself and the bots and V8 helper threads run on the
// others (cores.ts says why; --shared-cores leaves placement to the OS).
// Bots wander: straight lines with random turns every 1-4 s, 30% running, a jump now and then;
// near the border (beyond 30 m from the centre; shared.ts wander) they turn back toward the middle, as
// players exploring a village do, instead of pressing into the border wall for the whole run.
// Measured inside the room: `tick` = one 30 Hz simulation tick (inputs, NPCs, Rapier step, state
// writes), wall clock and process CPU time (the CPU figure does not count time the OS gave to
// other processes mid-tick, so it is the one to trust on a loaded machine); its sections (mean
// wall ms); `patch` = one broadcastPatch (schema delta encoding + handing bytes to the sockets,
// 20 Hz); garbage collections in the server (count, total and longest pause).
// Also: ticks actually run per second, the server process's CPU use (share of one core), and
// the 1-minute load average at start and end. Measured by the bots: bytes received per client
// per second (state patches; and everything).
// Usage: npm run bench:world -- [--players 64] [--seconds 20] [--shared-cores]. Last line: one JSON object.
import { fork, type ChildProcess } from "node:child_process";
import os from "node:os";
import { PerformanceObserver } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { Client, type Room } from "@colyseus/sdk";
import { MOVEMENT } from "../core/movement/rules.ts";
import { positiveFlag, wander } from "./shared.ts";
import { ownCoreForMainThread, planCores, stayOffServerCore } from "./cores.ts";

const ROOM_STATE = 14;
const ROOM_STATE_PATCH = 15;

interface Stats {
  tickP50: number; tickP99: number; tickMax: number; ticks: number;
  tickCpuP50: number; tickCpuP99: number; tickCpuMax: number;
  sections: { inputs: number; npcs: number; step: number; sync: number };
  gcCount: number; gcTotalMs: number; gcMaxMs: number; ticksWithGc: number; tickP99NoGc: number;
  cpuMs: number; patchP50: number; patchP99: number; patches: number;
}
type FromServer = { kind: "ready"; port: number } | { kind: "stats"; stats: Stats };

const flag = positiveFlag;

// ---- server side (child process) ----
async function serve(): Promise<void> {
  const { createKithServer } = await import("../server/kith-server.ts");
  const kith = await createKithServer({ port: 0, scene: "village", log: () => undefined });
  const m = kith.metrics;
  // The parent made the same plan (same allowed cores) before passing --own-core.
  const plan = process.argv.includes("--own-core") ? planCores() : null;
  if (plan) ownCoreForMainThread(plan);
  let cpuAtReset = process.cpuUsage();
  // Garbage collections in the server since the last reset (pause lengths, ms).
  const gc = { count: 0, totalMs: 0, maxMs: 0, spans: [] as [number, number][] };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.count++; gc.totalMs += e.duration; gc.maxMs = Math.max(gc.maxMs, e.duration);
      gc.spans.push([e.startTime, e.startTime + e.duration]);
    }
  }).observe({ entryTypes: ["gc"] });
  /** Ticks held in the metrics that overlap a collection, and the p99 of the others. */
  const ticksWithoutGc = () => {
    const walls = m.tick.all(), starts = m.tickStart.all();
    const clean: number[] = [];
    walls.forEach((w, i) => { if (!gc.spans.some(([a, b]) => a < starts[i] + w && b > starts[i])) clean.push(w); });
    clean.sort((a, b) => a - b);
    return { withGc: walls.length - clean.length, p99: clean[Math.min(clean.length - 1, Math.floor(0.99 * clean.length))] ?? NaN };
  };
  const cpuMsSince = (start: NodeJS.CpuUsage) => { const c = process.cpuUsage(start); return (c.user + c.system) / 1000; };
  process.on("message", (msg: { kind: string }) => {
    if (msg.kind === "reset") { if (plan) ownCoreForMainThread(plan); m.clear(); cpuAtReset = process.cpuUsage(); gc.count = gc.totalMs = gc.maxMs = 0; gc.spans = []; }
    if (msg.kind === "stats") {
      const clean = ticksWithoutGc();
      const stats: Stats = {
        tickP50: m.tick.percentile(0.5), tickP99: m.tick.percentile(0.99), tickMax: m.tick.percentile(1), ticks: m.tick.size,
        tickCpuP50: m.tickCpu.percentile(0.5), tickCpuP99: m.tickCpu.percentile(0.99), tickCpuMax: m.tickCpu.percentile(1),
        sections: {
          inputs: m.sections.inputs / m.sectionTicks, npcs: m.sections.npcs / m.sectionTicks,
          step: m.sections.step / m.sectionTicks, sync: m.sections.sync / m.sectionTicks,
        },
        gcCount: gc.count, gcTotalMs: gc.totalMs, gcMaxMs: gc.maxMs,
        ticksWithGc: clean.withGc, tickP99NoGc: clean.p99,
        cpuMs: cpuMsSince(cpuAtReset),
        patchP50: m.patch.percentile(0.5), patchP99: m.patch.percentile(0.99), patches: m.patch.size,
      };
      process.send!({ kind: "stats", stats } satisfies FromServer);
    }
    if (msg.kind === "stop") void kith.close().then(() => process.exit(0));
  });
  process.send!({ kind: "ready", port: kith.port } satisfies FromServer);
}

// ---- bots (parent process) ----
/** nextTurn in s (shared.ts wander), nextChat in ms. */
interface Bot { room: Room; seq: number; yaw: number; run: boolean; nextTurn: number; nextChat: number; patchBytes: number; allBytes: number }

function request(child: ChildProcess, kind: string): Promise<Stats> {
  return new Promise((resolve) => {
    const onMessage = (msg: FromServer) => { if (msg.kind === "stats") { child.off("message", onMessage); resolve(msg.stats); } };
    child.on("message", onMessage);
    child.send({ kind });
  });
}

async function main(): Promise<void> {
  const players = Math.floor(flag("players", 64));
  const seconds = flag("seconds", 20);
  const warmup = 3;
  const loadAtStart = os.loadavg()[0];
  const plan = process.argv.includes("--shared-cores") ? null : planCores();
  const child = fork(fileURLToPath(import.meta.url), ["--serve", ...(plan ? ["--own-core"] : [])], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  // The load generator yields to the server it measures. After the fork: a child inherits its
  // parent's nice value, and before this order the server ran at nice 10 beside its own bots.
  os.setPriority(process.pid, 10);
  if (plan) stayOffServerCore(plan);
  const port = await new Promise<number>((resolve, reject) => {
    child.once("message", (msg: FromServer) => (msg.kind === "ready" ? resolve(msg.port) : reject(new Error("bad hello"))));
    child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
  });
  console.log(`server on port ${port}; joining ${players} bots…`);

  const bots: Bot[] = [];
  const url = `http://localhost:${port}`;
  for (let i = 0; i < players; i += 8) {
    const batch = await Promise.all(Array.from({ length: Math.min(8, players - i) }, (_, k) =>
      new Client(url).joinOrCreate("world", { name: `bot${i + k}` })));
    for (const room of batch) {
      const bot: Bot = { room, seq: 0, yaw: Math.random() * 2 * Math.PI, run: false, nextTurn: 0, nextChat: Date.now() + Math.random() * 5000, patchBytes: 0, allBytes: 0 };
      const events = room.connection.events;
      const original = events.onmessage!;
      events.onmessage = (event: MessageEvent) => {
        const data = event.data as ArrayBuffer;
        const bytes = new Uint8Array(data);
        bot.allBytes += bytes.byteLength;
        if (bytes[0] === ROOM_STATE_PATCH || bytes[0] === ROOM_STATE) bot.patchBytes += bytes.byteLength;
        original(event);
      };
      room.onMessage("chat", () => undefined);
      room.onMessage("rejected", (m: { reason: string }) => console.warn(`bot rejected: ${m.reason}`));
      bots.push(bot);
    }
  }
  console.log(`${bots.length} bots joined; warming up ${warmup} s`);

  // One 30 Hz loop drives every bot: wander, sometimes run or jump, chat every ~5 s.
  const loop = setInterval(() => {
    const now = Date.now();
    for (const bot of bots) {
      wander(bot, bot.room.state?.players?.get(bot.room.sessionId) as { x: number; z: number } | undefined, now / 1000, Math.random);
      bot.room.send("move", { seq: ++bot.seq, forward: 1, right: 0, run: bot.run, jump: Math.random() < 0.01, yaw: bot.yaw });
      if (now >= bot.nextChat) {
        bot.room.send("chat", { text: `hello from ${bot.room.sessionId}` });
        bot.nextChat = now + 4000 + Math.random() * 2000;
      }
    }
  }, 1000 / MOVEMENT.tickHz);

  await new Promise((r) => setTimeout(r, warmup * 1000));
  child.send({ kind: "reset" });
  for (const bot of bots) { bot.patchBytes = 0; bot.allBytes = 0; }
  const started = Date.now();
  for (let s = 1; s <= seconds; s++) {
    await new Promise((r) => setTimeout(r, Math.max(0, started + s * 1000 - Date.now())));
    if (s % 5 === 0 || s === seconds) {
      const st = await request(child, "stats");
      const elapsed = (Date.now() - started) / 1000;
      const kBps = bots.reduce((a, b) => a + b.patchBytes, 0) / bots.length / elapsed / 1024;
      console.log(`t=${s}/${seconds} s (ETA ${Math.round(seconds - s)} s): tick p50 ${st.tickP50.toFixed(3)} ms p99 ${st.tickP99.toFixed(3)} ms, CPU p50 ${st.tickCpuP50.toFixed(3)} p99 ${st.tickCpuP99.toFixed(3)} ms (${(st.ticks / elapsed).toFixed(1)} ticks/s, server CPU ${(st.cpuMs / 10 / elapsed).toFixed(0)}% of a core); patch p99 ${st.patchP99.toFixed(3)} ms; ${kBps.toFixed(1)} KiB/s per client`);
    }
  }
  const elapsed = (Date.now() - started) / 1000;
  clearInterval(loop);
  const st = await request(child, "stats");
  const perClient = (key: "patchBytes" | "allBytes") => Math.round(bots.reduce((a, b) => a + b[key], 0) / bots.length / elapsed);
  await Promise.all(bots.map((b) => b.room.leave().catch(() => undefined)));
  child.send({ kind: "stop" });
  const round = (x: number) => Math.round(x * 1000) / 1000;
  console.log(JSON.stringify({
    players: bots.length,
    npcs: 5,
    tick_hz: MOVEMENT.tickHz,
    tick_p50_ms: round(st.tickP50),
    tick_p99_ms: round(st.tickP99),
    tick_max_ms: round(st.tickMax),
    tick_cpu_p50_ms: round(st.tickCpuP50),
    tick_cpu_p99_ms: round(st.tickCpuP99),
    tick_cpu_max_ms: round(st.tickCpuMax),
    tick_sections_mean_ms: Object.fromEntries(Object.entries(st.sections).map(([k, v]) => [k, round(v)])),
    gc_count: st.gcCount,
    gc_total_ms: round(st.gcTotalMs),
    gc_max_ms: round(st.gcMaxMs),
    ticks_with_gc: st.ticksWithGc,
    tick_p99_without_gc_ms: round(st.tickP99NoGc),
    ticks_per_s: round(st.ticks / elapsed),
    ticks: st.ticks,
    patch_p50_ms: round(st.patchP50),
    patch_p99_ms: round(st.patchP99),
    tick_plus_patch_p99_ms: round(st.tickP99 + st.patchP99),
    patch_bytes_per_client_s: perClient("patchBytes"),
    server_cpu_share: round(st.cpuMs / 1000 / elapsed),
    all_bytes_per_client_s: perClient("allBytes"),
    seconds: round(elapsed),
    load_avg_1m_start: round(loadAtStart),
    load_avg_1m_end: round(os.loadavg()[0]),
    cores: os.cpus().length,
    processes: "server in a child process; bots in the parent at nice 10",
    cores_placement: plan ? `server JS thread alone on core ${plan.server}; its helper threads and the bots on ${plan.others}` : "shared (no pinning)",
  }));
  process.exit(0);
}

if (process.argv.includes("--serve")) await serve();
else await main();
