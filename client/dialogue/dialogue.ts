import type { Room } from "@colyseus/sdk";
import type { ChatEvent, NpcActionEvent, NpcReplyEvent, NpcThinkingEvent, NpcTokenEvent } from "../../core/protocol/index.ts";
import type { Scene as KithScene } from "../../core/scene/schema.ts";
import type { WorldState } from "../../core/state/index.ts";
import type { Entities } from "../game/entities.ts";
import type { ChatBox } from "../ui/chat.ts";
import type { InventoryHud } from "../ui/inventory-hud.ts";
import type { NpcPanel } from "../ui/npc-panel.ts";
import type { TalkPrompt } from "../ui/talk-prompt.ts";
import { GESTURES } from "../world/emotes.ts";
import { inventoryGains, readInventory, type Inventory } from "./inventory.ts";
import { moodStyle } from "./mood.ts";
import { ReplyStreams } from "./reply-streams.ts";
import { spokenText } from "./spoken-text.ts";
import { pickTalkTarget } from "./talk-target.ts";

// NPC dialogue on the client: binds the room's npc_* messages and the replicated NPC and player
// fields to what the player sees: speech bubbles that fill in as the reply streams, the chat
// log, mood badges, the talk prompt and panel, gestures, pointing and the inventory HUD.
// Server messages arrive as plain JSON: each is checked before use and a malformed one is
// dropped with a console warning.

/** The NPC that last answered us stays in the panel this long (ms) while we stay this close (m). */
const ANSWERED_MS = 60_000;
const ANSWERED_RANGE = 10;
/** Remembered replies and actions, for the debug hook. */
const KEEP = 20;

export type DialogueUi = { chat: ChatBox; prompt: TalkPrompt; panel: NpcPanel; inventory: InventoryHud };

export type ReplyRecord = {
  npc: string; reply: string; name: string; text: string; mood: string;
  weights: Record<string, number>; actions: string[]; fallback: boolean; filtered: boolean; toMe: boolean;
};
export type ActionRecord = { npc: string; reply: string; action: string; ok: boolean; reason?: string };

export type DialogueDebug = {
  talkTarget: string | null;
  /** Current speech bubble per NPC id. */
  bubbles: Record<string, { reply: string; phase: string; text: string; history: string[] }>;
  /** NPC id → waiting for the first words of a reply. */
  thinking: Record<string, boolean>;
  /** NPC id → last known mood (replicated state first, else the last reply's). */
  moods: Record<string, string>;
  /** Weights shown in the panel, with the NPC they belong to. */
  panel: { npc: string; mood: string | null; weights: Record<string, number> | null } | null;
  replies: ReplyRecord[];
  actions: ActionRecord[];
  /** Our inventory as replicated (null: the server sends none). */
  inventory: Inventory | null;
};

export class Dialogue {
  readonly streams = new ReplyStreams();
  private replyMoods = new Map<string, string>();
  private stateMoods = new Map<string, string>();
  private weights = new Map<string, Record<string, number>>();
  private stateEmotes = new Map<string, string>();
  private replies: ReplyRecord[] = [];
  private actions: ActionRecord[] = [];
  private inventory: Inventory | null = null;
  private answeredBy: { npc: string; at: number } | null = null;
  private panelNpc: string | null = null;
  talkTarget: string | null = null;

  constructor(
    private ui: DialogueUi,
    private entities: Entities,
    private sceneFile: KithScene,
    private selfId: () => string | null,
  ) {}

  /** Listen to a room's dialogue messages; returns the undo functions. */
  bind(room: Room<any, WorldState>): Array<() => void> {
    return [
      room.onMessage("npc_thinking", (e: NpcThinkingEvent) => this.onThinking(e)),
      room.onMessage("npc_token", (e: NpcTokenEvent) => this.onToken(e)),
      room.onMessage("npc_reply", (e: NpcReplyEvent) => this.onReply(e)),
      room.onMessage("npc_action", (e: NpcActionEvent) => this.onAction(e)),
    ];
  }

  /** Who a chat line goes to: the NPC on offer, if any. */
  get addressee(): string | null { return this.talkTarget; }

  onThinking(e: NpcThinkingEvent): void {
    if (!isIds(e)) return warn("npc_thinking", e);
    if (this.streams.thinking(e, performance.now())) this.showBubble(e.npc);
  }

  onToken(e: NpcTokenEvent): void {
    if (!isIds(e) || typeof e.text !== "string") return warn("npc_token", e);
    if (this.streams.token(e, performance.now())) this.showBubble(e.npc);
  }

  onReply(e: NpcReplyEvent): void {
    if (!isIds(e) || typeof e.text !== "string") return warn("npc_reply", e);
    const now = performance.now();
    if (!this.streams.reply(e, now)) return; // a duplicate
    const me = this.selfId();
    const rec: ReplyRecord = {
      npc: e.npc, reply: e.reply,
      name: typeof e.name === "string" && e.name ? e.name : this.entities.npcs.get(e.npc)?.name ?? e.npc,
      text: spokenText(e.text),
      mood: typeof e.mood === "string" ? e.mood : "",
      weights: cleanWeights(e.weights),
      actions: Array.isArray(e.actions) ? e.actions.filter((a): a is string => typeof a === "string") : [],
      fallback: e.fallback === true, filtered: e.filtered === true,
      toMe: me !== null && Array.isArray(e.to) && e.to.includes(me),
    };
    this.replies.push(rec);
    if (this.replies.length > KEEP) this.replies.shift();
    if (rec.mood) this.replyMoods.set(e.npc, rec.mood);
    if (Object.keys(rec.weights).length > 0) this.weights.set(e.npc, rec.weights);
    if (rec.toMe) this.answeredBy = { npc: e.npc, at: now };
    if (rec.text) {
      const note = rec.filtered ? "filtered" : rec.fallback ? "fallback" : undefined;
      const noteTitle = rec.filtered ? "The safety filter replaced this line." : rec.fallback ? "A stock line: the model did not answer in time." : undefined;
      this.ui.chat.add({ from: rec.name, text: rec.text, kind: "npc", note, noteTitle });
    }
    this.showBubble(e.npc);
  }

  onAction(e: NpcActionEvent): void {
    if (!isIds(e) || typeof e.action !== "string") return warn("npc_action", e);
    const rec: ActionRecord = { npc: e.npc, reply: e.reply, action: e.action, ok: e.ok === true, reason: typeof e.reason === "string" ? e.reason : undefined };
    this.actions.push(rec);
    if (this.actions.length > KEEP) this.actions.shift();
    if (!rec.ok) {
      console.info(`[kith] ${e.npc} skipped ${e.action}: ${rec.reason ?? "no reason given"}`);
      return;
    }
    const avatar = this.entities.npcs.get(e.npc)?.avatar;
    const colon = e.action.indexOf(":");
    const kind = colon < 0 ? e.action : e.action.slice(0, colon);
    const arg = colon < 0 ? "" : e.action.slice(colon + 1);
    if (kind === "emote" && arg) avatar?.emote(arg);
    else if (kind === "point_at" && arg && avatar) {
      const at = this.locate(arg, avatar.root.position);
      if (at) avatar.pointAt(at);
      else console.info(`[kith] ${e.npc} points at ${arg}, which this page cannot place`);
    }
    // give, walk_to and turn_to show through the replicated state (inventory, position, facing).
  }

  /**
   * True for a `chat` event that repeats an NPC line this page already logged from `npc_reply`
   * (a server may relay NPC lines as chat too): it is then not logged twice.
   */
  isEchoOfReply(e: ChatEvent): boolean {
    const text = spokenText(e.text ?? "");
    return this.replies.some((r) => r.npc === e.from && r.text === text);
  }

  /** After each state patch: replicated moods, emotes and our inventory. */
  onPatch(state: WorldState): void {
    state.npcs.forEach((n, id) => {
      const fields = n as unknown as { mood?: unknown; emote?: unknown; anim?: unknown };
      if (typeof fields.mood === "string" && fields.mood !== "") this.stateMoods.set(id, fields.mood);
      // An emote may be replicated as `emote` or as an animation name; only known gestures play.
      const raw = typeof fields.emote === "string" ? fields.emote : typeof fields.anim === "string" ? fields.anim : "";
      const emote = raw.startsWith("emote:") ? raw.slice(6) : raw;
      if (emote !== this.stateEmotes.get(id)) {
        this.stateEmotes.set(id, emote);
        if (emote in GESTURES) this.entities.npcs.get(id)?.avatar.emote(emote);
      }
    });
    const me = this.selfId();
    const inv = readInventory(me ? state.players.get(me) : undefined);
    if (inv !== null) {
      if (this.inventory !== null) for (const g of inventoryGains(this.inventory, inv)) this.ui.inventory.toast(g.item, g.added);
      this.inventory = inv;
    }
    this.ui.inventory.set(this.inventory);
  }

  /**
   * Once per rendered frame: expire bubbles, keep avatars in step (an avatar made anew after a
   * reconnect gets its bubble and badge back), pick the talk target, update prompt and panel.
   * `me`: our feet (m) and yaw (rad), null before we have a character; `viewYaw`: the camera's.
   */
  frame(now: number, me: { x: number; z: number; yaw: number } | null, viewYaw: number, typing: boolean): void {
    this.streams.expire(now);
    for (const [id, t] of this.entities.npcs) {
      this.showBubble(id);
      const mood = this.moodOf(id);
      t.avatar.setMood(mood ? moodStyle(mood) : null);
    }

    const candidates = [...this.entities.npcs].map(([id, t]) => ({ id, x: t.avatar.root.position.x, z: t.avatar.root.position.z }));
    this.talkTarget = me ? pickTalkTarget(me, candidates, { current: this.talkTarget, viewYaw }) : null;
    const target = this.talkTarget ? this.entities.npcs.get(this.talkTarget) : undefined;
    this.ui.prompt.set(target ? { name: target.name, role: target.role } : null, typing);
    this.ui.chat.placeholder = target ? `Say something to ${target.name}` : "Press Enter to talk";

    let focus = this.talkTarget;
    const a = this.answeredBy;
    if (!focus && a && me && now - a.at < ANSWERED_MS) {
      const p = this.entities.npcs.get(a.npc)?.avatar.root.position;
      if (p && Math.hypot(p.x - me.x, p.z - me.z) <= ANSWERED_RANGE) focus = a.npc;
    }
    const t = focus ? this.entities.npcs.get(focus) : undefined;
    this.panelNpc = t ? focus : null;
    this.ui.panel.set(t ? { name: t.name, role: t.role, mood: this.moodOf(focus!), weights: this.weights.get(focus!) ?? null } : null);
  }

  debug(): DialogueDebug {
    const bubbles: DialogueDebug["bubbles"] = {};
    const thinking: Record<string, boolean> = {};
    for (const b of this.streams.all()) {
      bubbles[b.npc] = { reply: b.reply, phase: b.phase, text: b.text, history: [...b.history] };
      thinking[b.npc] = b.phase !== "done" && b.text === "";
    }
    const moods: Record<string, string> = {};
    for (const id of new Set([...this.replyMoods.keys(), ...this.stateMoods.keys()])) moods[id] = this.moodOf(id)!;
    const p = this.panelNpc;
    return {
      talkTarget: this.talkTarget, bubbles, thinking, moods,
      panel: p ? { npc: p, mood: this.moodOf(p), weights: this.weights.get(p) ?? null } : null,
      replies: this.replies.map((r) => ({ ...r, weights: { ...r.weights }, actions: [...r.actions] })),
      actions: this.actions.map((a) => ({ ...a })),
      inventory: this.inventory ? { ...this.inventory } : null,
    };
  }

  private moodOf(npc: string): string | null {
    return this.stateMoods.get(npc) ?? this.replyMoods.get(npc) ?? null;
  }

  private showBubble(npc: string): void {
    const avatar = this.entities.npcs.get(npc)?.avatar;
    if (!avatar) return;
    const b = this.streams.get(npc);
    if (!b) {
      // Only take down bubbles the dialogue put up (player-style `say` bubbles time out themselves).
      if (avatar.holdsLine) avatar.showLine(null);
      return;
    }
    avatar.showLine({ text: b.text, thinking: b.phase !== "done" && b.text === "", streaming: b.phase === "speaking" });
  }

  /** World position of a point_at target: a scene object (by id, else the nearest with that tag), an NPC or a player. */
  private locate(target: string, from: { x: number; z: number }): [number, number, number] | null {
    const objs = this.sceneFile.objects;
    const byId = objs.find((o) => o.id === target);
    if (byId) return [...byId.position];
    let best: [number, number, number] | null = null;
    let bestD = Infinity;
    for (const o of objs) {
      if (!o.tags.includes(target)) continue;
      const d = Math.hypot(o.position[0] - from.x, o.position[2] - from.z);
      if (d < bestD) { bestD = d; best = [...o.position]; }
    }
    if (best) return best;
    const who = this.entities.npcs.get(target) ?? this.entities.players.get(target)
      ?? [...this.entities.players.values()].find((p) => p.name.toLowerCase() === target.toLowerCase());
    if (who) { const p = who.avatar.root.position; return [p.x, p.y + 1.2, p.z]; }
    return null;
  }
}

function isIds(e: unknown): e is { npc: string; reply: string } {
  const o = e as { npc?: unknown; reply?: unknown } | null;
  return typeof o === "object" && o !== null && typeof o.npc === "string" && o.npc !== "" && typeof o.reply === "string";
}

function cleanWeights(w: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (w && typeof w === "object") for (const [k, v] of Object.entries(w)) if (typeof v === "number" && Number.isFinite(v)) out[k] = v;
  return out;
}

function warn(type: string, e: unknown): void {
  console.warn(`[kith] dropped a malformed ${type} message`, e);
}
