import { describe, expect, it } from "vitest";
import { parseModelConfig } from "../core/runtime/model/config.ts";
import { ModelError } from "../core/runtime/model/errors.ts";

// config.json parsing with the shapes of real checkpoints (fields as Hugging Face writes them).

const smollm = {
  architectures: ["LlamaForCausalLM"], model_type: "llama", hidden_size: 576, intermediate_size: 1536,
  num_hidden_layers: 30, num_attention_heads: 9, num_key_value_heads: 3, rms_norm_eps: 1e-5, rope_theta: 10000,
  max_position_embeddings: 2048, vocab_size: 49152, tie_word_embeddings: true, hidden_act: "silu",
  attention_bias: false, rope_scaling: null, bos_token_id: 0, eos_token_id: 0,
};
const qwen2 = {
  architectures: ["Qwen2ForCausalLM"], model_type: "qwen2", hidden_size: 896, intermediate_size: 4864,
  num_hidden_layers: 24, num_attention_heads: 14, num_key_value_heads: 2, rms_norm_eps: 1e-6, rope_theta: 1000000,
  max_position_embeddings: 32768, vocab_size: 151936, tie_word_embeddings: true, hidden_act: "silu",
  use_sliding_window: false, sliding_window: 32768, bos_token_id: 151643, eos_token_id: 151643,
};
const mistral = {
  architectures: ["MistralForCausalLM"], model_type: "mistral", hidden_size: 4096, intermediate_size: 14336,
  num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8, head_dim: 128, rms_norm_eps: 1e-5,
  rope_theta: 1000000, max_position_embeddings: 32768, vocab_size: 32768, sliding_window: null, bos_token_id: 1, eos_token_id: 2,
};

describe("parseModelConfig", () => {
  it("reads a SmolLM (Llama) config", () => {
    expect(parseModelConfig(smollm, "config.json")).toEqual({
      architecture: "llama", hiddenSize: 576, intermediateSize: 1536, numLayers: 30, numHeads: 9, numKvHeads: 3,
      headDim: 64, rmsNormEps: 1e-5, ropeTheta: 10000, maxPositions: 2048, vocabSize: 49152, tieWordEmbeddings: true,
      attentionBias: false, bosTokenId: 0, eosTokenIds: [0],
    });
  });
  it("Qwen2 always has q/k/v bias; an unused sliding_window size is fine", () => {
    const c = parseModelConfig(qwen2, "config.json");
    expect([c.architecture, c.attentionBias, c.headDim, c.numKvHeads, c.ropeTheta]).toEqual(["qwen2", true, 64, 2, 1000000]);
  });
  it("Mistral without sliding window loads; with one it is refused", () => {
    expect(parseModelConfig(mistral, "config.json").headDim).toBe(128);
    expect(() => parseModelConfig({ ...mistral, sliding_window: 4096 }, "m/config.json")).toThrow(/m\/config\.json: sliding-window attention is not supported/);
  });
  it("applies HF defaults: kv heads = heads, head_dim = hidden / heads, untied, eps 1e-6, theta 1e4", () => {
    const { num_key_value_heads: _a, rms_norm_eps: _b, rope_theta: _c, tie_word_embeddings: _d, ...bare } = smollm;
    const c = parseModelConfig(bare, "config.json");
    expect([c.numKvHeads, c.headDim, c.tieWordEmbeddings, c.rmsNormEps, c.ropeTheta]).toEqual([9, 64, false, 1e-6, 10000]);
  });
  it("model_type is used when architectures is absent", () => {
    const { architectures: _, ...noArch } = qwen2;
    expect(parseModelConfig(noArch, "config.json").architecture).toBe("qwen2");
  });
  it("refuses what it cannot run, naming the field and the valid choices", () => {
    const bad: [object, RegExp][] = [
      [{ ...smollm, rope_scaling: { rope_type: "llama3", factor: 32 } }, /rope_scaling "llama3" is not supported\. Should be one of: null/],
      [{ ...smollm, architectures: ["GPTNeoXForCausalLM"] }, /unsupported architecture "GPTNeoXForCausalLM"\. Should be one of: LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM/],
      [{ ...smollm, num_key_value_heads: 4 }, /num_attention_heads \(9\) must be a multiple of num_key_value_heads \(4\)/],
      [{ ...smollm, hidden_size: "576" }, /field "hidden_size" must be a positive integer, got "576"/],
      [{ ...smollm, hidden_act: "gelu" }, /hidden_act "gelu" is not supported\. Should be one of: "silu"/],
      [{ ...smollm, eos_token_id: [2, -1] }, /field "eos_token_id\[1\]" must be a token id/],
      [[1, 2], /expected a JSON object/],
    ];
    for (const [json, message] of bad) {
      expect(() => parseModelConfig(json, "config.json")).toThrow(ModelError);
      expect(() => parseModelConfig(json, "config.json")).toThrow(message);
    }
  });
});
