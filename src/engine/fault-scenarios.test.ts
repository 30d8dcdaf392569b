import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClock, NS } from '../core/clock.js';
import { Decimal } from '../core/decimal.js';
import { Rng } from '../core/rng.js';
import type { Bar, Timeframe } from '../model/bar.js';
import type { Instrument } from '../model/instrument.js';
import type { StrategyFactory } from '../strategy/types.js';
import { FaultyVenue, FAULT_PRESETS } from '../venues/simulated/faulty-venue.js';
import { readAuditAnchor, readAuditRows } from '../compliance/sqlite-sink.js';
import { verifyAuditRows } from '../compliance/verify.js';
import { resolveConfig } from './config.js';
import { Engine, MutableBar } from './engine.js';
import { MemoryLogger } from './logger.js';
import { backtestInstrument, buildVenue } from './backtest.js';
import { StateStore } from './state/store.js';

const SCENARIOS = Number(process.env.AXON_FAULT_SCENARIOS ?? 1000);
const FIRST = Number(process.env.AXON_FAULT_FIRST ?? 1);
const BARS = 60;
const SYMBOLS = ['AAA', 'BBB'];
const T0 = 1_709_649_000_000_000_000n;

/** Random entries and exits from a per-symbol seeded generator: what matters here is the order traffic. */
function randomSignals(seed: number): StrategyFactory {
  return {
    name: 'random-signals',
    description: 'test',
    params: {},
    create: (_p, ctx) => {
      const rng = new Rng(`${seed}:${ctx.symbol}`);
      // signals stop 8 bars before the end, so working orders can settle before the final check
      return { onBar: (bar) => (bar.index > BARS - 8 ? undefined : rng.chance(0.2) ? { action: 'enter-long', reason: 'coin' } : rng.chance(0.2) ? { action: 'exit', reason: 'coin' } : undefined) };
    },
  };
}

describe(`${SCENARIOS} seeded fault scenarios (drops, duplicates, delays, reorders, rejects, unknown outcomes, fills after cancel, partial fills, venue-side position changes)`, () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'axon-faults-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('after the final reconciliation: engine positions, cash and order fills equal the venue\'s, no id sent twice, every fill counted once, the audit chain verifies', async () => {
    const faultKinds = new Set<string>();
    let corrections = 0;
    for (let seed = FIRST; seed < FIRST + SCENARIOS; seed++) {
      // a third of the scenarios trade with take-profit / stop-loss exits (bracket legs at the venue plus
      // the software check), a third of those and of the rest enter by escalation (limit, reprice, market)
      const exits = seed % 3 === 1 ? { take_profit_pct: 0.8, stop_loss_pct: 0.6 } : {};
      const execution = seed % 4 === 2 ? { entry: 'escalate', first_timeout_ms: 30_000, second_timeout_ms: 30_000 } : {};
      const config = resolveConfig({
        exits,
        execution,
        run: { seed },
        venue: { commission: 'none' },
        session: { calendar: 'none' },
        engine: { warmup_bars: 0, unknown_position: 'adopt' },
        sizing: { max_position_pct: 20 },
        kill_switch: { daily_loss_pct: 100, weekly_loss_pct: 100 },
        cooldown: { bars_after_stop: 0 },
      });
      const instruments = new Map<string, Instrument>(SYMBOLS.map((s) => [s, backtestInstrument(s, config)]));
      const inner = buildVenue(config, [...instruments.values()]);
      const venue = new FaultyVenue(inner.config, new Rng(`faults:${seed}`), FAULT_PRESETS.chaos);
      await venue.connect();
      const sent: string[] = [];
      const submit = venue.submit.bind(venue);
      venue.submit = (req) => {
        sent.push(req.clientOrderId);
        return submit(req);
      };
      const clock = new TestClock(0n);
      const state = StateStore.open(join(dir, `s${seed}.sqlite`), { configHash: String(seed), create: true, createdNs: 0n, durability: 'process' });
      const engine = new Engine({ config, clock, rng: new Rng(seed), venue, instruments, strategy: randomSignals(seed), calendarFor: () => undefined, logger: new MemoryLogger(), state });
      const prices = new Rng(`prices:${seed}`);
      const last = new Map(SYMBOLS.map((s) => [s, 100]));
      const bars = SYMBOLS.map((s) => [0, 1].map(() => Object.assign(new MutableBar(), { symbol: s, timeframe: '1m' as Timeframe })));
      const step = async (i: number): Promise<void> => {
        const open = T0 + BigInt(i) * NS.m;
        for (const [k, s] of SYMBOLS.entries()) {
          const bar = (bars[k] as MutableBar[])[i % 2] as MutableBar & { timeframe: Timeframe };
          const o = last.get(s) as number;
          const c = Math.max(1, Math.round((o + prices.normal(0, 0.6)) * 100) / 100);
          Object.assign(bar, { openTimeNs: open, closeTimeNs: open + NS.m, open: o, close: c, high: Math.max(o, c) + 0.05, low: Math.max(0.5, Math.min(o, c) - 0.05), volume: 10_000 });
          last.set(s, c);
          engine.beforeBar(bar.closeTimeNs);
          if (bar.openTimeNs > clock.now()) clock.advanceTo(bar.openTimeNs);
          venue.onBar(bar as unknown as Bar);
          if (bar.closeTimeNs > clock.now()) clock.advanceTo(bar.closeTimeNs);
          engine.onBar(bar);
          if (engine.reconcileDue) await engine.reconcile('periodic');
        }
        await Promise.resolve();
      };
      let i = 0;
      try {
        for (; i < BARS; i++) await step(i);
      } catch (e) {
        throw new Error(`scenario ${seed} at bar ${i}: ${(e as Error).message}`, { cause: e });
      }
      // wind down: cancel what is still working (a cancel may itself be lost or held), let the venue settle,
      // release held events, reconcile; repeat while orders are in flight
      // (no new decisions meanwhile: a software TP/SL would otherwise send a fresh exit on every bar)
      engine.catchUp = true;
      for (let round = 0; round < 8; round++) {
        engine.cancelAll('end of scenario');
        await step(i++);
        venue.releaseAll();
        await engine.reconcile('final');
        if (engine.workingOrders().length === 0) break;
      }
      await engine.reconcile('final');
      for (const f of venue.faultLog) faultKinds.add(f.kind);
      corrections += engine.corrections;
      const where = `scenario ${seed}`;
      expect(engine.halted, where).toBeUndefined();
      // positions and cash
      const venuePositions = new Map((await venue.positionReports()).map((p) => [p.symbol, Decimal.of(p.signedQty)]));
      for (const s of SYMBOLS) expect(engine.oms.portfolio.positionQuantity(s).eq(venuePositions.get(s) ?? Decimal.ZERO), `${where} ${s}`).toBe(true);
      const cash = (await venue.balanceReport()).balances.get('USD');
      expect(cash !== undefined && engine.oms.portfolio.cashBalance('USD').eq(cash.amount), `${where} cash`).toBe(true);
      // no client order id sent twice; every order's fills counted once (engine filled = venue filled)
      expect(new Set(sent).size, where).toBe(sent.length);
      for (const id of new Set(sent)) {
        const rep = await venue.orderReport(id as never);
        const rec = engine.oms.getOrder(id);
        if (rep === undefined || rec === undefined) continue;
        expect(rec.filledQty.eq(rep.filledQty), `${where} order ${id} filled ${rec.filledQty.toString()} vs venue ${rep.filledQty.toString()}`).toBe(true);
      }
      const tradeIds = state.fills().map((f) => f.tradeId);
      expect(new Set(tradeIds).size, where).toBe(tradeIds.length);
      // nothing the engine waits on is closed at the venue
      for (const w of engine.workingOrders()) {
        const rep = await venue.orderReport(w.clientOrderId);
        expect(rep !== undefined && (rep.status === 'open' || rep.status === 'partially-filled' || rep.status === 'pending'), `${where} working ${w.clientOrderId}`).toBe(true);
      }
      expect(verifyAuditRows(readAuditRows(state.db), readAuditAnchor(state.db)).ok, where).toBe(true);
      state.close();
    }
    // the scenarios did exercise every fault kind and the reconciler
    expect([...faultKinds].sort().length).toBeGreaterThanOrEqual(10);
    expect(corrections).toBeGreaterThan(0);
  }, 600_000);
});
