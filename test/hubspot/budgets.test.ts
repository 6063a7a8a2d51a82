// crm.rate_limit "auto" (the default) against the budgets HubSpot reports: a private app's daily
// budget stops the run before it runs out (no request refused), with every written row's state
// emitted and none past an unwritten one; a rerun the next day finishes.
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../support/run-cli.ts';
import { airbyteInput, allStates, echoedStates, hubspotScenario, type CrmUnderTest } from '../reliability/crm-scenarios.ts';

let crm: CrmUnderTest | undefined;
afterEach(async () => {
  await crm?.close();
  crm = undefined;
});

const traceOf = (messages: Record<string, any>[]) => messages.find((m) => m.type === 'TRACE' && m.trace.type === 'ERROR')?.trace.error;

describe('HubSpot daily budget', () => {
  it('stops before the daily budget runs out: states of written rows only, the reset time in the message, no request refused', async () => {
    // Metadata takes a few requests; the budget leaves room for a few of the ten batches.
    crm = await hubspotScenario.start({ rateLimit: { max: 100, intervalMs: 1000, daily: 8 } });
    const rows = crm.rows(1000);
    const config = crm.writeConfig(tempDir(), 'upsert', { stream: 'invoices', crm: { rate_limit: 'auto' } });
    const result = await runCli(['write', '--config', config], { stdin: airbyteInput('invoices', rows, 100) });

    expect(result.code).toBe(1);
    expect(traceOf(result.messages)).toMatchObject({
      failure_type: 'transient_error',
      message: expect.stringMatching(/daily API limit is nearly reached: 8 requests a day .*rerun after midnight in the HubSpot account's time zone/),
    });
    // Stopped before: HubSpot never had to refuse a request.
    expect(crm.requests().filter((r) => r.status === 429)).toEqual([]);
    const { through, records } = echoedStates(result.messages);
    expect(through.length).toBeGreaterThan(0);
    expect(through.length).toBeLessThan(10);
    expect(through).toEqual(allStates(1000, 100).slice(0, through.length));
    expect(records).toBe(through.at(-1)! + 1);
    const held = crm.state().byKey;
    for (const row of rows.slice(0, records)) expect(held.has(crm.key(row))).toBe(true);
  });
});
