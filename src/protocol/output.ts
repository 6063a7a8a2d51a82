// stdout carries protocol messages only, one JSON document per line. Writes wait for the stream
// to drain so a fast producer cannot buffer unbounded output, and nothing calls process.exit, so
// what was written is never lost on a failing run.
import type { Writable } from 'node:stream';
import type { AirbyteMessage, TraceBody } from './messages.js';
import type { AirbyteFailureType } from '../errors.js';

export class LineWriter {
  constructor(private readonly stream: Writable) {}

  async writeJson(value: unknown): Promise<void> {
    if (!this.stream.write(`${JSON.stringify(value)}\n`)) {
      await new Promise<void>((resolve) => this.stream.once('drain', resolve));
    }
  }
}

export class AirbyteOutput {
  constructor(private readonly lines: LineWriter) {}

  emit(message: AirbyteMessage): Promise<void> {
    return this.lines.writeJson(message);
  }

  errorTrace(message: string, failureType: AirbyteFailureType, internalMessage?: string): Promise<void> {
    const error: Extract<TraceBody, { type: 'ERROR' }>['error'] = { message, failure_type: failureType };
    if (internalMessage && internalMessage !== message) error.internal_message = internalMessage;
    return this.emit({ type: 'TRACE', trace: { type: 'ERROR', emitted_at: Date.now(), error } });
  }
}
