// What a run says back, in the protocol it speaks: chosen once from the command (Airbyte's `write`
// or the Singer target) and the only place that knows how the two differ. Airbyte answers with
// messages on stdout; a Singer target echoes its source's states and talks to humans on stderr.
import { renameSync, writeFileSync } from 'node:fs';
import { failureTypeOf, type ConnectorError } from '../errors.js';
import type { InputState } from './input.js';
import type { Logger } from './log.js';
import type { StreamDescriptor } from './messages.js';
import type { AirbyteOutput, LineWriter } from './output.js';

export type OutputProtocolName = 'airbyte' | 'singer';

export type StreamStatus = 'STARTED' | 'RUNNING' | 'COMPLETE' | 'INCOMPLETE';

export interface RateLimitedReason {
  type: 'RATE_LIMITED';
  rate_limited: { quota_reset: number };
}

export interface OutputProtocol {
  readonly name: OutputProtocolName;
  /** A state whose records are all committed, with the records and rejections since the last one of its scope. */
  state(state: InputState, counts: { records: number; rejected: number }): Promise<void>;
  /** A progress line, when no terminal shows a live one. */
  progress(text: string): void;
  /** A stream's status (Airbyte only: Singer has no such message). */
  streamStatus(stream: StreamDescriptor, status: StreamStatus, reasons?: RateLimitedReason[]): void;
  /** The CRM rotated a credential: the config holding it must outlive this run. */
  configRotated(config: Record<string, unknown>, crmType: string): void;
  /** The run failed: told to humans on stderr, and to Airbyte as an ERROR trace. */
  fatal(error: ConnectorError): Promise<void>;
}

/** Where the protocols write: stdout lines (Airbyte messages among them) and the stderr log. */
export interface OutputChannels {
  lines: LineWriter;
  airbyte: AirbyteOutput;
  log: Logger;
}

export function outputProtocol(name: OutputProtocolName, channels: OutputChannels, configPath: string): OutputProtocol {
  return name === 'airbyte' ? airbyteProtocol(channels) : singerProtocol(channels, configPath);
}

function airbyteProtocol({ airbyte, log }: OutputChannels): OutputProtocol {
  return {
    name: 'airbyte',
    async state({ protocol, body }, counts) {
      // A Singer state read by an Airbyte run goes back as a LEGACY state holding its value.
      const airbyteState = protocol === 'airbyte' ? body : { type: 'LEGACY', data: body.value };
      await airbyte.emit({
        type: 'STATE',
        state: { ...airbyteState, destinationStats: { recordCount: asDouble(counts.records), rejectedRecordCount: asDouble(counts.rejected) } },
      });
    },
    progress(text) {
      void airbyte.emit({ type: 'LOG', log: { level: 'INFO', message: `crm-activate: ${text}` } });
    },
    streamStatus(stream, status, reasons) {
      const descriptor: StreamDescriptor = stream.namespace === undefined ? { name: stream.name } : { name: stream.name, namespace: stream.namespace };
      void airbyte.emit({
        type: 'TRACE',
        trace: { type: 'STREAM_STATUS', emitted_at: Date.now(), stream_status: { stream_descriptor: descriptor, status, ...(reasons ? { reasons } : {}) } },
      });
    },
    configRotated(config, crmType) {
      void airbyte.configUpdate(config);
      log.info(`${crmType} issued a new refresh token; the updated config went to Airbyte`);
    },
    async fatal(error) {
      const message = logFatal(log, error);
      const cause = error.cause instanceof Error ? log.redactor.redact(error.cause.stack ?? error.cause.message) : undefined;
      await airbyte.errorTrace(message, failureTypeOf(error.category), cause);
    },
  };
}

function singerProtocol({ lines, log }: OutputChannels, configPath: string): OutputProtocol {
  return {
    name: 'singer',
    async state({ protocol, body }) {
      // Singer targets echo the state's value; an Airbyte state read by a Singer run goes back whole.
      await lines.writeJson(protocol === 'singer' ? body.value : body);
    },
    progress(text) {
      log.info(text);
    },
    streamStatus() {},
    configRotated(config, crmType) {
      rewriteConfigFile(configPath, config);
      log.warn(`${crmType} issued a new refresh token; ${configPath} now holds it (the old one may stop working)`);
    },
    async fatal(error) {
      logFatal(log, error);
    },
  };
}

/** Every protocol tells humans; returns the redacted message. */
function logFatal(log: Logger, error: ConnectorError): string {
  const message = log.redactor.redact(error.message);
  log.error(`${error.category} error: ${message}`);
  return message;
}

/** The protocol defines the counts as doubles "with a decimal point for proper serialization". */
function asDouble(count: number): unknown {
  return (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON(`${count}.0`);
}

/** Written beside and renamed over the old file, so a crash never leaves half a config. */
function rewriteConfigFile(path: string, config: Record<string, unknown>): void {
  const staging = `${path}.${process.pid}.tmp`;
  writeFileSync(staging, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  renameSync(staging, path);
}
