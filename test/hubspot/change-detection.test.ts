// Change detection and segment membership against the HubSpot emulator: what reaches HubSpot on
// later runs, with the store (the default) and with change_detection "crm".
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HubSpotEmulator } from '../../emulators/hubspot/index.ts';
import { byType, runCli, summaryOf, tempDir, writeJson } from '../support/run-cli.ts';
import { hubspotConfig, invoiceRows, jsonl, startEmulator, TOKEN, UPSERT_BY_NUMBER, writeCalls } from './support.ts';

let emulator: HubSpotEmulator;
beforeEach(async () => { emulator = await startEmulator(); });
afterEach(async () => { await emulator.close(); });

const byNumber = () => new Map(emulator.records('invoices').map((r) => [r.properties.invoice_number, r]));
const writeRequests = () => emulator.requests.filter((r) => /\/batch\/(create|update|upsert|archive)$/.test(r.path));

function workspace(objectEntry: Record<string, unknown> = UPSERT_BY_NUMBER) {
  const { path, dir } = hubspotConfig(emulator, objectEntry);
  const run = (rows: Record<string, unknown>[], args: string[] = []) => runCli(['write', '--config', path, ...args], { stdin: jsonl(rows) });
  /** The stored hashes of each key, as the state store holds them (edited in place by `edit`). */
  const storedHashes = (edit?: (hashes: string) => string) => {
    const db = new DatabaseSync(join(dir, 'state.db'));
    try {
      const rows = db.prepare('SELECT key, hashes FROM records ORDER BY key').all() as { key: string; hashes: string }[];
      if (edit) for (const row of rows) db.prepare('UPDATE records SET hashes = ? WHERE key = ?').run(edit(row.hashes), row.key);
      return new Map(rows.map((row) => [row.key, edit ? edit(row.hashes) : row.hashes]));
    } finally {
      db.close();
    }
  };
  return { run, storedHashes };
}

describe('change detection with the store', () => {
  it('sends exactly the 37 changed rows in one call, each with only its changed fields', async () => {
    const ws = workspace();
    expect((await ws.run(invoiceRows(1000))).code).toBe(0);
    expect(writeCalls(emulator)).toHaveLength(10);
    emulator.clearRequests();
    const changed = invoiceRows(1000).map((row, i) => (i % 27 === 5 ? { ...row, amount: 5000 + i } : row));
    const run = await ws.run(changed);
    expect(run.code, run.stderr).toBe(0);
    const [upsert, ...others] = writeRequests();
    expect(others).toEqual([]);
    expect(upsert.body.inputs).toHaveLength(37);
    for (const input of upsert.body.inputs) {
      expect(Object.keys(input.properties)).toEqual(['amount']);
      expect(input).toMatchObject({ idProperty: 'invoice_number', id: expect.stringMatching(/^INV-/) });
    }
    expect(byNumber().get('INV-00005')!.properties.amount).toBe('5005');
    expect(summaryOf(run.stderr)['invoices']).toMatchObject({ received: 1000, updated: 37, unchanged: 963 });
  });

  it('sends a row HubSpot rejected last run again, and only that row', async () => {
    const ws = workspace({ mode: 'insert', match: { source: 'invoice_id' } });
    const rows = invoiceRows(4).map((row) => ({ ...row, invoice_number: row.invoice_id }));
    const broken = rows.map((row, i) => (i === 2 ? { ...row, invoice_number: '' } : row));
    const first = await ws.run(broken);
    expect(summaryOf(first.stderr)['invoices']).toMatchObject({ created: 3, rejected: 1 });
    emulator.clearRequests();
    const again = await ws.run(broken);
    expect(writeRequests().map((r) => r.body.inputs.length)).toEqual([1]);
    expect(summaryOf(again.stderr)['invoices']).toMatchObject({ unchanged: 3, rejected: 1 });
    emulator.clearRequests();
    const fixed = await ws.run(rows);
    expect(writeRequests().map((r) => r.body.inputs.length)).toEqual([1]);
    expect(summaryOf(fixed.stderr)['invoices']).toMatchObject({ created: 1, unchanged: 3, rejected: 0 });
    expect(emulator.records('invoices')).toHaveLength(4);
  });

  it('finds rows unchanged in a store written before row hashes, sending nothing, and adds their row hash', async () => {
    const ws = workspace();
    expect((await ws.run(invoiceRows(10))).code).toBe(0);
    // Hashes as an earlier version stored them: one per field, no row hash.
    const older = ws.storedHashes((hashes) => JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(hashes)).filter(([name]) => name !== '@row'))));
    expect([...older.values()].every((hashes) => !hashes.includes('@row'))).toBe(true);
    emulator.clearRequests();
    const rerun = await ws.run(invoiceRows(10));
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(writeRequests()).toEqual([]);
    expect(summaryOf(rerun.stderr)['invoices']).toMatchObject({ unchanged: 10 });
    for (const [key, hashes] of ws.storedHashes()) {
      expect(hashes.startsWith('{"@row":"'), key).toBe(true);
      expect(JSON.parse(hashes)).toMatchObject(JSON.parse(older.get(key)!));
    }
    const changed = invoiceRows(10);
    changed[4].amount = 1234;
    await ws.run(changed);
    expect(writeRequests().map((r) => r.body.inputs.length)).toEqual([1]);
    expect(byNumber().get('INV-00004')!.properties.amount).toBe('1234');
  });

  it('sends rows again when HubSpot converts their unchanged values differently: an option renamed', async () => {
    const ws = workspace();
    expect((await ws.run(invoiceRows(6))).code).toBe(0);
    expect(byNumber().get('INV-00001')!.properties.status).toBe('paid');
    // The option labelled "Paid in full" now stores "settled": the rows reading it must be sent again.
    const status = emulator.schema('invoices')!.properties.get('status')!;
    status.options = status.options!.map((option) => (option.value === 'paid' ? { ...option, value: 'settled' } : option));
    emulator.clearRequests();
    const rerun = await ws.run(invoiceRows(6));
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(summaryOf(rerun.stderr)['invoices']).toMatchObject({ updated: 2, unchanged: 4 });
    expect(byNumber().get('INV-00001')!.properties.status).toBe('settled');
    expect(byNumber().get('INV-00004')!.properties.status).toBe('settled');
  });

  it('a dry run changes neither HubSpot nor the store', async () => {
    const ws = workspace();
    await ws.run(invoiceRows(10));
    emulator.clearRequests();
    const changed = invoiceRows(12);
    changed[3].amount = 99;
    const dry = await ws.run(changed, ['--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(summaryOf(dry.stderr)['invoices']).toMatchObject({ created: 2, updated: 1, unchanged: 9 });
    expect(writeRequests()).toEqual([]);
    expect(emulator.records('invoices')).toHaveLength(10);
    const real = await ws.run(changed);
    expect(summaryOf(real.stderr)['invoices']).toMatchObject({ created: 2, updated: 1, unchanged: 9 });
    expect(byNumber().get('INV-00003')!.properties.amount).toBe('99');
  });
});

describe('rows that left the segment', () => {
  async function afterFirstRun(onRemoval: string) {
    const ws = workspace({ ...UPSERT_BY_NUMBER, on_removal: onRemoval });
    expect((await ws.run(invoiceRows(6))).code).toBe(0);
    emulator.clearRequests();
    return ws;
  }

  it('are never inferred from an incremental run', async () => {
    const ws = await afterFirstRun('archive');
    const run = await ws.run(invoiceRows(4));
    expect(summaryOf(run.stderr)['invoices'].left_segment).toBe(0);
    expect(emulator.records('invoices')).toHaveLength(6);
    expect(writeRequests()).toEqual([]);
  });

  it('ignore: counted and reported once, left as they are', async () => {
    const ws = await afterFirstRun('ignore');
    const run = await ws.run(invoiceRows(4), ['--complete']);
    expect(summaryOf(run.stderr)['invoices']).toMatchObject({ left_segment: 2, unchanged: 4 });
    expect(emulator.records('invoices')).toHaveLength(6);
    expect(writeRequests()).toEqual([]);
  });

  it('clear: empties the mapped fields of the records that left, by record id, keeping the key', async () => {
    const ws = await afterFirstRun('clear');
    const run = await ws.run(invoiceRows(4), ['--complete']);
    expect(run.code, run.stderr).toBe(0);
    expect(summaryOf(run.stderr)['invoices'].left_segment).toBe(2);
    const [update] = writeRequests();
    expect(update.path).toMatch(/\/batch\/update$/);
    expect(update.body.inputs.map((i: { idProperty?: string }) => i.idProperty)).toEqual([undefined, undefined]);
    expect(byNumber().get('INV-00005')!.properties).toMatchObject({ invoice_number: 'INV-00005', amount: '', status: '', customer_email: '' });
    expect(byNumber().get('INV-00003')!.properties).toMatchObject({ amount: '3.5', status: 'open' });
  });

  it('archive: archives the records that left; a returning key is created again', async () => {
    const ws = await afterFirstRun('archive');
    const run = await ws.run(invoiceRows(4), ['--complete']);
    expect(run.code, run.stderr).toBe(0);
    expect([...byNumber().keys()].sort()).toEqual(['INV-00000', 'INV-00001', 'INV-00002', 'INV-00003']);
    expect(writeRequests().map((r) => r.path.split('/').at(-1))).toEqual(['archive']);
    const back = await ws.run(invoiceRows(6), ['--complete']);
    expect(summaryOf(back.stderr)['invoices']).toMatchObject({ created: 2, unchanged: 4, left_segment: 0 });
    expect(emulator.records('invoices')).toHaveLength(6);
  });
});

describe('change_detection "crm"', () => {
  // As in a container that keeps nothing between runs: no state path at all.
  function ephemeral(objectEntry: Record<string, unknown> = UPSERT_BY_NUMBER) {
    const dir = tempDir();
    const config = { crm: { type: 'hubspot', access_token: TOKEN, base_url: emulator.url }, objects: [{ object: 'invoices', ...objectEntry }], change_detection: 'crm' };
    const path = writeJson(dir, 'config.json', config);
    const run = (rows: Record<string, unknown>[]) => runCli(['write', '--config', path], { stdin: jsonl(rows), env: { TMPDIR: dir } });
    return { dir, path, run };
  }

  it('reads each batch back and sends nothing when HubSpot already holds the values', async () => {
    const ws = ephemeral();
    expect((await ws.run(invoiceRows(250))).code).toBe(0);
    expect(writeCalls(emulator)).toEqual(['upsert', 'upsert', 'upsert']);
    emulator.clearRequests();
    const again = await ws.run(invoiceRows(250));
    expect(again.code, again.stderr).toBe(0);
    expect(writeRequests()).toEqual([]);
    expect(emulator.requests.filter((r) => r.path.endsWith('/batch/read'))).toHaveLength(3);
    expect(summaryOf(again.stderr)['invoices']).toMatchObject({ received: 250, unchanged: 250 });
    // Nothing is left behind: the run's scratch store went with it.
    expect(readdirSync(ws.dir)).toEqual(['config.json']);
  });

  it('sends only the fields that differ in HubSpot, including edits made there', async () => {
    const ws = ephemeral();
    await ws.run(invoiceRows(20));
    const edited = byNumber().get('INV-00007')!;
    edited.properties.customer_email = 'changed-in-hubspot@example.com';
    emulator.clearRequests();
    const rows = invoiceRows(20);
    rows[3].amount = 1234;
    const run = await ws.run(rows);
    expect(run.code, run.stderr).toBe(0);
    const [upsert] = writeRequests();
    expect(upsert.body.inputs.map((i: { id: string; properties: object }) => [i.id, i.properties])).toEqual([
      ['INV-00003', { amount: '1234' }],
      ['INV-00007', { customer_email: 'buyer7@example.com' }],
    ]);
    expect(summaryOf(run.stderr)['invoices']).toMatchObject({ updated: 2, unchanged: 18 });
  });

  it('writes the last row of a key that comes twice in a run, compared with what its first row left in HubSpot', async () => {
    const ws = ephemeral();
    await ws.run(invoiceRows(3));
    const rows = [...invoiceRows(700), { ...invoiceRows(1)[0], amount: 99 }];
    const run = await ws.run(rows);
    expect(run.code, run.stderr).toBe(0);
    expect(byNumber().get('INV-00000')!.properties.amount).toBe('99');
    expect(summaryOf(run.stderr)['invoices']).toMatchObject({ received: 701, created: 697, unchanged: 3, updated: 1, rejected: 0 });
  });

  it('check refuses it where it cannot work: without a match key, or with on_removal other than ignore', async () => {
    const { path } = ephemeral({ ...UPSERT_BY_NUMBER, on_removal: 'archive' });
    const run = await runCli(['check', '--config', path]);
    const status = byType(run.messages, 'CONNECTION_STATUS')[0].connectionStatus;
    expect(status.status).toBe('FAILED');
    expect(status.message).toContain('on_removal "archive" needs the state store');
  });
});
