// The server's world simulation without the network: NPC behaviour, respawn, props in state.
import { beforeAll, describe, expect, it } from "vitest";
import { initPhysics } from "../core/movement/world.ts";
import { parseScene } from "../core/scene/load.ts";
import { WorldSimulation } from "../server/world/simulation.ts";
import { MAX_QUEUED_INPUTS } from "../server/world/player-agent.ts";

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

  it("applies one input per tick, acknowledges it, and bounds the queue", () => {
    const sim = new WorldSimulation(scene());
    const p = sim.addPlayer("p", "P");
    const first = seq + 1;
    for (let i = 0; i < 20; i++) expect(sim.queueInput("p", move(Math.PI))).toBeUndefined();
    expect(sim.queueInput("p", { ...move(0), seq: first })).toMatch(/not newer/);
    sim.tick();
    // Only the newest MAX_QUEUED_INPUTS were kept; the first applied is the oldest of those.
    expect(p.state.lastInput).toBe(first + 20 - MAX_QUEUED_INPUTS);
    for (let i = 0; i < MAX_QUEUED_INPUTS; i++) sim.tick();
    expect(p.state.lastInput).toBe(first + 19);
    expect(p.state.z).toBeLessThan(-0.5);
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
