// Public shapes of the Salesforce emulator: what tests, the benchmark and the demo configure and read.
import type { GarbledBody } from '../shared/garbled.js';

export type FieldType =
  | 'string'
  | 'textarea'
  | 'email'
  | 'phone'
  | 'url'
  | 'double'
  | 'currency'
  | 'percent'
  | 'int'
  | 'boolean'
  | 'date'
  | 'datetime'
  | 'picklist'
  | 'multipicklist'
  | 'reference'
  | 'id';

export interface FieldDef {
  name: string;
  label?: string;
  type: FieldType;
  length?: number;
  precision?: number;
  scale?: number;
  externalId?: boolean;
  unique?: boolean;
  idLookup?: boolean;
  nillable?: boolean;
  createable?: boolean;
  updateable?: boolean;
  calculated?: boolean;
  defaultedOnCreate?: boolean;
  picklistValues?: string[];
  restrictedPicklist?: boolean;
  /** Shorthand for !nillable && !defaultedOnCreate && createable. */
  required?: boolean;
  /** For reference fields: the object(s) the id points at; several make the field polymorphic. */
  referenceTo?: string[];
  /**
   * For reference fields: the name a record uses to reach its parent (in SOQL, in sObject
   * Collections' `{"Account__r": {...}}` and Bulk CSV's `Account__r.Key__c`). Default: the field
   * name with __c turned into __r (Account__c → Account__r), or without its Id suffix (AccountId → Account).
   */
  relationshipName?: string;
  /**
   * For reference fields: a master-detail relationship. The field is then required, cannot change
   * once set (unless `updateable: true`, Setup's "allow reparenting"), and deleting the parent deletes
   * the record (cascadeDelete). A lookup (the default) is cleared when its parent is deleted.
   */
  masterDetail?: boolean;
}

export interface CustomObjectDef {
  /**
   * A custom object's API name (Invoice__c); or a standard object's (Account, Contact), whose
   * `fields` (custom fields, named …__c) are then added to it, as Setup adds fields to Account.
   */
  name: string;
  label?: string;
  fields: FieldDef[];
  deletable?: boolean;
}

export interface OAuthClient {
  clientId: string;
  clientSecret: string;
  refreshToken?: string;
  username?: string;
  /** PEM of the public key whose private half signs JWT bearer assertions. */
  publicKeyPem?: string;
}

export interface SalesforceEmulatorOptions {
  port?: number;
  apiVersion?: string;
  clients?: OAuthClient[];
  accessTokenTtlSeconds?: number;
  dailyApiLimit?: number;
  objects?: CustomObjectDef[];
  bulkProcessingDelayMs?: number;
  /** Seeds the random draws of faults with a `probability`, so a failing run can be replayed. */
  faultSeed?: number;
}

export interface RequestLogEntry {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Parsed JSON, the form fields of a token request, CSV text, or undefined when there was no body. */
  body: unknown;
  /** The body as sent, byte for byte (JSON.parse would round numbers a double cannot hold). */
  rawBody: string;
  /** HTTP status answered; 0 while unanswered, and when the connection was dropped without an answer. */
  status: number;
  /** Epoch milliseconds at which the request arrived (the log is in order of arrival). */
  at: number;
  contentType: string | undefined;
}

interface FaultMatch {
  method?: string;
  /** Matched against the path and its query string, e.g. '/jobs/ingest' or 'query?q='. */
  pathIncludes?: string;
  /** A regular expression the path and its query string must match. */
  pathMatches?: string;
}

/**
 * A fault the emulator applies instead of (or around) its normal answer. It fires on matching
 * requests: on every one, on every `every`-th, or with `probability` (seeded: see faultSeed);
 * `times` (default 1, Infinity for ever) bounds how often it fires.
 */
export type Fault = { match?: FaultMatch; times?: number; every?: number; probability?: number } & (
  | {
      kind: 'status';
      /**
       * 400/401 on the token endpoint answer OAuth's {error, error_description}; elsewhere
       * Salesforce's [{message, errorCode}]: 401 INVALID_SESSION_ID, 403 INSUFFICIENT_ACCESS,
       * 500 UNKNOWN_EXCEPTION, 503 SERVER_UNAVAILABLE; 502 and 504 are the edge's HTML pages.
       */
      status: 400 | 401 | 403 | 500 | 502 | 503 | 504;
      /** Sent as a Retry-After header (Salesforce itself rarely sends one; a proxy or maintenance page may). */
      retryAfterSeconds?: number;
      /** The error body repeats the request's Authorization header, URL and body, as a careless proxy might. */
      echoRequest?: boolean;
    }
  /**
   * 403 REQUEST_LIMIT_EXCEEDED: `daily` (default) is the org's 24-hour allowance (TotalRequests),
   * `concurrent` the cap on long-running requests at once (ConcurrentRequests), which lifts as
   * soon as one of them ends.
   */
  | { kind: 'limit'; limit?: 'daily' | 'concurrent' }
  | { kind: 'reset-before' }
  | { kind: 'reset-after' }
  | { kind: 'latency'; ms: number }
  /** Every issued access token expires just before this request is checked (a session timing out mid-run). */
  | { kind: 'expire-session' }
  /** The request is applied, then its answer replaced by a 200 the client cannot use (see GarbledBody). */
  | { kind: 'garbled'; body: GarbledBody }
);

export type SalesforceRecord = Record<string, unknown>;

export interface SalesforceEmulator {
  /** Login and instance URL: one server plays both. */
  url: string;
  requests: RequestLogEntry[];
  clearRequests(): void;
  records(objectName: string): SalesforceRecord[];
  seedRecords(objectName: string, rows: SalesforceRecord[]): SalesforceRecord[];
  issueAccessToken(): string;
  expireAccessTokens(): void;
  injectFaults(faults: Fault[]): void;
  /** Disarms every fault not yet used up. */
  clearFaults(): void;
  apiCallsUsed(): number;
  /** Closed Bulk API jobs stay InProgress until releaseBulkJobs(). */
  holdBulkJobs(): void;
  releaseBulkJobs(): void;
  close(): Promise<void>;
}
