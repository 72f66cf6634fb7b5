// The `world` room: one per scene instance. Thin shell around WorldSimulation: validates every
// message with core/protocol's one validator, applies rate limits, relays chat within earshot,
// takes NPC views (server/vision/) for the NPCs' replies, keeps a dropped player's place for a
// while, and steps the simulation at a fixed 30 Hz.
import { Room, ServerError, type Client } from "@colyseus/core";
import {
  CLOSE_KICKED_FOR_ABUSE, DEFAULT_LIMITS, parseClientMessage,
  type ChatEvent, type ProtocolLimits, type RejectedEvent,
} from "../core/protocol/index.ts";
import { MOVEMENT } from "../core/movement/rules.ts";
import type { Scene } from "../core/scene/schema.ts";
import type { WorldState } from "../core/state/world-state.ts";
import { readsViews } from "../core/vision/manifest.ts";
import { ClientGuard } from "./client-guard.ts";
import { Conversations } from "./dialogue/conversations.ts";
import type { DialogueRuntime } from "./dialogue/runtime.ts";
import type { TickMetrics } from "./tick-metrics.ts";
import { ViewIntake } from "./vision/view-intake.ts";
import type { ViewStore } from "./vision/view-store.ts";
import type { VisionRuntime } from "./vision/vision-runtime.ts";
import { WorldSimulation } from "./world/simulation.ts";

export interface WorldRoomOptions {
  scene: Scene;
  /** Chat is heard within this distance, m. */
  earshot?: number;
  /** How long a dropped player's place is kept for reconnection, s. */
  reconnectSeconds?: number;
  /** State patch interval, ms (20 Hz default; the simulation runs at 30 Hz regardless). */
  patchMs?: number;
  limits?: ProtocolLimits;
  metrics?: TickMetrics;
  log?: (line: string) => void;
  /** NPC conversations (model, cards, memory); without it NPCs do not answer. */
  dialogue?: DialogueRuntime;
  /** NPC eyes (vision package, projector, pixel encoder); with dialogue, replies use NPC views. */
  vision?: VisionRuntime;
}

/**
 * A line's reply waits at most this long for a view of its NPC still being projected or encoded, ms.
 * Projecting takes well under a millisecond and encoding a picture a few, so the wait is normally
 * that; the bound is for a server so loaded that the vision thread is starved (seen at 250 ms on a
 * 2-core machine running a browser next to the server), where a reply a second later that has seen
 * what the player showed beats a prompt reply that has not.
 */
const VIEW_WAIT_MS = 2000;

export const ROOM_DEFAULTS = { earshot: 20, reconnectSeconds: 20, patchMs: 50, maxClients: 128 } as const;
/** At most this many simulation steps per callback when the loop falls behind. */
const MAX_CATCH_UP_STEPS = 10;
const NAME_PATTERN = /^[^\u0000-\u001f\u007f-\u009f]{1,24}$/;
/** Join option `playerKey`: a stable id the client keeps (memory is keyed by it). */
const PLAYER_KEY_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

export class WorldRoom extends Room<{ state: WorldState }> {
  private sim!: WorldSimulation;
  private earshot: number = ROOM_DEFAULTS.earshot;
  private reconnectSeconds: number = ROOM_DEFAULTS.reconnectSeconds;
  private limits: ProtocolLimits = DEFAULT_LIMITS;
  private metrics?: TickMetrics;
  private log: (line: string) => void = (line) => console.warn(line);
  private readonly guards = new Map<string, ClientGuard>();
  private accumulator = 0;
  private conversations?: Conversations;
  private views?: ViewIntake;
  /** Stable player keys by sessionId (join option `playerKey`, else the lower-cased name). */
  private readonly playerKeys = new Map<string, string>();

  override onCreate(options: WorldRoomOptions): void {
    this.sim = new WorldSimulation(options.scene);
    this.state = this.sim.state;
    this.earshot = options.earshot ?? ROOM_DEFAULTS.earshot;
    this.reconnectSeconds = options.reconnectSeconds ?? ROOM_DEFAULTS.reconnectSeconds;
    this.limits = options.limits ?? DEFAULT_LIMITS;
    this.metrics = options.metrics;
    if (options.log) this.log = options.log;
    this.maxClients = ROOM_DEFAULTS.maxClients;
    this.maxMessagesPerSecond = this.limits.hardMessagesPerSecond;
    this.patchRate = options.patchMs ?? ROOM_DEFAULTS.patchMs;
    this.setMetadata({ scene: options.scene.name });
    if (options.dialogue && options.vision) {
      this.views = new ViewIntake(options.vision, {
        sim: this.sim,
        range: options.dialogue.options.hearing,
        log: (line) => this.log(line),
        reject: (id, reason) => {
          const client = this.clients.getById(id);
          const guard = this.guards.get(id);
          if (client && guard && !guard.kicked) this.reject(client, guard, "npc_view", reason);
        },
      });
    }
    if (options.dialogue) {
      const views = this.views;
      this.conversations = new Conversations(options.dialogue, {
        sim: this.sim,
        earshot: this.earshot,
        clientIds: () => this.clients.map((c) => c.sessionId),
        send: (id, type, payload) => this.clients.getById(id)?.send(type, payload),
        playerKey: (id) => this.playerKeys.get(id),
        log: (line) => this.log(line),
        view: views && (async (npc) => {
          if (!(await views.store.settled(npc, VIEW_WAIT_MS))) {
            this.log(`[vision] ${npc}: a view still in progress after ${VIEW_WAIT_MS} ms; this reply uses the one before it, if fresh`);
          }
          const v = views.store.fresh(npc);
          return v && { image: v.tokens, tokens: views.tokens, adapter: options.vision?.manifest.adapter, ...(v.seen ? { seen: v.seen } : {}) };
        }),
        viewsRead: options.vision ? readsViews(options.vision.manifest) : false,
      });
    }

    // Every message type goes through "*" so unknown types get the same validation and reply.
    this.onMessage("*", (client: Client, type: string | number, payload: unknown) => this.receive(client, type, payload));
    this.setSimulationInterval((deltaMs) => this.advance(deltaMs), 1000 / MOVEMENT.tickHz);
  }

  override onJoin(client: Client, options?: { name?: unknown; playerKey?: unknown }): void {
    let name = `Player ${client.sessionId.slice(0, 4)}`;
    if (options?.name !== undefined) {
      if (typeof options.name !== "string" || !NAME_PATTERN.test(options.name.trim())) {
        throw new ServerError(400, "join option `name` must be 1..24 printable characters");
      }
      name = options.name.trim();
    }
    let key = name.toLowerCase();
    if (options?.playerKey !== undefined) {
      if (typeof options.playerKey !== "string" || !PLAYER_KEY_PATTERN.test(options.playerKey)) {
        throw new ServerError(400, "join option `playerKey` must be 8..64 characters of A-Z a-z 0-9 _ -");
      }
      key = options.playerKey;
    }
    this.playerKeys.set(client.sessionId, key);
    this.guards.set(client.sessionId, new ClientGuard(this.limits));
    this.sim.addPlayer(client.sessionId, name);
  }

  /** Non-consented disconnect: keep the player in the world for `reconnectSeconds`. */
  override onDrop(client: Client): void {
    if (this.guards.get(client.sessionId)?.kicked) return; // onLeave follows
    this.allowReconnection(client, this.reconnectSeconds).catch(() => {
      // Not back in time: onLeave runs next and removes the player.
    });
  }

  override onReconnect(client: Client): void {
    this.log(`[world] ${client.sessionId} reconnected`);
  }

  override onLeave(client: Client): void {
    this.conversations?.playerLeft(client.sessionId);
    this.sim.removePlayer(client.sessionId);
    this.guards.delete(client.sessionId);
    this.playerKeys.delete(client.sessionId);
  }

  /** Replies in flight finish (bounded wait, then aborted) before the world goes away. */
  override async onDispose(): Promise<void> {
    await this.conversations?.drain();
    this.sim.dispose();
  }

  override broadcastPatch(): boolean {
    const t0 = performance.now();
    const sent = super.broadcastPatch();
    if (this.metrics) this.metrics.patch.push(performance.now() - t0);
    return sent;
  }

  /** Fixed 30 Hz steps from the measured delta (accumulator), bounded catch-up. */
  private advance(deltaMs: number): void {
    this.accumulator += deltaMs / 1000;
    const limit = this.sim.dt * MAX_CATCH_UP_STEPS;
    if (this.accumulator > limit) {
      this.sim.skipped(Math.floor((this.accumulator - limit) / this.sim.dt));
      this.accumulator = limit;
    }
    while (this.accumulator >= this.sim.dt * 0.999) {
      this.step();
      this.conversations?.tick(this.sim.dt);
      this.accumulator -= this.sim.dt;
    }
  }

  /** One simulation tick, timed (wall and CPU) when metrics are on. */
  private step(): void {
    if (this.metrics === undefined) return this.sim.tick();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    this.sim.tick();
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    this.metrics.recordTick(wall, (cpu.user + cpu.system) / 1000, this.sim.sections, t0);
  }

  private receive(client: Client, type: string | number, payload: unknown): void {
    const guard = this.guards.get(client.sessionId);
    if (guard === undefined || guard.kicked) return;
    const overRate = guard.admit(type);
    if (overRate !== undefined) return this.reject(client, guard, type, overRate);
    const parsed = parseClientMessage(type, payload, this.limits);
    if (!parsed.ok) return this.reject(client, guard, type, parsed.reason);
    if (parsed.type === "move") {
      const refused = this.sim.queueInput(client.sessionId, parsed.message);
      if (refused !== undefined) this.reject(client, guard, type, refused);
    } else if (parsed.type === "npc_view") {
      if (this.views === undefined) return this.reject(client, guard, type, "this server does not take NPC views (vision is off)");
      let refused: string | undefined;
      try {
        refused = this.views.receive(client.sessionId, parsed.message);
      } catch (e) {
        // A bug in taking a view must not take the room down: log it, the view is lost.
        this.log(`[vision] ${client.sessionId} npc_view ${parsed.message.npc}: ${(e as Error).stack ?? e}`);
        refused = "the view could not be used (server error)";
      }
      if (refused !== undefined) this.reject(client, guard, type, refused);
    } else {
      this.relayChat(client.sessionId, parsed.message.text);
      try {
        this.conversations?.hear(client.sessionId, parsed.message);
      } catch (e) {
        // A bug in a conversation must not take the room down: log it with its context.
        this.log(`[dialogue] ${client.sessionId} chat ${JSON.stringify(parsed.message.text.slice(0, 60))}: ${(e as Error).stack ?? e}`);
      }
    }
  }

  private reject(client: Client, guard: ClientGuard, type: string | number, reason: string): void {
    if (guard.notice()) {
      const event: RejectedEvent = { type: String(type).slice(0, 40), reason };
      client.send("rejected", event);
      const suppressed = guard.suppressed > 0 ? ` (+${guard.suppressed} more not logged)` : "";
      guard.suppressed = 0;
      this.log(`[world] rejected ${client.sessionId} ${event.type}: ${reason}${suppressed}`);
    }
    if (guard.strike()) {
      guard.kicked = true;
      this.log(`[world] kicked ${client.sessionId}: sustained invalid or excessive messages`);
      client.leave(CLOSE_KICKED_FOR_ABUSE, "kicked: too many invalid or excessive messages");
    }
  }

  /** Sends a line to every player within earshot of the speaker (the speaker included). */
  relayChat(fromId: string, text: string): void {
    const from = this.sim.positionOf(fromId);
    if (from === undefined) return;
    const name = this.sim.players.get(fromId)?.state.name ?? this.sim.npcs.get(fromId)?.state.name ?? fromId;
    for (const client of this.clients) {
      const to = this.sim.positionOf(client.sessionId);
      if (to === undefined) continue;
      const distance = Math.hypot(to.x - from.x, to.y - from.y, to.z - from.z);
      if (distance > this.earshot) continue;
      const event: ChatEvent = { from: fromId, name, text, distance: Math.round(distance * 100) / 100 };
      client.send("chat", event);
    }
  }

  /** For tests and tools: this room's conversations (last prompt per NPC, threat flag). */
  get dialogue(): Conversations | undefined {
    return this.conversations;
  }

  /** For tests and tools: the latest view of each NPC (absent when vision is off). */
  get npcViews(): ViewStore | undefined {
    return this.views?.store;
  }

  /** For tests and tools: the simulation behind this room. */
  get simulation(): WorldSimulation {
    return this.sim;
  }
}
