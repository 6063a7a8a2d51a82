// Decimal text is read and compared digit for digit: no detour through a double.
import { describe, expect, it } from 'vitest';
import { readDecimal, sameDecimal } from '../../src/crm/values.ts';
import { parseLine } from '../../src/protocol/json-text.ts';

describe('exact decimals', () => {
  it('expands an exponent without rounding', () => {
    expect(readDecimal('1.2345678901234567891e5')).toBe('123456.78901234567891');
    expect(readDecimal('1.5e-3')).toBe('0.0015');
    expect(readDecimal('-2.50E+2')).toBe('-250');
    expect(readDecimal('-0e5')).toBe('0');
    expect(readDecimal('12e0')).toBe('12');
    expect(readDecimal('1e401')).toBeUndefined();
    expect(readDecimal('e5')).toBeUndefined();
  });

  it('compares by value, exactly', () => {
    expect(sameDecimal('1.50', '1.5')).toBe(true);
    expect(sameDecimal('007', '7.000')).toBe(true);
    expect(sameDecimal('-0', '0')).toBe(true);
    expect(sameDecimal('9007199254740993', '9007199254740992')).toBe(false);
    expect(sameDecimal('1e3', '1000')).toBe(true);
  });

  it('keeps a number as raw JSON only when a double would change its digits', () => {
    const { value } = parseLine('{"big":1290000000000000001,"small":1.50,"safe":9007199254740991,"long":0.1000000000000000001}') as { value: Record<string, unknown> };
    expect(JSON.stringify(value)).toBe('{"big":1290000000000000001,"small":1.5,"safe":9007199254740991,"long":0.1000000000000000001}');
    expect(typeof value.small).toBe('number');
    expect(typeof value.safe).toBe('number');
  });
});
