// Plain static file serving for the built client (dist/client), scenes/, assets/ and the vision
// package the server runs (at /vision/, so the page encodes with the very same weights), plus
// GET /healthz and GET /scene.json (the scene this server runs, as validated at start). A Node (req, res, next) handler mounted on the HTTP server Colyseus uses.
import fs from "node:fs";
import path from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8", ".json": "application/json; charset=utf-8", ".map": "application/json; charset=utf-8",
  ".wasm": "application/wasm", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp",
  ".svg": "image/svg+xml", ".ico": "image/x-icon", ".glb": "model/gltf-binary", ".gltf": "model/gltf+json",
  ".bin": "application/octet-stream", ".onnx": "application/octet-stream", ".txt": "text/plain; charset=utf-8",
  ".md": "text/markdown; charset=utf-8", ".ktx2": "image/ktx2", ".env": "image/vnd.babylon.environment",
};

export interface StaticRoots {
  clientDir: string;
  scenesDir: string;
  assetsDir: string;
  /** The loaded vision package's folder, served at /vision/ (absent: vision is off, 404). */
  visionDir?: string;
}

type Next = () => void;

/** Serves `/healthz`, `/scene.json`, `/scenes/*`, `/assets/*`, `/vision/*`, and the client for everything else (GET/HEAD). */
export function staticFiles(roots: StaticRoots, health: () => object, runningScene: () => object) {
  return (req: IncomingMessage, res: ServerResponse, next: Next): void => {
    if (req.method !== "GET" && req.method !== "HEAD") return next();
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    } catch {
      return send(res, 400, "text/plain; charset=utf-8", "bad URL\n");
    }
    if (pathname === "/healthz") return send(res, 200, TYPES[".json"], JSON.stringify({ ok: true, ...health() }) + "\n");
    if (pathname === "/scene.json") return send(res, 200, TYPES[".json"], JSON.stringify(runningScene()));
    if (pathname.startsWith("/matchmake")) return next();
    if (pathname.startsWith("/scenes/")) return serveFile(res, req, roots.scenesDir, pathname.slice("/scenes/".length));
    if (pathname.startsWith("/assets/")) return serveFile(res, req, roots.assetsDir, pathname.slice("/assets/".length));
    if (pathname.startsWith("/vision/")) {
      if (roots.visionDir === undefined) return send(res, 404, "text/plain; charset=utf-8", "not found (NPC vision is off on this server)\n");
      return serveFile(res, req, path.resolve(roots.visionDir), pathname.slice("/vision/".length));
    }
    if (!fs.existsSync(path.join(roots.clientDir, "index.html"))) {
      if (pathname === "/" || pathname === "/index.html") return send(res, 200, TYPES[".html"], NOT_BUILT_PAGE);
      return send(res, 404, "text/plain; charset=utf-8", "not found (the client is not built: run `npm run build`)\n");
    }
    return serveFile(res, req, roots.clientDir, pathname === "/" ? "index.html" : pathname.slice(1));
  };
}

function serveFile(res: ServerResponse, req: IncomingMessage, root: string, relative: string): void {
  const file = path.resolve(root, relative);
  if (file !== root && !file.startsWith(root + path.sep)) return send(res, 403, "text/plain; charset=utf-8", "forbidden\n");
  fs.stat(file, (err, stat) => {
    if (err || !stat.isFile()) return send(res, 404, "text/plain; charset=utf-8", "not found\n");
    res.writeHead(200, {
      "content-type": TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream",
      "content-length": stat.size,
      "cache-control": "no-cache",
    });
    if (req.method === "HEAD") return void res.end();
    fs.createReadStream(file).on("error", () => res.destroy()).pipe(res);
  });
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

const NOT_BUILT_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Kith</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto">
<h1>Kith server is running</h1>
<p>The browser client has not been built yet. Run <code>npm run build</code> (it writes
<code>dist/client</code>), then reload this page.</p>
<p>Health: <a href="/healthz">/healthz</a>. Scenes: <a href="/scenes/village.json">/scenes/village.json</a>.</p>
</body></html>
`;
