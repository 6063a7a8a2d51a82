import { describe, expect, it } from 'vitest';
import { NOT_ACKNOWLEDGED, reconcile, rejectionOf } from '../../../src/crm/hubspot/batch-results.ts';

const updated = (result: { id: string }) => ({ status: 'updated' as const, id: result.id });

describe('reconcile', () => {
  it('ties results and errors to inputs by trace id, in input order, whatever order HubSpot answers in', () => {
    const body = {
      results: [{ id: '30', objectWriteTraceId: '2' }, { id: '10', objectWriteTraceId: '0' }],
      errors: [{ category: 'VALIDATION_ERROR', message: 'Property values were not valid: [{"isValid":false,"message":"x was not one of the allowed options","error":"INVALID_OPTION","name":"status"}]', context: { objectWriteTraceId: ['1'] } }],
    };
    expect(reconcile(body, 3, updated)).toEqual([
      { status: 'updated', id: '10' },
      { status: 'rejected', code: 'INVALID_OPTION', field: 'status', message: 'x was not one of the allowed options' },
      { status: 'updated', id: '30' },
    ]);
  });

  it('rejects an input HubSpot left out of a 200 (a merged-away record) as not acknowledged', () => {
    expect(reconcile({ results: [{ id: '10', objectWriteTraceId: '1' }] }, 2, updated)).toEqual([
      { status: 'rejected', ...NOT_ACKNOWLEDGED },
      { status: 'updated', id: '10' },
    ]);
  });

  it('ignores trace ids it did not send', () => {
    expect(reconcile({ results: [{ id: '10', objectWriteTraceId: '7' }, { id: '11', objectWriteTraceId: 'x' }] }, 1, updated)).toEqual([
      { status: 'rejected', ...NOT_ACKNOWLEDGED },
    ]);
  });
});

describe('rejectionOf', () => {
  it('keeps the category when the message embeds no details', () => {
    expect(rejectionOf({ category: 'CONFLICT', message: 'A invoices with invoice_number "A" already exists.' })).toEqual({
      code: 'CONFLICT', message: 'A invoices with invoice_number "A" already exists.',
    });
  });
});
