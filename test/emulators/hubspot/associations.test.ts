// The HubSpot emulator's associations v4 (labels, batch create / associate default / read /
// archive / labels archive, one-record endpoints), record reads with ?associations=, batch read by
// idProperty and the standard objects, driven through @hubspot/api-client where it has a method,
// with fetch where the exact status and body matter. (The client's models name `from` `_from`.)
import { Client } from '@hubspot/api-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHubSpotEmulator, type HubSpotEmulator } from '../../../emulators/hubspot/index.ts';
import { invoicesSchema } from '../../hubspot/support.ts';

const TOKEN = 'pat-test-token';
const HUBSPOT = 'HUBSPOT_DEFINED' as never;
const USER = 'USER_DEFINED' as never;

let emulator: HubSpotEmulator;
let client: Client;
let invoicesTypeId: string;

beforeEach(async () => {
  emulator = await startHubSpotEmulator({ accessTokens: [TOKEN], schemas: [invoicesSchema] });
  client = new Client({ accessToken: TOKEN, basePath: emulator.url, numberOfApiCallRetries: 0 });
  invoicesTypeId = emulator.schema('invoices')!.objectTypeId;
});
afterEach(async () => { await emulator.close(); });

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(`${emulator.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

function seedContacts(...emails: string[]): string[] {
  return emulator.seedRecords('contacts', emails.map((email) => ({ email }))).map((r) => r.id);
}

function seedInvoices(...numbers: string[]): string[] {
  return emulator.seedRecords('invoices', numbers.map((invoice_number) => ({ invoice_number, customer_email: 'x@example.com', amount: '1' }))).map((r) => r.id);
}

describe('association labels', () => {
  it('lists HubSpot-defined types with their well-known ids for standard pairs', async () => {
    const labels = await client.crm.associations.v4.schema.definitionsApi.getAll('contacts', 'companies');
    expect(labels.results).toEqual([
      { category: 'HUBSPOT_DEFINED', typeId: 279, label: null },
      { category: 'HUBSPOT_DEFINED', typeId: 1, label: 'Primary' },
    ]);
    const byId = await call('GET', '/crm/v4/associations/0-3/0-1/labels');
    expect(byId.body.results).toEqual([{ category: 'HUBSPOT_DEFINED', typeId: 3, label: null }]);
    expect((await call('GET', '/crm/v4/associations/ticket/company/labels')).body.results.map((t: { typeId: number }) => t.typeId)).toEqual([339, 26]);
  });

  it('gives a custom object the default pair its associatedObjects ask for, with portal-specific ids', async () => {
    const forward = await call('GET', `/crm/v4/associations/${invoicesTypeId}/contacts/labels`);
    const backward = await call('GET', `/crm/v4/associations/contacts/p${emulator.portalId}_invoices/labels`);
    expect(forward.body.results).toEqual([{ category: 'USER_DEFINED', typeId: expect.any(Number), label: null }]);
    expect(backward.body.results).toEqual([{ category: 'USER_DEFINED', typeId: expect.any(Number), label: null }]);
    expect(forward.body.results[0].typeId).not.toBe(backward.body.results[0].typeId);
    // Not associated with companies: no types at all.
    expect((await call('GET', `/crm/v4/associations/${invoicesTypeId}/companies/labels`)).body.results).toEqual([]);
  });

  it('creates a USER_DEFINED label (and its inverse) that the labels endpoint then lists', async () => {
    const created = await client.crm.associations.v4.schema.definitionsApi.create(invoicesTypeId, 'contacts', { label: 'Billing contact', name: 'billing_contact', inverseLabel: 'Billed invoice' });
    expect(created.results.map((t) => [t.category, t.label])).toEqual([['USER_DEFINED', 'Billing contact'], ['USER_DEFINED', 'Billed invoice']]);
    const listed = await call('GET', `/crm/v4/associations/${invoicesTypeId}/contacts/labels`);
    expect(listed.body.results.map((t: { label: string | null }) => t.label)).toEqual([null, 'Billing contact']);
    expect(emulator.associationLabels('contacts', 'invoices').map((t) => t.label)).toEqual([null, 'Billed invoice']);
    const again = await call('POST', `/crm/v4/associations/${invoicesTypeId}/contacts/labels`, { label: 'Billing contact', name: 'billing_contact' });
    expect(again.status).toBe(409);
    const nameless = await call('POST', `/crm/v4/associations/${invoicesTypeId}/contacts/labels`, { label: 'No name' });
    expect(nameless).toMatchObject({ status: 400, body: { status: 'error', category: 'VALIDATION_ERROR' } });
  });

  it('answers 400 for an object type that does not exist', async () => {
    const reply = await call('GET', '/crm/v4/associations/contacts/2-999/labels');
    expect(reply).toMatchObject({ status: 400, body: { status: 'error', category: 'VALIDATION_ERROR', message: 'Unable to infer object type from: 2-999' } });
  });
});

describe('batch create', () => {
  it('links records with the default type and a label (201), and the link shows both ways', async () => {
    const [contact] = seedContacts('ann@example.com');
    const [first, second] = seedInvoices('INV-1', 'INV-2');
    const [unlabeled] = emulator.associationLabels('invoices', 'contacts');
    const [label] = (await client.crm.associations.v4.schema.definitionsApi.create(invoicesTypeId, 'contacts', { label: 'Billing contact', name: 'billing_contact' })).results;
    const reply = await call('POST', `/crm/v4/associations/${invoicesTypeId}/contacts/batch/create`, {
      inputs: [
        { from: { id: first }, to: { id: contact }, types: [{ associationCategory: 'USER_DEFINED', associationTypeId: unlabeled.typeId }] },
        { from: { id: second }, to: { id: contact }, types: [{ associationCategory: 'USER_DEFINED', associationTypeId: label.typeId }] },
      ],
    });
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({ status: 'COMPLETE', startedAt: expect.any(String), completedAt: expect.any(String) });
    expect(reply.body.errors).toBeUndefined();
    expect(reply.body.results).toEqual([
      { fromObjectTypeId: invoicesTypeId, fromObjectId: Number(first), toObjectTypeId: '0-1', toObjectId: Number(contact), labels: [] },
      { fromObjectTypeId: invoicesTypeId, fromObjectId: Number(second), toObjectTypeId: '0-1', toObjectId: Number(contact), labels: ['Billing contact'] },
    ]);
    // A labelled link carries the unlabeled type too, as HubSpot records it.
    expect(emulator.associations('invoices', second)).toEqual([
      { toObjectTypeId: '0-1', toObjectId: contact, types: [{ category: 'USER_DEFINED', typeId: unlabeled.typeId, label: null }, { category: 'USER_DEFINED', typeId: label.typeId, label: 'Billing contact' }] },
    ]);
    expect(emulator.associations('contacts', contact).map((a) => a.toObjectId).sort()).toEqual([first, second].sort());
  });

  it('works through the official client (contact to company, HubSpot-defined 279)', async () => {
    const [contact] = seedContacts('bo@example.com');
    const [company] = emulator.seedRecords('companies', [{ name: 'Acme', domain: 'acme.test' }]).map((r) => r.id);
    const answer = await client.crm.associations.v4.batchApi.create('contacts', 'companies', {
      inputs: [{ _from: { id: contact }, to: { id: company }, types: [{ associationCategory: HUBSPOT, associationTypeId: 279 }] }],
    });
    expect(answer.results).toHaveLength(1);
    expect(emulator.associations('companies', company)).toEqual([{ toObjectTypeId: '0-1', toObjectId: contact, types: [{ category: 'HUBSPOT_DEFINED', typeId: 280, label: null }] }]);
  });

  it('answers 207: unknown record ids and undefined types fail their input, the rest lands', async () => {
    const [contact] = seedContacts('cy@example.com');
    const [invoice] = seedInvoices('INV-3');
    const [unlabeled] = emulator.associationLabels('invoices', 'contacts');
    const valid = [{ associationCategory: 'USER_DEFINED', associationTypeId: unlabeled.typeId }];
    const reply = await call('POST', `/crm/v4/associations/${invoicesTypeId}/contacts/batch/create`, {
      inputs: [
        { from: { id: invoice }, to: { id: contact }, types: valid },
        { from: { id: invoice }, to: { id: '404404' }, types: valid },
        // A type of another pair (contacts→companies' 279) and the right id with the wrong category.
        { from: { id: invoice }, to: { id: contact }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 279 }] },
        { from: { id: invoice }, to: { id: contact }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: unlabeled.typeId }] },
      ],
    });
    expect(reply.status).toBe(207);
    expect(reply.body.results).toHaveLength(1);
    expect(reply.body.numErrors).toBe(3);
    expect(reply.body.errors[0]).toEqual({
      status: 'error', category: 'VALIDATION_ERROR', message: 'One or more associations are invalid',
      context: { INVALID_OBJECT_IDS: ['CONTACT=404404 is not valid'], objectId: ['404404'], objectType: ['CONTACT'] },
    });
    expect(reply.body.errors[1]).toEqual({
      status: 'error', category: 'VALIDATION_ERROR', subCategory: 'crm.associations.INVALID_ASSOCIATION_TYPE',
      message: `0-279 is not a valid association type between ${invoicesTypeId} and CONTACT`,
      context: { type: ['0-279'], fromObjectType: [invoicesTypeId], toObjectType: ['CONTACT'] },
    });
    expect(emulator.associations('invoices', invoice)).toHaveLength(1);
  });

  it('refuses more than 100 inputs, an input without types, and an unknown object type, with 400 and nothing linked', async () => {
    const [contact] = seedContacts('di@example.com');
    const [invoice] = seedInvoices('INV-4');
    const input = { from: { id: invoice }, to: { id: contact }, types: [{ associationCategory: 'USER_DEFINED', associationTypeId: 1 }] };
    const tooMany = await call('POST', `/crm/v4/associations/${invoicesTypeId}/contacts/batch/create`, { inputs: Array.from({ length: 101 }, () => input) });
    expect(tooMany).toMatchObject({ status: 400, body: { status: 'error', category: 'VALIDATION_ERROR', message: 'Batch input size exceeded. Maximum inputs: 100' } });
    const noTypes = await call('POST', `/crm/v4/associations/${invoicesTypeId}/contacts/batch/create`, { inputs: [{ from: { id: invoice }, to: { id: contact } }] });
    expect(noTypes.status).toBe(400);
    // One malformed input fails the request before any input is applied.
    const malformed = await call('POST', `/crm/v4/associations/${invoicesTypeId}/contacts/batch/create`, { inputs: [input, { ...input, to: { id: 'abc' } }] });
    expect(malformed).toMatchObject({ status: 400, body: { category: 'VALIDATION_ERROR' } });
    const badType = await call('POST', '/crm/v4/associations/invoices/contacts/batch/create', { inputs: [input] });
    expect(badType).toMatchObject({ status: 400, body: { message: 'Unable to infer object type from: invoices' } });
    expect(emulator.associations('invoices', invoice)).toEqual([]);
  });
});

describe('associate default, read, archive', () => {
  it('associate/default links with the unlabeled type (200, both directions listed) and reports unknown ids inside', async () => {
    const [contact] = seedContacts('ed@example.com');
    const [invoice] = seedInvoices('INV-5');
    const answer = await client.crm.associations.v4.batchApi.createDefault(invoicesTypeId, 'contacts', { inputs: [{ _from: { id: invoice }, to: { id: contact } }] });
    expect(answer.results).toHaveLength(2);
    const [unlabeled] = emulator.associationLabels('invoices', 'contacts');
    expect(emulator.associations('invoices', invoice)[0].types).toEqual([{ category: 'USER_DEFINED', typeId: unlabeled.typeId, label: null }]);
    const partly = await call('POST', `/crm/v4/associations/${invoicesTypeId}/contacts/batch/associate/default`, { inputs: [{ from: { id: invoice }, to: { id: '1' } }] });
    expect(partly).toMatchObject({ status: 200, body: { results: [], numErrors: 1, errors: [{ message: 'One or more associations are invalid' }] } });
  });

  it('batch/read lists links with their types (200), and 207 names the ids without any', async () => {
    const [ann, bob] = seedContacts('fa@example.com', 'fb@example.com');
    const [linked, alone] = seedInvoices('INV-6', 'INV-7');
    await client.crm.associations.v4.batchApi.createDefault(invoicesTypeId, 'contacts', { inputs: [{ _from: { id: linked }, to: { id: ann } }, { _from: { id: linked }, to: { id: bob } }] });
    const read = await client.crm.associations.v4.batchApi.getPage(invoicesTypeId, 'contacts', { inputs: [{ id: linked, after: undefined as never }] });
    expect(read.results[0].to.map((t) => String(t.toObjectId)).sort()).toEqual([ann, bob].sort());
    const partial = await call('POST', `/crm/v4/associations/${invoicesTypeId}/contacts/batch/read`, { inputs: [{ id: linked }, { id: alone }] });
    expect(partial.status).toBe(207);
    expect(partial.body.results).toHaveLength(1);
    const malformed = await call('POST', `/crm/v4/associations/${invoicesTypeId}/contacts/batch/read`, { inputs: [{ id: 'not-a-number' }] });
    expect(malformed).toMatchObject({ status: 207, body: { results: [], errors: [{ category: 'VALIDATION_ERROR', subCategory: 'crm.associations.INVALID_IDENTIFIER' }] } });
    expect(partial.body.errors).toEqual([{
      status: 'error', category: 'OBJECT_NOT_FOUND', subCategory: 'crm.associations.NO_ASSOCIATIONS_FOUND',
      message: `No contact is associated with ${invoicesTypeId} ${alone}.`, context: { fromObjectId: [alone], fromObjectType: [invoicesTypeId], toObjectType: ['contact'] },
    }]);
    const standard = await call('POST', '/crm/v4/associations/contacts/companies/batch/read', { inputs: [{ id: ann }] });
    expect(standard).toMatchObject({ status: 207, body: { results: [], errors: [{ message: `No company is associated with contact ${ann}.` }] } });
  });

  it('batch/labels/archive removes only the label; batch/archive removes the link; both answer 204', async () => {
    const [contact] = seedContacts('ga@example.com');
    const [invoice] = seedInvoices('INV-8');
    const [label] = (await client.crm.associations.v4.schema.definitionsApi.create(invoicesTypeId, 'contacts', { label: 'Billing contact', name: 'billing_contact' })).results;
    await client.crm.associations.v4.batchApi.create(invoicesTypeId, 'contacts', { inputs: [{ _from: { id: invoice }, to: { id: contact }, types: [{ associationCategory: USER, associationTypeId: label.typeId }] }] });
    const unlabel = await call('POST', `/crm/v4/associations/${invoicesTypeId}/contacts/batch/labels/archive`, {
      inputs: [{ from: { id: invoice }, to: { id: contact }, types: [{ associationCategory: 'USER_DEFINED', associationTypeId: label.typeId }] }],
    });
    expect(unlabel.status).toBe(204);
    expect(emulator.associations('invoices', invoice)[0].types.map((t) => t.label)).toEqual([null]);
    await client.crm.associations.v4.batchApi.archive(invoicesTypeId, 'contacts', { inputs: [{ _from: { id: invoice }, to: [{ id: contact }] }] });
    expect(emulator.associations('invoices', invoice)).toEqual([]);
    expect(emulator.associations('contacts', contact)).toEqual([]);
  });

  it('the one-record PUT answers 201 with numeric ids, as recorded, and 400 for an unknown id', async () => {
    const [contact] = seedContacts('ha@example.com');
    const [company] = emulator.seedRecords('companies', [{ name: 'Beta' }]).map((r) => r.id);
    const made = await call('PUT', `/crm/v4/objects/contacts/${contact}/associations/companies/${company}`, [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 279 }]);
    expect(made).toEqual({ status: 201, body: { fromObjectTypeId: '0-1', fromObjectId: Number(contact), toObjectTypeId: '0-2', toObjectId: Number(company), labels: [] } });
    const unknown = await call('PUT', `/crm/v4/objects/contacts/${contact}/associations/companies/777`, [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 279 }]);
    expect(unknown).toMatchObject({ status: 400, body: { status: 'error', category: 'VALIDATION_ERROR', context: { INVALID_OBJECT_IDS: ['COMPANY=777 is not valid'] } } });
  });
});

describe('merged records', () => {
  it('moves the merged record\'s links to the survivor, and a merged-away id links the survivor', async () => {
    const [kept, merged, other] = seedContacts('ka@example.com', 'kb@example.com', 'kc@example.com');
    const [first, second] = seedInvoices('INV-30', 'INV-31');
    await client.crm.associations.v4.batchApi.createDefault(invoicesTypeId, 'contacts', { inputs: [{ _from: { id: first }, to: { id: merged } }] });
    emulator.mergeRecords('contacts', kept, merged);
    expect(emulator.associations('invoices', first).map((a) => a.toObjectId)).toEqual([kept]);
    await client.crm.associations.v4.batchApi.createDefault(invoicesTypeId, 'contacts', { inputs: [{ _from: { id: second }, to: { id: merged } }] });
    expect(emulator.associations('contacts', kept).map((a) => a.toObjectId).sort()).toEqual([first, second].sort());
    expect(emulator.associations('contacts', other)).toEqual([]);
  });
});

describe('associations inside object create', () => {
  it('links a created record to the records its input names; a bad association fails only that input, traced', async () => {
    const [contact] = seedContacts('ja@example.com');
    const [unlabeled] = emulator.associationLabels('invoices', 'contacts');
    const types = [{ associationCategory: 'USER_DEFINED', associationTypeId: unlabeled.typeId }];
    const reply = await call('POST', `/crm/v3/objects/${invoicesTypeId}/batch/create`, {
      inputs: [
        { objectWriteTraceId: 'ok', properties: { invoice_number: 'INV-20', customer_email: 'x@example.com', amount: '1' }, associations: [{ to: { id: contact }, types }] },
        { objectWriteTraceId: 'gone', properties: { invoice_number: 'INV-21', customer_email: 'x@example.com', amount: '1' }, associations: [{ to: { id: '999' }, types }] },
        { objectWriteTraceId: 'wrong-type', properties: { invoice_number: 'INV-22', customer_email: 'x@example.com', amount: '1' }, associations: [{ to: { id: contact }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 279 }] }] },
      ],
    });
    expect(reply.status).toBe(207);
    expect(reply.body.results.map((r: { objectWriteTraceId: string }) => r.objectWriteTraceId)).toEqual(['ok']);
    expect(reply.body.errors.map((e: { context: { objectWriteTraceId: string[] } }) => e.context.objectWriteTraceId)).toEqual([['gone'], ['wrong-type']]);
    expect(reply.body.errors[0]).toMatchObject({ message: 'One or more associations are invalid', context: { INVALID_OBJECT_IDS: ['CONTACT=999 is not valid'] } });
    expect(emulator.records('invoices').map((r) => r.properties.invoice_number)).toEqual(['INV-20']);
    expect(emulator.associations('contacts', contact)).toEqual([{ toObjectTypeId: invoicesTypeId, toObjectId: reply.body.results[0].id, types: [expect.objectContaining({ label: null })] }]);
  });

  it('lists the association definitions on the custom object schema', async () => {
    const schema = await call('GET', `/crm/v3/schemas/${invoicesTypeId}`);
    expect(schema.body.associations).toEqual([expect.objectContaining({ fromObjectTypeId: invoicesTypeId, toObjectTypeId: '0-1', name: 'invoices_to_contacts' })]);
  });
});

describe('record reads with ?associations=', () => {
  it('shows the links on GET one and on the list, through the official client', async () => {
    const [contact] = seedContacts('ia@example.com');
    const [invoice] = seedInvoices('INV-9');
    await client.crm.associations.v4.batchApi.createDefault(invoicesTypeId, 'contacts', { inputs: [{ _from: { id: invoice }, to: { id: contact } }] });
    const one = await client.crm.objects.basicApi.getById(invoicesTypeId, invoice, undefined, undefined, ['contacts']);
    expect(one.associations?.contacts.results).toEqual([{ id: contact, type: 'invoices_to_contacts' }]);
    const page = await call('GET', `/crm/v3/objects/contacts?associations=${invoicesTypeId}`);
    expect(page.body.results[0].associations[`p${emulator.portalId}_invoices`].results).toEqual([{ id: invoice, type: 'contacts_to_invoices' }]);
    const plain = await call('GET', `/crm/v3/objects/${invoicesTypeId}/${invoice}`);
    expect(plain.body.associations).toBeUndefined();
  });
});

describe('standard objects and batch read by idProperty', () => {
  it('finds contacts by email whatever its case, and reports the others as a 207 not-found', async () => {
    const [ann] = seedContacts('Ann.Lee@Example.com');
    const reply = await call('POST', '/crm/v3/objects/contacts/batch/read', {
      idProperty: 'email', properties: ['email'], propertiesWithHistory: [], inputs: [{ id: 'ann.lee@example.com' }, { id: 'nobody@example.com' }],
    });
    expect(reply.status).toBe(207);
    expect(reply.body.results).toEqual([expect.objectContaining({ id: ann, properties: expect.objectContaining({ email: 'ann.lee@example.com' }) })]);
    expect(reply.body.errors).toEqual([{ status: 'error', category: 'OBJECT_NOT_FOUND', message: expect.any(String), context: { ids: ['nobody@example.com'] } }]);
    const duplicate = await call('POST', '/crm/v3/objects/contacts', { properties: { email: 'ANN.LEE@example.com' } });
    expect(duplicate.status).toBe(409);
  });

  it('refuses a non-unique idProperty (companies.domain) and serves deals and tickets by name, singular or plural', async () => {
    emulator.seedRecords('companies', [{ name: 'Acme', domain: 'acme.test' }]);
    const byDomain = await call('POST', '/crm/v3/objects/companies/batch/read', { idProperty: 'domain', properties: [], propertiesWithHistory: [], inputs: [{ id: 'acme.test' }] });
    expect(byDomain).toMatchObject({ status: 400, body: { category: 'VALIDATION_ERROR' } });
    emulator.seedRecords('deals', [{ dealname: 'Big one', amount: '100' }]);
    emulator.seedRecords('tickets', [{ subject: 'Broken' }]);
    expect((await call('GET', '/crm/v3/objects/deal')).body.results).toHaveLength(1);
    expect((await call('GET', '/crm/v3/objects/0-5')).body.results).toHaveLength(1);
  });
});
