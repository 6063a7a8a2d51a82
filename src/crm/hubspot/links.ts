// Links records to the targets their rows name (objects[].associations), around the record write.
// Targets are read first, one batch read per target type per batch, so a row naming a missing
// target is rejected before anything of it is written; links are made and removed after, once the
// records' ids are known, one call per target type and label. The ids this connector linked are
// noted with the record in the store (WriteNotes), so a changed key removes exactly those links,
// never one made by anyone else, and a rerun with the same keys makes no call at all.
import { isLinkField, type Operation } from '../../config/stream-plan.js';
import type { PendingWrite, Rejection, WriteNotes } from '../destination.js';
import { errorText, type HubSpotRequest, type HubSpotResponse } from './api.js';
import { HUBSPOT_BATCH_MAX, noContent, readBatch, resultsList, unexpectedAnswer } from './batch-read.js';
import type { AssociationSpec, AssociationTarget } from './association-targets.js';

/** The record ids a row is linked to, as noted: `<link field>#ids` → "id;id". */
const LINKED_IDS = '#ids';
/** A missing target's key stays unmatched: the field's noted hash is set so that the next run tries again. */
const RETRY_NEXT_RUN = '';

export const MISSING_TARGET = 'association_target_not_found';
/** A 404 during the run: the target object (or the pair's association definition) went away. */
const GONE = 'an object the associations name no longer exists in HubSpot; check the associations\' "to" objects';

/** Per row: the target ids each association field resolved to, or why the row cannot be written. */
export type Resolution = { ok: true; targets: Map<AssociationTarget, { ids: string[]; incomplete: boolean }> } | { ok: false; rejection: Rejection };

export type LinkResult = { ok: true; notes: WriteNotes } | { ok: false; rejection: Rejection };

interface Pair {
  row: number;
  from: string;
  to: string;
}

export class LinkWriter {
  constructor(
    private readonly fromTypeId: string,
    private readonly targets: AssociationTarget[],
    private readonly operation: Operation,
    /** Sends one request, counted with the writer's. */
    private readonly send: (request: HubSpotRequest) => Promise<HubSpotResponse>,
  ) {}

  /** Whether the row asks for links and nothing else (its key aside): a known record then needs no record write. */
  static linksOnly(row: PendingWrite, keyField?: string): boolean {
    let links = false;
    for (const name in row.values) {
      if (isLinkField(name)) links = true;
      else if (name !== keyField) return false;
    }
    return links;
  }

  static withoutLinks(row: PendingWrite): PendingWrite {
    const values: Record<string, unknown> = {};
    for (const name in row.values) if (!isLinkField(name)) values[name] = row.values[name];
    return { ...row, values };
  }

  /** Reads the targets the rows name: one batch read per target type (per 100 keys). */
  async resolve(rows: PendingWrite[]): Promise<Resolution[]> {
    const resolutions: Resolution[] = rows.map(() => ({ ok: true, targets: new Map() }));
    for (const target of this.targets) {
      const keysOf = rows.map((row) => linkKeys(row, target));
      const wanted = [...new Set(keysOf.flatMap((keys) => keys ?? []))];
      const found = wanted.length > 0 ? await this.readTargets(target, wanted) : new Map<string, string>();
      keysOf.forEach((keys, i) => {
        const resolution = resolutions[i];
        if (keys === undefined || !resolution.ok) return;
        const missing = keys.filter((key) => !found.has(key));
        if (missing.length > 0 && target.plan.onMissing === 'reject') {
          resolutions[i] = { ok: false, rejection: missingTarget(target, missing) };
          return;
        }
        const ids = [...new Set(keys.flatMap((key) => found.get(key) ?? []))];
        resolution.targets.set(target, { ids, incomplete: missing.length > 0 });
      });
    }
    return resolutions;
  }

  /**
   * Makes the links the written rows name and removes the ones this connector made that they no
   * longer name. A link refused for one row rejects that row (its record is written again next
   * run, which is harmless), except in insert mode, where a resend would create a second record.
   */
  async apply(items: { row: PendingWrite; recordId: string; resolution: Resolution }[]): Promise<LinkResult[]> {
    const results: LinkResult[] = items.map(() => ({ ok: true, notes: {} }));
    for (const target of this.targets) {
      const creates: Pair[] = [];
      const removals: Pair[] = [];
      const linked = new Map<number, Set<string>>();
      items.forEach(({ row, recordId, resolution }, i) => {
        const resolved = resolution.ok ? resolution.targets.get(target) : undefined;
        if (!resolved) return;
        const previous = this.previouslyLinked(row, recordId, target);
        for (const id of resolved.ids) if (!previous.has(id)) creates.push({ row: i, from: recordId, to: id });
        for (const id of previous) if (!resolved.ids.includes(id)) removals.push({ row: i, from: recordId, to: id });
        linked.set(i, new Set(resolved.ids.filter((id) => previous.has(id))));
        const notes = (results[i] as { notes: WriteNotes }).notes;
        if (resolved.incomplete) notes[target.plan.field] = RETRY_NEXT_RUN;
      });
      const refused = await this.create(target, creates);
      for (const pair of creates) {
        const refusal = refused.get(pairKey(pair));
        if (refusal === undefined) linked.get(pair.row)!.add(pair.to);
        else if (this.operation !== 'insert' && results[pair.row].ok) results[pair.row] = { ok: false, rejection: refusal };
      }
      await this.remove(target, removals);
      for (const [i, ids] of linked) {
        const result = results[i];
        if (result.ok) result.notes[target.plan.field + LINKED_IDS] = [...ids].sort().join(';');
      }
    }
    return results;
  }

  /** The ids this connector linked the record to at its last write; none for another record (insert mode's new one). */
  private previouslyLinked(row: PendingWrite, recordId: string, target: AssociationTarget): Set<string> {
    const stored = row.stored;
    if (!stored || stored.crmId !== recordId || this.operation === 'insert') return new Set();
    return new Set((stored.hashes[target.plan.field + LINKED_IDS] ?? '').split(';').filter(Boolean));
  }

  /** Key → record id of the targets holding them. */
  private async readTargets(target: AssociationTarget, keys: string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    // A record id is digits: any other key names no record, and HubSpot would refuse the batch for it.
    const readable = target.idProperty === undefined ? keys.filter((key) => /^\d+$/.test(key)) : keys;
    for (let from = 0; from < readable.length; from += HUBSPOT_BATCH_MAX) {
      const records = await readBatch(this.send, {
        objectTypeId: target.objectTypeId,
        keys: readable.slice(from, from + HUBSPOT_BATCH_MAX),
        idProperty: target.idProperty,
        properties: [],
        caseless: target.plan.match === 'email',
        what: `reading ${target.name} by ${target.plan.match}`,
        gone: GONE,
      });
      for (const [key, record] of records) found.set(key, String(record.id));
    }
    return found;
  }

  /** Makes the links; answers the pairs HubSpot refused, with why. */
  private async create(target: AssociationTarget, pairs: Pair[]): Promise<Map<string, Rejection>> {
    const refused = new Map<string, Rejection>();
    const action = target.label ? 'batch/create' : 'batch/associate/default';
    for (let from = 0; from < pairs.length; from += HUBSPOT_BATCH_MAX) {
      const chunk = pairs.slice(from, from + HUBSPOT_BATCH_MAX);
      const inputs = chunk.map((pair) => ({ from: { id: pair.from }, to: { id: pair.to }, ...(target.label ? { types: [target.label] } : {}) }));
      // Making a link that exists changes nothing: safe to send again when an answer is lost.
      const response = await this.send({ method: 'POST', path: this.path(target, action), body: { inputs }, idempotent: true, checkAnswer: resultsList });
      // A 400 refuses the chunk whole (nothing made): its rows are refused with HubSpot's reason.
      if (response.status >= 300 && response.status !== 400) throw unexpectedAnswer(`${action} to ${target.name}`, response, GONE);
      const answer = response.status === 400 ? { results: [], errors: [response.body] } : response.body;
      const made = new Set((answer.results as unknown[]).map(madePair).filter((key): key is string => key !== undefined));
      const why = errorText(answer.errors?.[0] ?? 'HubSpot did not confirm the link');
      for (const pair of chunk) {
        if (!made.has(pairKey(pair))) refused.set(pairKey(pair), { code: linkErrorCode(answer.errors?.[0]), message: `linking to ${target.name} record ${pair.to} (${target.origin}) failed: ${why}` });
      }
    }
    return refused;
  }

  /**
   * Removes links this connector made. The pair's types are read first: a label someone else put
   * on the same pair keeps the pair (only our label goes); otherwise the whole association goes,
   * with the unlabeled type HubSpot added beside ours.
   */
  private async remove(target: AssociationTarget, pairs: Pair[]): Promise<void> {
    for (let from = 0; from < pairs.length; from += HUBSPOT_BATCH_MAX) {
      const chunk = pairs.slice(from, from + HUBSPOT_BATCH_MAX);
      const typesOf = await this.readPairTypes(target, chunk);
      const inputs = chunk.flatMap((pair) => {
        const types = typesOf.get(pairKey(pair));
        if (!types) return [];
        const others = types.filter((type) => type.label !== null && !sameSpec(type, target.label));
        if (others.length === 0) return [{ from: { id: pair.from }, to: { id: pair.to }, types: [target.unlabeled] }];
        return target.label ? [{ from: { id: pair.from }, to: { id: pair.to }, types: [target.label] }] : [];
      });
      if (inputs.length === 0) continue;
      const response = await this.send({ method: 'POST', path: this.path(target, 'batch/labels/archive'), body: { inputs }, idempotent: true, checkAnswer: noContent });
      if (response.status !== 204) throw unexpectedAnswer(`removing links to ${target.name}`, response, GONE);
    }
  }

  /** "from:to" → the types on that pair now; absent pairs are not linked (any more). */
  private async readPairTypes(target: AssociationTarget, pairs: Pair[]): Promise<Map<string, { category: string; typeId: number; label: string | null }[]>> {
    const inputs = [...new Set(pairs.map((pair) => pair.from))].map((id) => ({ id }));
    const response = await this.send({ method: 'POST', path: this.path(target, 'batch/read'), body: { inputs }, idempotent: true, checkAnswer: resultsList });
    if (response.status !== 200 && response.status !== 207) throw unexpectedAnswer(`reading links to ${target.name}`, response, GONE);
    const types = new Map<string, { category: string; typeId: number; label: string | null }[]>();
    for (const result of response.body.results as { from?: { id?: unknown }; to?: { toObjectId?: unknown; associationTypes?: [] }[] }[]) {
      for (const link of result.to ?? []) types.set(`${result.from?.id}:${link.toObjectId}`, link.associationTypes ?? []);
    }
    return types;
  }

  private path(target: AssociationTarget, action: string): string {
    return `/crm/v4/associations/${this.fromTypeId}/${target.objectTypeId}/${action}`;
  }
}

/** The row's target keys for one association, undefined when the row does not carry them (its links stay). */
function linkKeys(row: PendingWrite, target: AssociationTarget): string[] | undefined {
  if (!(target.plan.field in row.values)) return undefined;
  const keys = row.values[target.plan.field];
  // null: a departed record's links are all removed (on_removal clear).
  return Array.isArray(keys) ? (keys as string[]) : [];
}

function missingTarget(target: AssociationTarget, missing: string[]): Rejection {
  const named = missing.slice(0, 3).map((key) => `"${key}"`).join(', ') + (missing.length > 3 ? ` and ${missing.length - 3} more` : '');
  return {
    code: MISSING_TARGET,
    field: target.plan.source,
    message: `no ${target.name} record has ${target.plan.match} ${named} (${target.origin}; on_missing "reject")`,
  };
}

function pairKey(pair: { from: string; to: string }): string {
  return `${pair.from}:${pair.to}`;
}

/** A made link in either answer shape: batch/create's {fromObjectId, toObjectId}, associate/default's {from: {id}, to: {id}}. */
function madePair(result: unknown): string | undefined {
  const r = result as { fromObjectId?: unknown; toObjectId?: unknown; from?: { id?: unknown }; to?: { id?: unknown } };
  const from = r.fromObjectId ?? r.from?.id;
  const to = r.toObjectId ?? r.to?.id;
  return from === undefined || to === undefined ? undefined : `${from}:${to}`;
}

function linkErrorCode(error: { subCategory?: string; category?: string } | undefined): string {
  return error?.subCategory ?? error?.category ?? 'association_not_confirmed';
}

function sameSpec(type: { category: string; typeId: number }, spec: AssociationSpec | undefined): boolean {
  return spec !== undefined && type.category === spec.associationCategory && type.typeId === spec.associationTypeId;
}
