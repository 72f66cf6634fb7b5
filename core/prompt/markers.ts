// Special marker tokens of the prompt layout. The tokenizer keeps each one whole (one id each,
// `added_tokens` in tokenizer.json) and gives them ids 0..n-1 in this order, so every model
// trained on this layout agrees on them.

export const MARKERS = {
  /** Pads batches; never trained on. */
  pad: "<|pad|>",
  /** Separates packed samples in pretraining streams. */
  eos: "<|endoftext|>",
  /** Persona header: who the NPC is (from the character card). */
  persona: "<|persona|>",
  /** The situation: calm, or a danger the NPC perceives. */
  state: "<|state|>",
  /** What is near the NPC (from the scene). */
  near: "<|near|>",
  /** Summary of what the NPC remembers about this player. */
  memory: "<|memory|>",
  /** Start of a player turn. */
  player: "<|player|>",
  /** Start of an NPC turn; generation starts after it. */
  npc: "<|npc|>",
  /** End of a turn; generation stops at it. */
  end: "<|end|>",
  /** Placeholder where visual tokens of the NPC's view are spliced in (inputs_embeds). */
  image: "<|image|>",
} as const;

export type MarkerName = keyof typeof MARKERS;

/** All markers in id order (id = index). */
export const SPECIAL_TOKENS: readonly string[] = Object.values(MARKERS);

/** Removes marker tokens from text a player typed, so nobody can forge a turn boundary. */
export function stripMarkers(text: string): string {
  return text.replace(/<\|[a-z_]+\|>/g, "");
}
