import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { stringify as toToml } from 'smol-toml';
import { TestClock } from '../core/clock.js';
import { Rng } from '../core/rng.js';
import { Money } from '../core/money.js';
import { parseTimeframe, type Bar, type Timeframe } from '../model/bar.js';
import { makeInstrument, type Instrument } from '../model/instrument.js';
import { InstrumentId } from '../core/ids.js';
import { BarStore } from '../data/store.js';
import { BarRecorder } from '../data/recorder.js';
import { parseBarsCsv, readTextFile } from '../data/csv-import.js';
import { replayColumns } from '../data/memory-replay.js';
import type { BarColumns } from '../data/columns.js';
import { parseIsoInstant } from '../data/time.js';
import type { MergedBatch } from '../data/columns.js';
import { calendarFor } from '../session/registry.js';
import type { SessionCalendar } from '../session/types.js';
import { computeStats, statsToJson } from '../analytics/stats.js';
import type { EquityColumns, PerformanceStats, TradeRecord } from '../analytics/types.js';
import {
  BpsCommission,
  BpsSlippage,
  ConstantLatency,
  FixedCommission,
  NextOpenMarketFill,
  NoCommission,
  NoSlippage,
  PerShareCommission,
  ShareOfBarVolume,
  ThisCloseMarketFill,
  ThroughLimitFill,
  TouchLimitFill,
  UnlimitedVolume,
  ZeroLatency,
} from '../venues/simulated/models.js';
import { SimulatedVenue } from '../venues/simulated/simulated-venue.js';
import type { StrategyFactory } from '../strategy/types.js';
import type { EngineConfig } from './config.js';
import { Engine, EngineError, MutableBar, type EngineHooks } from './engine.js';
import { JsonlLogger } from './logger.js';
import { StateStore } from './state/store.js';
import { StateError } from './state/errors.js';
import { configHash } from './state/codec.js';
import { snakeKeys, tradeCsv, writeAtomic } from './run-files.js';

/**
 * One bar through the backtest loop: time to the bar's open, the venue matches resting orders on it,
 * time to its close, then the engine's pipeline. The venue keeps the previous bar object per symbol,
 * so callers that reuse bar objects must alternate two per symbol.
 */
export function stepBar(clock: TestClock, venue: SimulatedVenue, engine: Engine, bar: MutableBar & { timeframe: Timeframe }): void {
  engine.beforeBar(bar.closeTimeNs);
  if (bar.openTimeNs > clock.now()) clock.advanceTo(bar.openTimeNs);
  venue.onBar(bar as unknown as Bar);
  if (bar.closeTimeNs > clock.now()) clock.advanceTo(bar.closeTimeNs);
  engine.onBar(bar);
}

/** Inputs of one backtest. */
export interface BacktestOptions {
  config: EngineConfig;
  strategy: StrategyFactory;
  /** The run directory to create and fill (DESIGN.md's runs/<id>/). */
  runDir: string;
  /** Called now and then with bars done and the total (when known). */
  onProgress?: (done: number, total: number) => void;
  hooks?: EngineHooks;
  /** Keep candles for the report for at most this many symbols (default 4). */
  reportSymbols?: number;
  /** Continue the run in `runDir` from its last checkpoint (its process died). */
  resume?: boolean;
  /** Test hook: after this many bars the process kills itself (SIGKILL), no cleanup. */
  haltAfter?: number;
}

/** Candle columns kept for the report. */
export interface CandleSeries {
  symbol: string;
  timeNs: BigInt64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
}

/** What a backtest produced (also written into the run directory). */
export interface BacktestResult {
  runDir: string;
  /** The numbers of summary.json (deterministic: no timings). */
  summary: Record<string, unknown>;
  stats: PerformanceStats;
  trades: TradeRecord[];
  equity: EquityColumns;
  candles: CandleSeries[];
  bars: number;
  /** Wall time of the bar loop and of storing what it left (the final checkpoint, the raw bars still being written, the log), seconds. */
  seconds: number;
  engine: Engine;
}

function symbolFromFile(file: string): string {
  return basename(file).replace(/\.(csv|txt)(\.gz)?$/i, '').split(/[_\s.]/)[0]!.toUpperCase();
}

/** The instrument a symbol trades as in a backtest: `[instrument]` tick and lot (the fractional lot with fractional sizing), run currency. */
export function backtestInstrument(symbol: string, config: EngineConfig): Instrument {
  const venue = 'SIM';
  return makeInstrument({
    id: InstrumentId.of(symbol, venue),
    assetClass: config.instrument.asset_class,
    tickSize: config.instrument.tick_size,
    lotSize: config.sizing.fractional ? config.sizing.fractional_lot : config.instrument.lot_size,
    baseCurrency: symbol.replace(/[^A-Za-z0-9]/g, '').slice(0, 16) || 'UNIT',
    quoteCurrency: config.run.currency,
    calendarId: 'XNYS',
  });
}

/** The simulated venue a backtest config describes. */
export function buildVenue(config: EngineConfig, instruments: Instrument[]): SimulatedVenue {
  const v = config.venue;
  const b = SimulatedVenue.defaults({ instruments, startingBalances: [Money.of(config.run.cash, config.run.currency)], name: 'SIM' })
    .accountType(config.engine.long_only ? 'cash' : 'margin')
    .fractional(config.sizing.fractional)
    .marketFillModel(v.market_fill === 'this-close' ? new ThisCloseMarketFill() : new NextOpenMarketFill())
    .limitFillModel(v.limit_fill === 'touch' ? new TouchLimitFill() : new ThroughLimitFill())
    .volumeModel(v.volume_share === undefined ? new UnlimitedVolume() : new ShareOfBarVolume(String(v.volume_share)))
    .slippageModel(v.slippage_bps > 0 ? new BpsSlippage(String(v.slippage_bps)) : new NoSlippage())
    .latencyModel(v.latency_ns > 0 ? new ConstantLatency(BigInt(v.latency_ns)) : new ZeroLatency());
  const commission =
    v.commission === 'none'
      ? new NoCommission()
      : v.commission === 'per-share'
        ? new PerShareCommission(v.commission_rate, v.commission_min)
        : v.commission === 'bps'
          ? new BpsCommission(v.commission_rate)
          : new FixedCommission(v.commission_rate);
  return b.commissionModel(commission).build();
}

/** The session calendar lookup a config describes ('auto': the instrument's, none for daily bars). */
export function calendarOf(config: EngineConfig, timeframe: Timeframe | undefined): (i: Instrument) => SessionCalendar | undefined {
  const s = config.session;
  const id = s.calendar;
  if (id === 'none' || (id === 'auto' && timeframe === '1d')) return () => undefined;
  const phases = { warmupMinutes: s.warmup_minutes, eodWarningMinutes: s.eod_warning_minutes, eodLiquidationMinutes: s.eod_liquidation_minutes };
  const cache = new Map<string, SessionCalendar>();
  return (inst) => {
    const cid = id === 'auto' ? inst.calendarId : id;
    let cal = cache.get(cid);
    if (cal === undefined) {
      cal = calendarFor(cid, phases);
      cache.set(cid, cal);
    }
    return cal;
  };
}

/**
 * Runs one backtest: imports `data.files` (or replays `data.store`), replays every symbol as one
 * time-ordered stream through the simulated venue and the engine, and writes config.toml,
 * bars/ (raw bars as replayed), engine.log, trades.csv and summary.json into the run directory.
 * The report is the CLI's (a higher layer).
 * @throws ConfigError, DataError, EngineError
 */
export async function runBacktest(options: BacktestOptions): Promise<BacktestResult> {
  const { config, strategy, runDir } = options;
  mkdirSync(runDir, { recursive: true });
  if (options.resume !== true) writeAtomic(join(runDir, 'config.toml'), toToml(config as unknown as Record<string, unknown>));
  {
    const range = {
      ...(config.data.from === undefined ? {} : { fromNs: parseIsoInstant(config.data.from) }),
      ...(config.data.to === undefined ? {} : { toNs: parseIsoInstant(config.data.to) }),
    };
    let symbols: string[];
    let timeframes: (Timeframe | undefined)[];
    let source: AsyncIterable<MergedBatch> | Iterable<MergedBatch>;
    let total = 0;
    if (config.data.files.length > 0) {
      // CSV input is parsed and validated in memory (the same parser as `axon data import`), then merged
      const given = config.data.symbols;
      if (given.length > 0 && given.length !== config.data.files.length) {
        throw new EngineError('ConfigInvalid', `data.symbols has ${given.length} names for ${config.data.files.length} files; give one per file or none`);
      }
      const series: BarColumns[] = config.data.files.map((file, i) =>
        parseBarsCsv(readTextFile(file), {
          symbol: given[i] ?? symbolFromFile(file),
          file,
          tz: config.data.tz,
          barTime: config.data.bar_time,
          ...(config.data.timeframe === undefined ? {} : { timeframe: parseTimeframe(config.data.timeframe) }),
        }).bars,
      );
      symbols = series.map((s) => s.symbol);
      timeframes = series.map((s) => s.timeframe);
      total = series.reduce((n, s) => n + s.length, 0);
      source = replayColumns(series, range);
    } else if (config.data.store !== undefined) {
      const store = new BarStore(config.data.store);
      const available = store.symbols();
      symbols = config.data.symbols.length > 0 ? config.data.symbols : available;
      const missing = symbols.filter((s) => !available.includes(s));
      if (missing.length > 0) throw new EngineError('ConfigInvalid', `symbols not in store ${config.data.store}: ${missing.join(', ')}`);
      timeframes = symbols.map((s) => store.timeframeOf(s));
      if (options.onProgress !== undefined) total = symbols.reduce((n, s) => n + store.days(s).reduce((m, d) => m + (store.daySummary(s, d)?.rows ?? 0), 0), 0);
      source = store.replay(symbols, range);
    } else {
      throw new EngineError('ConfigInvalid', 'no data: give data.files (CSV) or data.store');
    }
    if (symbols.length === 0) throw new EngineError('ConfigInvalid', 'no symbols to replay');
    const timeframe = timeframes[0];

    const instruments = new Map<string, Instrument>();
    for (const s of symbols) instruments.set(s, backtestInstrument(s, config));
    const clock = new TestClock(0n);
    const rng = new Rng(config.run.seed);
    const venue = buildVenue(config, [...instruments.values()]);
    await venue.connect();
    const logger = new JsonlLogger(join(runDir, 'engine.log'));
    // replayed bars already live in their source: written atomically, without an fsync per file
    const recorder = new BarRecorder(new BarStore(runDir, { fsync: false }), { asyncWrites: { fsync: false } });
    const tfOf = new Map<string, Timeframe>(symbols.map((s, i) => [s, timeframes[i] ?? '1m']));
    // state.sqlite: order intents before sending, fills, checkpoints and the audit trail
    const resume = options.resume === true;
    const state = StateStore.open(join(runDir, 'state.sqlite'), { configHash: configHash(config), create: !resume, createdNs: 0n, durability: 'process' });
    const checkpoint = resume ? state.loadCheckpoint() : undefined;
    if (resume && checkpoint === undefined) {
      state.close();
      throw new StateError('CheckpointMissing', `${runDir}/state.sqlite has no checkpoint to resume from (the run died before its first one): start it again`);
    }
    const saved = checkpoint?.state as { engine?: Record<string, unknown>; venue?: unknown } | undefined;
    if (saved !== undefined && (saved.engine === undefined || saved.venue === undefined)) {
      state.close();
      throw new StateError('CheckpointCorrupt', `${runDir}/state.sqlite: the last checkpoint lacks the engine or venue state`);
    }
    if (saved !== undefined) venue.restore(saved.venue as never);
    const engine = new Engine({
      config,
      state,
      clock,
      rng,
      venue,
      instruments,
      strategy,
      calendarFor: calendarOf(config, timeframe),
      logger,
      rawBars: {
        append: (symbol, o, c, op, h, l, cl, v) => {
          const until = recordedUntil.get(symbol);
          if (until === undefined || o > until) recorder.append(symbol, tfOf.get(symbol) ?? '1m', o, c, op, h, l, cl, v);
        },
      },
      ...(options.hooks === undefined ? {} : { hooks: options.hooks }),
      // working orders and the orders they link to, in O(working orders): closed ones are dropped so
      // checkpoints do not grow with the run; after a resume the venue cannot report orders closed before
      // the checkpoint, and the engine never asks (its ids are never reused)
      checkpointExtras: () => ({ venue: venue.liveSnapshot() }),
      // the venue dies with the process and a resume restarts from the last checkpoint: writes between
      // checkpoints go in one transaction
      batchWrites: true,
    });
    if (saved !== undefined && checkpoint !== undefined) {
      engine.restore(saved.engine as Record<string, unknown>);
      clock.advanceTo(checkpoint.tsNs);
    }
    // bars replayed before the checkpoint are skipped; the raw-bar store only gets those it lacks
    const skip = checkpoint?.barCount ?? 0;
    const runStore = new BarStore(runDir);
    const recordedUntil = new Map<string, bigint>();
    if (resume) {
      // temp files of writes the dead process never renamed: never part of the store, removed
      for (const sym of symbols) {
        const d = join(runDir, 'bars', sym);
        if (!existsSync(d)) continue;
        for (const f of readdirSync(d)) if (/^\..+\.parquet\.[a-z]+-\d+-\d+$/.test(f)) rmSync(join(d, f), { force: true });
      }
      for (const sym of symbols) {
        const days = runStore.days(sym);
        const last = days.length === 0 ? undefined : runStore.daySummary(sym, days[days.length - 1] as string)?.lastOpenTimeNs;
        if (last !== undefined) recordedUntil.set(sym, last);
      }
    }

    // report candles for the first few symbols
    const keep = Math.min(options.reportSymbols ?? 4, symbols.length);
    const candleParts = Array.from({ length: keep }, () => ({ t: [] as bigint[], o: [] as number[], h: [] as number[], l: [] as number[], c: [] as number[] }));

    // two bar objects per symbol, alternating: the venue keeps the previous bar, so it must stay intact
    const barPairs = symbols.map((s, i) => {
      const mk = (): MutableBar & { timeframe: Timeframe } => Object.assign(new MutableBar(), { symbol: s, timeframe: timeframes[i] ?? '1m' });
      return [mk(), mk()] as const;
    });
    const flip = new Uint8Array(symbols.length);
    let done = 0;
    let seen = 0;
    await engine.reconcile(resume ? 'resume' : 'startup');
    const haltAfter = options.haltAfter;
    const t0 = process.hrtime.bigint();
    for await (const batch of source) {
      const n = batch.length;
      const symIdx = batch.symbolIndex;
      for (let i = 0; i < n; i++) {
        const k = symIdx[i] as number;
        const pair = barPairs[k] as readonly [MutableBar & { timeframe: Timeframe }, MutableBar & { timeframe: Timeframe }];
        const bar = pair[flip[k] as number] as MutableBar & { timeframe: Timeframe };
        flip[k] = 1 - (flip[k] as number);
        const open = batch.openTimeNs[i] as bigint;
        if (seen < skip) {
          seen++;
          if (k < keep) {
            const cp = candleParts[k] as (typeof candleParts)[number];
            cp.t.push(open);
            cp.o.push(batch.open[i] as number);
            cp.h.push(batch.high[i] as number);
            cp.l.push(batch.low[i] as number);
            cp.c.push(batch.close[i] as number);
          }
          const sym = symbols[k] as string;
          const until = recordedUntil.get(sym);
          if (until !== undefined && open <= until) continue;
          recorder.append(sym, tfOf.get(sym) ?? '1m', open, batch.closeTimeNs[i] as bigint, batch.open[i] as number, batch.high[i] as number, batch.low[i] as number, batch.close[i] as number, batch.volume[i] as number);
          continue;
        }
        seen++;
        bar.openTimeNs = open;
        bar.closeTimeNs = batch.closeTimeNs[i] as bigint;
        bar.open = batch.open[i] as number;
        bar.high = batch.high[i] as number;
        bar.low = batch.low[i] as number;
        bar.close = batch.close[i] as number;
        bar.volume = batch.volume[i] as number;
        stepBar(clock, venue, engine, bar);
        if (engine.reconcileDue) await engine.reconcile('periodic');
        if (haltAfter !== undefined && engine.barCount >= haltAfter) process.kill(process.pid, 'SIGKILL');
        if (k < keep) {
          const cp = candleParts[k]!;
          cp.t.push(open);
          cp.o.push(bar.open);
          cp.h.push(bar.high);
          cp.l.push(bar.low);
          cp.c.push(bar.close);
        }
      }
      done += n;
      // backpressure: the loop must not outrun the disk, or sealed days pile up in memory
      if (recorder.backlog > 200_000) await recorder.settle();
      options.onProgress?.(done, total);
      if (engine.halted !== undefined) break;
    }
    engine.checkpoint();
    engine.commitWrites();
    state.close();
    await recorder.flush();
    logger.close();
    // the run's work is done when its bars, state and log are all stored, not when the loop ends
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;

    const trades = engine.trades();
    const equity = engine.equityCurve();
    const stats = computeStats(equity, trades);
    const exact = engine.exactEquity();
    const cash = Money.of(config.run.cash, config.run.currency);
    const summary: Record<string, unknown> = {
      ...snakeKeys(statsToJson(stats) as unknown as Record<string, unknown>),
      strategy: strategy.name,
      params: config.strategy.params,
      symbols,
      seed: config.run.seed,
      bars: engine.barCount,
      trades: engine.entryCount,
      closed_trades: stats.closedTrades,
      start_equity: cash.amountString(),
      final_equity: exact.round(4).toString(),
      final_equity_exact: exact.toString(),
      total_return: exact.toNumber() / cash.toNumber() - 1,
      halted: engine.halted ?? null,
      corrections: engine.corrections,
    };
    const summaryText = `${JSON.stringify(summary, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`;
    writeAtomic(join(runDir, 'summary.json'), summaryText);
    writeAtomic(join(runDir, 'trades.csv'), tradeCsv(trades));
    const candles: CandleSeries[] = candleParts.map((cp, i) => ({
      symbol: symbols[i] as string,
      timeNs: BigInt64Array.from(cp.t),
      open: Float64Array.from(cp.o),
      high: Float64Array.from(cp.h),
      low: Float64Array.from(cp.l),
      close: Float64Array.from(cp.c),
    }));
    return { runDir, summary, stats, trades, equity, candles, bars: engine.barCount, seconds, engine };
  }
}
