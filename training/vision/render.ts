import { build } from "esbuild";
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { createServer } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Page } from "playwright-core";
import { parseScene } from "../../core/scene/load.ts";
import { solidOf, viewProps, type PropView } from "../../core/vision/view.ts";
import type { Scene } from "../../core/scene/schema.ts";
import { parseFlags } from "./flags.ts";
import { contactSheet } from "./png.ts";
import { figureSolids, generateView, sceneViews, type View } from "./scenes.ts";
import type { RenderItem } from "./render-page.ts";

// The vision renderer: builds each view's scene in headless Chromium with the client's own
// scene code and NPC eye, and writes <out>/<split>/images.u8 (N × 64 × 64 × 3 RGB, top row first),
// views.jsonl (one line per image: the scene's props with their view.ts truth) and sheet.png.
//
//   npm run vision:render -- --split train --count 6000 --seed 1 --out data/vision
//   npm run vision:render -- --split village --scene scenes/village.json --extra 95 --seed 5 --out data/vision
//
// Options: --npc <id> (scene mode: one NPC only), --pages <n> (parallel pages, default 1),
// --batch <n> (views per page call, default 16), --inflight <n> (views a page renders at once,
// default 4), --shadow <px> (shadow map side, default 512; 0 keeps the game's 2048: at 64 px
// the two differ only along shadow edges, and the smaller map renders several times faster),
// --fresh-every <n> (a page is loaded afresh after rendering this many views, default 2000: one
// page left to render 10,000 views slowed from 14 to 4 views a second; 0 never).

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const SIZE = 64;

type Args = { split: string; count: number; seed: number; out: string; scene?: string; npc?: string; extra: number; pages: number; batch: number; shadow: number; inflight: number; freshEvery: number };

function parseArgs(argv: string[]): Args {
  const a = parseFlags(argv, ["split", "count", "seed", "out", "scene", "npc", "extra", "pages", "batch", "shadow", "inflight", "fresh-every"]);
  const int = (k: string, d: number) => {
    if (a[k] === undefined) return d;
    const n = Number(a[k]);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${k} must be a whole number ≥ 0, got "${a[k]}"`);
    return n;
  };
  if (!a.split || !/^[a-z0-9_-]+$/.test(a.split)) throw new Error(`--split must name the split (letters, digits, _ -), got "${a.split ?? ""}"`);
  return {
    split: a.split, count: int("count", 100), seed: int("seed", 1), out: a.out ?? "data/vision", scene: a.scene, npc: a.npc,
    extra: int("extra", 95), pages: Math.max(1, int("pages", 1)), batch: Math.max(1, int("batch", 16)),
    shadow: int("shadow", 512), inflight: Math.max(1, int("inflight", 4)), freshEvery: Math.max(0, int("fresh-every", 2000)),
  };
}

/** One line of views.jsonl. */
export type ViewRecord = {
  index: number;
  seed: number;
  source: string;
  time: string;
  fog: boolean;
  npc: { id: string; position: [number, number, number]; facing: number };
  scene: { name: string; ground: Scene["ground"]; sky: Scene["sky"]; timeOfDay: number; objects: number };
  figures: View["figures"];
  /** Grounding props: scene facts (size = bounds in m, yaw) and what the eye sees (core/vision/view.ts). */
  props: (PropView & { position: [number, number, number]; yaw: number; size: [number, number, number] })[];
};

/** The views.jsonl line for a view: its scene facts and core/vision/view.ts truth. */
export function record(index: number, source: string, v: View): ViewRecord {
  const seen = viewProps(v.scene.objects, v.npc, figureSolids(v.figures));
  const byId = new Map(v.scene.objects.map((o) => [o.id, o]));
  return {
    index, seed: v.seed, source, time: v.time, fog: v.fog,
    npc: { id: v.npc.id, position: [...v.npc.position], facing: v.npc.facing },
    scene: { name: v.scene.name, ground: v.scene.ground, sky: v.scene.sky, timeOfDay: v.scene.timeOfDay, objects: v.scene.objects.length },
    figures: v.figures,
    props: seen.map((p) => {
      const o = byId.get(p.id)!;
      const s = solidOf(o);
      const r2 = (x: number) => Math.round(x * 100) / 100;
      return { ...p, position: [...o.position], yaw: o.rotation[1], size: [r2(2 * s.half[0]), r2(2 * s.half[1]), r2(2 * s.half[2])] };
    }),
  };
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>kith vision renderer</title><body style="margin:0"><script type="module" src="/bundle.js"></script>`;

async function startServer(): Promise<{ url: string; close(): Promise<void> }> {
  const bundle = await build({ entryPoints: [path.join(ROOT, "training/vision/render-page.ts")], bundle: true, format: "esm", platform: "browser", target: "es2022", write: false, logLevel: "warning",
    // Babylon marks its side-effect registrations (the shadow component) side-effect free; keep them.
    ignoreAnnotations: true });
  const js = bundle.outputFiles[0].text;
  const server = createServer((req, res) => {
    const p = new URL(req.url ?? "/", "http://x").pathname;
    if (p === "/") res.writeHead(200, { "content-type": "text/html" }).end(PAGE);
    else if (p === "/bundle.js") res.writeHead(200, { "content-type": "text/javascript" }).end(js);
    else res.writeHead(p === "/favicon.ico" ? 204 : 404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`, close: () => new Promise((r) => server.close(() => r())) };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  let views: () => Iterable<[View, string]>;
  let count: number;
  if (args.scene) {
    const file = path.resolve(ROOT, args.scene);
    const scene = parseScene(JSON.parse(readFileSync(file, "utf8")), args.scene);
    const list = sceneViews(scene, { npc: args.npc, extra: args.extra, seed: args.seed });
    const source = `scene:${path.basename(args.scene, ".json")}`;
    views = () => list.map((v) => [v, source] as [View, string]);
    count = list.length;
  } else {
    count = args.count;
    // Each view's seed comes from the split seed and its index: different split seeds, different scenes.
    views = function* () { for (let i = 0; i < count; i++) yield [generateView(args.seed * 1_000_003 + i), "generated"]; };
  }
  const dir = path.resolve(ROOT, args.out, args.split);
  mkdirSync(dir, { recursive: true });

  const server = await startServer();
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--no-first-run", "--disable-gpu-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"],
  });
  const load = async (page: Page) => {
    await page.goto(`${server.url}?shadow=${args.shadow}&inflight=${args.inflight}`);
    await page.waitForFunction(() => typeof window.renderViews === "function");
  };
  const pages: Page[] = [];
  for (let i = 0; i < args.pages; i++) {
    const page = await browser.newPage({ viewport: { width: 64, height: 64 } });
    page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
    page.on("console", (m) => { if (m.type() === "error") console.error(`page console: ${m.text()}`); });
    await load(page);
    pages.push(page);
  }

  const imagesFd = openSync(path.join(dir, "images.u8"), "w");
  const viewsFd = openSync(path.join(dir, "views.jsonl"), "w");
  const sheet: Uint8Array[] = [];
  const started = Date.now();
  let written = 0, lastLog = started, visibleProps = 0, allProps = 0;

  // Batches go to the pages in turn; results are written in index order.
  const iter = views()[Symbol.iterator]();
  let nextIndex = 0;
  const pending = new Map<number, { buf: Buffer; recs: ViewRecord[] }>();
  let nextToWrite = 0;
  const takeBatch = (): { start: number; items: RenderItem[]; recs: ViewRecord[] } | null => {
    const items: RenderItem[] = [], recs: ViewRecord[] = [];
    const start = nextIndex;
    while (items.length < args.batch) {
      const n = iter.next();
      if (n.done) break;
      const [v, source] = n.value;
      recs.push(record(nextIndex++, source, v));
      items.push({ scene: v.scene, pose: { position: [...v.npc.position], facing: v.npc.facing }, figures: v.figures });
    }
    return items.length > 0 ? { start, items, recs } : null;
  };
  const flush = () => {
    for (let got = pending.get(nextToWrite); got; got = pending.get(nextToWrite)) {
      pending.delete(nextToWrite);
      writeSync(imagesFd, got.buf);
      writeSync(viewsFd, got.recs.map((r) => JSON.stringify(r)).join("\n") + "\n");
      for (let i = 0; i < got.recs.length; i++) {
        if (sheet.length < 64) sheet.push(new Uint8Array(got.buf.subarray(i * SIZE * SIZE * 3, (i + 1) * SIZE * SIZE * 3)));
        for (const p of got.recs[i].props) { allProps++; if (p.visible) visibleProps++; }
      }
      nextToWrite += got.recs.length;
      written += got.recs.length;
    }
    const now = Date.now();
    if (now - lastLog > 3000 || written === count) {
      lastLog = now;
      const rate = written / ((now - started) / 1000);
      const eta = rate > 0 ? (count - written) / rate : 0;
      console.log(`${args.split}: ${written}/${count} views, ${rate.toFixed(1)} views/s, ETA ${Math.round(eta)} s`);
    }
  };
  const worker = async (page: Page) => {
    let sinceLoad = 0;
    for (let b = takeBatch(); b; b = takeBatch()) {
      if (args.freshEvery > 0 && sinceLoad >= args.freshEvery) {
        await load(page); // a new document: what the old one kept of its views is gone
        sinceLoad = 0;
      }
      sinceLoad += b.items.length;
      const b64 = await page.evaluate((items) => window.renderViews(items), b.items);
      const buf = Buffer.from(b64, "base64");
      if (buf.length !== b.items.length * SIZE * SIZE * 3) throw new Error(`page returned ${buf.length} bytes for ${b.items.length} views`);
      pending.set(b.start, { buf, recs: b.recs });
      flush();
    }
  };
  try {
    await Promise.all(pages.map(worker));
    if (process.env.KITH_VISION_TIMING) for (const p of pages) console.log("page ms:", JSON.stringify(await p.evaluate(() => window.renderTiming())));
  } finally {
    closeSync(imagesFd);
    closeSync(viewsFd);
    await browser.close();
    await server.close();
  }
  writeFileSync(path.join(dir, "sheet.png"), contactSheet(sheet, SIZE, 8, 3));
  const secs = (Date.now() - started) / 1000;
  const meta = { split: args.split, count: written, size: SIZE, channels: 3, seed: args.seed, source: args.scene ?? "generated", seconds: Math.round(secs), viewsPerSecond: Math.round((written / secs) * 10) / 10, props: allProps, visibleProps };
  writeFileSync(path.join(dir, "meta.json"), JSON.stringify(meta, null, 2) + "\n");
  console.log(`wrote ${written} views to ${path.relative(ROOT, dir)} (images.u8, views.jsonl, sheet.png) in ${secs.toFixed(0)} s, ${meta.viewsPerSecond} views/s; props ${allProps}, visible ${visibleProps}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
