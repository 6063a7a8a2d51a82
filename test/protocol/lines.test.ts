// The line reader under stdin: numbering, limits and encodings, whatever the chunk boundaries.
import { describe, expect, it } from 'vitest';
import { readLines, type Line } from '../../src/protocol/lines.ts';

async function lines(chunks: (string | Buffer)[], maxBytes = 1000): Promise<Line[]> {
  const out: Line[] = [];
  for await (const batch of readLines((async function* () { yield* chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)); })(), maxBytes)) out.push(...batch);
  return out;
}

describe('readLines', () => {
  it('numbers lines across chunk boundaries, drops CR and a BOM, keeps a last line without newline', async () => {
    expect(await lines(['\uFEFFa', 'b\r\nc\n', '\n', 'd'])).toEqual([
      { number: 1, text: 'ab' },
      { number: 2, text: 'c' },
      { number: 3, text: '' },
      { number: 4, text: 'd' },
    ]);
  });

  it('skips a line past the limit as it streams, keeping its number and the lines after it', async () => {
    const long = 'x'.repeat(600);
    expect(await lines(['ok\n', long, long, long, '\nnext\n'], 1000)).toEqual([
      { number: 1, text: 'ok' },
      { number: 2, problem: 'too_long', bytes: 1800 },
      { number: 3, text: 'next' },
    ]);
  });

  it('accepts a character split between chunks and names bytes that are not UTF-8', async () => {
    const euro = Buffer.from('€');
    expect(await lines([Buffer.concat([Buffer.from('a'), euro.subarray(0, 1)]), Buffer.concat([euro.subarray(1), Buffer.from('\n')]), Buffer.from([0x62, 0xff, 0x0a]), 'c\n'])).toEqual([
      { number: 1, text: 'a€' },
      { number: 2, problem: 'invalid_utf8' },
      { number: 3, text: 'c' },
    ]);
  });
});
