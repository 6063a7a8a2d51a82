// How a line of JSON text becomes a value, safely for what follows: numbers keep the digits of
// the input, and a structure nested too deeply is refused here, once, so nothing downstream
// (JSON.stringify, structuredClone, a reviver) can overflow the stack on it.
import { rawJson } from '../raw-json.js';

/** No CRM field takes structure this deep; past it a row is rejected (too_deep). */
export const MAX_NESTING = 100;

/**
 * 16 digits in a row (dots allowed between them) may not fit a double exactly: only then is the
 * reviver worth its cost. Anchored to the start of a run so a shorter run costs one try, not one
 * per digit (3x faster on rows with 13-digit timestamps).
 */
const LONG_NUMBER = /(?:^|[^\d.])[\d.]{16}/;
/** A double holds every decimal of at most 15 significant digits exactly. */
const EXACT_DIGITS = 15;

export type ParsedLine = { value: unknown } | { tooDeep: true };

/** Parses `text` (throws SyntaxError like JSON.parse). */
export function parseLine(text: string): ParsedLine {
  const exact = LONG_NUMBER.test(text);
  if (!mayNestDeeperThan(text, MAX_NESTING)) return { value: exact ? parseExactNumbers(text) : JSON.parse(text) };
  // JSON.parse itself does not recurse; its reviver does, so depth is checked between the two.
  const value: unknown = JSON.parse(text);
  if (nestsDeeperThan(value, MAX_NESTING)) return { tooDeep: true };
  return { value: exact ? parseExactNumbers(text) : value };
}

/** JSON.parse where a number a double would round keeps its text (a raw JSON value). */
export function parseExactNumbers(text: string): unknown {
  return JSON.parse(text, (_key, value, context?: { source?: string }) => {
    const source = context?.source;
    if (typeof value === 'number' && source !== undefined && significantDigits(source) > EXACT_DIGITS && String(value) !== source) {
      return rawJson(source);
    }
    return value;
  });
}

/** JSON.parse that keeps every number whose text differs from a double's (1.50, 1e2...), for verbatim re-emission. */
export function parseLossless(text: string): unknown {
  return JSON.parse(text, (_key, value, context?: { source?: string }) => {
    if (typeof value === 'number' && context?.source !== undefined && String(value) !== context.source) return rawJson(context.source);
    return value;
  });
}

function significantDigits(numberText: string): number {
  const mantissa = numberText.split(/e/i)[0].replace(/[-+.]/g, '').replace(/^0+/, '');
  return mantissa.length;
}

/** False when `text` holds too few brackets to nest that deep: then the value need not be walked. */
function mayNestDeeperThan(text: string, limit: number): boolean {
  let openings = 0;
  for (const bracket of ['{', '[']) {
    for (let at = text.indexOf(bracket); at >= 0; at = text.indexOf(bracket, at + 1)) {
      if (++openings > limit) return true;
    }
  }
  return false;
}

/** Whether objects and arrays nest more than `limit` levels in `root` (walked with a stack of its own, not recursion). */
export function nestsDeeperThan(root: unknown, limit: number): boolean {
  const pending: { value: unknown; depth: number }[] = [{ value: root, depth: 0 }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { value, depth } = next;
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= limit) return true;
    for (const child of Array.isArray(value) ? value : Object.values(value)) {
      if (typeof child === 'object' && child !== null) pending.push({ value: child, depth: depth + 1 });
    }
  }
  return false;
}
