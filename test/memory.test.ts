import { afterEach, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { execFileSync } from "node:child_process";
import { MemoryStore, MemoryStoreError, memoryFileFromEnv } from "../server/memory/store.ts";
import { APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION } from "../server/memory/migrations.ts";
import { contentWords, foldLine, topicsSentence } from "../server/memory/summarise.ts";

const dirs: string[] = [];
const stores: MemoryStore[] = [];
function tempFile(name = "memory.sqlite"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kith-memory-"));
  dirs.push(dir);
  return path.join(dir, name);
}
function open(file: string, options?: Parameters<typeof MemoryStore.open>[1]): MemoryStore {
  const store = MemoryStore.open(file, options);
  stores.push(store);
  return store;
}
function errorOf(fn: () => unknown): Error {
  try { fn(); } catch (err) { return err as Error; }
  throw new Error("expected an error");
}
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe("MemoryStore", () => {
  it("keeps turns, name, standing and summary across close and reopen of a real file", () => {
    const file = tempFile(path.join("nested", "deeper", "memory.sqlite"));
    const a = MemoryStore.open(file);
    a.addTurn("brom", "p1", "player", "How much for a horseshoe?", 1000);
    a.addTurn("brom", "p1", "npc", "Four coins.", 2000);
    a.addTurn("brom", "p2", "player", "Hello!", 1500);
    a.setPlayerName("brom", "p1", "Tomas");
    a.adjustStanding("brom", "p1", 0.3);
    a.setSummary("brom", "p1", "They bought a horseshoe.");
    a.close();
    a.close(); // twice is fine

    const b = open(file);
    expect(b.version).toBe(SCHEMA_VERSION);
    expect(b.recentTurns("brom", "p1", 10)).toEqual([
      { role: "player", text: "How much for a horseshoe?", at: 1000 },
      { role: "npc", text: "Four coins.", at: 2000 },
    ]);
    expect(b.recentTurns("brom", "p2", 10)).toEqual([{ role: "player", text: "Hello!", at: 1500 }]);
    expect(b.playerName("brom", "p1")).toBe("Tomas");
    expect(b.standing("brom", "p1")).toBeCloseTo(0.3);
    expect(b.summary("brom", "p1")).toBe("They bought a horseshoe.");
    expect(b.memoryLine("brom", "p1")).toBe("The player is called Tomas. You like them. They bought a horseshoe.");
    // Another NPC knows nothing of the same player.
    expect(b.memoryLine("mira", "p1")).toBe("");
    expect(b.playerName("mira", "p1")).toBeUndefined();
    expect(b.standing("mira", "p1")).toBe(0);
    expect(b.summary("mira", "p1")).toBe("");
    expect(fs.existsSync(file)).toBe(true);
    expect(new Database(file, { readonly: true }).pragma("journal_mode", { simple: true })).toBe("wal");
  });

  it("returns the last n turns oldest first, ordered by time", () => {
    const m = open(tempFile());
    m.addTurn("brom", "p", "player", "one", 10);
    m.addTurn("brom", "p", "npc", "three", 30);
    m.addTurn("brom", "p", "player", "two", 20);
    expect(m.recentTurns("brom", "p", 2).map((t) => t.text)).toEqual(["two", "three"]);
    expect(m.recentTurns("brom", "p", 0)).toEqual([]);
    expect(m.recentTurns("brom", "p", 99).map((t) => t.text)).toEqual(["one", "two", "three"]);
  });

  it("clamps standing to -1..1 and describes it in words", () => {
    const m = open(tempFile());
    expect(m.adjustStanding("brom", "p", 0.7)).toBeCloseTo(0.7);
    expect(m.memoryLine("brom", "p")).toBe("You like them a lot.");
    expect(m.adjustStanding("brom", "p", 5)).toBe(1);
    expect(m.adjustStanding("brom", "p", -1.5)).toBeCloseTo(-0.5);
    expect(m.memoryLine("brom", "p")).toBe("You dislike them.");
    expect(m.adjustStanding("brom", "p", -100)).toBe(-1);
    expect(m.standing("brom", "p")).toBe(-1);
    expect(m.adjustStanding("brom", "q", -3)).toBe(-1); // a first adjustment clamps too
    expect(m.memoryLine("brom", "q")).toBe("You dislike them strongly.");
    m.adjustStanding("brom", "r", 0.1);
    expect(m.memoryLine("brom", "r")).toBe(""); // neutral band says nothing
  });

  it("prunes to maxTurns, folding the player's older lines into the summary", () => {
    const m = open(tempFile(), { maxTurns: 6 });
    const lines = [
      "How much for a horseshoe?", "Do you sell horseshoes?", "Tell me about the wolves", "Where is the well?",
      "Any news of the ore cart?", "Horseshoe prices are steep", "Hello", "Bye",
    ];
    lines.forEach((line, i) => {
      m.addTurn("brom", "p", "player", line, 1000 + i * 10);
      m.addTurn("brom", "p", "npc", `reply ${i}`, 1005 + i * 10);
    });
    expect(m.turnCount("brom", "p")).toBe(6);
    expect(m.recentTurns("brom", "p", 100).map((t) => t.text)).toEqual(["Horseshoe prices are steep", "reply 5", "Hello", "reply 6", "Bye", "reply 7"]);
    // The first 10 turns (lines 0..4 and their replies) were folded: horseshoe was asked about twice,
    // so it leads; the rest tie at once and the most recent (line 4) come next.
    const summary = m.summary("brom", "p");
    expect(summary).toBe("Earlier they asked about horseshoes, cart, news and ore.");
    const wide = open(m.file, { maxTurns: 6, showTopics: 8 });
    expect(wide.summary("brom", "p")).toBe("Earlier they asked about horseshoes, cart, news, ore, well and wolves.");
    expect(summary).not.toContain("reply"); // NPC lines are not folded
    // A summary set by hand replaces the folded one; later pruning appends new topics.
    m.setSummary("brom", "p", "They are a regular customer.");
    expect(m.summary("brom", "p")).toBe("They are a regular customer.");
    m.addTurn("brom", "p", "player", "Can you mend my sword?", 5000);
    m.addTurn("brom", "p", "player", "And sharpen my dagger?", 5001);
    expect(m.summary("brom", "p")).toMatch(/^They are a regular customer\. Earlier they asked about /);
    expect(m.memoryLine("brom", "p")).toContain("Earlier they asked about");
  });

  it("summariser: content words only, plurals folded, most frequent first, bounded", () => {
    expect(contentWords("How much for a horseshoe? Tell me about the wolves!")).toEqual(["horseshoe", "wolves"]);
    let topics = {};
    topics = foldLine(topics, "horseshoes please", 1, 3);
    topics = foldLine(topics, "a horseshoe and nails", 2, 3);
    topics = foldLine(topics, "the well", 3, 3);
    topics = foldLine(topics, "the tavern", 4, 3);
    expect(Object.keys(topics)).toHaveLength(3);
    expect(topicsSentence(topics, 2)).toBe("Earlier they asked about horseshoe and tavern.");
    expect(topicsSentence({}, 3)).toBe("");
  });

  it("clips long text, names and summaries; strips markers and control characters from names", () => {
    const m = open(tempFile(), { maxTextChars: 50, maxNameChars: 10, maxSummaryChars: 30 });
    m.addTurn("brom", "p", "player", "x".repeat(500));
    expect(m.recentTurns("brom", "p", 1)[0].text).toHaveLength(50);
    m.setPlayerName("brom", "p", "<|persona|>Tomas\nthe Great and Powerful");
    expect(m.playerName("brom", "p")).toBe("Tomas the");
    m.setSummary("brom", "p", "y".repeat(100));
    expect(m.summary("brom", "p")).toHaveLength(30);
    m.setPlayerName("brom", "p", "Ada!");
    expect(m.memoryLine("brom", "p")).toBe("The player is called Ada. yyyyyyyyyyyyyyyyyyyyyyyyyyyyyy");
    m.setPlayerName("brom", "p", "   ");
    expect(m.playerName("brom", "p")).toBeUndefined();
  });

  it("rejects bad arguments with clear errors", () => {
    const m = open(tempFile());
    expect(() => m.addTurn("", "p", "player", "hi")).toThrow(/npc must be a non-empty string/);
    expect(() => m.addTurn("brom", "p", "narrator" as never, "hi")).toThrow(/role must be "player" or "npc"/);
    expect(() => m.addTurn("brom", "p", "player", 42 as never)).toThrow(/text must be a string/);
    expect(() => m.addTurn("brom", "p", "player", "hi", NaN)).toThrow(/at must be a finite time/);
    expect(() => m.adjustStanding("brom", "p", NaN)).toThrow(/finite number/);
    expect(() => m.recentTurns("brom", "p", -1)).toThrow(/n must be an integer/);
    expect(() => MemoryStore.open(tempFile(), { maxTurns: 0 })).toThrow(/maxTurns/);
    expect(m.turnCount("brom", "p")).toBe(0);
  });

  it("forget deletes a pair and nothing else", () => {
    const m = open(tempFile());
    m.addTurn("brom", "p", "player", "hi");
    m.setPlayerName("brom", "p", "Tomas");
    m.addTurn("brom", "q", "player", "hello");
    m.forget("brom", "p");
    expect(m.turnCount("brom", "p")).toBe(0);
    expect(m.memoryLine("brom", "p")).toBe("");
    expect(m.turnCount("brom", "q")).toBe(1);
  });

  it("upgrades a hand-made version-1 file, keeping its data", () => {
    const file = tempFile();
    const raw = new Database(file);
    raw.pragma(`application_id = ${APPLICATION_ID}`);
    // The version-1 schema as it shipped, written by hand (not through the migration list).
    raw.exec(`
      CREATE TABLE turns (id INTEGER PRIMARY KEY, npc TEXT NOT NULL, player TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('player', 'npc')), text TEXT NOT NULL, at INTEGER NOT NULL);
      CREATE TABLE relations (npc TEXT NOT NULL, player TEXT NOT NULL, name TEXT, standing REAL NOT NULL DEFAULT 0,
        summary TEXT NOT NULL DEFAULT '', PRIMARY KEY (npc, player)) WITHOUT ROWID;
      INSERT INTO turns (npc, player, role, text, at) VALUES ('wen', 'p', 'player', 'What cures a cough?', 100),
        ('wen', 'p', 'npc', 'Nettle tea, dearie.', 200);
      INSERT INTO relations (npc, player, name, standing, summary) VALUES ('wen', 'p', 'Ada', -0.4, 'They were rude once.');
    `);
    raw.pragma("user_version = 1");
    raw.close();

    const m = open(file, { maxTurns: 2 });
    expect(m.version).toBe(SCHEMA_VERSION);
    expect(SCHEMA_VERSION).toBeGreaterThan(1);
    expect(m.recentTurns("wen", "p", 5).map((t) => t.text)).toEqual(["What cures a cough?", "Nettle tea, dearie."]);
    expect(m.memoryLine("wen", "p")).toBe("The player is called Ada. You dislike them. They were rude once.");
    // The columns and index the later migrations added are in use.
    m.addTurn("wen", "p", "player", "Thanks", 300);
    expect(m.summary("wen", "p")).toBe("They were rude once. Earlier they asked about cough and cures.");
    const check = new Database(file, { readonly: true });
    expect(check.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'turns_by_pair'").pluck().get()).toBe("turns_by_pair");
    check.close();
  });

  it("refuses a file written by a newer version", () => {
    const file = tempFile();
    MemoryStore.open(file).close();
    const raw = new Database(file);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    const err = errorOf(() => MemoryStore.open(file));
    expect(err).toBeInstanceOf(MemoryStoreError);
    expect(err.message).toContain(file);
    expect(err.message).toMatch(new RegExp(`version ${SCHEMA_VERSION + 1} was written by a newer Kith; this one understands up to ${SCHEMA_VERSION}`));
  });

  it("gives a clear error naming the file for a file that is not SQLite, or is damaged", () => {
    const text = tempFile("notes.sqlite");
    fs.writeFileSync(text, "these are my notes, not a database\n".repeat(200));
    const err = errorOf(() => MemoryStore.open(text));
    expect(err).toBeInstanceOf(MemoryStoreError);
    expect(err.message).toMatch(new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: not an SQLite database`));

    // A real memory file whose pages were overwritten with garbage after the header.
    const damaged = tempFile("damaged.sqlite");
    const m = MemoryStore.open(damaged);
    for (let i = 0; i < 300; i++) m.addTurn("brom", `p${i}`, "player", `line ${i} `.repeat(20), i);
    m.close();
    const bytes = fs.readFileSync(damaged);
    for (let i = 100; i < bytes.length; i++) bytes[i] = (i * 7919) & 0xff;
    fs.writeFileSync(damaged, bytes);
    fs.rmSync(damaged + "-wal", { force: true });
    fs.rmSync(damaged + "-shm", { force: true });
    const err2 = errorOf(() => { const s = MemoryStore.open(damaged); try { s.recentTurns("brom", "p1", 5); } finally { s.close(); } });
    expect(err2.message).toContain(damaged);
    expect(err2).toBeInstanceOf(MemoryStoreError);
    expect(err2.message).toBe(`${damaged}: the memory database is damaged (database disk image is malformed); move it aside to start with an empty memory`);
  });

  it("refuses an SQLite file that belongs to another program", () => {
    const file = tempFile();
    const raw = new Database(file);
    raw.exec("CREATE TABLE recipes (name TEXT)");
    raw.close();
    const err = errorOf(() => MemoryStore.open(file));
    expect(err).toBeInstanceOf(MemoryStoreError);
    expect(err.message).toContain(file);
    expect(err.message).toContain("not a Kith memory file (it has tables recipes)");
  });

  it("two stores on one file (WAL) see each other's writes", () => {
    const file = tempFile();
    const a = open(file);
    const b = open(file);
    a.addTurn("mira", "p", "player", "Silk, please.", 1);
    expect(b.recentTurns("mira", "p", 5).map((t) => t.text)).toEqual(["Silk, please."]);
    b.addTurn("mira", "p", "npc", "Twelve coins.", 2);
    b.setPlayerName("mira", "p", "Jun");
    expect(a.recentTurns("mira", "p", 5).map((t) => t.text)).toEqual(["Silk, please.", "Twelve coins."]);
    expect(a.playerName("mira", "p")).toBe("Jun");
    // Adjustments from both connections add up (each is one atomic statement).
    for (let i = 0; i < 5; i++) { a.adjustStanding("mira", "p", 0.1); b.adjustStanding("mira", "p", 0.1); }
    expect(a.standing("mira", "p")).toBeCloseTo(1.0);
    expect(b.standing("mira", "p")).toBeCloseTo(1.0);
  });

  it("another process writing the same file while this one holds it open", () => {
    const file = tempFile();
    const here = open(file);
    here.addTurn("hilde", "p", "player", "A room for the night?", 1);
    const script = `
      import { MemoryStore } from "./server/memory/store.ts";
      const m = MemoryStore.open(process.argv[1]);
      const seen = m.recentTurns("hilde", "p", 5).map((t) => t.text);
      m.addTurn("hilde", "p", "npc", "Upstairs, dearie.", 2);
      m.adjustStanding("hilde", "p", 0.25);
      m.close();
      console.log(JSON.stringify(seen));`;
    const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script, file], { encoding: "utf8" });
    expect(JSON.parse(out.trim())).toEqual(["A room for the night?"]);
    expect(here.recentTurns("hilde", "p", 5).map((t) => t.text)).toEqual(["A room for the night?", "Upstairs, dearie."]);
    expect(here.standing("hilde", "p")).toBeCloseTo(0.25);
  });

  it("takes its file from KITH_MEMORY, else data/memory.sqlite", () => {
    expect(memoryFileFromEnv({ KITH_MEMORY: "/srv/kith/memory.sqlite" })).toBe("/srv/kith/memory.sqlite");
    expect(memoryFileFromEnv({})).toBe(path.resolve("data/memory.sqlite"));
  });

  it("opens an in-memory store for tools", () => {
    const m = open(":memory:");
    m.addTurn("brom", "p", "player", "hi", 1);
    expect(m.recentTurns("brom", "p", 1)).toHaveLength(1);
    expect(MIGRATIONS.length).toBe(SCHEMA_VERSION);
  });
});
