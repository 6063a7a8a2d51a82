// Public shapes of the Salesforce emulator: what tests, the benchmark and the demo configure and read.

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
  /** For reference fields: the object(s) the id points at. */
  referenceTo?: string[];
}

export interface CustomObjectDef {
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
}

export interface RequestLogEntry {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Parsed JSON, the form fields of a token request, CSV text, or undefined when there was no body. */
  body: unknown;
  /** HTTP status answered; 0 when the connection was dropped without an answer. */
  status: number;
  /** Epoch milliseconds at which the request arrived. */
  at: number;
  contentType: string | undefined;
}

interface FaultMatch {
  method?: string;
  /** Matched against the path and its query string, e.g. '/jobs/ingest' or 'query?q='. */
  pathIncludes?: string;
}

export type Fault = { match?: FaultMatch; times?: number } & (
  | { kind: 'status'; status: 500 | 502 | 503 }
  | { kind: 'limit' }
  | { kind: 'reset-before' }
  | { kind: 'reset-after' }
  | { kind: 'latency'; ms: number }
  /** Every issued access token expires just before this request is checked (a session timing out mid-run). */
  | { kind: 'expire-session' }
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
  apiCallsUsed(): number;
  close(): Promise<void>;
}
