import { personSolid, sightFacts, SIGHT_SKILL, type SightFact } from "../../core/vision/seen.ts";
import { answersFromSight, asksAboutSight } from "../../core/vision/sight.ts";
import { answerInPrompt } from "../../core/vision/ask.ts";
import { checkFor } from "../../core/prompt/checks.ts";
import { voiceAgreeing, type ReplyCheck } from "../../core/prompt/reply-check.ts";
import type { CharacterCard } from "../../core/character/schema.ts";
import { assemblePrompt, factAliases } from "../../core/prompt/context.ts";
import type { Turn } from "../../core/prompt/layout.ts";
import type { Entity } from "../../core/prompt/nearby.ts";
import { formatReply, parseReply } from "../../core/prompt/reply.ts";
import type { ChatMessage, NpcActionEvent, NpcReplyEvent, NpcThinkingEvent, NpcTokenEvent, RejectedEvent } from "../../core/protocol/messages.ts";
import { chooseMixture } from "../../core/runtime/gate/mix.ts";
import type { GameState } from "../../core/runtime/gate/features.ts";
import type { SchedulerResult } from "../../core/runtime/scheduler/scheduler.ts";
import type { Scene, SceneObject } from "../../core/scene/schema.ts";
import type { WorldSimulation } from "../world/simulation.ts";
import { applyActions } from "./actions.ts";
import { findAddressee } from "./hearing.ts";
import type { DialogueRuntime } from "./runtime.ts";
import { SpokenStream } from "./spoken-stream.ts";

// Conversations in one room. A player's line goes to the NPC it addresses (hearing.ts); each NPC
// answers one line at a time from a bounded queue, while different NPCs answer at the same time
// (their requests share the scheduler's batch in the worker thread). Per reply:
//
//   npc_thinking → prompt (card, the NPC's fresh view as visual tokens, live nearby facts, memory,
//   recent turns, the line; fitted to the context less the reply) → gate mixture → worker
//   (the view's tokens go in as `image`) → npc_token… (spoken text, tags stripped) →
//   npc_reply (whole line, mood, weights, actions) → npc_action per action tag → memory.
//
// Failures (model error, busy worker, deadline before any word) end in an in-character fallback
// line with fallback: true. Nothing here blocks the tick: the model runs in the worker, and the
// per-token work on this thread is one parseReply of a short string and one send per listener.

export interface ConversationHost {
  sim: WorldSimulation;
  /** Players hear NPC speech within this distance, m (the room's earshot). */
  earshot: number;
  /** sessionIds of connected players. */
  clientIds(): Iterable<string>;
  send(sessionId: string, type: string, payload: unknown): void;
  /** Stable player key (memory) of a connected player. */
  playerKey(sessionId: string): string | undefined;
  log(line: string): void;
  /**
   * The NPC's fresh view (server/vision/), after a view still being encoded has landed (briefly
   * waited for): visual tokens [tokens·H], their count, the vision skill adapter to apply with
   * them, and the props the package's detector found in it (when it has one); undefined: the NPC
   * talks blind.
   */
  view?(npc: string): Promise<EyesView | undefined>;
  /** Whether the vision package reads its views (server/vision/vision-runtime.ts readsViews); `sight: "auto"` uses the eyes only then. */
  viewsRead?: boolean;
}

/** Where the sight lines of a line about the props come from: the scene graph, or the eyes' detector. */
type SightSource = { from: "scene" } | { from: "eyes"; facts: SightFact[] };

/** A fresh view of an NPC, as the host hands it over. */
export interface EyesView {
  image: Float32Array;
  tokens: number;
  adapter?: string;
  seen?: SightFact[];
}

interface Line {
  playerId: string;
  key: string;
  name: string;
  text: string;
  at: number;
}

interface NpcTalk {
  queue: Line[];
  busy: boolean;
  /** Whom the NPC faces while talking (sessionId). */
  partner?: string;
  quietLeft: number;
  abort?: AbortController;
}

/** Words that tell an NPC the player's name: "my name is Ada", "call me Ada", "I'm Ada". */
const NAME_SAID = /\b(?:my name is|my name's|call me|i am|i'm)\s+([a-z][a-z'-]{1,23})\b/i;

/** The name a line gives, when it gives one (a capitalised word: "I am tired" gives none). */
function nameSaid(text: string): string | undefined {
  const name = NAME_SAID.exec(text)?.[1];
  return name !== undefined && /^[A-Z]/.test(name) ? name : undefined;
}

export class Conversations {
  private readonly talks = new Map<string, NpcTalk>();
  private readonly prompts = new Map<string, string>();
  /** The visual tokens the last reply request of each NPC carried (null: none). */
  private readonly images = new Map<string, Float32Array | null>();
  private readonly inFlight = new Set<Promise<void>>();
  /** Recent turns per npc|player when no memory store is configured. */
  private readonly localTurns = new Map<string, Turn[]>();
  /** Scene objects with movable ones at their live pose (same array, so per-scene caches hold). */
  private readonly liveScene: Scene;
  private readonly movable: { obj: SceneObject; id: string }[] = [];
  private nextReply = 1;
  private fallbackTurn = 0;
  private closing = false;
  private readonly startedAt = Date.now();
  /** Danger near this room, 0..1 (the gate's threat; ≥ 0.5 also puts "danger: …" in the prompt). */
  threat = 0;
  threatWhat = "trouble nearby";

  constructor(private readonly rt: DialogueRuntime, private readonly host: ConversationHost) {
    const scene = host.sim.scene;
    const objects = scene.objects.map((o) => (o.movable ? { ...o, position: [...o.position] as SceneObject["position"] } : o));
    for (const o of objects) if (o.movable) this.movable.push({ obj: o, id: o.id });
    this.liveScene = { ...scene, objects };
  }

  /** The last prompt assembled for an NPC (debugging and tests). */
  lastPrompt(npc: string): string | undefined {
    return this.prompts.get(npc);
  }

  /** The visual tokens the NPC's last reply was generated with; null when it had no fresh view. */
  lastImage(npc: string): Float32Array | null | undefined {
    return this.images.get(npc);
  }

  /** Game hour now, 0 ≤ h < 24. */
  hour(): number {
    const c = this.rt.options.clock ?? {};
    const start = c.startHour ?? this.host.sim.scene.timeOfDay;
    const h = start + ((Date.now() - this.startedAt) / 60_000) * (c.hoursPerMinute ?? 0);
    return ((h % 24) + 24) % 24;
  }

  /** A player's line (already validated and relayed as chat): queue it for the NPC it addresses. */
  hear(playerId: string, msg: ChatMessage): void {
    if (this.closing) return;
    const o = this.rt.options;
    const found = findAddressee(this.host.sim, playerId, msg.to, { hearing: o.hearing, talk: o.talkRange, frontAngle: Math.PI / 3 });
    if (!found.ok) {
      if (msg.to !== undefined && found.reason) this.reject(playerId, found.reason);
      return;
    }
    const npc = found.npc;
    const agent = this.host.sim.npcs.get(npc)!;
    if (!this.rt.cards.has(agent.spawn.character)) {
      this.reject(playerId, `${agent.state.name} has no character card (adapters/${agent.spawn.character}/character.json)`);
      return;
    }
    const talk = this.talkOf(npc);
    const key = this.host.playerKey(playerId) ?? playerId;
    const admitted = this.rt.rate?.admit(key) ?? { ok: true as const };
    if (!admitted.ok) {
      this.reject(playerId, `you are talking too fast for ${agent.state.name}; try again in ${Math.ceil(admitted.retryInMs / 1000)} s`);
      return;
    }
    const line: Line = {
      playerId, key,
      name: this.host.sim.players.get(playerId)?.state.name ?? playerId, text: msg.text, at: Date.now(),
    };
    const own = talk.queue.filter((l) => l.playerId === playerId);
    if (own.length >= o.queuePerPlayer) {
      talk.queue.splice(talk.queue.indexOf(own[0]), 1);
      this.reject(playerId, `${agent.state.name} is still answering you; your line "${clip(own[0].text)}" was dropped`);
    }
    talk.queue.push(line);
    while (talk.queue.length > o.queuePerNpc) {
      const dropped = talk.queue.shift()!;
      this.reject(dropped.playerId, `${agent.state.name} has too many people talking at once; your line "${clip(dropped.text)}" was dropped`);
    }
    if (!talk.busy) {
      talk.partner = playerId;
      agent.talk(() => this.partnerPosition(npc));
    }
    talk.quietLeft = o.quietSeconds;
    this.pump(npc);
  }

  /** Called every simulation tick: talking NPCs go back to their rounds after a quiet spell. */
  tick(dt: number): void {
    for (const [npc, talk] of this.talks) {
      if (talk.busy || talk.queue.length > 0 || talk.partner === undefined) continue;
      talk.quietLeft -= dt;
      if (talk.quietLeft <= 0 || !this.host.sim.players.has(talk.partner)) {
        talk.partner = undefined;
        this.host.sim.npcs.get(npc)?.endTalk();
      }
    }
  }

  /** A player left: their waiting lines go. */
  playerLeft(playerId: string): void {
    for (const talk of this.talks.values()) talk.queue = talk.queue.filter((l) => l.playerId !== playerId);
  }

  /** Stops taking lines; waits up to `ms` for replies in flight, then aborts them and waits for them to end. */
  async drain(ms = this.rt.options.drainMs): Promise<void> {
    this.closing = true;
    for (const talk of this.talks.values()) talk.queue.length = 0;
    if (this.inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const all = Promise.allSettled([...this.inFlight]);
    const timedOut = await Promise.race([all.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), ms)))]);
    clearTimeout(timer);
    if (!timedOut) return;
    this.host.log(`[dialogue] shutdown: aborting ${this.inFlight.size} replies still generating after ${ms} ms`);
    for (const talk of this.talks.values()) talk.abort?.abort();
    await Promise.race([all, new Promise((r) => setTimeout(r, 2000))]);
  }

  private talkOf(npc: string): NpcTalk {
    let t = this.talks.get(npc);
    if (t === undefined) this.talks.set(npc, (t = { queue: [], busy: false, quietLeft: 0 }));
    return t;
  }

  private partnerPosition(npc: string): { x: number; z: number } | undefined {
    const partner = this.talks.get(npc)?.partner;
    return partner === undefined ? undefined : this.host.sim.players.get(partner)?.position();
  }

  private reject(playerId: string, reason: string): void {
    const event: RejectedEvent = { type: "chat", reason };
    this.host.send(playerId, "rejected", event);
    this.host.log(`[dialogue] rejected ${playerId} chat: ${reason}`);
  }

  private pump(npc: string): void {
    const talk = this.talkOf(npc);
    if (talk.busy || this.closing) return;
    const line = talk.queue.shift();
    if (line === undefined) return;
    if (!this.host.sim.players.has(line.playerId)) return this.pump(npc);
    talk.busy = true;
    talk.partner = line.playerId;
    const done = this.respond(npc, talk, line)
      .catch((e) => this.host.log(`[dialogue] ${npc} ← ${line.key}: reply failed outside the model: ${(e as Error).stack ?? e}`))
      .finally(() => {
        talk.busy = false;
        talk.abort = undefined;
        talk.quietLeft = this.rt.options.quietSeconds;
        this.inFlight.delete(done);
        this.pump(npc);
      });
    this.inFlight.add(done);
  }

  /** Players within earshot of the NPC now, the addressee always among them while connected. */
  private listeners(npc: string, addressee: string): string[] {
    const at = this.host.sim.npcs.get(npc)!.position();
    const out: string[] = [];
    for (const id of this.host.clientIds()) {
      const p = this.host.sim.players.get(id)?.position();
      if (p === undefined) continue;
      if (id === addressee || Math.hypot(p.x - at.x, p.y - at.y, p.z - at.z) <= this.host.earshot) out.push(id);
    }
    return out;
  }

  private async respond(npc: string, talk: NpcTalk, line: Line): Promise<void> {
    const rt = this.rt, o = rt.options;
    const agent = this.host.sim.npcs.get(npc)!;
    const card = rt.cards.get(agent.spawn.character)!;
    const reply = `${npc}-${this.nextReply++}`;
    const to = [line.playerId];
    const listeners = this.listeners(npc, line.playerId);
    const sendAll = (type: string, payload: unknown) => {
      for (const id of listeners) this.host.send(id, type, payload);
    };
    agent.talk(() => this.partnerPosition(npc)); // face this reply's speaker (a point_at may have turned it away)
    const thinking: NpcThinkingEvent = { npc, reply, to };
    sendAll("npc_thinking", thinking);

    const memory = rt.memory;
    const standing = memory ? clampStanding(memory.standing(npc, line.key)) : 0;
    const named = nameSaid(line.text);
    if (named && memory?.setPlayerName) memory.setPlayerName(npc, line.key, named);

    let spoken = "";
    let raw = "";
    let fallback = false;
    let filtered = false;
    let failure: string | undefined;
    let weights: Record<string, number> = {};
    const stream = new SpokenStream();
    let sent = "";
    let held = "";
    const sendToken = (text: string) => {
      if (text === "") return;
      sent += text;
      const ev: NpcTokenEvent = { npc, reply, text };
      sendAll("npc_token", ev);
    };
    /** Sends `text` after the output filter passes what would then be on screen; false when it blocks. */
    const release = (text: string): boolean => {
      const verdict = rt.safety?.checkOutput(sent + text) ?? { ok: true as const };
      if (!verdict.ok) {
        filtered = true;
        failure = `output filtered (${verdict.reason})`;
        talk.abort?.abort();
        return false;
      }
      sendToken(text);
      return true;
    };

    const input = rt.safety?.checkInput(line.text) ?? { ok: true as const };
    if (!input.ok) {
      spoken = rt.safety!.deflect(card, input.reason);
      filtered = true;
      sendToken(spoken);
      this.host.log(`[dialogue] ${npc} ← ${line.key}: input filtered (${input.reason})`);
    } else {
      // A line about what is in sight (core/vision/sight.ts) is answered with the eyes when they are
      // in use and a fresh view is there: a line about the props (answersFromSight) from the props the
      // package's detector found in the view, when it has one (the sight lines and skill of the
      // scene path, no visual tokens), any other with the view's tokens and the vision skill. Without
      // the eyes, a line about the props is answered from the scene graph (props in view marked
      // among the nearby lines, the sight skill); every other line takes the text path.
      const aboutSight = asksAboutSight(line.text);
      const fromSight = answersFromSight(line.text);
      const eyes = aboutSight && this.useEyes() ? await this.viewOf(npc) : undefined;
      const seen = eyes?.seen && fromSight ? eyes.seen : undefined;
      const view = seen ? undefined : eyes;
      const bySight: SightSource | undefined = seen ? { from: "eyes", facts: seen } : !view && fromSight ? { from: "scene" } : undefined;
      const prompt = this.buildPrompt(npc, card, line, standing, view?.tokens, bySight);
      this.prompts.set(npc, prompt);
      this.images.set(npc, view?.image ?? null);
      // Token ids are needed here only by a trained gate (mean embedding); else the worker encodes.
      const ids = rt.gate.kind === "mlp" ? rt.tokenizer.encode(prompt) : [];
      const state: GameState = { timeOfDay: this.hour(), threat: Math.min(1, Math.max(0, this.threat)), standing };
      const adapters = card.adapters;
      if (adapters) rt.retryMissing([adapters.persona, ...adapters.moods, ...adapters.skills]);
      // Seeing is a skill: its adapter comes with the view, at full weight, whatever the gate says.
      const skill = view ? view.adapter : bySight ? SIGHT_SKILL : undefined;
      const fixed = skill ? { [skill]: 1 } : undefined;
      if (skill) rt.retryMissing([skill]);
      const mix = await chooseMixture(rt.bank, rt.gate, { embed: (x) => rt.embed!(Array.from(x)) }, {
        candidates: { persona: card.adapters?.persona ?? null, moods: card.adapters?.moods ?? [], skills: card.adapters?.skills ?? [] },
        state, promptIds: ids, text: line.text, fixed,
      });
      weights = mix.lora?.weights ?? {};
      for (const s of mix.skipped) {
        rt.noteMissing(s.id);
        this.noteSkipped(s.id, s.error);
      }
      const ctl = new AbortController();
      talk.abort = ctl;
      let result: SchedulerResult | undefined;
      // The scheduler ends a late row itself; this timer is the backstop for a wedged or dead
      // worker: past it the reply stops waiting for the stream and falls back.
      let gaveUp = false;
      let stopWaiting!: () => void;
      const backstopFired = new Promise<void>((r) => (stopWaiting = r));
      const backstop = setTimeout(() => {
        failure ??= `no answer within the ${o.deadlineMs} ms deadline (+1 s): the model worker did not respond`;
        gaveUp = true;
        ctl.abort();
        stopWaiting();
      }, o.deadlineMs + 1000);
      // A worked-out sight answer is voiced cooler: sampled at 0.7 the small model miscounted.
      const temperature = bySight && answerInPrompt(prompt) !== null ? Math.min(o.temperature, o.sightTemperature) : o.temperature;
      // A reply about the props in sight is checked against its worked-out answer (core/vision/agree.ts),
      // any other against what the card and the prompt say answers it (core/prompt/checks.ts: a fact,
      // a trade, a request to act, what is around, the gate's mood).
      const check: ReplyCheck | null = checkFor(card, line.text, {
        prompt, scene: this.liveScene, bySight: bySight !== undefined, sight: o.sightRetries > 0, text: o.loreRetries > 0,
        aliases: factAliases(this.liveScene), pick: (Math.random() * 1e6) >>> 0, state: this.threat >= 0.5 ? "danger" : "", weights,
      });
      const submit = (t: number) => rt.model.submit({
        prompt: ids.length > 0 ? ids : prompt,
        options: {
          maxNewTokens: o.maxNewTokens,
          ...(t > 0 ? { doSample: true, temperature: t, topP: o.topP, seed: (Math.random() * 2 ** 31) >>> 0 } : { doSample: false }),
        },
        lora: mix.lora, deadlineMs: o.deadlineMs, signal: ctl.signal,
        ...(view ? { image: view.image } : {}),
      });
      // A checked reply is written whole and checked first; when no try agrees, the answer is said
      // plainly in the closest reply's mood (and, for sight, its opening words that claim nothing).
      const consumeChecked = async (c: ReplyCheck) => {
        const voice = c.voice;
        const voiced = await voiceAgreeing(
          () => submit(temperature).result,
          () => submit(o.temperature > 0 ? o.temperature : 0.7).result,
          c.agrees,
          c.kind === "sight" ? o.sightRetries : o.loreRetries,
          voice === null ? undefined : (least) => ({ ...least, text: voice(least.text) }),
        );
        if (gaveUp) return;
        if (voiced.tries > 1) {
          const still = voiced.disagreements.length ? `, ${voiced.plain ? "said plainly: every try" : "still"} ${voiced.disagreements.join("; ")}` : "";
          this.host.log(`[dialogue] ${npc} → ${line.key}: ${c.kind} reply written ${voiced.tries} times${still}`);
        }
        held += stream.push(voiced.result.text);
        const cut = lastWordEnd(held);
        if (cut > 0 && release(held.slice(0, cut))) held = held.slice(cut);
        result = voiced.result;
      };
      const consume = async () => {
        if (check !== null) return consumeChecked(check);
        const sub = submit(temperature);
        for await (const chunk of sub.chunks) {
          if (gaveUp) return;
          held += stream.push(chunk.text);
          // Only whole words go out, each checked by the output filter first (a half word such
          // as "ass" of "assemble" would trip it; a bad word must not reach players in pieces).
          const cut = lastWordEnd(held);
          if (cut === 0) continue;
          if (!release(held.slice(0, cut))) break;
          held = held.slice(cut);
        }
        const r = await sub.result;
        if (!gaveUp) result = r;
      };
      try {
        const consuming = consume();
        consuming.catch(() => undefined); // after a backstop its late failure is moot
        await Promise.race([consuming, backstopFired]);
        if (result?.finish === "deadline" && stream.text === "") failure ??= `deadline ${o.deadlineMs} ms passed before any word`;
        else if (result?.finish === "abort" && !filtered && stream.text === "") failure ??= "aborted";
      } catch (e) {
        failure ??= `${(e as Error).name}: ${(e as Error).message}`;
      } finally {
        clearTimeout(backstop);
      }
      raw = stream.rawText;
      if (!filtered && failure === undefined && release(held + stream.end())) spoken = stream.text;
      if (filtered) {
        spoken = rt.safety!.deflect(card, failure ?? "output filtered");
        this.host.log(`[dialogue] ${npc} → ${line.key}: ${failure}; deflected`);
      } else if (failure === undefined) {
        if (result?.finish === "deadline") this.host.log(`[dialogue] ${npc} → ${line.key}: cut at the ${o.deadlineMs} ms deadline after ${result.tokens.length} tokens`);
        if (spoken === "" && parseReply(raw).actions.length === 0) failure = `the model wrote no words (${JSON.stringify(raw.slice(0, 80))})`;
      }
      if (failure !== undefined && !filtered) {
        // Whatever was already streamed stays on screen; the fallback line completes the reply.
        fallback = true;
        const rest = this.fallbackLine(card);
        const sep = sent === "" ? "" : " ";
        sendToken(sep + rest);
        spoken = sent;
        raw = "";
        this.host.log(`[dialogue] ${npc} → ${line.key} (${line.playerId}): fallback line, ${failure}`);
      }
    }

    const parsed = parseReply(raw);
    const mood = fallback || filtered ? card.defaultMood : parsed.mood ?? card.defaultMood;
    const actions = fallback || filtered ? [] : parsed.actions;
    if (parsed.invalid.length > 0) this.host.log(`[dialogue] ${npc}: ignored malformed tags ${parsed.invalid.join(" ")}`);
    const event: NpcReplyEvent = {
      npc, name: agent.state.name, reply, to, text: spoken, mood, weights,
      actions: actions.map((a) => `${a.kind}:${a.arg}`), fallback, filtered,
    };
    sendAll("npc_reply", event);
    for (const outcome of applyActions({ sim: this.host.sim, card, npcId: npc, playerId: line.playerId }, actions)) {
      const ev: NpcActionEvent = outcome.ok
        ? { npc, reply, action: outcome.action, ok: true }
        : { npc, reply, action: outcome.action, ok: false, reason: outcome.reason };
      if (!outcome.ok) this.host.log(`[dialogue] ${npc}: action ${outcome.action} skipped: ${outcome.reason}`);
      sendAll("npc_action", ev);
    }
    // The NPC's turn is kept as the model writes one (mood tag first, action tags last), the form
    // earlier turns take in training prompts.
    this.remember(npc, line, formatReply(spoken, mood, actions), mood, fallback);
  }

  private remember(npc: string, line: Line, npcTurn: string, mood: string, fallback: boolean): void {
    const memory = this.rt.memory;
    if (memory === null) {
      const k = `${npc}|${line.key}`;
      const turns = this.localTurns.get(k) ?? [];
      turns.push({ role: "player", text: line.text }, { role: "npc", text: npcTurn });
      this.localTurns.set(k, turns.slice(-2 * this.rt.options.historyTurns));
      return;
    }
    try {
      memory.addTurn(npc, line.key, "player", line.text, line.at);
      memory.addTurn(npc, line.key, "npc", npcTurn, Date.now());
      if (!fallback && mood === "angry") memory.adjustStanding(npc, line.key, -0.1);
      else if (!fallback && mood === "cheerful") memory.adjustStanding(npc, line.key, 0.05);
    } catch (e) {
      this.host.log(`[dialogue] ${npc} ← ${line.key}: memory write failed: ${(e as Error).message}`);
    }
  }

  /** The NPC's fresh view, if the host has one; a failure here only costs the view. */
  private async viewOf(npc: string): Promise<EyesView | undefined> {
    try {
      return await this.host.view?.(npc);
    } catch (e) {
      this.host.log(`[dialogue] ${npc}: view not used: ${(e as Error).message}`);
      return undefined;
    }
  }

  /** Whether lines about sight go to the NPC's eyes (the `sight` option; "auto": when the package reads its views). */
  private useEyes(): boolean {
    const mode = this.rt.options.sight;
    return mode === "eyes" || (mode === "auto" && this.host.viewsRead === true);
  }

  private buildPrompt(npc: string, card: CharacterCard, line: Line, standing: number, view?: number, bySight?: SightSource): string {
    const rt = this.rt, sim = this.host.sim;
    const agent = sim.npcs.get(npc)!;
    const at = agent.position();
    for (const m of this.movable) {
      const p = sim.state.props.get(m.id);
      if (p) m.obj.position = [p.x, p.y, p.z];
    }
    const others: Entity[] = [];
    for (const [id, other] of sim.npcs) {
      if (id === npc) continue;
      const p = other.position();
      others.push({ id, name: other.state.name, position: [p.x, p.y, p.z], colour: other.spawn.colour, tags: [other.state.role] });
    }
    for (const [id, p] of sim.players) {
      if (id === line.playerId) continue;
      const q = p.position();
      others.push({ id: slug(p.state.name) || id, name: p.state.name, position: [q.x, q.y, q.z], tags: ["player"] });
    }
    const speaker = sim.players.get(line.playerId)?.position();
    const memory = rt.memory;
    const history: Turn[] = memory
      ? memory.recentTurns(npc, line.key, rt.options.historyTurns).map((t) => ({ role: t.role, text: t.text }))
      : (this.localTurns.get(`${npc}|${line.key}`) ?? []).slice(-rt.options.historyTurns);
    const notes: string[] = [];
    if (memory?.memoryLine) {
      notes.push(memory.memoryLine(npc, line.key));
    } else if (memory) {
      const name = memory.playerName?.(npc, line.key);
      if (name) notes.push(`The player is called ${name}.`);
      if (standing <= -0.2) notes.push("You dislike them.");
      else if (standing >= 0.2) notes.push("You like them.");
      const summary = memory.summary(npc, line.key);
      if (summary) notes.push(summary);
    }
    const pose = { position: [at.x, at.y, at.z] as [number, number, number], facing: agent.state.yaw };
    // What is in the NPC's view, people standing in the way included.
    const sight = bySight?.from === "eyes"
      ? bySight.facts
      : bySight
        ? sightFacts(this.liveScene.objects, pose, [...others.map((e) => personSolid(e.id, e.position)), ...(speaker ? [personSolid("speaker", [speaker.x, speaker.y, speaker.z])] : [])])
        : undefined;
    const built = assemblePrompt({
      card, scene: this.liveScene, npcId: npc,
      pose,
      playerPosition: speaker ? [speaker.x, speaker.y, speaker.z] : undefined,
      others,
      state: this.threat >= 0.5 ? `danger: ${this.threatWhat}` : "",
      memory: notes.filter(Boolean).join(" "),
      history,
      say: line.text,
      view,
      sight,
      sightFrom: bySight?.from,
    }, rt.countTokens, rt.contextTokens - rt.options.maxNewTokens);
    return built.text;
  }

  /** An in-character line for when the model cannot answer: lines.fallback, else lines.unknown, else a greeting. */
  private fallbackLine(card: CharacterCard): string {
    const pool = card.lines.fallback ?? card.lines.unknown ?? card.greetings;
    const text = pool[this.fallbackTurn++ % pool.length];
    return parseReply(text.replace(/\{[a-z_]+\}/g, card.speakingStyle.address[0] ?? "friend")).text;
  }

  private readonly skippedLogged = new Set<string>();
  private noteSkipped(id: string, error: string): void {
    if (this.skippedLogged.has(id)) return;
    this.skippedLogged.add(id);
    this.host.log(`[dialogue] adapter "${id}" not used: ${error.split("\n")[0]}`);
  }
}

/** Index just past the last character that ends a word (a space or punctuation), 0 when none. */
function lastWordEnd(text: string): number {
  for (let i = text.length - 1; i >= 0; i--) if (!/[\p{L}\p{N}'’-]/u.test(text[i])) return i + 1;
  return 0;
}

function clip(text: string): string {
  return text.length > 40 ? text.slice(0, 39) + "…" : text;
}

function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 64);
}

function clampStanding(s: number): number {
  return Number.isFinite(s) ? Math.max(-1, Math.min(1, s)) : 0;
}
