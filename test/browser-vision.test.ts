import { readFileSync } from "node:fs";
import { join } from "node:path";
import { matchMaker } from "@colyseus/core";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KithDebugState } from "../client/debug-hook.ts";
import { createKithServer, type KithServer } from "../server/kith-server.ts";
import { loadSceneFile, resolveSceneName } from "../server/scene-file.ts";
import { VISION_DEFAULTS } from "../server/vision/vision-runtime.ts";
import type { WorldRoom } from "../server/world-room.ts";
import { ensureBuiltAsync, launchChromiumAsync, waitFor } from "./helpers/browser.ts";

// NPC eyes end to end: the real Kith server with the real model and the committed vision package
// (assets/vision), the real client build in headless Chromium. The player stands by Brom and asks
// what he sees: the page captures Brom's eye, encodes it with onnxruntime-web, sends the features
// before the line; the server projects them into Brom's prompt, and Brom answers. With
// `?vision=pixels` a second page sends the picture and the server encodes it.
//
// With a package that reads its views (below) the answers are checked too: a red barrel in
// Brom's sight is mentioned and no crate is, and after a crate is pushed into view the answer names it.

const BROM = "brom";
const VIEW = { width: 640, height: 400 };
// The answer checks need a package that reads its views: held-out grounding accuracy (from
// `npm run eval:grounding`, recorded in vision.json) at the 0.9 target. The shipped package
// records its measured accuracy; below the target this check is skipped, and says so in its name.
const manifest = JSON.parse(readFileSync(join(VISION_DEFAULTS.dir, "vision.json"), "utf8"));
const groundingAccuracy: number = manifest.grounding?.accuracy ?? 0;
const sees = manifest.trained === true && groundingAccuracy >= 0.9;

let kith: KithServer;
let browser: Browser;
const pages: Page[] = [];
const logs: string[] = [];
let spot: { at: [number, number, number]; facing: number; brom: [number, number, number] };

function debugState(page: Page): Promise<KithDebugState> {
  return page.evaluate(() => window.__kith!.state());
}

async function serverRoom(): Promise<WorldRoom> {
  const [listing] = await matchMaker.query({ name: "world" });
  return matchMaker.getLocalRoomById(listing.roomId) as WorldRoom;
}

/** A point `ahead` m in front of Brom as he faces the player, and `side` m to his right. */
function besideTheLine(ahead: number, side: number): [number, number, number] {
  const [bx, , bz] = spot.brom;
  const yaw = Math.atan2(spot.at[0] - bx, spot.at[2] - bz);
  return [bx + Math.sin(yaw) * ahead + Math.cos(yaw) * side, 0.55, bz + Math.cos(yaw) * ahead - Math.sin(yaw) * side];
}

beforeAll(async () => {
  await ensureBuiltAsync();
  // The village with one spawn 2.9 m from Brom, facing him, and the red barrel in Brom's sight.
  const village = loadSceneFile(resolveSceneName("village"));
  const brom = village.npcs.find((n) => n.id === BROM)!;
  const at: [number, number, number] = [brom.position[0] - 2.8, 0, brom.position[2] + 0.6];
  spot = { at, facing: Math.atan2(brom.position[0] - at[0], brom.position[2] - at[2]), brom: brom.position };
  const barrel = besideTheLine(1.6, 1.1);
  // The two brown crates stand ten metres ahead of him in the village; here they wait by the forge,
  // behind him instead, so the crate pushed into his sight later is the only one he can name.
  const moved: Record<string, [number, number, number]> = {
    "barrel-red": barrel, "crate-1": [17, 0.5, 3], "crate-2": [18.5, 0.4, 3.6],
  };
  const objects = village.objects.map((o) => (moved[o.id] ? { ...o, position: moved[o.id] } : o));
  const scene = { ...village, objects, spawns: [{ position: at, facing: spot.facing }] };
  kith = await createKithServer({
    port: 0, host: "127.0.0.1", scene, log: (l) => logs.push(l),
    // The eyes for every line about sight, whether or not the package reads its views (the
    // default, "auto", answers from the scene graph until it does): this test is the eyes' path.
    dialogue: { deadlineMs: 60_000, maxNewTokens: 32, temperature: 0, sight: "eyes" },
  });
  expect(kith.vision, logs.join("\n")).toBeDefined();
  browser = await launchChromiumAsync();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await kith?.close();
});

async function openPage(name: string, query = ""): Promise<Page> {
  const page = await browser.newPage({ viewport: VIEW });
  pages.push(page);
  page.on("pageerror", (e) => logs.push(`pageerror ${name}: ${e.message}`));
  page.on("console", (m) => logs.push(`console ${name} ${m.type()}: ${m.text()}`));
  await page.goto(`${kith.url}/?name=${name}&scale=2${query}`);
  await waitFor(`${name} connected`, async () => {
    const s = await page.evaluate(() => window.__kith?.state());
    return s?.connected && s.me !== null;
  }, 150_000);
  return page;
}

/** Turns the view right in short taps until Brom is the talk target. */
async function faceBrom(page: Page): Promise<void> {
  await waitFor("Brom drawn at the forge", async () => {
    const b = (await debugState(page)).npcs.find((n) => n.id === BROM);
    return b && Math.hypot(b.x - spot.brom[0], b.z - spot.brom[2]) < 3;
  });
  for (let tap = 0; tap < 60 && (await debugState(page)).dialogue?.talkTarget !== BROM; tap++) {
    await page.keyboard.down("ArrowRight");
    await page.waitForTimeout(100);
    await page.keyboard.up("ArrowRight");
    await page.waitForTimeout(150);
  }
  await waitFor("Brom as talk target", async () => (await debugState(page)).dialogue?.talkTarget === BROM);
}

/**
 * Types a line to Brom and waits for his reply to it. Like a person typing, it takes its time: the
 * view the page captures as typing starts has gone out before the line does.
 */
async function ask(page: Page, text: string): Promise<NonNullable<KithDebugState["dialogue"]>["replies"][number]> {
  const before = (await debugState(page)).dialogue!.replies.filter((r) => r.npc === BROM).length;
  const sent = (await debugState(page)).vision!.sent;
  await page.bringToFront();
  await page.keyboard.press("Enter");
  await page.keyboard.type(text);
  await waitFor("a view of Brom sent while typing", async () => {
    const v = (await debugState(page)).vision!;
    return v.sent > sent && v.last?.npc === BROM;
  }, 60_000);
  await page.keyboard.press("Enter");
  return waitFor(`Brom's reply to "${text}"`, async () => (await debugState(page)).dialogue?.replies.filter((r) => r.npc === BROM)[before], 120_000);
}

describe("NPC eyes in the browser", { timeout: 300_000 }, () => {
  it("asking Brom what he sees: the page encodes his view with onnxruntime-web, sends features, and Brom answers with them", async () => {
    const page = await openPage("Ada");
    await waitFor("the page's encoder", async () => (await debugState(page)).vision?.mode !== "loading", 60_000);
    const v0 = (await debugState(page)).vision!;
    expect(v0, JSON.stringify(v0)).toMatchObject({ mode: "features", note: "" });
    await faceBrom(page);
    // A line about sight the package's prop detector does not answer: the view's visual tokens.
    const reply = await ask(page, "Anything you notice?");
    const st = await debugState(page);
    const v = st.vision!;
    console.log(JSON.stringify({ reply: reply.text, vision: v }));
    // A view went out, encoded in the page, before the line (the reply used it).
    expect(v.sentFeatures).toBeGreaterThanOrEqual(1);
    expect(v.sentImages).toBe(0);
    expect(v.encodeMs.length).toBe(v.sentFeatures);
    for (const ms of v.encodeMs) expect(ms).toBeGreaterThan(0);
    expect(v.last).toMatchObject({ npc: BROM, kind: "features" });
    expect(v.rejected).toEqual([]);
    const room = await serverRoom();
    const view = room.npcViews!.latest(BROM)!;
    expect(view).toMatchObject({ from: st.sessionId, source: "features" });
    expect(room.dialogue!.lastImage(BROM)).toBeInstanceOf(Float32Array);
    expect(room.dialogue!.lastPrompt(BROM)).toMatch(/(<\|image\|>){16}\n/);
    expect(reply.toMe).toBe(true);
    expect(reply.fallback).toBe(false);
    expect(reply.text.length).toBeGreaterThan(0);
    // "What do you see?" goes by the detector when the package has one: the props it found in the
    // features the page sent, worked out first among the nearby lines, no visual tokens.
    if (manifest.detector) {
      const whole = await ask(page, "What do you see?");
      expect(whole.fallback).toBe(false);
      expect(room.dialogue!.lastPrompt(BROM)).toMatch(/<\|near\|>- sight answer: [^\n]+; near: the /);
      expect(room.dialogue!.lastImage(BROM)).toBeNull();
    }
    // While the conversation lasts, views keep coming (every 3 s).
    await waitFor("a periodic view", async () => (await debugState(page)).vision!.sentFeatures > v.sentFeatures, 30_000);
    expect(logs.filter((l) => l.startsWith("pageerror"))).toEqual([]);
  });

  it.skipIf(!sees)(`(needs held-out grounding accuracy >= 0.9; this package: ${groundingAccuracy}) Brom names the red barrel he sees, and a crate pushed into view changes his answer`, async () => {
    const page = pages[0];
    await faceBrom(page);
    const first = await ask(page, "What do you see?");
    expect(first.text.toLowerCase()).toMatch(/red barrel|barrel/);
    expect(first.text.toLowerCase()).not.toMatch(/crate/);
    // Push a crate into his sight (the server moves it; the page draws it where the state says).
    const room = await serverRoom();
    const crate = besideTheLine(1.8, -1.0);
    room.simulation.physics.props.get("crate-1")!.setTranslation({ x: crate[0], y: 0.5, z: crate[2] }, true);
    const sent = (await debugState(page)).vision!.sent;
    await waitFor("a view taken after the crate moved", async () => (await debugState(page)).vision!.sent >= sent + 2, 30_000);
    const second = await ask(page, "What do you see now?");
    expect(second.text.toLowerCase()).toMatch(/crate/);
    console.log(JSON.stringify({ first: first.text, second: second.text }));
    expect(second.text).not.toBe(first.text);
  });

  it("with ?vision=pixels the page sends the picture and the server encodes it", async () => {
    await pages[0].close(); // Ada's views of Brom would replace Bea's
    const page = await openPage("Bea", "&vision=pixels");
    await waitFor("pixels mode", async () => (await debugState(page)).vision?.mode === "pixels", 60_000);
    await faceBrom(page);
    const reply = await ask(page, "Good day. What do you see?");
    const v = (await debugState(page)).vision!;
    expect(v.sentImages).toBeGreaterThanOrEqual(1);
    expect(v.sentFeatures).toBe(0);
    const room = await serverRoom();
    await waitFor("an image view on the server", async () => room.npcViews!.latest(BROM)?.source === "image", 10_000);
    expect(kith.vision!.encodeRuns.length).toBeGreaterThan(0);
    expect(reply.fallback).toBe(false);
  });
});
