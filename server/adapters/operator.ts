import type { IncomingMessage, ServerResponse } from "node:http";
import type { AdapterBank } from "../../core/runtime/lora/bank.ts";

// The operator's view of the adapter bank over HTTP (JSON), for mounting on the server:
//   GET  /adapters                         → list(): id, kind, version, revision, bytes, loaded, lastUsed, error
//   POST /adapters/<id>/reload             → {changed, revision} or 400 {error}
//   POST /adapters/<id>/rollback[?revision=N] → {revision} or 400 {error}
// Returns false when the path is not one of these (the caller routes it elsewhere).
export async function handleAdapterRequest(bank: AdapterBank, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const url = new URL(req.url ?? "/", "http://local");
  const send = (status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  if (url.pathname === "/adapters" && req.method === "GET") {
    send(200, await bank.list());
    return true;
  }
  const m = url.pathname.match(/^\/adapters\/([^/]+)\/(reload|rollback)$/);
  if (!m || req.method !== "POST") return false;
  try {
    if (m[2] === "reload") send(200, await bank.reload(m[1]));
    else {
      const r = url.searchParams.get("revision");
      const n = r === null ? undefined : Number(r);
      if (n !== undefined && !Number.isInteger(n)) throw new Error(`revision must be an integer, got ${JSON.stringify(r)}`);
      bank.rollback(m[1], n);
      send(200, { revision: (await bank.list()).find((x) => x.id === m[1])?.revision });
    }
  } catch (e) {
    send(400, { error: (e as Error).message });
  }
  return true;
}
