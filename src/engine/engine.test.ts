import { describe, expect, it } from 'vitest';
import { TestClock, NS } from '../core/clock.js';
import { Rng } from '../core/rng.js';
import type { Timeframe } from '../model/bar.js';
import type { Instrument } from '../model/instrument.js';
import type { StrategyFactory } from '../strategy/types.js';
import { smaCross } from '../strategy/sma-cross.js';
import { resolveConfig, type EngineConfig } from './config.js';
import { Engine, MutableBar } from './engine.js';
import { MemoryLogger } from './logger.js';
import { backtestInstrument, buildVenue, calendarOf, stepBar } from './backtest.js';
import type { VenueEvent } from '../model/order.js';

// 2024-03-05 09:30 America/New_York = 14:30 UTC
const OPEN_NS = 1_709_649_000_000_000_000n;

interface Harness {
  engine: Engine;
  logger: MemoryLogger;
  events: VenueEvent[];
  feed(symbol: string, openNs: bigint, close: number, opts?: { high?: number; low?: number; open?: number }): void;
}

function harness(overrides: Record<string, unknown>, strategy: StrategyFactory, symbols = ['AAA']): Harness {
  const config: EngineConfig = resolveConfig({ venue: { commission: 'none' }, ...overrides });
  const instruments = new Map<string, Instrument>(symbols.map((s) => [s, backtestInstrument(s, config)]));
  const venue = buildVenue(config, [...instruments.values()]);
  void venue.connect();
  const clock = new TestClock(0n);
  const logger = new MemoryLogger();
  const engine = new Engine({ config, clock, rng: new Rng(1), venue, instruments, strategy, calendarFor: calendarOf(config, '1m'), logger });
  const events: VenueEvent[] = [];
  venue.onEvent((e) => events.push(e));
  const pairs = new Map<string, [MutableBar & { timeframe: Timeframe }, MutableBar & { timeframe: Timeframe }, number]>();
  return {
    engine,
    logger,
    events,
    feed(symbol, openNs, close, opts = {}) {
      let p = pairs.get(symbol);
      if (p === undefined) {
        const mk = () => Object.assign(new MutableBar(), { symbol, timeframe: '1m' as Timeframe });
        p = [mk(), mk(), 0];
        pairs.set(symbol, p);
      }
      const bar = p[p[2]] as MutableBar & { timeframe: Timeframe };
      p[2] = 1 - p[2];
      const open = opts.open ?? close;
      bar.openTimeNs = openNs;
      bar.closeTimeNs = openNs + NS.m;
      bar.open = open;
      bar.close = close;
      bar.high = opts.high ?? Math.max(open, close);
      bar.low = opts.low ?? Math.min(open, close);
      bar.volume = 1000;
      stepBar(clock, venue, engine, bar);
    },
  };
}

/** A strategy that says `enter-long` on every bar (and remembers when it was asked). */
function alwaysLong(seen: bigint[] = []): StrategyFactory {
  return {
    name: 'always-long',
    description: 'test',
    params: {},
    create: () => ({
      onBar(bar) {
        seen.push(bar.closeTimeNs);
        return { action: 'enter-long', reason: 'test' };
      },
    }),
  };
}

const minute = (i: number) => OPEN_NS + BigInt(i) * NS.m;

describe('the bar pipeline', () => {
  it('gates entries by session phase: none in warm-up, none in EOD warning, liquidation closes, no overnight hold', () => {
    const asked: bigint[] = [];
    const h = harness({ engine: { warmup_bars: 0 }, sizing: { max_position_pct: 10 }, kill_switch: { daily_loss_pct: 100, weekly_loss_pct: 100 } }, alwaysLong(asked));
    for (let i = -30; i < 390; i++) h.feed('AAA', minute(i), 100);
    // strategies ran only from ACTIVE/EOD_WARNING bars: first ask at the close of the 09:45 bar's predecessor
    expect(asked[0]).toBe(minute(15));
    const submits = h.logger.lines.filter((l) => l.event === 'order-submit');
    const entries = submits.filter((l) => l.fields.purpose === 'entry');
    const exits = submits.filter((l) => l.fields.purpose === 'exit');
    expect(entries.length).toBe(1);
    // the entry went out at the first ACTIVE bar close (09:45)
    expect(entries[0]?.fields.tsNs).toBe(minute(15));
    // EOD liquidation one minute before the close: the bar closing at 15:59
    expect(exits.length).toBe(1);
    expect(exits[0]?.fields.reason).toBe('eod-liquidation');
    expect(exits[0]?.fields.tsNs).toBe(minute(389));
    expect(h.logger.lines.some((l) => l.event === 'entry-skipped' && String(l.fields.why).includes('EOD_WARNING'))).toBe(false);
    expect(h.engine.oms.portfolio.positionQuantity('AAA').isZero()).toBe(true);
    const trades = h.engine.trades();
    expect(trades).toHaveLength(1);
    expect(trades[0]?.exitReason).toBe('eod-liquidation');
    // sized centrally: 10% of 100000 at 100 = 100 shares
    expect(trades[0]?.quantity).toBe('100');
  });

  it('enforces per-symbol warm-up before any entry', () => {
    const h = harness({ engine: { warmup_bars: 50 }, session: { calendar: 'none' } }, alwaysLong());
    for (let i = 0; i < 60; i++) h.feed('AAA', minute(i), 100);
    const entry = h.logger.lines.find((l) => l.event === 'order-submit');
    expect(entry?.fields.tsNs).toBe(minute(50));
  });

  it('isolates a strategy that throws: logged, disabled for that symbol, the run goes on', () => {
    const factory: StrategyFactory = {
      name: 'fragile',
      description: 'throws on BBB',
      params: {},
      create: (_p, ctx) => ({
        onBar(bar) {
          if (ctx.symbol === 'BBB' && bar.index === 3) throw new Error('boom');
          return bar.index === 5 ? { action: 'enter-long', reason: 'five' } : undefined;
        },
      }),
    };
    const h = harness({ engine: { warmup_bars: 0 }, session: { calendar: 'none' } }, factory, ['AAA', 'BBB']);
    for (let i = 0; i < 10; i++) {
      h.feed('AAA', minute(i), 100);
      h.feed('BBB', minute(i), 50);
    }
    const failures = h.logger.lines.filter((l) => l.event === 'strategy-failed');
    expect(failures).toHaveLength(1);
    expect(failures[0]?.fields).toMatchObject({ symbol: 'BBB', error: 'boom', disabled: true });
    const entries = h.logger.lines.filter((l) => l.event === 'order-submit').map((l) => l.fields.symbol);
    expect(entries).toEqual(['AAA']);
    expect(h.engine.barCount).toBe(20);
  });

  it('exits on the software stop loss and then cools the symbol down', () => {
    const factory = alwaysLong();
    const h = harness(
      { engine: { warmup_bars: 0 }, session: { calendar: 'none' }, exits: { stop_loss_pct: 1, take_profit_pct: 5 }, cooldown: { bars_after_stop: 5 }, kill_switch: { daily_loss_pct: 100, weekly_loss_pct: 100 } },
      factory,
    );
    h.feed('AAA', minute(0), 100); // entry sent
    h.feed('AAA', minute(1), 100); // filled at the open (100)
    h.feed('AAA', minute(2), 98.5); // -1.5%: stop loss exit sent
    h.feed('AAA', minute(3), 98.5); // exit filled
    for (let i = 4; i < 12; i++) h.feed('AAA', minute(i), 98.5);
    const trades = h.engine.trades();
    expect(trades[0]).toMatchObject({ exitReason: 'stop-loss', entryPrice: '100', exitPrice: '98.5', pnl: '-150.00' });
    const skips = h.logger.lines.filter((l) => l.event === 'entry-skipped' && l.fields.why === 'cooldown after stop loss');
    expect(skips.length).toBeGreaterThan(0);
    const entries = h.logger.lines.filter((l) => l.event === 'order-submit' && l.fields.purpose === 'entry');
    expect(entries).toHaveLength(2); // the first, then one after the cooldown
  });

  it('blocks entries for the day once the daily loss limit is hit; exits still go out; the next day trades again', () => {
    const h = harness(
      { engine: { warmup_bars: 0 }, session: { calendar: 'none' }, sizing: { max_position_pct: 100 }, kill_switch: { daily_loss_pct: 2 }, exits: { stop_loss_pct: 2.5 }, cooldown: { bars_after_stop: 0 } },
      alwaysLong(),
    );
    h.feed('AAA', minute(0), 100); // entry sent
    h.feed('AAA', minute(1), 100); // filled: 1000 shares at 100
    h.feed('AAA', minute(2), 97); // -3%: equity 97000 trips the 2% daily limit; the stop-loss exit still goes out
    for (let i = 3; i < 10; i++) h.feed('AAA', minute(i), 97);
    const lines = h.logger.lines;
    const exits = lines.filter((l) => l.event === 'order-submit' && l.fields.purpose === 'exit');
    expect(exits).toHaveLength(1);
    expect(exits[0]?.fields.reason).toBe('stop-loss');
    const blocked = lines.filter((l) => l.event === 'entry-skipped' && String(l.fields.why).startsWith('daily loss limit 2%'));
    expect(blocked.length).toBeGreaterThanOrEqual(6);
    expect(lines.filter((l) => l.event === 'order-submit' && l.fields.purpose === 'entry')).toHaveLength(1);
    // next UTC day: the day's start equity resets and entries resume
    h.feed('AAA', minute(0) + NS.d, 97);
    expect(lines.filter((l) => l.event === 'order-submit' && l.fields.purpose === 'entry')).toHaveLength(2);
  });

  it('reproduces the SMA crossover on exact ties (sma-cross through the engine)', () => {
    const h = harness({ engine: { warmup_bars: 0 }, session: { calendar: 'none' }, strategy: { name: 'sma-cross', params: { fast: 2, slow: 3 } } }, smaCross);
    const closes = [10, 10, 10, 11, 12, 11, 10, 9, 9, 10, 11];
    closes.forEach((c, i) => h.feed('AAA', minute(i), c));
    const submits = h.logger.lines.filter((l) => l.event === 'order-submit').map((l) => [l.fields.purpose, l.fields.tsNs]);
    // cross up at the bar closing 11 (index 3); cross down at index 6 (fast 10.5 < slow 11); up again at index 9 (fast 9.5 > slow 9.33)
    expect(submits).toEqual([
      ['entry', minute(4)],
      ['exit', minute(7)],
      ['entry', minute(10)],
    ]);
  });

  it('attaches take-profit / stop-loss legs at the venue (layer 1); the software check defers to them; a leg fill closes once and cancels its sibling', () => {
    const h = harness(
      { engine: { warmup_bars: 0 }, session: { calendar: 'none' }, exits: { take_profit_pct: 2, stop_loss_pct: 1 }, kill_switch: { daily_loss_pct: 100, weekly_loss_pct: 100 }, cooldown: { bars_after_stop: 0 } },
      {
        name: 'once',
        description: 'one entry on the first bar',
        params: {},
        create: () => ({ onBar: (bar) => (bar.index === 1 ? { action: 'enter-long', reason: 'go' } : undefined) }),
      },
    );
    h.feed('AAA', minute(0), 100); // entry sent with legs TP 102.00 / SL 99.00
    h.feed('AAA', minute(1), 100); // entry filled at the open; legs become live
    h.feed('AAA', minute(2), 101.5, { high: 101.9, low: 99.5 }); // +1.5%: neither leg, no software exit
    expect(h.events.filter((e) => e.kind === 'accepted').map((e) => (e as { clientOrderId: string }).clientOrderId.slice(-3))).toEqual(expect.arrayContaining(['-tp', '-sl']));
    h.feed('AAA', minute(3), 101.8, { open: 101.6, high: 102.4, low: 101.2 }); // trades through 102: TP leg fills at 102
    const trades = h.engine.trades();
    expect(trades).toHaveLength(1);
    expect(trades[0]).toMatchObject({ exitReason: 'take-profit', entryPrice: '100', exitPrice: '102', quantity: '100' });
    expect(h.engine.oms.portfolio.positionQuantity('AAA').isZero()).toBe(true);
    const canceled = h.events.filter((e) => e.kind === 'canceled').map((e) => (e as { clientOrderId: string }).clientOrderId.slice(-3));
    expect(canceled).toEqual(['-sl']);
    // only the entry was sent by the engine: the exit came from the venue's leg, once
    expect(h.logger.lines.filter((l) => l.event === 'order-submit').map((l) => l.fields.purpose)).toEqual(['entry']);
    expect(h.engine.workingOrders()).toHaveLength(0);
  });

  it('an exit decision with live legs cancels the group first and never double-sells', () => {
    const h = harness(
      { engine: { warmup_bars: 0 }, session: { calendar: 'none' }, exits: { take_profit_pct: 5, stop_loss_pct: 5 }, kill_switch: { daily_loss_pct: 100, weekly_loss_pct: 100 } },
      {
        name: 'in-out',
        description: 'enter on bar 1, exit on bar 4',
        params: {},
        create: () => ({ onBar: (bar) => (bar.index === 1 ? { action: 'enter-long', reason: 'in' } : bar.index === 4 ? { action: 'exit', reason: 'out' } : undefined) }),
      },
    );
    for (let i = 0; i < 6; i++) h.feed('AAA', minute(i), 100);
    const canceled = h.events.filter((e) => e.kind === 'canceled').map((e) => (e as { clientOrderId: string }).clientOrderId.slice(-3)).sort();
    expect(canceled).toEqual(['-sl', '-tp']);
    expect(h.engine.trades()[0]).toMatchObject({ exitReason: 'out', quantity: '100' });
    expect(h.engine.oms.portfolio.positionQuantity('AAA').isZero()).toBe(true);
    expect(h.events.filter((e) => e.kind === 'rejected')).toHaveLength(0);
  });

  it("escalates entries (execution.entry = 'escalate'): limit at the fair price, reprice after 2 s, market after 4 s", () => {
    const h = harness({ engine: { warmup_bars: 0 }, session: { calendar: 'none' }, execution: { entry: 'escalate' }, kill_switch: { daily_loss_pct: 100, weekly_loss_pct: 100 } }, alwaysLong());
    h.feed('AAA', minute(0), 100); // signal: limit buy at 100.00
    h.feed('AAA', minute(1), 100); // low 100 does not trade through 100; at +2 s reprice, at +4 s market
    h.feed('AAA', minute(2), 100.2, { open: 100.1 }); // the market order fills at this open
    const submits = h.logger.lines.filter((l) => l.event === 'order-submit');
    expect(submits.map((l) => l.fields.purpose)).toEqual(['entry', 'entry', 'entry']);
    const accepted = h.events.filter((e) => e.kind === 'accepted').length;
    expect(accepted).toBe(3);
    const kinds = h.engine.oms.activeOrders().length;
    expect(kinds).toBe(0);
    const trades = h.engine.trades();
    expect(trades).toHaveLength(1);
    expect(trades[0]).toMatchObject({ entryPrice: '100.1', quantity: '100' });
    // the audit trail shows the escalation states
    expect(h.logger.lines.some((l) => l.event === 'entry-escalation-done' && l.fields.outcome === 'filled')).toBe(true);
    // two cancels (limit, reprice) at +2 s and +4 s after the signal, then the market order
    const cancels = h.logger.lines.filter((l) => l.event === 'order-cancel').map((l) => (l.fields.tsNs as bigint) - minute(1));
    expect(cancels).toEqual([2_000_000_000n, 4_000_000_000n]);
  });

  it('an escalated limit that trades through fills at the limit with one order', () => {
    const h = harness({ engine: { warmup_bars: 0 }, session: { calendar: 'none' }, execution: { entry: 'escalate' } }, alwaysLong());
    h.feed('AAA', minute(0), 100);
    h.feed('AAA', minute(1), 100, { low: 99.5, high: 100.2 });
    expect(h.logger.lines.filter((l) => l.event === 'order-submit')).toHaveLength(1);
    expect(h.engine.trades()[0]).toMatchObject({ entryPrice: '100', quantity: '100' });
  });
});
