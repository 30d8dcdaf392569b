// a string-keyed table in insertion order, for the fill ledger (every fill id a portfolio applied);
// not exported from the module index
//
// Why not a Map: the ledger only grows (one insert per fill, for the life of the portfolio), and a
// Map's insert of a fresh key into a large table walks a bucket chain through entries scattered in
// memory, then rebuilds the whole table at each doubling. Here one probe sequence in a compact
// Int32Array (entry number and hash side by side, load at most 1/2) usually settles a lookup or an
// insert in one cache line, and the key string is only compared when the stored hash matches.

/** FNV-1a over the UTF-16 code units, then murmur3's finalizer so sequential ids spread over the table. */
function hashOf(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

export class StringIndex<V> {
  readonly #keys: string[] = [];
  readonly #values: V[] = [];
  /** Two ints per slot: the entry's number + 1 (0: empty), and its key's hash. */
  #table = new Int32Array(64);
  #mask = 31;

  /** Number of entries. */
  get size(): number {
    return this.#keys.length;
  }

  /** The key of entry `i` (insertion order). */
  keyAt(i: number): string {
    return this.#keys[i] as string;
  }

  /** The value of entry `i` (insertion order). */
  valueAt(i: number): V {
    return this.#values[i] as V;
  }

  get(key: string): V | undefined {
    const e = this.#find(key, hashOf(key));
    return e < 0 ? undefined : this.#values[e];
  }

  has(key: string): boolean {
    return this.#find(key, hashOf(key)) >= 0;
  }

  /** Inserts `key` at the end, or replaces its value in place (its position is kept, as a Map's). */
  set(key: string, value: V): void {
    const h = hashOf(key);
    const t = this.#table;
    const mask = this.#mask;
    let i = h & mask;
    for (;;) {
      const e = t[2 * i] as number;
      if (e === 0) break;
      if (t[2 * i + 1] === h && this.#keys[e - 1] === key) {
        this.#values[e - 1] = value;
        return;
      }
      i = (i + 1) & mask;
    }
    const n = this.#keys.length;
    this.#keys.push(key);
    this.#values.push(value);
    t[2 * i] = n + 1;
    t[2 * i + 1] = h;
    if (2 * (n + 1) > mask) this.#grow();
  }

  /** The entry number of `key`, or -1. */
  #find(key: string, h: number): number {
    const t = this.#table;
    const mask = this.#mask;
    let i = h & mask;
    for (;;) {
      const e = t[2 * i] as number;
      if (e === 0) return -1;
      if (t[2 * i + 1] === h && this.#keys[e - 1] === key) return e - 1;
      i = (i + 1) & mask;
    }
  }

  /** Doubles the slots; the stored hashes place every entry again without reading a key. */
  #grow(): void {
    const old = this.#table;
    const slots = 2 * (this.#mask + 1);
    const mask = slots - 1;
    const t = new Int32Array(2 * slots);
    for (let j = 0; j < old.length; j += 2) {
      const e = old[j] as number;
      if (e === 0) continue;
      const h = old[j + 1] as number;
      let i = h & mask;
      while (t[2 * i] !== 0) i = (i + 1) & mask;
      t[2 * i] = e;
      t[2 * i + 1] = h;
    }
    this.#table = t;
    this.#mask = mask;
  }
}
