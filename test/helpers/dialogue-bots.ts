// Bot helpers for the dialogue suites: join the world, walk up to an NPC, collect NPC events.
import { Client, type Room } from "@colyseus/sdk";
import type { NpcActionEvent, NpcReplyEvent, NpcThinkingEvent, NpcTokenEvent, RejectedEvent } from "../../core/protocol/index.ts";
import { parseScene } from "../../core/scene/load.ts";
import { WorldState } from "../../core/state/world-state.ts";

export type Bot = Room<any, WorldState> & { seq: { n: number } };

export interface Heard {
  thinking: NpcThinkingEvent[];
  tokens: NpcTokenEvent[];
  replies: NpcReplyEvent[];
  actions: NpcActionEvent[];
  rejected: RejectedEvent[];
  /** "thinking <reply>" / "reply <reply>" in arrival order. */
  order: string[];
}

export async function joinBot(url: string, options: Record<string, unknown> = {}): Promise<Bot> {
  const room = (await new Client(url).joinOrCreate("world", options, WorldState)) as Bot;
  room.reconnection.enabled = false;
  room.seq = { n: 0 };
  room.onMessage("chat", () => undefined);
  await waitFor(() => room.state?.players?.has(room.sessionId) === true, 8000);
  return room;
}

export function listen(room: Bot): Heard {
  const h: Heard = { thinking: [], tokens: [], replies: [], actions: [], rejected: [], order: [] };
  room.onMessage("npc_thinking", (m: NpcThinkingEvent) => { h.thinking.push(m); h.order.push(`thinking ${m.reply}`); });
  room.onMessage("npc_token", (m: NpcTokenEvent) => h.tokens.push(m));
  room.onMessage("npc_reply", (m: NpcReplyEvent) => { h.replies.push(m); h.order.push(`reply ${m.reply}`); });
  room.onMessage("npc_action", (m: NpcActionEvent) => h.actions.push(m));
  room.onMessage("rejected", (m: RejectedEvent) => h.rejected.push(m));
  return h;
}

export function waitFor(check: () => boolean, ms = 10_000, what = "condition"): Promise<void> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const poll = () => {
      if (check()) return resolve();
      if (Date.now() - start > ms) return reject(new Error(`${what} not met within ${ms} ms`));
      setTimeout(poll, 20);
    };
    poll();
  });
}

/** Text of one reply as streamed (its npc_token pieces in order). */
export function streamed(h: Heard, reply: string): string {
  return h.tokens.filter((t) => t.reply === reply).map((t) => t.text).join("");
}

/** Walks the bot toward (x, z) at 30 Hz until it is within `stop` m; fails after `ms`. */
export async function walkTo(bot: Bot, x: number, z: number, stop: number, ms = 15_000): Promise<void> {
  const start = Date.now();
  for (;;) {
    const me = bot.state.players.get(bot.sessionId)!;
    const dx = x - me.x, dz = z - me.z;
    const yaw = Math.atan2(dx, dz);
    if (Math.hypot(dx, dz) <= stop) {
      // Stop, still facing the target (a few ticks so the server applies the last yaw).
      for (let i = 0; i < 5; i++) {
        bot.send("move", { seq: ++bot.seq.n, forward: 0, right: 0, run: false, jump: false, yaw });
        await sleep(1000 / 30);
      }
      return;
    }
    if (Date.now() - start > ms) throw new Error(`bot did not reach (${x}, ${z}) within ${ms} ms; at (${me.x.toFixed(2)}, ${me.z.toFixed(2)})`);
    bot.send("move", { seq: ++bot.seq.n, forward: 1, right: 0, run: false, jump: false, yaw });
    await sleep(1000 / 30);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A bare 40 m yard with one spawn at the origin and Brom 5 m ahead, facing it. */
export function bromYard() {
  return parseScene({
    name: "yard",
    ground: { size: [40, 40] },
    objects: [],
    spawns: [{ position: [0, 0, 0] }],
    npcs: [{ id: "brom", character: "brom", name: "Brom Ironhand", role: "blacksmith", position: [0, 0, 5], facing: Math.PI }],
  }, "yard.json");
}
