// With a slow CRM the connector must stop reading stdin while its in-flight work is at its bound:
// the rows the source has handed over but the CRM does not hold yet stay bounded, whatever the
// input's size, and so does memory.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../support/run-cli.ts';
import { airbyteInput, CRM_SCENARIOS, echoedStates, type CrmUnderTest } from './crm-scenarios.ts';
import { startCli } from './live-cli.ts';

const ROWS = 12_000;
/**
 * What may sit between the source and the CRM: 16 batches of 100 in flight, a change-detection
 * chunk of 500 and a batch filling, plus the pipe and stream buffers (about 150 KB, some 800
 * lines). Without backpressure the whole input would be read at once.
 */
const BOUND = 4500;
/** Every request's answer waits this long: 120 batches at 16 in flight last several seconds. */
const WRITE_LATENCY_MS = 400;

let crm: CrmUnderTest | undefined;
afterEach(async () => {
  await crm?.close();
  crm = undefined;
});

/** Undefined once the process is gone (it may exit between two samples). */
function residentMegabytes(pid: number): number | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  // A process that has exited but is not yet reaped has a status without memory lines.
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kb === undefined ? undefined : Number(kb) / 1024;
}

describe.each(CRM_SCENARIOS.map((scenario) => [scenario.name, scenario] as const))('%s backpressure', (_name, scenario) => {
  it(`reads stdin only as fast as the CRM takes rows: ${ROWS} rows with slow writes never get more than ${BOUND} ahead`, async () => {
    crm = await scenario.start();
    const config = crm.writeConfig(tempDir(), 'upsert', { stream: 'invoices' });
    // Slow enough that the whole input could be read long before the CRM holds a tenth of it.
    crm.inject([{ kind: 'latency', ms: WRITE_LATENCY_MS, times: Infinity }]);
    const live = startCli(['write', '--config', config], airbyteInput('invoices', crm.rows(ROWS), 1000));
    let widestGap = 0;
    const rssSamples: number[] = [];
    const sampler = setInterval(() => {
      widestGap = Math.max(widestGap, live.linesAccepted() - crm!.state().byKey.size);
      const rss = residentMegabytes(live.child.pid!);
      if (rss !== undefined) rssSamples.push(rss);
    }, 50);
    const result = await live.done.finally(() => clearInterval(sampler));

    expect(result.code, result.stderr).toBe(0);
    expect(crm.state().byKey.size).toBe(ROWS);
    expect(echoedStates(result.messages).records).toBe(ROWS);
    expect(widestGap).toBeGreaterThan(0);
    expect(widestGap).toBeLessThan(BOUND);
    // The run lasts seconds of slow writes: the probe saw the process, once loaded at a real size.
    expect(rssSamples.length).toBeGreaterThan(10);
    expect(Math.max(...rssSamples)).toBeGreaterThan(30);
    expect(Math.max(...rssSamples)).toBeLessThan(400);
  });
});
