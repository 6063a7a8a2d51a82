// Bulk API 2.0 ingest over raw HTTP: CSV reading, #N/A and empty cells, job-level refusals and
// failures, the job life cycle, abort and delete.
import jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SalesforceEmulator } from '../../../emulators/salesforce/index.ts';
import { API, call, invoice, runBulkJob, startOrg } from './fixtures.ts';

const JOBS = `${API}/jobs/ingest`;

describe('Bulk API 2.0 ingest', () => {
  let sf: SalesforceEmulator;

  beforeAll(async () => {
    sf = await startOrg();
  });
  afterAll(() => sf.close());

  const stored = (number: string) => sf.records('Invoice__c').find((r) => r.Invoice_Number__c === number);

  it('reads quoted cells with commas, doubled quotes and embedded newlines', async () => {
    const csv = 'Invoice_Number__c,Region__c,Notes__c\nQ-1,EMEA,"Smith, Jones and ""Partners""\nsecond line"\nQ-2,APAC,plain\n';
    const { info, successful, failed } = await runBulkJob(sf, { object: 'Invoice__c', operation: 'insert' }, csv);
    expect(info).toMatchObject({ state: 'JobComplete', numberRecordsProcessed: 2, numberRecordsFailed: 0, jobType: 'V2Ingest', object: 'Invoice__c' });
    expect(stored('Q-1')!.Notes__c).toBe('Smith, Jones and "Partners"\nsecond line');
    expect(successful.split('\n')[0]).toBe('"sf__Id","sf__Created","Invoice_Number__c","Region__c","Notes__c"');
    expect(successful).toContain(`"${stored('Q-1')!.Id}","true","Q-1","EMEA","Smith, Jones and ""Partners""\nsecond line"`);
    expect(failed).toBe('"sf__Id","sf__Error","Invoice_Number__c","Region__c","Notes__c"\n');
  });

  it('on update, #N/A sets null and an empty cell leaves the field unchanged', async () => {
    sf.seedRecords('Invoice__c', [invoice(700, { Notes__c: 'old note', Status__c: 'Sent' })]);
    const id = stored('INV-00700')!.Id;
    const csv = `Id,Notes__c,Status__c,Amount__c\n${id},#N/A,,42\n`;
    const { info } = await runBulkJob(sf, { object: 'Invoice__c', operation: 'update' }, csv);
    expect(info.numberRecordsFailed).toBe(0);
    expect(stored('INV-00700')).toMatchObject({ Notes__c: null, Status__c: 'Sent', Amount__c: 42 });
  });

  it('fails rows, not the job, for bad values, with the error in sf__Error', async () => {
    const csv = 'Invoice_Number__c,Region__c,Amount__c,Issued_On__c,Is_Overdue__c\nR-1,EMEA,abc,2024-01-01,true\nR-2,EMEA,1,01/02/2024,false\nR-3,#N/A,1,,\nR-4,EMEA,2,,1\n';
    const { info, failed } = await runBulkJob(sf, { object: 'Invoice__c', operation: 'insert' }, csv);
    expect(info).toMatchObject({ state: 'JobComplete', numberRecordsProcessed: 4, numberRecordsFailed: 3 });
    const rows = failed.trim().split('\n').slice(1);
    expect(rows[0]).toBe('"","INVALID_TYPE_ON_FIELD_IN_RECORD:Amount: value not of required type: abc:Amount__c --","R-1","EMEA","abc","2024-01-01","true"');
    expect(rows[1]).toContain('INVALID_TYPE_ON_FIELD_IN_RECORD:Issued On: value not of required type: 01/02/2024:Issued_On__c --');
    expect(rows[2]).toContain('REQUIRED_FIELD_MISSING:Required fields are missing: [Region__c]:Region__c --');
    expect(stored('R-4')).toMatchObject({ Is_Overdue__c: true });
  });

  it('fails the job for a header naming an unknown field, and jsforce reports it', async () => {
    const { info } = await runBulkJob(sf, { object: 'Invoice__c', operation: 'insert' }, 'Invoice_Number__c,Colour__c\nX-1,red\n');
    expect(info).toMatchObject({ state: 'Failed', errorMessage: 'InvalidBatch : Field name not found : Colour__c', numberRecordsProcessed: 0 });
    const conn = new jsforce.Connection({ instanceUrl: sf.url, accessToken: sf.issueAccessToken(), version: '62.0' });
    conn.bulk2.pollInterval = 10;
    await expect(conn.bulk2.loadAndWaitForResults({ object: 'Invoice__c', operation: 'insert', input: [{ Invoice_Number__c: 'X-2', Colour__c: 'red' }] })).rejects.toThrow(
      'Ingest job failed to complete due to: InvalidBatch : Field name not found : Colour__c',
    );
  });

  it('fails the job when the data does not use the job line ending', async () => {
    const { info } = await runBulkJob(sf, { object: 'Invoice__c', operation: 'insert' }, 'Invoice_Number__c,Region__c\r\nL-1,EMEA\r\n');
    expect(info).toMatchObject({ state: 'Failed', errorMessage: 'ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is LF' });
    const crlf = await runBulkJob(sf, { object: 'Invoice__c', operation: 'insert', lineEnding: 'CRLF' }, 'Invoice_Number__c,Region__c\r\nL-2,EMEA\r\n');
    expect(crlf.info.state).toBe('JobComplete');
    expect(stored('L-2')).toBeDefined();
  });

  it('refuses jobs the platform would not create', async () => {
    const create = (job: Record<string, unknown>) => call(sf, 'POST', JOBS, job);
    expect((await create({ object: 'Nope__c', operation: 'insert' })).json).toEqual([{ message: 'InvalidJob : Unable to find object: Nope__c', errorCode: 'INVALIDJOB' }]);
    expect((await create({ object: 'Invoice__c', operation: 'upsert' })).json[0].message).toBe(
      'InvalidJob : External ID was blank for Invoice__c. An External ID must be specified for upsert.',
    );
    expect((await create({ object: 'Invoice__c', operation: 'upsert', externalIdFieldName: 'Notes__c' })).json[0].message).toBe(
      'InvalidJob : Field name provided, Notes__c does not match an External ID for Invoice__c',
    );
    const badOperation = await create({ object: 'Invoice__c', operation: 'merge' });
    expect([badOperation.status, badOperation.json]).toEqual([400, [{ message: "Invalid value: 'merge' supplied for property: 'operation'", errorCode: 'API_ERROR' }]]);
    expect((await create({ object: 'Invoice__c', operation: 'insert', contentType: 'JSON' })).json[0].errorCode).toBe('API_ERROR');
  });

  it('takes one upload per job, as text/csv, and walks Open → UploadComplete → InProgress → JobComplete', async () => {
    const slow = await startOrg({ bulkProcessingDelayMs: 300 });
    try {
      const job = (await call(slow, 'POST', JOBS, { object: 'Invoice__c', operation: 'insert' })).json;
      expect(job).toMatchObject({ state: 'Open', contentType: 'CSV', lineEnding: 'LF', columnDelimiter: 'COMMA', apiVersion: 62 });
      expect(job.id).toMatch(/^750/);
      const path = `${JOBS}/${job.id}`;
      expect((await call(slow, 'PUT', `${path}/batches`, 'Invoice_Number__c,Region__c\nS-1,EMEA\n', { 'Content-Type': 'application/json' })).status).toBe(415);
      expect((await call(slow, 'PUT', `${path}/batches`, 'Invoice_Number__c,Region__c\nS-1,EMEA\n', { 'Content-Type': 'text/csv' })).status).toBe(201);
      const again = await call(slow, 'PUT', `${path}/batches`, 'Invoice_Number__c,Region__c\nS-2,EMEA\n', { 'Content-Type': 'text/csv' });
      expect([again.status, again.json[0].errorCode]).toEqual([400, 'BULK_API_ERROR']);
      expect((await call(slow, 'PATCH', path, { state: 'UploadComplete' })).json.state).toBe('UploadComplete');
      expect((await call(slow, 'GET', `${path}/successfulResults`)).status).toBe(400);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await call(slow, 'GET', path)).json.state).toBe('InProgress');
      expect(slow.records('Invoice__c')).toHaveLength(0);
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect((await call(slow, 'GET', path)).json).toMatchObject({ state: 'JobComplete', numberRecordsProcessed: 1 });
      expect((await call(slow, 'PATCH', path, { state: 'Aborted' })).json[0].errorCode).toBe('INVALIDJOBSTATE');
      expect((await call(slow, 'DELETE', path)).status).toBe(204);
      expect((await call(slow, 'GET', path)).status).toBe(404);
    } finally {
      await slow.close();
    }
  });

  it('aborts a job before processing: nothing is written and the rows come back as unprocessed', async () => {
    const job = (await call(sf, 'POST', JOBS, { object: 'Invoice__c', operation: 'insert' })).json;
    const path = `${JOBS}/${job.id}`;
    await call(sf, 'PUT', `${path}/batches`, 'Invoice_Number__c,Region__c\nA-1,EMEA\n', { 'Content-Type': 'text/csv' });
    expect((await call(sf, 'PATCH', path, { state: 'Aborted' })).json.state).toBe('Aborted');
    expect((await call(sf, 'GET', `${path}/unprocessedrecords`)).text).toBe('"Invoice_Number__c","Region__c"\n"A-1","EMEA"\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stored('A-1')).toBeUndefined();
  });

  it('lists results in no particular order: chunks of 200 come back last to first', async () => {
    const numbers = Array.from({ length: 450 }, (_, i) => `ORD-${i}`);
    const { successful } = await runBulkJob(sf, { object: 'Invoice__c', operation: 'insert' }, `Invoice_Number__c,Region__c\n${numbers.map((n) => `${n},EMEA`).join('\n')}\n`);
    const listed = successful.trim().split('\n').slice(1).map((line) => line.split(',')[2].replace(/"/g, ''));
    expect(listed).toHaveLength(450);
    expect(listed.slice(0, 2)).toEqual(['ORD-400', 'ORD-401']);
    expect(listed.slice(50, 52)).toEqual(['ORD-200', 'ORD-201']);
    expect([...listed].sort()).toEqual([...numbers].sort());
  });

  it('aborted while processing: rows written so far stay, the rest come back unprocessed', async () => {
    const job = (await call(sf, 'POST', JOBS, { object: 'Invoice__c', operation: 'insert' })).json;
    const path = `${JOBS}/${job.id}`;
    const rows = Array.from({ length: 2000 }, (_, i) => `AB-${i},EMEA`).join('\n');
    await call(sf, 'PUT', `${path}/batches`, `Invoice_Number__c,Region__c\n${rows}\n`, { 'Content-Type': 'text/csv' });
    await call(sf, 'PATCH', path, { state: 'UploadComplete' });
    // Processing starts after the delay and yields between chunks: abort as soon as some rows landed.
    while (!sf.records('Invoice__c').some((r) => String(r.Invoice_Number__c).startsWith('AB-'))) await new Promise((resolve) => setImmediate(resolve));
    expect((await call(sf, 'PATCH', path, { state: 'Aborted' })).json.state).toBe('Aborted');
    let info = (await call(sf, 'GET', path)).json;
    while (info.numberRecordsProcessed === 0) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      info = (await call(sf, 'GET', path)).json;
    }
    const written = sf.records('Invoice__c').filter((r) => String(r.Invoice_Number__c).startsWith('AB-')).length;
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(2000);
    expect(info).toMatchObject({ state: 'Aborted', numberRecordsProcessed: written });
    const unprocessed = (await call(sf, 'GET', `${path}/unprocessedrecords`)).text.trim().split('\n');
    expect(unprocessed).toHaveLength(1 + 2000 - written);
  });

  it('deletes records listed by Id', async () => {
    sf.seedRecords('Invoice__c', [invoice(800), invoice(801)]);
    const ids = ['INV-00800', 'INV-00801'].map((n) => stored(n)!.Id);
    const { info, successful } = await runBulkJob(sf, { object: 'Invoice__c', operation: 'delete' }, `Id\n${ids.join('\n')}\n`);
    expect(info.numberRecordsFailed).toBe(0);
    expect(successful).toContain(`"${ids[0]}","false","${ids[0]}"`);
    expect(stored('INV-00800')).toBeUndefined();
  });
});
