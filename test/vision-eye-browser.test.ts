import { build } from "esbuild";
import { createServer, type Server } from "node:http";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromiumAsync, ROOT } from "./helpers/browser.ts";

// The NPC eye (client/eye/eye.ts) in real headless Chromium (software WebGL2): the client's own
// world builder draws a small scene, the page's render loop runs, and the eye's asynchronous
// capture comes back as 64×64 RGBA with row 0 at the top: sky above, a red crate on the NPC's
// left, a blue one on its right, no UI billboard, nothing once the NPC turns around.

const PAGE_SOURCE = `
import { Color3, CreatePlane, Engine, FreeCamera, StandardMaterial, TransformNode, Vector3 } from "./client/world/babylon.ts";
import { Scene } from "./client/world/babylon.ts";
import { planScene } from "./client/world/scene-plan.ts";
import { buildWorld } from "./client/world/build-world.ts";
import { createNpcEye } from "./client/eye/eye.ts";
import { parseScene } from "./core/scene/load.ts";

window.runEye = async () => {
  const canvas = document.createElement("canvas");
  canvas.width = 64; canvas.height = 64;
  document.body.appendChild(canvas);
  const engine = new Engine(canvas, false, { stencil: false }, false);
  const scene = new Scene(engine);
  new FreeCamera("main", new Vector3(0, 12, -12), scene, true).setTarget(Vector3.Zero());
  const box = (id, x, colour) => ({ id, name: id, tags: ["crate", id], shape: { kind: "box", size: [1.2, 1.2, 1.2] }, position: [x, 0.6, 4], colour });
  const file = parseScene({
    name: "eye test", ground: { size: [60, 60], colour: "#5d8a3f" }, sky: { colour: "#87b5e5" }, timeOfDay: 12,
    objects: [box("red", -1.3, "#c0201a"), box("blue", 1.3, "#1a40c0")], spawns: [{ position: [0, 0, -3] }],
  }, "eye test");
  buildWorld(planScene(file), scene);
  // A UI billboard (as name tags are) right in front of the eye: the eye must not draw it.
  const tag = CreatePlane("tag:test", { width: 0.6, height: 0.3 }, scene);
  tag.position.set(0, 1.5, 1.2);
  tag.billboardMode = TransformNode.BILLBOARDMODE_ALL;
  const m = new StandardMaterial("tag", scene);
  m.emissiveColor = new Color3(1, 0, 1); m.disableLighting = true;
  tag.material = m;
  const eye = createNpcEye(scene);
  engine.runRenderLoop(() => scene.render());
  const ahead = await eye.capture({ position: [0, 0, 0], facing: 0 });
  const behind = await eye.capture({ position: [0, 0, 0], facing: Math.PI });
  engine.stopRenderLoop();
  eye.dispose();
  return { size: eye.size, ahead: Array.from(ahead), behind: Array.from(behind) };
};
`;

type Pixels = number[];
let server: Server;
let browser: Browser;
let base = "";

beforeAll(async () => {
  const bundle = await build({
    stdin: { contents: PAGE_SOURCE, resolveDir: ROOT, loader: "ts", sourcefile: "eye-page.ts" },
    bundle: true, format: "esm", platform: "browser", target: "es2022", write: false, logLevel: "error",
    // Babylon marks its side-effect registrations side-effect free; keep them.
    ignoreAnnotations: true,
  });
  const js = bundle.outputFiles[0].text;
  server = createServer((req, res) => {
    if (req.url === "/") res.writeHead(200, { "content-type": "text/html" }).end(`<!doctype html><body><script type="module" src="/page.js"></script>`);
    else if (req.url === "/page.js") res.writeHead(200, { "content-type": "text/javascript" }).end(js);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  browser = await launchChromiumAsync();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => server?.close(r));
});

/** Classifies each pixel of a region: strongly red, strongly blue, magenta, or sky-like. */
function count(px: Pixels, size: number, x0: number, x1: number, y0: number, y1: number) {
  const c = { red: 0, blue: 0, magenta: 0, sky: 0, all: 0 };
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) {
    const i = (y * size + x) * 4;
    const [r, g, b] = [px[i], px[i + 1], px[i + 2]];
    c.all++;
    if (r > 90 && r > 2 * g && r > 2 * b) c.red++;
    if (b > 90 && b > 1.8 * r && b > 1.5 * g) c.blue++;
    if (r > 180 && b > 180 && g < 90) c.magenta++;
    if (b > 150 && g > 120 && r > 90 && b > r) c.sky++;
  }
  return c;
}

describe("NPC eye in Chromium", () => {
  it("captures 64×64 RGBA, top row first, what the NPC faces", async () => {
    const page = await browser.newPage({ viewport: { width: 64, height: 64 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${base}/`);
    await page.waitForFunction(() => typeof (window as unknown as { runEye?: unknown }).runEye === "function");
    const r = await page.evaluate(() => (window as unknown as { runEye(): Promise<{ size: number; ahead: number[]; behind: number[] }> }).runEye());
    await page.close();
    expect(errors).toEqual([]);
    expect(r.size).toBe(64);
    expect(r.ahead).toHaveLength(64 * 64 * 4);
    expect(r.ahead.filter((_, i) => i % 4 === 3).every((a) => a === 255)).toBe(true);

    const S = r.size;
    const left = count(r.ahead, S, 0, S / 2, 0, S);
    const right = count(r.ahead, S, S / 2, S, 0, S);
    const top = count(r.ahead, S, 0, S, 0, 6);
    const bottom = count(r.ahead, S, 0, S, S - 6, S);
    // Red crate on the NPC's left, blue on its right (not mirrored).
    expect(left.red).toBeGreaterThan(40);
    expect(right.blue).toBeGreaterThan(40);
    expect(left.red).toBeGreaterThan(10 * (right.red + 1));
    expect(right.blue).toBeGreaterThan(10 * (left.blue + 1));
    // Sky on top, ground at the bottom (not upside down).
    expect(top.sky / top.all).toBeGreaterThan(0.9);
    expect(bottom.sky).toBe(0);
    // The billboard in front of the eye is UI and is not drawn.
    expect(count(r.ahead, S, 0, S, 0, S).magenta).toBe(0);

    // Turned around: neither crate.
    const back = count(r.behind, S, 0, S, 0, S);
    expect(back.red + back.blue).toBe(0);
    expect(count(r.behind, S, 0, S, 0, 6).sky).toBeGreaterThan(0.9 * S * 6);
  }, 90_000);
});
