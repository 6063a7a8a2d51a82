// startSalesforceEmulator: one Salesforce org's REST API (OAuth, describe, SOQL, sObject Collections,
// Bulk API 2.0, limits) on 127.0.0.1, as strict as the real one, for tests, the benchmark and the demo.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { keepIdleConnections } from '../shared/keep-alive.js';
import { Auth } from './auth.js';
import { BulkIngest } from './bulk2.js';
import type { EmulatorContext } from './context.js';
import { FaultQueue } from './faults.js';
import { ApiUsage } from './limits.js';
import { Org } from './org.js';
import { QueryService } from './query.js';
import { seedRecords, storedRecords } from './seed.js';
import { MAX_URI_AND_HEADER_BYTES, RequestPipeline } from './server.js';
import type { RequestLogEntry, SalesforceEmulator, SalesforceEmulatorOptions } from './types.js';

export type * from './types.js';

const DEFAULTS = {
  port: 0,
  apiVersion: '62.0',
  accessTokenTtlSeconds: 7200,
  dailyApiLimit: 100_000,
  bulkProcessingDelayMs: 50,
};

export async function startSalesforceEmulator(options: SalesforceEmulatorOptions = {}): Promise<SalesforceEmulator> {
  const settings = { ...DEFAULTS, ...options };
  const org = new Org(options.objects ?? []);
  const context: EmulatorContext = {
    org,
    apiVersion: settings.apiVersion,
    dataPath: `/services/data/v${settings.apiVersion}`,
    bulkProcessingDelayMs: settings.bulkProcessingDelayMs,
  };
  let url = '';
  const auth = new Auth({
    clients: options.clients ?? [],
    ttlSeconds: settings.accessTokenTtlSeconds,
    orgId: org.orgId,
    userId: org.userId,
    baseUrl: () => url,
  });
  const usage = new ApiUsage(settings.dailyApiLimit);
  const faults = new FaultQueue(options.faultSeed);
  const bulk = new BulkIngest(context);
  const log: RequestLogEntry[] = [];
  const pipeline = new RequestPipeline({ context, usage, queries: new QueryService(context), bulk, auth, faults, log });

  // Node's own header limit would answer 431 before the emulator could tell 414 from 431.
  const server = createServer({ maxHeaderSize: 4 * MAX_URI_AND_HEADER_BYTES }, (req, res) => {
    pipeline.handle(req, res).catch((error: Error) => {
      process.stderr.write(`salesforce emulator: ${error.stack ?? error}\n`);
      res.socket?.destroy();
    });
  });
  keepIdleConnections(server);
  await new Promise<void>((resolve) => server.listen(settings.port, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    requests: log,
    clearRequests: () => void log.splice(0, log.length),
    records: (objectName) => storedRecords(org, objectName),
    seedRecords: (objectName, rows) => seedRecords(org, objectName, rows),
    issueAccessToken: () => auth.issueAccessToken(),
    expireAccessTokens: () => auth.expireAll(),
    injectFaults: (list) => faults.add(list),
    clearFaults: () => faults.clear(),
    apiCallsUsed: () => usage.count,
    holdBulkJobs: () => bulk.hold(),
    releaseBulkJobs: () => bulk.release(),
    close: () => {
      bulk.stop();
      // A request held by a latency fault must not keep the process alive.
      pipeline.stop();
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
