import type { SightFact } from "../../core/vision/seen.ts";

// The latest view of each NPC in one room: its visual tokens (projector output, [tokens·H]),
// when they arrived and who sent them. A reply uses the view while it is fresh (15 s by default);
// an older one is ignored (the NPC has moved on, or the scene has). Views the server is still
// encoding (pixels sent by a game that cannot run the encoder) are tracked, so a line sent right
// after its view waits a moment for it.

export interface NpcView {
  /** Visual tokens [tokens, H], row-major. */
  tokens: Float32Array;
  /** The props the vision package's detector found in it, nearest first (undefined: the package has no detector). */
  seen?: SightFact[];
  /** Date.now() when it arrived. */
  at: number;
  /** sessionId of the player whose client sent it. */
  from: string;
  /** What the client sent: encoder features, or pixels the server encoded. */
  source: "features" | "image";
  /** Arrival order (ViewStore.arrival()): views of one millisecond still keep their order. */
  seq?: number;
}

export const VIEW_FRESH_MS = 15_000;

export class ViewStore {
  private readonly views = new Map<string, NpcView>();
  private readonly pending = new Map<string, Set<Promise<unknown>>>();
  private arrivals = 0;

  constructor(readonly freshMs = VIEW_FRESH_MS) {}

  /** A number for a view arriving now, larger than every earlier one. */
  arrival(): number {
    return ++this.arrivals;
  }

  set(npc: string, view: NpcView): void {
    const old = this.views.get(npc);
    // A view that arrived earlier but finished encoding later (a picture in a slower batch, or
    // behind a newer features view) must not replace the newer one.
    if (old !== undefined && (old.at > view.at || (old.at === view.at && (old.seq ?? 0) > (view.seq ?? 0)))) return;
    this.views.set(npc, view);
  }

  /** The latest view, fresh or not. */
  latest(npc: string): NpcView | undefined {
    return this.views.get(npc);
  }

  /** The latest view when it is at most `freshMs` old at `now`. */
  fresh(npc: string, now = Date.now()): NpcView | undefined {
    const v = this.views.get(npc);
    return v !== undefined && now - v.at <= this.freshMs ? v : undefined;
  }

  /** Tracks work that will set a view of `npc` (an image being encoded). */
  track(npc: string, work: Promise<unknown>): void {
    let set = this.pending.get(npc);
    if (set === undefined) this.pending.set(npc, (set = new Set()));
    set.add(work);
    const done = () => {
      set.delete(work);
      if (set.size === 0 && this.pending.get(npc) === set) this.pending.delete(npc);
    };
    work.then(done, done);
  }

  /**
   * Resolves when the views of `npc` in progress have landed (true), or after `ms` with some still
   * in progress (false), whichever is first.
   */
  async settled(npc: string, ms: number): Promise<boolean> {
    const set = this.pending.get(npc);
    if (set === undefined || set.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const landed = await Promise.race([
      Promise.allSettled([...set]).then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms))),
    ]);
    clearTimeout(timer);
    return landed;
  }

  /** NPCs with a view (fresh or not). */
  get size(): number {
    return this.views.size;
  }
}
