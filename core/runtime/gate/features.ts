// Gate features for one request: a cheap summary of the prompt and the game state.
//   prompt summary   mean of the prompt's token embeddings (DecoderSession.embed rows): [H]
//                    — one table lookup per token and a sum, no forward pass (cost: see README)
//   game state       [sin(2π·t/24), cos(2π·t/24), threat, standing]   t = hour of day 0..24,
//                    threat 0..1 (a hostile creature or fight nearby), standing -1..1 (player's
//                    reputation with this character)

export interface GameState {
  /** Hour of day, 0 ≤ h < 24. */
  timeOfDay: number;
  /** 0 (calm) .. 1 (danger right here). */
  threat: number;
  /** Player's standing with the character, -1 (hated) .. 1 (beloved). */
  standing: number;
}

export const GAME_FEATURES = ["time_sin", "time_cos", "threat", "standing"] as const;

export function checkGameState(s: GameState): void {
  const bad = (f: string, v: unknown, range: string) => {
    throw new Error(`gate: game state "${f}" is ${JSON.stringify(v)}; should be a number in ${range}`);
  };
  if (typeof s.timeOfDay !== "number" || !(s.timeOfDay >= 0 && s.timeOfDay < 24)) bad("timeOfDay", s.timeOfDay, "[0, 24)");
  if (typeof s.threat !== "number" || !(s.threat >= 0 && s.threat <= 1)) bad("threat", s.threat, "[0, 1]");
  if (typeof s.standing !== "number" || !(s.standing >= -1 && s.standing <= 1)) bad("standing", s.standing, "[-1, 1]");
}

export function gameFeatures(s: GameState): Float32Array {
  checkGameState(s);
  const a = (2 * Math.PI * s.timeOfDay) / 24;
  return Float32Array.of(Math.sin(a), Math.cos(a), s.threat, s.standing);
}

/** Mean of the rows of `embedded` ([n, H] from DecoderSession.embed): [H]. */
export function meanEmbedding(embedded: Float32Array, n: number): Float32Array {
  if (n < 1) throw new Error("gate: the prompt summary needs at least one token");
  const H = embedded.length / n;
  const out = new Float32Array(H);
  for (let i = 0; i < n; i++) for (let h = 0; h < H; h++) out[h] += embedded[i * H + h];
  for (let h = 0; h < H; h++) out[h] /= n;
  return out;
}
