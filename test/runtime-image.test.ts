import { beforeAll, describe, expect, it } from "vitest";
import { nodeBackend } from "../core/runtime/backend-node.ts";
import { loadModel, type LanguageModel } from "../core/runtime/index.ts";
import { nodePackageFiles } from "../core/runtime/model/files-node.ts";

// Visual tokens enter the decoder through inputs_embeds at the prompt's <|image|> placeholders.
// Splicing in the embeddings of real tokens must give exactly what those tokens give inline.

let model: LanguageModel;
beforeAll(async () => {
  model = await loadModel("assets/model", { backend: nodeBackend({ threads: 1 }), files: nodePackageFiles });
}, 120_000);

describe("image splice", () => {
  it("placeholders filled with token embeddings generate what the tokens generate", async () => {
    const tok = model.tokenizer;
    const words = tok.encode(" a red barrel by the well", { addSpecialTokens: false });
    const inline = "<|persona|>Brom Ironhand, the blacksmith.\n" + " a red barrel by the well" + "\n<|player|>what do you see?<|end|>\n<|npc|>";
    const slotted = "<|persona|>Brom Ironhand, the blacksmith.\n" + "<|image|>".repeat(words.length) + "\n<|player|>what do you see?<|end|>\n<|npc|>";
    const embeds = (model.session as unknown as { embed(ids: number[]): Float32Array }).embed(words);
    const a = await model.generate(inline, { maxNewTokens: 12, doSample: false });
    const b = await model.generate(slotted, { maxNewTokens: 12, doSample: false, image: embeds });
    expect(b.tokenIds).toEqual(a.tokenIds);
    // and without the image the placeholders read differently
    const c = await model.generate(slotted, { maxNewTokens: 12, doSample: false });
    expect(c.tokenIds).not.toEqual(a.tokenIds);
  });

  it("rejects an image that does not fill the placeholders", () => {
    const H = model.config.hiddenSize;
    const p = "<|image|><|image|>\n<|player|>hi<|end|>\n<|npc|>";
    expect(() => model.createRow(p, { image: new Float32Array(3 * H) })).toThrow(/2 <\|image\|> placeholders but the image holds 3/);
    expect(() => model.createRow(p, { image: new Float32Array(H + 1) })).toThrow(/not a whole number/);
    const nan = new Float32Array(2 * H); nan[5] = NaN;
    expect(() => model.createRow(p, { image: nan })).toThrow(/value 5 is not finite/);
  });
});
