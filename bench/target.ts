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

/**
 * How fast the emulator lets the CLI go: as fast as it can, or at a CRM rate limit (with the
 * connector told that limit, or left to its default config: `auto`), or with a daily API quota.
 */
export type Pace =
  | { kind: 'unlimited' }
  | { kind: 'throttled'; limit: RateLimit; connectorDefault?: boolean }
  | { kind: 'quota'; dailyApiRequests: number };

/**
 * Another way the CRM can be written (Salesforce: sObject Collections beside Bulk API 2.0): the
 * benchmark gives it an initial load and a latency run of its own.
 */
export interface WriteVariant {
  /** Passed back to config() and minimumWriteCalls(); also part of the runs' ids. */
  id: string;
  /** How the runs' titles name it, e.g. "sObject Collections". */
  title: string;
  /** Rows of its latency run when not the target's. */
  latencyRows?: number;
}

/** What the harness needs to know about a CRM on its own side (the CLI's parent process). */
export interface BenchTarget {
  /** As in the config's crm.type; also the emulator host's key. */
  readonly crm: string;
  /** Rows one write call takes at most: the API's own batch maximum. */
  readonly batchMax: number;
  /** What a write call is and what its minimum counts, for the verdict (e.g. "ceil(changed / 100)"). */
  readonly minimumRule: string;
  /**
   * The highest request budget the CRM sells: what "latency is hidden" is judged against. None
   * (Salesforce): no rate ceiling, so latency is judged against the same rows written without it.
   */
  readonly topRateLimit?: RateLimit;
  /** The rolling-window budget the throttled run writes under; none: the CRM has no such limit, no throttled run. */
  readonly throttleLimit?: RateLimit;
  /** The budget the ceiling and shared runs write under with the connector's default config (HubSpot: 190 per 10 s). */
  readonly ceilingLimit?: RateLimit;
  /** A daily API quota the CRM shares between integrations (Salesforce): the quota run stops at the connector's share of it. */
  readonly quota?: QuotaRun;
  /** How the default way of writing is named in the runs' titles, when there are variants. */
  readonly defaultTitle?: string;
  /** Rows of the latency run (20,000 unless said): enough writes that latency could be hidden behind the next batch's preparation. */
  readonly latencyRows?: number;
  readonly variants?: readonly WriteVariant[];
  /** Records linked to the records their rows name (HubSpot associations); none: the CRM's connector links nothing. */
  readonly links?: LinksRun;
  /** Fewest write calls that can carry this many changed rows (written the default way, or as `variant`). */
  minimumWriteCalls(changedRows: number, variant?: string): number;
  /** Emulator options (sent over IPC to the host) for this pace. */
  emulatorOptions(pace: Pace): unknown;
  /** The CLI's config against the emulator at `url`, keeping its change-detection store at `statePath`. */
  config(url: string, statePath: string, pace: Pace, variant?: string): Record<string, unknown>;
}

/** The links run: the targets the rows name, seeded before it, and the associations its config adds to the object. */
export interface LinksRun {
  seed: { objectType: string; rows(): Record<string, string>[] }[];
  /** objects[].associations of the run's config. */
  associations: { to: string; source: string; match: string; label?: string }[];
}

/** Requests a running emulator tells apart for the links run (EmulatorStats.kinds). */
export type RequestKind = 'record write' | 'target read' | 'association call';

export interface QuotaRun {
  /** The share of the quota the connector stops at by default (crm.max_api_usage_percent). */
  defaultPercent: number;
  /** Requests a run of this many rows makes (metadata included), roughly: the quota is set to stop it half way. */
  requestsFor(rows: number): number;
}

/** The emulator side of a target, loaded only inside the emulator host. */
export interface EmulatorAdapter {
  start(options: unknown): Promise<RunningEmulator>;
  /** Which requests carry rows or start a job that will (the calls the write-call target counts). */
  isWriteCall(request: LoggedRequest): boolean;
  /** Bulk APIs: the request that creates a job, and every request that belongs to one (creation included). */
  isJobStart?(request: LoggedRequest): boolean;
  isJobRequest?(request: LoggedRequest): boolean;
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
  /** Answers at once again. */
  clearLatency(): void;
  /** Live records of the benchmark object, to check that every row landed. */
  recordCount(): number;
  /** Requests counted against the CRM's daily quota so far, where it keeps one (Salesforce). */
  quotaUsed?(): number;
  /** What an accepted request was, where the links run counts it; undefined for the rest. */
  kindOf?(request: LoggedRequest): RequestKind | undefined;
  /** Adds records straight to the CRM, outside the request log (the links run's targets). */
  seed?(objectType: string, rows: Record<string, string>[]): void;
  close(): Promise<void>;
}

/** What the emulator host saw between two resets, summarised in the host. */
export interface EmulatorStats {
  requests: number;
  writeCalls: number;
  rateLimited: number;
  /** Requests answered 5xx or with a status the CLI did not expect (neither 2xx nor 429). */
  errors: number;
  /** Requests refused with another 4xx (Salesforce's daily quota: 403). */
  refused: number;
  /** Arrival times of the first and the last request the emulator accepted (not 429). */
  firstAcceptedAt: number;
  lastAcceptedAt: number;
  accepted: number;
  firstWriteAt: number;
  lastWriteAt: number;
  /** Bulk API jobs created, and the requests made about them (creation, upload, close, polls, result files). */
  jobs: number;
  jobRequests: number;
  /** Accepted requests by kind, where the emulator tells them apart (kindOf). */
  kinds: Partial<Record<RequestKind, number>>;
  records: number;
  /** The daily quota's count at the end (0 where the CRM keeps none). */
  quotaUsed: number;
  /** CPU the emulator process spent (user + system), to see whether it was the bottleneck. */
  cpuMs: number;
}
