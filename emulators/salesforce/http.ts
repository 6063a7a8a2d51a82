// The request and answer forms handlers work with, so that they never touch node's http objects.
import type { IncomingHttpHeaders } from 'node:http';
import { ApiError } from './errors.js';

export interface ApiRequest {
  method: string;
  /** Path segments after /services/data/vXX.X/, trailing empty segment dropped. */
  segments: string[];
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  rawBody: string;
  contentType: string | undefined;
  /** Route parameters (':name' in the route pattern). */
  params: Record<string, string>;
}

export interface Reply {
  status: number;
  body?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export function jsonReply(status: number, body: unknown, headers?: Record<string, string>): Reply {
  return { status, body: JSON.stringify(body), contentType: 'application/json;charset=UTF-8', headers };
}

export function csvReply(body: string): Reply {
  return { status: 200, body, contentType: 'text/csv' };
}

export function emptyReply(status: 201 | 204): Reply {
  return { status };
}

export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

/** Jackson's "[line:L, column:C]" for a character offset in the body. */
export function jsonPosition(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `[line:${line}, column:${column}]`;
}

function jsonSyntaxError(raw: string, error: Error): ApiError {
  const offset = Number(/position (\d+)/.exec(error.message)?.[1] ?? raw.length);
  return new ApiError(400, 'JSON_PARSER_ERROR', `Unexpected character in JSON body at ${jsonPosition(raw, offset)}`);
}

/** The body of a JSON endpoint; the content type must say JSON, and the JSON must parse. */
export function jsonBody(request: ApiRequest): unknown {
  const type = mediaType(request.contentType);
  if (type !== '' && type !== 'application/json') {
    throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', `Content-Type header specified in HTTP request is not supported: ${type}`);
  }
  if (request.rawBody.trim() === '') throw new ApiError(400, 'JSON_PARSER_ERROR', 'The HTTP entity body is required, but this request has no entity body.');
  try {
    return JSON.parse(request.rawBody);
  } catch (error) {
    throw jsonSyntaxError(request.rawBody, error as Error);
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Where the value of the nth occurrence (0-based) of a JSON key starts, as Jackson reports it. */
export function keyPosition(text: string, key: string, nth: number): string {
  const escaped = JSON.stringify(key).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const matches = [...text.matchAll(new RegExp(`${escaped}\\s*:\\s*`, 'g'))];
  const match = matches[nth] ?? matches.at(-1);
  return jsonPosition(text, match ? match.index + match[0].length : text.length);
}
