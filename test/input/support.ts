// Shared set-up for the input tests: the real CLI wired to the in-memory CRM, one config entry.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { summaryOf, tempDir, writeJson } from '../support/run-cli.ts';
import type { MemoryDump } from '../support/memory-destination.ts';

type FieldType = 'string' | 'number' | 'boolean';

export interface MemorySetup {
  dir: string;
  config: string;
  rejectedPath: string;
  env: Record<string, string>;
  crm(): MemoryDump;
  rejected(): Record<string, any>[];
}

/** A config whose `objects` are `entries`, writing into memory objects with `fields`. */
export function memorySetup(entries: Record<string, unknown>[], objects: Record<string, Record<string, FieldType>>, configExtra: Record<string, unknown> = {}): MemorySetup {
  const dir = tempDir();
  const dumpPath = join(dir, 'crm.json');
  const rejectedPath = join(dir, 'rejected.jsonl');
  const config = writeJson(dir, 'config.json', {
    crm: { type: 'hubspot', access_token: 'pat-na1-secret-token-123' },
    objects: entries,
    state: { path: join(dir, 'state.db') },
    rejected_records_path: rejectedPath,
    ...configExtra,
  });
  return {
    dir,
    config,
    rejectedPath,
    env: { MEMORY_CRM: JSON.stringify({ objects, dumpPath }) },
    crm: () => JSON.parse(readFileSync(dumpPath, 'utf8')) as MemoryDump,
    rejected: () => readFileSync(rejectedPath, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line)),
  };
}

export const lines = (messages: unknown[]) => messages.map((m) => (typeof m === 'string' ? m : JSON.stringify(m)));

/** Adds top-level keys to the config file at `path`. */
export function mergeConfig(path: string, extra: Record<string, unknown>): void {
  writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), ...extra }));
}

/** The counts of a run that wrote one object (its summary row, whatever it is labelled). */
export const onlyObjectCounts = (stderr: string) => Object.values(summaryOf(stderr))[0];
