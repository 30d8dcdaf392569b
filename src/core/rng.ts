import { CoreError } from './errors.js';

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function hashSeed(seed: number | string): number {
  if (typeof seed === 'number') {
    if (!Number.isSafeInteger(seed)) throw new CoreError('InvalidArgument', `seed must be a safe integer, got ${seed}`);
    return (seed ^ Math.floor(seed / 0x100000000)) >>> 0;
  }
  // fnv-1a over the string's UTF-16 units
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** A generator's complete state: the four xoshiro128** words (uint32, not all zero) and the cached second normal. */
export interface RngState {
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly d: number;
  readonly spare: number | undefined;
}

/** Seeded pseudo-random numbers (xoshiro128**): the same seed gives the same sequence on every platform. */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  #spare: number | undefined;

  constructor(seed: number | string = 0) {
    const sm = splitmix32(hashSeed(seed));
    this.#a = sm();
    this.#b = sm();
    this.#c = sm();
    this.#d = sm();
    if ((this.#a | this.#b | this.#c | this.#d) === 0) this.#a = 1;
  }

  /** Builds a generator that continues the sequence of the one `state` was taken from. @throws CoreError InvalidArgument on a malformed state */
  static fromState(state: RngState): Rng {
    const rng = new Rng(0);
    rng.restore(state);
    return rng;
  }

  /** The generator's complete state as plain numbers; `restore` or `fromState` continues the sequence from here. */
  snapshot(): RngState {
    // the words are kept as int32 or uint32 bit patterns; every operation on them reads only the bits
    return { a: this.#a >>> 0, b: this.#b >>> 0, c: this.#c >>> 0, d: this.#d >>> 0, spare: this.#spare };
  }

  /** Replaces this generator's state with `state` (validated first; nothing changes on error). @throws CoreError InvalidArgument on a malformed state */
  restore(state: RngState): void {
    const s = state as unknown;
    if (typeof s !== 'object' || s === null) throw new CoreError('InvalidArgument', `rng state must be an object {a, b, c, d, spare}, got ${s === null ? 'null' : typeof s}`);
    const r = s as Record<string, unknown>;
    for (const k of ['a', 'b', 'c', 'd'] as const) {
      const w = r[k];
      if (typeof w !== 'number' || !Number.isInteger(w) || w < 0 || w > 0xffffffff) {
        throw new CoreError('InvalidArgument', `rng state word ${k} must be an unsigned 32-bit integer, got ${String(w)}`);
      }
    }
    const { a, b, c, d, spare } = r as { a: number; b: number; c: number; d: number; spare: unknown };
    if ((a | b | c | d) === 0) throw new CoreError('InvalidArgument', 'rng state words are all zero, which xoshiro128** never reaches');
    if (spare !== undefined && (typeof spare !== 'number' || !Number.isFinite(spare))) {
      throw new CoreError('InvalidArgument', `rng state spare must be a finite number or undefined, got ${String(spare)}`);
    }
    this.#a = a;
    this.#b = b;
    this.#c = c;
    this.#d = d;
    this.#spare = spare;
  }

  /** Next unsigned 32-bit integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.#b, 5), 7), 9) >>> 0;
    const t = this.#b << 9;
    this.#c ^= this.#a;
    this.#d ^= this.#b;
    this.#b ^= this.#c;
    this.#a ^= this.#d;
    this.#c ^= t;
    this.#d = rotl(this.#d, 11);
    return result;
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [min, max] (inclusive), unbiased. */
  int(min: number, max: number): number {
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max < min) {
      throw new CoreError('InvalidArgument', `invalid integer range [${min}, ${max}]`);
    }
    const span = max - min + 1;
    if (span <= 0x100000000) {
      const limit = Math.floor(0x100000000 / span) * span;
      for (;;) {
        const x = this.nextU32();
        if (x < limit) return min + (x % span);
      }
    }
    return min + Math.floor(this.next() * span);
  }

  /** Uniform float in [min, max). */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Standard normal (Box-Muller). */
  normal(mean = 0, sd = 1): number {
    if (this.#spare !== undefined) {
      const s = this.#spare;
      this.#spare = undefined;
      return mean + sd * s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return mean + sd * r * Math.cos(2 * Math.PI * v);
  }

  /** A uniformly chosen element. @throws CoreError InvalidArgument on an empty array */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new CoreError('InvalidArgument', 'cannot pick from an empty array');
    return items[this.int(0, items.length - 1)] as T;
  }

  /** Fisher-Yates shuffle in place; returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      const t = items[i] as T;
      items[i] = items[j] as T;
      items[j] = t;
    }
    return items;
  }

  /** An independent generator derived from this one's next output and a label. */
  fork(label = ''): Rng {
    return new Rng(`${this.nextU32()}:${label}`);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
