/**
 * Plain data declared immutable for good, so a checkpoint encoder may encode it once and reuse the
 * bytes (engine/state/binary.ts). Lives in core so any layer can mark its snapshots without importing
 * the engine.
 */
const FROZEN_DATA = new WeakSet<object>();

function deepFreeze(v: unknown, depth: number): void {
  if (typeof v !== 'object' || v === null) return;
  if (depth > 64) throw new TypeError('frozenData: value nested deeper than 64 levels (a cycle?)');
  if (ArrayBuffer.isView(v)) throw new TypeError('frozenData: typed arrays cannot be frozen; copy them into a plain array');
  Object.freeze(v);
  for (const x of Array.isArray(v) ? v : Object.values(v)) deepFreeze(x, depth + 1);
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
