// Bulk API 2.0 ingest jobs: create (Open) → upload one CSV → UploadComplete → InProgress for a
// while → JobComplete or Failed; results as CSV files. Abort and delete as the platform allows.
import {
  type BulkOperation,
  COLUMN_DELIMITERS,
  type JobOutcome,
  type JobSpec,
  LINE_ENDINGS,
  processUpload,
  unprocessedOutcome,
} from './bulk2-processing.js';
import type { EmulatorContext } from './context.js';
import { ApiError, notFound } from './errors.js';
import { type ApiRequest, csvReply, emptyReply, isPlainObject, jsonBody, jsonReply, mediaType, type Reply } from './http.js';
import { findField, isUpsertKey, sfTimestamp } from './org.js';

type JobState = 'Open' | 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Failed' | 'Aborted';

interface IngestJob {
  id: string;
  spec: JobSpec;
  state: JobState;
  createdDate: string;
  systemModstamp: string;
  csv?: string;
  outcome?: JobOutcome;
  /** Rows are being written; an abort now stops between chunks. */
  processing?: boolean;
  timers: NodeJS.Timeout[];
}

const OPERATIONS: BulkOperation[] = ['insert', 'update', 'upsert', 'delete', 'hardDelete'];
const CREATE_PROPERTIES = ['object', 'operation', 'externalIdFieldName', 'contentType', 'lineEnding', 'columnDelimiter', 'assignmentRuleId'];
const FINISHED: JobState[] = ['JobComplete', 'Failed', 'Aborted'];
const DELETABLE: JobState[] = ['UploadComplete', ...FINISHED];

function invalidValue(property: string, value: unknown): ApiError {
  return new ApiError(400, 'API_ERROR', `Invalid value: '${String(value ?? '')}' supplied for property: '${property}'`);
}

function invalidJob(message: string): ApiError {
  return new ApiError(400, 'INVALIDJOB', `InvalidJob : ${message}`);
}

function invalidState(message: string): ApiError {
  return new ApiError(400, 'INVALIDJOBSTATE', message);
}

function oneOf<T extends string>(property: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) throw invalidValue(property, value);
  return value as T;
}

export class BulkIngest {
  private readonly jobs = new Map<string, IngestJob>();

  /** Closed jobs waiting for release (undefined: jobs finish on their own). */
  private held?: IngestJob[];

  constructor(private readonly context: EmulatorContext) {}

  /** From now on closed jobs stay InProgress until released: a test can act while one surely processes. */
  hold(): void {
    this.held ??= [];
  }

  /** Lets held jobs finish, and later ones process on their own again. */
  release(): void {
    const jobs = this.held ?? [];
    this.held = undefined;
    for (const job of jobs) if (job.state === 'InProgress') void this.finish(job);
  }

  /** Stops the timers of jobs still processing (the emulator is closing). */
  stop(): void {
    for (const job of this.jobs.values()) job.timers.forEach(clearTimeout);
  }

  /** POST /jobs/ingest */
  create(request: ApiRequest): Reply {
    const body = jsonBody(request);
    if (!isPlainObject(body)) throw new ApiError(400, 'JSON_PARSER_ERROR', 'The request body must be a JSON object');
    const unknown = Object.keys(body).find((k) => !CREATE_PROPERTIES.includes(k));
    if (unknown) throw new ApiError(400, 'JSON_PARSER_ERROR', `Unrecognized field "${unknown}"`);
    const now = sfTimestamp(new Date());
    const job: IngestJob = { id: this.context.org.ids.next('750'), spec: this.readSpec(body), state: 'Open', createdDate: now, systemModstamp: now, timers: [] };
    this.jobs.set(job.id, job);
    return jsonReply(200, this.info(job));
  }

  private readSpec(body: Record<string, unknown>): JobSpec {
    const operation = oneOf('operation', body.operation ?? '', OPERATIONS, 'insert');
    oneOf('contentType', body.contentType, ['CSV'], 'CSV');
    const lineEnding = oneOf('lineEnding', body.lineEnding, Object.keys(LINE_ENDINGS), 'LF');
    const columnDelimiter = oneOf('columnDelimiter', body.columnDelimiter, Object.keys(COLUMN_DELIMITERS), 'COMMA');
    const object = this.context.org.findObject(String(body.object ?? ''));
    if (!object) throw invalidJob(`Unable to find object: ${String(body.object ?? '')}`);
    const spec: JobSpec = { object, operation, lineEnding, columnDelimiter };
    if (operation !== 'upsert') return spec;
    const name = typeof body.externalIdFieldName === 'string' ? body.externalIdFieldName : '';
    if (name === '') throw invalidJob(`External ID was blank for ${object.name}. An External ID must be specified for upsert.`);
    const field = findField(object, name);
    if (!field || !(field.name === 'Id' || isUpsertKey(object, field))) {
      throw invalidJob(`Field name provided, ${name} does not match an External ID for ${object.name}`);
    }
    return { ...spec, externalIdField: field };
  }

  /** GET /jobs/ingest */
  list(): Reply {
    return jsonReply(200, { done: true, records: [...this.jobs.values()].map((job) => this.info(job)), nextRecordsUrl: null });
  }

  /** GET /jobs/ingest/{id} */
  get(request: ApiRequest): Reply {
    return jsonReply(200, this.info(this.job(request)));
  }

  /** PUT /jobs/ingest/{id}/batches: the job's one CSV upload. */
  upload(request: ApiRequest): Reply {
    const job = this.job(request);
    if (mediaType(request.contentType) !== 'text/csv') {
      throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', `Content-Type header specified in HTTP request is not supported: ${mediaType(request.contentType)}`);
    }
    if (job.state !== 'Open') throw invalidState(`Job ${job.id} is not in the Open state; data can only be uploaded to an open job`);
    if (job.csv !== undefined) {
      throw new ApiError(
        400,
        'BULK_API_ERROR',
        `Found multipe contents for job: <${job.id.slice(0, 15)}>, please 'Close' / 'Abort' / 'Delete' the current Job then create a new Job and make sure you only do 'PUT' once on a given Job.`,
      );
    }
    job.csv = request.rawBody;
    return emptyReply(201);
  }

  /** PATCH /jobs/ingest/{id} with {state: UploadComplete | Aborted} */
  changeState(request: ApiRequest): Reply {
    const job = this.job(request);
    const body = jsonBody(request);
    const state = isPlainObject(body) ? body.state : undefined;
    if (state === 'UploadComplete') this.close(job);
    else if (state === 'Aborted') this.abort(job);
    else throw invalidValue('state', state);
    return jsonReply(200, this.info(job));
  }

  private close(job: IngestJob): void {
    if (job.state !== 'Open') throw invalidState(`Job ${job.id} is not in the Open state and cannot be closed`);
    this.setState(job, 'UploadComplete');
    const delay = this.context.bulkProcessingDelayMs;
    job.timers.push(setTimeout(() => this.setState(job, 'InProgress'), Math.floor(delay / 2)));
    const held = this.held;
    if (held) job.timers.push(setTimeout(() => held.push(job), Math.floor(delay / 2)));
    else job.timers.push(setTimeout(() => void this.finish(job), delay));
  }

  private async finish(job: IngestJob): Promise<void> {
    job.processing = true;
    const outcome = await processUpload(this.context.org, job.spec, job.csv, () => job.state === 'Aborted');
    job.processing = false;
    job.outcome = outcome;
    // Aborted while processing: what was written stays written, the rest is unprocessed.
    if (job.state !== 'Aborted') this.setState(job, outcome.errorMessage ? 'Failed' : 'JobComplete');
  }

  private abort(job: IngestJob): void {
    if (FINISHED.includes(job.state)) throw invalidState(`Job ${job.id} is already ${job.state} and cannot be aborted`);
    job.timers.forEach(clearTimeout);
    if (!job.processing) job.outcome = unprocessedOutcome(job.csv, job.spec);
    this.setState(job, 'Aborted');
  }

  private setState(job: IngestJob, state: JobState): void {
    job.state = state;
    job.systemModstamp = sfTimestamp(new Date());
  }

  /** DELETE /jobs/ingest/{id} */
  delete(request: ApiRequest): Reply {
    const job = this.job(request);
    if (!DELETABLE.includes(job.state)) throw invalidState(`Job ${job.id} cannot be deleted while it is ${job.state}`);
    job.timers.forEach(clearTimeout);
    this.jobs.delete(job.id);
    return emptyReply(204);
  }

  /** GET /jobs/ingest/{id}/{successfulResults | failedResults | unprocessedrecords} */
  results(request: ApiRequest, file: 'successfulCsv' | 'failedCsv' | 'unprocessedCsv'): Reply {
    const job = this.job(request);
    if (!job.outcome) throw invalidState(`Job ${job.id} has not finished processing; its state is ${job.state}`);
    return csvReply(job.outcome[file]);
  }

  private job(request: ApiRequest): IngestJob {
    const job = this.jobs.get(request.params.jobId);
    if (!job) throw notFound();
    return job;
  }

  private info(job: IngestJob): Record<string, unknown> {
    const { spec, outcome } = job;
    const info: Record<string, unknown> = {
      id: job.id,
      operation: spec.operation,
      object: spec.object.name,
      createdById: this.context.org.userId,
      createdDate: job.createdDate,
      systemModstamp: job.systemModstamp,
      state: job.state,
      concurrencyMode: 'Parallel',
      contentType: 'CSV',
      apiVersion: Number(this.context.apiVersion),
      contentUrl: `${this.context.dataPath.slice(1)}/jobs/ingest/${job.id}/batches`,
      jobType: 'V2Ingest',
      lineEnding: spec.lineEnding,
      columnDelimiter: spec.columnDelimiter,
      numberRecordsProcessed: outcome?.processed ?? 0,
      numberRecordsFailed: outcome?.failed ?? 0,
      retries: 0,
      totalProcessingTime: outcome ? this.context.bulkProcessingDelayMs : 0,
      apiActiveProcessingTime: 0,
      apexProcessingTime: 0,
    };
    if (spec.externalIdField) info.externalIdFieldName = spec.externalIdField.name;
    if (outcome?.errorMessage) info.errorMessage = outcome.errorMessage;
    return info;
  }
}
