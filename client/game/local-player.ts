import { CharacterBody, MOVEMENT, type Motion, type MoveInput, type PhysicsWorld } from "../../core/movement/index.ts";
import type { MoveMessage } from "../../core/protocol/index.ts";
import type { PlayerState } from "../../core/state/index.ts";
import { Predictor } from "../net/prediction.ts";

// The local player: inputs go to the server and, at the same moment, through the same
// character controller locally (core/movement on a client-side Rapier world built from the
// same scene file). Server patches carry our authoritative feet position and the seq of
// the last input applied (`lastInput`); the Predictor replays the inputs after it.
// The server does not send our velocity, so each predicted state keeps the velocity we
// had after that input, and reconciliation starts from (server position, our velocity).

/** Predicted state after one input. Feet position in metres, yaw in radians. */
export type Predicted = { feet: [number, number, number]; yaw: number; motion: Motion };

/** The fields of our PlayerState that prediction reads. */
export type ServerPose = Pick<PlayerState, "x" | "y" | "z" | "yaw" | "lastInput">;

/** One 30 Hz tick's input with its sequence number. */
export type SeqInput = MoveInput & { seq: number };

/** Server and prediction closer than this (m) agree: no replay needed. */
const AGREE_DISTANCE = 0.01;
/** Corrections larger than this (m) snap; smaller ones are smoothed away over a few frames. */
const SNAP_DISTANCE = 2;
/** How fast the visual error decays (1/s). */
const SMOOTH_RATE = 12;

export class LocalPlayer {
  private body: CharacterBody;
  private predictor: Predictor<SeqInput, Predicted>;
  /** Visual offset (m) between where we draw and the predicted position; decays to 0. */
  private error: [number, number, number] = [0, 0, 0];

  /**
   * @param seq shared input counter. It outlives this object: after a reconnect into the
   *   same seat the server refuses any seq it has already queued, so numbering never restarts.
   */
  constructor(private physics: PhysicsWorld, start: ServerPose, private seq: { next: number } = { next: 1 }) {
    const feet: [number, number, number] = [start.x, start.y, start.z];
    this.body = new CharacterBody(physics, feet, start.yaw);
    this.body.motion = { vx: 0, vy: 0, vz: 0, grounded: true };
    this.predictor = new Predictor<SeqInput, Predicted>(
      (s, i) => this.simulate(s, i),
      { feet, yaw: start.yaw, motion: this.body.motion },
      // Server positions are float32: agreement within 1 cm means our prediction held.
      (a, b) => Math.hypot(a.feet[0] - b.feet[0], a.feet[1] - b.feet[1], a.feet[2] - b.feet[2]) < AGREE_DISTANCE,
    );
    this.seq.next = Math.max(this.seq.next, start.lastInput + 1);
  }

  get state(): Predicted { return this.predictor.state; }
  get pending(): number { return this.predictor.unacknowledged; }
  /** Reconciliations that had to replay inputs (the server disagreed). */
  get corrections(): number { return this.predictor.replayCount; }

  /** True when the character is at rest on the ground (no need to keep sending inputs). */
  get atRest(): boolean {
    const m = this.predictor.state.motion;
    return m.grounded && Math.hypot(m.vx, m.vy > 0 ? m.vy : 0, m.vz) < 0.05;
  }

  /** Apply one input locally; returns the `move` message to send. */
  input(i: MoveInput): MoveMessage {
    const seq = this.seq.next++;
    const msg: MoveMessage = { seq, forward: i.forward, right: i.right, run: i.run, jump: i.jump, yaw: i.yaw };
    this.predictor.apply({ ...i, seq });
    return msg;
  }

  /** Authoritative state arrived: re-predict from it. */
  reconcile(server: ServerPose): void {
    const before = this.predictor.state.feet;
    const ack = server.lastInput;
    // The server does not send velocity: keep the one we predicted for that input.
    const after = this.predictor.reconcile(ack, (predicted) => ({
      feet: [server.x, server.y, server.z],
      yaw: server.yaw,
      motion: predicted?.motion ?? { vx: 0, vy: 0, vz: 0, grounded: true },
    })).feet;
    const jump = Math.hypot(after[0] - before[0], after[1] - before[1], after[2] - before[2]);
    if (jump > SNAP_DISTANCE) this.error = [0, 0, 0];
    else for (let k = 0; k < 3; k++) this.error[k] += before[k] - after[k];
    if (ack >= this.seq.next) this.seq.next = ack + 1;
  }

  /** Where to draw the avatar this frame (predicted position plus decaying error). */
  drawPosition(dt: number): [number, number, number] {
    const k = Math.exp(-SMOOTH_RATE * dt);
    for (let i = 0; i < 3; i++) this.error[i] *= k;
    const f = this.predictor.state.feet;
    return [f[0] + this.error[0], f[1] + this.error[1], f[2] + this.error[2]];
  }

  dispose(): void { this.body.dispose(); }

  /** One tick of core/movement from a given state: the same rule the server runs. */
  private simulate(s: Predicted, i: SeqInput): Predicted {
    this.body.teleport(s.feet);
    // Colliders follow their body only at world.step(); the controller reads the collider.
    this.physics.world.propagateModifiedBodyPositionsToColliders();
    this.body.motion = { ...s.motion };
    this.body.step(i, 1 / MOVEMENT.tickHz);
    this.physics.world.step();
    const f = this.body.feet();
    return { feet: [f.x, f.y, f.z], yaw: this.body.yaw, motion: { ...this.body.motion } };
  }
}
