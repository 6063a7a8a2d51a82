// An in-memory CRM for testing the engine and the CLI without HTTP. Not a product feature: it
// lives under test/ and is wired in only by test/support/memory-cli.ts. It imports nothing at run
// time from src/ so Node can run it directly (type stripping) in a child process.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Destination, MappedRow, ObjectWriter, OpenedObject, PendingWrite, Prepared, RowOutcome } from '../../src/crm/destination.ts';
import type { StreamPlan } from '../../src/config/stream-plan.ts';

type FieldType = 'string' | 'number' | 'boolean';

export interface MemoryBehaviour {
  objects: Record<string, Record<string, FieldType>>;
  /** The value the "CRM" refuses, per row (like an invalid option). */
  rejectValue?: string;
  /** 1-based number of the write() call that fails, and how. */
  failOnWrite?: { call: number; category: 'transient' | 'config' | 'bug' };
  /** Pretend the token is wrong. */
  badCredentials?: boolean;
  batchSize?: number;
  concurrency?: number;
  /** Random latency per write, so batches complete out of order. */
  maxLatencyMs?: number;
  /** Records present before the run: object → key → values. */
  existing?: Record<string, Record<string, Record<string, unknown>>>;
  /** Where the store and the write log are kept as JSON (after every write); a later run resumes from it. */
  dumpPath?: string;
  /** Kill the process (SIGKILL) right after the CRM applied this write call: before the state store commits. */
  crashAfterWrite?: number;
}

export interface MemoryDump {
  records: Record<string, Record<string, Record<string, unknown>>>;
  writes: { object: string; operation: string; rows: number; sent: Record<string, unknown>[] }[];
}

function categorized(category: string, message: string): Error {
  return Object.assign(new Error(message), { name: 'ConnectorError', category });
}

export class MemoryDestination implements Destination {
  readonly recordIdField = 'memory_id';
  readonly records: MemoryDump['records'] = {};
  readonly writes: MemoryDump['writes'] = [];
  private writeCalls = 0;
  readonly behaviour: MemoryBehaviour;

  constructor(behaviour: MemoryBehaviour) {
    this.behaviour = behaviour;
    const saved = behaviour.dumpPath && existsSync(behaviour.dumpPath) ? (JSON.parse(readFileSync(behaviour.dumpPath, 'utf8')) as MemoryDump) : undefined;
    for (const name of Object.keys(behaviour.objects)) this.records[name] = structuredClone(saved?.records[name] ?? behaviour.existing?.[name] ?? {});
    if (saved) this.writes.push(...saved.writes);
  }

  async verifyAccess(): Promise<void> {
    if (this.behaviour.badCredentials) throw categorized('config', 'the token was refused (401)');
  }

  async open(plan: StreamPlan): Promise<OpenedObject> {
    const fields = this.behaviour.objects[plan.object];
    if (!fields) return { problems: [{ message: `object "${plan.object}" does not exist` }] };
    const problems = (plan.fields ?? [])
      .filter((f) => !(f.destination in fields))
      .map((f) => ({ field: f.destination, message: `field "${f.destination}" does not exist on ${plan.object}` }));
    return { writer: this.writer(plan, fields), objectId: `memory:${plan.object}`, problems };
  }

  async discover() {
    return Object.keys(this.behaviour.objects).map((name) => ({
      object_name: name,
      sync_mode: 'append_dedup' as const,
      json_schema: { type: 'object', properties: {} },
    }));
  }

  requestCount(): number {
    return this.writeCalls;
  }

  stopRetrying(): void {}

  async close(): Promise<void> {
    this.persist();
  }

  private persist(): void {
    if (this.behaviour.dumpPath) writeFileSync(this.behaviour.dumpPath, JSON.stringify({ records: this.records, writes: this.writes }));
  }

  private writer(plan: StreamPlan, fields: Record<string, FieldType>): ObjectWriter {
    const store = this.records[plan.object];
    return {
      maxBatchRows: this.behaviour.batchSize ?? 100,
      maxConcurrentWrites: this.behaviour.concurrency ?? 4,
      start: async () => undefined,
      requestCount: () => this.writeCalls,
      createsFindableAfterMs: 0,
      journalsCreates: false,
      isWritableField: (name) => name in fields,
      prepare: (row) => this.prepare(row, fields),
      write: async (rows) => {
        const call = ++this.writeCalls;
        if (this.behaviour.maxLatencyMs) await new Promise((r) => setTimeout(r, Math.random() * this.behaviour.maxLatencyMs!));
        if (this.behaviour.failOnWrite?.call === call) throw categorized(this.behaviour.failOnWrite.category, `write call ${call} failed`);
        this.writes.push({ object: plan.object, operation: plan.operation, rows: rows.length, sent: rows.map((row) => row.values) });
        const outcomes = rows.map((row) => this.apply(plan, store, row));
        this.persist();
        if (this.behaviour.crashAfterWrite === call) process.kill(process.pid, 'SIGKILL');
        return outcomes;
      },
    };
  }

  private prepare(row: MappedRow, fields: Record<string, FieldType>): Prepared {
    const values: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(row.values)) {
      const type = fields[name];
      if (value !== null && type === 'number' && typeof value !== 'number') {
        return { ok: false, rejection: { code: 'INVALID_NUMBER', field: name, message: `${JSON.stringify(value)} is not a number` } };
      }
      values[name] = value;
    }
    return { ok: true, values };
  }

  private apply(plan: StreamPlan, store: Record<string, Record<string, unknown>>, row: PendingWrite): RowOutcome {
    const bad = Object.entries(row.values).find(([, v]) => v === this.behaviour.rejectValue);
    if (bad) return { status: 'rejected', code: 'INVALID_OPTION', field: bad[0], message: `${bad[1]} is not a valid option` };
    const exists = row.key in store;
    if (plan.operation === 'archive') {
      if (!exists) return { status: 'not_found' };
      delete store[row.key];
      return { status: 'removed', id: row.key };
    }
    if (plan.operation === 'update' && !exists) return { status: 'not_found' };
    if (plan.operation === 'insert' && exists) return { status: 'skipped', code: 'exists', message: 'already there' };
    store[row.key] = { ...store[row.key], ...row.values };
    return exists ? { status: 'updated', id: row.key } : { status: 'created', id: row.key };
  }
}
