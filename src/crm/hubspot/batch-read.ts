// What every HubSpot batch answer must look like, and the one batch read of records by key that
// the object writer (its own records) and the link writer (association targets) both make.
import { bugError, configError } from '../../errors.js';
import { errorText, type HubSpotRequest, type HubSpotResponse } from './api.js';
import type { BatchResult } from './batch-results.js';

/** Inputs one v3 batch read or v4 association batch call takes. */
export const HUBSPOT_BATCH_MAX = 100;

/** A batch answer lists its results (a 207 its errors too); anything else in a 2xx is not HubSpot's answer. */
export function resultsList(_status: number, body: any): string | undefined {
  return Array.isArray(body?.results) ? undefined : 'no results list';
}

/** Archives answer 204 without a body. */
export function noContent(status: number): string | undefined {
  return status === 204 ? undefined : `${status} instead of 204 No Content`;
}

/** An answer the caller has no rule for: a 404 means what it names went away (a config error), anything else is ours. */
export function unexpectedAnswer(what: string, response: HubSpotResponse, gone: string): Error {
  if (response.status === 404) return configError(`${gone} (404 on ${what}): ${errorText(response.body)}`);
  return bugError(`unexpected HubSpot answer ${response.status} to ${what}: ${errorText(response.body)}`);
}

export interface BatchRead {
  objectTypeId: string;
  /** At most HUBSPOT_BATCH_MAX record ids, or values of `idProperty`. */
  keys: string[];
  /** The unique property the keys are values of; undefined: they are record ids. */
  idProperty?: string;
  properties: string[];
  /** Keys are matched without regard to case (contacts' emails). */
  caseless?: boolean;
  /** For messages: what is read, and what a 404 means went away. */
  what: string;
  gone: string;
}

/** Key → the record holding it (keys HubSpot does not know are absent). */
export async function readBatch(send: (request: HubSpotRequest) => Promise<HubSpotResponse>, read: BatchRead): Promise<Map<string, BatchResult>> {
  const { idProperty } = read;
  const body = {
    inputs: [...new Set(read.keys)].map((id) => ({ id })),
    properties: idProperty === undefined ? read.properties : [...new Set([idProperty, ...read.properties])],
    propertiesWithHistory: [],
    ...(idProperty === undefined ? {} : { idProperty }),
  };
  const response = await send({ method: 'POST', path: `/crm/v3/objects/${read.objectTypeId}/batch/read`, body, idempotent: true, checkAnswer: resultsList });
  if (response.status !== 200 && response.status !== 207) throw unexpectedAnswer(read.what, response, read.gone);
  const found = new Map<string, BatchResult>();
  for (const result of response.body.results as BatchResult[]) {
    const key = idProperty === undefined ? result.id : result.properties?.[idProperty];
    if (key !== undefined && key !== null) found.set(read.caseless ? String(key).toLowerCase() : String(key), result);
  }
  return found;
}
