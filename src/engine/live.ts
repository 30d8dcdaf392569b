import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toToml } from 'smol-toml';
import { LiveClock, type Clock, type TimerId } from '../core/clock.js';
import { Rng } from '../core/rng.js';
import type { Bar } from '../model/bar.js';
import type { Instrument } from '../model/instrument.js';
import type { VenueEvent } from '../model/order.js';
import { computeStats, statsToJson } from '../analytics/stats.js';
import type { StrategyFactory } from '../strategy/types.js';
import type { Venue } from '../venues/venue.js';
import type { EngineConfig } from './config.js';
import { Engine, EngineError, MutableBar, type EngineHooks, type ReconcileReport } from './engine.js';
import { JsonlLogger } from './logger.js';
import { StateStore } from './state/store.js';
import { StateError } from './state/errors.js';
import { configHash } from './state/codec.js';
import { backtestInstrument, calendarOf } from './backtest.js';
import { snakeKeys, tradeCsv, writeAtomic } from './run-files.js';

/** A live source of bars: a market data stream plus the history needed to catch up after a restart. */
export interface BarFeed {
  /** Starts delivering bars; every call of `onBars` is one arrival (one stream message), in time order. */
  subscribe(symbols: readonly string[], onBars: (bars: readonly Bar[]) => void): Promise<void>;
  /** Bars already published with open time in [fromNs, toNs), merged in time order. */
  history(symbols: readonly string[], fromNs: bigint, toNs: bigint): Promise<Bar[]>;
  close(): Promise<void>;
}

/**
 * A venue that can replay the fills it made after a time as ordinary fill events (by execution id, so
 * the engine counts each once): how fills made while the engine was down reach it on restart.
 */
export interface FillRecovering {
  recoverFills(afterNs: bigint): Promise<number>;
}

/** The journal entry of a bar task: the start that ran it and its bars (ns as decimal strings). */
function journalEntry(start: number, bars: readonly Bar[]): string {
  return JSON.stringify({
    start,
    bars: bars.map((b) => [b.symbol, b.openTimeNs.toString(), b.closeTimeNs.toString(), b.open, b.high, b.low, b.close, b.volume]),
  });
}

function parseJournal(text: string, path: string): { start: number; bars: Bar[] } {
  const bad = (why: string): never => {
    throw new StateError('CheckpointCorrupt', `${path}: the journal entry ${why}`);
  };
  let v: { start?: unknown; bars?: unknown };
  try {
    v = JSON.parse(text) as typeof v;
  } catch {
    return bad('is not JSON');
  }
  if (!Number.isSafeInteger(v.start) || (v.start as number) < 1) bad('has no start number');
  if (!Array.isArray(v.bars)) return bad('has no bars');
  const bars = v.bars.map((r: unknown, i: number): Bar => {
    if (!Array.isArray(r) || r.length !== 8 || typeof r[0] !== 'string' || typeof r[1] !== 'string' || typeof r[2] !== 'string' || !/^\d+$/.test(r[1]) || !/^\d+$/.test(r[2])) {
      return bad(`bar ${i} is malformed`);
    }
    const nums = r.slice(3) as unknown[];
    if (!nums.every((x) => typeof x === 'number' && Number.isFinite(x))) bad(`bar ${i} has a price or volume that is not a finite number`);
    const [open, high, low, close, volume] = nums as number[];
    return { symbol: r[0], openTimeNs: BigInt(r[1]), closeTimeNs: BigInt(r[2]), open: open!, high: high!, low: low!, close: close!, volume: volume! } as Bar;
  });
  return { start: v.start as number, bars };
}

function canRecoverFills(v: Venue): v is Venue & FillRecovering {
  return typeof (v as Partial<FillRecovering>).recoverFills === 'function';
}

/** What `runLive` needs. The venue and the feed are connected by the runner. */
export interface LiveOptions {
  config: EngineConfig;
  strategy: StrategyFactory;
  /** Run directory: config.toml, state.sqlite, engine.log, summary.json, trades.csv. Reused across restarts. */
  runDir: string;
  venue: Venue;
  feed: BarFeed;
  /** Symbols to trade (default: config.data.symbols). */
  symbols?: readonly string[];
  clock?: Clock;
  /** Aborting it stops the run cleanly: no new bars, queued work finished, a last checkpoint, files written. */
  signal?: AbortSignal;
  /**
   * An existing state.sqlite that cannot be used (corrupt, truncated, another configuration, no checkpoint):
   * 'refuse' (default) throws; 'start-flat' moves it aside (`state.sqlite.unusable-<n>`), starts with empty
   * local state and lets the startup reconciliation bring it to the venue's truth.
   */
  onBadCheckpoint?: 'refuse' | 'start-flat';
  /** State durability: 'full' (default, synced commits) or 'process'. */
  durability?: 'full' | 'process';
  hooks?: EngineHooks;
  /** Called once startup (checkpoint, reconciliation, catch-up) is done and bars are subscribed. */
  onReady?: (info: { resumed: boolean; start: number; corrections: readonly string[] }) => void;
  /** Called after every handled bar arrival: when it arrived, and when its orders were handed to the venue. */
  onBarsHandled?: (info: { receivedNs: bigint; committedNs: bigint; sentNs: bigint; orders: number }) => void;
  /** Called after a task's transaction committed and before its orders (`pending` of them) are sent. */
  afterCommit?: (pending: number) => void;
  /**
   * Called after a bar task's orders were handed to the venue (written on the connection) and before the
   * checkpoint that covers them is committed.
   */
  afterSend?: (sent: number) => void;
  /** Log lines at this level or above also go to this function (e.g. stderr). */
  echo?: (line: string) => void;
}

/** What a live run leaves behind. */
export interface LiveResult {
  readonly runDir: string;
  readonly summary: Record<string, unknown>;
  readonly bars: number;
  /** How many times this run directory has been started, this one included. */
  readonly start: number;
}

/**
 * Runs the engine live: the same pipeline as a backtest, fed by a bar stream and talking to a venue
 * over the network. Startup loads the last checkpoint, replays fills the venue made meanwhile,
 * reconciles with the venue (the truth) and catches up on missed bars (indicators only), then consumes
 * bars until `signal` aborts. All engine work (bars, venue events, timers, reconciliation) runs one
 * task at a time. A task's writes (an order's intent among them) commit before any order it made is sent;
 * the checkpoint commits with them, except for a bar task with orders, whose checkpoint follows the send
 * and whose input is journaled with its writes instead (see barTask, replayJournal). A process killed at
 * any moment restarts from a state the venue can be reconciled with, and never sends an order twice.
 * @throws StateError for an unusable state.sqlite (unless `onBadCheckpoint: 'start-flat'`), EngineError
 */
export async function runLive(options: LiveOptions): Promise<LiveResult> {
  const { config, strategy, runDir, venue, feed } = options;
  mkdirSync(runDir, { recursive: true });
  const symbols = [...(options.symbols ?? config.data.symbols)];
  if (symbols.length === 0) throw new EngineError('ConfigInvalid', 'no symbols to trade: give data.symbols or --symbol');
  const statePath = join(runDir, 'state.sqlite');
  const hash = configHash(config);
  const durability = options.durability ?? 'full';
  let state: StateStore;
  let checkpoint: ReturnType<StateStore['loadCheckpoint']>;
  try {
    const fresh = !existsSync(statePath);
    state = StateStore.open(statePath, { configHash: hash, create: fresh, durability });
    try {
      checkpoint = fresh ? undefined : state.loadCheckpoint();
      const saved = checkpoint?.state as { engine?: unknown } | undefined;
      if (saved !== undefined && saved.engine === undefined) throw new StateError('CheckpointCorrupt', `${statePath}: the last checkpoint lacks the engine state`);
      if (!fresh && checkpoint === undefined && state.intents().length > 0) {
        throw new StateError('CheckpointMissing', `${statePath} has order intents but no checkpoint to load`);
      }
    } catch (e) {
      state.close();
      throw e;
    }
  } catch (e) {
    if (!(e instanceof StateError) || options.onBadCheckpoint !== 'start-flat') throw e;
    let n = 1;
    while (existsSync(`${statePath}.unusable-${n}`)) n++;
    const aside = `${statePath}.unusable-${n}`;
    renameSync(statePath, aside);
    for (const ext of ['-wal', '-shm']) if (existsSync(statePath + ext)) renameSync(statePath + ext, aside + ext);
    state = StateStore.open(statePath, { configHash: hash, create: true, durability });
    checkpoint = undefined;
    options.echo?.(`warn: state-unusable ${JSON.stringify({ error: (e as Error).message, movedTo: aside, action: 'starting flat; reconciliation adopts the venue state' })}`);
  }
  if (!existsSync(join(runDir, 'config.toml'))) writeAtomic(join(runDir, 'config.toml'), toToml(config as unknown as Record<string, unknown>));
  // every start gets its own client order id namespace: a crashed start's ids may already be at the venue
  const start = Number((state.db.prepare("SELECT value FROM meta WHERE key = 'live_starts'").get() as { value: string } | undefined)?.value ?? '0') + 1;
  state.db.prepare("INSERT INTO meta (key, value) VALUES ('live_starts', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(String(start));

  const logger = new JsonlLogger(join(runDir, 'engine.log'), options.echo === undefined ? {} : { echo: options.echo });
  const instruments = new Map<string, Instrument>();
  for (const s of symbols) instruments.set(s, backtestInstrument(s, config));
  const baseClock = options.clock ?? new LiveClock();

  // one task at a time: bars, venue events, timers and reconciliation never interleave
  let chain: Promise<unknown> = Promise.resolve();
  let failure: unknown;
  const enqueue = <T>(task: () => T | Promise<T>): Promise<T | undefined> => {
    const p = chain.then(async () => (failure === undefined ? await task() : undefined));
    chain = p.catch((e: unknown) => {
      failure ??= e;
    });
    return p.catch(() => undefined);
  };

  // the engine's timers (entry escalation) run as tasks too
  const clock: Clock = {
    now: () => baseClock.now(),
    setTimer: (atNs: bigint, callback: (nowNs: bigint) => void): TimerId => baseClock.setTimer(atNs, (t) => void enqueue(() => commitAndSend(() => callback(t)))),
    cancelTimer: (id: TimerId) => baseClock.cancelTimer(id),
  };

  const engine = new Engine({
    config,
    state,
    clock,
    rng: new Rng(config.run.seed),
    venue,
    instruments,
    strategy,
    calendarFor: calendarOf(config, '1m'),
    logger,
    ...(options.hooks === undefined ? {} : { hooks: options.hooks }),
    deferSends: true,
    // venue events are applied as tasks, inside their transaction (drainEvents)
    driverDeliversEvents: true,
    idNamespace: `live-${start}`,
  });
  const resumed = checkpoint !== undefined;
  if (checkpoint !== undefined) engine.restore((checkpoint.state as { engine: Record<string, unknown> }).engine);

  /**
   * Runs `fn`, then checkpoints, in one transaction; then sends the orders it made and resolves once the
   * venue has taken them. (Bar arrivals go through barTask.)
   */
  async function commitAndSend(fn: () => void): Promise<void> {
    state.transaction(() => {
      fn();
      engine.checkpoint();
    });
    const orders = engine.pendingSends;
    if (orders > 0) options.afterCommit?.(orders);
    const sending = engine.flushSends();
    // the log's disk write waits until the orders are out: done first, it sat between the commit and the
    // request reaching the socket
    await sending;
    logger.flush();
  }

  /**
   * A bar arrival. Without orders it is an ordinary task (writes and checkpoint in one transaction). With
   * orders, the checkpoint moves behind the send, out of the bar-to-order path: one transaction commits the
   * task's writes (intents first among them) with a journal entry of its input (the bars, and this start's
   * id namespace); the orders go out; then the checkpoint commits and ends the entry. A death in between
   * leaves the entry: the next start replays it (replayJournal), which rebuilds the same orders under the
   * same ids and never sends them again.
   */
  async function barTask(bars: readonly Bar[], sent: (info: { committedNs: bigint; sentNs: bigint; orders: number }) => void): Promise<void> {
    state.transaction(() => {
      // the journal holds exactly the bars the engine was given, so a replay gives it the same ones
      const fed = bars.filter(feedBar);
      if (engine.pendingSends === 0) engine.checkpoint();
      else state.writeJournal(journalEntry(start, fed));
    });
    const committedNs = process.hrtime.bigint();
    const orders = engine.pendingSends;
    if (orders > 0) options.afterCommit?.(orders);
    const sending = engine.flushSends();
    sent({ committedNs, sentNs: process.hrtime.bigint(), orders });
    if (orders > 0) {
      // an order that could not be written at once (a connection still opening, all of them busy) goes out
      // in the next turns: let I/O run before the checkpoint's synchronous work
      await new Promise<void>((r) => setImmediate(r));
      options.afterSend?.(orders);
      state.transaction(() => {
        engine.checkpoint();
        state.clearJournal();
      });
    }
    await sending;
    logger.flush();
  }

  /**
   * After a death between a bar task's send and its checkpoint (see barTask): feeds the journaled bars again
   * from the restored checkpoint under the dead start's id namespace. The engine rebuilds the same orders
   * (same ids: their stored intents are reused); none is sent again, and the startup reconciliation asks the
   * venue about each. Cancels are sent again (a repeated cancel is refused harmlessly). Commits the checkpoint
   * and ends the entry in one transaction.
   */
  function replayJournal(): void {
    const text = state.readJournal();
    if (text === undefined) return;
    const entry = parseJournal(text, statePath);
    const own = engine.idNamespace;
    state.transaction(() => {
      engine.idNamespace = `live-${entry.start}`;
      try {
        for (const b of entry.bars) feedBar(b);
      } finally {
        engine.idNamespace = own;
      }
      engine.dropHeldOrders(`replayed after a restart: start ${entry.start} may have sent it before it died`);
      engine.checkpoint();
      state.clearJournal();
    });
    replayedUntil = entry.bars.reduce((m, b) => (b.closeTimeNs > m ? b.closeTimeNs : m), replayedUntil);
    logger.log('warn', 'journal-replayed', { start: entry.start, bars: entry.bars.length });
  }
  let replayedUntil = checkpoint?.tsNs ?? 0n;

  const pendingEvents: VenueEvent[] = [];
  let drainQueued = false;
  const unsubscribe = venue.onEvent((e) => {
    pendingEvents.push(e);
    if (drainQueued) return;
    drainQueued = true;
    void enqueue(() => commitAndSend(drainEvents));
  });

  let stopped = false;
  const lastBarOpen = new Map<string, bigint>();
  let firstBarOpenNs: bigint | undefined;
  const bar = new MutableBar();
  /** Hands a bar to the engine; false for a bar seen already (replays after a reconnect), which it skips. */
  const feedBar = (b: Bar): boolean => {
    const last = lastBarOpen.get(b.symbol);
    if (last !== undefined && b.openTimeNs <= last) return false;
    lastBarOpen.set(b.symbol, b.openTimeNs);
    firstBarOpenNs ??= b.openTimeNs;
    bar.symbol = b.symbol;
    bar.openTimeNs = b.openTimeNs;
    bar.closeTimeNs = b.closeTimeNs;
    bar.open = b.open;
    bar.high = b.high;
    bar.low = b.low;
    bar.close = b.close;
    bar.volume = b.volume;
    engine.onBar(bar);
    return true;
  };
  /** Venue time after which fills may be missing here: the last fill recorded, else the checkpoint's; none for a new run. */
  const lastFillNs = (): bigint | undefined => state.lastFill()?.tsNs ?? checkpoint?.tsNs;
  /** Applies the events the venue delivered so far, inside the running task. */
  const drainEvents = (): void => {
    drainQueued = false;
    for (const ev of pendingEvents.splice(0)) engine.onVenueEvent(ev);
  };
  /** Asks the venue for its own fills since the last one recorded here (by execution id); they queue as events. */
  const recoverVenueFills = async (): Promise<void> => {
    const since = lastFillNs() ?? firstBarOpenNs;
    if (since !== undefined && canRecoverFills(venue)) await venue.recoverFills(since > 1_000_000_000n ? since - 1_000_000_000n : 0n);
  };
  const reconcile = async (reason: string): Promise<ReconcileReport> => {
    let report: ReconcileReport | undefined;
    // the venue's own fills first (their execution ids): a fill whose stream event is late or lost is
    // applied as itself, so reconciliation never needs to synthesize one for it
    await recoverVenueFills();
    // the venue is asked outside the transaction; corrections and the checkpoint commit together
    state.db.exec('BEGIN');
    try {
      drainEvents();
      const quiet = (): boolean => pendingEvents.length === 0;
      report = await engine.reconcile(reason, { deferMissingFills: canRecoverFills(venue), quiet });
      if (report.missingFills.length > 0) {
        // the venue closed an order whose fills arrived after the fill query: fetch them, then look again
        await recoverVenueFills();
        drainEvents();
        report = await engine.reconcile(reason, { quiet });
      }
      engine.checkpoint();
      state.db.exec('COMMIT');
    } catch (e) {
      if (state.db.inTransaction) state.db.exec('ROLLBACK');
      throw e;
    }
    if (engine.pendingSends > 0) options.afterCommit?.(engine.pendingSends);
    await engine.flushSends();
    return report;
  };

  let corrections: readonly string[] = [];
  try {
    await venue.connect();
    // restart: fills the venue made since the last one recorded arrive as ordinary (deduplicated) events
    // inside the startup reconciliation
    await enqueue(async () => {
      if (resumed) {
        replayJournal();
        await engine.flushSends();
      }
      corrections = (await reconcile(resumed ? 'resume' : 'startup')).corrections;
    });
    // bars handled before the checkpoint (or replayed from the journal) are never handled again
    const handledUntil = resumed ? replayedUntil : 0n;
    // catch-up first (queued before the stream's first bars): bars published while this process was
    // down update indicators and marks only; stream bars queue behind it and skip what it covered
    if (resumed && handledUntil > 0n) {
      void enqueue(async () => {
        const missed = await feed.history(symbols, handledUntil - 86_400_000_000_000n, clock.now() + 86_400_000_000_000n);
        await commitAndSend(() => {
          engine.catchUp = true;
          try {
            for (const b of missed) if (b.closeTimeNs > handledUntil) feedBar(b);
          } finally {
            engine.catchUp = false;
          }
        });
      });
    }
    await feed.subscribe(symbols, (bars) => {
      if (stopped) return;
      const receivedNs = process.hrtime.bigint();
      void enqueue(async () => {
        await barTask(
          bars.filter((b) => b.closeTimeNs > handledUntil),
          (t) => options.onBarsHandled?.({ receivedNs, ...t }),
        );
        if (engine.reconcileDue) await reconcile('periodic');
      });
    });
    await enqueue(() => undefined);
    if (failure !== undefined) throw failure;
    options.onReady?.({ resumed, start, corrections });
    await new Promise<void>((resolve) => {
      if (options.signal === undefined) return;
      if (options.signal.aborted) return resolve();
      options.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    stopped = true;
    await feed.close().catch(() => undefined);
    await chain;
    unsubscribe();
    await venue.disconnect().catch(() => undefined);
    try {
      if (failure === undefined) {
        state.transaction(() => engine.checkpoint());
      }
    } finally {
      state.close();
      logger.close();
    }
  }
  if (failure !== undefined) throw failure;

  const trades = engine.trades();
  const stats = computeStats(engine.equityCurve(), trades);
  const exact = engine.exactEquity();
  const summary: Record<string, unknown> = {
    ...snakeKeys(statsToJson(stats) as unknown as Record<string, unknown>),
    mode: 'live',
    venue: venue.name,
    strategy: strategy.name,
    params: config.strategy.params,
    symbols,
    bars: engine.barCount,
    trades: engine.entryCount,
    closed_trades: stats.closedTrades,
    final_equity: exact.round(4).toString(),
    final_equity_exact: exact.toString(),
    cash: engine.oms.portfolio.cashBalance(config.run.currency).toString(),
    positions: Object.fromEntries(symbols.map((s) => [s, engine.oms.portfolio.positionQuantity(s).toString()]).filter(([, q]) => !/^-?0(\.0*)?$/.test(q as string))),
    halted: engine.halted ?? null,
    corrections: engine.corrections,
    starts: start,
  };
  writeAtomic(join(runDir, 'summary.json'), `${JSON.stringify(summary, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
  writeAtomic(join(runDir, 'trades.csv'), tradeCsv(trades));
  return { runDir, summary, bars: engine.barCount, start };
}
