import type { NpcViewMessage, RejectedEvent } from "../../core/protocol/index.ts";
import { createNpcEye, type NpcEye } from "../eye/eye.ts";
import type { Entities } from "../game/entities.ts";
import type { Scene } from "../world/babylon.ts";
import { loadViewEncoderAsync, type ViewEncoder } from "./view-encoder.ts";

// Shows the server what an NPC sees while the local player talks to it: when the player starts
// typing to an NPC (or says a line to it), its eye is captured (client/eye/) and sent as
// `npc_view`, and a line waits briefly for its view to go out first; then a view goes every 3 s
// while the conversation lasts. Once the encoder is ready, one throwaway capture and encode
// compiles the eye's shaders and warms the session, so the first real view is quick (the first
// capture costs ~1.7 s on software WebGL, later ones tens of ms). The page runs the vision encoder
// (onnxruntime-web) and sends the features; when that cannot load, or with `?vision=pixels`, it
// sends the picture and the server encodes it. `?vision=off`, or a server without vision (no
// /vision/vision.json), sends nothing.

export type VisionMode = "loading" | "features" | "pixels" | "off";

export type VisionDebug = {
  mode: VisionMode;
  /** Why the mode is what it is when it is not what was asked for ("" otherwise). */
  note: string;
  /** Encoder wall time per view encoded in this page, ms (most recent last). */
  encodeMs: number[];
  /** The throwaway warm-up: capture and encode ms (null until done). */
  warmUp: { captureMs: number; encodeMs: number | null } | null;
  /** Eye capture (render + read-back) wall time per view, ms (most recent last). */
  captureMs: number[];
  /** Views sent: all, as features, as pictures. */
  sent: number;
  sentFeatures: number;
  sentImages: number;
  /** The NPC of the conversation in progress, if any. */
  talkingTo: string | null;
  last: { npc: string; kind: "features" | "image"; at: number } | null;
  /** Reasons the server gave for refusing views (most recent last). */
  rejected: string[];
};

/** A conversation lasts this long after the player's last line to the NPC, ms. */
const CONVERSATION_MS = 20_000;
/** Views while a conversation lasts, ms apart. */
const PERIOD_MS = 3000;
/** A line waits at most this long for its view to go out first, ms (a capture takes a frame or two on
 *  a GPU; on software WebGL at a few frames a second, about a second). */
const LINE_WAIT_MS = 3000;
/** The player stays this close for the conversation to go on (the server's hearing range), m. */
const RANGE_M = 8;
/** A line gets a new view unless one of that NPC went out this recently, ms. */
const RECENT_MS = PERIOD_MS;
const KEEP = 50;

export interface NpcVisionParts {
  scene: Scene;
  entities: Entities;
  /** Our feet on the ground plane, null before we have a character. */
  me(): { x: number; z: number } | null;
  /** Sends on the current room; false while offline (nothing sent). */
  send(message: NpcViewMessage): boolean;
  /** URL prefix of the server's vision package, e.g. "http://host:2567/vision". */
  base: string;
  /** "features" (default), "pixels" or "off", from the page URL's `vision` parameter. */
  want: string | null;
}

export class NpcVision {
  private mode: VisionMode = "loading";
  private note = "";
  private encoder: ViewEncoder | null = null;
  private eye: NpcEye | null = null;
  private readonly ready: Promise<void>;
  private talk: { npc: string; lastLine: number; lastView: number; started: boolean } | null = null;
  private warmed = false;
  /** The capture in progress, if any (one at a time), and the NPC it is a view of (null: the warm-up). */
  private current: Promise<void> | null = null;
  private currentNpc: string | null = null;
  private readonly stats: Omit<VisionDebug, "mode" | "note" | "talkingTo"> = {
    encodeMs: [], warmUp: null, captureMs: [], sent: 0, sentFeatures: 0, sentImages: 0, last: null, rejected: [],
  };

  constructor(private readonly parts: NpcVisionParts) {
    this.ready = this.setUpAsync();
  }

  /**
   * Before a line to `npc` goes out: a view of it is sent first, unless a recent one went out
   * (waited for at most LINE_WAIT_MS: a slow capture must not hold the line up for long).
   */
  async beforeLineAsync(npc: string): Promise<void> {
    const now = performance.now();
    const t = this.converse(npc, now);
    const onItsWay = this.current !== null && this.currentNpc === npc;
    if (this.mode === "off" || (!onItsWay && now - t.lastView < RECENT_MS)) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.viewAsync(npc), new Promise<void>((r) => (timer = setTimeout(r, LINE_WAIT_MS)))]);
    clearTimeout(timer);
  }

  /**
   * Once per frame: the warm-up once ready, a conversation starting as the player types to an
   * NPC (`typingTo`), the next periodic view, or the conversation's end.
   */
  tick(now: number, typingTo: string | null = null): void {
    if (this.mode === "off" || this.mode === "loading") return;
    if (!this.warmed && this.current === null && this.parts.me() !== null && this.parts.entities.npcs.size > 0) {
      this.warmed = true;
      this.run(null, () => this.warmUpAsync());
    }
    if (typingTo !== null && this.talk?.npc !== typingTo) this.converse(typingTo, now);
    else if (typingTo !== null) this.talk!.lastLine = now; // still typing: the conversation goes on
    const t = this.talk;
    if (t === null) return;
    const me = this.parts.me();
    const npc = this.parts.entities.npcs.get(t.npc)?.avatar.root.position;
    if (now - t.lastLine > CONVERSATION_MS || !me || !npc || Math.hypot(npc.x - me.x, npc.z - me.z) > RANGE_M) {
      this.talk = null;
      return;
    }
    if (this.current === null && now - t.lastView >= PERIOD_MS) void this.viewAsync(t.npc);
  }

  /** A refused view: kept for the debug hook and the console, not shown as a notice. */
  rejected(e: RejectedEvent): void {
    this.stats.rejected.push(e.reason);
    if (this.stats.rejected.length > KEEP) this.stats.rejected.shift();
    console.info(`[kith] view refused: ${e.reason}`);
  }

  debug(): VisionDebug {
    const s = this.stats;
    return {
      mode: this.mode, note: this.note, talkingTo: this.talk?.npc ?? null,
      encodeMs: [...s.encodeMs], warmUp: s.warmUp ? { ...s.warmUp } : null, captureMs: [...s.captureMs], sent: s.sent, sentFeatures: s.sentFeatures, sentImages: s.sentImages,
      last: s.last ? { ...s.last } : null, rejected: [...s.rejected],
    };
  }

  private async setUpAsync(): Promise<void> {
    const want = (this.parts.want ?? "features").toLowerCase();
    if (want === "off") return this.set("off", "turned off in the URL (?vision=off)");
    try {
      const res = await fetch(`${this.parts.base}/vision.json`, { method: "HEAD" });
      if (!res.ok) return this.set("off", `the server has no vision package (HTTP ${res.status})`);
    } catch (e) {
      return this.set("off", `the server's vision package could not be checked: ${(e as Error).message}`);
    }
    if (want === "pixels") return this.set("pixels", "");
    try {
      this.encoder = await loadViewEncoderAsync(this.parts.base);
      this.set("features", "");
    } catch (e) {
      console.warn("[kith] the vision encoder could not load; sending pictures instead", e);
      this.set("pixels", `the encoder could not load: ${(e as Error).message}`);
    }
  }

  /** The conversation with `npc`, started now unless it is the one in progress. */
  private converse(npc: string, now: number) {
    if (this.talk?.npc !== npc) this.talk = { npc, lastLine: now, lastView: -Infinity, started: false };
    this.talk.lastLine = now;
    return this.talk;
  }

  /** One capture (and encode) that nobody sees: compiles the eye's shaders, warms the session. */
  private async warmUpAsync(): Promise<void> {
    try {
      const [npc] = this.parts.entities.npcs.keys();
      const pose = this.pose(npc, false);
      if (!pose) return;
      this.eye ??= createNpcEye(this.parts.scene);
      const t0 = performance.now();
      const rgba = await this.eye.capture(pose.eye, { hide: [pose.body] });
      const captureMs = performance.now() - t0;
      let encodeMs: number | null = null;
      if (this.encoder !== null && this.mode === "features") {
        const t1 = performance.now();
        await this.encoder.encodeBoth(rgba);
        encodeMs = performance.now() - t1;
      }
      this.stats.warmUp = { captureMs: round(captureMs), encodeMs: encodeMs === null ? null : round(encodeMs) };
    } catch (e) {
      console.warn("[kith] the vision warm-up failed", e);
    }
  }

  private set(mode: VisionMode, note: string): void {
    this.mode = mode;
    this.note = note;
  }

  /** Captures the NPC's eye and sends the view (the one on its way, if it is of this NPC). Never rejects. */
  private viewAsync(npc: string): Promise<void> {
    if (this.current !== null && this.currentNpc === npc) return this.current;
    return this.run(npc, () => this.captureAndSendAsync(npc));
  }

  /** Runs `work` after the capture in progress; it becomes the one in progress. */
  private run(npc: string | null, work: () => Promise<void>): Promise<void> {
    const next = (this.current ?? Promise.resolve()).then(work);
    this.current = next;
    this.currentNpc = npc;
    void next.finally(() => {
      if (this.current === next) {
        this.current = null;
        this.currentNpc = null;
      }
    });
    return next;
  }

  private async captureAndSendAsync(npc: string): Promise<void> {
    try {
      await this.ready;
      const t = this.talk;
      if (this.mode === "off" || t === null || t.npc !== npc) return;
      const pose = this.pose(npc, !t.started);
      if (!pose) return;
      t.lastView = performance.now();
      t.started = true;
      this.eye ??= createNpcEye(this.parts.scene);
      const t0 = performance.now();
      const rgba = await this.eye.capture(pose.eye, { hide: [pose.body] });
      remember(this.stats.captureMs, performance.now() - t0);
      if (this.encoder !== null && this.mode === "features") {
        const t1 = performance.now();
        // The picture and its mirror: the server's prop detector reads both (fewer props misread).
        const { features, mirror } = await this.encoder.encodeBoth(rgba);
        remember(this.stats.encodeMs, performance.now() - t1);
        if (!this.parts.send({ npc, features: littleEndianBytes(features), mirror: littleEndianBytes(mirror) })) return;
        this.stats.sentFeatures++;
        this.stats.last = { npc, kind: "features", at: Date.now() };
      } else {
        if (!this.parts.send({ npc, image: rgba })) return;
        this.stats.sentImages++;
        this.stats.last = { npc, kind: "image", at: Date.now() };
      }
      this.stats.sent++;
    } catch (e) {
      console.warn(`[kith] no view of ${npc} this time:`, e);
    }
  }

  /**
   * Where the NPC's eye is: its feet as drawn, and its facing, or, as a conversation starts, the
   * way to the player (the server turns it to face the speaker while it answers).
   */
  private pose(npc: string, starting: boolean) {
    const t = this.parts.entities.npcs.get(npc);
    const me = this.parts.me();
    if (!t) return null;
    const p = t.avatar.root.position;
    const q = t.avatar.root.rotationQuaternion;
    let facing = q ? 2 * Math.atan2(q.y, q.w) : 0;
    if (starting && me) facing = Math.atan2(me.x - p.x, me.z - p.z);
    return { eye: { position: [p.x, p.y, p.z] as [number, number, number], facing }, body: t.avatar.root };
  }
}

/** Float32 values as little-endian bytes (the wire format), whatever this machine's byte order. */
function littleEndianBytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return out;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

function remember(list: number[], ms: number): void {
  list.push(round(ms));
  if (list.length > KEEP) list.shift();
}
