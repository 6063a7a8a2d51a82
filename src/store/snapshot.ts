// A dry run plans from the real store but must leave it untouched: it works on a copy.
import { copyFileSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const DEFAULT_STATE_PATH = './.crm-activate/state.db';

export function snapshotOf(path: string): string {
  const copy = join(mkdtempSync(join(tmpdir(), 'crm-activate-dry-run-')), 'state.db');
  if (existsSync(path)) {
    copyFileSync(path, copy);
    for (const suffix of ['-wal', '-shm']) if (existsSync(path + suffix)) copyFileSync(path + suffix, copy + suffix);
  }
  return copy;
}
