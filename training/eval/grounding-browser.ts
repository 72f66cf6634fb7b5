import { build } from "esbuild";
import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize, resolve } from "node:path";
import { launchChromiumAsync } from "../../test/helpers/browser.ts";

// Runs the vision encoder in headless Chromium on onnxruntime-web over a split's pictures: the
// features the game's client would send (of each picture and its mirror), and how long each encode took.

const TYPES: Record<string, string> = { ".mjs": "text/javascript", ".js": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };
const PAGE = `<!doctype html><meta charset="utf-8"><title>kith vision encode</title>
<script type="importmap">{"imports":{"onnxruntime-web":"/ort/ort.wasm.min.mjs"}}</script>
<script type="module" src="/bundle.js"></script>`;

export async function encodeInBrowser(pkgDir: string, imagesFile: string, count: number): Promise<{ features: Float32Array; mirrors: Float32Array; ms: number[]; featureLen: number }> {
  const bundle = await build({ entryPoints: [join(import.meta.dirname, "grounding-browser-page.ts")], bundle: true, format: "esm", platform: "browser", target: "es2022", external: ["onnxruntime-web"], write: false });
  const js = bundle.outputFiles[0].text;
  const areas: Record<string, string> = { ort: resolve("node_modules/onnxruntime-web/dist"), pkg: resolve(pkgDir) };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const send = (status: number, type: string, body: string) => res.writeHead(status, { "content-type": type }).end(req.method === "HEAD" ? undefined : body);
    if (url.pathname === "/") return send(200, "text/html", PAGE);
    if (url.pathname === "/bundle.js") return send(200, "text/javascript", js);
    const [, area, ...rest] = url.pathname.split("/");
    let file: string | null = null;
    if (area === "images") file = resolve(imagesFile);
    else if (areas[area]) {
      file = normalize(join(areas[area], ...rest));
      if (!file.startsWith(areas[area])) file = null;
    }
    if (!file || !existsSync(file) || !statSync(file).isFile()) return send(404, "text/plain", "not found");
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "content-length": statSync(file).size });
    if (req.method === "HEAD") return res.end();
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const browser = await launchChromiumAsync();
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(base);
    await page.waitForFunction(() => typeof window.encodeAll === "function", undefined, { timeout: 60_000 }).catch(() => {
      throw new Error(`encoder page did not load: ${errors.join("; ") || "no error reported"}`);
    });
    const r = await page.evaluate(([p, n]) => window.encodeAll(`${location.origin}/pkg`, `${location.origin}/images`, n), [base, count] as [string, number]);
    return { features: Float32Array.from(r.features), mirrors: Float32Array.from(r.mirrors), ms: r.ms, featureLen: r.featureLen };
  } finally {
    await browser.close();
    await new Promise((r) => server.close(r));
  }
}
