/** One benchmark figure as written to bench/results/<suite>.json. */
export interface BenchResult {
  name: string;
  /** e.g. 'bars/s', 'ops/s', 'ms' */
  unit: string;
  /** median over `runs` */
  median: number;
  runs: number;
  /** the peer measured in the same run, if any */
  peer?: string;
  peerMedian?: number;
  /** median / peerMedian for throughput units (higher is better), peerMedian / median for time units */
  ratio?: number;
  /** free-form notes: sizes, targets, conditions */
  note?: string;
}

/** A suite: bench/suites/<name>.ts default-exports one. */
export interface BenchSuite {
  name: string;
  run(): Promise<BenchResult[]> | BenchResult[];
}

/** Median of a list of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return Number.NaN;
  return n % 2 === 1 ? (s[(n - 1) / 2] as number) : ((s[n / 2 - 1] as number) + (s[n / 2] as number)) / 2;
}

/**
 * Runs `fn` `warmup` times, then `runs` times, and returns the median throughput (`work` units per
 * second), where `fn` does `work` units of work per call. Interleave peer and subject with `pair`.
 */
export function throughput(fn: () => unknown, work: number, runs = 7, warmup = 2): { median: number; samples: number[] } {
  for (let i = 0; i < warmup; i++) fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    samples.push(work / dt);
  }
  return { median: median(samples), samples };
}

/**
 * Measures subject and peer alternately (A B A B ...) so machine noise hits both alike; returns
 * both medians in units/s and the ratio subject/peer.
 */
export function pair(
  subject: () => unknown,
  peer: () => unknown,
  work: number,
  runs = 7,
  warmup = 2,
): { subject: number; peer: number; ratio: number } {
  for (let i = 0; i < warmup; i++) {
    subject();
    peer();
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    let t0 = process.hrtime.bigint();
    subject();
    a.push(work / (Number(process.hrtime.bigint() - t0) / 1e9));
    t0 = process.hrtime.bigint();
    peer();
    b.push(work / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  const s = median(a);
  const p = median(b);
  return { subject: s, peer: p, ratio: s / p };
}

/** Async variant of throughput. */
export async function throughputAsync(fn: () => Promise<unknown>, work: number, runs = 5, warmup = 1): Promise<{ median: number; samples: number[] }> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    samples.push(work / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  return { median: median(samples), samples };
}
