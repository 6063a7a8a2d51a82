// Stores that do not outlive the run: a dry run plans from a copy of the real store, and
// change_detection crm keeps a scratch store only to catch repeated keys.
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
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

/** A fresh store file in a temporary folder, removed when the process exits. */
export function scratchStorePath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'crm-activate-run-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'state.db');
}
