// How long the emulators keep an idle connection open. Node's default (5 s) is far shorter than
// the CRMs' front ends keep theirs, and on a loaded machine (a CPU-bound test suite) a client's
// next request on a connection idle that long can meet the server closing it: an ECONNRESET the
// real APIs would not produce, which made runs stopping for another reason fail differently.
import type { Server } from 'node:http';

const IDLE_CONNECTION_MS = 60_000;

export function keepIdleConnections(server: Server): void {
  server.keepAliveTimeout = IDLE_CONNECTION_MS;
  // Node requires the headers timeout above the keep-alive timeout.
  server.headersTimeout = IDLE_CONNECTION_MS + 5_000;
}
