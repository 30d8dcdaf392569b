// builds a real backtest mid-run with many symbols and working orders, and hands the live Engine to a
// callback at a checkpoint: the checkpoint bench measures the engine's own checkpoint there
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BarStore } from '../../src/data/store.js';
import { sliceColumns } from '../../src/data/columns.js';
import { resolveConfig } from '../../src/engine/config.js';
import { runBacktest } from '../../src/engine/backtest.js';
import type { Engine } from '../../src/engine/engine.js';
import type { StrategyFactory } from '../../src/strategy/types.js';
import { spyColumns } from './spy100.js';

/**
 * Asks for the indicators a typical multi-indicator strategy holds (sma 30/50, ema, rsi, atr,
 * bollinger, slope: ~170 doubles of windows and sums a symbol) and enters long once, at bar 61, on
 * every other symbol; with brackets each position keeps a take-profit and a stop-loss leg working.
 */
export const bookStrategy: StrategyFactory = {
  name: 'bench-book',
  description: 'bench only: enters once on even symbols and holds',
  params: {},
  create(_params, ctx) {
    const ind = ctx.indicators;
    ind.sma(30);
    ind.sma(50);
    ind.ema(30);
    ind.rsi(30);
    ind.atr(30);
    ind.bollinger(30, 2);
    ind.slope(30);
    const even = Number(ctx.symbol.slice(1)) % 2 === 0;
    const enter = { action: 'enter-long', reason: 'bench entry' } as const;
    return {
      onBar(bar) {
        return even && bar.index === 61 ? enter : undefined;
      },
    };
  },
};

/**
 * Runs a backtest of `symbols` SPY copies (`bars` minute bars each) with bookStrategy, checkpoint every
 * 100 bar times, and calls `atCheckpoint` with the live engine at the checkpoint of bar time `at`
 * (between the hook and the engine's own checkpoint: the state is complete there).
 */
export async function withEngineBook(symbols: number, at: number, atCheckpoint: (engine: Engine) => void, bars = at + 20, everyCheckpoint?: (step: number) => void): Promise<void> {
  const base = sliceColumns(spyColumns(), 0, bars);
  const dir = mkdtempSync(join(tmpdir(), 'axon-bench-book-'));
  try {
    const store = new BarStore(join(dir, 'store'));
    const names: string[] = [];
    for (let j = 0; j < symbols; j++) {
      const symbol = `S${String(j).padStart(4, '0')}`;
      names.push(symbol);
      const f = 1 + j / 10_000;
      const r = (x: number): number => Math.round(x * f * 100) / 100;
      const c = { ...base, symbol, open: base.open.map(r), high: base.high.map(r), low: base.low.map(r), close: base.close.map(r) };
      for (let i = 0; i < c.length; i++) {
        c.high[i] = Math.max(c.high[i] as number, c.open[i] as number, c.close[i] as number);
        c.low[i] = Math.min(c.low[i] as number, c.open[i] as number, c.close[i] as number);
      }
      await store.write(c);
    }
    const config = resolveConfig({
      run: { cash: '1000000000' },
      data: { store: join(dir, 'store'), symbols: names },
      strategy: { name: 'bench-book', params: {} },
      sizing: { max_position_pct: 0.05 },
      exits: { take_profit_pct: 50, stop_loss_pct: 50, brackets: true },
      session: { calendar: 'none' },
      engine: { warmup_bars: 55, checkpoint_every: 100 },
    });
    let called = false;
    await runBacktest({
      config,
      strategy: bookStrategy,
      runDir: join(dir, 'run'),
      hooks: {
        checkpoint(engine, step) {
          everyCheckpoint?.(step);
          if (at >= 0 && step !== at) return;
          called = true;
          atCheckpoint(engine);
        },
      },
    });
    if (!called && at >= 0) throw new Error(`engine book: no checkpoint at bar time ${at}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs the book backtest of `symbols` symbols for `bars` bar times and returns how long each of the
 * engine's own checkpoints took (every 100 bar times, as the engine takes them: the bars in between
 * change every symbol's indicators and the venue's last bars; the orders rest after the entries of bar
 * 61), with the bar time of each.
 */
export async function bookCheckpointTimes(symbols: number, bars: number): Promise<{ step: number; ms: number }[]> {
  const times: { step: number; ms: number }[] = [];
  let wrapped = false;
  let step = 0;
  await withEngineBook(
    symbols,
    -1,
    (engine) => {
      if (wrapped) return;
      wrapped = true;
      // the engine calls this.checkpoint(): an own property on the instance times every later call
      const original = engine.checkpoint.bind(engine);
      Object.defineProperty(engine, 'checkpoint', {
        value: () => {
          const t = performance.now();
          original();
          times.push({ step, ms: performance.now() - t });
        },
      });
    },
    bars,
    (s) => {
      step = s;
    },
  );
  return times;
}
