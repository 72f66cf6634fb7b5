import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// Browser client: client/index.html + client/main.ts → dist/client, which the Kith server
// serves. `npm run dev` serves client/ with hot reload; the page then talks to the game
// server on KITH_SERVER_PORT (default 2567) through the proxy below, so the page code
// always talks to its own origin (see client/net/endpoint.ts).
const serverPort = Number(process.env.KITH_SERVER_PORT ?? 2567);
const target = `http://127.0.0.1:${serverPort}`;

export default defineConfig(({ command }) => ({
  // Where the page finds Colyseus relative to its origin: behind the dev proxy under
  // `npm run dev`, at the root when the Kith server serves the build. Decided by the command,
  // not by NODE_ENV (a build started from vitest would otherwise count as "development").
  define: {
    "import.meta.env.KITH_COLYSEUS_PATH": JSON.stringify(command === "serve" ? "/colyseus" : ""),
  },
  root: fileURLToPath(new URL("./client", import.meta.url)),
  base: "./",
  publicDir: false,
  build: {
    outDir: fileURLToPath(new URL("./dist/client", import.meta.url)),
    emptyOutDir: true,
    // Not "assets": the server serves the repository's assets/ (models, meshes) at /assets/.
    assetsDir: "static",
    target: "es2022",
    sourcemap: true,
    // The one big chunk (~5.8 MB, ~2 MB gzipped) is mostly Rapier's WebAssembly inlined as
    // base64 by rapier3d-compat (~4 MB) plus tree-shaken Babylon; known and accepted for now.
    chunkSizeWarningLimit: 6500,
  },
  server: {
    port: 5173,
    proxy: {
      "/scenes": target,
      "/scene.json": target,
      // The vision package the server runs (the page's encoder loads it).
      "/vision": target,
      // In dev the page reaches Colyseus under /colyseus (matchmaking over HTTP and room
      // sockets at /colyseus/<processId>/<roomId>); the prefix is stripped on the way.
      "/colyseus": { target, ws: true, rewrite: (path) => path.replace(/^\/colyseus/, "") || "/" },
    },
  },
}));
