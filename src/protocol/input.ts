// Reads stdin as a stream of lines and classifies each one as an Airbyte message, a Singer
// message or a bare JSONL row. Detection is per line so mixed or unlabelled input still works;
// --input-format forces one protocol when a bare row could look like a message.
import type { Readable } from 'node:stream';
import { MAX_NESTING, parseLine, parseLossless, type ParsedLine } from './json-text.js';
import { batchManifest, readBatchLines, type BatchManifest, type BatchOrigin } from './batch-files.js';
import { readLines, type Line } from './lines.js';

export type InputFormat = 'auto' | 'airbyte' | 'singer' | 'jsonl';
export type Protocol = 'airbyte' | 'singer';
type Row = Record<string, unknown>;

export type InputMessage =
  /** version: a Singer record's table version (see ACTIVATE_VERSION); origin: the BATCH file it came from. */
  | { kind: 'record'; line: number; stream?: string; namespace?: string; data: Row; version?: number; origin?: BatchOrigin }
  /** scope: the stream whose records the state counts (Airbyte per-stream states); without it, all records. */
  | { kind: 'state'; line: number; state: InputState; scope?: StreamScope }
  /** columns: the schema's property names, or undefined when it does not list them all (no properties, or any allowed). */
  | { kind: 'schema'; line: number; stream: string; keyProperties: string[]; columns?: string[] }
  | { kind: 'activate_version'; line: number; stream: string; version: number }
  | { kind: 'ignored'; line: number; type: string }
  | { kind: 'invalid'; line: number; code: string; reason: string; stream?: string; raw?: RawLine; origin?: BatchOrigin };

/** A state as it came in: echoed back out by the output protocol, opaque to the engine. */
export interface InputState {
  protocol: Protocol;
  body: Row;
}

export interface StreamScope {
  stream: string;
  namespace?: string;
}

/** A Singer BATCH message: read by readInput itself, which yields the rows of its files instead. */
type Classified = InputMessage | { kind: 'batch'; manifest: BatchManifest };

/** The text of a line that could not be read as a row, kept (up to a bound) so it can be fixed and resent. */
export interface RawLine {
  text: string;
  truncated: boolean;
}

/** A broken line is kept up to this many characters: enough to fix it by hand, bounded in the rejected-rows file. */
export const MAX_RAW_LINE_CHARS = 64 * 1024;

function rawLine(text: string): RawLine {
  return text.length > MAX_RAW_LINE_CHARS ? { text: text.slice(0, MAX_RAW_LINE_CHARS), truncated: true } : { text, truncated: false };
}

/**
 * No CRM takes a row this large (HubSpot: 65,536 characters a property, Salesforce: 131,072 a
 * long text field), so a longer line is a broken export. It is skipped as it streams in: memory
 * holds at most one line of this size.
 */
export const MAX_LINE_BYTES = 8 * 1024 * 1024;

/**
 * The messages on `input`, in order, a batch per chunk read: the engine awaits once per batch.
 * A BATCH message is replaced, where it stands, by the rows of its files.
 */
export async function* readInput(input: Readable, format: InputFormat, maxLineBytes = MAX_LINE_BYTES): AsyncGenerator<InputMessage[]> {
  for await (const lines of readLines(input, maxLineBytes)) {
    let batch: InputMessage[] = [];
    for (const read of lines) {
      const message = messageOf(read, format, maxLineBytes);
      if (message?.kind !== 'batch') {
        if (message) batch.push(message);
        continue;
      }
      if (batch.length > 0) yield batch;
      batch = [];
      yield* readBatchRows(message.manifest, maxLineBytes);
    }
    if (batch.length > 0) yield batch;
  }
}

function messageOf(read: Line, format: InputFormat, maxLineBytes: number): Classified | undefined {
  const line = read.number;
  if ('problem' in read) {
    return read.problem === 'too_long'
      ? { kind: 'invalid', line, code: 'line_too_long', reason: `the line holds ${read.bytes} bytes, more than ${maxLineBytes}` }
      : { kind: 'invalid', line, code: 'invalid_utf8', reason: 'the line is not valid UTF-8' };
  }
  return read.text.trim() === '' ? undefined : classifyLine(read.text, line, format);
}

/** The rows of a BATCH message's files, as if its records stood on its line, each saying which file and line it came from. */
async function* readBatchRows(manifest: BatchManifest, maxLineBytes: number): AsyncGenerator<InputMessage[]> {
  for await (const { file, lines } of readBatchLines(manifest, maxLineBytes)) {
    const rows: InputMessage[] = [];
    for (const read of lines) {
      const message = messageOf(read, 'jsonl', maxLineBytes);
      if (message?.kind === 'record' || message?.kind === 'invalid') {
        rows.push({ ...message, line: manifest.line, stream: manifest.stream, origin: { file, line: read.number } });
      }
    }
    if (rows.length > 0) yield rows;
  }
}

export function classifyLine(text: string, line: number, format: InputFormat): Classified {
  let parsed: ParsedLine;
  try {
    parsed = parseLine(text);
  } catch (error) {
    return { kind: 'invalid', line, code: 'malformed_json', reason: `not valid JSON: ${(error as Error).message}`, raw: rawLine(text) };
  }
  if ('tooDeep' in parsed) {
    return { kind: 'invalid', line, code: 'too_deep', reason: `values nest more than ${MAX_NESTING} levels deep`, raw: rawLine(text) };
  }
  const { value } = parsed;
  if (!isObject(value)) {
    return { kind: 'invalid', line, code: 'not_an_object', reason: `a line must hold a JSON object, not ${describeJsonType(value)}`, raw: rawLine(text) };
  }
  if (format === 'jsonl') return { kind: 'record', line, data: value };
  if (format !== 'singer' && isAirbyteMessage(value)) return fromAirbyte(value, text, line);
  if (format !== 'airbyte' && isSingerMessage(value)) return fromSinger(value, text, line);
  if (format === 'auto') return { kind: 'record', line, data: value };
  return { kind: 'invalid', line, code: 'not_a_message', reason: `not an ${format} message (type ${JSON.stringify(value.type)})`, raw: rawLine(text) };
}

const AIRBYTE_TYPES = new Set(['RECORD', 'STATE', 'LOG', 'TRACE', 'CONTROL', 'SPEC', 'CONNECTION_STATUS', 'CATALOG']);

function isAirbyteMessage(value: Row): boolean {
  if (typeof value.type !== 'string' || !AIRBYTE_TYPES.has(value.type)) return false;
  if (value.type === 'RECORD') return isObject(value.record) && 'data' in value.record;
  if (value.type === 'STATE') return isObject(value.state);
  return true;
}

function isSingerMessage(value: Row): boolean {
  switch (value.type) {
    case 'RECORD': return typeof value.stream === 'string' && 'record' in value;
    case 'SCHEMA': return typeof value.stream === 'string';
    case 'STATE': return 'value' in value;
    case 'ACTIVATE_VERSION': return typeof value.stream === 'string';
    case 'BATCH': return typeof value.stream === 'string';
    default: return false;
  }
}

function fromAirbyte(message: Row, text: string, line: number): InputMessage {
  if (message.type === 'STATE') {
    // Re-read losslessly: the state is echoed verbatim and may hold integers beyond 2^53.
    const lossless = parseLossless(text) as { state: Row };
    const scope = streamOfState(lossless.state);
    return { kind: 'state', line, state: { protocol: 'airbyte', body: lossless.state }, ...(scope && { scope }) };
  }
  if (message.type !== 'RECORD') return { kind: 'ignored', line, type: String(message.type) };
  const record = message.record as Row;
  const stream = typeof record.stream === 'string' ? record.stream : undefined;
  if (!stream) return { kind: 'invalid', line, code: 'missing_stream', reason: 'RECORD without record.stream' };
  if (!isObject(record.data)) {
    return { kind: 'invalid', line, stream, code: 'not_an_object', reason: `record.data must be an object, not ${describeJsonType(record.data)}` };
  }
  const namespace = typeof record.namespace === 'string' ? record.namespace : undefined;
  return { kind: 'record', line, stream, namespace, data: record.data };
}

/** Airbyte per-stream states count their stream's records; every other kind counts all records. */
function streamOfState(state: Row): StreamScope | undefined {
  if (state.type !== 'STREAM') return undefined;
  const descriptor = (state.stream as { stream_descriptor?: { name?: unknown; namespace?: unknown } } | undefined)?.stream_descriptor;
  if (typeof descriptor?.name !== 'string') return undefined;
  return typeof descriptor.namespace === 'string' ? { stream: descriptor.name, namespace: descriptor.namespace } : { stream: descriptor.name };
}

function fromSinger(message: Row, text: string, line: number): Classified {
  const stream = message.stream as string;
  switch (message.type) {
    case 'RECORD':
      if (!isObject(message.record)) {
        return { kind: 'invalid', line, stream, code: 'not_an_object', reason: `record must be an object, not ${describeJsonType(message.record)}` };
      }
      return { kind: 'record', line, stream, data: message.record, ...(typeof message.version === 'number' ? { version: message.version } : {}) };
    case 'STATE': {
      const lossless = parseLossless(text) as { value: unknown };
      return { kind: 'state', line, state: { protocol: 'singer', body: { value: lossless.value } } };
    }
    case 'SCHEMA': {
      const keys = Array.isArray(message.key_properties) ? message.key_properties.filter((k) => typeof k === 'string') : [];
      return { kind: 'schema', line, stream, keyProperties: keys as string[], columns: declaredColumns(message.schema) };
    }
    case 'ACTIVATE_VERSION':
      return { kind: 'activate_version', line, stream, version: Number(message.version) };
    case 'BATCH':
      return { kind: 'batch', manifest: batchManifest(message, line) };
    default:
      return { kind: 'ignored', line, type: String(message.type) };
  }
}

/**
 * The columns a JSON schema declares, when it declares them all: a schema that lists no property,
 * or explicitly allows others, says nothing about a column it does not list.
 */
export function declaredColumns(schema: unknown): string[] | undefined {
  if (!isObject(schema) || !isObject(schema.properties)) return undefined;
  const others = schema.additionalProperties;
  if (others === true || isObject(others)) return undefined;
  const columns = Object.keys(schema.properties);
  return columns.length > 0 ? columns : undefined;
}

export function isObject(value: unknown): value is Row {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeJsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
