import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Price } from '../core/decimal.js';
import { canonicalize, decodeCanonical, encodeCanonical, sha256Hex, toCanonicalValue } from './canonical.js';
import { auditEntryCanonical, auditEntryHash, GENESIS_HASH } from './entry.js';
import { ComplianceError } from './errors.js';

/** Plain data of every kind the encoding accepts. */
const canonicalValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.bigInt(),
    fc.string({ unit: 'binary', maxLength: 12 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ unit: 'binary', maxLength: 6 }), tie('value'), { maxKeys: 4 }),
  ),
})).value;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof ComplianceError) return `${e.code}: ${e.detail}`;
    throw e;
  }
  return undefined;
}

describe('encodeCanonical', () => {
  it('writes sorted keys, no whitespace, tagged bigints, omitted undefined fields', () => {
    expect(encodeCanonical({ b: 1, a: [true, null, 'x'], c: undefined, d: { z: 2n, y: -3n } })).toBe('{"a":[true,null,"x"],"b":1,"d":{"y":-3n,"z":2n}}');
  });

  it('tells "1", 1 and 1n apart, in the text and in the hash', () => {
    const texts = [encodeCanonical('1'), encodeCanonical(1), encodeCanonical(1n)];
    expect(texts).toEqual(['"1"', '1', '1n']);
    expect(new Set(texts.map(sha256Hex)).size).toBe(3);
    expect(encodeCanonical({ v: 10n })).not.toBe(encodeCanonical({ v: 10 }));
  });

  it('does not depend on key insertion order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 5 }), canonicalValue, { maxKeys: 6 }), (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        expect(encodeCanonical(reversed)).toBe(encodeCanonical(obj));
      }),
    );
  });

  it('escapes strings and keys as JSON does, lone surrogates included', () => {
    expect(encodeCanonical({ 'k"\n': 'a"b\\c\u0001\ud800é' })).toBe('{"k\\"\\n":"a\\"b\\\\c\\u0001\\ud800é"}');
  });

  it('sorts keys by UTF-16 code units', () => {
    expect(encodeCanonical({ b: 0, B: 0, '\u00e9': 0, a: 0, '10': 0, '9': 0 })).toBe('{"10":0,"9":0,"B":0,"a":0,"b":0,"é":0}');
  });

  it('writes -0 as 0 and uses toJSON (Price as its decimal string)', () => {
    expect(encodeCanonical(-0)).toBe('0');
    expect(encodeCanonical({ px: Price.of('101.50'), at: new Date(0) })).toBe('{"at":"1970-01-01T00:00:00.000Z","px":"101.50"}');
  });

  it('refuses what has no encoding, naming the path', () => {
    expect(codeOf(() => encodeCanonical({ a: [1, Number.NaN] }, 'event'))).toBe('SerializationError: event.a[1]: NaN has no canonical encoding (finite numbers only)');
    expect(codeOf(() => encodeCanonical({ f: Infinity }))).toMatch(/^SerializationError: value\.f: Infinity/);
    expect(codeOf(() => encodeCanonical({ m: new Map() }))).toMatch(/^SerializationError: value\.m: a Map has no canonical encoding/);
    expect(codeOf(() => encodeCanonical([undefined]))).toMatch(/^SerializationError: value\[0\]: undefined/);
    expect(codeOf(() => encodeCanonical({ g: () => 1 }))).toMatch(/^SerializationError: value\.g: a function/);
    expect(codeOf(() => encodeCanonical(Symbol('s')))).toMatch(/^SerializationError: value: a symbol/);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { back: cyclic };
    expect(codeOf(() => encodeCanonical(cyclic))).toBe('SerializationError: value.self.back: circular reference');
    // a shared (non-cyclic) reference is fine
    const shared = { x: 1 };
    expect(encodeCanonical({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
  });
});

describe('decodeCanonical', () => {
  it('round-trips every value exactly (text and bigint/number types)', () => {
    fc.assert(
      fc.property(canonicalValue, (v) => {
        const text = encodeCanonical(v);
        const back = decodeCanonical(text);
        expect(encodeCanonical(back)).toBe(text);
      }),
    );
    expect(decodeCanonical('{"a":[1n,1,"1"]}')).toEqual({ a: [1n, 1, '1'] });
  });

  it('gives what toCanonicalValue gives without the text round trip, frozen', () => {
    fc.assert(
      fc.property(canonicalValue, (v) => {
        const copy = toCanonicalValue(v);
        expect(copy).toEqual(decodeCanonical(encodeCanonical(v)));
        expect(encodeCanonical(copy)).toBe(encodeCanonical(v));
        if (typeof copy === 'object' && copy !== null) expect(Object.isFrozen(copy)).toBe(true);
      }),
    );
    expect(toCanonicalValue({ px: Price.of('1.50'), gone: undefined, z: -0 })).toEqual({ px: '1.50', z: 0 });
    expect(() => toCanonicalValue({ a: [Number.NaN] }, 'event')).toThrow('[SerializationError] event.a[0]: NaN has no canonical encoding (finite numbers only)');
  });

  it('canonicalize gives toCanonicalValue and encodeCanonical in one pass, with the same errors', () => {
    fc.assert(
      fc.property(canonicalValue, (v) => {
        const both = canonicalize(v);
        expect(both.text).toBe(encodeCanonical(v));
        expect(both.value).toEqual(toCanonicalValue(v));
        if (typeof both.value === 'object' && both.value !== null) expect(Object.isFrozen(both.value)).toBe(true);
      }),
    );
    expect(canonicalize({ px: Price.of('1.50'), gone: undefined, z: -0, at: new Date(0) })).toEqual({ value: { px: '1.50', z: 0, at: '1970-01-01T00:00:00.000Z' }, text: '{"at":"1970-01-01T00:00:00.000Z","px":"1.50","z":0}' });
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { back: [cyclic] };
    for (const bad of [{ a: [1, Number.NaN] }, { m: { k: new Map() } }, [undefined], { g: () => 1 }, cyclic]) {
      expect(codeOf(() => canonicalize(bad, 'event'))).toBe(codeOf(() => encodeCanonical(bad, 'event')));
      expect(codeOf(() => canonicalize(bad, 'event'))).toMatch(/^SerializationError: event/);
    }
    expect(codeOf(() => canonicalize(cyclic))).toBe('SerializationError: value.self.back[0]: circular reference');
  });

  it('keeps a "__proto__" key as data', () => {
    const v = decodeCanonical('{"__proto__":{"x":1}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(encodeCanonical(v)).toBe('{"__proto__":{"x":1}}');
  });

  it('reads non-canonical spacing (so callers can call it altered) and rejects bad text with an offset', () => {
    expect(encodeCanonical(decodeCanonical('{ "b": 1, "a": 2n }'))).toBe('{"a":2n,"b":1}');
    expect(codeOf(() => decodeCanonical('{"a":1'))).toBe('SerializationError: canonical text: expected , or } at offset 6');
    expect(codeOf(() => decodeCanonical('1.5n'))).toMatch(/bigint with a fraction/);
    expect(codeOf(() => decodeCanonical('{"a":1,"a":2}'))).toMatch(/duplicate key "a"/);
    expect(codeOf(() => decodeCanonical('[1] x'))).toMatch(/trailing characters at offset 4/);
    expect(codeOf(() => decodeCanonical('"abc'))).toMatch(/unterminated string/);
  });
});

describe('audit entry canonical form', () => {
  it('is pinned: field names, order and tags are part of the stored format', () => {
    const body = {
      seq: 1,
      tsNs: 1_700_000_000_000_000_000n,
      kind: 'transition',
      subject: 'O-1',
      fromState: 'SUBMITTED',
      toState: 'ACCEPTED',
      reason: 'venue ack',
      event: { type: 'OrderAccepted', tsEvent: 5n },
      prevHash: GENESIS_HASH,
    };
    const text =
      '{"event":{"tsEvent":5n,"type":"OrderAccepted"},"fromState":"SUBMITTED","kind":"transition","prevHash":"' +
      GENESIS_HASH +
      '","reason":"venue ack","seq":1,"subject":"O-1","toState":"ACCEPTED","tsNs":1700000000000000000n}';
    expect(auditEntryCanonical(body)).toBe(text);
    expect(auditEntryHash(body)).toBe(createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex'));
    const { fromState: _f, toState: _t, event: _e, ...bare } = body;
    expect(auditEntryCanonical(bare)).toBe(`{"kind":"transition","prevHash":"${GENESIS_HASH}","reason":"venue ack","seq":1,"subject":"O-1","tsNs":1700000000000000000n}`);
  });

  it('is encodeCanonical of the entry fields for any entry, with or without the pre-encoded event, and hashes as sha256 of it', () => {
    const text = fc.string({ unit: 'binary', maxLength: 10 });
    fc.assert(
      fc.property(
        fc.record(
          { seq: fc.integer({ min: -5, max: 2 ** 40 }), tsNs: fc.bigInt(), kind: text, subject: text, fromState: text, toState: text, reason: text, event: canonicalValue, prevHash: text },
          { requiredKeys: ['seq', 'tsNs', 'kind', 'subject', 'reason', 'prevHash'] },
        ),
        (fields) => {
          const body = fields as unknown as Parameters<typeof auditEntryCanonical>[0];
          const expected = encodeCanonical({ seq: body.seq, tsNs: body.tsNs, kind: body.kind, subject: body.subject, fromState: body.fromState, toState: body.toState, reason: body.reason, event: body.event, prevHash: body.prevHash });
          expect(auditEntryCanonical(body)).toBe(expected);
          if (body.event !== undefined) expect(auditEntryCanonical(body, encodeCanonical(body.event))).toBe(expected);
          expect(auditEntryHash(body)).toBe(createHash('sha256').update(Buffer.from(expected, 'utf8')).digest('hex'));
        },
      ),
    );
    // fields of the wrong type take the general encoder, which names what is wrong
    expect(() => auditEntryCanonical({ seq: Number.NaN, tsNs: 1n, kind: 'k', subject: 's', reason: 'r', prevHash: GENESIS_HASH })).toThrow(/entry\.seq: NaN/);
    expect(() => auditEntryCanonical({ seq: 1, tsNs: 1n, kind: 'k', subject: 's', reason: 'r', prevHash: GENESIS_HASH, event: { x: Number.NaN } })).toThrow(/entry\.event\.x: NaN/);
  });
});
