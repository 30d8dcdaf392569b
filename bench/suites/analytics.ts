// analytics + report: computeStats on a columnar equity curve vs a straightforward fused loop, and
// renderReport on a long minute series (downsampling) vs embedding the raw bars as JSON
import { computeStats } from '../../src/analytics/index.js';
import type { EquityColumns } from '../../src/analytics/index.js';
import { Rng } from '../../src/core/rng.js';
import { renderReport } from '../../src/report/index.js';
import type { BenchResult, BenchSuite } from '../harness.js';
import { median, pair } from '../harness.js';

const MINUTE = 60_000_000_000n;
const DAY = 86_400_000_000_000n;
const START = 1_104_762_600_000_000_000n; // 2005-01-03T14:30:00Z

function minuteCurve(days: number): EquityColumns {
  const n = days * 390;
  const rng = new Rng('bench-analytics');
  const cols: EquityColumns = { timeNs: new BigInt64Array(n), equity: new Float64Array(n), exposure: new Float64Array(n) };
  let e = 100_000;
  for (let i = 0; i < n; i++) {
    cols.timeNs[i] = START + BigInt(Math.floor(i / 390)) * DAY + BigInt(i % 390) * MINUTE;
    e *= 1 + rng.normal(0.000005, 0.0008);
    cols.equity[i] = e;
    cols.exposure[i] = i % 50 < 30 ? 1 : 0;
  }
  return cols;
}

// a straightforward peer: one fused pass, no validation, no exact trade sums, each time converted to ms
function plainLoop(c: EquityColumns): number {
  const n = c.equity.length;
  let peak = c.equity[0] as number;
  let maxDd = 0;
  let mean = 0;
  let m2 = 0;
  let k = 0;
  let prevSample = peak;
  let day = Math.floor(Number((c.timeNs[0] as bigint) / 1_000_000n) / 86_400_000);
  let inMarket = 0;
  for (let i = 0; i < n; i++) {
    const e = c.equity[i] as number;
    if (e > peak) peak = e;
    const dd = 1 - e / peak;
    if (dd > maxDd) maxDd = dd;
    if ((c.exposure[i] as number) !== 0) inMarket++;
    const d = Math.floor(Number((c.timeNs[i] as bigint) / 1_000_000n) / 86_400_000);
    if (d !== day || i === n - 1) {
      const end = d !== day ? (c.equity[i - 1] as number) : e;
      const r = end / prevSample - 1;
      prevSample = end;
      k++;
      const delta = r - mean;
      mean += delta / k;
      m2 += delta * (r - mean);
      day = d;
    }
  }
  return maxDd + (mean / Math.sqrt(m2 / (k - 1))) * Math.sqrt(252) + inMarket / n;
}

const suite: BenchSuite = {
  name: 'analytics',
  run(): BenchResult[] {
    const days = 5000;
    const curve = minuteCurve(days);
    const n = curve.equity.length;
    let sink = 0;
    const stats = pair(
      () => {
        sink += computeStats(curve, []).sharpe;
      },
      () => {
        sink += plainLoop(curve);
      },
      n,
      5,
      1,
    );

    const candles = { symbol: 'SPY', timeNs: curve.timeNs, open: curve.equity, high: curve.equity, low: curve.equity, close: curve.equity };
    const input = { title: 'bench', meta: {}, stats: computeStats(curve, []), equity: curve, trades: [], candles: [candles] };
    const renderMs: number[] = [];
    const rawMs: number[] = [];
    let size = 0;
    for (let i = 0; i < 4; i++) {
      let t0 = process.hrtime.bigint();
      size = renderReport(input).length;
      renderMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
      t0 = process.hrtime.bigint();
      const bars = Array.from({ length: n }, (_, j) => ({ time: Number((curve.timeNs[j] as bigint) / 1_000_000_000n), open: curve.equity[j], high: curve.equity[j], low: curve.equity[j], close: curve.equity[j] }));
      sink += JSON.stringify(bars).length;
      rawMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    if (sink === 0.5) console.log(sink);
    const r = median(renderMs);
    const p = median(rawMs);
    return [
      {
        name: 'computeStats (columnar, minute curve)',
        unit: 'points/s',
        median: stats.subject,
        runs: 5,
        peer: 'straightforward fused loop (one bigint->ms per point)',
        peerMedian: stats.peer,
        ratio: stats.ratio,
        note: `${n} points (${days} days x 390 minutes)`,
      },
      {
        name: 'renderReport (one symbol + equity + drawdown)',
        unit: 'ms',
        median: r,
        runs: 4,
        peer: 'JSON of the raw bars only (no downsampling)',
        peerMedian: p,
        ratio: p / r,
        note: `${n} bars -> ${(size / 1e6).toFixed(2)} MB html`,
      },
    ];
  },
};

export default suite;
