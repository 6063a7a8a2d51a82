// Field hashes are stored between runs: the same value must hash to the same text in every
// version, or an upgrade would resend every row once. These are the hashes the first release made.
import { describe, expect, it } from 'vitest';
import { hashFields, hashValue } from '../../src/engine/hashing.ts';

const STORED: [unknown, string][] = [
  ['', '1w9pcoy.7brcvp'],
  ['s', 'jiewkj.18uroq5'],
  ['open', '2j0smi.71mq11'],
  ['buyer1@example.com', 'ed69xt.1pm1adc'],
  ['2026-02-01T08:30:00.000Z', '1rzz9eo.1ob7pzn'],
  ['ü', '1mmsnru.19ukfce'],
  ['\u{1F600} x', '7luo5z.11npzcc'],
  ['a'.repeat(1000), 'ajq7a2.adw1cd'],
  [0, 'epw9f3.1000gui'],
  [1, 'efwnq4.1ph6di7'],
  [-1.5, '7qt3z2.1jsr1ls'],
  [true, 'lk2v39.1xibm9x'],
  [null, 'x0xxgk.1289ieg'],
  [undefined, '1ulrqj4.i4iovn'],
  [['a', 1], '931ltf.ncvjfe'],
  [{ a: 1 }, '12qlvkh.12etd24'],
];

describe('field hashes', () => {
  it.each(STORED)('%j hashes as stored by earlier runs', (value, hash) => {
    expect(hashValue(value)).toBe(hash);
  });

  it('tells a string from the number it spells', () => {
    expect(hashValue('1')).not.toBe(hashValue(1));
  });

  it('hashes each field of a row', () => {
    expect(hashFields({ status: 'open', amount: 1 })).toEqual({ status: '2j0smi.71mq11', amount: 'efwnq4.1ph6di7' });
  });
});
