// Which states count which records. Every record counts in the global scope; a record of a named
// stream also counts in its stream's scope, which Airbyte's per-stream states report on. One array
// per stream is kept, so the checkpoints can cache by it instead of building one per record.
import type { Protocol } from '../protocol/input.js';
import { GLOBAL_SCOPE } from './checkpoints.js';

const GLOBAL_ONLY: readonly string[] = [GLOBAL_SCOPE];

export class StateScopes {
  private readonly byNamespace = new Map<string | undefined, Map<string, readonly string[]>>();
  /** The scopes of the last record that named its stream. */
  private last: readonly string[] = GLOBAL_ONLY;

  /** The scopes a record of this stream counts in. */
  ofRecord(stream: string | undefined, namespace: string | undefined): readonly string[] {
    if (stream === undefined) return GLOBAL_ONLY;
    let byStream = this.byNamespace.get(namespace);
    if (!byStream) this.byNamespace.set(namespace, (byStream = new Map()));
    let scopes = byStream.get(stream);
    if (!scopes) byStream.set(stream, (scopes = [GLOBAL_SCOPE, streamScope(stream, namespace)]));
    this.last = scopes;
    return scopes;
  }

  /**
   * A line too broken to name its stream most likely belongs to its neighbours' stream: so it is
   * counted in that stream's next state, as the source counted it.
   */
  ofBrokenLine(stream: string | undefined): readonly string[] {
    if (stream === undefined) return this.last;
    const last = this.last;
    const scopes = this.ofRecord(stream, undefined);
    this.last = last;
    return scopes;
  }
}

/** Airbyte per-stream states count their stream's records; every other kind counts all records. */
export function stateScope(body: Record<string, unknown>, protocol: Protocol): string {
  if (protocol !== 'airbyte' || body.type !== 'STREAM') return GLOBAL_SCOPE;
  const descriptor = (body.stream as { stream_descriptor?: { name?: unknown; namespace?: unknown } } | undefined)?.stream_descriptor;
  if (typeof descriptor?.name !== 'string') return GLOBAL_SCOPE;
  return streamScope(descriptor.name, typeof descriptor.namespace === 'string' ? descriptor.namespace : undefined);
}

function streamScope(stream: string, namespace?: string): string {
  return `stream:${namespace ?? ''}:${stream}`;
}
