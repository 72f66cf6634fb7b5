import * as ort from "onnxruntime-web";
import { webBackend } from "../core/runtime/backend-web.ts";
import { fetchPackageFiles } from "../core/runtime/model/files-fetch.ts";
import { loadModelPackage } from "../core/runtime/model/package.ts";
import { DecoderSession } from "../core/runtime/session.ts";
import { checkAgainstReference, compareQuantized, type Reference } from "./runtime-parity-check.ts";

// Page script of the browser parity suite (bundled by esbuild; "onnxruntime-web" comes from an
// import map). Loads a model package over fetch, runs the ONNX decoder on onnxruntime-web (wasm)
// and compares with the PyTorch reference dump served next to the model.
declare global {
  interface Window {
    runParity(modelUrl: string): Promise<{ maxDiff: number; tokensEqual: boolean; steps: number; backend: string }>;
    runQuantized(modelUrl: string, ids: number[]): Promise<{ cosine: number; top1Agreement: number }>;
  }
}

window.runParity = async (modelUrl) => {
  const pkg = await loadModelPackage(modelUrl, fetchPackageFiles());
  const backend = webBackend(ort, { threads: 1 });
  const session = await DecoderSession.create(pkg, backend);
  const ref = (await (await fetch(`${modelUrl}/reference.json`)).json()) as Reference;
  const r = await checkAgainstReference(session, ref);
  await session.release();
  return { ...r, backend: backend.name };
};

window.runQuantized = async (modelUrl, ids) => {
  const pkg = await loadModelPackage(modelUrl, fetchPackageFiles());
  const backend = webBackend(ort, { threads: 1 });
  const f32 = await DecoderSession.create(pkg, backend);
  const int8 = await DecoderSession.create(pkg, backend, { quantize: "int8" });
  const r = await compareQuantized(f32, int8, ids);
  await f32.release();
  await int8.release();
  return r;
};
