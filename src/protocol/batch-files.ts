// Singer BATCH messages as the Meltano SDK writes them: {"type":"BATCH","stream",
// "encoding":{"format":"jsonl","compression":"gzip"|"none"}, "manifest":["file:///…"]}, each
// file holding one JSON record per line. The files are streamed a line at a time, in manifest
// order; whatever cannot be read (another scheme or format, a missing or corrupt file) is a
// config error naming it, thrown before the next row so no STATE after it can be released.
import { createReadStream, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import { configError } from '../errors.js';
import { readLines, type Line } from './lines.js';

export interface BatchManifest {
  line: number;
  stream: string;
  files: string[];
  gzip: boolean;
}

/** Where a row read from a batch file came from, for its rejection. */
export interface BatchOrigin {
  file: string;
  line: number;
}

const COMPRESSIONS: Record<string, boolean> = { gzip: true, none: false };

/** The manifest of a BATCH message, checked whole before any of its files is opened. */
export function batchManifest(message: Record<string, unknown>, line: number): BatchManifest {
  const stream = message.stream as string;
  const where = `the BATCH message on line ${line} (stream "${stream}")`;
  const encoding = (typeof message.encoding === 'object' && message.encoding !== null ? message.encoding : {}) as Record<string, unknown>;
  if (encoding.format !== 'jsonl') {
    throw configError(`${where} has encoding.format ${JSON.stringify(encoding.format ?? null)}: only "jsonl" batch files can be read`, { code: 'unsupported_batch' });
  }
  const compression = encoding.compression ?? 'none';
  if (typeof compression !== 'string' || !(compression in COMPRESSIONS)) {
    throw configError(`${where} has encoding.compression ${JSON.stringify(compression)}: only "gzip" or "none" can be read`, { code: 'unsupported_batch' });
  }
  if (!Array.isArray(message.manifest) || message.manifest.some((file) => typeof file !== 'string')) {
    throw configError(`${where} has no manifest (a list of file URLs)`, { code: 'unsupported_batch' });
  }
  const files = message.manifest as string[];
  const foreign = files.find((file) => !file.startsWith('file://'));
  if (foreign !== undefined) {
    throw configError(`${where} lists ${foreign}: only file:// batch files can be read (give the target the same filesystem as the tap)`, { code: 'unsupported_batch' });
  }
  return { line, stream, files, gzip: COMPRESSIONS[compression] };
}

/** The lines of each file of `manifest`, in order, a batch per chunk read, with the file they came from. */
export async function* readBatchLines(manifest: BatchManifest, maxLineBytes: number): AsyncGenerator<{ file: string; lines: Line[] }> {
  for (const file of manifest.files) {
    let content: Readable | undefined;
    try {
      content = openFile(file, manifest.gzip);
      const chunks = manifest.gzip ? content : refusingGzip(content);
      for await (const lines of readLines(chunks, maxLineBytes)) yield { file, lines };
    } catch (error) {
      throw configError(`cannot read ${file}, listed by the BATCH message on line ${manifest.line}: ${(error as Error).message}`, { code: 'unreadable_batch', cause: error });
    } finally {
      content?.destroy();
    }
  }
}

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

/** A gzip file read as plain text would become a rejection per "line", then a released STATE: refuse it instead. */
async function* refusingGzip(content: Readable): AsyncGenerator<Buffer> {
  let first = true;
  for await (const chunk of content as AsyncIterable<Buffer>) {
    if (first && chunk.subarray(0, 2).equals(GZIP_MAGIC)) throw new Error('the file is gzip-compressed but the BATCH message says compression "none"');
    first = false;
    yield chunk;
  }
}

function openFile(file: string, gzip: boolean): Readable {
  const path = pathOf(file);
  // A device (/dev/zero) or a pipe would never end, or block the run forever.
  if (!statSync(path).isFile()) throw new Error('not a regular file');
  const source = createReadStream(path);
  if (!gzip) return source;
  const gunzip = createGunzip();
  // pipe() does not pass on the source's errors (a missing file): the reader must see them.
  source.on('error', (error) => gunzip.destroy(error));
  gunzip.on('close', () => source.destroy());
  return source.pipe(gunzip);
}

/** file:///abs/path, or file://relative/path as the SDK's fsspec reads it (from the working directory). */
function pathOf(file: string): string {
  try {
    return fileURLToPath(file);
  } catch {
    return resolve(decodeURI(file.slice('file://'.length)));
  }
}
