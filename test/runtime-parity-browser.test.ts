import { build } from "esbuild";
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeRandomModel } from "./runtime-parity-fixtures.ts";

// The same parity check as runtime-parity.test.ts, in headless Chromium on onnxruntime-web (wasm):
// a plain HTTP server serves a page, an esbuild bundle of core/runtime, onnxruntime-web's dist and
// random model packages; the page fetches a model, runs it, and compares with the PyTorch dump.

const root = mkdtempSync(join(tmpdir(), "kith-parity-web-"));
const ORT_DIST = join(process.cwd(), "node_modules/onnxruntime-web/dist");
const MODELS: Record<string, string[]> = {
  "llama GQA tied f32": ["--heads", "4", "--kv-heads", "2", "--seed", "11"],
  "qwen2 GQA untied bf16 (q/k/v bias, theta 5e5)": ["--arch", "qwen2", "--heads", "4", "--kv-heads", "2", "--untied", "--dtype", "BF16", "--rope-theta", "500000", "--seed", "12"],
};
const PAGE = `<!doctype html><meta charset="utf-8"><title>kith runtime parity</title>
<script type="importmap">{"imports":{"onnxruntime-web":"/ort/ort.wasm.min.mjs"}}</script>
<script type="module" src="/bundle.js"></script>`;
const TYPES: Record<string, string> = { ".mjs": "text/javascript", ".js": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };

let server: Server;
let browser: Browser;
let base = "";

beforeAll(async () => {
  const names = Object.keys(MODELS);
  const [bundle] = await Promise.all([
    build({ entryPoints: ["test/runtime-parity-browser-page.ts"], bundle: true, format: "esm", platform: "browser", target: "es2022", external: ["onnxruntime-web"], write: false }),
    ...names.map((n, i) => makeRandomModel(join(root, `m${i}`), MODELS[n])),
  ]);
  const js = bundle.outputFiles[0].text;
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const send = (status: number, type: string, body: string) => res.writeHead(status, { "content-type": type }).end(req.method === "HEAD" ? undefined : body);
    if (url.pathname === "/") return send(200, "text/html", PAGE);
    if (url.pathname === "/bundle.js") return send(200, "text/javascript", js);
    const [, area, ...rest] = url.pathname.split("/");
    const dir = area === "ort" ? ORT_DIST : area === "models" ? root : null;
    const file = dir && normalize(join(dir, ...rest));
    if (!file || !file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) return send(404, "text/plain", "not found");
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "content-length": statSync(file).size });
    if (req.method === "HEAD") return res.end();
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-gpu-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"],
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => server?.close(r));
  rmSync(root, { recursive: true, force: true });
});

describe("decoder parity in the browser (onnxruntime-web, wasm)", () => {
  Object.keys(MODELS).forEach((name, i) => {
    it(name, async () => {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(`${base}/`);
      await page.waitForFunction(() => typeof window.runParity === "function");
      const r = await page.evaluate((url) => window.runParity(url), `${base}/models/m${i}`);
      await page.close();
      expect(errors).toEqual([]);
      expect(r.backend).toBe("web");
      expect(r.steps).toBe(3 * 21);
      expect(r.maxDiff).toBeLessThanOrEqual(1e-4);
      expect(r.tokensEqual).toBe(true);
    }, 240_000); // 63 wasm runs on one thread; slow when the machine's cores are shared
  });

  it("int8 weights run on wasm and stay close to f32", async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    await page.waitForFunction(() => typeof window.runQuantized === "function");
    const r = await page.evaluate((url) => window.runQuantized(url, [5, 6, 7, 8, 9, 10, 11, 40, 41, 100, 3, 200, 17, 18, 19, 20]), `${base}/models/m1`);
    await page.close();
    expect(r.cosine).toBeGreaterThanOrEqual(0.995);
    expect(r.top1Agreement).toBeGreaterThanOrEqual(0.8);
  }, 240_000);
});
