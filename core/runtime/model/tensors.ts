import type { ModelConfig } from "./config.ts";

// The Hugging Face tensor names and shapes a decoder needs. Linear weights are [out, in] (PyTorch
// nn.Linear layout); the graph builder transposes them once at build time.
export interface ExpectedTensor {
  name: string;
  shape: number[];
}

export function layerPrefix(i: number): string {
  return `model.layers.${i}`;
}

/** Does o_proj carry a bias? Llama with attention_bias: yes; Qwen2 (q/k/v bias only): no. */
export function hasOutputBias(c: ModelConfig): boolean {
  return c.attentionBias && c.architecture === "llama";
}

export function expectedTensors(c: ModelConfig): ExpectedTensor[] {
  const H = c.hiddenSize, I = c.intermediateSize, q = c.numHeads * c.headDim, kv = c.numKvHeads * c.headDim;
  const out: ExpectedTensor[] = [{ name: "model.embed_tokens.weight", shape: [c.vocabSize, H] }];
  for (let i = 0; i < c.numLayers; i++) {
    const p = layerPrefix(i);
    out.push(
      { name: `${p}.input_layernorm.weight`, shape: [H] },
      { name: `${p}.self_attn.q_proj.weight`, shape: [q, H] },
      { name: `${p}.self_attn.k_proj.weight`, shape: [kv, H] },
      { name: `${p}.self_attn.v_proj.weight`, shape: [kv, H] },
      { name: `${p}.self_attn.o_proj.weight`, shape: [H, q] },
      { name: `${p}.post_attention_layernorm.weight`, shape: [H] },
      { name: `${p}.mlp.gate_proj.weight`, shape: [I, H] },
      { name: `${p}.mlp.up_proj.weight`, shape: [I, H] },
      { name: `${p}.mlp.down_proj.weight`, shape: [H, I] },
    );
    if (c.attentionBias) {
      out.push(
        { name: `${p}.self_attn.q_proj.bias`, shape: [q] },
        { name: `${p}.self_attn.k_proj.bias`, shape: [kv] },
        { name: `${p}.self_attn.v_proj.bias`, shape: [kv] },
      );
    }
    if (hasOutputBias(c)) out.push({ name: `${p}.self_attn.o_proj.bias`, shape: [H] });
  }
  out.push({ name: "model.norm.weight", shape: [H] });
  if (!c.tieWordEmbeddings) out.push({ name: "lm_head.weight", shape: [c.vocabSize, H] });
  return out;
}
