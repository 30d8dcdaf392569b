import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';
import { ComplianceError } from './errors.js';

/** A value the canonical encoding accepts after `toJSON` is applied: JSON data plus `bigint`. */
export type CanonicalValue = null | boolean | number | string | bigint | readonly CanonicalValue[] | { readonly [key: string]: CanonicalValue };

/**
 * The one canonical text encoding that audit hashes are computed over (and that `event_json` stores):
 * JSON without whitespace, object keys sorted by UTF-16 code units (as `Array.prototype.sort`),
 * properties whose value is `undefined` omitted, strings and keys escaped by `JSON.stringify`
 * (lone surrogates as `\udXXX`), numbers as `JSON.stringify` writes them (finite only; `-0` is `0`),
 * and a bigint as its decimal digits followed by `n` (`1n`), so `"1"`, `1` and `1n` all differ.
 * An object with a `toJSON` method (Decimal, Price, Money, Date) is encoded as what it returns.
 * @throws ComplianceError SerializationError naming the path of a value that has no encoding: a
 *   non-finite number, a function, a symbol, `undefined` outside an object, a cycle, or an object
 *   that is neither plain nor an array and has no `toJSON`
 */
export function encodeCanonical(value: unknown, path = 'value'): string {
  return encode(value, path, [], []);
}

/** Text already in canonical form, spliced in verbatim (module-internal: lets the trail encode an event once). */
export class PreEncoded {
  constructor(readonly text: string) {}
}

function encode(value: unknown, base: string, segs: (string | number)[], stack: object[]): string {
  if (value instanceof PreEncoded) return value.text;
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return `${value.toString()}n`;
    case 'number':
      if (!Number.isFinite(value)) throw new ComplianceError('SerializationError', `${pathOf(base, segs)}: ${String(value)} has no canonical encoding (finite numbers only)`);
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (stack.includes(value)) throw new ComplianceError('SerializationError', `${pathOf(base, segs)}: circular reference`);
      const toJSON = (value as { toJSON?: unknown }).toJSON;
      stack.push(value);
      try {
        if (typeof toJSON === 'function') return encode((toJSON as () => unknown).call(value), base, segs, stack);
        if (Array.isArray(value)) {
          let out = '[';
          for (let i = 0; i < value.length; i++) {
            segs.push(i);
            out += i === 0 ? encode(value[i], base, segs, stack) : `,${encode(value[i], base, segs, stack)}`;
            segs.pop();
          }
          return `${out}]`;
        }
        const proto: unknown = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) {
          const kind = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
          throw new ComplianceError('SerializationError', `${pathOf(base, segs)}: a ${kind} has no canonical encoding (plain objects, arrays and values with toJSON only)`);
        }
        const keys = Object.keys(value).sort();
        let out = '{';
        let first = true;
        for (const k of keys) {
          const v = (value as Record<string, unknown>)[k];
          if (v === undefined) continue;
          segs.push(k);
          const text = `${JSON.stringify(k)}:${encode(v, base, segs, stack)}`;
          segs.pop();
          out += first ? text : `,${text}`;
          first = false;
        }
        return `${out}}`;
      } finally {
        stack.pop();
      }
    }
    default:
      throw new ComplianceError('SerializationError', `${pathOf(base, segs)}: ${value === undefined ? 'undefined' : `a ${typeof value}`} has no canonical encoding`);
  }
}

/** The path named in errors (`base.key[0]`), built only when one is thrown. */
function pathOf(base: string, segs: readonly (string | number)[]): string {
  let out = base;
  for (const s of segs) out += typeof s === 'number' ? `[${s}]` : `.${s}`;
  return out;
}

/**
 * The frozen plain copy of `value` that the canonical encoding describes (toJSON applied, undefined
 * properties dropped), i.e. what `decodeCanonical(encodeCanonical(value))` returns, without the text round trip.
 * @throws ComplianceError SerializationError as `encodeCanonical`
 */
export function toCanonicalValue(value: unknown, path = 'value'): CanonicalValue {
  return copy(value, path, [], []);
}

function copy(value: unknown, base: string, segs: (string | number)[], stack: object[]): CanonicalValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'bigint':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new ComplianceError('SerializationError', `${pathOf(base, segs)}: ${String(value)} has no canonical encoding (finite numbers only)`);
      return value === 0 ? 0 : value;
    case 'object': {
      if (value === null) return null;
      if (stack.includes(value)) throw new ComplianceError('SerializationError', `${pathOf(base, segs)}: circular reference`);
      const toJSON = (value as { toJSON?: unknown }).toJSON;
      stack.push(value);
      try {
        if (typeof toJSON === 'function') return copy((toJSON as () => unknown).call(value), base, segs, stack);
        if (Array.isArray(value)) {
          const out: CanonicalValue[] = [];
          for (let i = 0; i < value.length; i++) {
            segs.push(i);
            out.push(copy(value[i], base, segs, stack));
            segs.pop();
          }
          return Object.freeze(out);
        }
        const proto: unknown = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) {
          const kind = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
          throw new ComplianceError('SerializationError', `${pathOf(base, segs)}: a ${kind} has no canonical encoding (plain objects, arrays and values with toJSON only)`);
        }
        const out: Record<string, CanonicalValue> = {};
        for (const k of Object.keys(value).sort()) {
          const v = (value as Record<string, unknown>)[k];
          if (v === undefined) continue;
          segs.push(k);
          setData(out, k, copy(v, base, segs, stack));
          segs.pop();
        }
        return Object.freeze(out);
      } finally {
        stack.pop();
      }
    }
    default:
      throw new ComplianceError('SerializationError', `${pathOf(base, segs)}: ${value === undefined ? 'undefined' : `a ${typeof value}`} has no canonical encoding`);
  }
}

/**
 * `toCanonicalValue(value)` and `encodeCanonical(value)` in one traversal: the frozen plain copy and its
 * canonical text (what the audit trail stores and hashes for an entry's cause).
 * @throws ComplianceError SerializationError as `encodeCanonical`
 */
export function canonicalize(value: unknown, path = 'value'): { readonly value: CanonicalValue; readonly text: string } {
  const out = { text: '' };
  const v = both(value, path, [], [], out);
  return { value: v, text: out.text };
}

// appends the canonical text of `value` to `out.text` and returns its frozen plain copy
function both(value: unknown, base: string, segs: (string | number)[], stack: object[], out: { text: string }): CanonicalValue {
  switch (typeof value) {
    case 'string':
      out.text += JSON.stringify(value);
      return value;
    case 'boolean':
      out.text += value ? 'true' : 'false';
      return value;
    case 'bigint':
      out.text += `${value.toString()}n`;
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new ComplianceError('SerializationError', `${pathOf(base, segs)}: ${String(value)} has no canonical encoding (finite numbers only)`);
      out.text += JSON.stringify(value);
      return value === 0 ? 0 : value;
    case 'object': {
      if (value === null) {
        out.text += 'null';
        return null;
      }
      if (stack.includes(value)) throw new ComplianceError('SerializationError', `${pathOf(base, segs)}: circular reference`);
      const toJSON = (value as { toJSON?: unknown }).toJSON;
      stack.push(value);
      try {
        if (typeof toJSON === 'function') return both((toJSON as () => unknown).call(value), base, segs, stack, out);
        if (Array.isArray(value)) {
          const arr: CanonicalValue[] = [];
          out.text += '[';
          for (let i = 0; i < value.length; i++) {
            if (i > 0) out.text += ',';
            segs.push(i);
            arr.push(both(value[i], base, segs, stack, out));
            segs.pop();
          }
          out.text += ']';
          return Object.freeze(arr);
        }
        const proto: unknown = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) {
          const kind = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
          throw new ComplianceError('SerializationError', `${pathOf(base, segs)}: a ${kind} has no canonical encoding (plain objects, arrays and values with toJSON only)`);
        }
        const obj: Record<string, CanonicalValue> = {};
        out.text += '{';
        let first = true;
        for (const k of Object.keys(value).sort()) {
          const v = (value as Record<string, unknown>)[k];
          if (v === undefined) continue;
          out.text += first ? `${JSON.stringify(k)}:` : `,${JSON.stringify(k)}:`;
          first = false;
          segs.push(k);
          setData(obj, k, both(v, base, segs, stack, out));
          segs.pop();
        }
        out.text += '}';
        return Object.freeze(obj);
      } finally {
        stack.pop();
      }
    }
    default:
      throw new ComplianceError('SerializationError', `${pathOf(base, segs)}: ${value === undefined ? 'undefined' : `a ${typeof value}`} has no canonical encoding`);
  }
}

function setData(out: Record<string, CanonicalValue>, k: string, v: CanonicalValue): void {
  // a "__proto__" key must become data, not the prototype
  if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  else out[k] = v;
}

/**
 * Parses canonical text back into frozen plain data (bigints for `…n` tokens); the result
 * re-encodes to the same text only when the input was canonical, which callers check.
 * @throws ComplianceError SerializationError naming the offset of the first syntax error
 */
export function decodeCanonical(text: string): CanonicalValue {
  const p = new Parser(text);
  const v = p.value();
  p.skipSpace();
  if (p.pos !== text.length) p.fail('trailing characters');
  return v;
}

const NUMBER_RE = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

class Parser {
  pos = 0;
  constructor(readonly text: string) {}

  fail(what: string): never {
    throw new ComplianceError('SerializationError', `canonical text: ${what} at offset ${this.pos}`);
  }

  // canonical text has no whitespace; accepting it lets the caller report "not canonical" rather than "unreadable"
  skipSpace(): void {
    while (this.pos < this.text.length && ' \t\n\r'.includes(this.text[this.pos] as string)) this.pos++;
  }

  value(): CanonicalValue {
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (this.text.startsWith('null', this.pos)) return this.word('null', null);
    if (this.text.startsWith('true', this.pos)) return this.word('true', true);
    if (this.text.startsWith('false', this.pos)) return this.word('false', false);
    NUMBER_RE.lastIndex = this.pos;
    const m = NUMBER_RE.exec(this.text);
    if (m === null) this.fail(c === undefined ? 'unexpected end' : `unexpected ${JSON.stringify(c)}`);
    const token = m[0];
    this.pos += token.length;
    if (this.text[this.pos] === 'n') {
      if (!/^-?\d+$/.test(token)) this.fail('bigint with a fraction or exponent');
      this.pos++;
      return BigInt(token);
    }
    return JSON.parse(token) as number;
  }

  word<T>(w: string, v: T): T {
    this.pos += w.length;
    return v;
  }

  string(): string {
    const start = this.pos;
    // fast path: no escapes and no control characters (which JSON forbids raw), so the token is its content
    for (let i = start + 1; i < this.text.length; i++) {
      const c = this.text.charCodeAt(i);
      if (c === 34) {
        this.pos = i + 1;
        return this.text.slice(start + 1, i);
      }
      if (c === 92 || c < 32) break;
    }
    this.pos++;
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined) this.fail('unterminated string');
      if (c === '\\') this.pos += 2;
      else if (c === '"') break;
      else this.pos++;
    }
    this.pos++;
    try {
      return JSON.parse(this.text.slice(start, this.pos)) as string;
    } catch {
      this.pos = start;
      return this.fail('bad string');
    }
  }

  array(): CanonicalValue {
    this.pos++;
    const out: CanonicalValue[] = [];
    this.skipSpace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return Object.freeze(out);
    }
    for (;;) {
      out.push(this.value());
      this.skipSpace();
      const c = this.text[this.pos++];
      if (c === ']') return Object.freeze(out);
      if (c !== ',') {
        this.pos--;
        this.fail('expected , or ]');
      }
    }
  }

  object(): CanonicalValue {
    this.pos++;
    const out: Record<string, CanonicalValue> = {};
    this.skipSpace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return Object.freeze(out);
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] !== '"') this.fail('expected a key');
      const k = this.string();
      this.skipSpace();
      if (this.text[this.pos++] !== ':') {
        this.pos--;
        this.fail('expected :');
      }
      if (Object.hasOwn(out, k)) this.fail(`duplicate key ${JSON.stringify(k)}`);
      setData(out, k, this.value());
      this.skipSpace();
      const c = this.text[this.pos++];
      if (c === '}') return Object.freeze(out);
      if (c !== ',') {
        this.pos--;
        this.fail('expected , or }');
      }
    }
  }
}

// crypto.hash (Node >= 20.12) hashes in one call, without a Hash object
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

/** SHA-256 of the UTF-8 bytes of `text`, as 64 lowercase hex digits. */
export function sha256Hex(text: string): string {
  return oneShot === undefined ? createHash('sha256').update(text, 'utf8').digest('hex') : oneShot('sha256', text, 'hex');
}
