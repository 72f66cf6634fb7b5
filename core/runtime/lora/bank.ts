import type { PackageFiles } from "../model/package.ts";
import { AdapterError } from "./errors.ts";
import { loadAdapterPack, type AdapterKind, type AdapterPack, type BaseModelRef } from "./pack.ts";

// The adapter bank: every pack under one root folder, loaded on first use, converted tensors held
// in an LRU within a byte budget, reloaded when its files change, earlier versions kept for rollback.
//
// Versions: each distinct content of a pack (hash of its files) is a revision 1, 2, 3, ... The current
// revision serves new requests; rows already generating keep the arrays they folded from (a
// reference), so a reload never changes a reply in flight. Up to `keepVersions` revisions per pack
// stay in memory for rollback; they count against the budget like the current one.
// A pack that fails to load (corrupt, wrong base, bad config) is reported in list() with its error;
// its previous revision, if any, keeps serving, and every other pack is unaffected.

export interface BankFiles extends PackageFiles {
  /** Names of the sub-folders of `dir`. */
  listDirs(dir: string): Promise<string[]>;
}

export interface BankOptions {
  root: string;
  files: BankFiles;
  base: BaseModelRef;
  /** Bytes of converted adapter tensors held in memory at most (LRU beyond that). Default 512 MiB. */
  budgetBytes?: number;
  /** Revisions kept per pack, the current one included. Default 3. */
  keepVersions?: number;
  now?: () => number;
}

export interface AdapterListing {
  id: string;
  kind: AdapterKind | null;
  name: string | null;
  /** adapter.json version of the current revision. */
  version: string | null;
  revision: number | null;
  /** Converted tensor bytes of the current revision (0 until loaded once). */
  bytes: number;
  loaded: boolean;
  /** ms timestamp (options.now) of the last get(); null when never used. */
  lastUsed: number | null;
  /** Base fingerprint the pack names; null for a plain PEFT adapter without adapter.json. */
  baseModel: string | null;
  revisions: { revision: number; version: string; loaded: boolean; contentHash: string }[];
  error: string | null;
}

interface Revision {
  revision: number;
  version: string;
  contentHash: string;
  stamp: string;
  pack: AdapterPack | null; // null once evicted
  meta: AdapterPack["meta"];
  bytes: number;
}

interface Entry {
  id: string;
  revisions: Revision[]; // oldest first
  current: Revision | null;
  lastUsed: number | null;
  error: string | null;
  nextRevision: number;
  loading: Promise<AdapterPack> | null;
}

const ID = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
const FILES = ["adapter_config.json", "adapter_model.safetensors", "adapter.json"];

export class AdapterBank {
  private readonly entries = new Map<string, Entry>();
  private readonly budget: number;
  private readonly keep: number;
  private readonly now: () => number;
  private usage = 0; // LRU order: Map insertion order of `lru`
  private readonly lru = new Map<Revision, Entry>();
  readonly stats = { loads: 0, evictions: 0, reloads: 0, rejected: 0 };

  constructor(private readonly opts: BankOptions) {
    this.budget = opts.budgetBytes ?? 512 * 2 ** 20;
    this.keep = Math.max(1, opts.keepVersions ?? 3);
    this.now = opts.now ?? (() => Date.now());
  }

  private dir(id: string): string {
    return `${this.opts.root.replace(/\/+$/, "")}/${id}`;
  }

  private entry(id: string): Entry {
    if (!ID.test(id)) throw new AdapterError(`adapter id ${JSON.stringify(id)} is not valid: lower-case letters, digits, "-", "_", "." (a folder name under ${this.opts.root})`);
    let e = this.entries.get(id);
    if (!e) {
      e = { id, revisions: [], current: null, lastUsed: null, error: null, nextRevision: 1, loading: null };
      this.entries.set(id, e);
    }
    return e;
  }

  /** The current revision of pack `id`, loading it if needed. Throws AdapterError naming what is wrong. */
  async get(id: string): Promise<AdapterPack> {
    const e = this.entry(id);
    e.lastUsed = this.now();
    const cur = e.current;
    if (cur?.pack) {
      this.touch(cur, e);
      return cur.pack;
    }
    if (cur && !cur.pack) {
      // Evicted: read it again. Same content → same revision; changed on disk → a new one.
      return this.load(e, true);
    }
    return this.load(e, false);
  }

  /** Re-reads pack `id` from disk. A changed pack becomes a new revision; a broken one is rejected
   *  (the previous revision keeps serving) and the error is thrown and shown in list(). */
  async reload(id: string): Promise<{ changed: boolean; revision: number }> {
    const e = this.entry(id);
    const before = e.current;
    this.stats.reloads++;
    await this.load(e, true);
    const cur = e.current!;
    return { changed: cur !== before && cur.contentHash !== before?.contentHash, revision: cur.revision };
  }

  /** Stats the files of every pack known to the bank; reloads the ones whose files changed. */
  async checkForChanges(): Promise<string[]> {
    const changed: string[] = [];
    for (const e of this.entries.values()) {
      if (!e.current) continue;
      const stamp = await this.stamp(e.id);
      if (stamp !== e.current.stamp) {
        try {
          const r = await this.reload(e.id);
          if (r.changed) changed.push(e.id);
        } catch {
          // Recorded in e.error; the previous revision keeps serving.
        }
      }
    }
    return changed;
  }

  /** Makes an earlier revision current again (default: the one before the current). */
  rollback(id: string, revision?: number): AdapterPack {
    const e = this.entry(id);
    if (!e.current) throw new AdapterError(`adapter "${id}": nothing loaded, nothing to roll back`);
    const target = revision === undefined
      ? e.revisions[e.revisions.indexOf(e.current) - 1]
      : e.revisions.find((r) => r.revision === revision);
    if (!target) {
      throw new AdapterError(`adapter "${id}": no revision ${revision ?? "before " + e.current.revision} to roll back to. Kept: ${e.revisions.map((r) => r.revision).join(", ")}`);
    }
    if (!target.pack) throw new AdapterError(`adapter "${id}": revision ${target.revision} was evicted from memory (budget ${this.budget} bytes); it can no longer be restored`);
    e.current = target;
    e.error = null;
    this.touch(target, e);
    return target.pack;
  }

  /** Every pack folder under the root (and every pack the bank has seen), for an operator. */
  async list(): Promise<AdapterListing[]> {
    const ids = new Set(this.entries.keys());
    for (const d of await this.opts.files.listDirs(this.opts.root)) {
      if (ID.test(d) && (await this.opts.files.exists(`${this.dir(d)}/adapter_config.json`))) ids.add(d);
    }
    return [...ids].sort().map((id) => {
      const e = this.entries.get(id);
      const c = e?.current ?? null;
      return {
        id,
        kind: c?.meta.kind ?? null,
        name: c?.meta.name ?? null,
        version: c?.version ?? null,
        revision: c?.revision ?? null,
        bytes: c?.bytes ?? 0,
        loaded: !!c?.pack,
        lastUsed: e?.lastUsed ?? null,
        baseModel: c?.meta.baseModel?.hash ?? null,
        revisions: (e?.revisions ?? []).map((r) => ({ revision: r.revision, version: r.version, loaded: !!r.pack, contentHash: r.contentHash })),
        error: e?.error ?? null,
      };
    });
  }

  /** Bytes of converted tensors held now. */
  get bytesHeld(): number {
    return this.usage;
  }

  private async stamp(id: string): Promise<string> {
    const parts: string[] = [];
    for (const f of FILES) {
      const p = `${this.dir(id)}/${f}`;
      if (!(await this.opts.files.exists(p))) parts.push(`${f}:-`);
      else if (this.opts.files.stat) {
        const s = await this.opts.files.stat(p);
        parts.push(`${f}:${s.size}:${s.mtimeMs}`);
      } else parts.push(`${f}:?`);
    }
    return parts.join("|");
  }

  private load(e: Entry, fresh: boolean): Promise<AdapterPack> {
    if (e.loading) return e.loading;
    if (!fresh && e.error && !e.current) {
      // A broken pack is not re-read on every request; reload() (or a file change) retries it.
      return Promise.reject(new AdapterError(e.error));
    }
    e.loading = (async () => {
      try {
        const stamp = await this.stamp(e.id);
        const pack = await loadAdapterPack(this.dir(e.id), this.opts.files, this.opts.base, e.id);
        this.stats.loads++;
        e.error = null;
        const same = e.revisions.find((r) => r.contentHash === pack.contentHash);
        let rev: Revision;
        if (same) {
          rev = same;
          rev.stamp = stamp;
          if (!rev.pack) {
            rev.pack = pack;
            this.usage += rev.bytes;
          } else if (rev === e.current) {
            this.touch(rev, e);
            return rev.pack; // unchanged content: keep the arrays rows already hold
          }
        } else {
          rev = { revision: e.nextRevision++, version: pack.meta.version, contentHash: pack.contentHash, stamp, pack, meta: pack.meta, bytes: pack.bytes };
          e.revisions.push(rev);
          this.usage += rev.bytes;
          while (e.revisions.length > this.keep) this.drop(e, e.revisions.find((r) => r !== rev)!);
        }
        e.current = rev;
        this.touch(rev, e);
        this.evict();
        return rev.pack!;
      } catch (err) {
        this.stats.rejected++;
        e.error = (err as Error).message;
        throw err instanceof AdapterError ? err : new AdapterError(`adapter pack "${e.id}": ${(err as Error).message}`);
      } finally {
        e.loading = null;
      }
    })();
    return e.loading;
  }

  private touch(rev: Revision, e: Entry): void {
    this.lru.delete(rev);
    this.lru.set(rev, e);
  }

  private drop(e: Entry, rev: Revision): void {
    if (rev.pack) this.usage -= rev.bytes;
    rev.pack = null;
    this.lru.delete(rev);
    e.revisions.splice(e.revisions.indexOf(rev), 1);
  }

  /** Least recently used first, until under budget; the most recently used pack always stays. */
  private evict(): void {
    for (const [rev] of this.lru) {
      if (this.usage <= this.budget || this.lru.size <= 1) break;
      if (!rev.pack) continue;
      rev.pack = null;
      this.usage -= rev.bytes;
      this.lru.delete(rev);
      this.stats.evictions++;
    }
  }
}
