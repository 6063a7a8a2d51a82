// stdout carries protocol messages only, one JSON document per line. Writes wait for the stream
// to drain so a fast producer cannot buffer unbounded output, and nothing calls process.exit, so
// what was written is never lost on a failing run. Every line passes the redactor: whatever a
// message embeds (an error body echoing a token), no secret of the config reaches stdout.
import type { Writable } from 'node:stream';
import type { Redactor } from './log.js';
import type { AirbyteMessage, TraceBody } from './messages.js';
import type { AirbyteFailureType } from '../errors.js';

export class LineWriter {
  constructor(
    private readonly stream: Writable,
    private readonly redactor?: Redactor,
  ) {}

  /** `carriesSecrets`: the one message whose purpose is to hand secrets back (a rotated token). */
  async writeJson(value: unknown, carriesSecrets = false): Promise<void> {
    const text = JSON.stringify(value);
    if (!this.stream.write(`${this.redactor && !carriesSecrets ? this.redactor.redact(text) : text}\n`)) {
      await new Promise<void>((resolve) => this.stream.once('drain', resolve));
    }
  }
}

export class AirbyteOutput {
  constructor(private readonly lines: LineWriter) {}

  emit(message: AirbyteMessage): Promise<void> {
    return this.lines.writeJson(message);
  }

  /** CONTROL CONNECTOR_CONFIG: Airbyte stores this config, rotated secrets and all, for later runs. */
  configUpdate(config: Record<string, unknown>): Promise<void> {
    return this.lines.writeJson({ type: 'CONTROL', control: { type: 'CONNECTOR_CONFIG', emitted_at: Date.now(), connectorConfig: { config } } } satisfies AirbyteMessage, true);
  }

  errorTrace(message: string, failureType: AirbyteFailureType, internalMessage?: string): Promise<void> {
    const error: Extract<TraceBody, { type: 'ERROR' }>['error'] = { message, failure_type: failureType };
    if (internalMessage && internalMessage !== message) error.internal_message = internalMessage;
    return this.emit({ type: 'TRACE', trace: { type: 'ERROR', emitted_at: Date.now(), error } });
  }
}
