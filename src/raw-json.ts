// JSON.rawJSON values: a number kept as the text of the input (digits a double cannot hold, such
// as integer keys beyond 2^53), carried through the engine and serialised by JSON.stringify as
// that text. Node 22+ has them; TypeScript's lib does not describe them yet.
const json = JSON as unknown as {
  rawJSON(text: string): object;
  isRawJSON(value: unknown): value is { rawJSON: string };
};

/** A value JSON.stringify writes as `text` itself (which must be one JSON primitive). */
export function rawJson(text: string): object {
  return json.rawJSON(text);
}

/** The text of a raw JSON value (a number read exactly), or undefined for any other value. */
export function rawJsonText(value: unknown): string | undefined {
  return json.isRawJSON(value) ? value.rawJSON : undefined;
}
