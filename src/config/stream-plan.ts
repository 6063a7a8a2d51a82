// Resolves, per input stream, what to do with its rows: from the config's `objects`, else from
// the Airbyte catalog's data-activation fields. One StreamPlan type serves both sources.
import { readFileSync } from 'node:fs';
import type { FieldMap as GeneratedFieldMap } from './config.generated.js';
import type { Config, ObjectConfig, OnRemoval, WritePolicy } from './spec.js';
import { configError } from '../errors.js';
import type { DestinationSyncMode } from '../protocol/messages.js';
import { declaredColumns, isObject } from '../protocol/input.js';
import { missingSourceColumns } from './source-columns.js';

/** insert / update / upsert as configured; archive comes from Airbyte's soft_delete. */
export type Operation = 'insert' | 'update' | 'upsert' | 'archive';

export interface FieldMap {
  source: string;
  destination: string;
  /** Salesforce: the destination is a reference field, set through this parent's key field. */
  lookup?: FieldLookup;
  /** When the field is written (spec.json `fields[].when`); undefined = always. */
  when?: WritePolicy;
}

/** The destination fields of a plan written under `policy` (`always` covers fields that name none). */
export function fieldsWritten(plan: StreamPlan, policy: WritePolicy): string[] {
  return (plan.fields ?? []).filter((field) => (field.when ?? 'always') === policy).map((field) => field.destination);
}

export type FieldLookup = NonNullable<GeneratedFieldMap['lookup']>;

export interface StreamPlan {
  /** The stream name records carry; undefined for the single entry without one until the input names its stream. */
  stream?: string;
  object: string;
  operation: Operation;
  match: { source: string; destination?: string };
  /** Explicit mapping; undefined = every row column whose name is a writable CRM field. */
  fields?: FieldMap[];
  /** HubSpot: links from each record to records of other objects, found by keys the row holds. */
  associations?: AssociationPlan[];
  onRemoval: OnRemoval;
  /** The largest share (percent) of the object's known records one complete run may clear or archive. */
  maxRemovalPercent: number;
  /** Airbyte full_refresh: the input holds the whole segment, so absent keys have left it. */
  completeSegment: boolean;
  /** Where it came from, for messages: `objects[0]` or `catalog stream "invoices"`. */
  origin: string;
}

export interface AssociationPlan {
  /** The target object as configured (contacts, a custom object's name or id). */
  to: string;
  /** The row column holding the target keys. */
  source: string;
  /** The target's field the keys are matched against. */
  match: string;
  label?: string;
  onMissing: 'reject' | 'ignore';
  /**
   * The pseudo-field the row's normalized target keys travel in, through change detection and to
   * the CRM module: named by target and label, so reordering the config keeps what was stored.
   */
  field: string;
}

/** Prefix of association pseudo-fields; no CRM field name starts with it. */
export const LINK_FIELD_PREFIX = '@link:';

export function isLinkField(name: string): boolean {
  return name.startsWith(LINK_FIELD_PREFIX);
}

/** spec.json's default for objects[].max_removal_percent. */
export const DEFAULT_MAX_REMOVAL_PERCENT = 50;

export interface ConfiguredStream {
  name: string;
  namespace?: string;
  syncMode: 'full_refresh' | 'incremental';
  destinationSyncMode: DestinationSyncMode;
  objectName?: string;
  primaryKey: string[][];
  /** The columns its json_schema declares, when it declares them all. */
  columns?: string[];
}

export function loadCatalog(path: string): ConfiguredStream[] {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw configError(`cannot read the catalog ${path}: ${(error as Error).message}`);
  }
  if (!isObject(value) || !Array.isArray(value.streams)) throw configError(`the catalog ${path} has no "streams" array`);
  return value.streams.map((entry: unknown, i: number) => parseConfiguredStream(entry, `streams[${i}]`));
}

function parseConfiguredStream(entry: unknown, at: string): ConfiguredStream {
  if (!isObject(entry) || !isObject(entry.stream) || typeof entry.stream.name !== 'string') {
    throw configError(`catalog ${at}.stream.name is required`);
  }
  return {
    name: entry.stream.name,
    namespace: typeof entry.stream.namespace === 'string' ? entry.stream.namespace : undefined,
    syncMode: entry.sync_mode === 'incremental' ? 'incremental' : 'full_refresh',
    destinationSyncMode: (entry.destination_sync_mode as DestinationSyncMode) ?? 'append',
    objectName: typeof entry.destination_object_name === 'string' ? entry.destination_object_name : undefined,
    primaryKey: Array.isArray(entry.primary_key) ? (entry.primary_key as string[][]) : [],
    columns: declaredColumns(entry.stream.json_schema),
  };
}

export interface ResolvedPlans {
  plans: StreamPlan[];
  warnings: string[];
  /** Catalog streams that cannot be written (no object, no key), with the reason: their records are rejected with it. */
  unconfigured: Map<string, string>;
  /** The plan for a stream name, or undefined when nothing consumes it. */
  planFor(stream: string | undefined): StreamPlan | undefined;
  /** Why no plan consumes `stream`, for its rejections and its one warning. */
  whyUnrouted(stream: string | undefined): string;
}

export function resolveStreamPlans(config: Config, catalog: ConfiguredStream[] = []): ResolvedPlans {
  const warnings: string[] = [];
  const unconfigured = new Map<string, string>();
  const byStream = new Map<string, StreamPlan>();
  const fromConfig = config.objects.map((entry, i) => planFromConfig(entry, i));
  // An entry without `stream` takes the input's single stream (the first one named) and bare rows:
  // never every stream, or an audit_log row would land in the customers object.
  const single = fromConfig.length === 1 && !fromConfig[0].stream ? fromConfig[0] : undefined;
  const bind = (plan: StreamPlan, stream: string) => {
    plan.stream = stream;
    byStream.set(stream, plan);
  };
  for (const plan of fromConfig) if (plan.stream) byStream.set(plan.stream, plan);

  const mappingProblems: string[] = [];
  for (const stream of catalog) {
    if (single && !single.stream && !byStream.has(stream.name)) bind(single, stream.name);
    const configured = byStream.get(stream.name);
    if (configured) {
      configured.completeSegment = stream.syncMode === 'full_refresh';
      warnings.push(...disagreements(configured, stream));
      // An entry without `stream` was bound above to the catalog's first stream: it is checked against that one.
      const problem = stream.columns ? missingSourceColumns(configured, stream.columns, stream.name, 'catalog json_schema') : undefined;
      if (problem) mappingProblems.push(problem);
      continue;
    }
    // One unusable stream must not stop the others: its records are rejected with the reason.
    const plan = planFromCatalog(stream);
    if (typeof plan === 'string') {
      unconfigured.set(stream.name, plan);
      warnings.push(`${plan}; its records will be rejected`);
    } else {
      byStream.set(stream.name, plan);
    }
  }
  if (mappingProblems.length > 0) throw configError(mappingProblems.join('; '), { code: 'invalid_mapping' });
  const plans = [...new Set([...fromConfig, ...byStream.values()])];
  return {
    plans,
    warnings,
    unconfigured,
    planFor: (stream) => {
      if (stream === undefined) return single;
      if (single && !single.stream) bind(single, stream);
      return byStream.get(stream);
    },
    whyUnrouted: (stream) => {
      if (stream === undefined) return 'a bare row (no stream) needs a single objects entry without "stream"';
      if (single?.stream) return `no objects entry consumes stream "${stream}": ${single.origin} has no "stream", so it takes the input's single stream, "${single.stream}" (the first one seen); give each stream its own entry with "stream"`;
      return `no sync configuration consumes stream "${stream}"`;
    },
  };
}

function planFromConfig(entry: ObjectConfig, index: number): StreamPlan {
  return {
    stream: entry.stream,
    object: entry.object,
    operation: entry.mode,
    match: { ...entry.match },
    fields: entry.fields?.map((f) => ({ ...f })),
    associations: (entry.associations ?? []).map((a) => ({
      to: a.to,
      source: a.source,
      match: a.match,
      label: a.label,
      onMissing: a.on_missing ?? 'reject',
      field: `${LINK_FIELD_PREFIX}${a.to}${a.label === undefined ? '' : `:${a.label}`}`,
    })),
    onRemoval: entry.on_removal ?? 'ignore',
    maxRemovalPercent: entry.max_removal_percent ?? DEFAULT_MAX_REMOVAL_PERCENT,
    completeSegment: false,
    origin: `objects[${index}]`,
  };
}

const OPERATION_OF_SYNC_MODE: Record<DestinationSyncMode, { operation: Operation; onRemoval: OnRemoval }> = {
  append: { operation: 'insert', onRemoval: 'ignore' },
  append_dedup: { operation: 'upsert', onRemoval: 'ignore' },
  update: { operation: 'update', onRemoval: 'ignore' },
  soft_delete: { operation: 'archive', onRemoval: 'ignore' },
  overwrite: { operation: 'upsert', onRemoval: 'archive' },
};

/** The plan, or why the stream cannot have one. */
function planFromCatalog(stream: ConfiguredStream): StreamPlan | string {
  const origin = `catalog stream "${stream.name}"`;
  if (!stream.objectName) return `${origin} has no destination_object_name and no objects entry in the config consumes it`;
  const key = stream.primaryKey[0]?.[0];
  if (!key) return `${origin} has no primary_key: the connector needs one to match records`;
  const { operation, onRemoval } = OPERATION_OF_SYNC_MODE[stream.destinationSyncMode] ?? OPERATION_OF_SYNC_MODE.append;
  return {
    stream: stream.name,
    object: stream.objectName,
    operation,
    // Airbyte's data-activation path sends records already renamed to CRM field names.
    match: { source: key, destination: key },
    associations: [],
    onRemoval,
    maxRemovalPercent: DEFAULT_MAX_REMOVAL_PERCENT,
    completeSegment: stream.syncMode === 'full_refresh',
    origin,
  };
}

function disagreements(plan: StreamPlan, stream: ConfiguredStream): string[] {
  if (!stream.objectName) return [];
  const operation = OPERATION_OF_SYNC_MODE[stream.destinationSyncMode]?.operation;
  const differs = stream.objectName !== plan.object || (operation !== undefined && operation !== plan.operation);
  return differs
    ? [`${plan.origin} (${plan.operation} into ${plan.object}) overrides catalog stream "${stream.name}" (${operation} into ${stream.objectName})`]
    : [];
}
