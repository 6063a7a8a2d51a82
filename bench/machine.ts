// The machine a result was measured on: numbers without it mean little.
import { arch, cpus, loadavg, platform, totalmem } from 'node:os';

export interface Machine {
  cpu: string;
  cores: number;
  ramGiB: number;
  node: string;
  os: string;
  /** One-minute load average when the benchmark started: other work on the machine skews timings. */
  loadAverage: number;
}

export function describeMachine(): Machine {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${platform()} ${arch()}`,
    loadAverage: Math.round(loadavg()[0] * 10) / 10,
  };
}

export function machineLine(machine: Machine): string {
  return `${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB RAM, Node ${machine.node}, ${machine.os} (load average ${machine.loadAverage} at start)`;
}
