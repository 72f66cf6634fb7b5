// Shared by the vision suites: a seeded random vision package for the committed base model, the
// wire form of features, test pictures, and the yard scene they play in.
import { matchMaker } from "@colyseus/core";
import { parseScene } from "../../core/scene/load.ts";
import type { WorldRoom } from "../../server/world-room.ts";
import { joinBot, listen, waitFor, walkTo, type Bot, type Heard } from "./dialogue-bots.ts";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { expect } from "vitest";
import { createKithServer, type KithServer } from "../../server/kith-server.ts";

/** Writes an untrained vision package for assets/model (hidden 192, D 64) into a fresh temp folder;
 *  `detectorHidden`: with a random prop detector of that width. */
export function makeVisionPackage(seed = 1, detectorHidden = 0): string {
  const dir = join(mkdtempSync(join(tmpdir(), "kith-vision-")), "pkg");
  const det = detectorHidden > 0 ? ["--detector-hidden", String(detectorHidden)] : [];
  execFileSync("/usr/bin/python3", ["training/vision/make_package.py", "--random", "--out", dir, "--base-model", "assets/model", "--seed", String(seed), ...det], { stdio: "pipe" });
  return dir;
}

/** Features as sent: little-endian float32 bytes. */
export function featureBytes(features: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(features.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < features.length; i++) view.setFloat32(i * 4, features[i], true);
  return out;
}

/** A 64×64 RGBA picture: a sky-ish top half, ground below, and a coloured block left of centre. */
export function testImage(block: [number, number, number] = [170, 40, 33], size = 64): Uint8Array {
  const rgba = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = 4 * (y * size + x);
      const inBlock = x >= 18 && x < 30 && y >= 30 && y < 46;
      const c = inBlock ? block : y < size / 2 ? [150, 180, 215] : [90, 120, 60];
      rgba[i] = c[0];
      rgba[i + 1] = c[1];
      rgba[i + 2] = c[2];
      rgba[i + 3] = 255;
    }
  }
  return rgba;
}

/** Brom faces the spawn; a movable red barrel stands between; a landmark anvil beside him.
 *  `spawns` are player spawn points (default: one at the origin, 5 m from Brom). */
export function visionYard(spawns: [number, number, number][] = [[0, 0, 0]]) {
  return parseScene({
    name: "yard",
    ground: { size: [60, 60] },
    objects: [
      { id: "anvil", name: "anvil", tags: ["anvil"], shape: { kind: "box", size: [0.8, 0.8, 0.5] }, position: [-1.5, 0.4, 5] },
      { id: "barrel-red", name: "red barrel", tags: ["barrel", "red"], shape: { kind: "cylinder", radius: 0.45, height: 1.1 }, position: [1.6, 0.55, 3], colour: "#9e3326", movable: true, mass: 40 },
    ],
    spawns: spawns.map((position) => ({ position })),
    npcs: [{ id: "brom", character: "brom", name: "Brom Ironhand", role: "blacksmith", position: [0, 0, 5], facing: Math.PI }],
  }, "yard.json");
}

/** The (one) world room of the server under test, as the server holds it. */
export async function worldRoom(): Promise<WorldRoom> {
  const [listing] = await matchMaker.query({ name: "world" });
  return matchMaker.getLocalRoomById(listing.roomId) as WorldRoom;
}

/** Says `text` to `npc` and waits for the reply. */
export async function askNpc(bot: Bot, h: Heard, text: string, npc = "brom") {
  const n = h.replies.length;
  bot.send("chat", { text, to: npc });
  await waitFor(() => h.replies.length > n, 60_000, "npc_reply");
  return h.replies[n];
}

/** A real server on the vision yard with a random vision package (the eyes' path, whatever it
 *  records) and a bot standing 2.5 m from Brom; `close` leaves, stops and removes the package. */
export async function visionYardServer(o: { seed: number; detectorHidden?: number; maxNewTokens: number }) {
  const pkgDir = makeVisionPackage(o.seed, o.detectorHidden ?? 0);
  const logs: string[] = [];
  const kith: KithServer = await createKithServer({
    port: 0, scene: visionYard(), vision: { dir: pkgDir }, log: (l) => logs.push(l),
    dialogue: { deadlineMs: 30_000, temperature: 0, maxNewTokens: o.maxNewTokens, rate: null, sight: "eyes" },
  });
  expect(kith.vision, logs.join("\n")).toBeDefined();
  const bot = await joinBot(kith.url, { name: "Ada" });
  const h = listen(bot);
  await walkTo(bot, 0, 5, 2.5);
  const close = async () => {
    await bot.leave();
    await kith.close();
    rmSync(dirname(pkgDir), { recursive: true, force: true });
  };
  return { pkgDir, logs, kith, bot, h, close };
}
