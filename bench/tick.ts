// bench:tick — the room's simulation tick alone, in this process: the village, N seeded players
// wandering as bench:world's bots do (straight lines, random turns every 1-4 s, 30% running, a
// jump now and then, back toward the middle beyond 30 m), no network, no Colyseus. Same seed, same
// moves: an A/B of movement code is a comparison of like with like, and a long run shows what a
// crowd does to the tick over minutes (characters collect in corners), which a 20 s bench:world
// run does not. Ticks run back to back, timed one by one.
//   npm run bench:tick -- [--players 64] [--seconds 80] [--seed 3] [--window 20]
// Prints a line per window (p50 / p99 tick, section means) with an ETA; last line: one JSON object.
import { initPhysics, MOVEMENT } from "../core/movement/index.ts";
import type { MoveMessage } from "../core/protocol/messages.ts";
import { mulberry32 } from "../core/runtime/generate/rng.ts";
import { loadSceneFile } from "../server/scene-file.ts";
import { WorldSimulation } from "../server/world/simulation.ts";
import { positiveFlag, wander } from "./shared.ts";

const players = Math.floor(positiveFlag("players", 64));
const seconds = positiveFlag("seconds", 80);
const seed = Math.floor(positiveFlag("seed", 3));
const windowSeconds = positiveFlag("window", 20);

const round = (x: number) => Math.round(x * 1000) / 1000;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function main(): Promise<void> {
  await initPhysics();
  const hz = MOVEMENT.tickHz;
  const sim = new WorldSimulation(loadSceneFile("scenes/village.json"));
  const rng = mulberry32(seed);
  const bots = Array.from({ length: players }, (_, i) => {
    const id = `p${i}`;
    sim.addPlayer(id, id);
    return { id, seq: 0, yaw: rng.next() * 2 * Math.PI, run: false, nextTurn: 0 };
  });
  const total = Math.round(seconds * hz), perWindow = Math.round(windowSeconds * hz);
  const windows: { from_s: number; tick_p50_ms: number; tick_p99_ms: number; inputs_mean_ms: number; step_mean_ms: number }[] = [];
  let win: { tick: number[]; inputs: number[]; step: number[] } = { tick: [], inputs: [], step: [] };
  const all: number[] = [];
  const started = performance.now();
  for (let t = 0; t < total; t++) {
    for (const b of bots) {
      wander(b, sim.positionOf(b.id), t / hz, () => rng.next());
      const move: MoveMessage = { seq: ++b.seq, forward: 1, right: 0, run: b.run, jump: rng.next() < 0.01, yaw: b.yaw };
      sim.queueInput(b.id, move);
    }
    const s = performance.now();
    sim.tick();
    const ms = performance.now() - s;
    all.push(ms);
    win.tick.push(ms);
    win.inputs.push(sim.sections.inputs);
    win.step.push(sim.sections.step);
    if (win.tick.length === perWindow || t === total - 1) {
      const w = { from_s: round(windows.length * windowSeconds), tick_p50_ms: round(pct(win.tick, 0.5)), tick_p99_ms: round(pct(win.tick, 0.99)), inputs_mean_ms: round(mean(win.inputs)), step_mean_ms: round(mean(win.step)) };
      windows.push(w);
      const elapsed = (performance.now() - started) / 1000;
      const eta = Math.round((elapsed / (t + 1)) * (total - t - 1));
      process.stderr.write(`[bench:tick ${elapsed.toFixed(0)}s, ETA ${eta}s] game time ${w.from_s}-${round(w.from_s + win.tick.length / hz)} s: tick p50 ${w.tick_p50_ms} ms, p99 ${w.tick_p99_ms} ms; inputs ${w.inputs_mean_ms} ms, step ${w.step_mean_ms} ms (means)\n`);
      win = { tick: [], inputs: [], step: [] };
    }
  }
  // The first window holds the JIT's warm-up; "after_first_window" is the steady state.
  const rest = all.slice(perWindow);
  console.log(JSON.stringify({
    players, npcs: sim.scene.npcs.length, tick_hz: hz, seconds, seed,
    tick_p50_ms: round(pct(all, 0.5)), tick_p99_ms: round(pct(all, 0.99)), tick_max_ms: round(pct(all, 1)),
    after_first_window: rest.length ? { tick_p50_ms: round(pct(rest, 0.5)), tick_p99_ms: round(pct(rest, 0.99)) } : null,
    windows,
  }));
  sim.dispose();
}

void main();
