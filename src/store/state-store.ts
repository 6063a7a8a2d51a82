// The change-detection store: per CRM object and row key, the CRM record id, a hash per field of
// what was last written successfully, and the last run that saw the key. SQLite in WAL mode so a
// crash loses at most the batch in flight, never the file. Lookups and writes are batched so
// memory stays flat at millions of keys.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { configError } from '../errors.js';

export interface StoredRecord {
  key: string;
  crmId: string | null;
  /** Field name → hash of the value last written successfully. */
  hashes: Record<string, string>;
}

export interface LookedUp extends StoredRecord {
  /** The run that last saw the key in its input. */
  lastSeen: number;
  /** False for keys seen but never written successfully (rejected, not found). */
  written: boolean;
}

export interface WrittenRecord {
  key: string;
  crmId: string | null;
  hashes: Record<string, string>;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS records (
    object      TEXT NOT NULL,
    key         TEXT NOT NULL,
    crm_id      TEXT,
    hashes      TEXT NOT NULL DEFAULT '{}',
    last_seen   INTEGER NOT NULL,
    last_written INTEGER,
    left_at     INTEGER,
    PRIMARY KEY (object, key)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    outcome     TEXT
  );
`;

/** SQLite's default limit on bound parameters is far above this; it keeps statements few and cached. */
export const LOOKUP_CHUNK = 500;

export class StateStore {
  private readonly db: DatabaseSync;
  private readonly lookupStatements = new Map<number, StatementSync>();
  private readonly saveWritten: StatementSync;
  private readonly departedStatement: StatementSync;
  private readonly markSeenStatement: StatementSync;
  readonly runId: number;

  constructor(path: string) {
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      this.db = new DatabaseSync(path);
    } catch (error) {
      throw configError(`cannot open the state store at ${path}: ${(error as Error).message}`);
    }
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;');
    this.db.exec(SCHEMA);
    this.saveWritten = this.db.prepare(`
      INSERT INTO records (object, key, crm_id, hashes, last_seen, last_written, left_at) VALUES (?, ?, ?, ?, ?, ?, NULL)
      ON CONFLICT (object, key) DO UPDATE SET crm_id = COALESCE(excluded.crm_id, crm_id), hashes = excluded.hashes,
        last_seen = excluded.last_seen, last_written = excluded.last_written, left_at = NULL`);
    this.markSeenStatement = this.db.prepare(`INSERT INTO records (object, key, last_seen) VALUES (?, ?, ?)
      ON CONFLICT (object, key) DO UPDATE SET last_seen = excluded.last_seen, left_at = NULL`);
    this.departedStatement = this.db.prepare(`SELECT key, crm_id, hashes FROM records
      WHERE object = ? AND last_seen < ? AND left_at IS NULL AND last_written IS NOT NULL AND key > ? ORDER BY key LIMIT ?`);
    const run = this.db.prepare('INSERT INTO runs (started_at) VALUES (?)').run(new Date().toISOString());
    this.runId = Number(run.lastInsertRowid);
  }

  /** The stored records for these keys (at most LOOKUP_CHUNK keys). */
  lookup(object: string, keys: string[]): Map<string, LookedUp> {
    const rows = this.statementFor(this.lookupStatements, keys.length, (marks) =>
      `SELECT key, crm_id, hashes, last_seen, last_written FROM records WHERE object = ? AND key IN (${marks})`)
      .all(object, ...keys) as { key: string; crm_id: string | null; hashes: string; last_seen: number; last_written: number | null }[];
    return new Map(rows.map((row) => [row.key, {
      key: row.key, crmId: row.crm_id, hashes: JSON.parse(row.hashes), lastSeen: row.last_seen, written: row.last_written !== null,
    }]));
  }

  /** Records that these keys are in this run's input: they have not left the segment, and a repeat is a duplicate. */
  markSeen(object: string, keys: string[]): void {
    this.transaction(() => {
      for (const key of keys) this.markSeenStatement.run(object, key, this.runId);
    });
  }

  /** Saves what the CRM confirmed, in one transaction. */
  saveWrites(object: string, written: WrittenRecord[]): void {
    if (written.length === 0) return;
    this.transaction(() => {
      for (const record of written) {
        this.saveWritten.run(object, record.key, record.crmId, JSON.stringify(record.hashes), this.runId, this.runId);
      }
    });
  }

  /** Keys written before but absent from this (complete) run, not yet handled; a page after `afterKey`. */
  departedPage(object: string, afterKey: string, limit: number): StoredRecord[] {
    const rows = this.departedStatement.all(object, this.runId, afterKey, limit) as { key: string; crm_id: string | null; hashes: string }[];
    return rows.map((row) => ({ key: row.key, crmId: row.crm_id, hashes: JSON.parse(row.hashes) }));
  }

  /** A key that left the segment and was handled (ignored, cleared): not reported again. */
  markDeparted(object: string, keys: string[]): void {
    const statement = this.db.prepare(`UPDATE records SET left_at = ? WHERE object = ? AND key = ?`);
    this.transaction(() => keys.forEach((key) => statement.run(this.runId, object, key)));
  }

  /** An archived or deleted record is forgotten: if its key comes back it is a new record. */
  forget(object: string, keys: string[]): void {
    const statement = this.db.prepare('DELETE FROM records WHERE object = ? AND key = ?');
    this.transaction(() => keys.forEach((key) => statement.run(object, key)));
  }

  finishRun(outcome: 'succeeded' | 'failed'): void {
    this.db.prepare('UPDATE runs SET finished_at = ?, outcome = ? WHERE id = ?').run(new Date().toISOString(), outcome, this.runId);
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  private transaction(work: () => void): void {
    this.db.exec('BEGIN');
    try {
      work();
      this.db.exec('COMMIT');
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }

  private statementFor(cache: Map<number, StatementSync>, count: number, sql: (marks: string) => string): StatementSync {
    let statement = cache.get(count);
    if (!statement) {
      statement = this.db.prepare(sql(new Array(count).fill('?').join(', ')));
      cache.set(count, statement);
    }
    return statement;
  }
}
