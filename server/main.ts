// `npm start`: runs the Kith server. Env: PORT (2567), HOST, KITH_SCENE (village),
// KITH_EARSHOT (m, 20), KITH_RECONNECT_SECONDS (20).
import { SceneError } from "../core/scene/load.ts";
import { createKithServer } from "./kith-server.ts";

function numberFromEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new Error(`${name}=${JSON.stringify(raw)} is not a number in [${min}, ${max}]`);
  }
  return value;
}

try {
  const kith = await createKithServer({
    port: numberFromEnv("PORT", 2567, 0, 65535),
    host: process.env.HOST || undefined,
    scene: process.env.KITH_SCENE || "village",
    earshot: numberFromEnv("KITH_EARSHOT", 20, 0.1, 10_000),
    reconnectSeconds: numberFromEnv("KITH_RECONNECT_SECONDS", 20, 0, 3600),
  });
  console.log(`Kith: scene "${kith.scene.name}" — open ${kith.url}`);
  const stop = () => { void kith.close().then(() => process.exit(0)); };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
} catch (err) {
  console.error(err instanceof SceneError || err instanceof Error ? `kith: ${err.message}` : err);
  process.exit(1);
}
