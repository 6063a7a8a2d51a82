// What went wrong with a PostgreSQL store, in the operator's terms: which server, what it said,
// and what to change. Reaching the server, the user and its password, a privilege and TLS are the
// usual first-run problems: each names the part of state.url or the grant that fixes it. A
// connection lost mid-run is transient (the store retries, then the run stops for a rerun). The
// password never appears: messages name the URL with it masked.
import type pg from 'pg';
import { bugError, configError, ConnectorError, transientError } from '../errors.js';

export const DEFAULT_SCHEMA = 'crm_activate';

export interface PostgresTarget {
  /** For pg: the URL without the connector's own parameters. */
  client: pg.ClientConfig;
  schema: string;
  /** The URL as messages show it: the password masked. */
  shown: string;
  user: string;
  database: string;
  /** host:port */
  server: string;
}

/** Whether state.url names a PostgreSQL store. */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

export function postgresTarget(url: string): PostgresTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw configError('state.url is not a valid URL: write it as postgres://user:password@host:5432/database?schema=crm_activate (percent-encode special characters in the password)', { code: 'store_url' });
  }
  if (!isPostgresUrl(url)) throw configError(`state.url must be a postgres:// URL (it starts with ${parsed.protocol}//)`, { code: 'store_url' });
  const schema = parsed.searchParams.get('schema') || DEFAULT_SCHEMA;
  parsed.searchParams.delete('schema');
  const shown = new URL(parsed);
  if (shown.password) shown.password = '***';
  shown.searchParams.set('schema', schema);
  const user = decodeURIComponent(parsed.username) || process.env.PGUSER || 'postgres';
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || user;
  return {
    // A server that stops answering fails the statement (retried, then a transient error) instead of hanging the run.
    client: { connectionString: parsed.toString(), connectionTimeoutMillis: 15_000, query_timeout: 120_000, application_name: 'crm-activate' },
    schema,
    shown: shown.toString(),
    user,
    database,
    server: `${parsed.hostname}:${parsed.port || 5432}`,
  };
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EAI_AGAIN']);
const CONNECTION_LOST = new Set(['ECONNRESET', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004']);
const RETRYABLE = new Set(['40001', '40P01', '55P03']);
const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|CERT_)/;

/**
 * The failure as a connector error. While opening (and taking the lock) a server that cannot be
 * reached is the config's problem; during the run it is a transient one.
 */
export function postgresFailure(target: PostgresTarget, error: unknown, phase: 'open' | 'lock' | 'use'): ConnectorError {
  if (error instanceof ConnectorError) return error;
  const code = String((error as { code?: unknown } | undefined)?.code ?? '');
  const said = masked(target, error instanceof Error ? error.message : String(error));
  const where = `the state store at ${target.shown}`;
  const starting = phase !== 'use';
  if (TLS_CODES.test(code) || /\b(SSL|TLS)\b|certificate/i.test(said)) {
    return configError(`${where}: TLS with ${target.server} failed (${said}); set sslmode in state.url to what the server offers: sslmode=verify-full&sslrootcert=/path/ca.pem checks its certificate against your CA, sslmode=no-verify encrypts without checking it, sslmode=disable for a server without TLS`, { code: 'store_tls', cause: error });
  }
  if (code === '28P01' || code === '28000') {
    return configError(`${where}: PostgreSQL refused user "${target.user}" (${said}); check the user name and password in state.url (percent-encode special characters)`, { code: 'store_auth', cause: error });
  }
  if (code === '3D000') {
    return configError(`${where}: database "${target.database}" does not exist (${said}); create it or name an existing one in state.url`, { code: 'store_database', cause: error });
  }
  if (code === '42501') {
    return configError(`${where}: user "${target.user}" lacks a privilege (${said}); either GRANT CREATE ON DATABASE "${target.database}" TO "${target.user}" so the connector creates schema "${target.schema}", or create the schema yourself and GRANT USAGE, CREATE ON SCHEMA "${target.schema}" TO "${target.user}" (and ownership or all privileges on its tables)`, { code: 'store_privilege', cause: error });
  }
  if (code === '53100') {
    return configError(`${where}: the PostgreSQL server's disk is full (${said}); free space there and rerun (rows the CRM confirmed but the store could not record are held back and settled by the next run)`, { code: 'disk_full', cause: error });
  }
  if (UNREACHABLE.has(code) || /timeout/i.test(said)) {
    const message = `${where}: cannot connect to PostgreSQL at ${target.server} (${said}); check the host and port in state.url, that the server runs, and that it accepts connections from here`;
    return starting ? configError(message, { code: 'store_unreachable', cause: error }) : transientError(message, { code: 'store_unreachable', cause: error });
  }
  if (CONNECTION_LOST.has(code) || RETRYABLE.has(code) || /Connection terminated|connection.*(closed|ended)/i.test(said)) {
    return transientError(`${where}: the connection to ${target.server} failed (${said}); rerun to continue (what was committed stays)`, { code: 'store_connection_lost', cause: error });
  }
  const message = `${where}: ${said}`;
  return starting ? configError(message, { code: 'store_failed', cause: error }) : bugError(message, { cause: error });
}

/** The password, should a server or driver message carry it. */
function masked(target: PostgresTarget, text: string): string {
  const password = passwordOf(target);
  return password ? text.split(password).join('***') : text;
}

function passwordOf(target: PostgresTarget): string | undefined {
  return target.client.connectionString ? passwordInUrl(target.client.connectionString) : undefined;
}

/** The password a URL carries, decoded; undefined when it has none (or is no URL). */
export function passwordInUrl(url: string): string | undefined {
  try {
    const { password } = new URL(url);
    return password ? decodeURIComponent(password) : undefined;
  } catch {
    return undefined;
  }
}
