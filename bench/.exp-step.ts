import { nodeBackend } from "../core/runtime/backend-node.ts";
import { LanguageModel } from "../core/runtime/index.ts";
import { nodePackageFiles } from "../core/runtime/model/files-node.ts";
import { loadModelPackage } from "../core/runtime/model/package.ts";
import { DecoderSession } from "../core/runtime/session.ts";
const name = process.argv[2];
const pkg = await loadModelPackage(`.cache/bench-models/${name}`, nodePackageFiles);
const session = await DecoderSession.create(pkg, nodeBackend({ threads: 2 }), { cacheDir: ".cache/bench-models/graphs", loraTargets: [] });
const model = LanguageModel.fromSession(session, pkg);
for (const B of [1, 16]) {
  const batch = model.newBatch();
  const rows = Array.from({ length: B }, (_, i) => model.createRow(Array.from({ length: 32 }, (_, j) => 10 + i + j), { maxNewTokens: 100, eosTokenIds: [] }));
  await batch.add(rows);
  for (let i = 0; i < 2; i++) await batch.step();
  const f0 = batch.stats.forwardMs;
  const ts: number[] = [];
  for (let i = 0; i < 20; i++) { const t = performance.now(); await batch.step(); ts.push(performance.now() - t); }
  const fw = (batch.stats.forwardMs - f0) / 20;
  ts.sort((a, b) => a - b);
  console.log(`B=${B}: step median ${ts[10].toFixed(2)} ms, min ${ts[0].toFixed(2)}, mean forward ${fw.toFixed(2)} ms, mean step ${(ts.reduce((a, b) => a + b) / 20).toFixed(2)}`);
  for (const r of rows) r.abort();
  await batch.step();
}
