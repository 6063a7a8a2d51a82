// The README's mode table, written once for every CRM: insert creates and never modifies (existing
// keys are skipped), update modifies matched records and never creates (unknown keys are
// not_found), upsert does both, archive removes matched records. A CRM module supplies a small
// port (look up by key, send a batch of one kind, classify a refusal); the rules for creates whose
// answer was lost, rounds, backoff, stopping and races live here only.
//
// Creates are not idempotent. Rows the CRM may have created without our hearing it (timeout,
// connection cut, 5xx), and rows refused because a key exists, are read back by the key before
// anything is sent again: found means created (or, refused on the first send, made by someone else
// between lookup and create: skipped as existing). Not found, a row whose outcome is unknown or
// whose batch was refused whole is sent again after a backoff, for as many rounds as any request's
// attempts, and never once the run is stopping; a row refused for its own key keeps the refusal. Without a key that
// identifies records nothing can tell a landed row from a lost one, so such rows are reported with
// an unknown outcome: never sent twice in one run, never counted as written.
//
// Fields written only while the CRM's field is empty (`when: if_empty`) are settled here too, for
// updates and upserts: the records of the rows that carry one are read in one call for the batch
// (in update mode that read is the lookup itself), a field the record already fills is dropped from
// its row, and a row left with nothing to send is unchanged. Inserts make new records: nothing to read.
import type { Operation } from '../config/stream-plan.js';
import type { PendingWrite, RowOutcome, Values } from './destination.js';
import { bugError } from '../errors.js';
import { backoff, DEFAULT_RETRY } from './http/retry.js';
import { sleep } from './http/sleep.js';

/** The reason code of a row whose write may or may not have landed, when nothing could tell. */
export const UNKNOWN_OUTCOME = 'unknown_outcome';
/** Sends of one batch of creates whose outcome stayed unknown, the first included: as many as any request's attempts. */
export const MAX_CREATE_ROUNDS = DEFAULT_RETRY.maxAttempts;

export type SendKind = 'create' | 'update' | 'upsert' | 'remove';

/**
 * Why the CRM refused a create, when a key that exists is the reason: this row's own key
 * (`key_taken`), or some key of its batch, the batch being refused whole with nothing applied
 * (`batch_refused`).
 */
export type CreateRefusal = 'key_taken' | 'batch_refused';

/** A matched record as read for `when: if_empty`: its id and which of the asked fields hold a value. */
export interface HeldRecord {
  id: string;
  filled: ReadonlySet<string>;
}

/** One row to send: `id` is the matched record's (update, remove), `values` what an update changes. */
export interface Outgoing {
  row: PendingWrite;
  id?: string;
  values?: Values;
}

/** What the mode table needs of one CRM object. */
export interface ModePort {
  /** The CRM's name, for messages. */
  readonly crm: string;
  /** Aborted when the run is stopping: no resend starts, a backoff under way ends. */
  readonly stopSignal: AbortSignal;
  /**
   * The field whose value identifies one record, when inserts go by one: existing keys are
   * skipped, lost creates read back. Undefined: creates cannot be checked.
   */
  readonly insertKey?: string;
  /**
   * The field the key is written to when it does not identify records: a rerun settles an unknown
   * create by searching it (the store's create journal).
   */
  readonly journalKey?: string;
  /** The kind of field whose values identify records, in the CRM's words, for the advice when none is matched by. */
  readonly identifyingField: string;
  /** The ids of the records holding each row's key, in row order (empty: none). */
  lookup(rows: PendingWrite[]): Promise<string[][]>;
  /** Sends one batch of one kind; one outcome per item, in order. Throws only what stops the run. */
  send(kind: SendKind, items: Outgoing[]): Promise<RowOutcome[]>;
  /** Whether a create's outcome is a refusal because a key exists; undefined for any other outcome. */
  createRefusal(outcome: RowOutcome): CreateRefusal | undefined;
  /** What an update sends to a matched record: the row's values without the key it was matched by. */
  changes(row: PendingWrite): Values;
  /** The key as the CRM holds it, for messages. */
  keyValue(row: PendingWrite): string;
  /** Update or archive of a key several records hold: the CRM's refusal to choose. */
  ambiguous(row: PendingWrite, ids: string[]): RowOutcome;
  /** Fields (as the values name them) written only while the record's field is empty (`when: if_empty`); none when absent. */
  readonly ifEmptyFields?: ReadonlySet<string>;
  /** The records holding each row's key, in row order, with which of `fields` hold a value: one read for the batch. */
  readFilled?(rows: PendingWrite[], fields: string[]): Promise<HeldRecord[][]>;
}

/** Waits before resend round `round + 1`; ends early when `stopping` aborts. */
export type ResendPause = (round: number, stopping: AbortSignal) => Promise<void>;

const backoffPause: ResendPause = (round, stopping) => sleep(backoff(round, DEFAULT_RETRY), stopping);

export class ModeWriter {
  constructor(
    private readonly port: ModePort,
    private readonly operation: Operation,
    private readonly pause: ResendPause = backoffPause,
  ) {}

  write(rows: PendingWrite[]): Promise<RowOutcome[]> {
    switch (this.operation) {
      case 'insert': return this.insert(rows);
      case 'update': return this.toMatched(rows, 'update');
      case 'upsert': return this.upsert(rows);
      case 'archive': return this.toMatched(rows, 'remove');
    }
  }

  /** Rows whose records fill their if_empty fields send the rest; nothing left is unchanged. */
  private async upsert(rows: PendingWrite[]): Promise<RowOutcome[]> {
    const reading = rows.flatMap((row, i) => (this.ifEmptyIn(row).length > 0 ? [i] : []));
    if (reading.length === 0) return this.port.send('upsert', rows.map((row) => ({ row })));
    const held = await this.readFilled(reading.map((i) => rows[i]));
    const heldAt = new Map(reading.map((i, at) => [i, held[at]]));
    const guarded = rows.map((row, i) => this.withoutFilled(row, heldAt.get(i) ?? []));
    return decideThenSend(guarded, (row, i) => {
      const records = heldAt.get(i) ?? [];
      const nothingLeft = records.length === 1 && Object.keys(this.port.changes(row)).length === 0;
      return nothingLeft ? { status: 'unchanged', id: records[0].id } : undefined;
    }, (rest) => this.port.send('upsert', rest.map((row) => ({ row }))));
  }

  /** The if_empty fields the row is about to send. */
  private ifEmptyIn(row: PendingWrite): string[] {
    const fields = this.port.ifEmptyFields;
    return fields && fields.size > 0 ? Object.keys(row.values).filter((name) => fields.has(name)) : [];
  }

  private readFilled(rows: PendingWrite[]): Promise<HeldRecord[][]> {
    if (!this.port.readFilled) throw bugError(`${this.port.crm} cannot read records for when: if_empty`);
    return this.port.readFilled(rows, [...new Set(rows.flatMap((row) => this.ifEmptyIn(row)))]);
  }

  /** The row without the if_empty fields its one matched record already fills. */
  private withoutFilled(row: PendingWrite, records: HeldRecord[]): PendingWrite {
    if (records.length !== 1) return row;
    const filled = this.ifEmptyIn(row).filter((name) => records[0].filled.has(name));
    if (filled.length === 0) return row;
    const values = { ...row.values };
    for (const name of filled) delete values[name];
    return { key: row.key, values };
  }

  private async insert(rows: PendingWrite[]): Promise<RowOutcome[]> {
    if (!this.port.insertKey) return (await this.port.send('create', rows.map((row) => ({ row })))).map((outcome) => this.settled(outcome));
    const existing = await this.port.lookup(rows);
    return decideThenSend(rows, (row, i) => (existing[i].length > 0 ? this.exists(row, existing[i][0]) : undefined), (fresh) => this.create(fresh, 1));
  }

  /** Update and archive touch only the one record a key matches: none is not_found, several the CRM's refusal. */
  private async toMatched(rows: PendingWrite[], kind: 'update' | 'remove'): Promise<RowOutcome[]> {
    // if_empty needs the records' values: the lookup reads them, so the batch still costs one read.
    const held = kind === 'update' && rows.some((row) => this.ifEmptyIn(row).length > 0) ? await this.readFilled(rows) : undefined;
    const known = held ? held.map((records) => records.map((record) => record.id)) : await this.port.lookup(rows);
    const targets: Outgoing[] = [];
    return decideThenSend(rows, (row, i): RowOutcome | undefined => {
      const ids = known[i];
      if (ids.length === 0) return { status: 'not_found' };
      if (ids.length > 1) return this.port.ambiguous(row, ids);
      const id = ids[0];
      if (kind === 'remove') return void targets.push({ row, id });
      // Rows left with nothing to send after the key (and filled if_empty fields) are taken out cost no call.
      const values = this.port.changes(held ? this.withoutFilled(row, held[i]) : row);
      if (Object.keys(values).length === 0) return { status: 'unchanged', id };
      return void targets.push({ row, id, values });
    }, () => this.port.send(kind, targets));
  }

  private async create(rows: PendingWrite[], round: number): Promise<RowOutcome[]> {
    const outcomes = await this.port.send('create', rows.map((row) => ({ row })));
    const refusals = outcomes.map((outcome) => this.port.createRefusal(outcome));
    const unsure = rows.flatMap((_, i) => (outcomes[i].status === 'unknown' || refusals[i] !== undefined ? [i] : []));
    if (unsure.length === 0) return outcomes;
    const found = await this.port.lookup(unsure.map((i) => rows[i]));
    const landed = new Map(unsure.map((i, at) => [i, found[at]]));
    const lost = unsure.filter((i) => landed.get(i)!.length === 0 && refusals[i] !== 'key_taken');
    const resent = lost.length > 0 && (await this.mayResend(round)) ? await this.create(lost.map((i) => rows[i]), round + 1) : [];
    const resentAt = new Map(lost.map((i, at) => [i, resent[at]]));
    return rows.map((row, i) => {
      const ids = landed.get(i) ?? [];
      if (ids.length > 0) {
        // Refused on this run's first send: someone else created the key between lookup and create.
        return round === 1 && outcomes[i].status !== 'unknown' ? this.exists(row, ids[0]) : { status: 'created', id: ids[0] };
      }
      return resentAt.get(i) ?? this.settled(outcomes[i]);
    });
  }

  /** Backs off before a resend as before any retry; a stopping run sends nothing more. */
  private async mayResend(round: number): Promise<boolean> {
    if (round >= MAX_CREATE_ROUNDS || this.port.stopSignal.aborted) return false;
    await this.pause(round, this.port.stopSignal);
    return !this.port.stopSignal.aborted;
  }

  private exists(row: PendingWrite, id: string): RowOutcome {
    return { status: 'skipped', code: 'exists', message: `a record with ${this.port.insertKey} ${this.port.keyValue(row)} exists (${id}); insert mode never modifies it` };
  }

  /** A create's final outcome: one still unknown says what a rerun does about it. */
  private settled(outcome: RowOutcome): RowOutcome {
    if (outcome.status !== 'unknown') return outcome;
    const message = `${this.port.crm} may or may not have created this record (${outcome.message}); its state is held back; ${this.rerunAdvice()}`;
    return { status: 'unknown', code: UNKNOWN_OUTCOME, message };
  }

  /** What a rerun does about a create whose outcome stayed unknown. */
  private rerunAdvice(): string {
    const { crm, insertKey, journalKey, identifyingField } = this.port;
    if (insertKey) return `a rerun reads ${insertKey} before creating, so it cannot be created twice`;
    if (journalKey) return `a rerun searches ${journalKey} for it before sending anything (the store's create journal), so it is not created twice`;
    return `without ${identifyingField} in match.destination the connector cannot check; a rerun sends it again, so look for it in ${crm} first (matching inserts by ${identifyingField} makes them safe to retry)`;
  }
}

/** Rows `decide` settles at once keep that outcome; the others go to `send`, in order. */
async function decideThenSend(
  rows: PendingWrite[],
  decide: (row: PendingWrite, index: number) => RowOutcome | undefined,
  send: (rest: PendingWrite[]) => Promise<RowOutcome[]>,
): Promise<RowOutcome[]> {
  const decided = rows.map(decide);
  const rest = rows.filter((_, i) => decided[i] === undefined);
  const sent = rest.length > 0 ? await send(rest) : [];
  let next = 0;
  return decided.map((outcome) => outcome ?? sent[next++]);
}
