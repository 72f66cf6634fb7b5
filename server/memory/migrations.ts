// Schema of the memory database, as an ordered list of migrations. Migration i (1-based) takes a
// file from `PRAGMA user_version` i-1 to i; MemoryStore.open applies the missing ones in order, each
// in its own transaction. Never edit a shipped migration: append a new one.

/** Marks the file as a Kith memory database (`PRAGMA application_id`, "KITH" in ASCII). */
export const APPLICATION_ID = 0x4b495448;

export interface Migration {
  /** What it changes, for error messages and the README. */
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    name: "turns and relations",
    sql: `
      CREATE TABLE turns (
        id     INTEGER PRIMARY KEY,
        npc    TEXT NOT NULL,
        player TEXT NOT NULL,
        role   TEXT NOT NULL CHECK (role IN ('player', 'npc')),
        text   TEXT NOT NULL,
        at     INTEGER NOT NULL
      );
      CREATE TABLE relations (
        npc      TEXT NOT NULL,
        player   TEXT NOT NULL,
        name     TEXT,
        standing REAL NOT NULL DEFAULT 0,
        summary  TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (npc, player)
      ) WITHOUT ROWID;
    `,
  },
  {
    name: "folded topics and the turn index",
    sql: `
      ALTER TABLE relations ADD COLUMN topics TEXT NOT NULL DEFAULT '{}';
      CREATE INDEX turns_by_pair ON turns (npc, player, at, id);
    `,
  },
];

/** The version a file has once every migration ran. */
export const SCHEMA_VERSION = MIGRATIONS.length;
