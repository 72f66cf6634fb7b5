import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AdapterBank } from "../core/runtime/lora/bank.ts";
import { handleAdapterRequest } from "./adapters/operator.ts";
import type { TickMetrics } from "./tick-metrics.ts";

// The operator's HTTP API on the game server's own port, for whoever runs the server (not players):
//   GET  /adapters, POST /adapters/<id>/reload, POST /adapters/<id>/rollback[?revision=N]
//        (server/adapters/operator.ts: the adapter bank's list, hot reload, roll back)
//   GET  /stats   the scheduler (requests, refusals, batch sizes, queue wait, tokens/s, queue load),
//                 the room tick (p50/p99 wall and CPU ms), players and rooms
// Every request needs `Authorization: Bearer <token>`, the token the server was started with
// (KITH_OPERATOR_TOKEN). Without one configured the API is off and these paths answer 404 saying
// so: reload and roll back change what every NPC says, so they are never open by default.

/** Shortest token accepted: a guessable one would hand the adapters to anyone who can reach the port. */
export const MIN_OPERATOR_TOKEN = 16;

export interface OperatorApiOptions {
  /** The bearer token; undefined: the API is off. */
  token?: string;
  /** The dialogue runtime's parts, when dialogue is on. */
  dialogue?: { bank: AdapterBank; schedulerStats: () => Promise<unknown> };
  metrics: TickMetrics;
  /** Players and rooms on this process. */
  counts: () => { players: number; rooms: number };
}

type Next = () => void;

/** Checks a token at start: a clear error for one that is too short or has spaces. */
export function validateOperatorToken(token: string): string {
  if (token.length < MIN_OPERATOR_TOKEN) throw new Error(`KITH_OPERATOR_TOKEN is ${token.length} characters; use at least ${MIN_OPERATOR_TOKEN} (e.g. \`openssl rand -hex 24\`)`);
  if (/\s/.test(token)) throw new Error("KITH_OPERATOR_TOKEN has white space in it; a bearer token cannot");
  return token;
}

export function operatorApi(o: OperatorApiOptions) {
  const expected = o.token === undefined ? null : Buffer.from(validateOperatorToken(o.token));
  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers });
    res.end(JSON.stringify(body) + "\n");
  };
  const authorised = (req: IncomingMessage): boolean => {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "");
    if (!m || !expected) return false;
    const given = Buffer.from(m[1]);
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  return async (req: IncomingMessage, res: ServerResponse, next: Next): Promise<void> => {
    const pathname = new URL(req.url ?? "/", "http://x").pathname;
    const isAdapters = pathname === "/adapters" || pathname.startsWith("/adapters/");
    if (!isAdapters && pathname !== "/stats") return next();
    if (!expected) return send(res, 404, { error: "the operator API is off on this server: start it with KITH_OPERATOR_TOKEN set" });
    if (!authorised(req)) return send(res, 401, { error: "operator API: send Authorization: Bearer <KITH_OPERATOR_TOKEN>" }, { "www-authenticate": 'Bearer realm="kith-operator"' });
    try {
      if (pathname === "/stats") {
        if (req.method !== "GET") return send(res, 405, { error: "GET /stats" }, { allow: "GET" });
        const q = (s: { percentile(p: number): number }, p: number) => Math.round(s.percentile(p) * 1000) / 1000;
        return send(res, 200, {
          ...o.counts(),
          tick: { p50_ms: q(o.metrics.tick, 0.5), p99_ms: q(o.metrics.tick, 0.99), cpu_p99_ms: q(o.metrics.tickCpu, 0.99), samples: o.metrics.tick.size },
          scheduler: o.dialogue ? await o.dialogue.schedulerStats() : null,
        });
      }
      if (!o.dialogue) return send(res, 404, { error: "dialogue is off on this server: no adapters are loaded" });
      if (!(await handleAdapterRequest(o.dialogue.bank, req, res))) send(res, 404, { error: `no operator route ${req.method} ${pathname}: GET /adapters, POST /adapters/<id>/reload, POST /adapters/<id>/rollback[?revision=N], GET /stats` });
    } catch (e) {
      if (!res.headersSent) send(res, 500, { error: (e as Error).message });
    }
  };
}
