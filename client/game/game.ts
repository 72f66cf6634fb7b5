import type { Room } from "@colyseus/sdk";
import type { Scene as KithScene } from "../../core/scene/schema.ts";
import { MOVEMENT, type MoveInput, type PhysicsWorld } from "../../core/movement/index.ts";
import type { ChatEvent, RejectedEvent } from "../../core/protocol/index.ts";
import type { WorldState } from "../../core/state/index.ts";
import { yawQuat } from "../net/interpolation.ts";
import type { Keys } from "../input/keys.ts";
import { moveIntent } from "../input/move-intent.ts";
import type { ChatBox } from "../ui/chat.ts";
import type { Notices } from "../ui/notice.ts";
import type { FollowCamera } from "../world/camera.ts";
import type { BuiltWorld } from "../world/build-world.ts";
import { Entities } from "./entities.ts";
import { LocalPlayer } from "./local-player.ts";
import { Obstacles } from "./obstacles.ts";
import { Dialogue, type DialogueUi } from "../dialogue/dialogue.ts";
import { NpcVision } from "../vision/npc-vision.ts";
import type { Scene } from "../world/babylon.ts";

// The running game: binds a room's state and messages to the world on screen, runs the
// fixed 30 Hz input tick (prediction + `move` messages, on a timer) and the per-frame rendering.

const TICK = 1 / MOVEMENT.tickHz;
/**
 * Ticks run at most per timer call: a stall of up to 200 ms is caught up, a longer one is
 * skipped rather than sent as a burst (the server queues at most 6 inputs per player and
 * drops older ones, see server/world/player-agent.ts).
 */
const MAX_TICKS_PER_CALL = 6;

export type GameParts = {
  scene: Scene;
  sceneFile: KithScene;
  world: BuiltWorld;
  physics: PhysicsWorld;
  camera: FollowCamera;
  keys: Keys;
  chat: ChatBox;
  notices: Notices;
  /** Talk prompt, NPC panel and inventory HUD. */
  dialogueUi: Omit<DialogueUi, "chat">;
  /** NPC views: the server's vision package URL prefix and the page's `vision` parameter. */
  vision: { base: string; want: string | null };
};

export class Game {
  readonly entities: Entities;
  readonly dialogue: Dialogue;
  readonly vision: NpcVision;
  /** Lines to NPCs go out in order, each after its NPC's view. */
  private lines: Promise<void> = Promise.resolve();
  private obstacles: Obstacles;
  private room: Room<any, WorldState> | null = null;
  private local: LocalPlayer | null = null;
  private acc = 0;
  private lastYaw = 0;
  private lastFrame = performance.now();
  /** Input numbering for this page's whole life (see LocalPlayer). */
  private seq = { next: 1 };
  /** Undo functions of the current room's listeners. */
  private unbind: Array<() => void> = [];
  online = false;
  /** Rooms attached so far: the first is the join, later ones are reconnections. */
  private rooms = 0;
  private placeCamera = false;

  constructor(private parts: GameParts) {
    this.entities = new Entities(parts.scene, parts.world.palette, parts.world.shadows, parts.world.meshes, parts.sceneFile);
    this.obstacles = new Obstacles(parts.physics);
    this.dialogue = new Dialogue({ ...parts.dialogueUi, chat: parts.chat }, this.entities, parts.sceneFile, () => this.selfId);
    this.vision = new NpcVision({
      ...parts.vision,
      scene: parts.scene,
      entities: this.entities,
      me: () => {
        const s = this.local?.state;
        return s ? { x: s.feet[0], z: s.feet[2] } : null;
      },
      send: (m) => {
        if (!this.room || !this.online) return false;
        this.room.send("npc_view", m);
        return true;
      },
    });
    parts.chat.sent((text) => this.sendChat(text));
  }

  /**
   * A chat line goes to the NPC the player faces in talk range (after a view of what that NPC
   * sees, so its reply can use it), else to the players around.
   */
  private sendChat(text: string): void {
    const to = this.dialogue.addressee;
    this.lines = this.lines
      .then(async () => {
        if (to) await this.vision.beforeLineAsync(to);
        this.room?.send("chat", to ? { text, to } : { text });
      })
      .catch((e: unknown) => console.warn("[kith] a chat line could not be sent", e));
  }

  get selfId(): string | null { return this.room?.sessionId ?? null; }
  get me(): LocalPlayer | null { return this.local; }

  /** A room appeared (first join, or a new Room after reconnecting): bind to it. */
  attach(room: Room<any, WorldState>, fresh: boolean): void {
    for (const u of this.unbind) u();
    this.unbind = [];
    this.room = room;
    this.entities.clear();
    this.obstacles.clear();
    this.local?.dispose();
    this.local = null;
    // A new place (first join, or a fresh join after the seat was lost): put the camera
    // behind the player. Coming back to the same seat keeps the view as it was.
    this.placeCamera = fresh;
    const onState = (state: WorldState) => this.onPatch(state);
    room.onStateChange(onState);
    this.unbind.push(() => room.onStateChange.remove(onState));
    this.unbind.push(...this.dialogue.bind(room));
    this.unbind.push(room.onMessage("chat", (e: ChatEvent) => {
      // An NPC line relayed as chat after its npc_reply is already in the log and its bubble.
      if (this.entities.npcs.has(e.from) && this.dialogue.isEchoOfReply(e)) return;
      const kind = e.from === room.sessionId ? "self" : this.entities.npcs.has(e.from) ? "npc" : "player";
      this.parts.chat.add({ from: e.name, text: e.text, kind });
      (this.entities.players.get(e.from) ?? this.entities.npcs.get(e.from))?.avatar.say(e.text);
    }));
    this.unbind.push(room.onMessage("rejected", (e: RejectedEvent) => {
      // A refused view costs the NPC its eyes for a moment; the player need not be told.
      if (e.type === "npc_view") return this.vision.rejected(e);
      this.parts.notices.show(`${e.type}: ${e.reason}`);
    }));
    // After the SDK re-opens the socket the server may have moved on without our inputs:
    // restart prediction from the next authoritative state.
    const onReconnect = () => {
      this.local?.dispose();
      this.local = null;
      this.parts.chat.add({ from: "kith", text: "Reconnected.", kind: "system" });
    };
    room.onReconnect(onReconnect);
    this.unbind.push(() => room.onReconnect.remove(onReconnect));
    if (room.state) this.onPatch(room.state);
    if (this.rooms++ > 0) {
      const text = fresh ? "Reconnected as a new arrival (the old place was gone)." : "Reconnected.";
      this.parts.chat.add({ from: "kith", text, kind: "system" });
    }
  }

  private onPatch(state: WorldState): void {
    const now = performance.now();
    const selfId = this.selfId;
    this.entities.sync(state, now, selfId);
    this.obstacles.sync(state, selfId);
    this.dialogue.onPatch(state);
    const mine = selfId ? state.players.get(selfId) : undefined;
    if (!mine) return;
    if (!this.local) {
      this.local = new LocalPlayer(this.parts.physics, mine, this.seq);
      this.lastYaw = mine.yaw;
      if (this.placeCamera) {
        this.placeCamera = false;
        this.parts.camera.lookAlong(mine.yaw);
        this.parts.camera.snapTo([mine.x, mine.y, mine.z]);
      }
    } else {
      this.local.reconcile(mine);
    }
    // Movable props in our prediction world follow the server, so we collide with them where they are.
    state.props.forEach((p, id) => {
      const body = this.parts.physics.props.get(id);
      if (!body) return;
      body.setTranslation({ x: p.x, y: p.y, z: p.z }, false);
      body.setRotation({ x: p.qx, y: p.qy, z: p.qz, w: p.qw }, false);
      body.setLinvel({ x: 0, y: 0, z: 0 }, false);
      body.setAngvel({ x: 0, y: 0, z: 0 }, false);
    });
  }

  /**
   * Input ticks run on their own timer, not in the render loop: a slow GPU (or software
   * rendering at a few frames per second) must not slow the player down. The accumulator
   * turns timer jitter into whole 30 Hz ticks.
   */
  startTicking(): () => void {
    let last = performance.now();
    const id = setInterval(() => {
      const now = performance.now();
      this.acc = Math.min(this.acc + (now - last) / 1000, MAX_TICKS_PER_CALL * TICK);
      last = now;
      while (this.acc >= TICK) {
        this.acc -= TICK;
        const axes = this.parts.keys.axes();
        // Keyboard orbit on the same clock as movement, so "turn, then walk" walks the new
        // way even when frames are rare.
        this.parts.camera.orbit(axes.turn, TICK);
        this.tick(axes);
      }
    }, 1000 / MOVEMENT.tickHz / 2);
    return () => clearInterval(id);
  }

  /** One rendered frame (called from the engine's render loop). */
  frame(): void {
    const now = performance.now();
    const dt = Math.min(0.25, (now - this.lastFrame) / 1000);
    this.lastFrame = now;
    const selfId = this.selfId;
    this.entities.render(now, dt, selfId);
    const self = selfId ? this.entities.players.get(selfId) : undefined;
    if (this.local && self) {
      const at = this.local.drawPosition(dt);
      const s = this.local.state;
      self.avatar.setPose(at, yawQuat(s.yaw));
      self.avatar.walking = s.motion.grounded && Math.hypot(s.motion.vx, s.motion.vz) > 0.3;
      self.avatar.animate(dt);
      this.parts.camera.update(dt, at);
    }
    const me = this.local?.state;
    this.dialogue.frame(now, me ? { x: me.feet[0], z: me.feet[2], yaw: me.yaw } : null, this.parts.camera.yaw, this.parts.chat.typing);
    this.vision.tick(now, this.parts.chat.typing ? this.dialogue.talkTarget : null);
  }

  /** One 30 Hz input tick: predict locally and send the same input to the server. */
  private tick(axes: ReturnType<Keys["axes"]>): void {
    const room = this.room;
    if (!room || !this.local || !this.online) return;
    const intent = moveIntent(axes, this.parts.camera.yaw, this.lastYaw);
    // Keep sending (zero) inputs until we are at rest: the server numbers only the inputs
    // it gets, and every tick it simulates for us must be one we can replay.
    if (!intent && this.local.atRest) return;
    const input: MoveInput = intent ?? { forward: 0, right: 0, run: false, jump: false, yaw: this.lastYaw };
    this.lastYaw = input.yaw;
    room.send("move", this.local.input(input));
  }
}
