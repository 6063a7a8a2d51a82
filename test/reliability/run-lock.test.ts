// One run at a time per store: a second run on the same state.path stops before any CRM call,
// naming the file and the run that holds it; a holder that is gone (killed, or silent too long
// on another host) never blocks the next run.
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StateStore } from '../../src/store/state-store.ts';
import { HEARTBEAT_MS, STALE_AFTER_MS } from '../../src/store/run-lock.ts';
import { runCli, tempDir } from '../support/run-cli.ts';
import { airbyteInput, allStates, echoedStates, hubspotScenario, type CrmUnderTest } from './crm-scenarios.ts';
import { startCli, until } from './live-cli.ts';

let crm: CrmUnderTest | undefined;
afterEach(async () => {
  await crm?.close();
  crm = undefined;
});

describe('two runs on one state store', () => {
  it('the second stops at once, before any CRM call, naming the file and the holder; the first finishes untouched', async () => {
    crm = await hubspotScenario.start();
    const dir = tempDir();
    const config = crm.writeConfig(dir, 'insert', { stream: 'invoices' });
    const firstRows = crm.rows(150);
    // The first run's source is still sending: it holds the store while its stdin stays open.
    const first = startCli(['write', '--config', config], airbyteInput('invoices', firstRows, 50), {}, { keepStdinOpen: true });
    await until(() => echoedStates(first.stdout().split('\n').filter(Boolean).map((l) => JSON.parse(l))).through.length === 3, 'the first run wrote its rows');
    const requestsBefore = crm.requests().length;

    const secondRows = crm.rows(100, 1000);
    const second = await runCli(['write', '--config', config], { stdin: airbyteInput('invoices', secondRows, 50) });
    expect(second.code).toBe(1);
    const error = second.messages.find((m) => m.type === 'TRACE' && m.trace.type === 'ERROR')?.trace.error;
    expect(error.failure_type).toBe('config_error');
    expect(error.message).toContain(join(dir, 'state.db'));
    expect(error.message).toContain(`pid ${first.child.pid} on host ${hostname()}, started `);
    expect(second.stderr).not.toMatch(/bug error|\n\s+at /);
    expect(second.messages.filter((m) => m.type === 'STATE')).toEqual([]);
    expect(crm.requests().length).toBe(requestsBefore);

    first.child.stdin.end();
    const finished = await first.done;
    expect(finished.code, finished.stderr).toBe(0);
    expect(crm.state().duplicates).toEqual([]);
    expect(crm.state().byKey).toEqual(crm.expected(firstRows));

    // Once the first run is over, the same second run goes through.
    const again = await runCli(['write', '--config', config], { stdin: airbyteInput('invoices', secondRows, 50) });
    expect(again.code, again.stderr).toBe(0);
    expect(crm.state().byKey).toEqual(crm.expected([...firstRows, ...secondRows]));
  });

  it('a run killed with SIGKILL does not block the next one, which says it took the store over', async () => {
    crm = await hubspotScenario.start();
    const config = crm.writeConfig(tempDir(), 'upsert', { stream: 'invoices' });
    const rows = crm.rows(100);
    const first = startCli(['write', '--config', config], airbyteInput('invoices', rows, 50), {}, { keepStdinOpen: true });
    await until(() => first.stdout().includes('"through":99'), 'the first run wrote its rows');
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');

    const rerun = await runCli(['write', '--config', config], { stdin: airbyteInput('invoices', rows, 50) });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toContain(`was held by a run that is gone (pid ${first.child.pid} on host ${hostname()}`);
    expect(echoedStates(rerun.messages).through).toEqual(allStates(100, 50));
    expect(crm.state().byKey).toEqual(crm.expected(rows));
  });
});

describe('a holder on another host', () => {
  function storeHeldElsewhere(heartbeatAgoMs: number): string {
    const path = join(tempDir(), 'state.db');
    new StateStore(path).close();
    const db = new DatabaseSync(path);
    db.prepare(`INSERT INTO run_lock (id, run_id, pid, host, machine, process_start, started_at, heartbeat_at) VALUES (1, 1, 4242, 'other-host', 'other-boot', '123', ?, ?)`)
      .run(new Date(Date.now() - 3_600_000).toISOString(), Date.now() - heartbeatAgoMs);
    db.close();
    return path;
  }

  it('is respected while its heartbeat is fresh', async () => {
    const store = new StateStore(storeHeldElsewhere(1_000));
    try {
      await expect(store.acquireRunLock()).rejects.toThrow(/another run is using the state store at .*state\.db \(pid 4242 on host other-host, started .*, last heartbeat 1s ago\)/);
    } finally {
      store.close();
    }
  });

  it('is taken over once its heartbeat is older than the staleness window', async () => {
    const store = new StateStore(storeHeldElsewhere(STALE_AFTER_MS + 1_000));
    try {
      expect(await store.acquireRunLock()).toMatch(/^pid 4242 on host other-host/);
    } finally {
      store.close();
    }
  });
});

describe('a run whose lock was taken over', () => {
  it('is told at its next heartbeat, so it can stop', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const path = join(tempDir(), 'state.db');
    const store = new StateStore(path);
    try {
      const lost: string[] = [];
      await store.acquireRunLock((message) => lost.push(message));
      vi.advanceTimersByTime(HEARTBEAT_MS);
      expect(lost).toEqual([]);
      // Another run judged this one dead (it stalled past the staleness window) and took the store.
      const other = new DatabaseSync(path);
      other.prepare('UPDATE run_lock SET run_id = run_id + 100, pid = 4242').run();
      other.close();
      vi.advanceTimersByTime(HEARTBEAT_MS);
      expect(lost).toEqual([`the lock on the state store at ${path} was taken over by another run`]);
    } finally {
      store.close();
      vi.useRealTimers();
    }
  });
});
