// What a failed HTTP exchange that got no answer means for the write: refused before anything
// was sent (safe to send again), or timed out / cut off after the request left (the CRM may have
// applied it: only an idempotent request may be repeated blindly). Shared by every CRM module.
import { transientError, type ConnectorError } from '../../errors.js';

/** Nothing reached the CRM: the connection was never made. */
export const NOT_CONNECTED = 'connection_refused';
/** No answer within the request timeout. */
export const TIMED_OUT = 'timeout';
/** The connection broke while the request was out. */
export const CUT_OFF = 'network';
/** The CRM answered 5xx: it may have applied part of the request before failing. */
export const SERVER_ERROR = 'server_error';
/**
 * A 2xx whose body is not the answer asked for (a proxy's HTML page, a body cut off halfway, JSON
 * of another shape): the request may have been applied, and the answer is lost all the same.
 */
export const GARBLED = 'garbled_answer';

/** Why no connection was made, as a user reads it. */
const NEVER_CONNECTED: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'DNS lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};
const TIMEOUTS = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Where a request went: the URL and the setting it comes from, so a wrong one is easy to fix. */
export interface Endpoint {
  url: string;
  /** `crm.base_url`, `crm.login_url`, … */
  setting: string;
}

export function networkFailure(error: unknown, what: string, crm: string, endpoint?: Endpoint): ConnectorError {
  const { code, detail } = classify(error);
  return transientError(failureMessage(code, detail, what, crm, endpoint), { code, cause: error });
}

function failureMessage(code: string, detail: string, what: string, crm: string, endpoint: Endpoint | undefined): string {
  if (code === TIMED_OUT) return `${crm} did not answer ${what} in time (${detail})`;
  if (code === NOT_CONNECTED && endpoint) return `cannot reach ${crm} at ${displayUrl(endpoint.url)} (${endpoint.setting}): ${detail}`;
  return `network error on ${what}: ${detail}`;
}

/** A URL as it may be shown: scheme, host, port and path; never user info, query or fragment (they may hold secrets). */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return url.split(/[?#]/)[0].replace(/\/\/[^/@]*@/, '//').trim();
  }
}

/** Whether the CRM may have applied a request that failed this way. */
export function isAmbiguous(error: ConnectorError): boolean {
  return error.code === TIMED_OUT || error.code === CUT_OFF || error.code === SERVER_ERROR || error.code === GARBLED;
}

/** A 2xx answer that cannot be read: `problem` says how it differs from the expected answer. */
export function garbledAnswer(crm: string, what: string, problem: string): ConnectorError {
  return transientError(`${crm} answered ${what} with success, but not with the expected answer (${problem}); treated as a lost answer`, { code: GARBLED });
}

/** What a body that is not the expected JSON starts with, tags stripped, for the message. */
export function bodyExcerpt(text: string): string {
  const plain = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return plain === '' ? 'an empty body' : `"${plain.slice(0, 120)}${plain.length > 120 ? '…' : ''}"`;
}

function classify(error: unknown): { code: string; detail: string } {
  for (let current: unknown = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    const { name, code: raw } = current as { name?: string; code?: unknown };
    // DOMExceptions carry numeric codes; the system's are strings.
    const code = typeof raw === 'string' ? raw : undefined;
    if (name === 'TimeoutError' || (code && TIMEOUTS.has(code))) return { code: TIMED_OUT, detail: code ?? 'timed out' };
    if (code && NEVER_CONNECTED[code]) return { code: NOT_CONNECTED, detail: NEVER_CONNECTED[code] };
    // fetch will not connect to a few ports (1, 25, 6000…) at all.
    if ((current as Error).message === 'bad port') return { code: NOT_CONNECTED, detail: 'a port fetch refuses to use (bad port)' };
    if (code) return { code: CUT_OFF, detail: code };
  }
  return { code: CUT_OFF, detail: error instanceof Error ? error.message : String(error) };
}
