// The HTTP front: size limits, injected faults, OAuth, the versions list, and for API paths the
// bearer check, the daily allowance and dispatch. Every request lands in the request log.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Auth } from './auth.js';
import { ApiError, notFound } from './errors.js';
import type { FaultQueue } from './faults.js';
import { jsonReply, mediaType, type Reply } from './http.js';
import { buildRoutes, dispatch, type Services } from './routes.js';
import type { Fault, RequestLogEntry } from './types.js';

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

function faultReply(fault: Fault): Reply | undefined {
  if (fault.kind === 'limit') return new ApiError(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.').toReply();
  if (fault.kind !== 'status') return undefined;
  if (fault.status === 502) return { status: 502, body: '<html><body><h1>502 Bad Gateway</h1></body></html>', contentType: 'text/html' };
  if (fault.status === 503) return new ApiError(503, 'SERVER_UNAVAILABLE', 'Server temporarily unavailable, please try again later').toReply();
  return new ApiError(500, 'UNKNOWN_EXCEPTION', 'An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-1234567890)').toReply();
}

function versionsLabel(version: string): string {
  const n = Math.floor(Number(version)) - 60;
  const season = ((n % 3) + 3) % 3;
  const year = 24 + Math.floor(n / 3) + (season === 2 ? 1 : 0);
  return `${['Spring', 'Summer', 'Winter'][season]} '${year}`;
}

export class RequestPipeline {
  private readonly routes;

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
    const log = (status: number) => this.parts.log.push(this.logEntry(incoming, status, at));
    const refusal = sizeRefusal(req);
    if (refusal) return this.send(res, refusal, log);
    const fault = this.parts.faults.take(incoming.method, incoming.url.pathname + incoming.url.search);
    if (fault?.kind === 'latency') await new Promise((resolve) => setTimeout(resolve, fault.ms));
    if (fault?.kind === 'reset-before') return this.drop(res, log);
    if (fault?.kind === 'expire-session') this.parts.auth.expireAll();
    const injected = fault && faultReply(fault);
    if (injected) return this.send(res, injected, log);
    const reply = this.answer(incoming);
    if (fault?.kind === 'reset-after') return this.drop(res, log);
    this.send(res, reply, log);
  }

  private logEntry(incoming: Incoming, status: number, at: number): RequestLogEntry {
    const { method, url, contentType } = incoming;
    return { method, path: url.pathname, query: Object.fromEntries(url.searchParams), body: loggedBody(incoming), status, at, contentType };
  }

  private send(res: ServerResponse, reply: Reply, log: (status: number) => void): void {
    const headers: Record<string, string> = { ...reply.headers };
    if (reply.contentType) headers['Content-Type'] = reply.contentType;
    res.writeHead(reply.status, headers);
    res.end(reply.body);
    log(reply.status);
  }

  private drop(res: ServerResponse, log: (status: number) => void): void {
    res.socket?.destroy();
    log(0);
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
