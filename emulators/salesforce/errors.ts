// Salesforce's two error shapes: a whole request refused (HTTP status + [{message, errorCode, fields?}])
// and one record refused inside a 200 answer ({statusCode, message, fields}).
import type { Reply } from './http.js';

export interface RecordError {
  statusCode: string;
  message: string;
  fields: string[];
}

/** Thrown by handlers; the server turns it into Salesforce's JSON error array. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly fields?: string[],
  ) {
    super(message);
  }

  toBody(): Record<string, unknown>[] {
    const entry: Record<string, unknown> = { message: this.message, errorCode: this.errorCode };
    if (this.fields) entry.fields = this.fields;
    return [entry];
  }

  toReply(): Reply {
    return { status: this.status, body: JSON.stringify(this.toBody()), contentType: 'application/json;charset=UTF-8' };
  }
}

export const NOT_FOUND_MESSAGE = 'The requested resource does not exist';

export function notFound(): ApiError {
  return new ApiError(404, 'NOT_FOUND', NOT_FOUND_MESSAGE);
}

export function recordError(statusCode: string, message: string, fields: string[] = []): RecordError {
  return { statusCode, message, fields };
}

/** The form Bulk API result files use for one record's errors: CODE:message:field --. */
export function bulkErrorText(errors: RecordError[]): string {
  return errors.map((e) => `${e.statusCode}:${e.message}:${e.fields.join(',')} --`).join('\n');
}
