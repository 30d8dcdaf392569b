/**
 * Copies the window of a ring buffer of `period` slots (next write at `pos`, `count` values seen) into
 * `dst` at `at`, oldest first, without allocating; returns the offset after it.
 */
export function packRing(ring: Float64Array, pos: number, count: number, period: number, dst: Float64Array, at: number): number {
  const len = Math.min(count, period);
  const start = len === period ? pos : 0;
  if (start === 0) dst.set(ring.subarray(0, len), at);
  else {
    dst.set(ring.subarray(start), at);
    dst.set(ring.subarray(0, start), at + period - start);
  }
  return at + len;
}
