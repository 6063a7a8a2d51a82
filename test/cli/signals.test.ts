// SIGTERM while the source is still sending: in-flight batches finish, their states go out, the
// run stops with a TRACE saying to rerun.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertValidAirbyteMessage, repoRoot } from '../support/airbyte-protocol.ts';
import { tempDir, writeJson } from '../support/run-cli.ts';

describe('SIGTERM', () => {
  it('stops reading, commits what is in flight, emits its states and exits non-zero', async () => {
    const dir = tempDir();
    const config = writeJson(dir, 'config.json', {
      crm: { type: 'hubspot', access_token: 'pat-na1-secret-token-123' },
      objects: [{ stream: 's', object: 'items', mode: 'upsert', match: { source: 'id', destination: 'id' } }],
      state: { path: join(dir, 'state.db') },
    });
    const child = spawn(process.execPath, ['--no-warnings', join(repoRoot, 'test/support/memory-cli.ts'), 'write', '--config', config], {
      env: { ...process.env, MEMORY_CRM: JSON.stringify({ objects: { items: { id: 'string' } }, batchSize: 10, maxLatencyMs: 50 }) },
    });
    child.stdin.on('error', () => undefined); // the CLI stops reading when it stops
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    for (let i = 0; i < 30; i++) {
      child.stdin.write(`${JSON.stringify({ type: 'RECORD', record: { stream: 's', data: { id: `k${i}` }, emitted_at: 0 } })}\n`);
      if (i % 10 === 9) child.stdin.write(`${JSON.stringify({ type: 'STATE', state: { type: 'GLOBAL', global: { stream_states: [] }, n: i } })}\n`);
    }
    // Three full batches are in flight or done; the stream stays open, as a slow source's would.
    // Signalled once the first state is out (the CLI is running), not after a fixed delay: a
    // loaded machine can take longer than that to start it, and SIGTERM would then kill it.
    await new Promise<void>((resolve) => {
      const ready = () => {
        if (!stdout.includes('"STATE"')) return;
        child.stdout.off('data', ready);
        resolve();
      };
      child.stdout.on('data', ready);
    });
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const messages = stdout.trim().split('\n').map((line) => JSON.parse(line));
    messages.forEach(assertValidAirbyteMessage);
    expect(code).toBe(1);
    expect(messages.filter((m) => m.type === 'STATE').map((m) => m.state.n)).toEqual([9, 19, 29]);
    const trace = messages.find((m) => m.type === 'TRACE' && m.trace.type === 'ERROR');
    expect(trace.trace.error).toMatchObject({ failure_type: 'transient_error', message: expect.stringContaining('interrupted (SIGTERM)') });
  });
});
