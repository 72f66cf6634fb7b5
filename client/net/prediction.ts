// Client-side prediction with server reconciliation for the local player.
// Each input is applied locally at once (the same step function the server runs, from
// core/movement) and kept until the server acknowledges its seq (`lastInput` in state).
// When authoritative state arrives, we restart from it and replay the inputs the server
// has not processed yet. The result is responsive movement that converges on the server.

export type Sequenced = { seq: number };

export class Predictor<Input extends Sequenced, State> {
  /** Inputs not yet acknowledged, each with the state we predicted right after it. */
  private pending: Array<{ input: Input; after: State }> = [];
  private current: State;
  private replays = 0;

  /**
   * @param step movement rule: (state, input) → next state; must not mutate its args.
   * @param initial starting state (usually the spawn from the first server patch).
   * @param same whether two states agree closely enough to skip a replay; when the server
   *   agrees with what we predicted for the acknowledged input, the later predictions stand.
   * @param maxPending inputs kept unacknowledged at most; older ones are dropped (a stalled
   *   connection must not grow memory without bound; at 30 inputs/s, 300 is 10 s).
   */
  constructor(
    private step: (s: State, i: Input) => State,
    initial: State,
    private same: (a: State, b: State) => boolean = () => false,
    private maxPending = 300,
  ) {
    this.current = initial;
  }

  get state(): State { return this.current; }
  get unacknowledged(): number { return this.pending.length; }
  /** How many reconciliations had to replay (mispredictions), for diagnostics. */
  get replayCount(): number { return this.replays; }

  /** Apply one local input now and remember it for replay. */
  apply(input: Input): State {
    const last = this.pending[this.pending.length - 1];
    if (last && input.seq <= last.input.seq) throw new Error(`input seq must increase: got ${input.seq} after ${last.input.seq}`);
    this.current = this.step(this.current, input);
    this.pending.push({ input, after: this.current });
    if (this.pending.length > this.maxPending) this.pending.shift();
    return this.current;
  }

  /**
   * The server has processed every input up to ackSeq. `server` builds the authoritative
   * state, given what we had predicted right after ackSeq (undefined when unknown) so the
   * caller can fill in what the server does not send (e.g. velocity).
   * Returns the new predicted state: server state + replay of the later inputs.
   */
  reconcile(ackSeq: number, server: (predictedAtAck: State | undefined) => State): State {
    let i = 0;
    while (i < this.pending.length && this.pending[i].input.seq < ackSeq) i++;
    const atAck = this.pending[i]?.input.seq === ackSeq ? this.pending[i].after : undefined;
    const base = server(atAck);
    if (atAck !== undefined) i++;
    this.pending.splice(0, i);
    if (atAck !== undefined && this.same(atAck, base)) return this.current;
    this.replays++;
    let s = base;
    for (const p of this.pending) {
      s = this.step(s, p.input);
      p.after = s;
    }
    this.current = s;
    return s;
  }

  /** Forget everything and start from a state (used after a reconnect or a teleport). */
  reset(state: State): void {
    this.pending = [];
    this.current = state;
  }
}
