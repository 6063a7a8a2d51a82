// Reconciles a batch response with the inputs that were sent. HubSpot does not promise result
// order, so every input carries an objectWriteTraceId (its index) and comes back through it, in a
// result or in an error. An input in neither was not acknowledged and is rejected as such.
import type { Rejection, RowOutcome } from '../destination.js';

export interface BatchResult {
  id: string;
  objectWriteTraceId?: string;
  new?: boolean;
  properties?: Record<string, string | null>;
}

export interface BatchError {
  category?: string;
  subCategory?: string;
  message?: string;
  context?: Record<string, string[] | undefined>;
}

export const NOT_ACKNOWLEDGED: Rejection = {
  code: 'not_acknowledged',
  message: 'HubSpot answered neither a result nor an error for this row',
};

export function reconcile(
  body: { results?: BatchResult[]; errors?: BatchError[] } | undefined,
  inputCount: number,
  success: (result: BatchResult) => RowOutcome,
): RowOutcome[] {
  const outcomes: (RowOutcome | undefined)[] = new Array(inputCount).fill(undefined);
  for (const result of body?.results ?? []) {
    const index = traceIndex(result.objectWriteTraceId, inputCount);
    if (index !== undefined) outcomes[index] = success(result);
  }
  for (const error of body?.errors ?? []) {
    for (const trace of error.context?.objectWriteTraceId ?? []) {
      const index = traceIndex(trace, inputCount);
      if (index !== undefined) outcomes[index] = { status: 'rejected', ...rejectionOf(error) };
    }
  }
  return outcomes.map((outcome) => outcome ?? { status: 'rejected', ...NOT_ACKNOWLEDGED });
}

function traceIndex(trace: string | undefined, count: number): number | undefined {
  if (trace === undefined || !/^\d+$/.test(trace)) return undefined;
  const index = Number(trace);
  return index < count ? index : undefined;
}

/**
 * Validation errors embed a JSON array in their message ("Property values were not valid:
 * [{…,"error":"INVALID_OPTION","name":"status"}]"): the property and the code are inside it.
 */
export function rejectionOf(error: BatchError): Rejection {
  const message = error.message ?? 'HubSpot refused the row';
  const details = embeddedDetails(message);
  if (details.length > 0) {
    return {
      code: String(details[0].error ?? error.category ?? 'VALIDATION_ERROR'),
      field: typeof details[0].name === 'string' ? details[0].name : undefined,
      message: details.map((d) => String(d.message ?? d.error)).join('; '),
    };
  }
  return { code: error.subCategory ?? error.category ?? 'HUBSPOT_ERROR', message };
}

function embeddedDetails(message: string): Record<string, unknown>[] {
  const start = message.indexOf('[');
  if (start < 0) return [];
  try {
    const parsed = JSON.parse(message.slice(start)) as unknown;
    return Array.isArray(parsed) ? parsed.filter((d): d is Record<string, unknown> => typeof d === 'object' && d !== null) : [];
  } catch {
    return [];
  }
}
