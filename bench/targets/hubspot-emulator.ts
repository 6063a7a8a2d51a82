// The HubSpot emulator inside the emulator host.
import { startHubSpotEmulator, type HubSpotEmulatorOptions } from '../../emulators/hubspot/index.js';
import type { EmulatorAdapter } from '../target.js';
import { HUBSPOT_OBJECT } from './hubspot.js';

const WRITE_CALL = /\/batch\/(create|update|upsert|archive)$/;

export const hubspotEmulator: EmulatorAdapter = {
  async start(options) {
    const emulator = await startHubSpotEmulator(options as HubSpotEmulatorOptions);
    return {
      url: emulator.url,
      requests: emulator.requests,
      addLatency: (ms) => emulator.injectFaults([{ kind: 'latency', ms, times: Number.MAX_SAFE_INTEGER }]),
      clearLatency: () => emulator.clearFaults(),
      recordCount: () => emulator.records(HUBSPOT_OBJECT).length,
      close: () => emulator.close(),
    };
  },
  isWriteCall: (request) => request.method === 'POST' && WRITE_CALL.test(request.path),
};
