// SOQL tokens: words, numbers, unquoted date and datetime literals, symbols, and string literals
// decoded by Salesforce's escaping rules (\' \" \\ \n \r \t \b \f \uXXXX, and \_ \% kept for LIKE).
import { ApiError } from './errors.js';

export type TokenKind = 'word' | 'string' | 'number' | 'temporal' | 'symbol' | 'eof';

export interface Token {
  kind: TokenKind;
  text: string;
  /** Decoded value of a string literal. */
  value?: string;
  pos: number;
}

// Escapes that stand for a character; \_ and \% stay escaped so LIKE can tell them from wildcards.
const ESCAPES: Record<string, string> = {
  n: '\n', N: '\n', r: '\r', R: '\r', t: '\t', T: '\t', b: '\b', B: '\b', f: '\f', F: '\f',
  '"': '"', "'": "'", '\\': '\\', _: '\\_', '%': '\\%',
};

const TEMPORAL = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2}))?/;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)/;
const WORD = /^[A-Za-z_][A-Za-z0-9_.]*/;
const SYMBOLS = ['!=', '<>', '<=', '>=', '=', '<', '>', '(', ')', ','];

/** Salesforce's query error: the query, a caret under the spot, its row and column, then the detail. */
export function queryError(soql: string, pos: number, errorCode: string, detail: string): ApiError {
  const before = soql.slice(0, pos);
  const row = before.split('\n').length;
  const lineStart = before.lastIndexOf('\n') + 1;
  const column = pos - lineStart + 1;
  const line = soql.slice(lineStart).split('\n')[0];
  const caret = `${' '.repeat(column - 1)}^`;
  return new ApiError(400, errorCode, `\n${line}\n${caret}\nERROR at Row:${row}:Column:${column}\n${detail}`);
}

export class Lexer {
  private pos = 0;

  constructor(private readonly soql: string) {}

  next(): Token {
    while (/\s/.test(this.soql[this.pos] ?? '')) this.pos += 1;
    const pos = this.pos;
    const rest = this.soql.slice(pos);
    if (rest === '') return { kind: 'eof', text: '<EOF>', pos };
    if (rest[0] === "'") return this.string(pos);
    const match = this.match(rest);
    if (!match) throw queryError(this.soql, pos, 'MALFORMED_QUERY', `unexpected token: '${rest[0]}'`);
    this.pos += match.text.length;
    return { ...match, pos };
  }

  private match(rest: string): { kind: TokenKind; text: string } | undefined {
    const patterns: [TokenKind, RegExp][] = [['temporal', TEMPORAL], ['number', NUMBER], ['word', WORD]];
    for (const [kind, pattern] of patterns) {
      const found = pattern.exec(rest);
      if (found) return { kind, text: found[0] };
    }
    const symbol = SYMBOLS.find((s) => rest.startsWith(s));
    return symbol ? { kind: 'symbol', text: symbol } : undefined;
  }

  private string(pos: number): Token {
    let value = '';
    for (let i = pos + 1; i < this.soql.length; i++) {
      const ch = this.soql[i];
      if (ch === "'") {
        this.pos = i + 1;
        return { kind: 'string', text: this.soql.slice(pos, i + 1), value, pos };
      }
      if (ch !== '\\') {
        value += ch;
        continue;
      }
      const unicode = /^u([0-9a-fA-F]{4})/.exec(this.soql.slice(i + 1, i + 6));
      if (unicode) {
        value += String.fromCharCode(parseInt(unicode[1], 16));
        i += 5;
        continue;
      }
      const escaped = ESCAPES[this.soql[i + 1]];
      if (escaped === undefined) {
        throw queryError(this.soql, i, 'MALFORMED_QUERY', `Illegal character sequence '\\${this.soql[i + 1] ?? ''}' in string literal.`);
      }
      value += escaped;
      i += 1;
    }
    throw queryError(this.soql, this.soql.length, 'MALFORMED_QUERY', `unexpected token: <EOF>: the string literal opened at ${pos + 1} is not closed`);
  }
}
