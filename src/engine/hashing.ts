// A fast 64-bit FNV-1a hash (two 32-bit lanes) of each field's converted value. Change detection
// compares hashes, not values, so the store stays small whatever the text sizes; collisions at
// 2^-64 per comparison are far below any other failure rate of a sync.
import type { Values } from '../crm/destination.js';

export function hashValue(value: unknown): string {
  const text = typeof value === 'string' ? `s${value}` : JSON.stringify(value) ?? 'u';
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  return (h1 >>> 0).toString(36) + '.' + (h2 >>> 0).toString(36);
}

export function hashFields(values: Values): Record<string, string> {
  const hashes: Record<string, string> = {};
  for (const name in values) hashes[name] = hashValue(values[name]);
  return hashes;
}
