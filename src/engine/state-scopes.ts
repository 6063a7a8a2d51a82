// Which states count which records. Every record counts in the global scope; a record of a named
// stream also counts in its stream's scope, which per-stream states (the input edge names their
// stream) report on. One array per stream is kept, so the checkpoints can cache by it instead of
// building one per record.
import type { StreamScope } from '../protocol/input.js';
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

  /** The scope a state counts in: its stream's, or all records. */
  ofState(scope: StreamScope | undefined): string {
    return scope ? streamScope(scope.stream, scope.namespace) : GLOBAL_SCOPE;
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

function streamScope(stream: string, namespace?: string): string {
  return `stream:${namespace ?? ''}:${stream}`;
}
