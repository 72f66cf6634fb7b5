// Accuracy cost of `quantize: "int8"`: held-out perplexity of the default model (assets/model) with
// f32 and with int8 weights, through the same runtime and the same held-out tokens
// (`npm run tokenize` output under data/). Last line: one JSON object.
//   npx tsx bench/int8-accuracy.ts [--model assets/model] [--heldout data/heldout] [--samples 200]
import { loadModelPackage } from "../core/runtime/model/package.ts";
import { nodePackageFiles } from "../core/runtime/model/files-node.ts";
import { DecoderSession } from "../core/runtime/session.ts";
import { nodeBackend } from "../core/runtime/backend-node.ts";
import { heldoutPerplexity, readTokenSplit } from "../training/eval/perplexity.ts";

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const model = flag("model", "assets/model");
const samples = Number(flag("samples", "200"));
if (!Number.isInteger(samples) || samples < 1) throw new Error(`--samples ${flag("samples", "")}: expected a positive integer`);
const split = readTokenSplit(flag("heldout", "data/heldout"));
const pkg = await loadModelPackage(model, nodePackageFiles);
const out: Record<string, unknown> = { model, samples };
for (const quantize of ["none", "int8"] as const) {
  const session = await DecoderSession.create(pkg, nodeBackend(), { quantize });
  const ppl = await heldoutPerplexity(session, split, samples, (l) => process.stderr.write(`${quantize} ${l}\n`));
  out[quantize === "none" ? "f32" : "int8"] = ppl;
  out[`${quantize === "none" ? "f32" : "int8"}_graph_mb`] = Math.round(session.info.graphBytes / 1e5) / 10;
  await session.release();
}
const f = out.f32 as { loss: number }, q = out.int8 as { loss: number };
out.loss_increase = Math.round((q.loss - f.loss) * 1e4) / 1e4;
console.log(JSON.stringify(out));
