// The server's world simulation without the network: NPC behaviour, respawn, props in state.
import { beforeAll, describe, expect, it } from "vitest";
import { initPhysics } from "../core/movement/world.ts";
import { parseScene } from "../core/scene/load.ts";
import { WorldSimulation } from "../server/world/simulation.ts";
import { MAX_BANKED_TICKS, MAX_INPUTS_PER_TICK, MAX_QUEUED_INPUTS } from "../server/world/player-agent.ts";

const scene = () => parseScene({
  name: "yard",
  ground: { size: [40, 40] },
  objects: [{ id: "crate", name: "crate", shape: { kind: "box", size: [1, 1, 1] }, position: [0, 0.5, 3], movable: true, mass: 15 }],
  spawns: [{ position: [0, 0, 0] }],
  npcs: [
    { id: "idle", character: "idle", name: "Idle", role: "watcher", position: [10, 0, 0], facing: 0 },
    { id: "walker", character: "walker", name: "Walker", role: "guard", position: [-10, 0, -10], speed: 2,
      waypoints: [[-10, 0, -10], [-10, 0, -4]] },
  ],
}, "yard.json");

let seq = 0;
const move = (yaw: number, forward = 1) => ({ seq: ++seq, forward, right: 0, run: false, jump: false, yaw });

beforeAll(async () => { await initPhysics(); });

describe("world simulation", () => {
  it("an idle NPC turns to face a player within 4 m, and not one farther away", () => {
    const sim = new WorldSimulation(scene());
    const p = sim.addPlayer("p", "P");
    for (let i = 0; i < 30; i++) sim.tick();
    expect(sim.state.npcs.get("idle")!.yaw).toBeCloseTo(0, 5); // player 10 m away: no turn
    p.character.teleport([7, 0.05, 0]); // 3 m to the NPC's -x side
    for (let i = 0; i < 30; i++) sim.tick();
    expect(sim.state.npcs.get("idle")!.yaw).toBeCloseTo(-Math.PI / 2, 2); // facing -x
    expect(sim.state.npcs.get("idle")!.state).toBe("idle");
    sim.dispose();
  });

  it("a patrolling NPC walks its waypoints in a loop at its speed", () => {
    const sim = new WorldSimulation(scene());
    const npc = sim.state.npcs.get("walker")!;
    for (let i = 0; i < 45; i++) sim.tick(); // 1.5 s at 2 m/s → 3 m toward the second waypoint
    expect(npc.state).toBe("patrol");
    expect(npc.z).toBeCloseTo(-7, 1);
    expect(npc.yaw).toBeCloseTo(0, 2); // walking +z
    for (let i = 0; i < 90; i++) sim.tick(); // 3 s more: reached (-10, -4) at 3 s and is on its way back
    expect(npc.z).toBeCloseTo(-7, 0);
    expect(Math.abs(npc.yaw)).toBeCloseTo(Math.PI, 1);
    sim.dispose();
  });

  it("a new player keeps its spawn facing until it sends input", () => {
    const facing = 1.78;
    const sim = new WorldSimulation(parseScene({ name: "yard", ground: { size: [40, 40] }, objects: [], spawns: [{ position: [0, 0, 0], facing }] }, "yard.json"));
    const p = sim.addPlayer("p", "P");
    for (let i = 0; i < 10; i++) sim.tick();
    expect(p.state.yaw).toBeCloseTo(facing, 3);
    sim.dispose();
  });

  it("respawns a player who falls below y = -20", () => {
    const sim = new WorldSimulation(scene());
    const p = sim.addPlayer("p", "P");
    p.character.teleport([15, -25, 15]);
    sim.tick();
    expect(p.state.y).toBeGreaterThan(-1);
    expect(Math.hypot(p.state.x, p.state.z)).toBeLessThan(4);
    sim.dispose();
  });

  it("applies one input per tick when inputs arrive one per tick, and acknowledges it", () => {
    const sim = new WorldSimulation(scene());
    const p = sim.addPlayer("p", "P");
    const first = seq + 1;
    for (let i = 0; i < 10; i++) {
      expect(sim.queueInput("p", move(Math.PI))).toBeUndefined();
      sim.tick();
      expect(p.state.lastInput).toBe(first + i);
    }
    expect(sim.queueInput("p", { ...move(0), seq: first })).toMatch(/not newer/);
    expect(p.state.z).toBeLessThan(-0.5);
    sim.dispose();
  });

  it("a burst of inputs (a stalled page or server) is worked off without losing a step", () => {
    // Walls on the way: the burst's steps collide as the one-per-tick steps do.
    const walled = () => parseScene({
      name: "walled", ground: { size: [40, 40] }, spawns: [{ position: [0, 0, 0] }],
      objects: [{ id: "wall", name: "wall", shape: { kind: "box", size: [6, 2, 0.5] }, position: [1, 1, -2.5] }],
    }, "walled.json");
    const inputs = Array.from({ length: 24 }, (_, i) => move(Math.PI - 0.4 + (i > 12 ? 0.8 : 0)));
    const run = (burst: boolean) => {
      const sim = new WorldSimulation(walled());
      const p = sim.addPlayer("p", "P");
      let ticks = 0;
      if (burst) {
        for (const m of inputs) sim.queueInput("p", m);
        while (p.state.lastInput !== inputs.at(-1)!.seq) { sim.tick(); ticks++; }
      } else {
        for (const m of inputs) { sim.queueInput("p", m); sim.tick(); ticks++; }
      }
      for (let i = 0; i < 30; i++) sim.tick(); // held, then coming to rest
      const at = { x: p.state.x, z: p.state.z, ticks };
      sim.dispose();
      return at;
    };
    const steady = run(false), burst = run(true);
    expect(steady.ticks).toBe(24);
    // Up to 4 a tick while the backlog lasts, paid from the banked 15 ticks.
    expect(burst.ticks).toBeLessThanOrEqual(inputs.length - MAX_BANKED_TICKS + 1);
    expect(steady.z).toBeLessThan(-1.5); // walked up to the wall and along it
    expect(steady.z).toBeGreaterThan(-2.4);
    expect(Math.abs(burst.x - steady.x)).toBeLessThan(1e-3);
    expect(Math.abs(burst.z - steady.z)).toBeLessThan(1e-3);
  });

  it("a client sending faster than 30 Hz gains at most the banked half second", () => {
    const walk = (perTick: number) => {
      const sim = new WorldSimulation(scene());
      const p = sim.addPlayer("p", "P");
      const z0 = p.state.z;
      let refused = 0;
      for (let t = 0; t < 90; t++) {
        for (let k = 0; k < perTick; k++) if (sim.queueInput("p", move(Math.PI)) !== undefined) refused++;
        sim.tick();
      }
      const d = z0 - p.state.z;
      sim.dispose();
      return { d, refused };
    };
    const honest = walk(1), fast = walk(2);
    expect(honest.d).toBeGreaterThan(8); // 3 s walking
    expect(fast.d).toBeGreaterThan(honest.d); // the bank was spent...
    expect(fast.d).toBeLessThan(honest.d * (90 + MAX_BANKED_TICKS) / 90 + 0.05); // ...and no more
    expect(fast.refused).toBe(0); // the extra inputs are queued, then dropped oldest first
  });

  it("sending in gaps and bursts gains no more: held ticks are paid from the bank too", () => {
    // Every 5th tick, 5 inputs at once: as many as an honest client, but each gap is filled by
    // held ticks, which would add 3 ticks of movement per gap if holding were free.
    const walk = (every: number) => {
      const sim = new WorldSimulation(scene());
      const p = sim.addPlayer("p", "P");
      const z0 = p.state.z;
      for (let t = 0; t < 90; t++) {
        if (t % every === every - 1) for (let k = 0; k < every; k++) sim.queueInput("p", move(Math.PI));
        sim.tick();
      }
      const d = z0 - p.state.z;
      sim.dispose();
      return d;
    };
    const honest = walk(1), bursty = walk(5);
    expect(honest).toBeGreaterThan(8);
    expect(bursty).toBeLessThan(honest * (90 + MAX_BANKED_TICKS) / 90 + 0.05);
  });

  it("bounds the queue: beyond MAX_QUEUED_INPUTS the oldest are dropped", () => {
    const sim = new WorldSimulation(scene());
    const p = sim.addPlayer("p", "P");
    const first = seq + 1;
    for (let i = 0; i < MAX_QUEUED_INPUTS + 10; i++) expect(sim.queueInput("p", move(Math.PI))).toBeUndefined();
    sim.tick();
    // The oldest 10 were dropped; this tick applied the next MAX_INPUTS_PER_TICK of the backlog.
    expect(p.state.lastInput).toBe(first + 10 + MAX_INPUTS_PER_TICK - 1);
    for (let i = 0; i < MAX_QUEUED_INPUTS; i++) sim.tick();
    expect(p.state.lastInput).toBe(first + MAX_QUEUED_INPUTS + 9);
    sim.dispose();
  });

  it("time the room skipped is banked: a backlog left by a long stall is worked off", () => {
    const sim = new WorldSimulation(scene());
    const p = sim.addPlayer("p", "P");
    // Spend the bank: two inputs a tick until the queue keeps growing.
    for (let t = 0; t < 20; t++) { sim.queueInput("p", move(Math.PI)); sim.queueInput("p", move(Math.PI)); sim.tick(); }
    const before = p.state.lastInput;
    sim.tick();
    expect(p.state.lastInput).toBe(before + 1); // no bank left: one a tick
    sim.skipped(10);
    const banked = p.state.lastInput;
    sim.tick();
    expect(p.state.lastInput).toBe(banked + MAX_INPUTS_PER_TICK);
    sim.dispose();
  });

  it("a pushed crate's new pose is in the replicated state", () => {
    const sim = new WorldSimulation(scene());
    sim.addPlayer("p", "P");
    const prop = sim.state.props.get("crate")!;
    expect(prop.z).toBeCloseTo(3, 2);
    for (let i = 0; i < 90; i++) { sim.queueInput("p", move(0)); sim.tick(); }
    expect(prop.z).toBeGreaterThan(3.5);
    expect(Math.hypot(prop.qx, prop.qy, prop.qz, prop.qw)).toBeCloseTo(1, 3);
    sim.dispose();
  });
});
