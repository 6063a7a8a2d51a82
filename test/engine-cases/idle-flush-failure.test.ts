// A source that goes quiet makes the engine send what it holds (the idle flush). When that work
// fails (change_detection "crm" cannot read the CRM back), the run must stop like any failure: a
// TRACE naming the cause, exit 1, no STATE past the unsent rows. Before, the failure was an
// unhandled rejection: the process died with a raw stack and no TRACE.
import { afterEach, describe, expect, it } from 'vitest';
import type { HubSpotEmulator } from '../../emulators/hubspot/index.ts';
import { errorTraces, tempDir, writeJson } from '../support/run-cli.ts';
import { startCli, until } from '../reliability/live-cli.ts';
import { invoiceRows, startEmulator, TOKEN } from '../hubspot/support.ts';

let emulator: HubSpotEmulator;
afterEach(async () => { await emulator?.close(); });

describe('a failure while the input is idle', () => {
  it('stops the run with a TRACE and no STATE past the unsent rows, instead of crashing', async () => {
    emulator = await startEmulator();
    const config = writeJson(tempDir(), 'config.json', {
      crm: { type: 'hubspot', access_token: TOKEN, base_url: emulator.url, max_retry_ms: 300 },
      objects: [{ stream: 'invoices', object: 'invoices', mode: 'upsert', match: { source: 'invoice_id', destination: 'invoice_number' } }],
      change_detection: 'crm',
    });
    // Every read-back fails; nothing can be compared, so nothing may be written or checkpointed.
    emulator.injectFaults([{ kind: 'status', status: 500, match: { pathIncludes: '/batch/read' }, times: Infinity }]);
    const lines = invoiceRows(30).map((data) => JSON.stringify({ type: 'RECORD', record: { stream: 'invoices', data, emitted_at: 0 } }));
    lines.push(JSON.stringify({ type: 'STATE', state: { type: 'STREAM', stream: { stream_descriptor: { name: 'invoices' }, stream_state: { through: 29 } } } }));
    // The source stays connected and quiet: only the idle flush sends the 30 rows.
    const live = startCli(['write', '--config', config], lines, {}, { keepStdinOpen: true });
    await until(() => live.child.exitCode !== null || emulator.requests.some((r) => r.path.endsWith('/batch/read')), 'the idle flush reads the CRM');
    const run = await Promise.race([live.done, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still running:\n${live.stderr()}`)), 30_000))]).finally(() => live.child.kill('SIGKILL'));
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.code).toBe(1);
    expect(errorTraces(run.messages)).toHaveLength(1);
    expect(errorTraces(run.messages)[0].trace.error.failure_type).toBe('transient_error');
    expect(run.messages.filter((m) => m.type === 'STATE')).toEqual([]);
    expect(emulator.records('invoices')).toEqual([]);
  });
});
