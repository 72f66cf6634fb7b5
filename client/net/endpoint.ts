// Where the game server is. Production: the server that served this page (same origin).
// `npm run dev`: Vite serves the page and proxies /colyseus to the game server (see
// vite.config.ts). `?server=http://host:port` overrides both, e.g. to point a dev page
// at a remote server.

export function serverEndpoint(loc: Location = location): string {
  const override = new URLSearchParams(loc.search).get("server");
  if (override) return override.replace(/\/+$/, "");
  return `${loc.origin}${import.meta.env.KITH_COLYSEUS_PATH ?? ""}`;
}

/** HTTP base for static data the server serves (scene files): always this page's origin. */
export function dataBase(loc: Location = location): string {
  const override = new URLSearchParams(loc.search).get("server");
  return override ? override.replace(/\/+$/, "") : loc.origin;
}
