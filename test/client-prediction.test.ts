import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { parseScene } from "../core/scene/load.ts";
import { buildPhysicsWorld, CharacterBody, initPhysics, MOVEMENT, type MoveInput } from "../core/movement/index.ts";
import { LocalPlayer, type ServerPose } from "../client/game/local-player.ts";
import { Obstacles } from "../client/game/obstacles.ts";
import { NpcState, PlayerState, WorldState } from "../core/state/index.ts";

// Client prediction against a server-like simulation on a real Rapier world of the village:
// the server applies each input one tick after another and reports lastInput late (latency);
// the client predicts and reconciles. Agreeing rules must give the same end position, and
// a server that disagrees (a teleport) must win after reconciliation.

const village = parseScene(JSON.parse(readFileSync(new URL("../scenes/village.json", import.meta.url), "utf8")), "scenes/village.json");
const DT = 1 / MOVEMENT.tickHz;

beforeAll(async () => { await initPhysics(); });

function serverSim(start: number[]) {
  const physics = buildPhysicsWorld(village);
  const body = new CharacterBody(physics, start, 0);
  const history: ServerPose[] = [];
  return {
    body,
    apply(seq: number, input: MoveInput) {
      body.step(input, DT);
      physics.world.step();
      const f = body.feet();
      history.push({ x: f.x, y: f.y, z: f.z, yaw: body.yaw, lastInput: seq });
    },
    history,
  };
}

function inputs(n: number): MoveInput[] {
  // Walk north, turn, run east, jump once, then stop.
  return Array.from({ length: n }, (_, i) => ({
    forward: i < n - 15 ? 1 : 0, right: 0, run: i > 30, jump: i === 40,
    yaw: i < 25 ? 0 : Math.PI / 2 * Math.min(1, (i - 25) / 10),
  }));
}

describe("LocalPlayer prediction on the village", () => {
  it("matches the server's end position with 4 ticks of latency", () => {
    const spawn = village.spawns[0].position;
    const server = serverSim(spawn);
    // Settle on the ground first, as the server does before it reports our first state.
    for (let i = 0; i < 5; i++) server.apply(0, { forward: 0, right: 0, run: false, jump: false, yaw: 0 });
    const first = server.history[server.history.length - 1];
    const client = new LocalPlayer(buildPhysicsWorld(village), { ...first, lastInput: 0 });
    const list = inputs(80);
    const LAG = 4;
    list.forEach((input, i) => {
      const msg = client.input(input);
      server.apply(msg.seq, input);
      // The patch the client sees now is LAG ticks old.
      const seen = server.history[server.history.length - 1 - LAG];
      if (i % 3 === 0 && seen.lastInput > 0) client.reconcile(seen);
    });
    client.reconcile(server.history[server.history.length - 1]);
    const end = server.history[server.history.length - 1];
    const me = client.state.feet;
    expect(Math.hypot(me[0] - end.x, me[1] - end.y, me[2] - end.z)).toBeLessThan(0.05);
    // It really moved: walked ~3 m north then ran east.
    expect(Math.hypot(end.x - spawn[0], end.z - spawn[2])).toBeGreaterThan(5);
    expect(client.pending).toBe(0);
    // Same rules on the same world: the server agreed with nearly every prediction.
    console.log(`reconciliations that replayed: ${client.corrections}`);
    expect(client.corrections).toBeLessThanOrEqual(2);
  });

  it("accepts the server's word when it disagrees (e.g. a respawn)", () => {
    const spawn = village.spawns[0].position;
    const client = new LocalPlayer(buildPhysicsWorld(village), { x: spawn[0], y: spawn[1], z: spawn[2], yaw: 0, lastInput: 0 });
    for (let i = 0; i < 10; i++) client.input({ forward: 1, right: 0, run: false, jump: false, yaw: 0 });
    // Server says: input 10 applied, and you are somewhere else entirely.
    client.reconcile({ x: 5, y: 0, z: 5, yaw: 1, lastInput: 10 });
    expect(client.state.feet[0]).toBeCloseTo(5, 1);
    expect(client.state.feet[2]).toBeCloseTo(5, 1);
    expect(client.pending).toBe(0);
    // A jump this large is snapped, not smoothed.
    const drawn = client.drawPosition(1 / 60);
    expect(Math.hypot(drawn[0] - 5, drawn[2] - 5)).toBeLessThan(0.1);
  });

  it("predicts bumping into other characters (their capsules are in our world)", () => {
    const physics = buildPhysicsWorld(village);
    const state = new WorldState();
    const npc = new NpcState();
    Object.assign(npc, { id: "stranger", name: "Stranger", role: "guard", x: 0, y: 0, z: -4 });
    state.npcs.set("stranger", npc);
    const me = new PlayerState();
    Object.assign(me, { id: "me", name: "Me", x: 0, y: 0.05, z: -6 });
    state.players.set("me", me);
    const obstacles = new Obstacles(physics);
    obstacles.sync(state, "me");
    expect(obstacles.count).toBe(1); // the NPC, not ourselves
    const client = new LocalPlayer(physics, { x: 0, y: 0.05, z: -6, yaw: 0, lastInput: 0 });
    for (let i = 0; i < 60; i++) client.input({ forward: 1, right: 0, run: false, jump: false, yaw: 0 });
    // Two capsules of radius 0.35 stop ~0.7 m apart (the controller may slide a little
    // sideways). Without the NPC we would walk on to the well at the origin (z ≈ -1.4).
    const [x, , z] = client.state.feet;
    expect(Math.hypot(x - 0, z - -4)).toBeGreaterThan(0.6);
    expect(z).toBeLessThan(-4.5);
    state.npcs.delete("stranger");
    obstacles.sync(state, "me");
    expect(obstacles.count).toBe(0);
  });

  it("predicts passing through other players, as the server does", () => {
    const physics = buildPhysicsWorld(village);
    const state = new WorldState();
    const other = new PlayerState();
    Object.assign(other, { id: "other", name: "Other", x: 0, y: 0.05, z: -4 });
    state.players.set("other", other);
    const obstacles = new Obstacles(physics);
    obstacles.sync(state, "me");
    expect(obstacles.count).toBe(1);
    const client = new LocalPlayer(physics, { x: 0, y: 0.05, z: -6, yaw: 0, lastInput: 0 });
    for (let i = 0; i < 30; i++) client.input({ forward: 1, right: 0, run: false, jump: false, yaw: 0 });
    // One second at walking speed carries us through the other player's spot at z = -4.
    const [, , z] = client.state.feet;
    expect(z).toBeGreaterThan(-3.5);
  });
});
