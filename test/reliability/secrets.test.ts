// No secret of the config reaches stdout, stderr, the run report or the rejected-rows file: not
// on success, not when the CRM refuses the credentials, not when an error body echoes the
// Authorization header or the OAuth form (as a careless proxy would), not for access tokens the
// connector fetched at run time.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, tempDir, type CliRun } from '../support/run-cli.ts';
import { CRM_SCENARIOS, type CrmFault, type CrmUnderTest, type StartOptions } from './crm-scenarios.ts';

const WEBHOOK_SECRET = 'hook-path-3b7e9d1f5a';

let crm: CrmUnderTest | undefined;
let webhook: Server | undefined;
afterEach(async () => {
  await crm?.close();
  webhook?.close();
  crm = undefined;
  webhook = undefined;
});

/** A webhook that refuses, echoing its own URL (it is a secret of the config). */
async function refusingWebhook(): Promise<string> {
  webhook = createServer((req, res) => {
    req.resume();
    res.writeHead(500).end(`no thanks, ${req.url}`);
  }).listen(0, '127.0.0.1');
  await once(webhook, 'listening');
  return `http://127.0.0.1:${(webhook.address() as { port: number }).port}/hooks/${WEBHOOK_SECRET}`;
}

interface Outputs {
  runs: CliRun[];
  files: string[];
}

function expectNoSecrets(outputs: Outputs, secrets: string[], issued: RegExp): void {
  const texts = [
    ...outputs.runs.flatMap((run, i) => [[`run ${i} stdout`, run.stdout], [`run ${i} stderr`, run.stderr]]),
    ...outputs.files.map((path) => [path, readFileSync(path, 'utf8')]),
  ];
  // Every file named was written: a scan of a file that never existed would prove nothing.
  for (const [path, text] of texts.slice(outputs.runs.length * 2)) expect(text.length, `${path} is empty`).toBeGreaterThan(0);
  expect(texts.length).toBeGreaterThan(0);
  for (const [where, text] of texts) {
    for (const secret of secrets) expect(text.includes(secret), `${where} holds ${secret}`).toBe(false);
    expect(text, where).not.toMatch(issued);
  }
}

describe.each(CRM_SCENARIOS.map((scenario) => [scenario.name, scenario] as const))('%s secrets', (_name, scenario) => {
  async function writeRun(start: StartOptions, faults: CrmFault[], crmOverride: Record<string, unknown> = {}) {
    crm = await scenario.start(start);
    const dir = tempDir();
    const files = [join(dir, 'rejected.jsonl'), join(dir, 'report.json')];
    const hook = await refusingWebhook();
    const config = crm.writeConfig(dir, 'upsert', {
      crm: crmOverride,
      config: { rejected_records_path: files[0], warnings: { max_rejected_percent: 0, webhook_url: hook } },
    });
    crm.inject(faults);
    const rows = [...crm.rows(250), { ...crm.rows(1, 900)[0], amount: 'not a number' }];
    const run = await runCli(['write', '--config', config, '--report', files[1]], { stdin: rows.map((row) => JSON.stringify(row)) });
    return { run, files, config, crm };
  }

  it('check, discover and a write that warns (webhook refused) print no secret', async () => {
    const { run, files, config, crm } = await writeRun({}, []);
    expect(run.code).toBe(1); // above warnings.max_rejected_percent
    expect(run.stderr).toContain('the warning webhook failed');
    const check = await runCli(['check', '--config', config]);
    const discover = await runCli(['discover', '--config', config]);
    expect(check.messages[0].connectionStatus.status).toBe('SUCCEEDED');
    expect(discover.code).toBe(0);
    expectNoSecrets({ runs: [run, check, discover], files }, [...crm.secrets, WEBHOOK_SECRET], crm.issuedTokens);
  });

  it('refuses plain http:// to a remote CRM or webhook unless allow_insecure_http is set', async () => {
    crm = await scenario.start();
    const dir = tempDir();
    const remote = { crm: { [crm.apiRootSetting]: 'http://crm.example.com' }, config: { warnings: { webhook_url: 'http://hooks.example.com/x' } } };
    const check = await runCli(['check', '--config', crm.writeConfig(dir, 'upsert', remote)]);
    const message: string = check.messages[0].connectionStatus.message;
    expect(message).toContain(`crm.${crm.apiRootSetting} uses plain http:// on a non-loopback host`);
    expect(message).toContain('warnings.webhook_url uses plain http://');
    // Allowed, the config passes; the check then fails to connect (0.0.0.0 stays on this machine).
    const allowed = await runCli(['check', '--config', crm.writeConfig(dir, 'upsert', {
      crm: { [crm.apiRootSetting]: 'http://0.0.0.0:9', max_retry_ms: 300 },
      config: { ...remote.config, allow_insecure_http: true },
    })]);
    expect(allowed.messages[0].connectionStatus).toMatchObject({ status: 'FAILED', message: expect.stringContaining(`cannot reach ${crm.name} at http://0.0.0.0:9 (crm.${crm.apiRootSetting})`) });
    expect(allowed.messages[0].connectionStatus.message).not.toContain('plain http://');
  });

  it('refused credentials, and error bodies echoing the Authorization header, print no secret', async () => {
    crm = await scenario.start();
    const wrong = crm.wrongCredentials();
    const dir = tempDir();
    const refusedConfig = crm.writeConfig(dir, 'upsert', { crm: wrong.crm });
    crm.inject([{ kind: 'refused', status: 401, on: 'any', echoRequest: true, times: Infinity }]);
    const check = await runCli(['check', '--config', refusedConfig]);
    expect(check.messages[0].connectionStatus.status).toBe('FAILED');
    const discover = await runCli(['discover', '--config', refusedConfig]);
    expect(discover.code).toBe(1);
    const write = await runCli(['write', '--config', refusedConfig], { stdin: [JSON.stringify(crm.rows(1)[0])] });
    expect(write.code).toBe(1);
    expectNoSecrets({ runs: [check, discover, write], files: [] }, [...wrong.secrets, ...crm.secrets], crm.issuedTokens);
  });

  it('a 403 on a write whose body echoes the request prints no secret', async () => {
    const { run, files, crm } = await writeRun({}, [{ kind: 'refused', status: 403, echoRequest: true }]);
    expect(run.code).toBe(1);
    expect(run.messages.find((m) => m.type === 'TRACE' && m.trace.type === 'ERROR')?.trace.error.failure_type).toBe('config_error');
    expectNoSecrets({ runs: [run], files }, [...crm.secrets, WEBHOOK_SECRET], crm.issuedTokens);
  });

  it('OAuth: an expired token refreshed mid-run, then a refused refresh echoing the form, print no secret and no issued token', async () => {
    const { run, files, crm } = await writeRun({ oauth: true }, [
      { kind: 'refused', status: 401, on: 'write', echoRequest: true },
      { kind: 'refused', status: 400, on: 'auth', echoRequest: true, every: 2 },
    ]);
    expect(run.code).toBe(1);
    const trace = run.messages.find((m) => m.type === 'TRACE' && m.trace.type === 'ERROR')?.trace.error;
    expect(trace).toMatchObject({ failure_type: 'config_error', message: expect.stringContaining('refused the OAuth refresh token') });
    // The echoed bodies did carry secrets: the redaction had work to do.
    expect(run.stderr).toContain('***');
    expectNoSecrets({ runs: [run], files }, [...crm.secrets, WEBHOOK_SECRET], crm.issuedTokens);
  });
});
