import type { AdapterBank } from "../lora/bank.ts";
import { foldMixture, type FoldedLora, type MixtureTerm } from "../lora/mixture.ts";
import type { DecoderSession } from "../session.ts";
import { meanEmbedding, type GameState } from "./features.ts";
import { MlpGate, type Gate, type GateCandidates, type GateDecision } from "./gate.ts";

// One request's adapter mixture: gate decision → packs from the bank → one folded update.
// An adapter the gate picks but the bank cannot serve (missing or broken pack) is left out and
// named in `skipped`; the reply still goes out with the rest (or the base model).

export interface MixtureChoice {
  lora: FoldedLora | null;
  decision: GateDecision;
  skipped: { id: string; error: string }[];
  /** Time spent on the prompt summary (embedding mean), ms. */
  summaryMs: number;
}

export async function chooseMixture(
  bank: AdapterBank,
  gate: Gate,
  session: Pick<DecoderSession, "embed">,
  req: { candidates: GateCandidates; state: GameState; promptIds: number[]; text?: string },
): Promise<MixtureChoice> {
  let summary: Float32Array | undefined;
  let summaryMs = 0;
  if (gate instanceof MlpGate) {
    const t = performance.now();
    summary = gate.summarize((ids) => session.embed(ids), req.promptIds);
    summaryMs = performance.now() - t;
  } else if (gate.kind === "mlp") {
    const t = performance.now();
    summary = meanEmbedding(session.embed(req.promptIds), req.promptIds.length);
    summaryMs = performance.now() - t;
  }
  const decision = gate.decide({ candidates: req.candidates, state: req.state, text: req.text, promptSummary: summary });
  const terms: MixtureTerm[] = [];
  const skipped: MixtureChoice["skipped"] = [];
  for (const [id, weight] of Object.entries(decision.weights)) {
    if (weight === 0) continue;
    try {
      terms.push({ pack: await bank.get(id), weight });
    } catch (e) {
      skipped.push({ id, error: (e as Error).message });
    }
  }
  return { lora: terms.length ? foldMixture(terms) : null, decision, skipped, summaryMs };
}
