// The Airbyte messages this connector emits (protocol v0, airbyte_protocol.yaml). Only the shapes
// we produce are typed; every emitted message is validated against the real schema in the tests.
import type { AirbyteFailureType } from '../errors.js';

export const AIRBYTE_PROTOCOL_VERSION = '0.2.0';

export type DestinationSyncMode = 'append' | 'overwrite' | 'append_dedup' | 'update' | 'soft_delete';

export interface StreamDescriptor {
  name: string;
  namespace?: string;
}

export interface DestinationOperation {
  object_name: string;
  sync_mode: DestinationSyncMode;
  json_schema: Record<string, unknown>;
  matching_keys?: string[][];
}

export type LogLevel = 'FATAL' | 'ERROR' | 'WARN' | 'INFO' | 'DEBUG' | 'TRACE';

export type AirbyteMessage =
  | { type: 'SPEC'; spec: Record<string, unknown> }
  | { type: 'CONNECTION_STATUS'; connectionStatus: { status: 'SUCCEEDED' | 'FAILED'; message?: string } }
  | { type: 'DESTINATION_CATALOG'; destination_catalog: { operations: DestinationOperation[] } }
  | { type: 'STATE'; state: Record<string, unknown> }
  | { type: 'LOG'; log: { level: LogLevel; message: string; stack_trace?: string } }
  | { type: 'TRACE'; trace: TraceBody }
  | { type: 'CONTROL'; control: { type: 'CONNECTOR_CONFIG'; emitted_at: number; connectorConfig: { config: Record<string, unknown> } } };

export type TraceBody =
  | {
      type: 'ERROR';
      emitted_at: number;
      error: {
        message: string;
        internal_message?: string;
        stack_trace?: string;
        failure_type: AirbyteFailureType;
        stream_descriptor?: StreamDescriptor;
      };
    }
  | {
      type: 'STREAM_STATUS';
      emitted_at: number;
      stream_status: {
        stream_descriptor: StreamDescriptor;
        status: 'STARTED' | 'RUNNING' | 'COMPLETE' | 'INCOMPLETE';
        reasons?: { type: 'RATE_LIMITED'; rate_limited?: { quota_reset?: number } }[];
      };
    };
