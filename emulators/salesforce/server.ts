// The HTTP front: size limits, injected faults, OAuth, the versions list, and for API paths the
// bearer check, the daily allowance and dispatch. Every request lands in the request log.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Auth } from './auth.js';
import { ApiError, notFound } from './errors.js';
import type { FaultQueue } from './faults.js';
import { jsonReply, mediaType, type Reply } from './http.js';
import { buildRoutes, dispatch, type Services } from './routes.js';
import type { Fault, RequestLogEntry } from './types.js';
import { garbledAnswer } from '../shared/garbled.js';

/** Salesforce refuses a URI, or a URI plus headers, longer than this many bytes. */
export const MAX_URI_AND_HEADER_BYTES = 16_384;
const TOKEN_PATH = '/services/oauth2/token';
const VERSIONS_PATHS = ['/services/data', '/services/data/'];

export interface ServerParts extends Services {
  auth: Auth;
  faults: FaultQueue;
  log: RequestLogEntry[];
}

interface Incoming {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  rawBody: string;
  contentType: string | undefined;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function loggedBody(incoming: Incoming): unknown {
  if (incoming.rawBody === '') return undefined;
  const type = mediaType(incoming.contentType);
  if (type === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(incoming.rawBody));
  if (type === 'application/json' || type === '') {
    try {
      return JSON.parse(incoming.rawBody);
    } catch {
      return incoming.rawBody;
    }
  }
  return incoming.rawBody;
}

function headerBytes(req: IncomingMessage): number {
  let total = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) total += req.rawHeaders[i].length + req.rawHeaders[i + 1].length + 4;
  return total;
}

/** 414 when the URI alone is too long, 431 when URI and headers together are. */
function sizeRefusal(req: IncomingMessage): Reply | undefined {
  const uriBytes = Buffer.byteLength(req.url ?? '');
  const page = (title: string): Reply => ({ status: Number(title.slice(0, 3)), body: `<html><head><title>${title}</title></head><body><h1>${title}</h1></body></html>`, contentType: 'text/html' });
  if (uriBytes > MAX_URI_AND_HEADER_BYTES) return page('414 URI Too Long');
  if (uriBytes + headerBytes(req) > MAX_URI_AND_HEADER_BYTES) return page('431 Request Header Fields Too Large');
  return undefined;
}

const EDGE_PAGES: Record<number, string> = { 502: '502 Bad Gateway', 504: '504 Gateway Timeout' };

/** What a careless proxy would put in an error body: the request's credentials and data. */
function echoOf(incoming: Incoming): string {
  return ` (${incoming.method} ${incoming.url.pathname}${incoming.url.search} with ${incoming.headers.authorization ?? 'no Authorization'} and body ${incoming.rawBody})`;
}

function faultReply(fault: Fault, incoming: Incoming): Reply | undefined {
  if (fault.kind === 'limit') {
    const message = fault.limit === 'concurrent' ? 'ConcurrentRequests (Concurrent API Requests) Limit exceeded.' : 'TotalRequests Limit exceeded.';
    return new ApiError(403, 'REQUEST_LIMIT_EXCEEDED', message).toReply();
  }
  if (fault.kind !== 'status') return undefined;
  const echo = fault.echoRequest ? echoOf(incoming) : '';
  const headers = fault.retryAfterSeconds !== undefined ? { 'Retry-After': String(fault.retryAfterSeconds) } : undefined;
  const edge = EDGE_PAGES[fault.status];
  if (edge) return { status: fault.status, body: `<html><body><h1>${edge}</h1>${echo}</body></html>`, contentType: 'text/html', headers };
  if (incoming.url.pathname.startsWith(TOKEN_PATH) && (fault.status === 400 || fault.status === 401)) {
    const body = fault.status === 400
      ? { error: 'invalid_grant', error_description: `expired access/refresh token${echo}` }
      : { error: 'invalid_client', error_description: `invalid client credentials${echo}` };
    return { ...jsonReply(fault.status, body), headers };
  }
  const [errorCode, message] = ({
    400: ['JSON_PARSER_ERROR', 'Unexpected character in JSON body'],
    401: ['INVALID_SESSION_ID', 'Session expired or invalid'],
    403: ['INSUFFICIENT_ACCESS', 'insufficient access rights on object id'],
    500: ['UNKNOWN_EXCEPTION', 'An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-1234567890)'],
    503: ['SERVER_UNAVAILABLE', 'Server temporarily unavailable, please try again later'],
  } as Record<number, [string, string]>)[fault.status];
  return { ...new ApiError(fault.status, errorCode, `${message}${echo}`).toReply(), headers };
}

function versionsLabel(version: string): string {
  const n = Math.floor(Number(version)) - 60;
  const season = ((n % 3) + 3) % 3;
  const year = 24 + Math.floor(n / 3) + (season === 2 ? 1 : 0);
  return `${['Spring', 'Summer', 'Winter'][season]} '${year}`;
}

export class RequestPipeline {
  private readonly routes;
  private readonly sleeping = new Set<NodeJS.Timeout>();

  constructor(private readonly parts: ServerParts) {
    this.routes = buildRoutes(parts);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const incoming: Incoming = {
      method: (req.method ?? 'GET').toUpperCase(),
      url: new URL(req.url ?? '/', 'http://emulator.local'),
      headers: req.headers,
      rawBody: await readBody(req),
      contentType: req.headers['content-type'],
    };
    // Logged on arrival, answered later: the log is in the order requests came in.
    const entry = this.logEntry(incoming, 0, at);
    this.parts.log.push(entry);
    const refusal = sizeRefusal(req);
    if (refusal) return this.send(res, refusal, entry);
    const fault = this.parts.faults.take(incoming.method, incoming.url.pathname + incoming.url.search);
    if (fault?.kind === 'latency') await this.pause(fault.ms);
    if (fault?.kind === 'reset-before') return this.drop(res);
    if (fault?.kind === 'expire-session') this.parts.auth.expireAll();
    const injected = fault && faultReply(fault, incoming);
    if (injected) return this.send(res, injected, entry);
    const reply = this.answer(incoming);
    if (fault?.kind === 'reset-after') return this.drop(res);
    if (fault?.kind === 'garbled') {
      const garbled = garbledAnswer(fault.body, reply.status, reply.body ?? '');
      return this.send(res, { status: garbled.status, body: garbled.text, contentType: garbled.contentType, headers: reply.headers }, entry);
    }
    this.send(res, reply, entry);
  }

  /** Ends the requests a latency fault still holds (the emulator is closing). */
  stop(): void {
    this.sleeping.forEach(clearTimeout);
    this.sleeping.clear();
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleeping.delete(timer);
        resolve();
      }, ms);
      this.sleeping.add(timer);
    });
  }

  private logEntry(incoming: Incoming, status: number, at: number): RequestLogEntry {
    const { method, url, contentType } = incoming;
    return { method, path: url.pathname, query: Object.fromEntries(url.searchParams), body: loggedBody(incoming), rawBody: incoming.rawBody, status, at, contentType };
  }

  private send(res: ServerResponse, reply: Reply, entry: RequestLogEntry): void {
    const headers: Record<string, string> = { ...reply.headers };
    if (reply.contentType) headers['Content-Type'] = reply.contentType;
    res.writeHead(reply.status, headers);
    res.end(reply.body);
    entry.status = reply.status;
  }

  private drop(res: ServerResponse): void {
    res.socket?.destroy();
  }

  private answer(incoming: Incoming): Reply {
    try {
      return this.route(incoming);
    } catch (error) {
      if (error instanceof ApiError) return error.toReply();
      process.stderr.write(`salesforce emulator: ${(error as Error).stack ?? error}\n`);
      return new ApiError(500, 'UNKNOWN_EXCEPTION', 'An unexpected error occurred.').toReply();
    }
  }

  private route(incoming: Incoming): Reply {
    const path = incoming.url.pathname;
    if (path === TOKEN_PATH || path === `${TOKEN_PATH}/`) return this.token(incoming);
    if (VERSIONS_PATHS.includes(path) && incoming.method === 'GET') return this.versions();
    if (!path.startsWith('/services/data/v')) throw notFound();
    return this.api(incoming);
  }

  private token(incoming: Incoming): Reply {
    if (incoming.method !== 'POST') throw new ApiError(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${incoming.method}' not allowed. Allowed are POST`);
    const form = mediaType(incoming.contentType) === 'application/x-www-form-urlencoded' ? new URLSearchParams(incoming.rawBody) : new URLSearchParams();
    const answer = this.parts.auth.tokenRequest(form, incoming.headers.authorization);
    return jsonReply(answer.status, answer.body);
  }

  private versions(): Reply {
    const { apiVersion, dataPath } = this.parts.context;
    return jsonReply(200, [{ label: versionsLabel(apiVersion), url: dataPath, version: apiVersion }]);
  }

  private api(incoming: Incoming): Reply {
    this.parts.auth.verifyBearer(incoming.headers.authorization);
    const reply = this.countedCall(incoming);
    return { ...reply, headers: { ...reply.headers, 'Sforce-Limit-Info': this.parts.usage.header() } };
  }

  /** An authenticated call: counted against the allowance (or refused by it), then dispatched. */
  private countedCall(incoming: Incoming): Reply {
    try {
      this.parts.usage.consume();
      const { dataPath } = this.parts.context;
      const path = incoming.url.pathname;
      if (path !== dataPath && !path.startsWith(`${dataPath}/`)) throw notFound();
      // Inner empty segments stay (and match nothing); a trailing slash is ignored.
      const segments = path.slice(dataPath.length).split('/').filter((s, i, all) => s !== '' || (i > 0 && i < all.length - 1));
      return dispatch(this.routes, { ...incoming, segments, query: incoming.url.searchParams, params: {} });
    } catch (error) {
      if (error instanceof ApiError) return error.toReply();
      throw error;
    }
  }
}
