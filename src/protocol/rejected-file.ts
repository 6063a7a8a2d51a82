// The rejected-rows output: one JSON line per rejected input record, with where it came from and
// why, so a data team can fix the rows and resend them. Each run appends its lines, stamped with
// its start time: the file is the only trace of a refused row, so a later run never wipes it.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { once } from 'node:events';
import type { Rejection, Values } from '../crm/destination.js';
import type { BatchOrigin } from './batch-files.js';
import type { RawLine } from './input.js';
import type { Redactor } from './log.js';

/** An input record the run refused, as the input had it, and why. */
export interface RejectedRecord {
  line: number;
  stream?: string;
  key?: string;
  data?: Values;
  /** The line's text, when it could not be read as a row. */
  raw?: RawLine;
  /** The batch file and line the row came from (its `line` is the BATCH message's). */
  origin?: BatchOrigin;
  rejection: Rejection;
}

export class RejectedRowsFile {
  private readonly stream: WriteStream;
  private readonly runStartedAt: string;
  count = 0;

  constructor(
    readonly path: string,
    private readonly redactor: Redactor,
    runStartedAt = new Date(),
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.stream = createWriteStream(path, { flags: 'a' });
    this.runStartedAt = runStartedAt.toISOString();
  }

  write(record: RejectedRecord): void {
    this.count += 1;
    const { rejection } = record;
    this.stream.write(`${this.redactor.redact(JSON.stringify({
      run_started_at: this.runStartedAt,
      line: record.line,
      stream: record.stream ?? null,
      key: record.key ?? null,
      code: rejection.code,
      field: rejection.field ?? null,
      message: rejection.message,
      row: record.data ?? null,
      ...(record.origin && { file: record.origin.file, file_line: record.origin.line }),
      ...(record.raw && { raw: record.raw.text }),
      ...(record.raw?.truncated && { raw_truncated: true }),
    }))}\n`);
  }

  async close(): Promise<void> {
    this.stream.end();
    await once(this.stream, 'close');
  }
}
