// The README's first command ends here: start the HubSpot emulator with the example invoices
// object, sync examples/hubspot/invoices.jsonl into it with the real CLI, run it again to show
// that unchanged rows cost nothing, and print what landed. No CRM account needed.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startHubSpotEmulator } from '../emulators/hubspot/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const example = (name: string) => join(root, 'examples/hubspot', name);
const token = 'pat-na1-00000000-demo-token';

const emulator = await startHubSpotEmulator({
  accessTokens: [token],
  schemas: [JSON.parse(readFileSync(example('invoices-schema.json'), 'utf8'))],
});
try {
  const work = mkdtempSync(join(tmpdir(), 'crm-activate-demo-'));
  const config = JSON.parse(readFileSync(example('config.json'), 'utf8'));
  config.crm.base_url = emulator.url;
  config.state.path = join(work, 'state.db');
  const configPath = join(work, 'config.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const rows = readFileSync(example('invoices.jsonl'));

  // The emulator lives in this process, so the CLI runs asynchronously beside it.
  const sync = async (title: string) => {
    console.log(`\n=== ${title}`);
    const before = emulator.requests.length;
    const child = spawn(process.execPath, [join(root, 'dist/src/main.js'), 'write', '--config', configPath], { stdio: ['pipe', 'inherit', 'inherit'] });
    child.stdin.end(rows);
    const status = await new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
    const calls = emulator.requests.slice(before).filter((r) => /\/batch\/(create|update|upsert|archive)$/.test(r.path)).length;
    console.log(`(exit ${status}; ${calls} write call(s) to HubSpot)`);
    return status;
  };

  console.log(`HubSpot emulator on ${emulator.url} with the custom object "invoices"; syncing ${example('invoices.jsonl')}`);
  const first = await sync('first run: every row is new');
  const second = await sync('second run: same rows, nothing changed');
  const records = emulator.records('invoices');
  console.log(`\n=== ${records.length} invoices in the emulator, for example:`);
  for (const record of records.slice(0, 3)) {
    const { invoice_number, amount, status, tags, due_date, issued_at, is_overdue } = record.properties;
    console.log(`  ${JSON.stringify({ invoice_number, amount, status, tags, due_date, issued_at, is_overdue })}`);
  }
  process.exitCode = first === 0 && second === 0 ? 0 : 1;
} finally {
  await emulator.close();
}
