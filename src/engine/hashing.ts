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

/**
 * The entry of the stored hashes that holds the row's own hash, kept first in their JSON text so
 * that an unchanged row is told by a prefix of that text: no parsing, no conversion. No CRM field
 * name starts with "@".
 */
export const ROW_HASH_ENTRY = '@row';

/** The start of the stored hashes' JSON text when they hold this row hash. */
export function rowHashPrefix(rowHash: string): string {
  return `{"${ROW_HASH_ENTRY}":"${rowHash}"`;
}

/** The hashes as the JSON text to store: the row hash (when there is one) first, then each field's. */
export function hashesText(rowHash: string | undefined, hashes: Record<string, string>): string {
  const fields = JSON.stringify(hashes);
  if (rowHash === undefined) return fields;
  return fields === '{}' ? `${rowHashPrefix(rowHash)}}` : `${rowHashPrefix(rowHash)},${fields.slice(1)}`;
}

// The row hash's running state: hashRow is synchronous, so one pair of lanes serves every call.
let lane1 = 0;
let lane2 = 0;

/** Mixes `tag` (a char code: what kind of text follows) and `text` into the lanes, then a separator. */
function mix(tag: number, text: string): void {
  let h1 = Math.imul(lane1 ^ tag, FNV_PRIME);
  let h2 = Math.imul(lane2 ^ tag, MIX_PRIME);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, FNV_PRIME);
    h2 = Math.imul(h2 ^ c, MIX_PRIME);
  }
  // A separator no text holds: ["ab", "c"] and ["a", "bc"] hash apart.
  lane1 = Math.imul(h1 ^ 0xffff_ffff, FNV_PRIME);
  lane2 = Math.imul(h2 ^ (text.length + 1), MIX_PRIME);
}

const NAME_TAG = 0x6b; // "k"
const TEXT_TAG = 0x73; // "s"
const NUMBER_TAG = 0x6e; // "n"
const JSON_TAG = 0x6a; // "j"

/**
 * One hash of a row as read: its key and mapped values before conversion, and `context`, which
 * names everything conversion depends on besides them (the object's fields as described, the
 * connector's version). Equal row hashes mean equal converted values, so the row need not be
 * converted to be found unchanged.
 */
export function hashRow(context: string, key: string, values: Values): string {
  lane1 = FNV_OFFSET;
  lane2 = FNV_PRIME;
  mix(NAME_TAG, context);
  mix(TEXT_TAG, key);
  for (const name in values) {
    mix(NAME_TAG, name);
    const value = values[name];
    // The type is part of the value: "1" and 1 may convert apart.
    if (typeof value === 'string') mix(TEXT_TAG, value);
    else if (typeof value === 'number' || typeof value === 'bigint') mix(NUMBER_TAG, String(value));
    else mix(JSON_TAG, JSON.stringify(value) ?? 'u');
  }
  return base36(lane1 >>> 0) + '.' + base36(lane2 >>> 0);
}
