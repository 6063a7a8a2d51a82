// A benchmark target is one CRM as the harness sees it: how to start its emulator (in the
// emulator host process), how to tell its write calls from the rest, and the config the CLI runs
// with. A scenario is then target + emulator options + input, so adding a CRM (Salesforce) is a
// BenchTarget in targets/<crm>.ts, an EmulatorAdapter in targets/<crm>-emulator.ts, and one line
// in each registry (targets/index.ts, targets/emulators.ts); then npm run bench -- --crm <crm>.

/** A request budget: at most `max` requests in any `intervalMs` window. */
export interface RateLimit {
  max: number;
  intervalMs: number;
}

/** How fast the emulator lets the CLI go: as fast as it can, or at a CRM rate limit. */
export type Pace = { kind: 'unlimited' } | { kind: 'throttled'; limit: RateLimit };

/** What the harness needs to know about a CRM on its own side (the CLI's parent process). */
export interface BenchTarget {
  /** As in the config's crm.type; also the emulator host's key. */
  readonly crm: string;
  /** Rows one write call takes at most: the API's own batch maximum. */
  readonly batchMax: number;
  /** The highest request budget the CRM sells: what "latency is hidden" is judged against. */
  readonly topRateLimit: RateLimit;
  /** The rolling-window budget the throttled run writes under; none: the CRM has no such limit, no throttled run. */
  readonly throttleLimit?: RateLimit;
  /** Fewest write calls that can carry this many changed rows. */
  minimumWriteCalls(changedRows: number): number;
  /** Emulator options (sent over IPC to the host) for this pace. */
  emulatorOptions(pace: Pace): unknown;
  /** The CLI's config against the emulator at `url`, keeping its change-detection store at `statePath`. */
  config(url: string, statePath: string, pace: Pace): Record<string, unknown>;
}

/** The emulator side of a target, loaded only inside the emulator host. */
export interface EmulatorAdapter {
  start(options: unknown): Promise<RunningEmulator>;
  /** Which requests carry rows (the calls the write-call target counts). */
  isWriteCall(request: LoggedRequest): boolean;
}

export interface LoggedRequest {
  method: string;
  path: string;
  /** 0 while the emulator has not answered yet. */
  status: number;
  /** Arrival time at the emulator (ms since the epoch). */
  at: number;
}

export interface RunningEmulator {
  url: string;
  /** The emulator's own request log; the host drains it as it goes so memory stays flat. */
  requests: LoggedRequest[];
  /** Delays every following request by `ms` before it is handled. */
  addLatency(ms: number): void;
  /** Live records of the benchmark object, to check that every row landed. */
  recordCount(): number;
  close(): Promise<void>;
}

/** What the emulator host saw between two resets, summarised in the host. */
export interface EmulatorStats {
  requests: number;
  writeCalls: number;
  rateLimited: number;
  /** Requests answered 5xx or with a status the CLI did not expect (neither 2xx nor 429). */
  errors: number;
  /** Arrival times of the first and the last request the emulator accepted (not 429). */
  firstAcceptedAt: number;
  lastAcceptedAt: number;
  accepted: number;
  firstWriteAt: number;
  lastWriteAt: number;
  records: number;
  /** CPU the emulator process spent (user + system), to see whether it was the bottleneck. */
  cpuMs: number;
}
