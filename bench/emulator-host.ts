// A CRM emulator in its own process, so the CLI under test and the emulator answering it do not
// share a core or an event loop, and the harness's bookkeeping stays out of both. Controlled by
// the harness over IPC (see emulator-process.ts). The request log is summarised and emptied as
// it goes: at a million rows, keeping every request body would make the emulator the bottleneck.
import type { EmulatorAdapter, EmulatorStats, LoggedRequest, RunningEmulator } from './target.js';
import { EMULATORS } from './targets/emulators.js';

export type HostCommand =
  | { op: 'start'; crm: string; options: unknown }
  | { op: 'reset' }
  | { op: 'stats' }
  /** 0: no more latency. */
  | { op: 'latency'; ms: number }
  | { op: 'seed'; objectType: string; rows: Record<string, string>[] }
  | { op: 'close' };

export interface HostReply {
  id: number;
  error?: string;
  url?: string;
  stats?: EmulatorStats;
}

let adapter: EmulatorAdapter | undefined;
let emulator: RunningEmulator | undefined;
let stats = emptyStats();
let cpuAtReset = process.cpuUsage();

function emptyStats(): EmulatorStats {
  return { requests: 0, writeCalls: 0, rateLimited: 0, errors: 0, refused: 0, accepted: 0, firstAcceptedAt: 0, lastAcceptedAt: 0, firstWriteAt: 0, lastWriteAt: 0, jobs: 0, jobRequests: 0, kinds: {}, records: 0, quotaUsed: 0, cpuMs: 0 };
}

function account(request: LoggedRequest): void {
  stats.requests += 1;
  if (request.status === 429) {
    stats.rateLimited += 1;
    return;
  }
  if (request.status >= 500 || request.status < 200) stats.errors += 1;
  else if (request.status >= 400) stats.refused += 1;
  stats.accepted += 1;
  if (stats.firstAcceptedAt === 0 || request.at < stats.firstAcceptedAt) stats.firstAcceptedAt = request.at;
  stats.lastAcceptedAt = Math.max(stats.lastAcceptedAt, request.at);
  if (adapter!.isWriteCall(request)) {
    stats.writeCalls += 1;
    if (stats.firstWriteAt === 0 || request.at < stats.firstWriteAt) stats.firstWriteAt = request.at;
    stats.lastWriteAt = Math.max(stats.lastWriteAt, request.at);
  }
  const kind = emulator!.kindOf?.(request);
  if (kind) stats.kinds[kind] = (stats.kinds[kind] ?? 0) + 1;
  if (adapter!.isJobStart?.(request)) stats.jobs += 1;
  if (adapter!.isJobRequest?.(request)) stats.jobRequests += 1;
}

/** Accounts for answered requests and drops them from the emulator's log, in place. */
function drain(): void {
  if (!emulator) return;
  const log = emulator.requests;
  let kept = 0;
  for (const request of log) {
    if (request.status === 0) log[kept++] = request;
    else account(request);
  }
  log.length = kept;
}

async function perform(command: HostCommand): Promise<Omit<HostReply, 'id'>> {
  switch (command.op) {
    case 'start': {
      const load = EMULATORS[command.crm];
      if (!load) throw new Error(`no emulator for crm "${command.crm}"`);
      adapter = await load();
      emulator = await adapter.start(command.options);
      setInterval(drain, 200).unref();
      return { url: emulator.url };
    }
    case 'reset':
      drain();
      stats = emptyStats();
      cpuAtReset = process.cpuUsage();
      return {};
    case 'stats': {
      drain();
      // Before counting the records, which may copy them all: that is the harness's work, not the run's.
      const cpu = process.cpuUsage(cpuAtReset);
      return { stats: { ...stats, cpuMs: (cpu.user + cpu.system) / 1000, records: emulator?.recordCount() ?? 0, quotaUsed: emulator?.quotaUsed?.() ?? 0 } };
    }
    case 'latency':
      if (command.ms > 0) emulator?.addLatency(command.ms);
      else emulator?.clearLatency();
      return {};
    case 'seed':
      if (!emulator?.seed) throw new Error('this emulator cannot be seeded');
      emulator.seed(command.objectType, command.rows);
      return {};
    case 'close':
      await emulator?.close();
      setImmediate(() => process.exit(0));
      return {};
  }
}

process.on('message', (message: HostCommand & { id: number }) => {
  perform(message).then(
    (reply) => process.send!({ id: message.id, ...reply }),
    (error: Error) => process.send!({ id: message.id, error: error.stack ?? String(error) }),
  );
});
// The harness going away takes the emulator with it.
process.on('disconnect', () => process.exit(0));
