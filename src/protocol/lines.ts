// Splits a byte stream into numbered lines, a batch per chunk read (one await per chunk, not per
// line: reading stays near the cost of JSON.parse), without ever holding more than one line's bytes. A
// line past the byte limit is skipped as it streams in (its line number is kept, so the reject
// says where it was), and each line is decoded strictly so bytes that are not UTF-8 are named as
// such. Written by hand because split2 drops an overlong line silently (shifting every later
// line number) and rescans its growing buffer on every chunk (quadratic on a line with no end).

export type Line =
  | { number: number; text: string }
  | { number: number; problem: 'too_long'; bytes: number }
  | { number: number; problem: 'invalid_utf8' };

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** The lines each chunk of `input` completes, in order; a chunk that completes none yields nothing. */
export async function* readLines(input: AsyncIterable<Buffer | string>, maxBytes: number): AsyncGenerator<Line[]> {
  // fatal: invalid bytes throw instead of becoming U+FFFD; the BOM of a line is dropped.
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let parts: Buffer[] = [];
  let size = 0;
  let overflow = false;
  let number = 0;

  const take = (): Line => {
    number += 1;
    const bytes = size;
    const whole = parts.length === 1 ? parts[0] : Buffer.concat(parts, size);
    const tooLong = overflow;
    parts = [];
    size = 0;
    overflow = false;
    if (tooLong) return { number, problem: 'too_long', bytes };
    const end = whole.length > 0 && whole[whole.length - 1] === CARRIAGE_RETURN ? whole.length - 1 : whole.length;
    try {
      return { number, text: decoder.decode(whole.subarray(0, end)) };
    } catch {
      return { number, problem: 'invalid_utf8' };
    }
  };

  for await (const chunk of input) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const lines: Line[] = [];
    let start = 0;
    for (;;) {
      const newline = buffer.indexOf(NEWLINE, start);
      const end = newline < 0 ? buffer.length : newline;
      if (!overflow && size + (end - start) > maxBytes) {
        overflow = true;
        parts = [];
      }
      if (!overflow && end > start) parts.push(buffer.subarray(start, end));
      size += end - start;
      if (newline < 0) break;
      lines.push(take());
      start = newline + 1;
    }
    if (lines.length > 0) yield lines;
  }
  if (size > 0 || overflow) yield [take()];
}
