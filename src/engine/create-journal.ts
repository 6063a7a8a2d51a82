// Creates an earlier run journaled but never recorded an answer for (it was killed, lost its disk,
// or the connection failed after the request went out): before this run sends anything, each is
// looked for in the CRM by its key's field value. Found: recorded as written, so the row is not
// created again. Not found: forgotten, so the row is sent as new. A record may appear in the CRM
// some time after its request was sent (a request still under way when its run died, a search
// index that lags), so the search waits until that time has passed since the earlier run ended.
// A store that lost what earlier runs wrote (its marker says so) cannot tell which creates landed
// at all: an insert then looks every row up before creating it.
import type { StreamPlan } from '../config/stream-plan.js';
import type { MappedRow, ObjectWriter, PendingWrite, Prepared, RowOutcome } from '../crm/destination.js';
import { INTERRUPTED, transientError } from '../errors.js';
import type { Logger } from '../protocol/log.js';
import type { ChangeStore, UnresolvedCreate } from '../store/store.js';
import type { OpenedPlan } from './sync.js';

/** Keys one findCreated call is given. */
const FIND_CHUNK = 500;

export interface JournaledObject {
  plan: StreamPlan;
  objectId: string;
  writer: ObjectWriter;
}

/**
 * Before a run sends anything: settles the creates earlier runs left unresolved, and warns about
 * objects whose store was lost; an insert into one looks every row up before creating it.
 */
export async function settleEarlierCreates(store: ChangeStore, opened: Map<StreamPlan, OpenedPlan>, log: Logger, stop?: AbortSignal): Promise<void> {
  const vanished = store.vanishedObjects();
  for (const [plan, object] of opened) {
    if (vanished.objects.includes(object.objectId)) await recoverVanished(store, plan, object, vanished.runEndedAt, log, stop);
    if (plan.operation !== 'insert') continue;
    const pending = await store.unresolvedCreates(object.objectId);
    if (pending.length > 0) await settle(store, { plan, objectId: object.objectId, writer: object.writer }, pending, log, stop);
  }
}

/** The store holds nothing of an object an earlier run wrote: a first run, said so; inserts check the CRM first. */
async function recoverVanished(store: ChangeStore, plan: StreamPlan, object: OpenedPlan, runEndedAt: number | undefined, log: Logger, stop?: AbortSignal): Promise<void> {
  const where = `the state store at ${store.path} holds nothing of ${plan.object}, which an earlier run wrote (per ${store.path}.id): the store was lost or replaced`;
  if (plan.operation !== 'insert') {
    log.warn(`${plan.origin}: ${where}; this run is a first run: every row is sent again`);
    return;
  }
  const { writer } = object;
  if (!writer.findCreated) {
    log.warn(`${plan.origin}: ${where}; the key is written to no field, so rows created before cannot be found: they are created again (look for duplicates)`);
    return;
  }
  log.warn(`${plan.origin}: ${where}; every row is looked up by ${plan.match.destination} before it is created, so none is created twice`);
  await waitUntilFindable(runEndedAt, writer.createsFindableAfterMs, plan, 'records of the earlier run', log, stop);
  object.writer = new LookupBeforeCreate(writer, writer.findCreated.bind(writer));
}

/** An insert writer that creates only rows whose key the CRM does not hold yet; the others are recorded as they are. */
class LookupBeforeCreate implements ObjectWriter {
  readonly maxBatchRows: number;
  readonly maxConcurrentWrites: number;
  readonly createsFindableAfterMs: number;
  readonly journalsCreates: boolean;

  constructor(
    private readonly inner: ObjectWriter,
    readonly findCreated: (keys: string[]) => Promise<Map<string, string[]>>,
  ) {
    this.maxBatchRows = inner.maxBatchRows;
    this.maxConcurrentWrites = inner.maxConcurrentWrites;
    this.createsFindableAfterMs = inner.createsFindableAfterMs;
    this.journalsCreates = inner.journalsCreates;
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  isWritableField(name: string): boolean {
    return this.inner.isWritableField(name);
  }

  canClear(name: string): boolean {
    return this.inner.canClear?.(name) ?? true;
  }

  prepare(row: MappedRow): Prepared {
    return this.inner.prepare(row);
  }

  async write(rows: PendingWrite[]): Promise<RowOutcome[]> {
    const held = await this.findCreated(rows.map((row) => row.key));
    const fresh = rows.filter((row) => !held.has(row.key));
    const sent = fresh.length > 0 ? await this.inner.write(fresh) : [];
    let next = 0;
    return rows.map((row): RowOutcome => (held.has(row.key) ? { status: 'unchanged', id: held.get(row.key)![0] } : sent[next++]));
  }

  requestCount(): number {
    return this.inner.requestCount();
  }
}

async function settle(store: ChangeStore, { plan, objectId, writer }: JournaledObject, pending: UnresolvedCreate[], log: Logger, stop?: AbortSignal): Promise<void> {
  const { findCreated } = writer;
  if (!findCreated) {
    // Only a config changed since the creates were journaled gets here (the key's field was unmapped).
    log.warn(`${plan.origin}: ${pending.length} create(s) of an earlier run may or may not have landed and the key is written to no field of ${plan.object}, so they cannot be found: they are sent again; look for duplicates`);
    await store.settleCreates(objectId, [], pending.map((entry) => entry.key));
    return;
  }
  // A run whose end is unknown may have sent its requests until now.
  const lastSent = pending.reduce((latest, entry) => Math.max(latest, entry.runEndedAt ?? Date.now()), 0);
  await waitUntilFindable(lastSent, writer.createsFindableAfterMs, plan, `${pending.length} create(s)`, log, stop);
  let found = 0;
  for (let from = 0; from < pending.length; from += FIND_CHUNK) {
    const keys = pending.slice(from, from + FIND_CHUNK).map((entry) => entry.key);
    const held = await findCreated(keys);
    const landed = keys.flatMap((key) => (held.has(key) ? [{ key, crmId: held.get(key)![0] }] : []));
    for (const key of keys) {
      const ids = held.get(key) ?? [];
      if (ids.length > 1) log.warn(`${plan.origin}: key ${key} is held by ${ids.length} records of ${plan.object} (${ids.join(', ')}); the store keeps ${ids[0]}`);
    }
    await store.settleCreates(objectId, landed, keys.filter((key) => !held.has(key)));
    found += landed.length;
  }
  log.warn(`${plan.origin}: ${pending.length} create(s) an earlier run sent (or was about to send) were never recorded; looked up by ${plan.match.destination}: ${found} had landed (recorded, not sent again), ${pending.length - found} had not (sent again if in this run's input)`);
}

/** Waits until every record a run that ended at `endedAt` (unknown: now) could have made is visible to findCreated. */
async function waitUntilFindable(endedAt: number | undefined, findableAfterMs: number, plan: StreamPlan, what: string, log: Logger, stop?: AbortSignal): Promise<void> {
  const now = Date.now();
  const lastSent = endedAt ?? now;
  const waitMs = lastSent + findableAfterMs - now;
  if (waitMs <= 0) return;
  log.info(`${plan.origin}: waiting ${Math.ceil(waitMs / 1000)}s before looking up ${what} of a run that ended ${Math.round((now - lastSent) / 1000)}s ago, so that any request of it still under way has landed and can be found`);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, waitMs);
    stop?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
  if (stop?.aborted) throw transientError(`interrupted (${String(stop.reason)}) before anything was sent; rerun to continue`, { code: INTERRUPTED });
}

/** Insert plans whose key goes to no CRM field: a create whose answer is lost cannot be found again. */
export function unfindableCreateWarnings(plans: StreamPlan[]): string[] {
  return plans
    .filter((plan) => plan.operation === 'insert' && plan.match.destination === undefined)
    .map((plan) => `${plan.origin}: insert mode writes the key ${plan.match.source} to no field of ${plan.object}, so a create whose answer is lost (a killed run, a lost store, a full disk) cannot be found again and a rerun may create it twice; map the key to a field with match.destination, ideally a unique one`);
}
