// Bulk API 2.0 ingest: one job per write (create → upload one CSV → UploadComplete → poll with
// backoff → result files). The CSV is built here (csv-stringify): every field any row sets is a
// column, a row leaves the others empty (Salesforce keeps their value) and writes null as #N/A.
// Result files come back in no particular order, so each result row is matched to its input row by
// the key column (Id, the external id) or, without one, by the whole row Salesforce echoes back.
// Every input row ends with one outcome; a row in no result file is rejected as not acknowledged.
//
// Interruptions: a job stays in Salesforce when the run that made it stops. A stop (SIGTERM)
// before the upload is complete aborts the job, so nothing of it is written; a closed job is
// looked at once more (its rows count if it has ended) and no longer waited for: its rows are
// being written anyway, and the next run waits for it before writing. Inserts without
// a key column that cannot be followed to the end are reported with an unknown outcome (a rerun
// could not tell them from lost rows). A run killed outright leaves its job processing: the next
// run waits for such jobs on the object before it writes (awaitUnfinishedJobs).
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { asConnectorError, configError, INTERRUPTED, transientError } from '../../errors.js';
import type { Logger } from '../../protocol/log.js';
import type { RowOutcome } from '../destination.js';
import { sleep } from '../http/sleep.js';
import { QuotaReservation, type QuotaClaim } from './api-usage.js';
import type { ApiDoor } from './api.js';
import type { RecordWrite } from './collections.js';
import { NOT_ACKNOWLEDGED, outcomeOf, parseBulkErrors, type WriteKind } from './outcomes.js';
import { UNKNOWN_OUTCOME } from '../mode-writer.js';
import type { SalesforceObject } from './schema.js';
import { type ParentLink, type ParentLinks, relationshipColumn } from './relationships.js';
import { toCsvCell } from './values.js';

/** Salesforce takes up to 150 MB per upload (after base64); stay well under it. */
const MAX_UPLOAD_BYTES = 90 * 1024 * 1024;
const FIRST_POLL_MS = 100;
const MAX_POLL_MS = 5_000;
const MAX_WAIT_MS = 30 * 60_000;
/** Uploads and result files may take longer than one request: a second more per 100 KB. */
const BYTES_PER_EXTRA_SECOND = 100_000;
/**
 * What a job is taken to cost against crm.max_api_usage_percent when it is created: itself, the
 * upload, the close, three polls and two result files, reserved until it ends. Its calls finish
 * what was started and are never refused by the share, so a job is not started without room for them.
 */
const JOB_CALLS = 8;
const ID = 'Id';
const STILL_PROCESSING: JobState[] = ['UploadComplete', 'InProgress'];

type Operation = 'insert' | 'update' | 'upsert' | 'delete';
const OPERATION: Record<WriteKind, Operation> = { create: 'insert', update: 'update', upsert: 'upsert', delete: 'delete' };
type JobState = 'Open' | 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Failed' | 'Aborted';

interface JobInfo {
  id: string;
  object?: string;
  createdById?: string;
  state: JobState;
  numberRecordsProcessed?: number;
  numberRecordsFailed?: number;
  errorMessage?: string;
}

interface JobList {
  done: boolean;
  nextRecordsUrl?: string | null;
  records: JobInfo[];
}

export class BulkIngest {
  constructor(
    private readonly api: ApiDoor,
    private readonly object: SalesforceObject,
    private readonly log: Logger,
    /** Upsert only: the external-id field records are matched by. */
    private readonly externalIdField?: string,
    /** Insert only: a column whose value tells rows apart (the key field), if any. */
    private readonly insertKeyField?: string,
    /** Reference fields set through their parent's key: a column Account__r.Key__c (see relationships.ts). */
    private readonly links: ParentLinks = new Map(),
  ) {}

  /** Jobs this run created and follows, with the calls reserved for them. */
  private readonly reservations = new Map<string, QuotaReservation>();

  async write(kind: WriteKind, records: RecordWrite[]): Promise<RowOutcome[]> {
    const rows = records.map((record) => this.csvRow(kind, record));
    const clearedAndSet = this.linkClearedAndSet(rows);
    if (clearedAndSet) return this.writeApart(kind, records, rows.map((row) => clearedAndSet.field.name in row));
    const columns = columnsOf(rows);
    const csv = toCsv(columns, rows);
    const bytes = Buffer.byteLength(csv);
    if (bytes > MAX_UPLOAD_BYTES && records.length > 1) {
      const half = Math.ceil(records.length / 2);
      return [...(await this.write(kind, records.slice(0, half))), ...(await this.write(kind, records.slice(half)))];
    }
    const timeoutMs = this.api.requestTimeoutMs + Math.ceil(bytes / BYTES_PER_EXTRA_SECOND) * 1000;
    const reservation = new QuotaReservation(JOB_CALLS);
    try {
      return await this.runJob(kind, rows, columns, csv, timeoutMs, reservation);
    } finally {
      reservation.end();
    }
  }

  /**
   * A record's CSV cells by column: Id where it names the record, then each field it sets (a
   * linked field under its relationship column, or its own column to clear it). A field the record
   * does not set has no cell: its column stays empty, and Bulk API leaves it as it is (#N/A clears).
   */
  private csvRow(kind: WriteKind, record: RecordWrite): CsvRow {
    const row: CsvRow = {};
    if (kind === 'update' || kind === 'delete') row[ID] = record.id ?? '';
    if (kind === 'delete') return row;
    for (const [name, value] of Object.entries(record.values)) {
      const link = this.links.get(name);
      row[link ? relationshipColumn(link, value) : name] = toCsvCell(value);
    }
    return row;
  }

  /** A linked field some rows clear (its own column) while others set it (the relationship column): one header cannot set a field twice. */
  private linkClearedAndSet(rows: CsvRow[]): ParentLink | undefined {
    for (const link of this.links.values()) {
      const setColumn = relationshipColumn(link, 'any key');
      if (rows.some((row) => link.field.name in row) && rows.some((row) => setColumn in row)) return link;
    }
    return undefined;
  }

  /** Writes the rows marked apart as a job of their own, the others as another; outcomes in input order. */
  private async writeApart(kind: WriteKind, records: RecordWrite[], apart: boolean[]): Promise<RowOutcome[]> {
    const separated = await this.write(kind, records.filter((_, i) => apart[i]));
    const others = await this.write(kind, records.filter((_, i) => !apart[i]));
    return apart.map((isApart) => (isApart ? separated.shift()! : others.shift()!));
  }

  private async runJob(kind: WriteKind, rows: CsvRow[], columns: string[], csv: string, timeoutMs: number, reservation: QuotaReservation): Promise<RowOutcome[]> {
    const job = await this.createJob(kind, reservation);
    this.reservations.set(job, reservation);
    await this.upload(job, csv, timeoutMs);
    // A signal leaves no time to follow a job; a run stopping on its own failure finishes what it uploaded.
    if (this.api.interruptSignal.aborted) {
      await this.abandon(job);
      throw transientError(`Bulk API job ${job} was aborted before processing, as the run is stopping; its rows were not written`, { code: INTERRUPTED });
    }
    try {
      await this.close(job);
      const info = await this.waitForJob(job);
      this.log.debug(`Bulk API job ${job} ${info.state}: ${info.numberRecordsProcessed ?? 0} processed, ${info.numberRecordsFailed ?? 0} failed`);
      return await this.readOutcomes(kind, info, columns, rows, timeoutMs);
    } catch (error) {
      // Nothing can tell which rows of an insert without a key column landed: held back, never resent blindly.
      if (kind !== 'create' || this.insertKeyField || asConnectorError(error).category !== 'transient') throw error;
      const reason = asConnectorError(error).message;
      return rows.map(() => ({ status: 'unknown', code: UNKNOWN_OUTCOME, message: `Bulk API job ${job} was closed but could not be followed to its end (${reason})` }));
    }
  }

  /**
   * Waits until the jobs still processing on this object (UploadComplete, InProgress) end: after a
   * run was killed, its job goes on writing, and a rerun must not race it. Jobs of other users are
   * left out when the session names its user.
   */
  async awaitUnfinishedJobs(): Promise<void> {
    const unfinished: JobInfo[] = [];
    let path: string | undefined = '/jobs/ingest';
    while (path) {
      const page: JobList = await this.api.expect<JobList>({ method: 'GET', path, idempotent: true, checkAnswer: JOB_LIST }, 'the list of Bulk API jobs');
      const userId = this.api.userId;
      unfinished.push(...page.records.filter((job) =>
        job.object === this.object.name && STILL_PROCESSING.includes(job.state) && (!userId || !job.createdById || job.createdById.slice(0, 15) === userId)));
      path = page.done ? undefined : page.nextRecordsUrl ?? undefined;
    }
    if (unfinished.length === 0) return;
    this.log.info(`waiting for ${unfinished.length} Bulk API job(s) on ${this.object.name} still processing (left by an interrupted run?) before writing, so no row is written twice`);
    for (const job of unfinished) await this.waitForJob(job.id);
  }

  /** The quota claim of a job's call: its reservation while this run follows it. */
  private claimFor(job: string): QuotaClaim {
    const reservation = this.reservations.get(job);
    return reservation && !reservation.ended ? { reservation } : 'continues_started_work';
  }

  private async createJob(kind: WriteKind, reservation: QuotaReservation): Promise<string> {
    for (const [job, done] of this.reservations) if (done.ended) this.reservations.delete(job);
    const body: Record<string, unknown> = { object: this.object.name, operation: OPERATION[kind], contentType: 'CSV', lineEnding: 'LF', columnDelimiter: 'COMMA' };
    if (kind === 'upsert') body.externalIdFieldName = this.externalIdField;
    // An orphaned Open job (if a retried create had landed) holds no data and does nothing.
    const info = await this.api.expect<JobInfo>({ method: 'POST', path: '/jobs/ingest', body, idempotent: true, checkAnswer: JOB_INFO, quota: { reservation } }, `a Bulk API job on ${this.object.name}`);
    return info.id;
  }

  private async upload(job: string, csv: string, timeoutMs: number): Promise<void> {
    const answer = await this.api.request({ method: 'PUT', path: `/jobs/ingest/${job}/batches`, body: csv, contentType: 'text/csv', idempotent: true, timeoutMs, quota: this.claimFor(job) });
    // A retried upload whose first attempt had landed is refused as a second content: the data is there.
    if (!answer.ok && !(answer.failure.errorCode === 'BULK_API_ERROR' && /multipe|multiple contents/i.test(answer.failure.message))) {
      throw configError(`Salesforce refused the upload of Bulk API job ${job}: ${answer.failure.errorCode}: ${answer.failure.message}`, { code: answer.failure.errorCode });
    }
  }

  private async close(job: string): Promise<void> {
    const answer = await this.api.request<JobInfo>({ method: 'PATCH', path: `/jobs/ingest/${job}`, body: { state: 'UploadComplete' }, idempotent: true, checkAnswer: JOB_INFO, quota: this.claimFor(job) });
    if (answer.ok) return;
    // A retried close whose first attempt had landed finds the job past Open: that is what we asked for.
    if (answer.failure.errorCode === 'INVALIDJOBSTATE' && (await this.info(job)).state !== 'Open') return;
    throw configError(`Salesforce refused to close Bulk API job ${job}: ${answer.failure.errorCode}: ${answer.failure.message}`, { code: answer.failure.errorCode });
  }

  /** An Open job holds data nothing will process; aborting it says so. One try: the run is stopping. */
  private async abandon(job: string): Promise<void> {
    try {
      await this.api.request({ method: 'PATCH', path: `/jobs/ingest/${job}`, body: { state: 'Aborted' }, idempotent: true, quota: this.claimFor(job) });
    } catch (error) {
      this.log.debug(`could not abort Bulk API job ${job}: ${(error as Error).message}`);
    }
  }

  private info(job: string): Promise<JobInfo> {
    return this.api.expect<JobInfo>({ method: 'GET', path: `/jobs/ingest/${job}`, idempotent: true, checkAnswer: JOB_INFO, quota: this.claimFor(job) }, `the state of Bulk API job ${job}`);
  }

  /**
   * Polls with growing pauses: short jobs answer at once, long ones cost a call every few seconds.
   * A signal ends the pause under way: the job is looked at once more, then no longer waited for.
   * A run stopping on a failure of its own follows the job to its end: its rows are then counted.
   */
  private async waitForJob(job: string): Promise<JobInfo> {
    const started = Date.now();
    for (let pause = FIRST_POLL_MS; ; pause = Math.min(MAX_POLL_MS, Math.round(pause * 1.6))) {
      await sleep(pause, this.api.interruptSignal);
      const info = await this.info(job);
      if (info.state === 'JobComplete' || info.state === 'Failed' || info.state === 'Aborted') return info;
      if (this.api.interruptSignal.aborted) {
        throw transientError(`Bulk API job ${job} is still ${info.state}; not waiting for it, as the run is stopping (a rerun waits for it before writing)`, { code: INTERRUPTED });
      }
      if (Date.now() - started > MAX_WAIT_MS) {
        throw transientError(`Bulk API job ${job} is still ${info.state} after ${MAX_WAIT_MS / 60_000} minutes; its rows were not confirmed and a rerun sends them again`, { code: 'bulk_timeout' });
      }
    }
  }

  private async readOutcomes(kind: WriteKind, info: JobInfo, columns: string[], rows: CsvRow[], timeoutMs: number): Promise<RowOutcome[]> {
    const processed = info.numberRecordsProcessed ?? 0;
    const failed = info.numberRecordsFailed ?? 0;
    if (info.state !== 'JobComplete' && processed === 0) {
      throw configError(`Bulk API job ${info.id} on ${this.object.name} ${info.state === 'Aborted' ? 'was aborted' : 'failed'}: ${info.errorMessage ?? 'no reason given'}`, { code: 'bulk_job_failed' });
    }
    const matcher = new RowMatcher(columns, rows, this.matchColumn(kind));
    const outcomes: (RowOutcome | undefined)[] = new Array(rows.length).fill(undefined);
    const place = (file: string[][], outcome: (row: Record<string, string>) => RowOutcome) => {
      const [header = [], ...results] = file;
      for (const cells of results) {
        const row = Object.fromEntries(header.map((name, i) => [name, cells[i] ?? '']));
        const index = matcher.take(row);
        if (index !== undefined) outcomes[index] = outcome(row);
      }
    };
    if (processed - failed > 0) {
      const file = await this.resultFile(info.id, { name: 'successfulResults', rows: processed - failed, columns: ['sf__Id', 'sf__Created'] }, timeoutMs);
      place(file, (row) => outcomeOf(kind, { success: true, id: row.sf__Id, created: row.sf__Created === 'true' }));
    }
    if (failed > 0) {
      const file = await this.resultFile(info.id, { name: 'failedResults', rows: failed, columns: ['sf__Id', 'sf__Error'] }, timeoutMs);
      place(file, (row) => outcomeOf(kind, { success: false, id: row.sf__Id || undefined, errors: parseBulkErrors(row.sf__Error ?? '') }));
    }
    if (processed < rows.length || info.state !== 'JobComplete') {
      const reason = info.errorMessage ? `: ${info.errorMessage}` : '';
      // A failed or aborted job's count of what it left is not reliable: any number of rows is taken.
      const file = await this.resultFile(info.id, { name: 'unprocessedrecords', rows: info.state === 'JobComplete' ? rows.length - processed : undefined, columns: [] }, timeoutMs);
      place(file, () => ({ status: 'rejected', code: 'UNPROCESSED', message: `Salesforce did not process this row (Bulk API job ${info.id} ${info.state}${reason})` }));
    }
    return outcomes.map((outcome) => outcome ?? { status: 'rejected', ...NOT_ACKNOWLEDGED });
  }

  private matchColumn(kind: WriteKind): string | undefined {
    if (kind === 'update' || kind === 'delete') return ID;
    if (kind === 'upsert') return this.externalIdField;
    return this.insertKeyField;
  }

  /**
   * A result file, checked against the job's counts: a file that is not CSV, lacks its columns or
   * holds another number of rows (a proxy's page, a body cut off at a line end) is fetched again.
   */
  private async resultFile(job: string, expected: ResultFile, timeoutMs: number): Promise<string[][]> {
    let rows: string[][] = [];
    const checkAnswer = (text: string) => {
      const read = readResultFile(text, expected);
      if (typeof read === 'string') return read;
      rows = read;
      return undefined;
    };
    await this.api.expect<string>({ method: 'GET', path: `/jobs/ingest/${job}/${expected.name}`, text: true, idempotent: true, timeoutMs, checkAnswer, quota: this.claimFor(job) }, `the ${expected.name} of Bulk API job ${job}`);
    return rows;
  }
}

/** A job's answers name the job and its state: anything else in a 2xx is not Salesforce's answer. */
const JOB_INFO = (body: Partial<JobInfo> | undefined) => (typeof body?.id === 'string' && typeof body.state === 'string' ? undefined : 'no job id and state');
const JOB_LIST = (body: Partial<JobList> | undefined) => (Array.isArray(body?.records) ? undefined : 'no list of jobs');

interface ResultFile {
  name: 'successfulResults' | 'failedResults' | 'unprocessedrecords';
  /** Data rows the job's counts promise, when they are reliable. */
  rows?: number;
  /** Columns Salesforce adds to the input's. */
  columns: string[];
}

/** The file's rows (header first), or what is wrong with it. */
function readResultFile(text: string, expected: ResultFile): string[][] | string {
  if (text === '') return expected.rows ? `an empty file for ${expected.rows} rows` : [];
  let file: string[][];
  try {
    file = parse(text, { bom: true, relax_column_count: false }) as string[][];
  } catch (error) {
    return `not readable CSV: ${(error as Error).message}`;
  }
  const [header = [], ...rows] = file;
  const missing = expected.columns.filter((column) => !header.includes(column));
  if (missing.length > 0) return `no ${missing.join(', ')} column`;
  if (expected.rows !== undefined && rows.length !== expected.rows) return `${rows.length} rows where the job counts ${expected.rows}`;
  return file;
}

/** One record's cells by column name. */
type CsvRow = Record<string, string>;

/** Id first where it names the record; then every column any record fills, in first-seen order. */
function columnsOf(rows: CsvRow[]): string[] {
  const columns = new Set<string>();
  for (const row of rows) for (const name of Object.keys(row)) columns.add(name);
  return [...columns];
}

function toCsv(columns: string[], rows: CsvRow[]): string {
  return stringify(rows.map((row) => cellsOf(columns, row)), {
    header: true,
    columns,
    record_delimiter: 'unix',
    // Salesforce's parser reads a bare CR or edge spaces as data only inside quotes.
    quoted_match: [/\r/, /^\s|\s$/],
  });
}

/** A column the record does not fill stays empty: Bulk API leaves that field as it is (#N/A would clear it). */
function cellsOf(columns: string[], row: CsvRow): string[] {
  return columns.map((name) => row[name] ?? '');
}

/**
 * Input rows waiting for their result, keyed by what the result files echo: the key column when
 * there is one (unique per write: the engine never sends a key twice at once), else every column.
 */
class RowMatcher {
  private readonly waiting = new Map<string, number[]>();

  constructor(
    private readonly columns: string[],
    records: CsvRow[],
    private readonly keyColumn?: string,
  ) {
    records.forEach((record, index) => {
      const cells = cellsOf(columns, record);
      const signature = this.signatureOf(Object.fromEntries(columns.map((name, i) => [name, cells[i]])));
      this.waiting.set(signature, [...(this.waiting.get(signature) ?? []), index]);
    });
  }

  take(row: Record<string, string>): number | undefined {
    const signature = this.signatureOf(row);
    const queue = this.waiting.get(signature);
    const index = queue?.shift();
    if (queue && queue.length === 0) this.waiting.delete(signature);
    return index;
  }

  private signatureOf(row: Record<string, string>): string {
    if (this.keyColumn) return row[this.keyColumn] ?? '';
    return this.columns.map((name) => row[name] ?? '').join('\u0000');
  }
}
