// The one small interface every CRM implements. The engine knows CRMs only through it: it never
// sees HTTP, and a CRM module never emits protocol messages.
import type { Config, CrmConfig } from '../config/spec.js';
import type { StreamPlan } from '../config/stream-plan.js';
import type { Logger } from '../protocol/log.js';
import type { DestinationOperation } from '../protocol/messages.js';

export type Values = Record<string, unknown>;

/** Why a run stops early: a signal from outside, or a failure of its own. */
export type StopReason = 'signal' | 'failure';

/** A row after field mapping: CRM field names to the row's values as they came in. */
export interface MappedRow {
  key: string;
  values: Values;
}

export interface Rejection {
  /** Stable reason code: the CRM's own (INVALID_OPTION, STRING_TOO_LONG) or ours (missing_key). */
  code: string;
  message: string;
  field?: string;
}

export type Prepared = { ok: true; values: Values } | { ok: false; rejection: Rejection };

/** A row ready for the CRM: values converted to what the CRM accepts for each field's type. */
export interface PendingWrite {
  key: string;
  values: Values;
  /** What the store kept from the key's last confirmed write, when there was one (a changed row, a departed record). */
  stored?: StoredWrite;
}

/** The store's record of a key's last confirmed write, as a CRM module may read it. */
export interface StoredWrite {
  readonly crmId: string | null;
  /** Field hashes, and the CRM module's own notes (RowOutcome notes) by their names. */
  readonly hashes: Readonly<Record<string, string>>;
}

/**
 * What a CRM module keeps with a written record for its next write of it (the links it made, to
 * remove them when they change), stored beside the field hashes; a name maps to its new text.
 */
export type WriteNotes = Record<string, string>;

export type RowOutcome =
  | { status: 'created'; id: string; notes?: WriteNotes }
  | { status: 'updated'; id: string; notes?: WriteNotes }
  /** The CRM already held these values (when the CRM module compared them). */
  | { status: 'unchanged'; id?: string; notes?: WriteNotes }
  /** Archived (HubSpot) or deleted (Salesforce). */
  | { status: 'removed'; id: string }
  | { status: 'not_found' }
  | { status: 'skipped'; code: string; message: string }
  | ({ status: 'rejected' } & Rejection)
  /**
   * The CRM may or may not have applied the write (the connection failed after it was sent) and
   * the CRM module could not find out. The row is reported and its state held back.
   */
  | { status: 'unknown'; code: string; message: string };

/** What the CRM holds for a row, for change detection against the CRM itself. */
export type CrmComparison =
  | { found: false }
  /** The record exists; `changed` names the fields whose CRM value differs from the row's. */
  | { found: true; changed: string[] };

export interface Problem {
  /** The CRM field or config key at fault, when there is one. */
  field?: string;
  message: string;
}

/** One CRM object, described and checked against one stream's plan. */
export interface ObjectWriter {
  /** Largest batch one write() takes: the API's own maximum. */
  readonly maxBatchRows: number;
  /** Batches in flight at once; the CRM module still paces requests to its rate limit. */
  readonly maxConcurrentWrites: number;
  /** For plans without an explicit mapping: which row columns are writable fields. */
  isWritableField(name: string): boolean;
  /** For on_removal clear: whether the field may be emptied (a CRM-required one may not); all may when absent. */
  canClear?(name: string): boolean;
  /**
   * What must happen before this run reads or writes the object, once, before the first row
   * (Salesforce: Bulk API jobs a killed run left processing end first, else a lookup could miss
   * rows they are about to create).
   */
  start(): Promise<void>;
  /** Converts values per field type, locally; a value that cannot convert rejects the row. */
  prepare(row: MappedRow): Prepared;
  /**
   * Text that changes whenever prepare() could convert the same row differently (the fields it
   * converts by, as described): change detection then skips converting rows read as when they
   * were last written. Absent: every row is converted.
   */
  conversionFingerprint?(): string;
  /** Writes a batch; one outcome per row, in order. Throws only what stops the run. */
  write(rows: PendingWrite[]): Promise<RowOutcome[]>;
  /**
   * Reads the rows' records (at most maxBatchRows) and compares their current values with the
   * rows', in the CRM's own terms. Absent when the CRM module cannot (change_detection: crm).
   */
  compareWithCrm?(rows: PendingWrite[]): Promise<CrmComparison[]>;
  /** API requests this object's writes and reads made so far, for the run report. */
  requestCount(): number;
  /**
   * Insert mode: row key → the CRM ids of the records holding the key's value in the key field, for
   * creates an earlier run may have made without recording them. Absent when the key is written
   * to no field: such records cannot be found again.
   */
  findCreated?(keys: string[]): Promise<Map<string, string[]>>;
  /** How long after a create was sent findCreated may still miss its record (the request's time, a search index's lag). */
  readonly createsFindableAfterMs: number;
  /**
   * Insert mode by a key field that does not identify records: the CRM would take a second create
   * of the same key, so each create is journaled in the store before it is sent, for the next run
   * to settle with findCreated if this one dies before recording the answer.
   */
  readonly journalsCreates: boolean;
}

export interface OpenedObject {
  /** Undefined when the object itself could not be found. */
  writer?: ObjectWriter;
  /** Names the object across runs and configs (account + object), for the state store. */
  objectId?: string;
  problems: Problem[];
}

export interface Destination {
  /** The field holding the CRM's own record id (hs_object_id, Id): matches records by stored id. */
  readonly recordIdField: string;
  /** Proves the credentials work; throws a config error when they do not. */
  verifyAccess(): Promise<void>;
  /** Describes the plan's object and checks the plan against it. */
  open(plan: StreamPlan): Promise<OpenedObject>;
  /** Every object the connector can write, with its operations (Airbyte DESTINATION_CATALOG). */
  discover(): Promise<DestinationOperation[]>;
  /** API requests made so far, for the run report. */
  requestCount(): number;
  /**
   * The run is stopping: requests under way may finish, but no retry wait may hold the stop up (a
   * Retry-After can be minutes). On a signal (SIGTERM, SIGINT) the process must end soon, so work
   * started and still running on the CRM's side (a Bulk API job) is left to the rerun; on a failure
   * it is followed to its end, so its rows are counted and their states go out.
   */
  stopRetrying(why: StopReason): void;
  close(): Promise<void>;
}

/** What a CRM module tells the run besides outcomes; the command layer turns it into messages. */
export interface DestinationEvents {
  /** The CRM issued new credentials (a rotated refresh token): the crm section to keep from now on. */
  credentialsRotated(crm: CrmConfig): void;
  /** The CRM throttles requests until this time (epoch ms). */
  rateLimited(until: number): void;
}

/** Builds the CRM module a config names (the CLI passes the real CRMs; tests an in-memory double). */
export type DestinationFactory = (config: Config, log: Logger, events: DestinationEvents) => Destination | Promise<Destination>;
