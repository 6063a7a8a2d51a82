// Per-request timeouts for clients built on node:http (the HubSpot typed client, jsforce): a
// socket that stays silent past the timeout is destroyed, which fails the request it carries, so
// a hung server cannot hang the run. Requests we send with fetch use an AbortSignal instead.
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';

export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

export function timeoutAgent(baseUrl: string, timeoutMs: number): http.Agent {
  const Base = baseUrl.startsWith('https:') ? https.Agent : http.Agent;
  class TimeoutAgent extends Base {
    override createConnection(...args: Parameters<http.Agent['createConnection']>): Duplex {
      const socket = super.createConnection(...args) as Duplex;
      // The agent keeps `timeout` armed on the socket across reuses; the default reaction is none.
      socket.on('timeout', () => socket.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      return socket;
    }
  }
  return new TimeoutAgent({ keepAlive: true, timeout: timeoutMs });
}
