import { mkdirSync } from "node:fs";
import { matchMaker } from "@colyseus/core";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKithServer, type KithServer } from "../server/kith-server.ts";
import { loadSceneFile, resolveSceneName } from "../server/scene-file.ts";
import type { KithDebugState } from "../client/debug-hook.ts";
import { ensureBuiltAsync, launchChromiumAsync, waitFor } from "./helpers/browser.ts";

// NPC dialogue end to end: a real Kith server with the real model (assets/model) and adapters
// answering, the real Vite build of the client in headless Chromium (software WebGL). The player
// spawns a few metres from Brom the blacksmith, looks at him and gets the talk prompt, types a question,
// and Brom's bubble shows the thinking dots, then fills in as the reply streams, and ends as the
// line the chat log shows. Gestures and the inventory HUD follow the replicated state.

const SHOTS = "/tmp";
const VIEW = { width: 800, height: 500 };
const BROM = "brom";

let kith: KithServer;
let browser: Browser;
let page: Page;
const consoleLines: string[] = [];

async function debugState(): Promise<KithDebugState> {
  return page.evaluate(() => window.__kith!.state());
}

/** What the test reaches in the server's room: its simulation (as the dialogue actions do) and clients. */
type ServerRoomView = {
  sim: {
    npcs: Map<string, { emote(name: string, seconds: number): void }>;
    players: Map<string, { state: { inventory: Map<string, number> } }>;
  };
  clients: { getById(id: string): { send(type: string, message: unknown): void } | undefined };
};
let roomId = "";

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  await ensureBuiltAsync();
  // The village with one spawn point 2.9 m from Brom, facing him.
  const village = loadSceneFile(resolveSceneName("village"));
  const brom = village.npcs.find((n) => n.id === BROM)!;
  const at: [number, number, number] = [brom.position[0] - 2.8, 0, brom.position[2] + 0.6];
  const facing = Math.atan2(brom.position[0] - at[0], brom.position[2] - at[2]);
  const scene = { ...village, spawns: [{ position: at, facing }] };
  kith = await createKithServer({
    port: 0, host: "127.0.0.1", log: () => {}, scene,
    // A generous deadline: on a busy 2-core machine the first reply also compiles the graphs.
    dialogue: { deadlineMs: 60_000, maxNewTokens: 32 },
  });
  browser = await launchChromiumAsync();
  page = await browser.newPage({ viewport: VIEW });
  page.on("pageerror", (e) => { consoleLines.push(`pageerror: ${e.message}`); console.error(`page error: ${e.message}`); });
  page.on("console", (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  // Full resolution (scale=1): the screenshots should show readable bubbles.
  await page.goto(`${kith.url}/?name=Ada&scale=1`);
  await waitFor("Ada connected with her avatar", async () => {
    const s = await page.evaluate(() => window.__kith?.state());
    return s?.connected && s.me !== null;
  }, 150_000);
  const [room] = await matchMaker.query({ name: "world" });
  roomId = room.roomId;
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await kith?.close();
});

describe("NPC dialogue in the browser", { timeout: 180_000 }, () => {
  it("offers to talk to Brom when the player looks at him from close by", async () => {
    await page.bringToFront();
    // Brom stands about 2.9 m away, to the right of where the player faces: turn the view right until he is offered.
    // Wait until Brom is drawn where the server has him (views start at the origin until the first frame places them).
    const s0 = await waitFor("Brom drawn at the forge", async () => {
      const st = await debugState();
      const b = st.npcs.find((n) => n.id === BROM);
      return b && Math.hypot(b.x, b.z) > 5 ? st : null;
    });
    const brom0 = s0.npcs.find((n) => n.id === BROM)!;
    expect(Math.hypot(brom0.x - s0.me!.x, brom0.z - s0.me!.z)).toBeLessThan(4);
    // Short taps, checking between them: a held key would overshoot on a page that renders slowly.
    for (let tap = 0; tap < 60 && (await debugState()).dialogue?.talkTarget !== BROM; tap++) {
      await page.keyboard.down("ArrowRight");
      await page.waitForTimeout(100);
      await page.keyboard.up("ArrowRight");
      await page.waitForTimeout(150);
    }
    const s = await waitFor("Brom as talk target", async () => {
      const st = await debugState();
      return st.dialogue?.talkTarget === BROM ? st : null;
    }).catch(async (err: Error) => {
      const st = await debugState();
      throw new Error(`${err.message}; me ${JSON.stringify(st.me)}, Brom ${JSON.stringify(st.npcs.find((n) => n.id === BROM))}, camera yaw ${st.cameraYaw}`);
    });
    const brom = s.npcs.find((n) => n.id === BROM)!;
    expect(Math.hypot(brom.x - s.me!.x, brom.z - s.me!.z)).toBeLessThan(4);
    await expect.poll(() => page.locator("#talk-prompt").isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await page.locator("#talk-prompt").innerText()).toMatch(/Enter\s*—\s*talk to Brom Ironhand \(blacksmith\)/);
  });

  it("asks Brom a question: thinking dots, then streamed text, then the line in the log", async () => {
    // Watch Brom's bubble from the page itself every 40 ms (independent of the dialogue's own history).
    await page.evaluate(() => {
      const seen: Array<{ reply: string; phase: string; text: string; thinking: boolean; saying: string }> = [];
      const gestures: string[] = [];
      (window as unknown as { bubbleSeen: typeof seen }).bubbleSeen = seen;
      (window as unknown as { gesturesSeen: typeof gestures }).gesturesSeen = gestures;
      setInterval(() => {
        const s = window.__kith!.state();
        const b = s.dialogue?.bubbles.brom;
        const v = s.npcs.find((n) => n.id === "brom");
        if (v?.gesture && gestures[gestures.length - 1] !== v.gesture) gestures.push(v.gesture);
        if (!b) return;
        const last = seen[seen.length - 1];
        const now = { reply: b.reply, phase: b.phase, text: b.text, thinking: v?.thinking ?? false, saying: v?.saying ?? "" };
        if (!last || last.reply !== now.reply || last.phase !== now.phase || last.text !== now.text || last.thinking !== now.thinking) seen.push(now);
      }, 40);
    });
    await page.bringToFront();
    // Zoom in a little, for a closer look in the screenshot.
    await page.mouse.move(VIEW.width / 2, VIEW.height / 2);
    await page.mouse.wheel(0, -250);
    // Sampled replies vary; a one-word answer cannot show a line growing, so say something again
    // (twice at most). Lines the server checks against the card (a fact, a price) arrive whole, so
    // these ask nothing of it.
    const questions = ["Good morning to you, smith!", "Nice to meet you.", "Hello there, friend!"];
    let reply: NonNullable<KithDebugState["dialogue"]>["replies"][number] | undefined;
    for (const [i, q] of questions.entries()) {
      await page.keyboard.press("Enter");
      expect(await page.evaluate(() => document.activeElement?.id)).toBe("chat-input");
      await expect.poll(() => page.locator("#chat-input").getAttribute("placeholder"), { timeout: 10_000 }).toContain("Brom Ironhand");
      await expect.poll(() => page.locator("#talk-prompt").innerText(), { timeout: 10_000 }).toContain("talking to Brom Ironhand");
      await page.keyboard.type(q);
      await page.keyboard.press("Enter");
      reply = await waitFor(`Brom's reply ${i + 1}`, async () => {
        const st = await debugState();
        return st.dialogue?.replies.filter((r) => r.npc === BROM)[i];
      }, 120_000);
      if (reply.text.includes(" ") || reply.fallback || reply.filtered) break;
    }
    reply = reply!;
    // Take the picture while the finished line is up.
    await page.waitForTimeout(300);
    await page.screenshot({ path: `${SHOTS}/kith-dialogue.png` });

    const seenAll = await page.evaluate(() => (window as unknown as { bubbleSeen: Array<{ reply: string; phase: string; text: string; thinking: boolean; saying: string }> }).bubbleSeen);
    const seen = seenAll.filter((o) => o.reply === reply.reply);
    const st = await debugState();
    const bubble = st.dialogue!.bubbles[BROM];
    console.log(JSON.stringify({ reply, seen, history: bubble?.history, actions: st.dialogue!.actions }));

    // The reply answers us (the line carried `to: brom`).
    expect(reply.toMe).toBe(true);
    expect(reply.text.length).toBeGreaterThan(0);
    expect(reply.text).not.toMatch(/\[[a-z_]+:/);
    // Thinking came first, shown as dots on the avatar (the page's 40 ms sampling catches it on the
    // first reply, which waits longest; later ones may start speaking between two samples).
    expect(seenAll[0]).toMatchObject({ phase: "thinking", text: "", thinking: true });
    expect(seen.length).toBeGreaterThan(0);
    // Then the bubble grew: every text seen extends the one before, and the last is the final line.
    const texts = seen.map((o) => o.text).filter((t) => t !== "");
    expect(texts.length).toBeGreaterThan(0);
    for (let i = 1; i < texts.length; i++) expect(texts[i].length).toBeGreaterThanOrEqual(texts[i - 1].length);
    expect(texts[texts.length - 1]).toBe(reply.text);
    // The dialogue's own record of what the bubble showed: "…", then growing text, then the line.
    expect(bubble.history[0]).toBe("…");
    expect(bubble.history[bubble.history.length - 1]).toBe(reply.text);
    if (!reply.fallback && !reply.filtered && reply.text.includes(" ")) {
      // A streamed reply of more than one word showed more than one stage of its text (tokens never
      // span a space; the page's 40 ms sampling above may see fewer stages: a short reply streams
      // in well under a second).
      expect(bubble.history.length).toBeGreaterThanOrEqual(3);
      expect(bubble.history[1].length).toBeLessThan(reply.text.length);
      for (let i = 2; i < bubble.history.length; i++) expect(bubble.history[i].startsWith(bubble.history[i - 1].replace(/[.,!?;:…]+$/, ""))).toBe(true);
    }
    // On the avatar, in the log, with the mood on the name tag and in the panel.
    expect(st.npcs.find((n) => n.id === BROM)!.saying).toBe(reply.text);
    expect(st.chat).toContain(`Brom Ironhand: ${reply.text}`);
    expect(reply.mood).not.toBe("");
    expect(st.dialogue!.moods[BROM]).toBe(reply.mood);
    const panel = page.locator("#npc-panel");
    expect(await panel.isVisible()).toBe(true);
    expect(await panel.locator(".name").innerText()).toBe("Brom Ironhand");
    expect(await panel.locator(".mood").getAttribute("data-mood")).toBe(reply.mood);
    // One bar per adapter in the reply's mixture (none when the character has no trained adapters yet).
    const weights = Object.entries(reply.weights);
    expect(await panel.locator(".weight").count()).toBe(weights.length);
    for (const [id, w] of weights) {
      expect(await panel.locator(`.weight[data-adapter="${id}"] .value`).innerText()).toBe(w.toFixed(2));
    }
    expect(st.dialogue!.panel).toMatchObject({ npc: BROM, mood: reply.mood });
    // Emotes the server applied played on Brom.
    const gestures = await page.evaluate(() => (window as unknown as { gesturesSeen: string[] }).gesturesSeen);
    for (const a of st.dialogue!.actions.filter((x) => x.ok && x.action.startsWith("emote:"))) expect(gestures).toContain(a.action.slice(6));
    // Skipped actions are logged to the console only.
    for (const a of st.dialogue!.actions.filter((x) => !x.ok)) expect(consoleLines.join("\n")).toContain(`skipped ${a.action}`);
  });

  it("plays gestures, points, and shows gifts from the replicated state; shrugs off malformed messages", async () => {
    const room = matchMaker.getLocalRoomById(roomId) as unknown as ServerRoomView;
    const me = (await debugState()).sessionId!;
    // The server's own action path: the NPC agent plays an emote, replicated in NpcState.emote.
    room.sim.npcs.get(BROM)!.emote("wave", 2.5);
    await waitFor("Brom to wave", async () => (await debugState()).npcs.find((n) => n.id === BROM)?.gesture === "wave", 10_000);
    // A gift lands in PlayerState.inventory: the HUD lists it and a toast says so.
    room.sim.players.get(me)!.state.inventory.set("horseshoe", 1);
    await waitFor("the horseshoe in the inventory", async () => (await debugState()).dialogue?.inventory?.horseshoe === 1, 10_000);
    await expect.poll(() => page.locator("#inventory").innerText()).toMatch(/horseshoe\s*×1/);
    await expect.poll(() => page.locator("#inventory-toasts").innerText()).toContain("+1 horseshoe");
    await page.screenshot({ path: `${SHOTS}/kith-dialogue-inventory.png` });

    const client = room.clients.getById(me)!;
    // An applied point_at (as the conversations send it) points an arm at the well.
    client.send("npc_action", { npc: BROM, reply: "brom-point", action: "point_at:well", ok: true });
    await waitFor("Brom to point", async () => (await debugState()).npcs.find((n) => n.id === BROM)?.gesture === "point", 10_000);

    // Malformed dialogue messages are dropped with a warning; the page carries on.
    client.send("npc_token", { npc: 5, text: null });
    client.send("npc_reply", { npc: BROM });
    client.send("npc_thinking", "nonsense");
    client.send("npc_action", { npc: BROM, reply: "x", action: 7, ok: true });
    await waitFor("the warnings", async () => consoleLines.filter((l) => l.includes("dropped a malformed")).length >= 4, 10_000);
    expect(consoleLines.some((l) => l.startsWith("pageerror"))).toBe(false);
    room.sim.players.get(me)!.state.inventory.set("horseshoe", 2);
    await waitFor("the page to keep up with the state", async () => (await debugState()).dialogue?.inventory?.horseshoe === 2, 10_000);
  });

  it("a long line wraps, keeps its newest words in view while streaming, and a fallback is marked", async () => {
    // Events sent by the server's own client handle, as the conversations send them.
    const room = matchMaker.getLocalRoomById(roomId) as unknown as ServerRoomView;
    const me = (await debugState()).sessionId!;
    const client = room.clients.getById(me)!;
    const reply = "brom-long";
    client.send("npc_thinking", { npc: BROM, reply, to: [me] });
    await waitFor("thinking dots", async () => (await debugState()).npcs.find((n) => n.id === BROM)?.thinking === true, 10_000);
    await page.waitForTimeout(400);
    await page.screenshot({ path: `${SHOTS}/kith-dialogue-thinking.png` });
    const words = "Iron wants heat, lad. Heat and patience and a heavy hammer. Thirty years at this anvil taught me that, and my father Garrick taught me the rest. Bring charcoal from the Greywood and I will sharpen your blade for nothing.".split(" ");
    for (let i = 0; i < words.length; i++) client.send("npc_token", { npc: BROM, reply, text: (i ? " " : "") + words[i] });
    const full = words.join(" ");
    await waitFor("the whole line streamed", async () => (await debugState()).dialogue?.bubbles[BROM]?.text === full, 10_000);
    await page.waitForTimeout(400);
    await page.screenshot({ path: `${SHOTS}/kith-dialogue-long.png` });
    client.send("npc_reply", { npc: BROM, name: "Brom Ironhand", reply, to: [me], text: full, mood: "cheerful", weights: { brom: 0.8, "mood-cheerful": 0.2 }, actions: [], fallback: true, filtered: false });
    const st = await waitFor("the line in the log", async () => {
      const s2 = await debugState();
      return s2.chat.includes(`Brom Ironhand: ${full}`) ? s2 : null;
    }, 10_000);
    expect(st.dialogue!.bubbles[BROM]).toMatchObject({ phase: "done", text: full });
    expect(st.dialogue!.bubbles[BROM].history.length).toBe(words.length + 1);
    expect(st.dialogue!.moods[BROM]).toBe("cheerful");
    expect(await page.locator('#chat-log .line[data-note="fallback"] .text').last().innerText()).toBe(full);
    // The panel follows with the new mood and one bar per adapter, largest first.
    await expect.poll(() => page.locator("#npc-panel .weight .label").allInnerTexts()).toEqual(["brom", "mood-cheerful"]);
    await page.screenshot({ path: `${SHOTS}/kith-dialogue-panel.png` });
  });

  it("walking away from Brom takes the talk prompt down", async () => {
    await page.bringToFront();
    expect((await debugState()).dialogue?.talkTarget).toBe(BROM);
    await page.keyboard.down("KeyS");
    try {
      await waitFor("no talk target", async () => (await debugState()).dialogue?.talkTarget === null, 20_000);
    } finally {
      await page.keyboard.up("KeyS");
    }
    await expect.poll(() => page.locator("#talk-prompt").isVisible()).toBe(false);
    expect(await page.locator("#chat-input").getAttribute("placeholder")).toBe("Press Enter to talk");
  });
});
