// The shapes the HubSpot emulator takes and keeps: schema eggs as POST /crm/v3/schemas accepts
// them, and stored records as the objects API returns them.
import type { GarbledBody } from '../shared/garbled.js';

export interface OptionDef {
  label: string;
  value: string;
  displayOrder?: number;
  hidden?: boolean;
  description?: string;
}

export interface PropertyDef {
  name: string;
  label: string;
  type: string;
  fieldType: string;
  groupName?: string;
  description?: string;
  options?: OptionDef[];
  hasUniqueValue?: boolean;
  calculationFormula?: string;
  /** Emulator-only: a property whose value only HubSpot sets. */
  readOnlyValue?: boolean;
  /** Emulator-only: values HubSpot checks beyond the type (contacts' email). */
  format?: 'email';
}

export interface ObjectSchemaEgg {
  name: string;
  labels: { singular: string; plural: string };
  properties: PropertyDef[];
  requiredProperties: string[];
  associatedObjects: string[];
  primaryDisplayProperty?: string;
  secondaryDisplayProperties?: string[];
  searchableProperties?: string[];
  description?: string;
}

export interface StoredProperty extends PropertyDef {
  hubspotDefined: boolean;
  calculated: boolean;
  readOnlyValue: boolean;
  createdAt: string;
}

export interface StoredSchema {
  /** Standard objects (contacts, companies) are addressed by name too and not listed as schemas. */
  standard: boolean;
  id: string;
  objectTypeId: string;
  fullyQualifiedName: string;
  name: string;
  labels: { singular: string; plural: string };
  properties: Map<string, StoredProperty>;
  requiredProperties: string[];
  searchableProperties: string[];
  secondaryDisplayProperties: string[];
  primaryDisplayProperty?: string;
  description?: string;
  createdAt: string;
  updatedAt: string;
}

export interface StoredRecord {
  id: string;
  properties: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  /** The record's page in HubSpot's app, as every object answer carries it. */
  url: string;
  /** Set when the record was merged into another: HubSpot then answers for the survivor. */
  mergedInto?: string;
}

/** What a route answers; the server adds the common headers. */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RequestLogEntry {
  method: string;
  path: string;
  query: Record<string, string>;
  body: any;
  status: number;
  at: number;
}

/**
 * A fault the emulator applies instead of (or around) its normal answer. It fires on matching
 * requests: on every one, on every `every`-th, or with `probability` (seeded: see faultSeed);
 * `times` (default 1, Infinity for ever) bounds how often it fires.
 */
export type Fault = { match?: { method?: string; pathIncludes?: string; /** A regular expression the path must match. */ pathMatches?: string }; times?: number; every?: number; probability?: number } & (
  | {
      kind: 'status';
      status: 400 | 401 | 403 | 429 | 500 | 502 | 503 | 504;
      retryAfterSeconds?: number;
      policyName?: 'TEN_SECONDLY_ROLLING' | 'SECONDLY' | 'DAILY';
      /** The error body repeats the request's Authorization header, URL and body, as a careless proxy might. */
      echoRequest?: boolean;
    }
  | { kind: 'reset-before' }
  | { kind: 'reset-after' }
  | { kind: 'latency'; ms: number }
  /** Another client changes the portal just before this request is handled (a race a test can stage exactly). */
  | { kind: 'meanwhile'; happen: () => void }
  /** Every OAuth access token issued so far expires now; the request then runs normally (and gets 401). */
  | { kind: 'expire-tokens' }
  /** The request is applied, then its answer replaced by a 200 the client cannot use (see GarbledBody). */
  | { kind: 'garbled'; body: GarbledBody });
