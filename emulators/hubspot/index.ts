// A HubSpot CRM v3 emulator for one portal: a real HTTP server on 127.0.0.1 that the official
// client talks to unchanged. Tests, the benchmark and the demo run the product against it.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { typeView } from './association-types.js';
import { associationsRoute, liveLinks, recordAssociationsRoute } from './associations.js';
import { correlationId, HubSpotError, validationError } from './errors.js';
import { batchArchive, batchRead, batchWrite } from './objects.js';
import { Portal } from './portal.js';
import { RateLimiter, type Caller, type RateLimitOptions } from './rate-limit.js';
import { archiveRecord, createRecord, listRecords, readRecord, updateRecord } from './records.js';
import { propertiesRoute, schemasRoute } from './schemas.js';
import { search } from './search.js';
import type { Fault, ObjectSchemaEgg, Reply, RequestLogEntry, StoredRecord, StoredSchema } from './types.js';
import { keepIdleConnections } from '../shared/keep-alive.js';
import { garbledAnswer, type GarbledAnswer } from '../shared/garbled.js';
import { seededRandom } from '../shared/seeded-random.js';

export type { Fault, ObjectSchemaEgg, RequestLogEntry, StoredRecord, StoredSchema } from './types.js';

export interface HubSpotEmulatorOptions {
  port?: number;
  portalId?: number;
  accessTokens?: string[];
  /** rotateRefreshTokens: each refresh answers a new refresh token and retires the one it used. */
  oauth?: { clientId: string; clientSecret: string; refreshToken: string; accessTokenTtlSeconds?: number; rotateRefreshTokens?: boolean };
  rateLimit?: RateLimitOptions;
  schemas?: ObjectSchemaEgg[];
  /** Seeds the random draws of faults with a `probability`, so a failing run can be replayed. */
  faultSeed?: number;
  /** How long after its creation a record stays invisible to search (HubSpot's index lags). */
  searchLagMs?: number;
}

export interface HubSpotEmulator {
  url: string;
  portalId: number;
  requests: RequestLogEntry[];
  clearRequests(): void;
  records(objectType: string): StoredRecord[];
  seedRecords(objectType: string, rows: Record<string, string>[]): StoredRecord[];
  /** HubSpot's merge: `mergedId` disappears and now answers for `primaryId`. */
  mergeRecords(objectType: string, primaryId: string, mergedId: string): void;
  schema(objectType: string): StoredSchema | undefined;
  /** The records `fromId` is associated with, with every association type of each link (v4's view). */
  associations(fromType: string, fromId: string, toType?: string): AssociationView[];
  /** The association types (labels) from one object type to another, as the v4 labels endpoint lists them. */
  associationLabels(fromType: string, toType: string): { category: string; typeId: number; label: string | null }[];
  expireAccessTokens(): void;
  /** The refresh token that works now (it changes when tokens rotate). */
  refreshToken(): string;
  injectFaults(faults: Fault[]): void;
  clearFaults(): void;
  close(): Promise<void>;
}

export async function startHubSpotEmulator(options: HubSpotEmulatorOptions = {}): Promise<HubSpotEmulator> {
  const portal = new Portal(options.portalId ?? 12345678);
  for (const egg of options.schemas ?? []) portal.createSchema(structuredClone(egg));
  const staticTokens = new Set(options.accessTokens ?? ['pat-test-token']);
  const issuedTokens = new Map<string, number>();
  let currentRefreshToken = options.oauth?.refreshToken ?? '';
  const limiter = new RateLimiter(options.rateLimit ?? { max: 100, intervalMs: 10_000 });
  const requests: RequestLogEntry[] = [];
  const faults: ArmedFault[] = [];
  const random = seededRandom(options.faultSeed ?? 1);
  const sleeping = new Set<NodeJS.Timeout>();

  const server = createServer((req, res) => void handle(req, res));
  let apiRootUrl = '';
  const apiRoot = () => apiRootUrl;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const raw = await readBody(req);
    const entry: RequestLogEntry = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), body: parseBody(raw, req.headers['content-type']), status: 0, at: Date.now() };
    requests.push(entry);
    const fault = takeFault(entry);
    if (fault?.kind === 'latency') await pause(fault.ms);
    if (fault?.kind === 'meanwhile') fault.happen();
    if (fault?.kind === 'reset-before') return void req.socket.destroy();
    if (fault?.kind === 'status') return send(res, entry, faultReply(fault, req, raw));
    if (fault?.kind === 'expire-tokens') issuedTokens.clear();
    const reply = route(req, url, entry.body, raw);
    if (fault?.kind === 'reset-after') return void req.socket.destroy();
    if (fault?.kind === 'garbled') return sendGarbled(res, entry, garbledAnswer(fault.body, reply.status, JSON.stringify(reply.body ?? {})));
    send(res, entry, reply);
  }

  function route(req: IncomingMessage, url: URL, body: any, raw: string): Reply {
    try {
      if (url.pathname === '/oauth/v1/token' || url.pathname === '/oauth/v3/token') return token(req.method, body);
      const caller = authenticate(req.headers.authorization);
      // Search answers carry no rate-limit headers (as recorded): it has a budget of its own.
      const limit = url.pathname.endsWith('/search') ? limiter.checkSearch(caller) : limiter.check(caller);
      if (!limit.ok) return rateLimited(limit.policyName, limit.headers);
      if (raw !== '' && body === undefined) throw validationError('Invalid input JSON: the body is not JSON');
      const reply = crm(req.method ?? 'GET', url, body);
      return { ...reply, headers: { ...limit.headers, ...reply.headers } };
    } catch (error) {
      if (error instanceof HubSpotError) return { status: error.status, body: error.body(correlationId()) };
      return { status: 500, body: { status: 'error', message: String(error), correlationId: correlationId(), category: 'INTERNAL_ERROR' } };
    }
  }

  /** The app a valid token belongs to: a private app's token is the app; every issued token is the OAuth app's. */
  function authenticate(header: string | undefined): Caller {
    const token = /^Bearer (.+)$/.exec(header ?? '')?.[1];
    const expiresAt = token ? issuedTokens.get(token) : undefined;
    if (token && staticTokens.has(token)) return { app: `private:${token}`, privateApp: true };
    if (token && expiresAt !== undefined && expiresAt > Date.now()) return { app: `oauth:${options.oauth?.clientId}`, privateApp: false };
    throw new HubSpotError(401, 'INVALID_AUTHENTICATION', 'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview');
  }

  function token(method: string | undefined, body: Record<string, string> | undefined): Reply {
    const oauth = options.oauth && { ...options.oauth, refreshToken: currentRefreshToken };
    if (method !== 'POST') throw new HubSpotError(405, 'METHOD_NOT_ALLOWED', 'POST only');
    const valid = oauth && body?.grant_type === 'refresh_token' && body.client_id === oauth.clientId && body.client_secret === oauth.clientSecret && body.refresh_token === oauth.refreshToken;
    if (!valid) return { status: 400, body: { status: 'BAD_REFRESH_TOKEN', message: 'missing or invalid refresh token', correlationId: correlationId() } };
    const ttl = oauth.accessTokenTtlSeconds ?? 1800;
    if (oauth.rotateRefreshTokens) currentRefreshToken = `emu-refresh-${randomBytes(12).toString('hex')}`;
    const access = `emu-${randomBytes(12).toString('hex')}`;
    issuedTokens.set(access, Date.now() + ttl * 1000);
    return { status: 200, body: { token_type: 'bearer', access_token: access, refresh_token: currentRefreshToken, expires_in: ttl, hub_id: portal.portalId, scopes: ['crm.objects.custom.read', 'crm.objects.custom.write', 'crm.schemas.custom.read'], token_use: 'access_token' } };
  }

  function crm(method: string, url: URL, body: any): Reply {
    const parts = url.pathname.split('/').filter(Boolean);
    if (url.pathname.startsWith('/crm/v3/schemas')) return schemasRoute(portal, method, parts.slice(3), body);
    if (url.pathname.startsWith('/crm-object-schemas/v3/schemas')) return schemasRoute(portal, method, parts.slice(3), body);
    if (parts[0] === 'crm' && parts[1] === 'v3' && parts[2] === 'properties' && parts[3]) return propertiesRoute(method, requireSchema(parts[3]), parts[4]);
    if (parts[0] === 'crm' && parts[1] === 'v3' && parts[2] === 'objects' && parts[3]) return objects(method, requireSchema(parts[3]), parts.slice(4), body, url.searchParams);
    // Associations v4; the schema API's labels are also served under /crm/associations/v4.
    const v4 = parts[0] === 'crm' && ((parts[1] === 'v4' && parts[2] === 'associations') || (parts[1] === 'associations' && parts[2] === 'v4'));
    if (v4 && parts[3] && parts[4]) return associationsRoute(portal, method, requireSchema(parts[3]), requireSchema(parts[4]), parts.slice(5), body);
    if (parts[0] === 'crm' && parts[1] === 'v4' && parts[2] === 'objects' && parts[3] && parts[4] && parts[5] === 'associations') {
      return recordAssociationsRoute(portal, method, requireSchema(parts[3]), parts[4], parts.slice(6), body, requireSchema);
    }
    throw new HubSpotError(404, 'OBJECT_NOT_FOUND', `No route for ${method} ${url.pathname}`);
  }

  function objects(method: string, schema: StoredSchema, rest: string[], body: any, query: URLSearchParams): Reply {
    if (rest[0] === 'batch' && method === 'POST') {
      switch (rest[1]) {
        case 'create': case 'update': case 'upsert': return batchWrite(portal, schema, rest[1], body);
        case 'read': return batchRead(portal, schema, body, query.get('archived') === 'true');
        case 'archive': return batchArchive(portal, schema, body);
      }
    }
    if (rest.length === 1 && rest[0] === 'search' && method === 'POST') return search(portal, schema, body, options.searchLagMs);
    if (rest.length === 0 && method === 'GET') return listRecords(portal, schema, query);
    if (rest.length === 0 && method === 'POST') return createRecord(portal, schema, body, apiRoot());
    if (rest.length === 1 && method === 'GET') return readRecord(portal, schema, rest[0], query);
    if (rest.length === 1 && method === 'PATCH') return updateRecord(portal, schema, rest[0], body, query);
    if (rest.length === 1 && method === 'DELETE') return archiveRecord(portal, schema, rest[0]);
    throw new HubSpotError(405, 'METHOD_NOT_ALLOWED', `${method} /${rest.join('/')} is not supported by the emulator`);
  }

  function requireSchema(objectType: string): StoredSchema {
    const schema = portal.schemaForApi(decodeURIComponent(objectType));
    if (!schema) throw new HubSpotError(400, 'VALIDATION_ERROR', `Unable to infer object type from: ${objectType}`);
    return schema;
  }

  function rateLimited(policyName: string, headers: Record<string, string>): Reply {
    const message = `You have reached your ${policyName.toLowerCase()} limit.`;
    return { status: 429, headers, body: { status: 'error', message, errorType: 'RATE_LIMIT', correlationId: correlationId(), policyName, requestId: randomBytes(16).toString('hex') } };
  }

  function faultReply(fault: Extract<Fault, { kind: 'status' }>, req: IncomingMessage, raw: string): Reply {
    if (fault.status === 429) {
      const reply = rateLimited(fault.policyName ?? 'TEN_SECONDLY_ROLLING', {});
      return fault.retryAfterSeconds !== undefined ? { ...reply, headers: { 'retry-after': String(fault.retryAfterSeconds) } } : reply;
    }
    const category = FAULT_CATEGORIES[fault.status] ?? 'INTERNAL_ERROR';
    const echoed = fault.echoRequest ? `: ${req.method} ${req.url} with ${req.headers.authorization ?? 'no Authorization'} and body ${raw}` : '';
    const body: Record<string, unknown> = { status: 'error', message: `${category.toLowerCase().replace(/_/g, ' ')}${echoed}`, correlationId: correlationId(), category };
    if (fault.echoRequest) body.context = { authorization: [req.headers.authorization ?? ''], url: [req.url ?? ''] };
    return { status: fault.status, body };
  }

  /** Every armed fault that matches counts the request; the first one due fires. */
  function takeFault(entry: RequestLogEntry): Fault | undefined {
    let due: ArmedFault | undefined;
    for (const fault of faults) {
      const { method, pathIncludes, pathMatches } = fault.match ?? {};
      if ((method && method !== entry.method) || (pathIncludes && !entry.path.includes(pathIncludes)) || (pathMatches && !new RegExp(pathMatches).test(entry.path))) continue;
      fault.seen += 1;
      const fires = fault.every !== undefined ? fault.seen % fault.every === 0 : fault.probability !== undefined ? random() < fault.probability : true;
      if (fires && !due) due = fault;
    }
    if (!due) return undefined;
    due.left -= 1;
    if (due.left <= 0) faults.splice(faults.indexOf(due), 1);
    return due;
  }

  function pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        sleeping.delete(timer);
        resolve();
      }, ms);
      sleeping.add(timer);
    });
  }

  function send(res: ServerResponse, entry: RequestLogEntry, reply: Reply): void {
    entry.status = reply.status;
    const headers: Record<string, string> = { 'x-hubspot-correlation-id': correlationId(), ...reply.headers };
    if (reply.body === undefined) {
      res.writeHead(reply.status, headers).end();
      return;
    }
    res.writeHead(reply.status, { ...headers, 'content-type': 'application/json;charset=utf-8' }).end(JSON.stringify(reply.body));
  }

  function sendGarbled(res: ServerResponse, entry: RequestLogEntry, answer: GarbledAnswer): void {
    entry.status = answer.status;
    res.writeHead(answer.status, { 'x-hubspot-correlation-id': correlationId(), 'content-type': answer.contentType }).end(answer.text);
  }

  function existingSchema(objectType: string): StoredSchema {
    const schema = portal.schema(objectType) ?? portal.schemaForApi(objectType);
    if (!schema) throw new Error(`no object ${objectType}`);
    return schema;
  }

  keepIdleConnections(server);
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  apiRootUrl = `http://127.0.0.1:${port}`;

  return {
    url: apiRootUrl,
    portalId: portal.portalId,
    requests,
    clearRequests: () => void requests.splice(0),
    records: (objectType) => {
      const schema = portal.schema(objectType);
      return schema ? [...portal.recordsOf(schema).values()].filter((r) => !r.archived) : [];
    },
    seedRecords: (objectType, rows) => {
      const schema = existingSchema(objectType);
      const reply = batchWrite(portal, schema, 'create', { inputs: rows.map((properties) => ({ properties })) });
      if (reply.status !== 201) throw new Error(`seed refused: ${JSON.stringify(reply.body)}`);
      return (reply.body as { results: { id: string }[] }).results.map((r) => portal.recordsOf(schema).get(r.id)!);
    },
    mergeRecords: (objectType, primaryId, mergedId) => portal.merge(portal.schema(objectType)!, primaryId, mergedId),
    schema: (objectType) => portal.schema(objectType),
    associations: (fromType, fromId, toType) => {
      const toSchema = toType === undefined ? undefined : existingSchema(toType);
      return liveLinks(portal, { schema: existingSchema(fromType), id: fromId }, toSchema).map(({ to, types }) => ({
        toObjectTypeId: to.schema.objectTypeId, toObjectId: to.id, types: types.map(typeView),
      }));
    },
    associationLabels: (fromType, toType) => portal.associationTypes.between(existingSchema(fromType), existingSchema(toType)).map(typeView),
    expireAccessTokens: () => issuedTokens.clear(),
    refreshToken: () => currentRefreshToken,
    injectFaults: (list) => faults.push(...list.map((f) => ({ ...f, left: f.times ?? 1, seen: 0 }))),
    clearFaults: () => void faults.splice(0),
    close: () => new Promise<void>((resolve) => {
      // A request held by a latency fault must not keep the test process alive.
      sleeping.forEach((timer) => clearTimeout(timer));
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

type ArmedFault = Fault & { left: number; seen: number };

export interface AssociationView {
  toObjectTypeId: string;
  toObjectId: string;
  types: { category: string; typeId: number; label: string | null }[];
}

const FAULT_CATEGORIES: Record<number, string> = { 400: 'VALIDATION_ERROR', 401: 'INVALID_AUTHENTICATION', 403: 'MISSING_SCOPES' };

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (data += chunk)).on('end', () => resolve(data)).on('error', reject);
  });
}

function parseBody(raw: string, contentType: string | undefined): any {
  if (raw === '') return undefined;
  if ((contentType ?? '').includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(raw));
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
