// The Salesforce emulator inside the emulator host. Write calls: sObject Collections requests that
// change records, and the creation of a Bulk API 2.0 job (each job carries up to 10,000 rows in one
// upload; its other requests are counted apart, as requests per job).
import { startSalesforceEmulator, type SalesforceEmulatorOptions } from '../../emulators/salesforce/index.js';
import type { EmulatorAdapter, LoggedRequest } from '../target.js';
import { SALESFORCE_OBJECT } from './salesforce.js';

const DATA = /^\/services\/data\/v[\d.]+/;
const COLLECTIONS = /^\/composite\/sobjects(\/|$)/;
const JOBS = '/jobs/ingest';

const apiPath = (request: LoggedRequest) => request.path.replace(DATA, '');
const isJobStart = (request: LoggedRequest) => request.method === 'POST' && apiPath(request) === JOBS;

export const salesforceEmulator: EmulatorAdapter = {
  async start(options) {
    const emulator = await startSalesforceEmulator(options as SalesforceEmulatorOptions);
    return {
      url: emulator.url,
      requests: emulator.requests,
      addLatency: (ms) => emulator.injectFaults([{ kind: 'latency', ms, times: Number.MAX_SAFE_INTEGER }]),
      clearLatency: () => emulator.clearFaults(),
      recordCount: () => emulator.records(SALESFORCE_OBJECT).length,
      quotaUsed: () => emulator.apiCallsUsed(),
      close: () => emulator.close(),
    };
  },
  isWriteCall: (request) => (request.method !== 'GET' && COLLECTIONS.test(apiPath(request))) || isJobStart(request),
  isJobStart,
  // The job list a run reads once before writing (leftover jobs of an interrupted run) belongs to no job.
  isJobRequest: (request) => isJobStart(request) || apiPath(request).startsWith(`${JOBS}/`),
};
