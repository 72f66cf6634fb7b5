// Builds the Kith server: one HTTP server carrying the Colyseus WebSocket transport (room
// `world`), the built client, scenes/, assets/ and /healthz. Tests and main.ts both call this.
import http from "node:http";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { Server, matchMaker } from "@colyseus/core";
import { WebSocketTransport } from "@colyseus/ws-transport";
import "./websocket-global.ts";
import { initPhysics } from "../core/movement/world.ts";
import { DEFAULT_LIMITS, type ProtocolLimits } from "../core/protocol/limits.ts";
import type { Scene } from "../core/scene/schema.ts";
import { DialogueRuntime, type DialogueOptions } from "./dialogue/runtime.ts";
import { loadSafetyRules, SafetyFilter } from "./safety/filter.ts";
import { ASSETS_DIR, ROOT_DIR, SCENES_DIR, loadSceneFile, resolveSceneName } from "./scene-file.ts";
import { operatorApi, validateOperatorToken } from "./operator-api.ts";
import { staticFiles } from "./static-files.ts";
import { TickMetrics } from "./tick-metrics.ts";
import { VisionRuntime, type VisionOptions } from "./vision/vision-runtime.ts";
import { ROOM_DEFAULTS, WorldRoom, type WorldRoomOptions } from "./world-room.ts";

export interface KithServerOptions {
  /** TCP port; 0 picks a free one. */
  port?: number;
  host?: string;
  /** Scene name (scenes/<name>.json), a path to a scene file, or a parsed Scene. */
  scene?: string | Scene;
  earshot?: number;
  reconnectSeconds?: number;
  patchMs?: number;
  limits?: ProtocolLimits;
  clientDir?: string;
  log?: (line: string) => void;
  /**
   * NPC conversations: options (the server starts the model worker and opens memory) or a
   * runtime built by the caller (not closed with the server). Absent: NPCs do not answer.
   * Without `safety` the scene's rules apply (server/safety/: defaults + scenes/<scene>.safety.json).
   */
  dialogue?: DialogueOptions | DialogueRuntime;
  /**
   * NPC eyes, with dialogue on: options (the vision package is loaded once here; default
   * assets/vision), a runtime built by the caller (not closed with the server), or null for none.
   * A missing or broken package is logged and NPCs talk blind.
   */
  vision?: VisionOptions | VisionRuntime | null;
  /** Bearer token of the operator API (server/operator-api.ts: adapters list/reload/rollback,
   *  stats); absent: the API is off. At least MIN_OPERATOR_TOKEN characters. */
  operatorToken?: string;
}

export interface KithServer {
  server: Server;
  http: http.Server;
  port: number;
  /** http://host:port */
  url: string;
  scene: Scene;
  metrics: TickMetrics;
  /** The conversation runtime (model worker, cards, memory), when dialogue is on. */
  dialogue?: DialogueRuntime;
  /** NPC eyes (vision package, projector, pixel encoder), when dialogue is on and the package loaded. */
  vision?: VisionRuntime;
  /** Stops the rooms (replies in flight drain), then the model worker and memory store. */
  close(): Promise<void>;
}

export async function createKithServer(options: KithServerOptions = {}): Promise<KithServer> {
  const scene = typeof options.scene === "object" ? options.scene : loadSceneFile(resolveSceneName(options.scene ?? "village"));
  if (options.operatorToken !== undefined) validateOperatorToken(options.operatorToken); // before any worker starts
  await initPhysics();
  const ownDialogue = options.dialogue !== undefined && !(options.dialogue instanceof DialogueRuntime);
  const dialogue = options.dialogue === undefined ? undefined
    : options.dialogue instanceof DialogueRuntime ? options.dialogue
    : await DialogueRuntime.create({
      log: options.log,
      ...options.dialogue,
      safety: options.dialogue.safety ?? new SafetyFilter(
        loadSafetyRules(typeof options.scene === "string" ? resolveSceneName(options.scene) : scene.name),
        { log: options.log ?? ((line) => console.warn(line)) },
      ),
    });
  const log = options.log ?? ((line: string) => console.warn(line));
  const ownVision = dialogue !== undefined && options.vision !== null && !(options.vision instanceof VisionRuntime);
  const vision = dialogue === undefined || options.vision === null ? undefined
    : options.vision instanceof VisionRuntime ? options.vision
    : (await VisionRuntime.open(options.vision ?? {}, { hiddenSize: dialogue.base.hiddenSize, baseHash: dialogue.base.hash }, log)) ?? undefined;
  const metrics = new TickMetrics();
  const limits = options.limits ?? DEFAULT_LIMITS;
  const httpServer = http.createServer();
  const transport = new WebSocketTransport({ server: httpServer, maxPayload: limits.socketMaxPayloadBytes });
  const roots = {
    clientDir: options.clientDir ?? path.join(ROOT_DIR, "dist", "client"),
    scenesDir: SCENES_DIR,
    assetsDir: ASSETS_DIR,
    visionDir: vision?.pkg.dir,
  };
  const health = () => ({ scene: scene.name, rooms: matchMaker.stats.local.roomCount, players: matchMaker.stats.local.ccu });
  const files = staticFiles(roots, health, () => scene);
  const operator = operatorApi({
    token: options.operatorToken,
    dialogue: dialogue && { bank: dialogue.bank, schedulerStats: async () => {
      // The model worker answers {stats, load}: one flat object; a stand-in model its own shape.
      const s = (await dialogue.model.stats()) as { stats?: object; load?: object; loraKernel?: string };
      return s.stats ? { ...s.stats, load: s.load, lora_kernel: s.loraKernel } : s;
    } },
    metrics,
    counts: () => ({ players: matchMaker.stats.local.ccu, rooms: matchMaker.stats.local.roomCount }),
  });
  const server = new Server({
    transport,
    greet: false,
    gracefullyShutdown: false,
    express: (app) => {
      // A route at "/" (not only middleware) stops Colyseus from answering "/" itself.
      app.get("/", (req: http.IncomingMessage, res: http.ServerResponse, next: () => void) => files(req, res, next));
      app.use((req: http.IncomingMessage, res: http.ServerResponse, next: () => void) => void operator(req, res, next));
      app.use((req: http.IncomingMessage, res: http.ServerResponse, next: () => void) => files(req, res, next));
    },
  });
  const roomOptions: WorldRoomOptions = {
    scene,
    earshot: options.earshot ?? ROOM_DEFAULTS.earshot,
    reconnectSeconds: options.reconnectSeconds ?? ROOM_DEFAULTS.reconnectSeconds,
    patchMs: options.patchMs ?? ROOM_DEFAULTS.patchMs,
    limits,
    metrics,
    log: options.log,
    dialogue,
    vision,
  };
  server.define("world", WorldRoom, roomOptions);
  try {
    await server.listen(options.port ?? 2567, options.host);
  } catch (e) {
    if (ownVision) await vision?.close();
    if (ownDialogue) await dialogue?.close();
    throw e;
  }
  const port = (httpServer.address() as AddressInfo).port;
  const host = options.host && options.host !== "0.0.0.0" ? options.host : "localhost";
  return {
    server, http: httpServer, port, url: `http://${host}:${port}`, scene, metrics, dialogue, vision,
    close: async () => {
      await server.gracefullyShutdown(false);
      if (ownVision) await vision?.close();
      if (ownDialogue) await dialogue?.close();
    },
  };
}
