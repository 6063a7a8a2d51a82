// Who holds a store's run lock, and whether that holder can still be running. Kept apart from
// SQL so every store backend judges holders the same way.
//
// A holder on this machine (same host name, boot and pid namespace) is alive exactly when its pid
// runs the same process it did (same start time): a run killed with SIGKILL never blocks the
// next. A holder elsewhere (another container, another host sharing the file) cannot be asked:
// it proves it is alive by refreshing its heartbeat every HEARTBEAT_MS, and is taken over once
// the heartbeat is older than STALE_AFTER_MS.
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/** How often a run refreshes its heartbeat (the variable shortens it for tests, whose reruns wait on it). */
export const HEARTBEAT_MS = Number(process.env.CRM_ACTIVATE_TEST_HEARTBEAT_MS) || 5_000;
/**
 * A holder on another host whose heartbeat is older than this is taken to be dead. Short, as a
 * killed container's run blocks the next one that long; six missed beats rule out a busy moment.
 */
export const STALE_AFTER_MS = Math.max(30_000, HEARTBEAT_MS * 6);

export interface LockHolder {
  runId: number;
  pid: number;
  host: string;
  /** Boot id and pid namespace: a pid means the same process only within both. */
  machine: string;
  /** The process's start time as the kernel counts it; empty where it cannot be read. */
  processStart: string;
  startedAt: string;
  /** Epoch ms of the holder's last sign of life. */
  heartbeatAt: number;
}

export function currentHolder(runId: number, now: number): LockHolder {
  return {
    runId, pid: process.pid, host: hostname(), machine: machineId(), processStart: processStartOf(process.pid) ?? '',
    startedAt: new Date(now).toISOString(), heartbeatAt: now,
  };
}

/** Whether the holder may still be running (then the lock is refused). */
export function mayBeAlive(holder: LockHolder, now: number): boolean {
  const heartbeatFresh = now - holder.heartbeatAt <= STALE_AFTER_MS;
  if (holder.host === hostname() && holder.machine !== '' && holder.machine === machineId() && holder.processStart !== '') {
    const start = processStartOf(holder.pid);
    if (start !== undefined) return start === holder.processStart;
    // /proc may hide other users' processes (hidepid): the kernel still says whether the pid exists.
    return pidExists(holder.pid) && heartbeatFresh;
  }
  return heartbeatFresh;
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** When a holder found gone at `now` stopped at the latest: its last heartbeat plus the beat it missed, or now. */
export function diedBy(holder: LockHolder, now: number): number {
  return Math.min(holder.heartbeatAt + HEARTBEAT_MS, now);
}

export function describeHolder(holder: LockHolder, now: number): string {
  const silent = Math.max(0, Math.round((now - holder.heartbeatAt) / 1000));
  return `pid ${holder.pid} on host ${holder.host}, started ${holder.startedAt}, last heartbeat ${silent}s ago`;
}

function machineId(): string {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return `${boot}/${readlinkSync('/proc/self/ns/pid')}`;
  } catch {
    return ''; // no /proc (macOS): holders are judged by their heartbeat alone
  }
}

/** Field 22 of /proc/<pid>/stat: start time in clock ticks since boot; undefined when no such process. */
function processStartOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
