// Errors are values with a category; the category alone decides what happens next:
//   config    → stop; the user must change the config or the CRM (TRACE config_error)
//   transient → retry where safe, else stop so the orchestrator can rerun (TRACE transient_error)
//   record    → reject one row and go on
//   bug       → stop; our fault (TRACE system_error)
export type ErrorCategory = 'config' | 'transient' | 'record' | 'bug';

export interface ErrorDetails {
  /** A stable, machine-readable reason (INVALID_OPTION, not_found, rate_limited...). */
  code?: string;
  /** The CRM field the error is about, when there is one. */
  field?: string;
  /** When the CRM said when to come back. */
  retryAfterMs?: number;
  /** The wait is the CRM's Retry-After header, not our own pacing rule. */
  retryAfterHeader?: boolean;
  cause?: unknown;
}

export class ConnectorError extends Error {
  readonly code?: string;
  readonly field?: string;
  readonly retryAfterMs?: number;
  readonly retryAfterHeader?: boolean;

  constructor(
    readonly category: ErrorCategory,
    message: string,
    details: ErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ConnectorError';
    this.code = details.code;
    this.field = details.field;
    this.retryAfterMs = details.retryAfterMs;
    this.retryAfterHeader = details.retryAfterHeader;
  }
}

export const configError = (message: string, details?: ErrorDetails) => new ConnectorError('config', message, details);
export const transientError = (message: string, details?: ErrorDetails) => new ConnectorError('transient', message, details);
export const recordError = (message: string, details?: ErrorDetails) => new ConnectorError('record', message, details);
export const bugError = (message: string, details?: ErrorDetails) => new ConnectorError('bug', message, details);

const CATEGORIES = new Set<ErrorCategory>(['config', 'transient', 'record', 'bug']);

/** Anything that is not one of our error values is a bug: we failed to classify it. */
export function asConnectorError(error: unknown): ConnectorError {
  if (error instanceof ConnectorError) return error;
  // Recognised by shape too, so an error value from another copy of this module keeps its category.
  if (error instanceof Error && error.name === 'ConnectorError' && CATEGORIES.has((error as ConnectorError).category)) {
    return error as ConnectorError;
  }
  const message = error instanceof Error ? error.message : String(error);
  return bugError(`unexpected error: ${message}`, { cause: error });
}

/** The code of work given up because the run is stopping (a signal, or a fatal error elsewhere). */
export const INTERRUPTED = 'interrupted';

export type AirbyteFailureType = 'config_error' | 'transient_error' | 'system_error';

export function failureTypeOf(category: ErrorCategory): AirbyteFailureType {
  if (category === 'config') return 'config_error';
  if (category === 'transient') return 'transient_error';
  return 'system_error';
}

/** The exit code of a run or command that stopped (a TRACE ERROR on stdout says why). */
export const EXIT_FAILED = 1;
