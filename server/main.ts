// `npm start`: runs the Kith server. Env (defaults in brackets; server/README.md has the table):
//   PORT (2567), HOST, KITH_SCENE (village), KITH_EARSHOT (m, 20), KITH_RECONNECT_SECONDS (20),
//   NPC conversations: KITH_DIALOGUE (on | off), KITH_MODEL (assets/model), KITH_ADAPTERS (adapters),
//   KITH_MEMORY (data/memory.sqlite), KITH_HEARING (m, 8), KITH_TALK_RANGE (m, 5),
//   KITH_REPLY_DEADLINE_MS (8000), KITH_REPLY_TOKENS (48), KITH_NPC_QUEUE (4),
//   KITH_CLOCK_HOURS_PER_MINUTE (0 = the scene's hour, fixed), KITH_MODEL_THREADS (onnxruntime's default).
//   NPC eyes: KITH_VISION (assets/vision: the vision package folder; off = NPCs talk blind),
//   KITH_SIGHT (auto | eyes | scene: how lines about sight are answered).
import path from "node:path";
import { DEFAULT_SPIN_US } from "../core/runtime/backend-node.ts";
import { SceneError } from "../core/scene/load.ts";
import { createKithServer } from "./kith-server.ts";
import { DIALOGUE_DEFAULTS, type DialogueOptions } from "./dialogue/runtime.ts";
import { memoryFileFromEnv } from "./memory/store.ts";
import type { VisionOptions } from "./vision/vision-runtime.ts";

function numberFromEnv(name: string, fallback: number, min: number, max: number, integer = false): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new Error(`${name}=${JSON.stringify(raw)} is not ${integer ? "an integer" : "a number"} in [${min}, ${max}]`);
  }
  return value;
}

function dialogueFromEnv(): DialogueOptions | undefined {
  const on = (process.env.KITH_DIALOGUE ?? "on").toLowerCase();
  if (on === "off" || on === "0" || on === "false") return undefined;
  if (on !== "on" && on !== "1" && on !== "true") throw new Error(`KITH_DIALOGUE=${JSON.stringify(process.env.KITH_DIALOGUE)} should be on or off`);
  const threads = process.env.KITH_MODEL_THREADS ? numberFromEnv("KITH_MODEL_THREADS", 1, 1, 256, true) : undefined;
  return {
    modelDir: process.env.KITH_MODEL || undefined,
    adaptersDir: process.env.KITH_ADAPTERS || undefined,
    memoryFile: memoryFileFromEnv(),
    hearing: numberFromEnv("KITH_HEARING", DIALOGUE_DEFAULTS.hearing, 0.1, 1000),
    talkRange: numberFromEnv("KITH_TALK_RANGE", DIALOGUE_DEFAULTS.talkRange, 0.1, 1000),
    deadlineMs: numberFromEnv("KITH_REPLY_DEADLINE_MS", DIALOGUE_DEFAULTS.deadlineMs, 1, 600_000),
    maxNewTokens: numberFromEnv("KITH_REPLY_TOKENS", DIALOGUE_DEFAULTS.maxNewTokens, 1, 4096, true),
    queuePerNpc: numberFromEnv("KITH_NPC_QUEUE", DIALOGUE_DEFAULTS.queuePerNpc, 1, 1000, true),
    clock: { hoursPerMinute: numberFromEnv("KITH_CLOCK_HOURS_PER_MINUTE", 0, 0, 1440) },
    threads,
    spinUs: numberFromEnv("KITH_MODEL_SPIN_US", DEFAULT_SPIN_US, 0, 100_000, true),
    sight: sightFromEnv(),
    sightRetries: numberFromEnv("KITH_SIGHT_RETRIES", DIALOGUE_DEFAULTS.sightRetries, 0, 8, true),
    loreRetries: numberFromEnv("KITH_LORE_RETRIES", DIALOGUE_DEFAULTS.loreRetries, 0, 8, true),
  };
}

function sightFromEnv(): DialogueOptions["sight"] {
  const raw = (process.env.KITH_SIGHT ?? "").toLowerCase();
  if (raw === "") return undefined;
  if (raw !== "auto" && raw !== "eyes" && raw !== "scene") throw new Error(`KITH_SIGHT=${JSON.stringify(process.env.KITH_SIGHT)} should be auto, eyes or scene`);
  return raw;
}

function visionFromEnv(): VisionOptions | null {
  const raw = process.env.KITH_VISION;
  if (raw === undefined || raw === "") return {};
  return raw.toLowerCase() === "off" ? null : { dir: path.resolve(raw) };
}

try {
  const kith = await createKithServer({
    port: numberFromEnv("PORT", 2567, 0, 65535),
    host: process.env.HOST || undefined,
    scene: process.env.KITH_SCENE || "village",
    earshot: numberFromEnv("KITH_EARSHOT", 20, 0.1, 10_000),
    reconnectSeconds: numberFromEnv("KITH_RECONNECT_SECONDS", 20, 0, 3600),
    dialogue: dialogueFromEnv(),
    vision: visionFromEnv(),
    operatorToken: process.env.KITH_OPERATOR_TOKEN || undefined,
  });
  const talk = kith.dialogue ? `NPCs talk (model ${kith.dialogue.options.modelDir}, memory ${kith.dialogue.options.memoryFile})` : "NPCs do not talk (KITH_DIALOGUE=off)";
  const eyes = kith.vision ? `, NPCs see (vision ${kith.vision.pkg.dir})` : kith.dialogue ? ", NPCs talk blind (no vision package; see the log above)" : "";
  console.log(`Kith: scene "${kith.scene.name}", ${talk}${eyes} — open ${kith.url}`);
  const stop = () => { void kith.close().then(() => process.exit(0)); };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
} catch (err) {
  console.error(err instanceof SceneError || err instanceof Error ? `kith: ${err.message}` : err);
  process.exit(1);
}
