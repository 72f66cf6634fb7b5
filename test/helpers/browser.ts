import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright-core";

// Shared by the browser end-to-end tests: build the client when its sources changed, launch
// headless Chromium with software WebGL, poll for a condition.

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const DIST = path.join(ROOT, "dist", "client");

/** Newest modification time (ms) of any file under the given paths. */
function newest(paths: string[]): number {
  let t = 0;
  const walk = (p: string) => {
    const s = statSync(p);
    if (s.isDirectory()) for (const e of readdirSync(p)) walk(path.join(p, e));
    else t = Math.max(t, s.mtimeMs);
  };
  for (const p of paths) if (existsSync(p)) walk(p);
  return t;
}

/** Build the client with Vite's JS API when dist/client is missing or older than its sources. */
export async function ensureBuiltAsync(): Promise<void> {
  const index = path.join(DIST, "index.html");
  const sources = newest([path.join(ROOT, "client"), path.join(ROOT, "core"), path.join(ROOT, "vite.config.ts")]);
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  const { build } = await import("vite");
  await build({ configFile: path.join(ROOT, "vite.config.ts"), mode: "production", logLevel: "warn" });
}

export function launchChromiumAsync(): Promise<Browser> {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--no-first-run", "--disable-gpu-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"],
  });
}

/** Poll `probe` every 100 ms until it returns something truthy; fail with the last value seen. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const v = await probe();
      if (v) return v;
      last = v;
    } catch (err) { last = err; }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what} (last: ${typeof last === "object" ? JSON.stringify(last) : String(last)})`);
}
