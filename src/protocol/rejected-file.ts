// The rejected-rows output: one JSON line per rejected input record, with where it came from and
// why, so a data team can fix the rows and resend them.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { once } from 'node:events';
import type { RejectedRecord } from '../engine/sync.js';
import type { Redactor } from './log.js';

export class RejectedRowsFile {
  private readonly stream: WriteStream;
  count = 0;

  constructor(
    readonly path: string,
    private readonly redactor: Redactor,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.stream = createWriteStream(path, { flags: 'w' });
  }

  write(record: RejectedRecord): void {
    this.count += 1;
    const { rejection } = record;
    this.stream.write(`${this.redactor.redact(JSON.stringify({
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
