// The benchmark's input: N warehouse rows of 10 typed columns (a text key, text, decimal, integer,
// single and multiple choice, date, timestamp, boolean, free text), deterministic so reruns and
// the 1 %-changed variant differ only where intended. Written to a file the CLI reads as stdin.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export const KEY_COLUMN = 'invoice_id';
/** Every column but the key, in the order they appear; a target maps them to its fields. */
export const VALUE_COLUMNS = ['customer_email', 'amount', 'quantity', 'status', 'tags', 'due_date', 'issued_at', 'is_overdue', 'note'] as const;

/** Distinct customers the rows name by email: buyer0@example.com … buyer49999@example.com. */
export const CUSTOMERS = 50_000;

export function customerEmail(customer: number): string {
  return `buyer${customer}@example.com`;
}

export type InputFormat = 'jsonl' | 'airbyte';

export interface RowFileOptions {
  rows: number;
  /** Every `changedEvery`-th row (0, k, 2k, …) gets a new amount: the "changed" rows of a rerun. */
  changedEvery?: number;
  /** Offsets the keys, so two files can hold disjoint keys. */
  firstKey?: number;
  format?: InputFormat;
  /** Airbyte input: a STATE message after every this many records (and one at the end). */
  stateEvery?: number;
}

const STATUSES = ['open', 'paid', 'void'];
const TAG_SETS = [[], ['priority'], ['recurring'], ['priority', 'disputed']];
const DAY_MS = 86_400_000;
const EPOCH_2026 = Date.UTC(2026, 0, 1);
export const STREAM = 'invoices';
export const STATE_EVERY = 10_000;

export function row(n: number, changed: boolean): Record<string, unknown> {
  const mix = scramble(n);
  const cents = 100 + (mix % 1_000_000);
  return {
    invoice_id: `INV-${String(n).padStart(8, '0')}`,
    customer_email: customerEmail(mix % CUSTOMERS),
    amount: (changed ? cents + 1 : cents) / 100,
    quantity: 1 + (mix % 40),
    status: STATUSES[n % 3],
    tags: TAG_SETS[n % 4],
    due_date: new Date(EPOCH_2026 + (mix % 365) * DAY_MS).toISOString().slice(0, 10),
    issued_at: new Date(EPOCH_2026 - (mix % 90) * DAY_MS + (mix % 86_400) * 1000).toISOString().replace('T', ' ').slice(0, 19),
    is_overdue: mix % 7 === 0,
    note: `Order ${mix.toString(36)} for account ${n % 977}, net 30`,
  };
}

/** Writes the file and answers how many rows were marked changed. */
export async function writeRowFile(path: string, options: RowFileOptions): Promise<{ changed: number; bytes: number }> {
  const out = createWriteStream(path);
  const first = options.firstKey ?? 0;
  const every = options.changedEvery ?? 0;
  const stateEvery = options.stateEvery ?? STATE_EVERY;
  let changed = 0;
  let chunk = '';
  for (let i = 0; i < options.rows; i++) {
    const isChanged = every > 0 && i % every === 0;
    if (isChanged) changed += 1;
    const data = row(first + i, isChanged);
    if (options.format === 'airbyte') {
      chunk += `${JSON.stringify({ type: 'RECORD', record: { stream: STREAM, data, emitted_at: 1767225600000 } })}\n`;
      if ((i + 1) % stateEvery === 0 || i + 1 === options.rows) chunk += `${stateLine(i + 1)}\n`;
    } else {
      chunk += `${JSON.stringify(data)}\n`;
    }
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
  return { changed, bytes: out.bytesWritten };
}

function stateLine(position: number): string {
  return JSON.stringify({ type: 'STATE', state: { type: 'STREAM', stream: { stream_descriptor: { name: STREAM }, stream_state: { position } } } });
}

/** A cheap integer hash so values vary without a random generator's state. */
function scramble(n: number): number {
  let x = Math.imul(n ^ 0x9e3779b9, 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}
