// Client-side prediction with server reconciliation for the local player.
// Each input is applied locally at once (the same step function the server runs, from
// core/movement) and kept until the server acknowledges its seq (`lastInput` in state).
// When authoritative state arrives, we restart from it and replay the inputs the server
// has not processed yet. The result is responsive movement that converges on the server.

export type Sequenced = { seq: number };

export class Predictor<Input extends Sequenced, State> {
  private pending: Input[] = [];
  private current: State;

  /**
   * @param step pure movement rule: (state, input) → next state; must not mutate its args.
   * @param initial starting state (usually the spawn from the first server patch).
   * @param maxPending inputs kept unacknowledged at most; older ones are dropped (a stalled
   *   connection must not grow memory without bound; at 30 inputs/s, 300 is 10 s).
   */
  constructor(private step: (s: State, i: Input) => State, initial: State, private maxPending = 300) {
    this.current = initial;
  }

  get state(): State { return this.current; }
  get unacknowledged(): number { return this.pending.length; }

  /** Apply one local input now and remember it for replay. */
  apply(input: Input): State {
    const last = this.pending[this.pending.length - 1];
    if (last && input.seq <= last.seq) throw new Error(`input seq must increase: got ${input.seq} after ${last.seq}`);
    this.pending.push(input);
    if (this.pending.length > this.maxPending) this.pending.shift();
    this.current = this.step(this.current, input);
    return this.current;
  }

  /**
   * Authoritative state from the server, which has processed every input up to ackSeq.
   * Returns the new predicted state: server state + replay of later inputs.
   */
  reconcile(server: State, ackSeq: number): State {
    let i = 0;
    while (i < this.pending.length && this.pending[i].seq <= ackSeq) i++;
    if (i > 0) this.pending.splice(0, i);
    let s = server;
    for (const input of this.pending) s = this.step(s, input);
    this.current = s;
    return s;
  }

  /** Forget everything and start from a state (used after a reconnect or a teleport). */
  reset(state: State): void {
    this.pending = [];
    this.current = state;
  }
}
