// Memory across a restart: a player talks to Brom, the server closes, a new server opens the same
// SQLite file, and Brom's next prompt for that player (same playerKey) holds the remembered name
// and the earlier turns; another player's prompt holds none of it.
import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { matchMaker } from "@colyseus/core";
import { MemoryStore } from "../server/memory/store.ts";
import { createKithServer, type KithServer } from "../server/kith-server.ts";
import type { WorldRoom } from "../server/world-room.ts";
import { bromYard, joinBot, listen, waitFor, walkTo } from "./helpers/dialogue-bots.ts";

const scene = bromYard();

const dir = mkdtempSync(join(tmpdir(), "kith-memory-"));
const file = join(dir, "memory.sqlite");
let kith: KithServer | undefined;

afterAll(async () => {
  await kith?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function talk(key: string, name: string, text: string): Promise<{ reply: string; prompt: string }> {
  const bot = await joinBot(kith!.url, { name, playerKey: key });
  const h = listen(bot);
  await walkTo(bot, 0, 5, 2.5);
  bot.send("chat", { text, to: "brom" });
  await waitFor(() => h.replies.length === 1, 30_000, "npc_reply");
  const [listing] = await matchMaker.query({ name: "world" });
  const prompt = (matchMaker.getLocalRoomById(listing.roomId) as WorldRoom).dialogue!.lastPrompt("brom")!;
  await bot.leave();
  return { reply: h.replies[0].text, prompt };
}

describe("memory across a restart", () => {
  it("Brom remembers the player's name and their last exchange after the server restarts", async () => {
    kith = await createKithServer({ port: 0, scene, dialogue: { memoryFile: file } });
    const first = await talk("ada-key-0001", "Ada", "My name is Ada. I need horseshoes for my mare.");
    expect(first.prompt).not.toMatch(/<\|npc\|>[^\n]*<\|end\|>/); // no earlier turns
    expect(first.prompt).toContain("<|memory|>The player is called Ada."); // the line itself gave the name
    await kith.close();
    kith = undefined;

    // The file holds the exchange (read directly, as the next server will).
    const store = MemoryStore.open(file);
    const turns = store.recentTurns("brom", "ada-key-0001", 10);
    expect(turns.map((t) => t.role)).toEqual(["player", "npc"]);
    expect(turns[0].text).toBe("My name is Ada. I need horseshoes for my mare.");
    expect(turns[1].text).toMatch(/^\[mood:[a-z]+\] /);
    expect(turns[1].text).toContain(first.reply);
    store.close();

    kith = await createKithServer({ port: 0, scene, dialogue: { memoryFile: file } });
    const again = await talk("ada-key-0001", "Ada", "Do you remember me?");
    expect(again.prompt).toContain("<|memory|>The player is called Ada.");
    expect(again.prompt).toContain("<|player|>My name is Ada. I need horseshoes for my mare.<|end|>\n<|npc|>");
    expect(again.prompt.endsWith("<|player|>Do you remember me?<|end|>\n<|npc|>")).toBe(true);

    const stranger = await talk("bob-key-0002", "Bob", "Do you remember me?");
    expect(stranger.prompt).not.toContain("<|memory|>");
    expect(stranger.prompt).not.toContain("horseshoes for my mare");
  });

  it("the playerKey join option is checked", async () => {
    kith ??= await createKithServer({ port: 0, scene, dialogue: { memoryFile: file } });
    await expect(joinBot(kith.url, { name: "Cy", playerKey: "short" })).rejects.toThrow(/playerKey/);
  });
});
