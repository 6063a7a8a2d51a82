// Rows that left the segment: after a complete run (never an incremental one), keys written
// before and absent now. ignore stops updating them; clear empties their mapped fields; archive
// archives (HubSpot) or deletes (Salesforce) the record. Each is reported once; a failed clear or
// archive is retried by the next complete run. One run may clear or archive at most the plan's
// max_removal_percent of the records known for the object: a truncated export must not wipe the CRM.
import type { OnRemoval } from '../config/spec.js';
import { fieldsWritten, type StreamPlan } from '../config/stream-plan.js';
import type { ObjectWriter, PendingWrite } from '../crm/destination.js';
import { configError } from '../errors.js';
import type { Logger } from '../protocol/log.js';
import { LOOKUP_CHUNK, type ChangeStore, type StoredRecord } from '../store/store.js';

export interface DepartureContext {
  plan: StreamPlan;
  store: ChangeStore;
  objectId: string;
  log: Logger;
  dryRun: boolean;
  /** A writer matching records by their CRM id, in update mode (clear) or archive mode. */
  openWriter(how: Exclude<OnRemoval, 'ignore'>): Promise<ObjectWriter>;
}

export interface DepartureResult {
  left: number;
  handled: number;
  failed: number;
}

export async function handleDepartures(context: DepartureContext): Promise<DepartureResult> {
  const { plan, store, objectId } = context;
  const result: DepartureResult = { left: 0, handled: 0, failed: 0 };
  const how = plan.onRemoval;
  if (how !== 'ignore') await checkRemovalLimit(context, how);
  const writer = how === 'ignore' || context.dryRun ? undefined : await context.openWriter(how);
  const pageSize = writer?.maxBatchRows ?? LOOKUP_CHUNK;
  for (let after = ''; ;) {
    const page = await store.departedPage(objectId, after, pageSize);
    if (page.length === 0) break;
    after = page[page.length - 1].key;
    result.left += page.length;
    if (context.dryRun) continue;
    if (writer) {
      await applyRemoval(context, writer, how as Exclude<OnRemoval, 'ignore'>, page, result);
    } else {
      await store.markDeparted(objectId, page.map((record) => record.key));
      result.handled += page.length;
    }
  }
  if (result.left > 0) context.log.info(`${plan.origin}: ${result.left} record(s) left the segment; ${describe(how, context.dryRun, result)}`);
  return result;
}

/** Above the limit nothing is removed and the run fails (a dry run warns): naming the numbers and the setting that allows it. */
async function checkRemovalLimit(context: DepartureContext, how: 'clear' | 'archive'): Promise<void> {
  const { plan, store, objectId } = context;
  const { known, departed } = await store.segmentCounts(objectId);
  const percent = known === 0 ? 0 : (departed / known) * 100;
  if (percent <= plan.maxRemovalPercent) return;
  const where = plan.origin.startsWith('objects[') ? plan.origin : `an objects entry for stream "${plan.stream}"`;
  const message = `${plan.origin}: this complete run would ${how} ${departed} of the ${known} records known for ${plan.object} (${Math.round(percent * 10) / 10}%), `
    + `more than max_removal_percent ${plan.maxRemovalPercent}; nothing was removed. `
    + `If they did leave the segment, set "max_removal_percent": ${Math.ceil(percent)} in ${where} and run again`;
  if (context.dryRun) context.log.warn(`dry run: the real run would stop: ${message}`);
  else throw configError(message, { code: 'removal_limit' });
}

function describe(how: OnRemoval, dryRun: boolean, result: DepartureResult): string {
  if (dryRun) return `they would be handled by on_removal "${how}"`;
  if (how === 'ignore') return 'they are no longer updated';
  return `${how === 'clear' ? 'cleared' : 'archived'} ${result.handled}, failed ${result.failed}`;
}

async function applyRemoval(context: DepartureContext, writer: ObjectWriter, how: 'clear' | 'archive', records: StoredRecord[], result: DepartureResult): Promise<void> {
  const { store, objectId, plan, log } = context;
  const pairs: { record: StoredRecord; row: PendingWrite }[] = [];
  for (const record of records) {
    if (record.crmId === null) continue;
    const prepared = writer.prepare({ key: record.crmId, values: how === 'clear' ? clearedValues(record, plan, writer) : {} });
    if (prepared.ok) {
      pairs.push({ record, row: { key: record.crmId, values: prepared.values, stored: record } });
    } else {
      result.failed += 1;
      log.warn(`${plan.origin}: could not ${how} record ${record.crmId} (key ${record.key}): ${prepared.rejection.message}`);
    }
  }
  const outcomes = pairs.length > 0 ? await writer.write(pairs.map((pair) => pair.row)) : [];
  const done: string[] = [];
  outcomes.forEach((outcome, i) => {
    const { record } = pairs[i];
    if (['updated', 'removed', 'unchanged', 'not_found'].includes(outcome.status)) {
      done.push(record.key);
    } else {
      result.failed += 1;
      log.warn(`${plan.origin}: could not ${how} record ${record.crmId} (key ${record.key}): ${outcome.status === 'rejected' ? outcome.message : outcome.status}`);
    }
  });
  result.handled += done.length;
  if (how === 'archive') await store.forget(objectId, done);
  else await store.markDeparted(objectId, done);
}

/**
 * Every field this connector ever wrote for the record, emptied, and the links it made, removed;
 * the key field, fields the CRM requires and fields whose `when` forbids emptying them (not_null,
 * if_empty) stay.
 */
function clearedValues(record: StoredRecord, plan: StreamPlan, writer: ObjectWriter): Record<string, null> {
  // Entries named with "@" (the row hash, association links and their notes) are not fields to empty.
  const fields = plan.fields ? fieldsWritten(plan, 'always') : Object.keys(record.hashes).filter((name) => !name.startsWith('@'));
  const values: Record<string, null> = {};
  for (const field of fields) if (field !== plan.match.destination && (writer.canClear?.(field) ?? true)) values[field] = null;
  for (const association of plan.associations ?? []) values[association.field] = null;
  return values;
}
