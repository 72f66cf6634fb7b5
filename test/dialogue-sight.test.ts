// Lines about sight answered from the scene graph: a real server (createKithServer) with the
// committed model, the real Colyseus SDK. With the default `sight: "auto"` and the shipped vision
// package (which does not read its views yet, assets/vision/vision.json "grounding"), a line
// about sight gets the props in the NPC's view marked among its nearby lines
// (core/vision/seen.ts), the question worked out on them first (core/vision/ask.ts), and the
// skill-sight pack; a crate pushed into view enters the prompt and changes Brom's answer.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { matchMaker } from "@colyseus/core";
import { parseScene } from "../core/scene/load.ts";
import { SIGHT_SKILL } from "../core/vision/seen.ts";
import { createKithServer, type KithServer } from "../server/kith-server.ts";
import type { WorldRoom } from "../server/world-room.ts";
import { joinBot, listen, waitFor, walkTo } from "./helpers/dialogue-bots.ts";

// Brom at z = 8 facing -Z; the bot stops 2.5 m in front of him. A red barrel stands between
// them, off the line on Brom's left (+X when facing -Z); a blue crate waits behind Brom.
const scene = parseScene({
  name: "yard",
  ground: { size: [60, 60] },
  objects: [
    { id: "forge", name: "forge", tags: ["forge", "building"], shape: { kind: "box", size: [3, 2.5, 3] }, position: [-6, 1.25, 12] },
    { id: "barrel-red", name: "red barrel", tags: ["barrel", "red"], movable: true, mass: 30, shape: { kind: "cylinder", radius: 0.4, height: 1 }, position: [1.3, 0.5, 4.5], colour: [0.72, 0.18, 0.15] },
    { id: "crate-blue", name: "blue crate", tags: ["crate", "blue"], movable: true, mass: 20, shape: { kind: "box", size: [0.9, 0.9, 0.9] }, position: [3, 0.45, 16], colour: [0.2, 0.4, 0.7] },
  ],
  spawns: [{ position: [0, 0, 0] }],
  npcs: [{ id: "brom", character: "brom", name: "Brom Ironhand", role: "blacksmith", position: [0, 0, 8], facing: Math.PI }],
}, "yard.json");

let kith: KithServer;
const logs: string[] = [];

beforeAll(async () => {
  kith = await createKithServer({ port: 0, scene, earshot: 12, dialogue: { deadlineMs: 30_000, temperature: 0, rate: { perMinute: 60, burst: 4 } }, log: (l) => logs.push(l) });
});
afterAll(async () => { await kith?.close(); });

async function serverRoom(): Promise<WorldRoom> {
  const [listing] = await matchMaker.query({ name: "world" });
  return matchMaker.getLocalRoomById(listing.roomId) as WorldRoom;
}

describe("lines about sight, from the scene graph", () => {
  it("Brom's prompt holds what is in his view, summed up and marked; a crate pushed into it enters the next one", async () => {
    const bot = await joinBot(kith.url, { name: "Ada" });
    const h = listen(bot);
    await walkTo(bot, 0, 8, 2.5);
    bot.send("chat", { text: "What colour is the barrel?" });
    await waitFor(() => h.replies.length === 1, 60_000, "npc_reply");
    const room = await serverRoom();
    const first = h.replies[0];
    expect(first).toMatchObject({ npc: "brom", fallback: false });
    expect(first.weights[SIGHT_SKILL]).toBe(1);
    const p1 = room.dialogue!.lastPrompt("brom")!;
    expect(p1).toMatch(/(\n|<\|near\|>)- barrel-red: red barrel, [^\n]*, in sight on the left\n/);
    expect(p1).not.toMatch(/crate-blue[^\n]*in sight/);
    expect(p1).toContain("<|near|>- sight answer: the barrel is red\n- in sight, nearest first: red barrel on the left; one barrel, no crates, no sacks, no buckets\n");
    expect(p1).not.toContain("<|image|>");
    // Greedy: Brom voices the worked-out answer (skill-sight v3 reads it; training/vision/README.md).
    expect(first.text.toLowerCase()).toMatch(/\bred\b/);

    // Push the crate into his view, on his right.
    room.simulation.physics.props.get("crate-blue")!.setTranslation({ x: -1.2, y: 0.45, z: 4.6 }, true);
    await new Promise((r) => setTimeout(r, 300));
    bot.send("chat", { text: "And what colour is the crate?" });
    await waitFor(() => h.replies.length === 2, 60_000, "second npc_reply");
    const p2 = room.dialogue!.lastPrompt("brom")!;
    expect(p2).toMatch(/(\n|<\|near\|>)- crate-blue: blue crate, [^\n]*, in sight on the right\n/);
    expect(p2).toMatch(/(\n|<\|near\|>)- barrel-red: red barrel, [^\n]*, in sight on the left\n/);
    expect(p2).toMatch(/<\|near\|>- sight answer: the crate is blue\n- in sight, nearest first: (red barrel on the left, blue crate on the right|blue crate on the right, red barrel on the left); one barrel, one crate, no sacks, no buckets\n/);
    expect(h.replies[1]).toMatchObject({ npc: "brom", fallback: false });
    // The crate pushed into his view: the answer now comes from it.
    expect(h.replies[1].text.toLowerCase()).toMatch(/\bblue\b/);
    expect(h.replies[1].weights[SIGHT_SKILL]).toBe(1);

    // A line not about the props in sight keeps the usual nearby lines and no sight skill.
    bot.send("chat", { text: "How long have you worked the forge?" });
    await waitFor(() => h.replies.length === 3, 60_000, "third npc_reply");
    expect(room.dialogue!.lastPrompt("brom")!).not.toContain("in sight");
    expect(h.replies[2].weights[SIGHT_SKILL]).toBeUndefined();
    await bot.leave();
  });
});
