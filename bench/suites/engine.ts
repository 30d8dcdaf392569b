// engine: the full bar pipeline (store replay -> raw-bar recorder -> simulated venue -> engine with sma-cross)
// on the SPY minute data replayed as 100 symbols, against a plain-loop SMA crossover over the same arrays
// (the ceiling), plus the exact crossover indicator updates against trading-signals.
import { rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMA } from 'trading-signals';
import { median, pair, type BenchResult, type BenchSuite } from '../harness.js';
import { spyCopies, spyStore } from '../lib/spy100.js';
import { resolveConfig } from '../../src/engine/config.js';
import { runBacktest } from '../../src/engine/backtest.js';
import { smaCross } from '../../src/strategy/sma-cross.js';
import { CrossDetector } from '../../src/indicators/index.js';

const SYMBOLS = 100;

/** A plain-loop SMA(10)/SMA(30) crossover with float sums over typed arrays: the cost floor of the strategy itself. */
function plainLoop(closes: Float64Array[]): number {
  let crosses = 0;
  for (const c of closes) {
    let s10 = 0;
    let s30 = 0;
    let prev = 0;
    for (let i = 0; i < c.length; i++) {
      const x = c[i] as number;
      s10 += x;
      s30 += x;
      if (i >= 10) s10 -= c[i - 10] as number;
      if (i >= 30) s30 -= c[i - 30] as number;
      if (i >= 29) {
        const rel = s10 * 3 - s30 > 0 ? 1 : s10 * 3 - s30 < 0 ? -1 : 0;
        if (prev <= 0 && rel > 0) crosses++;
        prev = rel;
      }
    }
  }
  return crosses;
}

const suite: BenchSuite = {
  name: 'engine',
  async run(): Promise<BenchResult[]> {
    const results: BenchResult[] = [];
    const { dir, symbols } = await spyStore(SYMBOLS);
    const copies = spyCopies(SYMBOLS);
    const closes = copies.map((c) => c.close);
    const totalBars = copies.reduce((n, c) => n + c.length, 0);
    const config = resolveConfig({
      data: { store: dir, symbols },
      strategy: { name: 'sma-cross', params: { fast: 10, slow: 30 } },
      sizing: { max_position_pct: 1 },
    });
    const rates: number[] = [];
    const loopRates: number[] = [];
    let bars = 0;
    for (let run = 0; run < 3; run++) {
      const runDir = join(tmpdir(), `axon-bench-engine-${process.pid}-${run}`);
      const r = await runBacktest({ config, strategy: smaCross, runDir });
      bars = r.bars;
      rates.push(r.bars / r.seconds);
      rmSync(runDir, { recursive: true, force: true });
      const t0 = process.hrtime.bigint();
      plainLoop(closes);
      loopRates.push(totalBars / (Number(process.hrtime.bigint() - t0) / 1e9));
    }
    const m = median(rates);
    const lm = median(loopRates);
    results.push({
      name: `full pipeline, sma-cross, ${SYMBOLS} symbols (${bars} bars)`,
      unit: 'bars/s',
      median: m,
      runs: rates.length,
      peer: 'plain-loop SMA crossover on typed arrays (ceiling)',
      peerMedian: lm,
      ratio: m / lm,
      note: 'target >= 1M bars/s; includes Parquet replay, raw-bar recording, venue matching, OMS/risk on orders',
    });

    // issue 5: entry escalation + periodic reconciliation, with no orders working, must cost < 10% of bars/s:
    // a strategy that never signals, with reconciliation every 20 bar times and escalate entries, against
    // reconciliation off and market entries, interleaved
    {
      const silent = { name: 'silent', description: 'never signals', params: {}, create: () => ({ onBar: () => undefined }) };
      const base = { data: { store: dir, symbols }, strategy: { name: 'silent' }, sizing: { max_position_pct: 1 } };
      const plain = resolveConfig({ ...base, engine: { reconcile_every: 1_000_000_000 }, execution: { entry: 'market' } });
      const guarded = resolveConfig({ ...base, engine: { reconcile_every: 20 }, execution: { entry: 'escalate' } });
      const on: number[] = [];
      const off: number[] = [];
      for (let run = 0; run < 5; run++) {
        for (const [cfg, out] of [
          [plain, off],
          [guarded, on],
        ] as const) {
          const runDir = join(tmpdir(), `axon-bench-engine-guard-${process.pid}-${run}`);
          const r = await runBacktest({ config: cfg, strategy: silent, runDir });
          out.push(r.bars / r.seconds);
          rmSync(runDir, { recursive: true, force: true });
        }
      }
      results.push({
        name: `pipeline with escalation + reconciliation every 20 bar times, no orders working (${SYMBOLS} symbols)`,
        unit: 'bars/s',
        median: median(on),
        runs: on.length,
        peer: 'the same run with reconciliation off and market entries',
        peerMedian: median(off),
        ratio: median(on) / median(off),
        note: 'target: ratio >= 0.90 (at most 10% slower)',
      });
    }

    // indicator updates alone: the exact SMA(10)/SMA(30) crossover vs trading-signals SMA(10)+SMA(30) and a float compare
    const spy = closes[0] as Float64Array;
    const PASSES = 20;
    let sink = 0;
    const ours = () => {
      for (let p = 0; p < PASSES; p++) {
        const c = new CrossDetector(10, 30, 6);
        for (let i = 0; i < spy.length; i++) sink += c.update(spy[i] as number);
      }
    };
    const theirs = () => {
      for (let p = 0; p < PASSES; p++) {
        const f = new SMA(10);
        const s = new SMA(30);
        let prev = 0;
        for (let i = 0; i < spy.length; i++) {
          const x = spy[i] as number;
          const a = f.add(x);
          const b = s.add(x);
          if (a !== null && b !== null) {
            const rel = a > b ? 1 : a < b ? -1 : 0;
            if (prev <= 0 && rel > 0) sink++;
            prev = rel;
          }
        }
      }
    };
    const ind = pair(ours, theirs, PASSES * spy.length, 5, 1);
    results.push({
      name: 'exact SMA(10)/SMA(30) crossover updates (CrossDetector)',
      unit: 'updates/s',
      median: ind.subject,
      runs: 5,
      peer: 'trading-signals SMA(10)+SMA(30) with a float compare',
      peerMedian: ind.peer,
      ratio: ind.ratio,
      note: sink > 0 ? 'exact integer sums: ties are ties' : '',
    });

    // memory: a 10M-bar backtest (the SPY minutes as 315 symbols) in a child process; peak RSS must stay under 1 GB
    if (process.env.AXON_BENCH_SKIP_MEMORY !== '1') {
      const big = await spyStore(315);
      const runDir = join(tmpdir(), `axon-bench-engine-mem-${process.pid}`);
      const child = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', 'lib', 'memory-run.mts'), big.dir, runDir, big.symbols.join(',')], { encoding: 'utf8', maxBuffer: 1 << 20 });
      rmSync(runDir, { recursive: true, force: true });
      if (child.status !== 0) throw new Error(`memory run failed: ${child.stderr}`);
      const m = JSON.parse(child.stdout.trim().split('\n').pop() as string) as { bars: number; seconds: number; maxRssBytes: number };
      results.push({
        name: `peak RSS of a ${(m.bars / 1e6).toFixed(1)}M-bar backtest (315 symbols, streamed)`,
        unit: 'MB',
        median: m.maxRssBytes / 2 ** 20,
        runs: 1,
        note: `target < 1024 MB; ${(m.bars / m.seconds / 1e3).toFixed(0)}k bars/s in that run`,
      });
    }
    return results;
  },
};
export default suite;
