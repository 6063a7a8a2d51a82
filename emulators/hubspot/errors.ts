// HubSpot's error bodies: {status:"error", message, correlationId, category, …}.
import { randomUUID } from 'node:crypto';

export class HubSpotError extends Error {
  constructor(
    readonly status: number,
    readonly category: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }

  body(correlationId: string): Record<string, unknown> {
    return { status: 'error', message: this.message, correlationId, category: this.category, ...this.extra };
  }
}

export const correlationId = () => randomUUID();

export const validationError = (message: string, extra?: Record<string, unknown>) => new HubSpotError(400, 'VALIDATION_ERROR', message, extra);
export const notFound = (message: string) => new HubSpotError(404, 'OBJECT_NOT_FOUND', message);
