// One player in the simulation: its character body, its queue of `move` inputs, and its state.
import { CharacterBody, NO_INPUT, normalizeYaw, type MoveInput, type PhysicsWorld } from "../../core/movement/index.ts";
import type { MoveMessage } from "../../core/protocol/messages.ts";
import { PlayerState } from "../../core/state/world-state.ts";

/** Inputs waiting beyond this (1 s at 30 Hz) are dropped, oldest first: a bound on lag. */
export const MAX_QUEUED_INPUTS = 30;
/** A queue longer than this is a backlog (a burst after a stall), worked off faster than 1 a tick. */
export const BACKLOG = 2;
/** At most this many inputs are applied in one tick while working off a backlog. */
export const MAX_INPUTS_PER_TICK = 4;
/**
 * Ticks of unused time a player may bank (0.5 s). Each tick grants one; each applied (or held)
 * input spends one. Inputs beyond one a tick are paid from the bank, so a client that sends faster
 * than 30 Hz gains at most this much movement, while one whose inputs arrived in a burst (its
 * page or the server stalled) loses none.
 */
export const MAX_BANKED_TICKS = 15;
/** After the queue runs dry the last input's axes are held this many ticks (network jitter). */
const HOLD_TICKS = 3;
/** Smallest replicated change of position (m) or yaw (rad). */
const EPSILON = 1e-3;

export class PlayerAgent {
  readonly state = new PlayerState();
  readonly character: CharacterBody;
  private readonly queue: MoveMessage[] = [];
  private lastQueuedSeq = -1;
  private held: MoveInput = NO_INPUT;
  private heldTicks = 0;
  private banked = MAX_BANKED_TICKS;

  constructor(physics: PhysicsWorld, id: string, name: string, feet: readonly number[], yaw: number) {
    this.character = new CharacterBody(physics, feet, yaw);
    // Nothing held yet: standing still, facing the spawn direction (not NO_INPUT's yaw 0).
    this.held = { ...NO_INPUT, yaw: this.character.yaw };
    Object.assign(this.state, { id, name, x: feet[0], y: feet[1], z: feet[2], yaw: normalizeYaw(yaw), anim: "idle", lastInput: 0 });
  }

  /** Queues a validated input; returns a reason when it is refused (stale or duplicate seq). */
  enqueue(input: MoveMessage): string | undefined {
    if (input.seq <= this.lastQueuedSeq) return `move.seq ${input.seq} is not newer than ${this.lastQueuedSeq}`;
    this.lastQueuedSeq = input.seq;
    this.queue.push(input);
    if (this.queue.length > MAX_QUEUED_INPUTS) this.queue.splice(0, this.queue.length - MAX_QUEUED_INPUTS);
    return undefined;
  }

  /**
   * Applies this tick's input to the character (world.step() follows): the oldest queued one,
   * and while there is a backlog up to MAX_INPUTS_PER_TICK of them, each stepped for dt in turn
   * (the body settles between them), paid from the banked time. With nothing queued the last
   * input's axes are held for HOLD_TICKS (network jitter), then the character stands.
   */
  applyInput(dt: number): void {
    this.banked = Math.min(this.banked + 1, MAX_BANKED_TICKS);
    if (this.queue.length === 0) {
      let input: MoveInput;
      if (this.heldTicks < HOLD_TICKS) {
        // A held tick is movement the client did not send: it is paid like an input, so gaps
        // followed by bursts gain nothing.
        input = this.held;
        this.heldTicks++;
        this.banked -= 1;
      } else {
        input = { ...NO_INPUT, yaw: this.character.yaw };
      }
      this.character.step(input, dt);
      return;
    }
    const extra = Math.min(this.queue.length - BACKLOG, MAX_INPUTS_PER_TICK - 1, this.banked - 1);
    const count = 1 + Math.max(0, extra);
    for (let k = 0; k < count; k++) {
      const next = this.queue.shift()!;
      if (k > 0) this.character.settle();
      this.character.step(next, dt);
      this.held = { ...next, jump: false };
      if (this.state.lastInput !== next.seq) this.state.lastInput = next.seq;
    }
    this.heldTicks = 0;
    this.banked -= count;
  }

  /** Time the world skipped (the server fell further behind than it catches up): banked. */
  bankSkippedTicks(ticks: number): void {
    this.banked = Math.min(this.banked + ticks, MAX_BANKED_TICKS);
  }

  /** Copies the stepped body into the replicated state (only fields that changed). */
  syncState(): void {
    const f = this.character.feet();
    const s = this.state;
    // Sub-millimetre jitter (the controller settling on the ground) is not worth a patch.
    if (Math.abs(s.x - f.x) > EPSILON) s.x = f.x;
    if (Math.abs(s.y - f.y) > EPSILON) s.y = f.y;
    if (Math.abs(s.z - f.z) > EPSILON) s.z = f.z;
    if (Math.abs(s.yaw - this.character.yaw) > EPSILON) s.yaw = this.character.yaw;
    const anim = this.character.anim();
    if (s.anim !== anim) s.anim = anim;
  }

  position(): { x: number; y: number; z: number } {
    return this.character.feet();
  }

  /** Drops queued inputs (after a respawn the old ones no longer make sense). */
  clearInputs(): void {
    this.queue.length = 0;
    this.held = { ...NO_INPUT, yaw: this.character.yaw };
  }

  dispose(): void {
    this.character.dispose();
  }
}
