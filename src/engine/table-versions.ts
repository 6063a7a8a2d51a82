// Singer's ACTIVATE_VERSION: a stream that sends it carries its whole table in that version, so
// the run holds the whole segment of that stream, as an Airbyte full-refresh stream does. Only
// when this run saw a new table from end to end: an ACTIVATE_VERSION before the stream's first
// record (opening), every record in that version (records without one are taken as in it), the
// same ACTIVATE_VERSION after its last record (closing), and a version no earlier run announced.
// Taps keep the version of an incremental stream across runs, and a full table resumed after an
// interruption keeps its version too: a repeated version carries only part of the table. A table
// cut short (opening only) or mixing versions says nothing about who left either. The engine also
// requires the run to end cleanly before it acts on it.
import type { Logger } from '../protocol/log.js';

/** Where announced versions outlive the run (the state store), per stream. */
export interface VersionMemory {
  recall(stream: string): Promise<string | undefined>;
  remember(stream: string, version: string): Promise<void>;
}

interface StreamTable {
  /** The version opened before the stream's first record of this run, if any. */
  opened?: number;
  recordsSeen: boolean;
  /** Closed by the opened version after its last record. */
  closed: boolean;
  /** Whether this run announced a version for the stream yet. */
  announced: boolean;
  /** The version earlier runs last announced for the stream, read before this run's first announcement. */
  earlier?: string;
  /** Why this run cannot tell the whole table, once known. */
  broken?: string;
}

export class TableVersions {
  private readonly streams = new Map<string, StreamTable>();

  constructor(
    private readonly log: Logger,
    /** Undefined without a state store: no run can then tell who left. */
    private readonly memory: (stream: string) => VersionMemory | undefined,
  ) {}

  async activate(stream: string, version: number): Promise<void> {
    const table = this.of(stream);
    if (!table.announced) {
      table.announced = true;
      const memory = this.memory(stream);
      table.earlier = await memory?.recall(stream);
      // Remembered at once: a run killed mid-table must not let its resumption pass for a new table.
      await memory?.remember(stream, String(version));
    }
    if (!table.recordsSeen) {
      table.opened = version;
      if (table.earlier === String(version)) this.breakTable(stream, table, `ACTIVATE_VERSION ${version} was announced by an earlier run (an incremental or resumed table)`);
      return;
    }
    if (table.broken) return;
    if (table.opened === undefined) this.breakTable(stream, table, `ACTIVATE_VERSION ${version} closed a table this run did not open`);
    else if (table.opened !== version) this.breakTable(stream, table, `ACTIVATE_VERSION ${version} closed a table opened as version ${table.opened}`);
    else table.closed = true;
  }

  record(stream: string, version: number | undefined): void {
    const table = this.of(stream);
    table.recordsSeen = true;
    if (table.broken) return;
    if (table.closed) this.breakTable(stream, table, `a record came after ACTIVATE_VERSION ${table.opened} closed the table`);
    else if (table.opened !== undefined && version !== undefined && version !== table.opened) {
      this.breakTable(stream, table, `a record of version ${version} came inside ACTIVATE_VERSION ${table.opened}`);
    }
  }

  /** Whether the run saw this stream's whole table (its records all between an opening and a closing ACTIVATE_VERSION of a new version). */
  isWholeTable(stream: string): boolean {
    const table = this.streams.get(stream);
    return table !== undefined && table.closed && !table.broken;
  }

  /** The streams seen this run, with or without ACTIVATE_VERSION. */
  streamNames(): Iterable<string> {
    return this.streams.keys();
  }

  private breakTable(stream: string, table: StreamTable, why: string): void {
    table.broken = why;
    table.closed = false;
    this.log.warn(`${stream}: ${why}, so this run is not taken as the whole table (rows absent from it are not treated as having left the segment)`);
  }

  private of(stream: string): StreamTable {
    let table = this.streams.get(stream);
    if (!table) this.streams.set(stream, (table = { recordsSeen: false, closed: false, announced: false }));
    return table;
  }
}
