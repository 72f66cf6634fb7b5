import { matchMaker } from "@colyseus/core";
import { afterEach, describe, expect, it } from "vitest";
import { Connection, serverAnswered } from "../client/net/connection.ts";
import type { ConnectionState } from "../client/ui/status.ts";
import { WorldState } from "../core/state/index.ts";
import { createKithServer, type KithServer } from "../server/kith-server.ts";

// The client's connection keeper against a real Kith server (the SDK runs in Node too):
// drops come back to the same seat; a restarted server is joined afresh.

let kith: KithServer | null = null;
afterEach(async () => { await kith?.close(); kith = null; });

async function until<T>(what: string, probe: () => T | undefined | null | false, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function keeper(url: string) {
  const states: string[] = [];
  const rooms: Array<{ sessionId: string; fresh: boolean }> = [];
  const conn = new Connection({
    endpoint: url, roomName: "world", joinOptions: { name: "Tess" }, rootSchema: WorldState,
    onState: (s: ConnectionState, detail?: string) => states.push(detail ? `${s} (${detail})` : s),
    onRoom: (room, info) => rooms.push({ sessionId: room.sessionId, fresh: info.fresh }),
  });
  return { conn, states, rooms, last: () => states[states.length - 1] ?? "" };
}

describe("Connection", { timeout: 60_000 }, () => {
  it("comes back to the same seat after the socket drops", async () => {
    kith = await createKithServer({ port: 0, host: "127.0.0.1", log: () => {} });
    const k = keeper(kith.url);
    await k.conn.startAsync();
    expect(k.last()).toBe("connected");
    const id = k.conn.sessionId!;
    // A second player keeps the room open (see the report: an empty room is disposed at once).
    const other = keeper(kith.url);
    await other.conn.startAsync();
    await new Promise((r) => setTimeout(r, 300));
    const [cache] = await matchMaker.query({ name: "world" });
    const client = matchMaker.getLocalRoomById(cache.roomId).clients.getById(id)!;
    (client as unknown as { ref: { terminate(): void } }).ref.terminate();
    await until("reconnecting", () => k.states.some((s) => s.startsWith("reconnecting")));
    await until("connected again", () => k.last() === "connected" && k.states.length > 2);
    expect(k.conn.sessionId).toBe(id);
    expect(k.rooms).toHaveLength(1); // same Room object: the SDK re-opened its socket
    const player = (k.conn.current!.state as InstanceType<typeof WorldState>).players.get(id);
    expect(player?.name).toBe("Tess");
    await k.conn.closeAsync();
    await other.conn.closeAsync();
  });

  it("joins afresh, with the same name, when the server restarts", async () => {
    kith = await createKithServer({ port: 0, host: "127.0.0.1", log: () => {} });
    const port = kith.port;
    const k = keeper(kith.url);
    await k.conn.startAsync();
    const first = k.conn.sessionId!;
    await kith.close();
    await until("not connected", () => k.last() !== "connected");
    kith = await createKithServer({ port, host: "127.0.0.1", log: () => {} });
    await until("connected to the new server", () => k.last() === "connected" && k.rooms.length === 2, 40_000);
    console.log(k.states.join("\n"));
    expect(k.rooms[1].fresh).toBe(true);
    expect(k.conn.sessionId).not.toBe(first);
    const me = await until("our player in the new state", () =>
      (k.conn.current!.state as InstanceType<typeof WorldState>).players?.get(k.conn.sessionId!));
    expect(me.name).toBe("Tess");
    await k.conn.closeAsync();
  });

  it("joins afresh when the seat is gone (a refused token is not retried forever)", async () => {
    // The server keeps no seat for dropped players: the token is refused ("reconnection
    // token invalid" / "room disposed") and the client must join a new room instead.
    kith = await createKithServer({ port: 0, host: "127.0.0.1", reconnectSeconds: 0, log: () => {} });
    const k = keeper(kith.url);
    await k.conn.startAsync();
    const first = k.conn.sessionId!;
    await new Promise((r) => setTimeout(r, 300));
    const [cache] = await matchMaker.query({ name: "world" });
    const client = matchMaker.getLocalRoomById(cache.roomId).clients.getById(first)!;
    (client as unknown as { ref: { terminate(): void } }).ref.terminate();
    await until("a fresh room", () => k.rooms.length === 2 && k.last() === "connected", 40_000);
    expect(k.rooms[1].fresh).toBe(true);
    await k.conn.closeAsync();
  });

  it("tells the server's refusals from network failures", () => {
    expect(serverAnswered(Object.assign(new Error("reconnection token invalid or expired."), { code: 524 }))).toBe(true);
    expect(serverAnswered(new TypeError("Failed to fetch"))).toBe(false);
    expect(serverAnswered(new Error("fetch failed"))).toBe(false);
  });

  it("stops with the server's reason when it refuses the join", async () => {
    kith = await createKithServer({ port: 0, host: "127.0.0.1", log: () => {} });
    const states: string[] = [];
    const conn = new Connection({
      endpoint: kith.url, roomName: "world", joinOptions: { name: "x".repeat(40) }, rootSchema: WorldState,
      onState: (s, detail) => states.push(`${s}: ${detail ?? ""}`), onRoom: () => {},
    });
    await conn.startAsync();
    expect(states[states.length - 1]).toMatch(/^disconnected: the server refused to let us in: .*name/);
    expect(states.filter((s) => s.startsWith("connected"))).toHaveLength(0);
  });

  it("says disconnected and stops after a clean leave", async () => {
    kith = await createKithServer({ port: 0, host: "127.0.0.1", log: () => {} });
    const k = keeper(kith.url);
    await k.conn.startAsync();
    await k.conn.closeAsync();
    await until("disconnected", () => k.last().startsWith("disconnected"));
    await new Promise((r) => setTimeout(r, 500));
    expect(k.rooms).toHaveLength(1);
  });
});
