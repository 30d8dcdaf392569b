import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Price } from '../../core/decimal.js';
import { frozenData, isFrozenData } from '../../core/frozen.js';
import { createHash } from 'node:crypto';
import { decodeStateBinary, encodeStateBinary, encodeStateBinaryView, SEGMENT_MIN_BYTES, STATE_BINARY_VERSION } from './binary.js';
import { StateError } from './errors.js';

function roundTrip(v: unknown): unknown {
  return decodeStateBinary(encodeStateBinary(v));
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

function bits(xs: ArrayLike<number>): string[] {
  const f = new Float64Array(xs.length);
  f.set(Array.from(xs));
  return Array.from(new BigUint64Array(f.buffer), (b) => b.toString(16));
}

const sample = {
  big: 123456789012345678901234567890n,
  int64: [-(2n ** 63n), 2n ** 63n - 1n, 0n, -5n],
  nums: [Number.NaN, Infinity, -Infinity, -0, 0, 1.5, 2 ** 32, 4294967295, -1, 0.1],
  und: undefined,
  arr: [undefined, null, 'x', true, false, [1, 'mixed']],
  text: 'µ€😀 \ud800 lone surrogate',
  $n: 'a $-key needs no escaping here',
  window: Array.from({ length: 30 }, (_, i) => 100 + i / 3 + 1e-13 * i),
  packed: new Float64Array([1.25, -0, Number.MIN_VALUE, Number.MAX_VALUE]),
  orders: [
    { id: 'O-1', side: 'Buy', qty: '10', ns: 1_700_000_000_000_000_000n },
    { id: 'O-2', side: 'Sell', qty: '3.5', ns: 1_700_000_000_000_000_001n },
  ],
};

describe('encodeStateBinary / decodeStateBinary', () => {
  it('round-trips bigints (int64 and beyond), non-finite numbers, -0, undefined, lone surrogates and Float64Array exactly', () => {
    const back = roundTrip(sample) as typeof sample;
    expect(back).toStrictEqual(sample);
    expect(Object.is(back.nums[3], -0)).toBe(true);
    expect(Object.is(back.packed[1], -0)).toBe(true);
    expect(back.packed).toBeInstanceOf(Float64Array);
    expect(Array.isArray(back.window)).toBe(true);
    expect(bits(back.window)).toEqual(bits(sample.window));
    expect('und' in back).toBe(true);
  });

  it('is deterministic: the same value gives the same bytes, whatever was encoded before', () => {
    const a = encodeStateBinary(sample);
    encodeStateBinary({ other: ['strings', 'first'], window: [3, 4] });
    const copy = roundTrip(sample);
    expect(encodeStateBinary(copy).equals(a)).toBe(true);
    expect(Buffer.from(encodeStateBinaryView(sample)).equals(a)).toBe(true);
    expect(a.readUInt16LE(4)).toBe(STATE_BINARY_VERSION);
    expect(a.subarray(0, 4).toString('latin1')).toBe('AXSB');
  });

  it('gives the same bytes whatever strings, shapes and frozen parts earlier encodings interned (property)', () => {
    const word = fc.constantFrom('a', 'b', 'id', 'qty', 'S000', 'O-1', 'µ', '');
    const tree = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        word,
        fc.integer(),
        fc.array(tie('v'), { maxLength: 4 }),
        fc.dictionary(word, tie('v'), { maxKeys: 4 }),
        fc.dictionary(word, tie('v'), { maxKeys: 3 }).map((o) => frozenData(o)),
      ),
    })).v;
    fc.assert(
      fc.property(tree, tree, tree, (x, y, z) => {
        const first = encodeStateBinary(x);
        encodeStateBinary(y);
        encodeStateBinary({ z: frozenData({ inner: z, y }), x });
        const again = encodeStateBinary(x);
        expect(again.equals(first)).toBe(true);
        expect(decodeStateBinary(again)).toEqual(x);
        // a structurally equal copy with nothing frozen decodes to the same value
        expect(decodeStateBinary(encodeStateBinary(decodeStateBinary(first)))).toEqual(x);
      }),
      { numRuns: 300 },
    );
  });

  it('never modifies its input and keeps an own "__proto__" key as data', () => {
    const v = JSON.parse('{"__proto__": {"polluted": 1}, "n": 3}') as Record<string, unknown>;
    v['b'] = 7n;
    const back = roundTrip(v) as Record<string, unknown>;
    expect(Object.keys(v)).toEqual(['__proto__', 'n', 'b']);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.keys(back)).toEqual(['__proto__', 'n', 'b']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('refuses values it could not give back, naming the path', () => {
    const cases: [unknown, RegExp][] = [
      [{ a: { p: Price.of('1.5') } }, /state\.a\.p: a Price cannot be stored/],
      [{ m: new Map() }, /state\.m: a Map/],
      [{ d: [1, new Date(0)] }, /state\.d\[1\]: a Date/],
      [{ f: () => 1 }, /state\.f: a function/],
      [{ 'odd key': Symbol('s') }, /state\["odd key"\]: a symbol/],
      [{ t: new Float32Array(3) }, /state\.t: a Float32Array/],
    ];
    for (const [value, message] of cases) {
      const e = errorOf(() => encodeStateBinary(value));
      expect(e.code).toBe('InvalidState');
      expect(e.message).toMatch(message);
    }
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(errorOf(() => encodeStateBinary(cyclic)).message).toMatch(/nested deeper than \d+ levels \(a cycle\?\)/);
    // a refused value leaves the encoder usable
    expect(roundTrip(sample)).toStrictEqual(sample);
  });

  it('refuses every truncation with CheckpointCorrupt', () => {
    const whole = encodeStateBinary(sample);
    for (let cut = 0; cut < whole.length; cut++) {
      const e = errorOf(() => decodeStateBinary(whole.subarray(0, cut)));
      expect(e.code, `cut at ${cut}`).toBe('CheckpointCorrupt');
    }
    const longer = Buffer.concat([whole, Buffer.from([0])]);
    expect(errorOf(() => decodeStateBinary(longer)).message).toMatch(/header describes/);
  });

  it('refuses a foreign buffer (CheckpointCorrupt) and another format version (SchemaMismatch)', () => {
    const whole = encodeStateBinary(sample);
    const foreign = Buffer.from(whole);
    foreign.write('SQLi', 0, 'latin1');
    expect(errorOf(() => decodeStateBinary(foreign)).message).toMatch(/not an AXON binary state/);
    expect(errorOf(() => decodeStateBinary(Buffer.from('{"a":1}'.repeat(10)))).code).toBe('CheckpointCorrupt');
    const version = Buffer.from(whole);
    version.writeUInt16LE(STATE_BINARY_VERSION + 1, 4);
    const e = errorOf(() => decodeStateBinary(version));
    expect(e.code).toBe('SchemaMismatch');
    expect(e.message).toContain(`format version ${STATE_BINARY_VERSION + 1}; this build reads versions 1 to ${STATE_BINARY_VERSION}`);
  });

  it('refuses damaged structure: a flipped byte in the header, tags or string lengths is CheckpointCorrupt or decodes to another value, never a crash', () => {
    const whole = encodeStateBinary(sample);
    const slotsEnd = 32 + whole.readUInt32LE(8) * 8;
    const stringData = whole.length - whole.readUInt32LE(24);
    let refused = 0;
    for (let at = 0; at < stringData; at++) {
      if (at >= 32 && at < slotsEnd) continue;
      const bad = Buffer.from(whole);
      bad[at] = (bad[at] as number) ^ 0x41;
      try {
        expect(decodeStateBinary(bad)).not.toStrictEqual(sample);
      } catch (e) {
        if (!(e instanceof StateError)) throw e;
        expect(['CheckpointCorrupt', 'SchemaMismatch']).toContain(e.code);
        refused++;
      }
    }
    // the store's SHA-256 catches the rest (store.test.ts); most flips break the structure by themselves
    expect(refused).toBeGreaterThan(0.9 * (stringData - slotsEnd + 32));
  });

  it('embeds frozenData values: encoded once, the same bytes reused, decoded to the same plain values, and a fresh copy encodes the same', () => {
    const order = (i: number) => ({ id: `O-${i}`, side: i % 2 === 0 ? 'Buy' : 'Sell', qty: `${i}.5`, ns: 1_700_000_000_000_000_000n + BigInt(i), px: [i / 3, -0], status: { kind: 'Filled', reason: null } });
    const done = Array.from({ length: 50 }, (_, i) => frozenData(order(i)));
    expect(isFrozenData(done[0] as object)).toBe(true);
    expect(Object.isFrozen((done[0] as { status: object }).status)).toBe(true);
    // '€' keeps the outer string table UTF-16; the embedded ones are Latin-1
    const state = (extra: number) => ({ extra, history: done, active: [order(1000 + extra)], text: 'shared strings O-1 Buy €' });
    const a = encodeStateBinary(state(1));
    const back = decodeStateBinary(a) as ReturnType<typeof state>;
    expect(back).toStrictEqual(state(1));
    expect(Object.isFrozen(back.history[0])).toBe(false);
    expect(Object.is((back.history[3] as { px: number[] }).px[1], -0)).toBe(true);
    // the same state again (cache hit) gives the same bytes; another state around the same frozen parts decodes right
    expect(encodeStateBinary(state(1)).equals(a)).toBe(true);
    expect(decodeStateBinary(encodeStateBinary(state(2)))).toStrictEqual(state(2));
    // frozen copies made afresh (a restored engine's) encode to the same bytes as the cached ones
    const again = { extra: 1, history: Array.from({ length: 50 }, (_, i) => frozenData(order(i))), active: [order(1001)], text: 'shared strings O-1 Buy €' };
    expect(encodeStateBinary(again).equals(a)).toBe(true);
    // a frozen part cut short inside is refused, never half-decoded
    const cut = Buffer.from(a);
    const at = cut.indexOf(Buffer.from('AXSB', 'latin1'), 4);
    expect(at).toBeGreaterThan(0);
    cut.writeUInt32LE(cut.readUInt32LE(at + 8) + 1, at + 8);
    expect(() => decodeStateBinary(cut)).toThrow(StateError);
    // a version-1 state may not hold embedded values
    const v1 = Buffer.from(a);
    v1.writeUInt16LE(1, 4);
    expect(errorOf(() => decodeStateBinary(v1)).message).toMatch(/embedded value \(tag 13\) in a version 1 state/);
    expect(() => frozenData({ packed: new Float64Array(2) })).toThrow(TypeError);
  });

  it('writes a large frozen part as a segment reference when given a sink, and decodes it only from the same bytes', () => {
    const big = frozenData({ orders: Array.from({ length: 600 }, (_, i) => ({ id: `order-${i}-${'x'.repeat(40)}`, qty: BigInt(i), px: i / 7 })) });
    const small = frozenData({ note: 'small frozen part' });
    const state = { bar: 7, big, again: big, small, live: [1.5, -0] };
    const got = new Map<string, Uint8Array>();
    const refs: string[] = [];
    const bytes = Buffer.from(
      encodeStateBinaryView(state, (sha, b) => {
        refs.push(sha);
        got.set(sha, b);
      }),
    );
    // one segment, referred to twice; the small part stays embedded
    expect(got.size).toBe(1);
    expect(refs).toHaveLength(2);
    const [sha, seg] = [...got][0] as [string, Uint8Array];
    expect(seg.length).toBeGreaterThanOrEqual(SEGMENT_MIN_BYTES);
    expect(createHash('sha256').update(seg).digest('hex')).toBe(sha);
    expect(bytes.length).toBeLessThan(2_000);
    expect(bytes.readUInt16LE(4)).toBe(3);
    expect(decodeStateBinary(bytes, (h) => got.get(h))).toStrictEqual(state);
    // the same parts give the same bytes; without a sink the part is embedded and decodes alone
    expect(Buffer.from(encodeStateBinaryView(state, () => undefined)).equals(bytes)).toBe(true);
    expect(decodeStateBinary(encodeStateBinary(state))).toStrictEqual(state);
    // a missing or changed segment is refused, never half-decoded
    expect(errorOf(() => decodeStateBinary(bytes)).message).toMatch(new RegExp(`segment ${sha} is referenced, but no segments were given`));
    expect(errorOf(() => decodeStateBinary(bytes, () => undefined)).message).toMatch(new RegExp(`segment ${sha} is not stored`));
    const changed = Buffer.from(seg);
    changed[changed.length - 1] = (changed[changed.length - 1] as number) ^ 1;
    const e = errorOf(() => decodeStateBinary(bytes, () => changed));
    expect(e.code).toBe('CheckpointCorrupt');
    expect(e.message).toMatch(new RegExp(`segment ${sha} does not match its SHA-256`));
    // a version-2 state may not hold segments
    const v2 = Buffer.from(bytes);
    v2.writeUInt16LE(2, 4);
    expect(errorOf(() => decodeStateBinary(v2, (h) => got.get(h))).message).toMatch(/segment \(tag 14\) in a version 2 state/);
  });

  it('stores Latin-1-only string tables one byte a unit, exactly (high Latin-1 and NUL too), and refuses Latin-1 in a version-1 state', () => {
    const v = { a: 'plain ascii', b: 'µ\u00ff\u0000é', keys: { 'ÿ': 1 } };
    const bytes = encodeStateBinary(v);
    expect(bytes.readUInt16LE(6)).toBe(1);
    expect(decodeStateBinary(bytes)).toStrictEqual(v);
    const wide = encodeStateBinary({ ...v, c: '€' });
    expect(wide.readUInt16LE(6)).toBe(0);
    expect(decodeStateBinary(wide)).toStrictEqual({ ...v, c: '€' });
    const v1 = Buffer.from(bytes);
    v1.writeUInt16LE(1, 4);
    expect(errorOf(() => decodeStateBinary(v1)).message).toMatch(/string coding 1 is not one this version 1 state may have/);
  });

  it('refuses an unknown tag and slots left over', () => {
    const whole = encodeStateBinary({ a: 1.5 });
    const tagStart = 32 + whole.readUInt32LE(8) * 8;
    const badTag = Buffer.from(whole);
    badTag[tagStart] = 99;
    expect(errorOf(() => decodeStateBinary(badTag)).message).toMatch(/unknown tag 99/);
  });

  it('round-trips any JSON-like value with bigints and number arrays (property)', () => {
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
    const typed = numberArrays.map((xs) => Float64Array.from(xs));
    fc.assert(
      fc.property(fc.oneof(value, numberArrays, typed, fc.dictionary(fc.string(), fc.oneof(numberArrays, typed), { noNullPrototype: true })), (v) => {
        const bytes = encodeStateBinary(v);
        const back = decodeStateBinary(bytes);
        expect(back).toStrictEqual(v);
        expect(encodeStateBinary(back).equals(bytes)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });
});
