// A fast 64-bit FNV-1a hash (two 32-bit lanes) of each field's converted value. Change detection
// compares hashes, not values, so the store stays small whatever the text sizes; collisions at
// 2^-64 per comparison are far below any other failure rate of a sync.
import type { Values } from '../crm/destination.js';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const MIX_PRIME = 0x5bd1e995;
/** Strings are hashed as "s" + the string, so "1" and 1 differ; 0x73 is that "s". */
const STRING_TAG = 0x73;

export function hashValue(value: unknown): string {
  // Converted values are nearly always strings: hash them in place, without building "s" + value.
  if (typeof value === 'string') return hashText(value, STRING_TAG);
  return hashText(JSON.stringify(value) ?? 'u', -1);
}

/** The hash of `tag` (a char code, or -1 for none) followed by `text`. */
function hashText(text: string, tag: number): string {
  let h1 = FNV_OFFSET;
  let h2 = FNV_PRIME ^ (text.length + (tag >= 0 ? 1 : 0));
  if (tag >= 0) {
    h1 = Math.imul(h1 ^ tag, FNV_PRIME);
    h2 = Math.imul(h2 ^ tag, MIX_PRIME);
  }
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, FNV_PRIME);
    h2 = Math.imul(h2 ^ c, MIX_PRIME);
  }
  return base36(h1 >>> 0) + '.' + base36(h2 >>> 0);
}

const DIGITS = '0123456789abcdefghijklmnopqrstuvwxyz';

/** Same text as n.toString(36) for an unsigned 32-bit n, at twice the speed. */
function base36(n: number): string {
  let text = DIGITS[n % 36];
  for (n = Math.floor(n / 36); n > 0; n = Math.floor(n / 36)) text = DIGITS[n % 36] + text;
  return text;
}

export function hashFields(values: Values): Record<string, string> {
  const hashes: Record<string, string> = {};
  for (const name in values) hashes[name] = hashValue(values[name]);
  return hashes;
}
