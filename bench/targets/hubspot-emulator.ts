// The HubSpot emulator inside the emulator host. Write calls: the objects API's batch writes. For
// the links run it tells apart the benchmark object's record writes, the reads of other objects
// (association targets) and the v4 association calls (the labels GET is not one).
import { BATCH_LIMIT } from '../../emulators/hubspot/objects.js';
import { startHubSpotEmulator, type HubSpotEmulatorOptions } from '../../emulators/hubspot/index.js';
import type { EmulatorAdapter, LoggedRequest, RequestKind } from '../target.js';
import { HUBSPOT_OBJECT } from './hubspot.js';

const WRITE_CALL = /^\/crm\/v3\/objects\/[^/]+\/batch\/(create|update|upsert|archive)$/;
const BATCH_CALL = /^\/crm\/v3\/objects\/([^/]+)\/batch\/(create|update|upsert|read)$/;
const ASSOCIATION_CALL = /^\/crm\/(v4\/associations|associations\/v4)\//;

export const hubspotEmulator: EmulatorAdapter = {
  async start(options) {
    const emulator = await startHubSpotEmulator(options as HubSpotEmulatorOptions);
    const object = emulator.schema(HUBSPOT_OBJECT);
    const benchObject = new Set(object ? [object.objectTypeId, object.name, object.fullyQualifiedName] : [HUBSPOT_OBJECT]);
    const kindOf = (request: LoggedRequest): RequestKind | undefined => {
      if (request.method !== 'POST') return undefined;
      if (ASSOCIATION_CALL.test(request.path)) return 'association call';
      const [, objectType, action] = BATCH_CALL.exec(request.path) ?? [];
      if (!objectType) return undefined;
      const ours = benchObject.has(decodeURIComponent(objectType));
      if (action === 'read') return ours ? undefined : 'target read';
      return ours ? 'record write' : undefined;
    };
    return {
      url: emulator.url,
      requests: emulator.requests,
      addLatency: (ms) => emulator.injectFaults([{ kind: 'latency', ms, times: Number.MAX_SAFE_INTEGER }]),
      clearLatency: () => emulator.clearFaults(),
      recordCount: () => emulator.records(HUBSPOT_OBJECT).length,
      kindOf,
      // Through the batch create, which takes as many inputs as HubSpot's does.
      seed: (objectType, rows) => {
        for (let from = 0; from < rows.length; from += BATCH_LIMIT) emulator.seedRecords(objectType, rows.slice(from, from + BATCH_LIMIT));
      },
      close: () => emulator.close(),
    };
  },
  isWriteCall: (request) => request.method === 'POST' && WRITE_CALL.test(request.path),
};
