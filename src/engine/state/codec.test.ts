import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Price } from '../../core/decimal.js';
import { canonicalJson, configHash, decodeState, encodeState, PACK_MIN_LENGTH, sha256Hex } from './codec.js';
import { StateError } from './errors.js';

function roundTrip(v: unknown): unknown {
  return decodeState(encodeState(v));
}

function errorOf(fn: () => unknown): StateError {
  try {
    fn();
  } catch (e) {
    if (e instanceof StateError) return e;
    throw e;
  }
  throw new Error('expected a StateError');
}

describe('encodeState / decodeState', () => {
  it('round-trips bigints, non-finite numbers, -0, undefined and $-keys exactly', () => {
    const v = {
      big: 123456789012345678901234567890n,
      neg: -5n,
      zero: 0n,
      nums: [Number.NaN, Infinity, -Infinity, -0, 0, 1.5],
      und: undefined,
      arr: [undefined, null, 'x'],
      $n: 'a user key that looks like a tag',
      $$x: { $f: 1 },
      $: true,
      nested: { deep: { deeper: [1n, { $u: 1 }] } },
    };
    const json = encodeState(v);
    expect(JSON.parse(json)).toMatchObject({ big: { $n: '123456789012345678901234567890' }, $$n: 'a user key that looks like a tag', $$$x: { $$f: 1 } });
    const back = roundTrip(v) as typeof v;
    expect(back).toStrictEqual(v);
    expect(Object.is(back.nums[3], -0)).toBe(true);
    expect('und' in back).toBe(true);
  });

  it('packs long number arrays as float64, bit-exact, and leaves short or mixed arrays as JSON', () => {
    const window = Array.from({ length: 30 }, (_, i) => 100 + i / 3 + 1e-13 * i);
    window[4] = Number.NaN;
    window[5] = -0;
    window[6] = Number.MIN_VALUE;
    const v = { window, short: [1, 2, 3], mixed: [...window.slice(0, 10), 'x'] };
    const parsed = JSON.parse(encodeState(v)) as Record<string, unknown>;
    expect(Object.keys(parsed['window'] as object)).toEqual(['$f64']);
    expect(parsed['short']).toEqual([1, 2, 3]);
    expect(Array.isArray(parsed['mixed'])).toBe(true);
    const back = roundTrip(v) as typeof v;
    expect(back).toStrictEqual(v);
    expect(Array.isArray(back.window)).toBe(true);
    expect(Object.is(back.window[5], -0)).toBe(true);
    expect(roundTrip(Array(PACK_MIN_LENGTH).fill(2.5))).toStrictEqual(Array(PACK_MIN_LENGTH).fill(2.5));
  });

  it('never modifies its input and keeps an own "__proto__" key as data', () => {
    const v = JSON.parse('{"__proto__": {"polluted": 1}, "$a": 2, "n": 3}') as Record<string, unknown>;
    v['b'] = 7n;
    const before = Object.keys(v);
    const back = roundTrip(v) as Record<string, unknown>;
    expect(Object.keys(v)).toEqual(before);
    expect(v['b']).toBe(7n);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.keys(back)).toEqual(['__proto__', '$a', 'n', 'b']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('refuses values it could not give back, naming the path', () => {
    const cases: [unknown, RegExp][] = [
      [{ a: { p: Price.of('1.5') } }, /state\.a\.p: a Price cannot be stored/],
      [{ m: new Map() }, /state\.m: a Map/],
      [{ d: [1, new Date(0)] }, /state\.d\[1\]: a Date/],
      [{ f: () => 1 }, /state\.f: a function/],
      [{ 'odd key': Symbol('s') }, /state\["odd key"\]: a symbol/],
      [{ t: new Float64Array(3) }, /state\.t: a Float64Array/],
    ];
    for (const [value, message] of cases) {
      const e = errorOf(() => encodeState(value));
      expect(e.code).toBe('InvalidState');
      expect(e.message).toMatch(message);
    }
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(errorOf(() => encodeState(cyclic)).message).toMatch(/nested deeper than \d+ levels \(a cycle\?\)/);
  });

  it('refuses corrupt checkpoint JSON with CheckpointCorrupt', () => {
    for (const [json, message] of [
      ['{"a":', /not valid JSON/],
      ['{"a":{"$n":"1.5"}}', /state\.a: \$n must be an integer string/],
      ['{"a":{"$f":"nan"}}', /\$f must be/],
      ['{"a":{"$n":"1","b":2}}', /shares its object/],
      ['{"a":{"$q":1}}', /unknown tag "\$q"/],
      ['{"a":{"$f64":"AAAA"}}', /not a packed number array/],
      ['{"a":{"$f64":"!!"}}', /base64/],
    ] as const) {
      const e = errorOf(() => decodeState(json));
      expect(e.code).toBe('CheckpointCorrupt');
      expect(e.message).toMatch(message);
    }
  });

  it('round-trips any JSON-like value with bigints (property)', () => {
    const value = fc.anything({
      withBigInt: true,
      withBoxedValues: false,
      withMap: false,
      withSet: false,
      withDate: false,
      withTypedArray: false,
      withSparseArray: false,
      withNullPrototype: false,
      withObjectString: false,
      maxDepth: 4,
    });
    const numberArrays = fc.array(fc.double(), { minLength: 0, maxLength: 40 });
    fc.assert(
      fc.property(fc.oneof(value, numberArrays, fc.dictionary(fc.string(), numberArrays, { noNullPrototype: true })), (v) => {
        expect(roundTrip(v)).toStrictEqual(v);
      }),
      { numRuns: 400 },
    );
  });
});

describe('configHash', () => {
  it('is the SHA-256 of sorted-key canonical JSON', () => {
    const config = { b: 1, a: [1, 'x', { d: true, c: null }], n: 10n };
    const canon = '{"a":[1,"x",{"c":null,"d":true}],"b":1,"n":{"$n":"10"}}';
    expect(canonicalJson(config)).toBe(canon);
    expect(configHash(config)).toBe(createHash('sha256').update(canon).digest('hex'));
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('ignores key order, undefined properties and the listed paths, and nothing else', () => {
    const a = { engine: { seed: 1, output: { dir: 'runs/a', format: 'html' } }, symbols: ['SPY'] };
    const b = { symbols: ['SPY'], engine: { output: { format: 'html', dir: 'runs/b' }, seed: 1, extra: undefined } };
    const ignore = ['engine.output.dir'];
    expect(configHash(a, ignore)).toBe(configHash(b, ignore));
    expect(configHash(a)).not.toBe(configHash(b));
    expect(configHash({ ...a, symbols: ['QQQ'] }, ignore)).not.toBe(configHash(a, ignore));
    // a listed path only matches from the root
    expect(configHash({ dir: 1, x: { dir: 2 } }, ['dir'])).not.toBe(configHash({ dir: 1, x: { dir: 3 } }, ['dir']));
  });

  it('refuses non-plain configuration values', () => {
    const e = errorOf(() => configHash({ risk: { limit: Price.of('1') } }));
    expect(e.code).toBe('InvalidArgument');
    expect(e.message).toMatch(/configuration \.risk\.limit: a Price cannot be hashed/);
  });
});
