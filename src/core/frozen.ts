/**
 * Plain data declared immutable for good, so a checkpoint encoder may encode it once and reuse the
 * bytes (engine/state/binary.ts). Lives in core so any layer can mark its snapshots without importing
 * the engine.
 */
const FROZEN_DATA = new WeakSet<object>();

function deepFreeze(v: unknown, depth: number): void {
  if (typeof v !== 'object' || v === null || FROZEN_DATA.has(v)) return;
  if (depth > 64) throw new TypeError('frozenData: value nested deeper than 64 levels (a cycle?)');
  if (ArrayBuffer.isView(v)) throw new TypeError('frozenData: typed arrays cannot be frozen; copy them into a plain array');
  Object.freeze(v);
  // index and for-in loops: no values array or iterator per object (a checkpoint freezes thousands)
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (typeof x === 'object' && x !== null) deepFreeze(x, depth + 1);
    }
    return;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) {
    if (!Object.hasOwn(o, k)) continue;
    const x = o[k];
    if (typeof x === 'object' && x !== null) deepFreeze(x, depth + 1);
  }
}

/**
 * Deep-freezes `value` (plain objects, arrays and primitives only) and marks it as immutable data;
 * returns it. A marked value must never be changed (it cannot be: it is frozen).
 * @throws TypeError for typed arrays or cycles
 */
export function frozenData<T extends object>(value: T): T {
  deepFreeze(value, 0);
  FROZEN_DATA.add(value);
  return value;
}

/** True when `value` was returned by {@link frozenData}. */
export function isFrozenData(value: object): boolean {
  return FROZEN_DATA.has(value);
}

/**
 * `prev` when it holds the same elements as `next` (by identity, in order), else `next` as frozenData:
 * a list rebuilt from cached frozen records stays the same object while none of them changed, so a
 * checkpoint encoder reuses its bytes. The elements are deep-frozen with it.
 */
export function sameFrozenList<T>(prev: readonly T[] | undefined, next: T[]): readonly T[] {
  if (prev !== undefined && prev.length === next.length) {
    let i = 0;
    while (i < next.length && prev[i] === next[i]) i++;
    if (i === next.length) return prev;
  }
  return frozenData(next);
}

/**
 * True when `a` and `b` are the same plain data: primitives by Object.is (so -0 is not 0), arrays
 * element by element, plain objects key by key in the same order (the order a checkpoint encodes).
 */
export function samePlainData(a: unknown, b: unknown, depth = 0): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || depth > 64) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!samePlainData(a[i], b[i], depth + 1)) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const pa: unknown = Object.getPrototypeOf(a);
  if ((pa !== Object.prototype && pa !== null) || Object.getPrototypeOf(b) !== pa) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    const k = ka[i] as string;
    if (k !== kb[i] || !samePlainData((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], depth + 1)) return false;
  }
  return true;
}
