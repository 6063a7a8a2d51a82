// Generated from spec.json by `npm run gen`. Do not edit by hand.

/**
 * Which CRM to write to, and how to reach it.
 */
export type CRM = HubSpot | Salesforce;
/**
 * A private-app token (pat-…) with the crm.objects.custom.read/write and crm.schemas.custom.read scopes. Give this or `oauth`.
 */
export type PrivateAppAccessToken = string;
/**
 * HubSpot's API root. Change it only to point at an emulator or a proxy.
 */
export type APIRoot = string;
/**
 * "auto": the app's request budget is what HubSpot's answers report (X-HubSpot-RateLimit-Max per -Interval-Milliseconds); what -Remaining shows other clients of the app spending is left to them, so runs side by side share the window; a private app's run stops cleanly before the account's daily budget (-Daily-Remaining) runs out. An object caps that budget at max_requests per interval_ms.
 */
export type RateLimit =
  | 'auto'
  | {
      max_requests?: number;
      interval_ms?: number;
    };
/**
 * How long one request may wait for HubSpot's answer (milliseconds). A request that times out is retried when that is safe; an insert is first checked for rows that landed.
 */
export type RequestTimeout = number;
/**
 * How long one request may keep retrying (rate-limit waits, backoff after 5xx and network errors) before the run stops with a transient error, so a HubSpot that cannot make progress never stalls the pipeline for hours.
 */
export type RetryTimeLimit = number;
/**
 * Where tokens come from: your My Domain URL (required for client credentials), https://login.salesforce.com or https://test.salesforce.com for sandboxes.
 */
export type LoginURL = string;
export type Authentication = ClientCredentials | RefreshToken | JWTBearer | AccessToken;
export type APIVersion = string;
/**
 * rest: sObject Collections (200 rows a call). bulk: Bulk API 2.0 (a few calls per job of any size). auto: bulk when a flush holds at least `bulk_threshold` rows.
 */
export type API = 'auto' | 'rest' | 'bulk';
/**
 * With api auto, the number of pending rows from which Bulk API 2.0 is used.
 */
export type BulkThreshold = number;
/**
 * How long one request may wait for Salesforce's answer (milliseconds; Bulk API uploads get longer by their size). A request that times out is retried when that is safe; an insert is first checked for rows that landed.
 */
export type RequestTimeout1 = number;
/**
 * How long one request may keep retrying (waits for the concurrent-request limit, backoff after 5xx and network errors) before the run stops with a transient error, so a Salesforce that cannot make progress never stalls the pipeline for hours.
 */
export type RetryTimeLimit1 = number;
/**
 * The share of the org's daily API requests (all integrations together, Sforce-Limit-Info api-usage) past which this run sends nothing more: it stops cleanly with a transient error, what was written committed, before its requests would pass the share.
 */
export type APIUsageLimit = number;
/**
 * The input stream this entry consumes. May be left out when there is one entry: it then takes the input's single stream (the first one named) and bare rows; rows of any other stream are rejected (unknown_stream).
 */
export type InputStream = string;
/**
 * HubSpot: objectTypeId (2-…), fully qualified name (p123_invoices) or schema name. Salesforce: API name (Invoice__c).
 */
export type CRMObject = string;
/**
 * insert creates and never modifies; update modifies matched records and never creates; upsert does both.
 */
export type Mode = 'insert' | 'update' | 'upsert';
/**
 * The row's key column; also the key of change detection.
 */
export type KeyColumn = string;
/**
 * HubSpot: hs_object_id or a unique-value property. Salesforce: Id or an external-id field. May be left out in insert mode.
 */
export type CRMKeyField = string;
/**
 * When the field is written. always: every changed value, a null or empty one empties the CRM field. not_null: a null, absent or empty value ("", []) is never sent, so it never empties the CRM field (on_removal clear leaves it too). if_empty: written only while the CRM field is empty (new records, or an existing record whose field holds nothing); the current values are read with one call per batch, and on_removal clear leaves it. Not allowed on the match.destination field.
 */
export type WritePolicy = 'always' | 'not_null' | 'if_empty';
/**
 * API name of the object the field refers to (Account); for a polymorphic field, the one this mapping links to.
 */
export type ParentObject = string;
/**
 * External-id or idLookup field of the parent that the source value is matched against (Account_Number__c).
 */
export type ParentKeyField = string;
/**
 * Row columns to CRM fields. Left out: every row column whose name is a writable CRM field.
 */
export type FieldMapping = FieldMap[];
/**
 * contacts, companies, deals, tickets, or a custom object (name, fully qualified name or objectTypeId).
 */
export type TargetObject = string;
/**
 * The row column holding the target's key. A JSON array, or text separated by ';', links several targets; null or empty links none (and removes the links this connector made). A row without the column leaves its links as they are.
 */
export type KeyColumn1 = string;
/**
 * How the key finds the target: hs_object_id (the record id), a unique-value property of the target, or email for contacts (matched without regard to case).
 */
export type TargetKeyField = string;
/**
 * The association label's name, as HubSpot lists it for this pair of objects. Left out: HubSpot's default (unlabeled) association.
 */
export type AssociationLabel = string;
/**
 * A key no target record holds: reject rejects the row naming the key (nothing of it is written); ignore writes the row and links the targets that exist (the missing ones are looked for again by the next run).
 */
export type MissingTarget = 'reject' | 'ignore';
/**
 * HubSpot only: link each record to records of another object, found by a key the row holds. Links are part of change detection: a rerun with the same keys makes no association call; a changed key moves the link this connector made (links made by anyone else are never removed); on_removal clear removes the connector's links.
 */
export type AssociationsHubSpot = Association[];
/**
 * On a complete (full-refresh) run, what happens to records whose rows are no longer in the input: ignore stops updating them, clear empties their mapped fields, archive archives (HubSpot) or deletes (Salesforce) them.
 */
export type RowsThatLeftTheSegment = 'ignore' | 'clear' | 'archive';
/**
 * A complete run that would clear or archive more than this share of the records known for the object removes nothing and fails, naming the numbers: an empty or truncated export must not wipe the CRM. Raise it for a run that really removes that much.
 */
export type MaxRemovalPercent = number;
/**
 * One entry per sync configuration: one input stream written into one CRM object.
 *
 * @minItems 1
 */
export type Objects = ObjectSync[];
/**
 * The change-detection store (SQLite file).
 */
export type Path = string;
/**
 * A PostgreSQL store shared by runs that keep no disk between them (Airbyte pods, CronJobs): postgres://user:password@host:5432/database?schema=crm_activate. The connector creates the schema (default crm_activate) and its tables; add sslmode=require or verify-full for TLS. Takes the place of path.
 */
export type PostgreSQLURL = string;
/**
 * store: send only rows and fields whose values changed since the last successful write (kept in the state store). crm: read each batch's records back from the CRM and send only what differs there, for containers that keep no state between runs (one extra read call per batch; on_removal needs the store). off: send every row, every run.
 */
export type ChangeDetection = 'store' | 'crm' | 'off';
/**
 * Singer and JSONL runs: every run carries the whole segment, so keys absent from a run have left it (see objects[].on_removal). Airbyte says this per stream: full_refresh streams are complete.
 */
export type InputIsTheWholeSegment = boolean;
/**
 * Plan and report; write nothing to the CRM or the store.
 */
export type DryRun = boolean;
/**
 * JSONL file that receives every rejected row with its reason; each run appends its lines (stamped run_started_at), never truncating the file.
 */
export type RejectedRowsFile = string;
/**
 * Above this share of rejected rows the run ends non-zero after writing what it could.
 */
export type MaxRejectedPercent = number;
/**
 * Receives the run summary as JSON (with a Slack-compatible `text`) when a warning fires.
 */
export type WebhookURL = string;
/**
 * Permit http:// API roots on hosts other than loopback. Off by default so tokens never cross a network in clear.
 */
export type AllowPlainHTTP = boolean;
/**
 * Only jsonl: one JSON record per line.
 */
export type BatchFileFormat = 'jsonl';
/**
 * gzip or none.
 */
export type BatchFileCompression = 'gzip' | 'none';
/**
 * A file:// URL.
 */
export type BatchStorageRoot = string;
/**
 * Prepended to each batch file's name.
 */
export type BatchFilePrefix = string;

/**
 * Keeps HubSpot or Salesforce custom objects in step with a warehouse segment.
 */
export interface CrmActivate {
  crm: CRM;
  objects: Objects;
  state?: StateStore;
  change_detection?: ChangeDetection;
  complete_segment?: InputIsTheWholeSegment;
  dry_run?: DryRun;
  rejected_records_path?: RejectedRowsFile;
  warnings?: Warnings;
  allow_insecure_http?: AllowPlainHTTP;
  batch_config?: BatchConfiguration;
}
export interface HubSpot {
  type: 'hubspot';
  access_token?: PrivateAppAccessToken;
  oauth?: OAuthApp;
  base_url?: APIRoot;
  rate_limit?: RateLimit;
  request_timeout_ms?: RequestTimeout;
  max_retry_ms?: RetryTimeLimit;
}
/**
 * An OAuth app's client and a refresh token; access tokens are fetched and refreshed as they expire. Give this or `access_token`.
 */
export interface OAuthApp {
  client_id: string;
  client_secret: string;
  refresh_token: string;
}
export interface Salesforce {
  type: 'salesforce';
  login_url?: LoginURL;
  auth: Authentication;
  api_version?: APIVersion;
  api?: API;
  bulk_threshold?: BulkThreshold;
  request_timeout_ms?: RequestTimeout1;
  max_retry_ms?: RetryTimeLimit1;
  max_api_usage_percent?: APIUsageLimit;
}
export interface ClientCredentials {
  type: 'client_credentials';
  client_id: string;
  client_secret: string;
}
export interface RefreshToken {
  type: 'refresh_token';
  client_id: string;
  client_secret: string;
  refresh_token: string;
}
export interface JWTBearer {
  type: 'jwt_bearer';
  client_id: string;
  username: string;
  private_key: string;
}
export interface AccessToken {
  type: 'access_token';
  access_token: string;
  instance_url: string;
}
export interface ObjectSync {
  stream?: InputStream;
  object: CRMObject;
  mode: Mode;
  match: Matching;
  fields?: FieldMapping;
  associations?: AssociationsHubSpot;
  on_removal?: RowsThatLeftTheSegment;
  max_removal_percent?: MaxRemovalPercent;
}
/**
 * How a row finds its CRM record.
 */
export interface Matching {
  source: KeyColumn;
  destination?: CRMKeyField;
}
export interface FieldMap {
  source: string;
  destination: string;
  when?: WritePolicy;
  lookup?: Lookup;
}
/**
 * Salesforce: destination is a lookup or master-detail field, set through the parent's external-id (or idLookup) field: the source column holds the parent's key, sent with the write itself (no extra query). A row whose parent does not exist is rejected with Salesforce's own error; an empty source value clears the field. Not available on HubSpot (associations link its records).
 */
export interface Lookup {
  object: ParentObject;
  match: ParentKeyField;
}
export interface Association {
  to: TargetObject;
  source: KeyColumn1;
  match: TargetKeyField;
  label?: AssociationLabel;
  on_missing?: MissingTarget;
}
export interface StateStore {
  path?: Path;
  url?: PostgreSQLURL;
}
export interface Warnings {
  max_rejected_percent?: MaxRejectedPercent;
  webhook_url?: WebhookURL;
}
/**
 * Meltano's setting for Singer BATCH messages, accepted so a project-wide batch_config does not fail validation. The target reads the files each BATCH message lists (file:// URLs, jsonl, gzip or none) whatever this says.
 */
export interface BatchConfiguration {
  encoding?: BatchEncoding;
  storage?: BatchStorage;
}
/**
 * The format and compression of the batch files.
 */
export interface BatchEncoding {
  format?: BatchFileFormat;
  compression?: BatchFileCompression;
}
/**
 * Where the tap writes batch files; the target reads whatever file:// URL a manifest lists.
 */
export interface BatchStorage {
  root?: BatchStorageRoot;
  prefix?: BatchFilePrefix;
}
