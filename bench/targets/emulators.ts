// Emulator adapters by crm.type, loaded lazily inside the emulator host only.
import type { EmulatorAdapter } from '../target.js';

export const EMULATORS: Record<string, () => Promise<EmulatorAdapter>> = {
  hubspot: async () => (await import('./hubspot-emulator.js')).hubspotEmulator,
  salesforce: async () => (await import('./salesforce-emulator.js')).salesforceEmulator,
};
