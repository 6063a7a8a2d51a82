// Salesforce record ids: 3-character key prefix, 12 characters of identity, and the 3-character
// case-safety suffix that makes an 18-character id from a 15-character one.

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
const ID_SHAPE = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;

/** The suffix encodes, 5 characters at a time, which positions hold an upper-case letter. */
function caseSafeSuffix(id15: string): string {
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const ch = id15[chunk * 5 + i];
      if (ch >= 'A' && ch <= 'Z') bits |= 1 << i;
    }
    suffix += SUFFIX_ALPHABET[bits];
  }
  return suffix;
}

export function to18(id15: string): string {
  return id15 + caseSafeSuffix(id15);
}

/** Returns the canonical 18-character form, or undefined when the text is not a well-formed id. */
export function normalizeId(text: string): string | undefined {
  if (!ID_SHAPE.test(text)) return undefined;
  const id15 = text.slice(0, 15);
  if (text.length === 18 && text.slice(15).toUpperCase() !== caseSafeSuffix(id15)) return undefined;
  return to18(id15);
}

export function keyPrefixOf(id: string): string {
  return id.slice(0, 3);
}

function base62(n: number, width: number): string {
  let out = '';
  for (let rest = n; rest > 0; rest = Math.floor(rest / 62)) out = BASE62[rest % 62] + out;
  return out.padStart(width, '0');
}

/** Hands out ids that look like one org's: the same pod characters, a rising counter. */
export class IdFactory {
  private counter = 0;

  next(keyPrefix: string): string {
    this.counter += 1;
    return to18(`${keyPrefix}5g0${base62(this.counter, 9)}`);
  }
}

/** Custom objects get key prefixes a00, a01, ... in the order they are defined. */
export function customKeyPrefix(index: number): string {
  return `a${base62(index, 2)}`;
}
