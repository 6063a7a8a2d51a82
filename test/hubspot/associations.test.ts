// objects[].associations against the HubSpot emulator: invoices linked to the contacts (and custom
// records) their rows name, by a key; the emulator's links are the truth, its request log the calls.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HubSpotEmulator } from '../../emulators/hubspot/index.ts';
import { byType, runCli, summaryOf } from '../support/run-cli.ts';
import { hubspotConfig, invoiceRows, jsonl, startEmulator, TOKEN, UPSERT_BY_NUMBER, writeCalls } from './support.ts';

let emulator: HubSpotEmulator;
beforeEach(async () => { emulator = await startEmulator(); });
afterEach(async () => { await emulator.close(); });

const TO_CONTACT = { to: 'contacts', source: 'customer_email', match: 'email' };

function workspace(associations: Record<string, unknown>[], entry: Record<string, unknown> = UPSERT_BY_NUMBER) {
  const { path } = hubspotConfig(emulator, { ...entry, associations });
  const run = (rows: Record<string, unknown>[], args: string[] = []) => runCli(['write', '--config', path, ...args], { stdin: jsonl(rows) });
  const check = () => runCli(['check', '--config', path]);
  return { run, check };
}

function seedContacts(count: number, from = 0): Map<string, string> {
  const records = emulator.seedRecords('contacts', Array.from({ length: count }, (_, i) => ({ email: `buyer${from + i}@example.com`, firstname: `Buyer ${from + i}` })));
  return new Map(records.map((record) => [record.properties.email!, record.id]));
}

function invoiceId(number: string): string {
  return emulator.records('invoices').find((r) => r.properties.invoice_number === number)!.id;
}

/** invoice number → the contact ids it is linked to, with the labels of each link. */
function contactLinks(number: string): Record<string, (string | null)[]> {
  const links: Record<string, (string | null)[]> = {};
  for (const link of emulator.associations('invoices', invoiceId(number), 'contacts')) links[link.toObjectId] = link.types.map((t) => t.label);
  return links;
}

const associationCalls = () => emulator.requests.filter((r) => r.path.startsWith('/crm/v4/associations/') && !r.path.endsWith('/labels')).map((r) => r.path.split('/').slice(6).join('/'));
const contactReads = () => emulator.requests.filter((r) => r.path === '/crm/v3/objects/0-1/batch/read');

describe('HubSpot associations', () => {
  it('links each record to the contact its row names, then a rerun makes no call at all', async () => {
    const contacts = seedContacts(3);
    const ws = workspace([TO_CONTACT]);
    // HubSpot matches emails without regard to case.
    const rows = invoiceRows(3).map((row, n) => (n === 2 ? { ...row, customer_email: 'BUYER2@Example.com' } : row));
    const first = await ws.run(rows);
    expect(first.code, first.stderr).toBe(0);
    for (const n of [0, 1, 2]) expect(contactLinks(`INV-0000${n}`)).toEqual({ [contacts.get(`buyer${n}@example.com`)!]: [null] });
    expect(contactReads()).toHaveLength(1);
    expect(associationCalls()).toEqual(['batch/associate/default']);
    expect(summaryOf(first.stderr)['invoices']).toMatchObject({ received: 3, created: 3, rejected: 0 });

    emulator.clearRequests();
    const again = await ws.run(rows);
    expect(again.code, again.stderr).toBe(0);
    expect(associationCalls()).toEqual([]);
    expect(contactReads()).toEqual([]);
    expect(writeCalls(emulator)).toEqual([]);
    expect(summaryOf(again.stderr)['invoices']).toMatchObject({ received: 3, unchanged: 3 });
  });

  it('a changed key moves exactly the link this connector made; a link made by someone else stays', async () => {
    const contacts = seedContacts(4);
    // customer_email is not written to the invoice itself here: only the link changes.
    const ws = workspace([TO_CONTACT], { ...UPSERT_BY_NUMBER, fields: [{ source: 'amount', destination: 'amount' }] });
    const rows = invoiceRows(3);
    expect((await ws.run(rows)).code).toBe(0);
    // Someone links INV-00001 to buyer3 by hand.
    const manual = await fetch(`${emulator.url}/crm/v4/objects/${emulator.schema('invoices')!.objectTypeId}/${invoiceId('INV-00001')}/associations/default/contacts/${contacts.get('buyer3@example.com')}`, {
      method: 'PUT', headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(manual.status).toBe(200);

    emulator.clearRequests();
    const moved = rows.map((row, n) => (n === 1 ? { ...row, customer_email: 'buyer2@example.com' } : row));
    const run = await ws.run(moved);
    expect(run.code, run.stderr).toBe(0);
    expect(contactLinks('INV-00001')).toEqual({ [contacts.get('buyer2@example.com')!]: [null], [contacts.get('buyer3@example.com')!]: [null] });
    expect(contactLinks('INV-00000')).toEqual({ [contacts.get('buyer0@example.com')!]: [null] });
    expect(contactLinks('INV-00002')).toEqual({ [contacts.get('buyer2@example.com')!]: [null] });
    // Only the link changed: no record write; one read of contacts, one link made, one removed.
    expect(writeCalls(emulator)).toEqual([]);
    expect(contactReads()).toHaveLength(1);
    expect(associationCalls()).toEqual(['batch/associate/default', 'batch/read', 'batch/labels/archive']);
    const archive = emulator.requests.find((r) => r.path.endsWith('/batch/labels/archive'))!;
    expect(archive.body.inputs).toHaveLength(1);
    expect(archive.body.inputs[0]).toMatchObject({ from: { id: invoiceId('INV-00001') }, to: { id: contacts.get('buyer1@example.com') } });
    expect(summaryOf(run.stderr)['invoices']).toMatchObject({ received: 3, updated: 1, unchanged: 2 });
  });

  it('rejects a row naming a contact that does not exist, naming the key; the others land and the counts add up', async () => {
    seedContacts(2);
    const ws = workspace([TO_CONTACT]);
    const run = await ws.run(invoiceRows(3));
    expect(run.code, run.stderr).toBe(0);
    expect(emulator.records('invoices').map((r) => r.properties.invoice_number).sort()).toEqual(['INV-00000', 'INV-00001']);
    expect(run.stderr).toContain('no contacts record has email "buyer2@example.com"');
    expect(summaryOf(run.stderr)['invoices']).toMatchObject({ received: 3, created: 2, rejected: 1 });

    // Once the contact exists, the row goes through: it was never recorded as written.
    seedContacts(1, 2);
    emulator.clearRequests();
    const later = await ws.run(invoiceRows(3));
    expect(summaryOf(later.stderr)['invoices']).toMatchObject({ received: 3, created: 1, unchanged: 2, rejected: 0 });
    expect(Object.keys(contactLinks('INV-00002'))).toHaveLength(1);
  });

  it('on_missing "ignore" writes the row, links what exists, and links the rest once it exists', async () => {
    const contacts = seedContacts(1);
    const ws = workspace([{ ...TO_CONTACT, source: 'buyers', on_missing: 'ignore' }]);
    const rows = [{ ...invoiceRows(1)[0], buyers: 'buyer0@example.com; buyer1@example.com' }];
    const first = await ws.run(rows);
    expect(first.code, first.stderr).toBe(0);
    expect(Object.keys(contactLinks('INV-00000'))).toEqual([contacts.get('buyer0@example.com')]);

    const later = seedContacts(1, 1);
    const second = await ws.run(rows);
    expect(second.code, second.stderr).toBe(0);
    expect(Object.keys(contactLinks('INV-00000')).sort()).toEqual([contacts.get('buyer0@example.com'), later.get('buyer1@example.com')].sort());

    emulator.clearRequests();
    await ws.run(rows);
    expect(associationCalls()).toEqual([]);
  });

  it('links several targets from a JSON array, with a label resolved once per run', async () => {
    const contacts = seedContacts(3);
    const invoicesType = emulator.schema('invoices')!.objectTypeId;
    const label = await fetch(`${emulator.url}/crm/v4/associations/${invoicesType}/contacts/labels`, {
      method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ label: 'Billing contact', name: 'billing_contact' }),
    });
    expect(label.status).toBe(200);
    const ws = workspace([{ ...TO_CONTACT, source: 'billing', label: 'Billing contact' }]);
    const run = await ws.run([{ ...invoiceRows(1)[0], billing: ['buyer1@example.com', 'buyer2@example.com'] }]);
    expect(run.code, run.stderr).toBe(0);
    expect(contactLinks('INV-00000')).toEqual({
      [contacts.get('buyer1@example.com')!]: expect.arrayContaining([null, 'Billing contact']),
      [contacts.get('buyer2@example.com')!]: expect.arrayContaining([null, 'Billing contact']),
    });
    expect(associationCalls()).toEqual(['batch/create']);
    expect(emulator.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/labels'))).toHaveLength(1);

    // One of the two leaves: its link (label and all) goes, the other stays.
    const again = await ws.run([{ ...invoiceRows(1)[0], billing: ['buyer2@example.com'] }]);
    expect(again.code, again.stderr).toBe(0);
    expect(contactLinks('INV-00000')).toEqual({ [contacts.get('buyer2@example.com')!]: expect.arrayContaining([null, 'Billing contact']) });
  });

  it('check and discover name an unknown target object, a match that cannot identify a record, and an unknown label', async () => {
    const unknownObject = await workspace([{ ...TO_CONTACT, to: 'contcts' }]).check();
    expect(unknownObject.stdout).toMatch(/"status":"FAILED"/);
    expect(unknownObject.stdout).toContain('associations[0].to: \\"contcts\\" is not an object HubSpot knows (did you mean \\"contacts\\"?)');
    const { path } = hubspotConfig(emulator, { ...UPSERT_BY_NUMBER, associations: [{ ...TO_CONTACT, to: 'contcts' }] });
    const discover = await runCli(['discover', '--config', path]);
    expect(discover.code).not.toBe(0);
    expect(discover.stdout).toContain('is not an object HubSpot knows (did you mean \\"contacts\\"?)');
    expect(discover.stdout).not.toContain('DESTINATION_CATALOG');

    const notUnique = await workspace([{ ...TO_CONTACT, match: 'firstname' }]).check();
    expect(notUnique.stdout).toContain('\\"firstname\\" of contacts does not hold unique values');

    const noLabel = await workspace([{ ...TO_CONTACT, label: 'Biling contact' }]).check();
    expect(noLabel.stdout).toContain('associations[0].label \\"Biling contact\\" is not an association label');

    const fine = await workspace([TO_CONTACT]).check();
    expect(fine.stdout).toMatch(/"status":"SUCCEEDED"/);
  });

  it('on_removal "clear" removes the links this connector made to records that left the segment', async () => {
    const contacts = seedContacts(2);
    const ws = workspace([TO_CONTACT], { ...UPSERT_BY_NUMBER, fields: [{ source: 'amount', destination: 'amount' }], on_removal: 'clear' });
    expect((await ws.run(invoiceRows(2), ['--complete'])).code).toBe(0);
    expect(Object.keys(contactLinks('INV-00001'))).toEqual([contacts.get('buyer1@example.com')]);
    const run = await ws.run(invoiceRows(1), ['--complete']);
    expect(run.code, run.stderr).toBe(0);
    expect(contactLinks('INV-00001')).toEqual({});
    expect(emulator.records('invoices').find((r) => r.properties.invoice_number === 'INV-00001')!.properties.amount ?? '').toBe('');
    expect(Object.keys(contactLinks('INV-00000'))).toEqual([contacts.get('buyer0@example.com')]);
  });

  it("insert mode links each new record; a changed row's new record gets its links and the earlier record keeps its own", async () => {
    const contacts = seedContacts(2);
    // Each version of the row is a record of its own (history), numbered apart.
    const ws = workspace([TO_CONTACT], { mode: 'insert', match: { source: 'invoice_id' }, fields: [{ source: 'number', destination: 'invoice_number' }, { source: 'amount', destination: 'amount' }] });
    expect((await ws.run([{ ...invoiceRows(1)[0], number: 'N-1' }])).code).toBe(0);
    const changed = await ws.run([{ ...invoiceRows(1)[0], number: 'N-2', amount: 9, customer_email: 'buyer1@example.com' }]);
    expect(changed.code, changed.stderr).toBe(0);
    const records = emulator.records('invoices');
    expect(records).toHaveLength(2);
    const linked = records.map((record) => emulator.associations('invoices', record.id, 'contacts').map((link) => link.toObjectId));
    expect(linked).toEqual([[contacts.get('buyer0@example.com')], [contacts.get('buyer1@example.com')]]);
  });

  it("a label someone else put on the same pair keeps the pair when the connector's link moves", async () => {
    const contacts = seedContacts(2);
    const invoicesType = emulator.schema('invoices')!.objectTypeId;
    const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const made = await fetch(`${emulator.url}/crm/v4/associations/${invoicesType}/contacts/labels`, { method: 'POST', headers, body: JSON.stringify({ label: 'Reviewer', name: 'reviewer' }) });
    const reviewer = (await made.json()).results.find((type: { label: string }) => type.label === 'Reviewer');
    const ws = workspace([TO_CONTACT], { ...UPSERT_BY_NUMBER, fields: [{ source: 'amount', destination: 'amount' }] });
    expect((await ws.run(invoiceRows(1))).code).toBe(0);
    const buyer0 = contacts.get('buyer0@example.com')!;
    const labelled = await fetch(`${emulator.url}/crm/v4/objects/${invoicesType}/${invoiceId('INV-00000')}/associations/contacts/${buyer0}`, {
      method: 'PUT', headers, body: JSON.stringify([{ associationCategory: reviewer.category, associationTypeId: reviewer.typeId }]),
    });
    expect(labelled.status).toBe(201);
    const run = await ws.run([{ ...invoiceRows(1)[0], customer_email: 'buyer1@example.com' }]);
    expect(run.code, run.stderr).toBe(0);
    expect(contactLinks('INV-00000')).toEqual({ [buyer0]: expect.arrayContaining(['Reviewer']), [contacts.get('buyer1@example.com')!]: [null] });
  });

  it('a run that cannot make the links stops without a STATE for their rows; the rerun makes them, with no second record', async () => {
    const contacts = seedContacts(3);
    const { path } = hubspotConfig(emulator, { ...UPSERT_BY_NUMBER, associations: [TO_CONTACT] }, { max_retry_ms: 300 });
    const airbyte = (rows: Record<string, unknown>[]) => [
      ...rows.map((data) => JSON.stringify({ type: 'RECORD', record: { stream: 'invoices', data, emitted_at: 0 } })),
      JSON.stringify({ type: 'STATE', state: { type: 'STREAM', stream: { stream_descriptor: { name: 'invoices' }, stream_state: { through: rows.length } } } }),
    ];
    emulator.injectFaults([{ kind: 'status', status: 503, times: 1000, match: { pathIncludes: '/batch/associate/default' } }]);
    const failed = await runCli(['write', '--config', path], { stdin: airbyte(invoiceRows(3)) });
    expect(failed.code).not.toBe(0);
    expect(byType(failed.messages, 'STATE')).toEqual([]);
    expect(emulator.records('invoices')).toHaveLength(3);

    emulator.clearFaults();
    const rerun = await runCli(['write', '--config', path], { stdin: airbyte(invoiceRows(3)) });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(byType(rerun.messages, 'STATE')).toHaveLength(1);
    expect(emulator.records('invoices')).toHaveLength(3);
    for (const n of [0, 1, 2]) expect(Object.keys(contactLinks(`INV-0000${n}`))).toEqual([contacts.get(`buyer${n}@example.com`)]);
  });

  it('on_removal "archive" archives the records that left the segment, links and all', async () => {
    seedContacts(2);
    const ws = workspace([TO_CONTACT], { ...UPSERT_BY_NUMBER, on_removal: 'archive' });
    expect((await ws.run(invoiceRows(2), ['--complete'])).code).toBe(0);
    const run = await ws.run(invoiceRows(1), ['--complete']);
    expect(run.code, run.stderr).toBe(0);
    expect(emulator.records('invoices').map((r) => r.properties.invoice_number)).toEqual(['INV-00000']);
    expect(summaryOf(run.stderr)['invoices']).toMatchObject({ left_segment: 1, archived: 1 });
  });

  it('a batch of 100 rows costs one record write, one target read and one association call', async () => {
    seedContacts(100);
    const ws = workspace([TO_CONTACT]);
    const run = await ws.run(invoiceRows(100));
    expect(run.code, run.stderr).toBe(0);
    expect(writeCalls(emulator)).toEqual(['upsert']);
    expect(contactReads()).toHaveLength(1);
    expect(associationCalls()).toEqual(['batch/associate/default']);
    expect(summaryOf(run.stderr)['invoices']).toMatchObject({ received: 100, created: 100, api_calls: 3 });
  });
});
