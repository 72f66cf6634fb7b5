import { Client, CloseCode, type Room } from "@colyseus/sdk";
import type { ConnectionState } from "../ui/status.ts";

// The link to the world room, kept alive. Two stages of recovery, one after the other:
//  1. Socket drop (network blip, server closes with 1006/4010...): the SDK's own automatic
//     reconnection re-opens the socket to the SAME Room object with the reconnection
//     token; the server holds our seat meanwhile, so we keep our place and state callbacks.
//  2. If the SDK gives up (or the room is gone), we call client.reconnect(token) with
//     exponential backoff; when the token is refused, we join afresh (a new place, our name).
// Every time a new Room object appears, `onRoom` fires so the world can bind to its state.

export type RoomHandler = (room: Room, info: { fresh: boolean }) => void;

/** Delay before retry `attempt` (1-based), ms: 250, 500, 1000, ... capped at 8 s, ±20% jitter. */
export function backoffMs(attempt: number, random = Math.random): number {
  const base = Math.min(8000, 250 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

export type ConnectionOptions = {
  endpoint: string;
  roomName: string;
  joinOptions: Record<string, unknown>;
  /** State class to decode into (core/state), so the room state is typed and not reflected. */
  rootSchema?: new (...args: any[]) => any;
  onState: (state: ConnectionState, detail?: string) => void;
  onRoom: RoomHandler;
  /** Attempts of stage 2 (token reconnect, then fresh joins) before showing "disconnected". */
  maxAttempts?: number;
};

/** Whether an error carries the server's answer (SDK ServerError/MatchMakeError have a numeric code). */
export function serverAnswered(err: unknown): boolean {
  return typeof (err as { code?: unknown } | null)?.code === "number";
}

/** A 4xx from the room (bad join options), as opposed to matchmaking trouble (52x) or network. */
export function isRefusal(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "number" && code >= 400 && code < 500;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Connection {
  readonly client: Client;
  private room: Room | null = null;
  private closedByUs = false;
  /** Bumped on every stage-2 run so a stale loop stops when a newer one starts. */
  private generation = 0;

  constructor(private opts: ConnectionOptions) {
    this.client = new Client(opts.endpoint);
  }

  get current(): Room | null { return this.room; }
  get sessionId(): string | null { return this.room?.sessionId ?? null; }

  /** Join the room; retries with backoff until it succeeds or `close()` is called. */
  async startAsync(): Promise<void> {
    this.opts.onState("connecting");
    await this.recoverAsync(null);
  }

  /** Leave for good (page unload). */
  async closeAsync(): Promise<void> {
    this.closedByUs = true;
    this.generation++;
    await this.room?.leave(true).catch(() => {});
  }

  private adopt(room: Room, fresh: boolean): void {
    this.room = room;
    // Stage 1 settings: start at once (the SDK default waits for 5 s of uptime before it
    // allows reconnection at all), then back off to a few seconds, ~20 s in total.
    room.reconnection.minUptime = 0;
    room.reconnection.maxRetries = 8;
    room.reconnection.minDelay = 250;
    room.reconnection.maxDelay = 4000;
    room.onDrop((code) => {
      if (this.room === room) this.opts.onState("reconnecting", `connection dropped (${code})`);
    });
    room.onReconnect(() => {
      if (this.room === room) this.opts.onState("connected");
    });
    room.onLeave((code, reason) => {
      if (this.room !== room) return;
      if (this.closedByUs || code === CloseCode.CONSENTED || code === CloseCode.NORMAL_CLOSURE) {
        this.opts.onState("disconnected", reason || `closed (${code})`);
        return;
      }
      // Kicked for abuse or similar: the server meant it. Do not hammer it.
      if (code >= 4000 && code !== CloseCode.FAILED_TO_RECONNECT && code !== CloseCode.MAY_TRY_RECONNECT && code !== CloseCode.SERVER_SHUTDOWN) {
        this.opts.onState("disconnected", reason || `closed by server (${code})`);
        return;
      }
      this.opts.onState("reconnecting", reason || `connection lost (${code})`);
      void this.recoverAsync(room.reconnectionToken);
    });
    this.opts.onRoom(room, { fresh });
    this.opts.onState("connected");
  }

  /**
   * Stage 2: reconnect with the token when we have one, else (or when refused) join afresh.
   * Keeps trying with backoff; after maxAttempts it says "disconnected" but keeps trying
   * slowly, so a server that comes back is found without a page reload.
   */
  private async recoverAsync(token: string | null): Promise<void> {
    const gen = ++this.generation;
    const maxAttempts = this.opts.maxAttempts ?? 8;
    for (let attempt = 1; !this.closedByUs && gen === this.generation; attempt++) {
      try {
        if (token) {
          const room = await this.client.reconnect(token, this.opts.rootSchema);
          if (gen !== this.generation) { void room.leave(true); return; }
          this.adopt(room, false);
          return;
        }
        const room = await this.client.joinOrCreate(this.opts.roomName, this.opts.joinOptions, this.opts.rootSchema);
        if (gen !== this.generation) { void room.leave(true); return; }
        this.adopt(room, true);
        return;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        // The server answered and refused the token (expired, room gone): it will not
        // become valid later, so join afresh. No answer at all (network down, server
        // restarting) keeps the token for the next try.
        if (token && serverAnswered(err)) token = null;
        // The room refused to let us in (e.g. a name it does not accept): retrying the same
        // request cannot help, so say why and stop.
        else if (!token && isRefusal(err)) {
          this.opts.onState("disconnected", `the server refused to let us in: ${message}`);
          return;
        }
        const waiting = attempt >= maxAttempts ? 10_000 : backoffMs(attempt);
        this.opts.onState(attempt >= maxAttempts ? "disconnected" : this.room ? "reconnecting" : "connecting",
          `${message} — retrying in ${(waiting / 1000).toFixed(1)} s (attempt ${attempt})`);
        await sleep(waiting);
      }
    }
  }
}
