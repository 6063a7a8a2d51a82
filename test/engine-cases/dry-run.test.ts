// Issue 12, case 5: a dry run writes nothing, so it must not tell the orchestrator to move its
// bookmark either: no STATE goes out, for Singer or Airbyte. The next real run writes every row.
import { describe, expect, it } from 'vitest';
import { byType, summaryOf } from '../support/run-cli.ts';
import { airbyte, invoice, memoryWorkspace, singer } from './support.ts';

describe('a dry run', () => {
  it('emits no Singer STATE, and the real run after it still writes every row', async () => {
    const ws = memoryWorkspace();
    const input = [singer.schema(), singer.record(invoice(1)), singer.record(invoice(2)), singer.state({ bookmark: 2 })];
    const dry = await ws.run(input, 'singer', ['--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.messages).toEqual([]);
    expect(dry.stderr).toContain('dry run: 1 state message(s) not emitted');
    expect(summaryOf(dry.stderr)['invoices:invoices']).toMatchObject({ received: 2, created: 2 });
    const real = await ws.run(input, 'singer');
    expect(real.code, real.stderr).toBe(0);
    expect(real.messages).toEqual([{ bookmark: 2 }]);
    expect(Object.keys(ws.crm().records.invoices).sort()).toEqual(['INV-1', 'INV-2']);
  });

  it('emits no Airbyte STATE, with dry_run set in the config too', async () => {
    const ws = memoryWorkspace({}, {}, { dry_run: true });
    const run = await ws.run([airbyte.record(invoice(1)), airbyte.state(1), airbyte.record(invoice(2)), airbyte.state(2)], 'airbyte');
    expect(run.code, run.stderr).toBe(0);
    expect(byType(run.messages, 'STATE')).toEqual([]);
    expect(ws.crm().writes).toEqual([]);
  });
});
