// The harness's handle on an emulator host process (emulator-host.ts): start it for one target
// and pace, read its statistics, add latency, stop it.
import { fork, type ChildProcess } from 'node:child_process';
import type { HostCommand, HostReply } from './emulator-host.js';
import { benchFile } from './paths.js';
import type { BenchTarget, EmulatorStats, Pace } from './target.js';

const SEED_CHUNK = 10_000;

export class EmulatorProcess {
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: HostReply) => void>();
  url = '';

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (reply: HostReply) => this.waiting.get(reply.id)?.(reply));
  }

  static async start(target: BenchTarget, pace: Pace): Promise<EmulatorProcess> {
    // Room for a million records without the emulator's garbage collector setting the pace.
    const child = fork(benchFile('emulator-host.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: ['--max-old-space-size=6144'] });
    const handle = new EmulatorProcess(child);
    handle.url = (await handle.call({ op: 'start', crm: target.crm, options: target.emulatorOptions(pace) })).url!;
    return handle;
  }

  /** Forgets what was counted so far: the next stats() covers only what follows. */
  async reset(): Promise<void> {
    await this.call({ op: 'reset' });
  }

  async stats(): Promise<EmulatorStats> {
    return (await this.call({ op: 'stats' })).stats!;
  }

  async addLatency(ms: number): Promise<void> {
    await this.call({ op: 'latency', ms });
  }

  async clearLatency(): Promise<void> {
    await this.call({ op: 'latency', ms: 0 });
  }

  /** Adds records to the CRM before a run, a chunk per message so none is huge. */
  async seed(objectType: string, rows: Record<string, string>[]): Promise<void> {
    for (let from = 0; from < rows.length; from += SEED_CHUNK) await this.call({ op: 'seed', objectType, rows: rows.slice(from, from + SEED_CHUNK) });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || !this.child.connected) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    await this.call({ op: 'close' }).catch(() => undefined);
    await exited;
  }

  private call(command: HostCommand): Promise<HostReply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the emulator host exited (${code}) during "${command.op}"`));
      this.child.once('exit', onExit);
      this.waiting.set(id, (reply) => {
        this.waiting.delete(id);
        this.child.off('exit', onExit);
        if (reply.error) reject(new Error(`emulator host, ${command.op}: ${reply.error}`));
        else resolve(reply);
      });
      this.child.send({ id, ...command });
    });
  }
}
