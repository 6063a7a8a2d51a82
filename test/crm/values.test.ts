import { describe, expect, it } from 'vitest';
import { readBoolean, readDate, readDecimal, readInstant } from '../../src/crm/values.ts';

describe('CRM-neutral value readers', () => {
  it('reads dates and tells a non-midnight timestamp apart', () => {
    expect(readDate('2026-02-28')).toEqual({ date: '2026-02-28' });
    expect(readDate('2026-02-30')).toBeUndefined();
    expect(readDate('2026-03-01T00:00:00Z')).toEqual({ date: '2026-03-01' });
    expect(readDate('2026-03-01 10:15:00')).toEqual({ notMidnight: '10:15:00' });
    expect(readDate(Date.UTC(2026, 0, 5))).toEqual({ date: '2026-01-05' });
    expect(readDate('yesterday')).toBeUndefined();
  });

  it('reads instants with or without a zone, UTC assumed', () => {
    expect(readInstant('2026-03-01 10:15:00')?.toISOString()).toBe('2026-03-01T10:15:00.000Z');
    expect(readInstant('2026-03-01T10:15:00+02:00')?.toISOString()).toBe('2026-03-01T08:15:00.000Z');
    expect(readInstant('2026-03-01T10:15:00.123456Z')?.toISOString()).toBe('2026-03-01T10:15:00.123Z');
    expect(readInstant(0)?.toISOString()).toBe('1970-01-01T00:00:00.000Z');
    expect(readInstant('2026-13-01T00:00:00Z')).toBeUndefined();
  });

  it('reads decimals without exponents or separators', () => {
    expect(readDecimal(12.5)).toBe('12.5');
    expect(readDecimal(1e21)).toBe('1000000000000000000000');
    expect(readDecimal(' 42 ')).toBe('42');
    expect(readDecimal('+3.10')).toBe('3.10');
    expect(readDecimal('1,000')).toBeUndefined();
    expect(readDecimal('12abc')).toBeUndefined();
    expect(readDecimal(Number.NaN)).toBeUndefined();
  });

  it('reads booleans from the usual warehouse spellings only', () => {
    expect([true, 'TRUE', 'yes', 1, 't'].map(readBoolean)).toEqual([true, true, true, true, true]);
    expect([false, 'False', 'no', 0, 'f'].map(readBoolean)).toEqual([false, false, false, false, false]);
    expect(readBoolean('maybe')).toBeUndefined();
    expect(readBoolean(2)).toBeUndefined();
  });
});
