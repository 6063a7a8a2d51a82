// What the engine and the commands need of a change-detection store, whatever keeps it: the local
// SQLite file (state-store.ts) or a shared PostgreSQL schema. Asynchronous, as a database over the
// network is; a method's promise resolves only once what it wrote is committed, so the engine
// releases a STATE only after the store holds every row before it.

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
  /** The hashes as stored, JSON: the same text means the same hashes, without parsing it. */
  hashesJson: string;
}

/** A create journaled by an earlier run and never resolved. */
export interface UnresolvedCreate {
  key: string;
  batchId: string;
  journaledAt: number;
  hashesJson: string;
  /** When the run that journaled it ended (or, killed, at the latest died); undefined when unknown. */
  runEndedAt?: number;
}

export interface WrittenRecord {
  key: string;
  crmId: string | null;
  /** Field name → hash, as the JSON text to store. */
  hashesJson: string;
}

export type RunOutcome = 'succeeded' | 'failed' | 'refused' | 'checked';

/** At most this many keys per lookup: one statement (one round trip) per chunk of rows. */
export const LOOKUP_CHUNK = 500;

export interface ChangeStore {
  /** Where the store is, as messages name it (a file path, or a URL without its password). */
  readonly path: string;
  readonly runId: number;
  /** False for a store that dies with the run (change_detection crm, a dry run's copy). */
  readonly durable: boolean;

  /**
   * Takes the store for this run: refused (a config error naming the holder) while another run
   * holds it. Held until close(). Answers the run taken over from, for a warning.
   */
  acquireRunLock(onLost?: (message: string) => void): Promise<string | undefined>;
  /** CRM objects an earlier run wrote of which this store holds nothing (known once the lock is taken). */
  vanishedObjects(): { objects: string[]; runEndedAt?: number };

  /**
   * The stored records for these keys (at most LOOKUP_CHUNK keys), as they were before this call.
   * markFoundSeen: the keys found are also marked seen this run, in the same round trip.
   */
  lookup(object: string, keys: string[], options?: { markFoundSeen?: boolean }): Promise<Map<string, LookedUp>>;
  /** Records that these keys are in this run's input: they have not left the segment. */
  markSeen(object: string, keys: string[]): Promise<void>;
  /** Saves what the CRM confirmed and resolves those journaled creates, in one transaction. */
  saveWrites(object: string, written: WrittenRecord[], resolvedCreates?: string[]): Promise<void>;

  /** Keys written before but absent from this (complete) run, not yet handled; a page after `afterKey`. */
  departedPage(object: string, afterKey: string, limit: number): Promise<StoredRecord[]>;
  /** Records written and still in the segment before this run's departures: how many, and how many this run did not see. */
  segmentCounts(object: string): Promise<{ known: number; departed: number }>;
  /** A key that left the segment and was handled (ignored, cleared): not reported again. */
  markDeparted(object: string, keys: string[]): Promise<void>;
  /** An archived or deleted record is forgotten: if its key comes back it is a new record. */
  forget(object: string, keys: string[]): Promise<void>;

  /** The Singer table version (ACTIVATE_VERSION) last announced for this object's stream, in any run. */
  tableVersion(object: string, stream: string): Promise<string | undefined>;
  saveTableVersion(object: string, stream: string, version: string): Promise<void>;

  /** Write-ahead: these keys' rows are about to be created (committed before the request goes out). */
  journalCreates(object: string, batchId: string, entries: { key: string; hashesJson: string }[]): Promise<void>;
  /** The journal entries of earlier runs whose answer was never recorded. */
  unresolvedCreates(object: string): Promise<UnresolvedCreate[]>;
  /** Found in the CRM: recorded as written with the journaled hashes; lost: forgotten, so sent again. */
  settleCreates(object: string, found: { key: string; crmId: string }[], lost: string[]): Promise<void>;
  /** Creates whose answer came back and was recorded otherwise (refused, skipped): nothing left to settle. */
  resolveCreates(object: string, keys: string[]): Promise<void>;

  finishRun(outcome: RunOutcome): Promise<void>;
  /** Releases the lock and the connection; never throws (a lock left behind is taken over). */
  close(): Promise<void>;
}

/** A looked-up record whose hashes are parsed only when asked for: most rows match by their text. */
export class StoredHashes implements LookedUp {
  private parsed?: Record<string, string>;

  constructor(
    readonly key: string,
    readonly crmId: string | null,
    readonly hashesJson: string,
    readonly lastSeen: number,
    readonly written: boolean,
  ) {}

  get hashes(): Record<string, string> {
    return (this.parsed ??= JSON.parse(this.hashesJson) as Record<string, string>);
  }
}
