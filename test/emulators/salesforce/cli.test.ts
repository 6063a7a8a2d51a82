// The emulator's command line, as the demo and the benchmark start it (from the build, like the
// product's own CLI tests): one JSON line with the URL on stdout, a clean stop on SIGTERM.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { expect, it } from 'vitest';
import { INVOICE } from './fixtures.ts';

const MAIN = fileURLToPath(new URL('../../../dist/emulators/salesforce/main.js', import.meta.url));

it('starts from the command line, serves the configured org, and stops on SIGTERM', async () => {
  const objectsFile = join(mkdtempSync(join(tmpdir(), 'sf-emulator-')), 'objects.json');
  writeFileSync(objectsFile, JSON.stringify([INVOICE]));
  const child = spawn(process.execPath, [MAIN, '--port', '0', '--objects', objectsFile, '--client-id', 'cli-id', '--client-secret', 'cli-secret'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  try {
    const firstLine = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
    const { url } = JSON.parse(firstLine) as { url: string };
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: 'cli-id', client_secret: 'cli-secret' });
    const token = await (await fetch(`${url}/services/oauth2/token`, { method: 'POST', body: form })).json();
    const described = await fetch(`${url}/services/data/v62.0/sobjects/Invoice__c/describe`, { headers: { Authorization: `Bearer ${token.access_token}` } });
    expect((await described.json()).name).toBe('Invoice__c');
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
});
