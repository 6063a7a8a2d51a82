// What went wrong with a store file, in the operator's terms: which file, what is wrong with it,
// and what to do. SQLite's own text ("database disk image is malformed", "attempt to write a
// readonly database", ENOENT for a read-only parent) names neither the file nor the remedy.
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { configError, transientError, type ConnectorError } from '../errors.js';

// SQLite's primary result codes (the low byte of an extended code).
const SQLITE_PERM = 3;
const SQLITE_BUSY = 5;
const SQLITE_READONLY = 8;
const SQLITE_CORRUPT = 11;
const SQLITE_FULL = 13;
const SQLITE_CANTOPEN = 14;
const SQLITE_NOTADB = 26;

/** A config error for a failure of the store at `path`, or undefined when it is none of the known kinds. */
export function storeFailure(path: string, error: unknown): ConnectorError | undefined {
  const code = sqliteCode(error);
  const osCode = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === SQLITE_CORRUPT || code === SQLITE_NOTADB) return damagedStore(path, error);
  if (code === SQLITE_FULL || osCode === 'ENOSPC') return diskFull(path, error);
  if (code === SQLITE_BUSY) {
    return transientError(`the state store at ${resolve(path)} stayed busy: another process (a dry run, a check, a tool) held it for more than 5 s; rerun`, { code: 'store_busy', cause: error });
  }
  if (code === SQLITE_READONLY || code === SQLITE_PERM || code === SQLITE_CANTOPEN || osCode === 'EACCES' || osCode === 'EPERM' || osCode === 'EROFS') {
    const problem = writeAccessProblem(path);
    if (problem) return configError(problem, { code: 'store_not_writable', cause: error });
  }
  return undefined;
}

export function damagedStore(path: string, cause?: unknown): ConnectorError {
  const detail = cause instanceof Error ? ` (${cause.message})` : '';
  return configError(`the store at ${resolve(path)} is damaged${detail}; move it aside: the next run resends every row once`, { code: 'store_damaged', cause });
}

export function diskFull(path: string, cause?: unknown): ConnectorError {
  return configError(`disk full at ${resolve(dirname(path))}: the state store ${resolve(path)} cannot grow; free space there and rerun (rows the CRM confirmed but the store could not record are held back and settled by the next run)`, { code: 'disk_full', cause });
}

/**
 * Why this process cannot write the store at `path`, or undefined when it can. Checked before
 * opening: SQLite opens an unwritable file read-only without a word and fails at the first write.
 */
export function writeAccessProblem(path: string): string | undefined {
  const file = resolve(path);
  const dir = existingAncestor(dirname(file));
  const who = `uid ${process.getuid?.() ?? '?'} (gid ${process.getgid?.() ?? '?'})`;
  const dirProblem = accessProblem(dir);
  if (dirProblem === 'EROFS') return `the file system holding the state store ${file} is read-only; mount ${dir} writable for ${who}`;
  if (dirProblem) {
    const { uid, mode } = statSync(dir);
    const owner = uid === process.getuid?.() ? 'is read-only' : `belongs to uid ${uid}`;
    return `cannot write the state store ${file}: the directory ${dir} ${owner} (mode ${octal(mode)}); ${who} needs write access to it (the store keeps -wal and -shm files beside it)`;
  }
  for (const candidate of [file, `${file}-wal`, `${file}-shm`]) {
    if (!existsSync(candidate)) continue;
    const problem = accessProblem(candidate);
    if (problem === 'EROFS') return `the file system holding the state store ${file} is read-only; mount it writable for ${who}`;
    if (problem) {
      const { uid, mode } = statSync(candidate);
      return `the state store file ${candidate} is read-only for ${who} (owner uid ${uid}, mode ${octal(mode)}); give ${who} write access to it`;
    }
  }
  return undefined;
}

function accessProblem(path: string): string | undefined {
  try {
    accessSync(path, constants.W_OK);
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? 'EACCES';
  }
}

/** The directory itself, or the nearest ancestor that exists (where the store's folders would be made). */
function existingAncestor(dir: string): string {
  let current = dir;
  while (!existsSync(current) && dirname(current) !== current) current = dirname(current);
  return current;
}

function sqliteCode(error: unknown): number | undefined {
  const errcode = (error as { errcode?: unknown } | undefined)?.errcode;
  return typeof errcode === 'number' ? errcode & 0xff : undefined;
}

function octal(mode: number): string {
  return (mode & 0o777).toString(8).padStart(3, '0');
}
