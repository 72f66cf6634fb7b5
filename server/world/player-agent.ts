// One player in the simulation: its character body, its queue of `move` inputs, and its state.
import { CharacterBody, NO_INPUT, normalizeYaw, type MoveInput, type PhysicsWorld } from "../../core/movement/index.ts";
import type { MoveMessage } from "../../core/protocol/messages.ts";
import { PlayerState } from "../../core/state/world-state.ts";

/** Inputs buffered beyond this (≈200 ms at 30 Hz) are dropped, oldest first, to bound lag. */
export const MAX_QUEUED_INPUTS = 6;
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

  /** Applies this tick's input (one per tick) to the character; world.step() follows. */
  applyInput(dt: number): void {
    const next = this.queue.shift();
    let input: MoveInput;
    if (next !== undefined) {
      input = next;
      this.held = { ...next, jump: false };
      this.heldTicks = 0;
      if (this.state.lastInput !== next.seq) this.state.lastInput = next.seq;
    } else if (this.heldTicks < HOLD_TICKS) {
      input = this.held;
      this.heldTicks++;
    } else {
      input = { ...NO_INPUT, yaw: this.character.yaw };
    }
    this.character.step(input, dt);
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
