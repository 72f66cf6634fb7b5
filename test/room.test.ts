// The world room end to end: a real Colyseus server on a free port, real @colyseus/sdk clients.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client, type Room } from "@colyseus/sdk";
import fc from "fast-check";
import { parseScene } from "../core/scene/load.ts";
import { CLOSE_KICKED_FOR_ABUSE, type ChatEvent, type RejectedEvent } from "../core/protocol/index.ts";
import { WorldState } from "../core/state/world-state.ts";
import { createKithServer, type KithServer } from "../server/kith-server.ts";

// Small arena: all spawns within 3 m of each other, a wall to the north, two NPCs.
const scene = parseScene({
  name: "arena",
  ground: { size: [60, 60] },
  objects: [
    { id: "wall", name: "wall", shape: { kind: "box", size: [20, 3, 0.5] }, position: [0, 1.5, -12] },
    { id: "crate", name: "crate", tags: ["crate"], shape: { kind: "box", size: [1, 1, 1] }, position: [10, 0.5, 10], movable: true },
  ],
  spawns: [{ position: [0, 0, 0] }, { position: [2, 0, 0] }, { position: [-2, 0, 1] }],
  npcs: [
    { id: "brom", character: "brom", name: "Brom Ironhand", role: "blacksmith", position: [5, 0, 5] },
    { id: "aldric", character: "aldric", name: "Aldric Thorne", role: "guard", position: [-10, 0, 10],
      waypoints: [[-10, 0, 10], [-10, 0, 16]] },
  ],
}, "arena.json");

const EARSHOT = 6;
let kith: KithServer;
const logs: string[] = [];

beforeAll(async () => {
  kith = await createKithServer({ port: 0, scene, earshot: EARSHOT, reconnectSeconds: 5, log: (l) => logs.push(l) });
});
afterAll(async () => { await kith?.close(); });

type WorldRoom = Room<any, WorldState>;

async function join(name?: string): Promise<WorldRoom> {
  const room = await new Client(kith.url).joinOrCreate("world", name ? { name } : {}, WorldState);
  room.reconnection.enabled = false;
  await until(room, (s) => s.players.has(room.sessionId));
  return room;
}

/** Resolves when `check(state)` holds after some patch; fails after `ms`. */
function until(room: WorldRoom, check: (s: WorldState) => boolean, ms = 8000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (room.state && check(room.state)) return resolve();
    const timer = setTimeout(() => { off(); reject(new Error("condition not met before timeout")); }, ms);
    const handler = (s: WorldState) => { if (check(s)) { clearTimeout(timer); off(); resolve(); } };
    const off = () => room.onStateChange.remove(handler);
    room.onStateChange(handler);
  });
}

/** Collects messages of `type` into an array as they arrive. */
function collect<T>(room: WorldRoom, type: string): T[] {
  const out: T[] = [];
  room.onMessage(type, (m: T) => out.push(m));
  return out;
}

function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const poll = () => {
      if (check()) return resolve();
      if (Date.now() - start > ms) return reject(new Error("condition not met before timeout"));
      setTimeout(poll, 20);
    };
    poll();
  });
}

/** Sends `ticks` move inputs at 30 Hz. */
async function drive(room: WorldRoom, input: { forward?: number; right?: number; run?: boolean; yaw?: number }, ticks: number, seq: { n: number }) {
  for (let i = 0; i < ticks; i++) {
    room.send("move", { seq: ++seq.n, forward: input.forward ?? 0, right: input.right ?? 0, run: input.run ?? false, jump: false, yaw: input.yaw ?? 0 });
    await new Promise((r) => setTimeout(r, 1000 / 30));
  }
}

const me = (room: WorldRoom) => room.state.players.get(room.sessionId)!;

describe("world room", () => {
  it("joins: state has the player, the NPCs and the movable props", async () => {
    const room = await join("Ada");
    expect(me(room).name).toBe("Ada");
    expect([...room.state.npcs.keys()].sort()).toEqual(["aldric", "brom"]);
    expect(room.state.npcs.get("brom")!.name).toBe("Brom Ironhand");
    expect(room.state.props.has("crate")).toBe(true);
    expect(room.state.props.has("wall")).toBe(false);
    // The guard patrols: his position changes over patches.
    const z0 = room.state.npcs.get("aldric")!.z;
    await until(room, (s) => Math.abs(s.npcs.get("aldric")!.z - z0) > 0.3);
    expect(room.state.npcs.get("aldric")!.state).toBe("patrol");
    await room.leave();
  });

  it("refuses a bad join name with a clear error", async () => {
    await expect(new Client(kith.url).joinOrCreate("world", { name: "x".repeat(200) })).rejects.toThrow(/name/);
  });

  it("moves: inputs change the position, lastInput acknowledges them, another client sees it", async () => {
    const a = await join("A");
    const b = await join("B");
    await until(b, (s) => s.players.has(a.sessionId));
    const start = { x: me(a).x, z: me(a).z };
    const seq = { n: 0 };
    await drive(a, { forward: 1, yaw: Math.PI }, 20, seq); // toward -z, away from the other spawns
    await until(a, (s) => s.players.get(a.sessionId)!.lastInput === seq.n);
    await until(b, (s) => s.players.get(a.sessionId)!.z < start.z - 1.5);
    const seen = b.state.players.get(a.sessionId)!;
    expect(Math.abs(seen.x - start.x)).toBeLessThan(0.3);
    expect(Math.abs(seen.yaw)).toBeCloseTo(Math.PI, 3);
    await until(b, (s) => s.players.get(a.sessionId)!.anim === "idle");
    await a.leave();
    await until(b, (s) => !s.players.has(a.sessionId));
    await b.leave();
  });

  it("a wall stops a player (server authoritative)", async () => {
    const a = await join();
    const seq = { n: 0 };
    await drive(a, { forward: 1, run: true, yaw: Math.PI }, 75, seq); // toward -z, the wall's face at z = -11.75
    await until(a, (s) => s.players.get(a.sessionId)!.lastInput === seq.n);
    expect(me(a).z).toBeGreaterThan(-11.75);
    expect(me(a).z).toBeLessThan(-10.5);
    await a.leave();
  });

  it("chat reaches players within earshot, with the distance, and not those beyond", async () => {
    const a = await join("Talker");
    const b = await join("Near");
    const heardByA = collect<ChatEvent>(a, "chat");
    const heardByB = collect<ChatEvent>(b, "chat");
    a.send("chat", { text: "  hello there  " });
    await waitFor(() => heardByB.length === 1 && heardByA.length === 1);
    expect(heardByB[0]).toMatchObject({ from: a.sessionId, name: "Talker", text: "hello there" });
    expect(heardByB[0].distance).toBeGreaterThan(0);
    expect(heardByB[0].distance).toBeLessThanOrEqual(EARSHOT);
    expect(heardByA[0].distance).toBe(0);
    // B runs away beyond earshot, then A speaks again: only A hears it.
    const seq = { n: 0 };
    await drive(b, { forward: 1, run: true, yaw: 0 }, 40, seq);
    await until(a, (s) => {
      const pa = s.players.get(a.sessionId)!, pb = s.players.get(b.sessionId)!;
      return Math.hypot(pa.x - pb.x, pa.z - pb.z) > EARSHOT + 1;
    });
    a.send("chat", { text: "anyone?" });
    await waitFor(() => heardByA.length === 2);
    b.send("chat", { text: "ping" }); // a round trip on B's socket, after A's line would have arrived
    await waitFor(() => heardByB.some((m) => m.text === "ping"));
    expect(heardByB.map((m) => m.text)).toEqual(["hello there", "ping"]);
    await a.leave();
    await b.leave();
  });

  it("reconnects after a dropped connection and keeps the player's place", async () => {
    const client = new Client(kith.url);
    const a = await client.joinOrCreate("world", { name: "Drop" }, WorldState);
    a.reconnection.enabled = false;
    await until(a, (s) => s.players.has(a.sessionId));
    const seq = { n: 0 };
    await drive(a, { forward: 1, yaw: Math.PI }, 15, seq);
    await until(a, (s) => s.players.get(a.sessionId)!.lastInput === seq.n && s.players.get(a.sessionId)!.anim === "idle");
    const before = { x: me(a).x, z: me(a).z };
    const token = a.reconnectionToken;
    const sessionId = a.sessionId;
    const watcher = await join("Watcher");
    await a.leave(false); // non-consented: the server keeps the place
    await new Promise((r) => setTimeout(r, 500));
    expect(watcher.state.players.has(sessionId)).toBe(true);
    const back = await client.reconnect(token, WorldState);
    expect(back.sessionId).toBe(sessionId);
    await until(back, (s) => s.players.has(sessionId));
    const p = back.state.players.get(sessionId)!;
    expect(p.x).toBeCloseTo(before.x, 1);
    expect(p.z).toBeCloseTo(before.z, 1);
    expect(p.name).toBe("Drop");
    // The reconnected client can still move (a fresh input seq is accepted since seq keeps increasing).
    await drive(back, { forward: 1, yaw: Math.PI }, 10, seq);
    await until(back, (s) => s.players.get(sessionId)!.z < before.z - 0.5);
    await back.leave();
    await until(watcher, (s) => !s.players.has(sessionId));
    await watcher.leave();
  });

  it("a dropped player who does not come back is removed after the reconnection window", async () => {
    const a = await join("Gone");
    const watcher = await join("Watcher");
    const id = a.sessionId;
    await a.leave(false);
    await new Promise((r) => setTimeout(r, 1000));
    expect(watcher.state.players.has(id)).toBe(true);
    await until(watcher, (s) => !s.players.has(id), 10_000);
    await watcher.leave();
  }, 20_000);
});

describe("bad input", () => {
  it("rejects every kind of bad message with a reason and keeps working", async () => {
    const bad = await join("Bad");
    const good = await join("Good");
    const rejected = collect<RejectedEvent>(bad, "rejected");
    const start = me(bad);
    const before = { x: start.x, y: start.y, z: start.z };
    const cases: Array<[string | number, unknown, RegExp]> = [
      ["mvoe", { seq: 1 }, /unknown message type "mvoe" — did you mean "move"/],
      [42, {}, /unknown message type/],
      ["move", { seq: 1, forward: NaN, right: 0, run: false, jump: false, yaw: 0 }, /move\.forward/],
      ["move", { seq: 2, forward: 1, right: 0, run: false, jump: false, yaw: Infinity }, /move\.yaw/],
      ["move", { seq: 3, forward: 5, right: 0, run: false, jump: false, yaw: 0 }, /move\.forward/],
      ["move", { seq: 4, forward: 1, right: 0, run: "yes", jump: false, yaw: 0 }, /move\.run/],
      ["move", "fast", /move: .*object/],
      ["move", { seq: 5, forward: 1, right: 0, run: false, jump: false, yaw: 0, teleport: [0, 99, 0] }, /teleport|Unrecognized/],
      ["chat", { text: "" }, /empty/],
      ["chat", { text: "bell\u0007" }, /control characters/],
      ["chat", { text: "x".repeat(281) }, /longer than 280/],
      ["chat", { text: "x".repeat(5000) }, /too large/],
      ["chat", undefined, /chat: .*object/],
    ];
    for (const [type, payload] of cases) bad.send(type as string, payload);
    await waitFor(() => rejected.length === cases.length).catch(() => { throw new Error(`got ${rejected.length}: ${JSON.stringify(rejected)}`); });
    cases.forEach(([, , pattern], i) => expect(rejected[i].reason).toMatch(pattern));
    expect(logs.some((l) => l.includes(bad.sessionId) && l.includes("mvoe"))).toBe(true);
    // State is untouched by the bad moves (the player stood still).
    await new Promise((r) => setTimeout(r, 200));
    expect(Math.hypot(me(bad).x - before.x, me(bad).z - before.z)).toBeLessThan(0.05);
    expect(Number.isFinite(me(bad).x) && Number.isFinite(me(bad).y) && Number.isFinite(me(bad).yaw)).toBe(true);
    // Both clients still work.
    const seq = { n: 100 };
    await drive(bad, { forward: 1, yaw: 0 }, 10, seq);
    await until(good, (s) => s.players.get(bad.sessionId)!.z > before.z + 0.5);
    const heard = collect<ChatEvent>(good, "chat");
    await new Promise((r) => setTimeout(r, 1100)); // the bad chats used up the chat bucket (1/s refill)
    bad.send("chat", { text: "still here" });
    await waitFor(() => heard.length === 1);
    await bad.leave();
    await good.leave();
  });

  it("rejects stale input sequence numbers", async () => {
    const a = await join();
    const rejected = collect<RejectedEvent>(a, "rejected");
    a.send("move", { seq: 10, forward: 0, right: 0, run: false, jump: false, yaw: 0 });
    a.send("move", { seq: 10, forward: 1, right: 0, run: false, jump: false, yaw: 0 });
    await waitFor(() => rejected.length === 1);
    expect(rejected[0].reason).toMatch(/not newer/);
    await a.leave();
  });

  it("rate-limits a chat flood, then lets the client speak again", async () => {
    const a = await join("Flood");
    const rejected = collect<RejectedEvent>(a, "rejected");
    const heard = collect<ChatEvent>(a, "chat");
    for (let i = 0; i < 30; i++) a.send("chat", { text: `spam ${i}` });
    await waitFor(() => rejected.length >= 5 && heard.length === 5);
    expect(rejected[0].reason).toMatch(/rate limit/);
    await new Promise((r) => setTimeout(r, 1500));
    expect(heard.length).toBe(5); // the flood was dropped, not queued
    a.send("chat", { text: "calm now" });
    await waitFor(() => heard.some((m) => m.text === "calm now"));
    await a.leave();
  });

  it("kicks a client after sustained abuse; others are unaffected", async () => {
    const abuser = await join("Abuser");
    const good = await join("Good");
    const closed = new Promise<number>((resolve) => abuser.onLeave((code) => resolve(code)));
    for (let i = 0; i < 300; i++) abuser.send("nonsense", { i });
    expect(await closed).toBe(CLOSE_KICKED_FOR_ABUSE);
    await until(good, (s) => !s.players.has(abuser.sessionId));
    expect(logs.some((l) => l.includes(`kicked ${abuser.sessionId}`))).toBe(true);
    const seq = { n: 0 };
    const z0 = me(good).z;
    await drive(good, { forward: 1, yaw: 0 }, 10, seq);
    await until(good, (s) => s.players.get(good.sessionId)!.z > z0 + 0.5);
    await good.leave();
  });

  it("survives protocol-level junk and oversized frames", async () => {
    const junk = await join("Junk");
    const good = await join("Good");
    const junkClosed = new Promise<number>((resolve) => junk.onLeave((code) => resolve(code)));
    const ROOM_DATA = 13;
    // A ROOM_DATA frame whose msgpack body is garbage: Colyseus drops that client (code 4002).
    junk.connection.send(new Uint8Array([ROOM_DATA, 0xa4, 0x6d, 0x6f, 0x76, 0x65, 0xc1, 0xc1, 0xc1]));
    expect(await junkClosed).toBeGreaterThanOrEqual(1000);
    // A frame with an unknown protocol code, and one whose type string runs past the end.
    const odd = await join("Odd");
    const oddClosed = new Promise<number>((resolve) => odd.onLeave((code) => resolve(code)));
    odd.connection.send(new Uint8Array([250, 1, 2, 3]));
    odd.connection.send(new Uint8Array([ROOM_DATA, 0xd9, 0xff, 0x01]));
    // A frame over the socket's limit (64 KiB) closes that socket (1009).
    odd.send("chat", { text: "x".repeat(100_000) });
    expect(await oddClosed).toBeGreaterThanOrEqual(1000);
    // The server and the room still serve others; the dropped clients leave the state in time.
    const seq = { n: 0 };
    const z0 = me(good).z;
    await drive(good, { forward: 1, yaw: 0 }, 10, seq);
    await until(good, (s) => s.players.get(good.sessionId)!.z > z0 + 0.5);
    const res = await fetch(`${kith.url}/healthz`);
    expect(res.status).toBe(200);
    await good.leave();
  });
});

describe("fuzz", () => {
  it("random frames and random payloads never crash the server or corrupt state", async () => {
    const good = await join("Steady");
    const rng = fc.sample(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 64 }), { numRuns: 120, seed: 7 });
    const payloads = fc.sample(fc.anything(), { numRuns: 120, seed: 11 });
    for (let batch = 0; batch < 4; batch++) {
      const fuzz = await join(`Fuzz${batch}`);
      fuzz.onMessage("rejected", () => undefined);
      for (let i = batch * 30; i < batch * 30 + 30; i++) {
        fuzz.send(["move", "chat", "x"][i % 3], payloads[i]);
        // Frames keep the protocol byte of ROOM_DATA half the time, so they reach the message decoder.
        const frame = Uint8Array.from(rng[i]);
        if (i % 2 === 0) frame[0] = 13;
        try { fuzz.connection.send(frame); } catch { break; } // the server may have dropped it already
      }
      await new Promise((r) => setTimeout(r, 150));
    }
    const seq = { n: 0 };
    const z0 = me(good).z;
    await drive(good, { forward: 1, yaw: 0 }, 10, seq);
    await until(good, (s) => s.players.get(good.sessionId)!.z > z0 + 0.5);
    for (const p of good.state.players.values()) {
      expect([p.x, p.y, p.z, p.yaw].every(Number.isFinite), p.name).toBe(true);
    }
    expect((await fetch(`${kith.url}/healthz`)).status).toBe(200);
    await good.leave();
  }, 60_000);
});

describe("http", () => {
  it("serves /healthz, scenes and refuses paths outside the folders", async () => {
    const health = await (await fetch(`${kith.url}/healthz`)).json();
    expect(health).toMatchObject({ ok: true, scene: "arena" });
    // The scene the server runs, which the client draws by default.
    const running = await (await fetch(`${kith.url}/scene.json`)).json();
    expect(running.name).toBe("arena");
    expect(running.objects.length).toBe(scene.objects.length);
    const village = await fetch(`${kith.url}/scenes/village.json`);
    expect(village.status).toBe(200);
    expect((await village.json()).name).toBe("Oakhollow");
    expect((await fetch(`${kith.url}/scenes/..%2fpackage.json`)).status).toBe(403);
    expect((await fetch(`${kith.url}/assets/nope.glb`)).status).toBe(404);
    const page = await fetch(`${kith.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
  });
});
