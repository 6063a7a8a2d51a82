// Stores that do not outlive the run: a dry run plans from a copy of the real store, and
// change_detection crm keeps a scratch store only to catch repeated keys. Each lives in a folder
// of its own, removed when the run closes its store (a copy of a large store left in the
// temporary folder by every dry run would fill the disk).
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const DEFAULT_STATE_PATH = './.crm-activate/state.db';

export interface TemporaryStore {
  path: string;
  remove(): void;
}

/** A copy of the store at `path` (an empty store when there is none yet). */
export function snapshotOf(path: string): TemporaryStore {
  const store = temporaryStore('crm-activate-dry-run-');
  if (existsSync(path)) {
    copyFileSync(path, store.path);
    for (const suffix of ['-wal', '-shm']) if (existsSync(path + suffix)) copyFileSync(path + suffix, store.path + suffix);
  }
  return store;
}

/** A fresh store file. */
export function scratchStore(): TemporaryStore {
  return temporaryStore('crm-activate-run-');
}

function temporaryStore(prefix: string): TemporaryStore {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  // Also on exit, for a run that ends without closing its store (a fatal error at start).
  const remove = () => {
    rmSync(dir, { recursive: true, force: true });
    process.removeListener('exit', remove);
  };
  process.once('exit', remove);
  return { path: join(dir, 'state.db'), remove };
}
