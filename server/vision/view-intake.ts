import type { SightFact } from "../../core/vision/seen.ts";
import type { NpcViewMessage } from "../../core/protocol/messages.ts";
import type { WorldSimulation } from "../world/simulation.ts";
import type { VisionRuntime } from "./vision-runtime.ts";
import { ViewStore } from "./view-store.ts";

// `npc_view` in one room, after core/protocol's validator passed its shape: the NPC exists and
// the sender stands within talking range of it; features have the exact size for this server's
// encoder and every value is finite and within ±feature_limit (checked here, at once); then the
// projector turns them into visual tokens for the ViewStore (in the vision worker thread). An
// image (a game that cannot run the encoder) is encoded there first, then checked and projected
// the same way.

export interface ViewIntakeHost {
  sim: WorldSimulation;
  /** How far from the NPC a player may be for its view to count, m (the dialogue's hearing range). */
  range: number;
  log(line: string): void;
  /** A view refused after the message was accepted (an image that failed to encode). */
  reject(playerId: string, reason: string): void;
}

export class ViewIntake {
  readonly store: ViewStore;

  constructor(private readonly vision: VisionRuntime, private readonly host: ViewIntakeHost, store = new ViewStore()) {
    this.store = store;
  }

  /** Takes one view; returns why it was refused, or undefined (an image is then encoding). */
  receive(playerId: string, msg: NpcViewMessage): string | undefined {
    const sim = this.host.sim;
    const npc = sim.npcs.get(msg.npc);
    if (npc === undefined) return `no NPC "${msg.npc}" here`;
    const me = sim.players.get(playerId)?.position();
    if (me === undefined) return "you have no character in the world yet";
    const at = npc.position();
    const d = Math.hypot(me.x - at.x, me.z - at.z);
    if (d > this.host.range) return `too far from ${npc.state.name} (${d.toFixed(1)} m; views count within ${this.host.range} m)`;
    const at0 = Date.now();
    if (msg.features !== undefined) {
      const decoded = this.vision.decodeFeatures(msg.features);
      if (!decoded.ok) return decoded.reason;
      const mirror = msg.mirror === undefined ? undefined : this.vision.decodeFeatures(msg.mirror);
      if (mirror !== undefined && !mirror.ok) return `mirror ${mirror.reason}`;
      this.store.track(msg.npc, this.land(playerId, msg.npc, at0, "features", () => this.vision.project(decoded.features, mirror?.features)));
      return undefined;
    }
    const image = msg.image!;
    this.store.track(msg.npc, this.land(playerId, msg.npc, at0, "image", () => this.vision.encodeImage(image)));
    return undefined;
  }

  /** Visual tokens per view. */
  get tokens(): number {
    return this.vision.manifest.tokens;
  }

  /** Stores the tokens (and detected props) `work` makes (in the worker thread); a failure is logged and answered, never thrown. */
  private async land(playerId: string, npc: string, at: number, source: "features" | "image", work: () => Promise<{ tokens: Float32Array; seen?: SightFact[] }>): Promise<void> {
    const seq = this.store.arrival();
    try {
      const { tokens, seen } = await work();
      this.store.set(npc, { tokens, ...(seen ? { seen } : {}), at, from: playerId, source, seq });
    } catch (e) {
      this.host.log(`[vision] ${playerId} ${source} of ${npc}: ${(e as Error).message}`);
      this.host.reject(playerId, `view not used: ${(e as Error).message}`);
    }
  }
}
