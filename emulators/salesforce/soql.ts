// The SOQL subset the connector and its tests use:
//   SELECT f1, Lookup__r.f2 | COUNT() FROM Obj [WHERE cond] [ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], ...] [LIMIT n] [OFFSET n]
// where cond combines, with AND / OR / NOT and parentheses, comparisons (= != <> < <= > >=),
// [NOT] IN (...) and LIKE. String literals follow Salesforce's escaping rules. Errors carry the
// platform's codes (MALFORMED_QUERY, INVALID_TYPE, INVALID_FIELD, ...) and its caret-marked message.
import type { FieldValue } from './field-validation.js';
import { normalizeId } from './ids.js';
import { type FieldMeta, findField, type ObjectMeta, sfTimestamp } from './org.js';
import { lookupByRelationship } from './relationships.js';
import { Lexer, queryError, type Token } from './soql-lexer.js';

const INVALID_FIELD_HINT =
  "If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.";
const RELATIONSHIP_HINT =
  "If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.";
const INVALID_TYPE_HINT =
  "If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.";

type Literal = { token: Token; value: FieldValue };

export type Condition =
  | { kind: 'and' | 'or'; parts: Condition[] }
  | { kind: 'not'; part: Condition }
  | { kind: 'compare'; field: FieldMeta; op: string; literal: Literal }
  | { kind: 'in'; field: FieldMeta; negated: boolean; literals: Literal[] }
  | { kind: 'like'; field: FieldMeta; pattern: string };

export interface OrderItem {
  field: FieldMeta;
  descending: boolean;
  nullsLast: boolean;
}

/** A parent's field selected through a lookup (Account__r.Name); per parent type for a polymorphic one. */
export interface ParentField {
  lookup: FieldMeta;
  fieldByParent: Map<ObjectMeta, FieldMeta>;
}

export interface ParsedQuery {
  object: ObjectMeta;
  count: boolean;
  fields: FieldMeta[];
  parentFields: ParentField[];
  where?: Condition;
  orderBy: OrderItem[];
  limit?: number;
  offset: number;
}

const NUMERIC_TYPES = new Set(['double', 'currency', 'percent', 'int']);
const MAX_OFFSET = 2000;

/** Checks the query against the describe while it reads it: fields and literals must fit. */
class Parser {
  // Read lazily, so that a query is refused at its first wrong token, as the platform does.
  private readonly tokens: Token[] = [];
  private readonly lexer: Lexer;
  private index = 0;
  private object?: ObjectMeta;

  constructor(
    private readonly soql: string,
    private readonly findObject: (name: string) => ObjectMeta | undefined,
  ) {
    this.lexer = new Lexer(soql);
  }

  parse(): ParsedQuery {
    this.expectWord('SELECT');
    const selection = this.selection();
    this.expectWord('FROM');
    this.object = this.objectName();
    const selected = selection === 'count' ? [] : selection;
    const query: ParsedQuery = {
      object: this.object,
      count: selection === 'count',
      fields: this.resolveSelected(selected.filter((token) => !token.text.includes('.'))),
      parentFields: selected.filter((token) => token.text.includes('.')).map((token) => this.parentField(token)),
      orderBy: [],
      offset: 0,
    };
    if (this.acceptWord('WHERE')) query.where = this.condition();
    if (this.acceptWord('ORDER')) query.orderBy = this.orderBy();
    if (this.acceptWord('LIMIT')) query.limit = this.integer();
    if (this.acceptWord('OFFSET')) query.offset = this.offset();
    if (this.peek().kind !== 'eof') this.unexpected();
    return query;
  }

  private tokenAt(index: number): Token {
    while (this.tokens.length <= index && this.tokens.at(-1)?.kind !== 'eof') this.tokens.push(this.lexer.next());
    return this.tokens[Math.min(index, this.tokens.length - 1)];
  }

  private peek(): Token {
    return this.tokenAt(this.index);
  }

  private advance(): Token {
    const token = this.peek();
    this.index += 1;
    return token;
  }

  private isWord(text: string, token = this.peek()): boolean {
    return token.kind === 'word' && token.text.toUpperCase() === text;
  }

  private acceptWord(text: string): boolean {
    if (!this.isWord(text)) return false;
    this.index += 1;
    return true;
  }

  private expectWord(text: string): void {
    if (!this.acceptWord(text)) this.unexpected();
  }

  private acceptSymbol(text: string): boolean {
    const token = this.peek();
    if (token.kind !== 'symbol' || token.text !== text) return false;
    this.index += 1;
    return true;
  }

  private expectSymbol(text: string): void {
    if (!this.acceptSymbol(text)) this.unexpected();
  }

  private unexpected(): never {
    const token = this.peek();
    throw queryError(this.soql, token.pos, 'MALFORMED_QUERY', `unexpected token: ${token.text}`);
  }

  private selection(): Token[] | 'count' {
    if (this.isWord('COUNT') && this.tokenAt(this.index + 1).text === '(') {
      this.index += 1;
      this.expectSymbol('(');
      this.expectSymbol(')');
      return 'count';
    }
    const fields = [this.identifier()];
    while (this.acceptSymbol(',')) fields.push(this.identifier());
    return fields;
  }

  private identifier(): Token {
    const token = this.peek();
    if (token.kind !== 'word') this.unexpected();
    return this.advance();
  }

  private objectName(): ObjectMeta {
    const token = this.identifier();
    const meta = this.findObject(token.text);
    if (!meta) throw queryError(this.soql, token.pos, 'INVALID_TYPE', `sObject type '${token.text}' is not supported. ${INVALID_TYPE_HINT}`);
    return meta;
  }

  private field(token: Token): FieldMeta {
    const field = findField(this.object!, token.text);
    if (!field) {
      throw queryError(this.soql, token.pos, 'INVALID_FIELD', `No such column '${token.text}' on entity '${this.object!.name}'. ${INVALID_FIELD_HINT}`);
    }
    return field;
  }

  private resolveSelected(tokens: Token[]): FieldMeta[] {
    const fields: FieldMeta[] = [];
    for (const token of tokens) {
      const field = this.field(token);
      if (fields.includes(field)) throw queryError(this.soql, token.pos, 'MALFORMED_QUERY', `duplicate field selected: ${field.name}`);
      fields.push(field);
    }
    return fields;
  }

  /** Lookup__r.Field: one level up (deeper paths are not emulated and are refused). */
  private parentField(token: Token): ParentField {
    const [relationship, name, ...deeper] = token.text.split('.');
    const lookup = lookupByRelationship(this.object!, relationship);
    if (!lookup || !name || deeper.length > 0) {
      throw queryError(this.soql, token.pos, 'INVALID_FIELD', `Didn't understand relationship '${relationship}' in field path. ${RELATIONSHIP_HINT}`);
    }
    const fieldByParent = new Map<ObjectMeta, FieldMeta>();
    for (const parent of lookup.referenceTo.map((type) => this.findObject(type)!)) {
      const field = findField(parent, name);
      if (!field) throw queryError(this.soql, token.pos, 'INVALID_FIELD', `No such column '${name}' on entity '${parent.name}'. ${INVALID_FIELD_HINT}`);
      fieldByParent.set(parent, field);
    }
    return { lookup, fieldByParent };
  }

  /** SOQL wants parentheses wherever AND and OR meet: a AND b OR c is refused. */
  private condition(): Condition {
    const first = this.term();
    const joiner = this.isWord('AND') ? 'and' : this.isWord('OR') ? 'or' : undefined;
    if (!joiner) return first;
    const parts = [first];
    while (this.acceptWord(joiner.toUpperCase())) parts.push(this.term());
    if (this.isWord('AND') || this.isWord('OR')) this.unexpected();
    return { kind: joiner, parts };
  }

  private term(): Condition {
    if (this.acceptWord('NOT')) return { kind: 'not', part: this.term() };
    if (this.acceptSymbol('(')) {
      const inner = this.condition();
      this.expectSymbol(')');
      return inner;
    }
    return this.comparison();
  }

  private comparison(): Condition {
    const field = this.field(this.identifier());
    if (this.acceptWord('LIKE')) return { kind: 'like', field, pattern: this.likePattern(field) };
    const negated = this.isWord('NOT') && this.isWord('IN', this.tokenAt(this.index + 1));
    if (negated) this.index += 1;
    if (this.acceptWord('IN')) return { kind: 'in', field, negated, literals: this.literalList(field) };
    const op = this.peek();
    if (op.kind !== 'symbol' || !['=', '!=', '<>', '<', '<=', '>', '>='].includes(op.text)) this.unexpected();
    this.index += 1;
    const literal = this.literal(field);
    if (literal.value === null && op.text !== '=' && op.text !== '!=' && op.text !== '<>') {
      throw queryError(this.soql, literal.token.pos, 'INVALID_QUERY_FILTER_OPERATOR', `invalid operator on null: ${op.text}`);
    }
    return { kind: 'compare', field, op: op.text === '<>' ? '!=' : op.text, literal };
  }

  private likePattern(field: FieldMeta): string {
    const token = this.advance();
    if (token.kind !== 'string') this.literalTypeError(field, token);
    return token.value!;
  }

  private literalList(field: FieldMeta): Literal[] {
    this.expectSymbol('(');
    const literals = [this.literal(field)];
    while (this.acceptSymbol(',')) literals.push(this.literal(field));
    this.expectSymbol(')');
    return literals;
  }

  private literal(field: FieldMeta): Literal {
    const token = this.advance();
    if (token.kind === 'word' && token.text.toUpperCase() === 'NULL') return { token, value: null };
    return { token, value: this.literalValue(field, token) };
  }

  private literalValue(field: FieldMeta, token: Token): FieldValue {
    const wrongType = () => this.literalTypeError(field, token);
    if (token.kind === 'eof' || token.kind === 'symbol') {
      this.index -= 1;
      this.unexpected();
    }
    if (NUMERIC_TYPES.has(field.type)) return token.kind === 'number' ? Number(token.text) : wrongType();
    if (field.type === 'boolean') return token.kind === 'word' && /^(true|false)$/i.test(token.text) ? token.text.toLowerCase() === 'true' : wrongType();
    if (field.type === 'date') return token.kind === 'temporal' && token.text.length === 10 ? token.text : wrongType();
    if (field.type === 'datetime') return token.kind === 'temporal' && token.text.length > 10 ? sfTimestamp(new Date(token.text)) : wrongType();
    if (token.kind !== 'string') return wrongType();
    return field.type === 'id' || field.type === 'reference' ? this.idLiteral(token) : unescapeLike(token.value!);
  }

  private idLiteral(token: Token): string {
    const id = normalizeId(token.value!);
    if (!id) throw queryError(this.soql, token.pos, 'INVALID_QUERY_FILTER_OPERATOR', `invalid ID field: ${token.value}`);
    return id;
  }

  private literalTypeError(field: FieldMeta, token: Token): never {
    const quoted = ['string', 'textarea', 'email', 'phone', 'url', 'picklist', 'multipicklist', 'id', 'reference'].includes(field.type);
    const type = NUMERIC_TYPES.has(field.type) ? 'double' : field.type;
    const detail = quoted
      ? `value of filter criterion for field '${field.name}' must be of type ${type} and should be enclosed in quotes`
      : `value of filter criterion for field '${field.name}' must be of type ${type} and should not be enclosed in quotes`;
    throw queryError(this.soql, token.pos, 'INVALID_FIELD', detail);
  }

  private orderBy(): OrderItem[] {
    this.expectWord('BY');
    const items: OrderItem[] = [];
    do {
      const field = this.field(this.identifier());
      const descending = this.acceptWord('DESC');
      if (!descending) this.acceptWord('ASC');
      items.push({ field, descending, nullsLast: this.nullsLast(descending) });
    } while (this.acceptSymbol(','));
    return items;
  }

  /** Nulls come first in ascending order and last in descending order unless the query says. */
  private nullsLast(descending: boolean): boolean {
    if (!this.acceptWord('NULLS')) return descending;
    if (this.acceptWord('LAST')) return true;
    this.expectWord('FIRST');
    return false;
  }

  private integer(): number {
    const token = this.advance();
    if (token.kind !== 'number' || !/^\d+$/.test(token.text)) {
      this.index -= 1;
      this.unexpected();
    }
    return Number(token.text);
  }

  private offset(): number {
    const token = this.peek();
    const value = this.integer();
    if (value > MAX_OFFSET) {
      throw queryError(this.soql, token.pos, 'NUMBER_OUTSIDE_VALID_RANGE', `Maximum SOQL offset allowed is ${MAX_OFFSET}`);
    }
    return value;
  }
}

/** Outside LIKE, \_ and \% are just the characters. */
function unescapeLike(text: string): string {
  return text.replace(/\\([_%])/g, '$1');
}

export function parseSoql(soql: string, findObject: (name: string) => ObjectMeta | undefined): ParsedQuery {
  return new Parser(soql, findObject).parse();
}
