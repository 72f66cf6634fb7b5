// What each NPC remembers of each player, in one embedded SQLite file (better-sqlite3, synchronous,
// WAL so several processes can share the file). Per npc+player pair: the recent turns (bounded; the
// oldest are folded into the summary by the keyword summariser in summarise.ts), a summary, a
// standing in -1..1 and the name the player gave. Format and configuration: server/memory/README.md.
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { stripMarkers } from "../../core/prompt/markers.ts";
import { ROOT_DIR } from "../scene-file.ts";
import { APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION } from "./migrations.ts";
import { foldLine, topicsSentence, type Topics } from "./summarise.ts";

export type Role = "player" | "npc";

export interface MemoryTurn {
  role: Role;
  text: string;
  /** Milliseconds since the epoch. */
  at: number;
}

export interface MemoryStoreOptions {
  /** Turns kept per npc+player pair; older ones are folded into the summary. Default 200. */
  maxTurns?: number;
  /** Longer turn texts are clipped to this many characters. Default 1000. */
  maxTextChars?: number;
  /** Longer player names are clipped. Default 40. */
  maxNameChars?: number;
  /** Longer summaries (set or folded) are clipped. Default 600. */
  maxSummaryChars?: number;
  /** Topics remembered from pruned lines per pair (the rest are forgotten). Default 24. */
  keepTopics?: number;
  /** Topics named in the summary sentence. Default 4. */
  showTopics?: number;
  /** How long a write waits for another process holding the file's write lock, ms. Default 5000. */
  busyTimeoutMs?: number;
}

/** A memory file that cannot be used; the message names the file and says what is wrong. */
export class MemoryStoreError extends Error {
  constructor(readonly file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = "MemoryStoreError";
  }
}

const DEFAULTS: Required<MemoryStoreOptions> = {
  maxTurns: 200, maxTextChars: 1000, maxNameChars: 40, maxSummaryChars: 600, keepTopics: 24, showTopics: 4,
  busyTimeoutMs: 5000,
};

const MAX_KEY_CHARS = 200;

/** The memory file the server uses: `KITH_MEMORY`, else data/memory.sqlite in the repository. */
export function memoryFileFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const value = env.KITH_MEMORY?.trim();
  return value ? value : path.join(ROOT_DIR, "data", "memory.sqlite");
}

interface RelationRow { name: string | null; standing: number; summary: string; topics: string }

/** Clips to `max` characters without splitting a surrogate pair. */
function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

/** One line of prompt-safe text: no markers, no control characters, single spaces. */
function oneLine(text: string): string {
  return stripMarkers(text).replace(/[\u0000-\u001f\u007f-\u009f]/g, " ").replace(/\s+/g, " ").trim();
}

function checkKey(what: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_KEY_CHARS) {
    throw new TypeError(`memory: ${what} must be a non-empty string of at most ${MAX_KEY_CHARS} characters, got ${describe(value)}`);
  }
  return value;
}

function checkText(what: string, value: unknown): string {
  if (typeof value !== "string") throw new TypeError(`memory: ${what} must be a string, got ${describe(value)}`);
  return value;
}

function describe(value: unknown): string {
  if (typeof value === "string") return `a string of ${value.length} characters`;
  return value === null ? "null" : typeof value;
}

function parseTopics(json: string): Topics {
  try {
    const value = JSON.parse(json) as unknown;
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Topics) : {};
  } catch {
    return {};
  }
}

/** Standing in words for the prompt; "" in the neutral band. */
export function standingWords(standing: number): string {
  if (standing >= 0.6) return "You like them a lot.";
  if (standing >= 0.2) return "You like them.";
  if (standing <= -0.6) return "You dislike them strongly.";
  if (standing <= -0.2) return "You dislike them.";
  return "";
}

/** Every statement the store runs, prepared once per connection and reused. */
function prepareStatements(db: Database.Database) {
  return {
    insertTurn: db.prepare("INSERT INTO turns (npc, player, role, text, at) VALUES (?, ?, ?, ?, ?)"),
    countTurns: db.prepare("SELECT COUNT(*) AS n FROM turns WHERE npc = ? AND player = ?").pluck(),
    oldestTurns: db.prepare("SELECT id, role, text, at FROM turns WHERE npc = ? AND player = ? ORDER BY at, id LIMIT ?"),
    deleteTurn: db.prepare("DELETE FROM turns WHERE id = ?"),
    recentTurns: db.prepare(
      "SELECT role, text, at FROM (SELECT id, role, text, at FROM turns WHERE npc = ? AND player = ? ORDER BY at DESC, id DESC LIMIT ?) ORDER BY at, id",
    ),
    relation: db.prepare("SELECT name, standing, summary, topics FROM relations WHERE npc = ? AND player = ?"),
    setName: db.prepare("INSERT INTO relations (npc, player, name) VALUES (?, ?, ?) ON CONFLICT (npc, player) DO UPDATE SET name = excluded.name"),
    setSummary: db.prepare(
      "INSERT INTO relations (npc, player, summary, topics) VALUES (?, ?, ?, '{}') ON CONFLICT (npc, player) DO UPDATE SET summary = excluded.summary, topics = '{}'",
    ),
    setTopics: db.prepare("INSERT INTO relations (npc, player, topics) VALUES (?, ?, ?) ON CONFLICT (npc, player) DO UPDATE SET topics = excluded.topics"),
    // One statement, so two processes adjusting at once both count.
    adjustStanding: db.prepare(
      "INSERT INTO relations (npc, player, standing) VALUES (@npc, @player, max(-1.0, min(1.0, @delta))) ON CONFLICT (npc, player) DO UPDATE SET standing = max(-1.0, min(1.0, standing + @delta)) RETURNING standing",
    ).pluck(),
    forgetTurns: db.prepare("DELETE FROM turns WHERE npc = ? AND player = ?"),
    forgetRelation: db.prepare("DELETE FROM relations WHERE npc = ? AND player = ?"),
  };
}

export class MemoryStore {
  private readonly opts: Required<MemoryStoreOptions>;
  private readonly stmt: ReturnType<typeof prepareStatements>;
  private readonly addTurnTx: Database.Transaction<(npc: string, player: string, role: Role, text: string, at: number) => void>;

  private constructor(private readonly db: Database.Database, readonly file: string, options: MemoryStoreOptions) {
    this.opts = { ...DEFAULTS, ...options };
    for (const key of ["maxTurns", "maxTextChars", "maxNameChars", "maxSummaryChars", "keepTopics", "showTopics"] as const) {
      const v = this.opts[key];
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`memory: option ${key} must be an integer ≥ 1, got ${String(v)}`);
    }
    this.stmt = prepareStatements(db);
    this.addTurnTx = db.transaction((npc: string, player: string, role: Role, text: string, at: number) => {
      this.stmt.insertTurn.run(npc, player, role, text, at);
      const excess = (this.stmt.countTurns.get(npc, player) as number) - this.opts.maxTurns;
      if (excess > 0) this.prune(npc, player, excess);
    });
  }

  /**
   * Opens (creating it and its folder if needed) a memory file and brings its schema up to date.
   * ":memory:" gives a private in-memory database. Throws MemoryStoreError naming the file when it
   * is not SQLite, is damaged, belongs to another program or was written by a newer Kith.
   */
  static open(file: string, options: MemoryStoreOptions = {}): MemoryStore {
    const inMemory = file === ":memory:";
    if (!inMemory) {
      try {
        fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      } catch (err) {
        throw new MemoryStoreError(file, `cannot create its folder: ${(err as Error).message}`);
      }
    }
    let db: Database.Database;
    try {
      db = new Database(file, { timeout: options.busyTimeoutMs ?? DEFAULTS.busyTimeoutMs });
    } catch (err) {
      throw new MemoryStoreError(file, `cannot open: ${(err as Error).message}`);
    }
    try {
      // The first read of the header is where a file that is not SQLite shows.
      const appId = db.pragma("application_id", { simple: true }) as number;
      if (appId !== 0 && appId !== APPLICATION_ID) {
        throw new MemoryStoreError(file, `not a Kith memory file (SQLite application_id 0x${appId.toString(16)} belongs to another program)`);
      }
      if (!inMemory) {
        db.pragma("journal_mode = WAL");
        // WAL + NORMAL: a crash of the process loses nothing; a power cut may lose the last commits.
        db.pragma("synchronous = NORMAL");
      }
      migrate(db, file);
      return new MemoryStore(db, file, options);
    } catch (err) {
      db.close();
      if (err instanceof MemoryStoreError || err instanceof RangeError) throw err;
      throw new MemoryStoreError(file, explainSqliteError(err));
    }
  }

  /** Schema version of the open file (SCHEMA_VERSION after open). */
  get version(): number {
    return this.db.pragma("user_version", { simple: true }) as number;
  }

  /** Records one turn; keeps at most `maxTurns` per pair, folding the oldest into the summary. */
  addTurn(npc: string, player: string, role: Role, text: string, at: number = Date.now()): void {
    checkKey("npc", npc);
    checkKey("player", player);
    if (role !== "player" && role !== "npc") throw new TypeError(`memory: role must be "player" or "npc", got ${JSON.stringify(role)}`);
    checkText("text", text);
    if (!Number.isFinite(at)) throw new RangeError(`memory: at must be a finite time in ms, got ${String(at)}`);
    this.addTurnTx.immediate(npc, player, role, clip(text, this.opts.maxTextChars), Math.round(at));
  }

  /** The last `n` turns of the pair, oldest first. */
  recentTurns(npc: string, player: string, n: number): MemoryTurn[] {
    checkKey("npc", npc);
    checkKey("player", player);
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`memory: n must be an integer ≥ 0, got ${String(n)}`);
    if (n === 0) return [];
    return this.stmt.recentTurns.all(npc, player, n) as MemoryTurn[];
  }

  /** Turns stored for the pair. */
  turnCount(npc: string, player: string): number {
    return this.stmt.countTurns.get(checkKey("npc", npc), checkKey("player", player)) as number;
  }

  /**
   * The pair's summary: the text last given to setSummary, then a sentence naming the topics of
   * player lines pruned since ("Earlier they asked about …"). "" when there is none.
   */
  summary(npc: string, player: string): string {
    const row = this.relation(npc, player);
    if (!row) return "";
    const folded = topicsSentence(parseTopics(row.topics), this.opts.showTopics);
    return clip([row.summary, folded].filter(Boolean).join(" "), this.opts.maxSummaryChars);
  }

  /** Replaces the whole summary (and forgets the folded topics it now stands for). */
  setSummary(npc: string, player: string, text: string): void {
    checkKey("npc", npc);
    checkKey("player", player);
    this.stmt.setSummary.run(npc, player, clip(oneLine(checkText("summary", text)), this.opts.maxSummaryChars));
  }

  /** How the NPC feels about the player, -1 (hostile) .. 1 (friendly); 0 when unknown. */
  standing(npc: string, player: string): number {
    return this.relation(npc, player)?.standing ?? 0;
  }

  /** Adds `delta` to the standing, clamped to -1..1; returns the new value. */
  adjustStanding(npc: string, player: string, delta: number): number {
    checkKey("npc", npc);
    checkKey("player", player);
    if (typeof delta !== "number" || !Number.isFinite(delta)) throw new RangeError(`memory: standing delta must be a finite number, got ${String(delta)}`);
    return this.stmt.adjustStanding.get({ npc, player, delta }) as number;
  }

  /** The name the player told this NPC, if any. */
  playerName(npc: string, player: string): string | undefined {
    return this.relation(npc, player)?.name ?? undefined;
  }

  /** Remembers the player's name (one line, clipped); an empty name forgets it. */
  setPlayerName(npc: string, player: string, name: string): void {
    checkKey("npc", npc);
    checkKey("player", player);
    // Trailing sentence punctuation would double up in "The player is called Tomas.".
    const clean = clip(oneLine(checkText("name", name)), this.opts.maxNameChars).replace(/[\s.,;:!?]+$/u, "");
    this.stmt.setName.run(npc, player, clean === "" ? null : clean);
  }

  /**
   * The memory line for the prompt's <|memory|> section: name, standing in words, summary.
   * "The player is called Tomas. You like them. Earlier they asked about horseshoes." "" when the
   * NPC knows nothing of the player.
   */
  memoryLine(npc: string, player: string): string {
    const name = this.playerName(npc, player);
    const parts = [
      name ? `The player is called ${name}.` : "",
      standingWords(this.standing(npc, player)),
      oneLine(this.summary(npc, player)),
    ];
    return parts.filter(Boolean).join(" ");
  }

  /** Deletes everything the NPC remembers of the player. */
  forget(npc: string, player: string): void {
    checkKey("npc", npc);
    checkKey("player", player);
    this.db.transaction(() => {
      this.stmt.forgetTurns.run(npc, player);
      this.stmt.forgetRelation.run(npc, player);
    }).immediate();
  }

  /** Closes the file; later calls throw. Safe to call twice. */
  close(): void {
    if (this.db.open) this.db.close();
  }

  private relation(npc: string, player: string): RelationRow | undefined {
    return this.stmt.relation.get(checkKey("npc", npc), checkKey("player", player)) as RelationRow | undefined;
  }

  /** Deletes the pair's `count` oldest turns, folding the player's lines into the topics. */
  private prune(npc: string, player: string, count: number): void {
    const rows = this.stmt.oldestTurns.all(npc, player, count) as { id: number; role: Role; text: string; at: number }[];
    let topics = parseTopics(this.relation(npc, player)?.topics ?? "{}");
    for (const row of rows) {
      if (row.role === "player") topics = foldLine(topics, row.text, row.at, this.opts.keepTopics);
      this.stmt.deleteTurn.run(row.id);
    }
    this.stmt.setTopics.run(npc, player, JSON.stringify(topics));
  }
}

/** Brings the file to SCHEMA_VERSION, one transaction per migration; refuses newer files. */
function migrate(db: Database.Database, file: string): void {
  const step = db.transaction((target: number) => {
    // Re-read inside the write lock: another process may have migrated meanwhile.
    const current = db.pragma("user_version", { simple: true }) as number;
    if (current >= target) return;
    if (current === 0) {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
      if (tables.length > 0) {
        throw new MemoryStoreError(file, `an SQLite database of some other program, not a Kith memory file (it has tables ${tables.join(", ")})`);
      }
      db.pragma(`application_id = ${APPLICATION_ID}`);
    }
    db.exec(MIGRATIONS[current].sql);
    db.pragma(`user_version = ${current + 1}`);
  });
  for (;;) {
    const version = db.pragma("user_version", { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new MemoryStoreError(file, `memory schema version ${version} was written by a newer Kith; this one understands up to ${SCHEMA_VERSION}. Upgrade Kith, or point KITH_MEMORY at another file.`);
    }
    if (version === SCHEMA_VERSION) return;
    try {
      step.immediate(version + 1);
    } catch (err) {
      if (err instanceof MemoryStoreError) throw err;
      throw new MemoryStoreError(file, `migration ${version + 1} (${MIGRATIONS[version].name}) failed: ${explainSqliteError(err)}`);
    }
  }
}

function explainSqliteError(err: unknown): string {
  const code = (err as { code?: string }).code;
  const message = (err as Error).message;
  if (code === "SQLITE_NOTADB") return `not an SQLite database (${message}); is KITH_MEMORY pointing at the right file?`;
  if (code === "SQLITE_CORRUPT") return `the memory database is damaged (${message}); move it aside to start with an empty memory`;
  if (code === "SQLITE_BUSY") return `locked by another process for too long (${message})`;
  if (code === "SQLITE_READONLY" || code === "SQLITE_CANTOPEN" || code === "SQLITE_PERM") return `cannot write it (${message})`;
  return message;
}
