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

/**
 * Mood and skill terms with less than this share of their total weight are left out of the fold
 * and the rest scaled up to the same total. A row's folded rank is the sum of its terms' ranks,
 * and a batch runs every row at its largest rank, so five barely-weighted moods would run every
 * row's LoRA at six times a single pack's rank for a negligible change.
 */
export const MIN_MIX_SHARE = 0.1;

/** The terms worth folding: the persona, and moods/skills with at least `minShare` of their mass. */
export function pruneWeights(weights: Record<string, number>, persona: string | null, minShare = MIN_MIX_SHARE): Record<string, number> {
  const out: Record<string, number> = {};
  let total = 0, kept = 0;
  for (const [id, w] of Object.entries(weights)) if (id !== persona) total += w;
  for (const [id, w] of Object.entries(weights)) {
    if (w === 0) continue;
    if (id === persona) out[id] = w;
    else if (w >= minShare * total) { out[id] = w; kept += w; }
  }
  if (kept > 0 && kept !== total) for (const id of Object.keys(out)) if (id !== persona) out[id] *= total / kept;
  return out;
}

export async function chooseMixture(
  bank: AdapterBank,
  gate: Gate,
  session: Pick<DecoderSession, "embed">,
  req: {
    candidates: GateCandidates; state: GameState; promptIds: number[]; text?: string; minShare?: number;
    /** Adapters applied at a fixed weight whatever the gate says (the vision skill when the NPC
     *  has a view: vision.json `adapter`). Listed in the returned weights like the others. */
    fixed?: Record<string, number>;
  },
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
  const chosen = { ...pruneWeights(decision.weights, req.candidates.persona, req.minShare), ...req.fixed };
  for (const [id, weight] of Object.entries(chosen)) {
    try {
      terms.push({ pack: await bank.get(id), weight });
    } catch (e) {
      skipped.push({ id, error: (e as Error).message });
    }
  }
  return { lora: terms.length ? foldMixture(terms) : null, decision, skipped, summaryMs };
}
