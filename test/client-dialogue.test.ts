import { describe, expect, it } from "vitest";
import { Matrix, Quaternion, Vector3 } from "../client/world/babylon.ts";
import { ReplyStreams } from "../client/dialogue/reply-streams.ts";
import { spokenText } from "../client/dialogue/spoken-text.ts";
import { pickTalkTarget, TALK_RANGE } from "../client/dialogue/talk-target.ts";
import { moodStyle } from "../client/dialogue/mood.ts";
import { inventoryGains, itemLabel, readInventory } from "../client/dialogue/inventory.ts";
import { fitLines, wrapText } from "../client/world/bubble-layout.ts";
import { GESTURES, gestureFor, gesturePose, holdWeight, pointArm, type Euler } from "../client/world/emotes.ts";
import { jointOf } from "../client/world/avatar-look.ts";
import type { NpcReplyEvent } from "../core/protocol/index.ts";

// The pure pieces of the client's NPC dialogue: reply streams per reply id, tag-free display,
// bubble line layout, talk-target geometry, gestures and pointing, moods and inventory.

const think = (npc: string, reply: string) => ({ npc, reply, to: ["p1"] });
const tok = (npc: string, reply: string, text: string) => ({ npc, reply, text });
const done = (npc: string, reply: string, text: string, extra: Partial<NpcReplyEvent> = {}): NpcReplyEvent =>
  ({ npc, reply, name: "Brom Ironhand", to: ["p1"], text, mood: "calm", weights: { brom: 0.7, "mood-calm": 0.3 }, actions: [], fallback: false, filtered: false, ...extra });

describe("spoken text", () => {
  it("strips whole tags and control tokens and tidies spacing", () => {
    expect(spokenText("[mood:cheerful] Hah. Good eye, lad. [emote:nod]")).toBe("Hah. Good eye, lad.");
    expect(spokenText("West. Past the well [point_at : well] .")).toBe("West. Past the well.");
    expect(spokenText("Aye.<|end|>[mood:calm] junk after the end")).toBe("Aye.");
    expect(spokenText("  Iron <|pad|> and   steel  ")).toBe("Iron and steel");
  });

  it("holds back a tag or token still arriving while streaming, and only then", () => {
    expect(spokenText("Here you are. [gi", true)).toBe("Here you are.");
    expect(spokenText("Here you are. [give:horse", true)).toBe("Here you are.");
    expect(spokenText("Here you are. [give:horseshoe]", true)).toBe("Here you are.");
    expect(spokenText("Done <|en", true)).toBe("Done");
    // Not streaming: a lone bracket in a finished line is text.
    expect(spokenText("Two coins [")).toBe("Two coins [");
  });
});

describe("reply streams", () => {
  it("shows thinking, then accumulates tokens by reply id, then the final line", () => {
    const s = new ReplyStreams();
    expect(s.thinking(think("brom", "r1"), 0)).toBe(true);
    expect(s.get("brom")).toMatchObject({ phase: "thinking", text: "" });
    s.token(tok("brom", "r1", "Aye."), 10);
    s.token(tok("brom", "r1", " What do"), 20);
    expect(s.get("brom")).toMatchObject({ phase: "speaking", text: "Aye. What do" });
    s.token(tok("brom", "r1", " you need?"), 30);
    expect(s.reply(done("brom", "r1", "Aye. What do you need?"), 40)).toBe(true);
    const b = s.get("brom")!;
    expect(b).toMatchObject({ phase: "done", text: "Aye. What do you need?" });
    expect(b.history).toEqual(["…", "Aye.", "Aye. What do", "Aye. What do you need?"]);
  });

  it("keeps NPCs apart and ignores tokens of other replies' ids for the wrong NPC", () => {
    const s = new ReplyStreams();
    s.thinking(think("brom", "r1"), 0);
    s.thinking(think("mira", "r2"), 0);
    s.token(tok("mira", "r2", "Silk!"), 5);
    s.token(tok("brom", "r1", "Iron."), 6);
    expect(s.get("brom")!.text).toBe("Iron.");
    expect(s.get("mira")!.text).toBe("Silk!");
  });

  it("is safe against duplicates and events out of order", () => {
    const s = new ReplyStreams();
    // A token before its npc_thinking opens the reply already speaking...
    s.token(tok("brom", "r1", "Hmph."), 0);
    // ...and the late (or duplicate) npc_thinking does not wipe the text.
    expect(s.thinking(think("brom", "r1"), 1)).toBe(false);
    expect(s.get("brom")).toMatchObject({ phase: "speaking", text: "Hmph." });
    // A doubled delta is corrected by the final line, which wins.
    s.token(tok("brom", "r1", " Hot"), 2);
    s.token(tok("brom", "r1", " Hot"), 3);
    expect(s.get("brom")!.text).toBe("Hmph. Hot Hot");
    expect(s.reply(done("brom", "r1", "Hmph. Hot iron."), 4)).toBe(true);
    expect(s.get("brom")!.text).toBe("Hmph. Hot iron.");
    // Anything after the end changes nothing; a duplicate reply is not new.
    expect(s.token(tok("brom", "r1", " extra"), 5)).toBe(false);
    expect(s.thinking(think("brom", "r1"), 6)).toBe(false);
    expect(s.reply(done("brom", "r1", "Hmph. Hot iron."), 7)).toBe(false);
    expect(s.get("brom")).toMatchObject({ phase: "done", text: "Hmph. Hot iron." });
  });

  it("a reply whose only event is npc_reply still shows", () => {
    const s = new ReplyStreams();
    expect(s.reply(done("brom", "r9", "[mood:angry] Out of my forge."), 0)).toBe(true);
    expect(s.get("brom")).toMatchObject({ phase: "done", text: "Out of my forge." });
  });

  it("a newer reply takes the bubble; the older one's late tokens are ignored, its line is still new once", () => {
    const s = new ReplyStreams();
    s.thinking(think("brom", "r1"), 0);
    s.token(tok("brom", "r1", "First"), 1);
    s.thinking(think("brom", "r2"), 2);
    expect(s.token(tok("brom", "r1", " late"), 3)).toBe(false);
    expect(s.get("brom")).toMatchObject({ reply: "r2", phase: "thinking" });
    expect(s.reply(done("brom", "r1", "First line."), 4)).toBe(true);
    expect(s.get("brom")).toMatchObject({ reply: "r2", phase: "thinking" });
    s.token(tok("brom", "r2", "Second."), 5);
    expect(s.get("brom")!.text).toBe("Second.");
  });

  it("never shows tags even when a tag is split over deltas", () => {
    const s = new ReplyStreams();
    s.thinking(think("brom", "r1"), 0);
    for (const piece of ["Here.", " [gi", "ve:horse", "shoe]", " Mind it."]) {
      s.token(tok("brom", "r1", piece), 1);
      expect(s.get("brom")!.text).not.toMatch(/[[\]]/);
    }
    expect(s.get("brom")!.text).toBe("Here. Mind it.");
    expect(s.get("brom")!.history).toEqual(["…", "Here.", "Here. Mind it."]);
  });

  it("done bubbles linger by length; stalled ones are dropped", () => {
    const s = new ReplyStreams({ lingerMs: (t) => 1000 + 10 * t.length, staleMs: 5000 });
    s.reply(done("brom", "r1", "0123456789"), 0); // stays 1100 ms
    s.thinking(think("mira", "r2"), 0);
    expect(s.expire(1099)).toEqual([]);
    expect(s.expire(1100)).toEqual(["brom"]);
    expect(s.expire(4999)).toEqual([]);
    expect(s.expire(5000)).toEqual(["mira"]);
    // A dropped reply's late tokens do not bring it back.
    expect(s.token(tok("mira", "r2", "late"), 6000)).toBe(false);
    expect(s.all()).toEqual([]);
  });

  it("ignores empty tokens", () => {
    const s = new ReplyStreams();
    s.thinking(think("brom", "r1"), 0);
    expect(s.token(tok("brom", "r1", ""), 1)).toBe(false);
    expect(s.get("brom")!.phase).toBe("thinking");
  });
});

describe("bubble layout", () => {
  const chars = (s: string) => s.length; // 1 px per character
  it("wraps on words and cuts words longer than a line", () => {
    expect(wrapText("aye what do you need", chars, 8)).toEqual(["aye what", "do you", "need"]);
    expect(wrapText("abcdefghijkl xy", chars, 5)).toEqual(["abcde", "fghij", "kl xy"]);
    expect(wrapText("   ", chars, 5)).toEqual([]);
    for (const line of wrapText("the quick brown fox jumps over the lazy dog again and again", chars, 10)) expect(line.length).toBeLessThanOrEqual(10);
  });

  it("keeps the newest lines while streaming and the first ones when done", () => {
    const lines = ["one", "two", "three", "four"];
    expect(fitLines(lines, 4, "end")).toEqual(lines);
    expect(fitLines(lines, 2, "end")).toEqual(["…three", "four"]);
    expect(fitLines(lines, 2, "start")).toEqual(["one", "two…"]);
  });
});

describe("talk target", () => {
  const brom = { id: "brom", x: 0, z: 3 };
  it("offers an NPC within range that the player faces", () => {
    expect(pickTalkTarget({ x: 0, z: 0, yaw: 0 }, [brom])).toBe("brom");
    // 50° off the facing: still roughly facing; 80° off: not.
    const at = (deg: number) => ({ id: "n", x: 3 * Math.sin((deg * Math.PI) / 180), z: 3 * Math.cos((deg * Math.PI) / 180) });
    expect(pickTalkTarget({ x: 0, z: 0, yaw: 0 }, [at(50)])).toBe("n");
    expect(pickTalkTarget({ x: 0, z: 0, yaw: 0 }, [at(80)])).toBeNull();
    expect(pickTalkTarget({ x: 0, z: 0, yaw: 0 }, [at(-50)])).toBe("n");
  });

  it("not out of range, not behind the player unless very close", () => {
    expect(pickTalkTarget({ x: 0, z: 0, yaw: 0 }, [{ id: "far", x: 0, z: TALK_RANGE.range + 0.1 }])).toBeNull();
    expect(pickTalkTarget({ x: 0, z: 0, yaw: Math.PI }, [brom])).toBeNull();
    expect(pickTalkTarget({ x: 0, z: 0, yaw: Math.PI }, [{ id: "close", x: 0, z: 1 }])).toBe("close");
  });

  it("looking at an NPC with the camera counts as facing it", () => {
    expect(pickTalkTarget({ x: 0, z: 0, yaw: Math.PI }, [brom], { viewYaw: 0.2 })).toBe("brom");
  });

  it("prefers the nearer and more centred NPC, and keeps the current one", () => {
    const a = { id: "a", x: 0.3, z: 2 }, b = { id: "b", x: 1.2, z: 2.5 };
    expect(pickTalkTarget({ x: 0, z: 0, yaw: 0 }, [b, a])).toBe("a");
    const c = { id: "c", x: -0.3, z: 2.1 };
    expect(pickTalkTarget({ x: 0, z: 0, yaw: 0 }, [a, c])).toBe("a");
    expect(pickTalkTarget({ x: 0, z: 0, yaw: 0 }, [a, c], { current: "c" })).toBe("c");
    // The current target stays up to the keep distance, a new one only within range.
    const edge = { id: "e", x: 0, z: (TALK_RANGE.range + TALK_RANGE.keep) / 2 };
    expect(pickTalkTarget({ x: 0, z: 0, yaw: 0 }, [edge])).toBeNull();
    expect(pickTalkTarget({ x: 0, z: 0, yaw: 0 }, [edge], { current: "e" })).toBe("e");
  });

  it("works with angles past ±π and skips bad positions", () => {
    expect(pickTalkTarget({ x: 0, z: 0, yaw: 3 * Math.PI }, [{ id: "s", x: 0, z: -3 }])).toBe("s");
    expect(pickTalkTarget({ x: 0, z: 0, yaw: 0 }, [{ id: "nan", x: NaN, z: 1 }])).toBeNull();
  });
});

/** Where a hanging arm (0, -1, 0) points after a shoulder rotation (Babylon's Euler order). */
function armDirection(e: Euler): Vector3 {
  const m = new Matrix();
  Quaternion.RotationYawPitchRoll(e[1], e[0], e[2]).toRotationMatrix(m);
  return Vector3.TransformNormal(new Vector3(0, -1, 0), m);
}

describe("gestures", () => {
  it("wave raises the right arm above the shoulder mid-gesture, then ends", () => {
    const g = GESTURES.wave;
    const mid = gesturePose(g, g.duration / 2)!;
    const d = armDirection(mid.armR);
    expect(d.y).toBeGreaterThan(0.5); // up
    expect(d.x).toBeGreaterThan(0); // on the right side
    expect(armDirection(mid.armL).y).toBeCloseTo(-1); // left arm still hangs
    expect(gesturePose(g, g.duration)).toBeNull();
    expect(gesturePose(g, 0)!.armR).toEqual([0, 0, 0]); // eased in from rest
  });

  it("nod tips the head down and back up; shake turns it both ways", () => {
    const nod = GESTURES.nod;
    const pitches = Array.from({ length: 20 }, (_, i) => gesturePose(nod, (i / 20) * nod.duration)!.neck[0]);
    expect(Math.max(...pitches)).toBeGreaterThan(0.15);
    expect(Math.min(...pitches)).toBeGreaterThanOrEqual(0);
    const shake = GESTURES.shake_head;
    const yaws = Array.from({ length: 40 }, (_, i) => gesturePose(shake, (i / 40) * shake.duration)!.neck[1]);
    expect(Math.max(...yaws)).toBeGreaterThan(0.15);
    expect(Math.min(...yaws)).toBeLessThan(-0.15);
  });

  it("every character's emote has a gesture; unknown ones nod", () => {
    for (const e of ["nod", "wave", "shrug", "cross_arms", "hammer", "salute", "bow", "shake_head", "laugh", "curtsy", "wipe_hands", "hug", "clap", "smile", "sniff_herbs"]) {
      expect(GESTURES[e], e).toBeDefined();
      const g = GESTURES[e];
      const moved = Array.from({ length: 10 }, (_, i) => gesturePose(g, ((i + 0.5) / 10) * g.duration)!)
        .some((p) => [...p.armL, ...p.armR, ...p.neck, p.lean, p.lift].some((v) => Math.abs(v) > 0.02));
      expect(moved, e).toBe(true);
    }
    expect(gestureFor("juggle")).toBe(GESTURES.nod);
  });

  it("points the arm on the target's side along the target direction", () => {
    for (const [yaw, elev] of [[0.6, 0], [-1.2, 0.3], [2.5, -0.2], [0, 0.5]]) {
      const aim = pointArm(yaw, elev);
      expect(aim.side).toBe(yaw >= 0 ? "r" : "l");
      const d = armDirection(aim.shoulder);
      const want = new Vector3(Math.sin(yaw) * Math.cos(elev), Math.sin(elev), Math.cos(yaw) * Math.cos(elev));
      expect(Vector3.Distance(d, want)).toBeLessThan(1e-6);
    }
    expect(holdWeight(0, 2)).toBe(0);
    expect(holdWeight(1, 2)).toBe(1);
    expect(holdWeight(2, 2)).toBe(0);
  });

  it("head parts hang from the neck, arms from shoulders", () => {
    expect(["head", "eye-l", "hat-top", "helmet-crest", "hood", "hair"].map(jointOf)).toEqual(Array(6).fill("neck"));
    expect(jointOf("arm-l")).toBe("shoulder-l");
    expect(jointOf("hand-r")).toBe("shoulder-r");
    expect(jointOf("apron")).toBe("body");
    expect(jointOf("hammer-head")).toBe("body");
  });
});

describe("moods and inventory", () => {
  it("styles known moods and keeps unknown words", () => {
    expect(moodStyle("cheerful")).toMatchObject({ word: "cheerful", colour: "#f2c94c" });
    expect(moodStyle(" Angry ").word).toBe("angry");
    const odd = moodStyle("giddy");
    expect(odd.word).toBe("giddy");
    expect(odd.colour).toBe("#a0a0a0");
  });

  it("reads an inventory map tolerantly and finds gains", () => {
    expect(readInventory({})).toBeNull();
    expect(readInventory(undefined)).toBeNull();
    const inv = readInventory({ inventory: new Map<string, unknown>([["horseshoe", 1], ["nails", 3], ["bad", "x"], ["none", 0]]) })!;
    expect(inv).toEqual({ horseshoe: 1, nails: 3 });
    expect(readInventory({ inventory: { iron_pot: 2 } })).toEqual({ iron_pot: 2 });
    expect(inventoryGains({ horseshoe: 1 }, { horseshoe: 2, nails: 3 })).toEqual([{ item: "horseshoe", added: 1 }, { item: "nails", added: 3 }]);
    expect(inventoryGains({ horseshoe: 2 }, { horseshoe: 1 })).toEqual([]);
    expect(itemLabel("iron_pot")).toBe("iron pot");
  });
});
