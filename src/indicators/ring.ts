/**
 * Copies the window of a ring buffer of `period` slots (next write at `pos`, `count` values seen) into
 * `dst` at `at`, oldest first, without allocating; returns the offset after it.
 */
export function packRing(ring: Float64Array, pos: number, count: number, period: number, dst: Float64Array, at: number): number {
  const len = Math.min(count, period);
  const start = len === period ? pos : 0;
  // element loops, not subarray + set: a subarray is a new typed-array object, and for the windows of a
  // few dozen slots indicators have, its allocation cost more than the copy (~7% of a checkpoint)
  let o = at;
  for (let i = start; i < len; i++) dst[o++] = ring[i] as number;
  for (let i = 0; i < start; i++) dst[o++] = ring[i] as number;
  return at + len;
}
