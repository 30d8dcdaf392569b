import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Price, Quantity } from '../../core/decimal.js';
import { AxonError } from '../../core/errors.js';
import { clientOrderId } from '../../core/ids.js';
import { Money } from '../../core/money.js';
import { Rng } from '../../core/rng.js';
import { makeBar, type Bar } from '../../model/bar.js';
import { makeInstrument, type Instrument } from '../../model/instrument.js';
import type { ModifyRequest, OrderRequest, OrderType, TimeInForce, VenueEvent } from '../../model/order.js';
import { decodeState, encodeState } from '../../engine/state/codec.js';
import { FAULT_PRESETS, FaultyVenue, type FaultyVenueState } from './faulty-venue.js';
import {
  BpsCommission,
  BpsSlippage,
  JitterLatency,
  NextOpenMarketFill,
  PerShareCommission,
  ShareOfBarVolume,
  ThisCloseMarketFill,
  TouchLimitFill,
} from './models.js';
import { bookColumns, bookRows, SimulatedVenue, type SimulatedVenueBuilder, type SimulatedVenueLiveState, type SimulatedVenueState } from './simulated-venue.js';
import { eventFromState, eventState } from './state.js';
import { liveVenueState } from './live-state.fixture.js';

const T0 = 1_700_000_000_000_000_000n;
const HOUR = 3_600_000_000_000n;
const STEPS = 60;

const INSTRUMENTS: Instrument[] = [
  makeInstrument({ id: 'AAPL.SIM', tickSize: '0.01', lotSize: '1', baseCurrency: 'AAPL', quoteCurrency: 'USD' }),
  makeInstrument({ id: 'MSFT.SIM', tickSize: '0.05', lotSize: '1', baseCurrency: 'MSFT', quoteCurrency: 'USD', minQuantity: '2' }),
];

type Action = { kind: 'submit'; order: OrderRequest } | { kind: 'cancel'; id: string } | { kind: 'modify'; request: ModifyRequest };
interface Step {
  readonly actions: readonly Action[];
  readonly bars: readonly Bar[];
}

interface Variant {
  readonly thisClose: boolean;
  readonly touch: boolean;
  readonly share: string | undefined;
  readonly slippageBps: string | undefined;
  readonly commission: 'none' | 'per-share' | 'bps';
  readonly jitterSeed: number | undefined;
  readonly margin: boolean;
}

function variantOf(rng: Rng): Variant {
  return {
    thisClose: rng.chance(0.5),
    touch: rng.chance(0.5),
    share: rng.chance(0.5) ? rng.pick(['0.01', '0.05', '0.3']) : undefined,
    slippageBps: rng.chance(0.5) ? '5' : undefined,
    commission: rng.pick(['none', 'per-share', 'bps'] as const),
    jitterSeed: rng.chance(0.5) ? rng.int(1, 1_000_000) : undefined,
    margin: rng.chance(0.5),
  };
}

/** A fresh builder for the variant: each call makes new model instances (and a new jitter generator). */
function builderOf(v: Variant): SimulatedVenueBuilder {
  let b = SimulatedVenue.defaults({ instruments: INSTRUMENTS, startingBalances: [Money.of('100000', 'USD')] });
  if (v.thisClose) b = b.marketFillModel(new ThisCloseMarketFill());
  if (v.touch) b = b.limitFillModel(new TouchLimitFill());
  if (v.share !== undefined) b = b.volumeModel(new ShareOfBarVolume(v.share));
  if (v.slippageBps !== undefined) b = b.slippageModel(new BpsSlippage(v.slippageBps));
  if (v.commission === 'per-share') b = b.commissionModel(new PerShareCommission('0.005', '1'));
  if (v.commission === 'bps') b = b.commissionModel(new BpsCommission('2'));
  // jitter of up to 3 h against 1 h bars: orders wait in the pending queue across bars (and across the cut)
  if (v.jitterSeed !== undefined) b = b.latencyModel(new JitterLatency(0n, 3 * Number(HOUR), new Rng(v.jitterSeed)));
  return b.accountType(v.margin ? 'margin' : 'cash');
}

const round = (x: number, tick: number): number => Math.max(tick, Math.round(x / tick) * tick);
const fmt = (x: number, tick: number): string => round(x, tick).toFixed(2);

/** A script that depends only on the seed (never on what the venue did), so two runs get the same inputs. */
function scriptOf(rng: Rng): Step[] {
  const px: Record<string, number> = { AAPL: 100, MSFT: 50 };
  const ticks: Record<string, number> = { AAPL: 0.01, MSFT: 0.05 };
  const ids: string[] = [];
  const steps: Step[] = [];
  let n = 0;
  for (let i = 0; i < STEPS; i++) {
    const actions: Action[] = [];
    const k = rng.int(0, 3);
    for (let j = 0; j < k; j++) {
      const r = rng.next();
      if (r < 0.6 || ids.length === 0) {
        const symbol = rng.pick(['AAPL', 'MSFT']);
        const tick = ticks[symbol] as number;
        const p = px[symbol] as number;
        const side = rng.chance(0.6) ? 'Buy' : 'Sell';
        const type = rng.pick<OrderType>(['Market', 'Market', 'Limit', 'Limit', 'Stop', 'StopLimit']);
        const sign = side === 'Buy' ? 1 : -1;
        const away = rng.uniform(-0.02, 0.03);
        const limit = type === 'Limit' ? fmt(p * (1 - sign * away), tick) : type === 'StopLimit' ? fmt(p * (1 + sign * 0.02), tick) : undefined;
        const stop = type === 'Stop' || type === 'StopLimit' ? fmt(p * (1 + sign * rng.uniform(0.002, 0.03)), tick) : undefined;
        const tifs: TimeInForce[] = type === 'Stop' || type === 'StopLimit' ? ['GTC', 'DAY'] : ['GTC', 'GTC', 'DAY', 'IOC', 'FOK'];
        const id = `c${++n}`;
        ids.push(id);
        const notional = type === 'Market' && side === 'Buy' && rng.chance(0.15);
        const bracket = !notional && rng.chance(0.35);
        const order: OrderRequest = {
          clientOrderId: clientOrderId(id),
          symbol,
          side,
          type,
          quantity: Quantity.of(String(2 * rng.int(1, 40))),
          timeInForce: rng.pick(tifs),
          tsInit: 0n,
          ...(limit === undefined ? {} : { limitPrice: Price.of(limit) }),
          ...(stop === undefined ? {} : { stopPrice: Price.of(stop) }),
          ...(notional ? { notional: Money.of(String(rng.int(50, 3000)), 'USD') } : {}),
          ...(bracket ? { bracket: { takeProfit: Price.of(fmt(p * (1 + sign * 0.03), tick)), stopLoss: Price.of(fmt(p * (1 - sign * 0.03), tick)) } } : {}),
          ...(!bracket && !notional && side === 'Sell' && rng.chance(0.2) ? { reduceOnly: true } : {}),
        };
        if (bracket) ids.push(`${id}-tp`, `${id}-sl`);
        actions.push({ kind: 'submit', order });
      } else if (r < 0.8) {
        actions.push({ kind: 'cancel', id: rng.pick(ids) });
      } else {
        const id = rng.pick(ids);
        const p = px.AAPL as number;
        const request: ModifyRequest = rng.chance(0.5)
          ? { clientOrderId: clientOrderId(id), quantity: Quantity.of(String(2 * rng.int(1, 40))) }
          : { clientOrderId: clientOrderId(id), limitPrice: Price.of(fmt(p * rng.uniform(0.97, 1.03), 0.05)) };
        actions.push({ kind: 'modify', request });
      }
    }
    const bars: Bar[] = [];
    for (const symbol of ['AAPL', 'MSFT']) {
      const tick = ticks[symbol] as number;
      const open = round((px[symbol] as number) * (1 + rng.normal(0, 0.004)), tick);
      const close = round(open * (1 + rng.normal(0, 0.01)), tick);
      const high = round(Math.max(open, close) * (1 + Math.abs(rng.normal(0, 0.006))), tick);
      const low = round(Math.min(open, close) * (1 - Math.abs(rng.normal(0, 0.006))), tick);
      px[symbol] = close;
      bars.push(makeBar({ symbol, timeframe: '1h', openTimeNs: T0 + BigInt(i) * HOUR, open, high, low: Math.min(low, open, close), close, volume: rng.int(100, 4000) }));
    }
    steps.push({ actions, bars });
  }
  return steps;
}

/** Serializes anything the venues return, keeping every decimal's precision and every Map's order. */
function dump(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (v instanceof Map) return [...(v as Map<unknown, unknown>)];
    return v;
  });
}

type AnyVenue = SimulatedVenue | FaultyVenue;

async function drive(venue: AnyVenue, steps: readonly Step[], from: number, to: number, log: string[]): Promise<void> {
  const note = (what: string) => (e: unknown) => {
    log.push(`${what} error ${e instanceof AxonError ? e.message : String(e)}`);
  };
  for (let i = from; i < to; i++) {
    const step = steps[i] as Step;
    for (const a of step.actions) {
      if (a.kind === 'submit') await venue.submit(a.order).catch(note('submit'));
      else if (a.kind === 'cancel') await venue.cancel(clientOrderId(a.id)).catch(note('cancel'));
      else await venue.modify(a.request).catch(note('modify'));
    }
    for (const bar of step.bars) venue.onBar(bar);
  }
}

async function finalDump(venue: AnyVenue): Promise<string> {
  if (venue instanceof FaultyVenue) venue.releaseAll();
  return dump({
    orders: await venue.orderReports({ includeClosed: true }),
    positions: await venue.positionReports(),
    balances: await venue.balanceReport(),
    now: venue.now,
  });
}

function listen(venue: AnyVenue, log: string[]): void {
  venue.onEvent((e) => log.push(encodeState(eventState(e))));
}

interface Outcome {
  readonly log: string[];
  readonly final: string;
  readonly state: string;
  readonly faults: string[];
}

interface Stats {
  fills: number;
  partials: number;
  legFills: number;
  modified: number;
  canceled: number;
  expired: number;
  pendingAtCut: number;
  workingAtCut: number;
  heldAtCut: number;
}

const stats: Record<'sim' | 'faulty', Stats> = {
  sim: { fills: 0, partials: 0, legFills: 0, modified: 0, canceled: 0, expired: 0, pendingAtCut: 0, workingAtCut: 0, heldAtCut: 0 },
  faulty: { fills: 0, partials: 0, legFills: 0, modified: 0, canceled: 0, expired: 0, pendingAtCut: 0, workingAtCut: 0, heldAtCut: 0 },
};

function count(s: Stats, log: readonly string[]): void {
  for (const line of log) {
    if (line.startsWith('{"kind":"filled"')) {
      s.fills++;
      const e = eventFromState(decodeState(line));
      if (e.kind === 'filled' && !e.leavesQty.isZero()) s.partials++;
      if (e.kind === 'filled' && /-(tp|sl)$/.test(e.clientOrderId)) s.legFills++;
    } else if (line.startsWith('{"kind":"modified"')) s.modified++;
    else if (line.startsWith('{"kind":"canceled"')) s.canceled++;
    else if (line.startsWith('{"kind":"expired"')) s.expired++;
  }
}

async function uninterrupted(make: () => AnyVenue, steps: readonly Step[], cut: number): Promise<Outcome & { logAtCut: number; faultsAtCut: number }> {
  const venue = make();
  const log: string[] = [];
  listen(venue, log);
  await venue.connect();
  await drive(venue, steps, 0, cut, log);
  const logAtCut = log.length;
  const faultsAtCut = venue instanceof FaultyVenue ? venue.faultLog.length : 0;
  await drive(venue, steps, cut, steps.length, log);
  const final = await finalDump(venue);
  return { log, final, state: encodeState(venue.snapshot()), faults: faultLines(venue), logAtCut, faultsAtCut };
}

async function resumed(make: () => AnyVenue, steps: readonly Step[], cut: number, s: Stats): Promise<Outcome & { before: string[] }> {
  const first = make();
  const before: string[] = [];
  listen(first, before);
  await first.connect();
  await drive(first, steps, 0, cut, before);
  const snap = first.snapshot();
  const inner = first instanceof FaultyVenue ? first.inner.snapshot() : snap;
  s.pendingAtCut += (inner as SimulatedVenueState).pending.length;
  s.workingAtCut += (inner as SimulatedVenueState).books.reduce((a, b) => a + b.working.length, 0);
  if (first instanceof FaultyVenue) s.heldAtCut += (snap as FaultyVenueState).held.length + (snap as FaultyVenueState).heldCancels.length;
  const text = encodeState(snap);

  const second = make();
  const log: string[] = [];
  listen(second, log);
  second.restore(decodeState(text) as never);
  await second.connect();
  await drive(second, steps, cut, steps.length, log);
  const final = await finalDump(second);
  return { log, final, state: encodeState(second.snapshot()), faults: faultLines(second), before };
}

function faultLines(venue: AnyVenue): string[] {
  if (!(venue instanceof FaultyVenue)) return [];
  return venue.faultLog.map((f) => `${f.kind} ${f.tsNs} ${f.subject} ${f.event === undefined ? '' : encodeState(eventState(f.event))}`);
}

async function checkResume(make: () => AnyVenue, steps: readonly Step[], cut: number, s: Stats): Promise<void> {
  const a = await uninterrupted(make, steps, cut);
  const b = await resumed(make, steps, cut, s);
  expect(b.before).toEqual(a.log.slice(0, a.logAtCut));
  expect(b.log).toEqual(a.log.slice(a.logAtCut));
  expect(b.final).toBe(a.final);
  expect(b.state).toBe(a.state);
  expect(b.faults).toEqual(a.faults.slice(a.faultsAtCut));
  count(s, a.log);
}

describe('SimulatedVenue snapshot/restore', () => {
  it('a run cut at a random bar, round-tripped through the checkpoint codec into a new venue, continues byte-identically', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 0, max: STEPS }), async (seed, cut) => {
        const rng = new Rng(seed);
        const variant = variantOf(rng);
        const steps = scriptOf(rng);
        await checkResume(() => builderOf(variant).build(), steps, cut, stats.sim);
      }),
      { numRuns: 120 },
    );
    // the scenarios really exercise what the state must carry
    const s = stats.sim;
    expect(s.fills).toBeGreaterThan(500);
    expect(s.partials).toBeGreaterThan(20);
    expect(s.legFills).toBeGreaterThan(10);
    expect(s.modified).toBeGreaterThan(20);
    expect(s.canceled).toBeGreaterThan(50);
    expect(s.expired).toBeGreaterThan(0);
    expect(s.pendingAtCut).toBeGreaterThan(0);
    expect(s.workingAtCut).toBeGreaterThan(20);
  }, 120_000);

  it('restoring keeps the handlers registered on the new venue and replaces a state it already had', async () => {
    const rng = new Rng(7);
    const variant = variantOf(rng);
    const steps = scriptOf(rng);
    const a = builderOf(variant).build();
    await a.connect();
    await drive(a, steps, 0, 30, []);
    const snap = encodeState(a.snapshot());
    const b = builderOf(variant).build();
    const seen: VenueEvent[] = [];
    b.onEvent((e) => seen.push(e));
    await b.connect();
    await drive(b, steps, 0, 10, []);
    b.restore(decodeState(snap) as SimulatedVenueState);
    expect(encodeState(b.snapshot())).toBe(snap);
    seen.length = 0;
    await drive(b, steps, 30, 40, []);
    const other: VenueEvent[] = [];
    a.onEvent((e) => other.push(e));
    await drive(a, steps, 30, 40, []);
    expect(dump(seen)).toBe(dump(other));
  });

  it('keeps the precision of every amount (cash, commissions) through the round trip', async () => {
    const make = () =>
      SimulatedVenue.defaults({ instruments: INSTRUMENTS, startingBalances: [Money.of('1000.125', 'USD')] })
        .marketFillModel(new ThisCloseMarketFill())
        .commissionModel(new PerShareCommission('0.0035'))
        .build();
    const v = make();
    await v.connect();
    v.onBar(makeBar({ symbol: 'AAPL', timeframe: '1h', openTimeNs: T0, open: 100, high: 101, low: 99, close: 100.37, volume: 1000 }));
    await v.submit({ clientOrderId: clientOrderId('p1'), symbol: 'AAPL', side: 'Buy', type: 'Market', quantity: Quantity.of('3'), timeInForce: 'GTC', tsInit: 0n });
    const w = make();
    w.restore(decodeState(encodeState(v.snapshot())) as SimulatedVenueState);
    expect(dump(await w.balanceReport())).toBe(dump(await v.balanceReport()));
    expect(dump(await w.orderReports({ includeClosed: true }))).toBe(dump(await v.orderReports({ includeClosed: true })));
    const cash = (await w.balanceReport()).balances.get('USD');
    expect(cash?.toString()).toBe('699.0045 USD');
    expect(cash?.precision).toBe(4);
  });
});

const WORKING = new Set(['pending', 'open', 'partially-filled']);

/** Like drive, but a cancel or modify whose order this venue does not report as working is skipped (a venue restored from liveSnapshot no longer knows closed orders). */
async function driveWorking(venue: SimulatedVenue, steps: readonly Step[], from: number, to: number, log: string[], after?: () => void): Promise<void> {
  for (let i = from; i < to; i++) {
    const step = steps[i] as Step;
    for (const a of step.actions) {
      if (a.kind === 'submit') await venue.submit(a.order);
      else {
        const id = a.kind === 'cancel' ? a.id : a.request.clientOrderId;
        const rep = await venue.orderReport(clientOrderId(id));
        if (rep === undefined || !WORKING.has(rep.status)) {
          log.push(`skip ${a.kind} ${id}`);
          continue;
        }
        if (a.kind === 'cancel') await venue.cancel(clientOrderId(id));
        else await venue.modify(a.request);
      }
      after?.();
    }
    for (const bar of step.bars) {
      venue.onBar(bar);
      after?.();
    }
  }
}

describe('SimulatedVenue liveSnapshot', () => {
  it('equals liveVenueState(snapshot()) byte for byte after every call of random submit/fill/cancel/modify/bracket runs (and orderReports() lists the working orders)', async () => {
    const seen = { checks: 0, working: 0, dropped: 0, links: 0, pending: 0 };
    const compare = async (v: SimulatedVenue): Promise<void> => {
      const full = v.snapshot();
      const want = liveVenueState(full);
      const got = v.liveSnapshot();
      expect(dump(got)).toBe(dump(want));
      expect(encodeState(got)).toBe(encodeState(want));
      seen.checks++;
      seen.dropped += full.orders.length - got.orders.length;
      for (const o of got.orders) {
        if (WORKING.has(o.status)) seen.working++;
        else seen.links++;
      }
      seen.pending += got.pending.length;
      const all = await v.orderReports({ includeClosed: true });
      expect(dump(await v.orderReports())).toBe(dump(all.filter((r) => WORKING.has(r.status))));
    };
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.boolean(), async (seed, faulty) => {
        const rng = new Rng(seed);
        const variant = variantOf(rng);
        const steps = scriptOf(rng);
        // under chaos the inner venue also sees held cancels, forced partial fills and venue-side position changes
        const outer = faulty ? new FaultyVenue(builderOf(variant), new Rng(`live-${seed}`), FAULT_PRESETS.chaos) : builderOf(variant).build();
        const v = outer instanceof FaultyVenue ? outer.inner : outer;
        await outer.connect();
        await compare(v);
        for (let i = 0; i < steps.length; i++) {
          await drive(outer, steps, i, i + 1, []);
          await compare(v);
        }
      }),
      { numRuns: 80 },
    );
    // the runs really have closed orders to drop, working orders to keep and closed orders kept as links
    expect(seen.checks).toBeGreaterThan(4000);
    expect(seen.dropped).toBeGreaterThan(10_000);
    expect(seen.working).toBeGreaterThan(2000);
    expect(seen.links).toBeGreaterThan(100);
    expect(seen.pending).toBeGreaterThan(50);
  }, 120_000);

  it('a venue restored from liveSnapshot (through the checkpoint codec) continues with the same events, reports and state', async () => {
    let resumedWithWork = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 0, max: STEPS }), async (seed, cut) => {
        const rng = new Rng(seed);
        const variant = variantOf(rng);
        const steps = scriptOf(rng);
        const a = builderOf(variant).build();
        const logA: string[] = [];
        listen(a, logA);
        await a.connect();
        await driveWorking(a, steps, 0, cut, logA);
        const text = encodeState(a.liveSnapshot());
        const atCut = logA.length;
        await driveWorking(a, steps, cut, steps.length, logA);

        const b = builderOf(variant).build();
        const logB: string[] = [];
        listen(b, logB);
        b.restore(decodeState(text) as SimulatedVenueState);
        if ((decodeState(text) as SimulatedVenueState).orders.length > 0) resumedWithWork++;
        await b.connect();
        await driveWorking(b, steps, cut, steps.length, logB);

        expect(logB).toEqual(logA.slice(atCut));
        const reports = async (v: SimulatedVenue): Promise<string> =>
          dump({ working: await v.orderReports(), positions: await v.positionReports(), balances: await v.balanceReport(), now: v.now });
        expect(await reports(b)).toBe(await reports(a));
        expect(encodeState(b.liveSnapshot())).toBe(encodeState(a.liveSnapshot()));
      }),
      { numRuns: 120 },
    );
    expect(resumedWithWork).toBeGreaterThan(40);
  }, 120_000);

  it('keeps a closed bracket entry and a closed OCO sibling that working legs link to, in submission order', async () => {
    const v = SimulatedVenue.defaults({ instruments: INSTRUMENTS, startingBalances: [Money.of('100000', 'USD')] }).accountType('margin').build();
    await v.connect();
    const bar = (i: number, o: number, h: number, l: number, c: number): Bar =>
      makeBar({ symbol: 'AAPL', timeframe: '1h', openTimeNs: T0 + BigInt(i) * HOUR, open: o, high: h, low: l, close: c, volume: 1000 });
    v.onBar(bar(0, 100, 100.5, 99.5, 100));
    const order = (id: string, extra: Partial<OrderRequest>): OrderRequest => ({
      clientOrderId: clientOrderId(id),
      symbol: 'AAPL',
      side: 'Buy',
      type: 'Market',
      quantity: Quantity.of('10'),
      timeInForce: 'GTC',
      tsInit: 0n,
      ...extra,
    });
    await v.submit(order('done', {}));
    await v.submit(order('entry', { bracket: { takeProfit: Price.of('110'), stopLoss: Price.of('90') } }));
    await v.submit(order('rest', { type: 'Limit', limitPrice: Price.of('50') }));
    v.onBar(bar(1, 100, 100.5, 99.5, 100));
    // 'done' and 'entry' filled; the legs of 'entry' and 'rest' work
    const live = v.liveSnapshot();
    expect(live.orders.map((o) => `${o.clientOrderId}:${o.status}`)).toEqual(['entry:filled', 'rest:open', 'entry-sl:open', 'entry-tp:open']);
    expect(dump(live)).toBe(dump(liveVenueState(v.snapshot())));
    // cancel one leg: the OCO group closes with it, nothing of the bracket is kept
    await v.cancel(clientOrderId('entry-tp'));
    expect(v.liveSnapshot().orders.map((o) => o.clientOrderId)).toEqual(['rest']);
    await v.cancel(clientOrderId('rest'));
    expect(v.liveSnapshot().orders).toEqual([]);
    expect(v.snapshot().orders).toHaveLength(5);
  });

  it('refuses while it is delivering events (Busy)', async () => {
    const v = SimulatedVenue.defaults({ instruments: INSTRUMENTS, startingBalances: [Money.of('100000', 'USD')] }).marketFillModel(new ThisCloseMarketFill()).build();
    let inside: unknown;
    v.onEvent(() => {
      try {
        v.liveSnapshot();
      } catch (e) {
        inside = e;
      }
    });
    await v.connect();
    await v.submit({ clientOrderId: clientOrderId('b1'), symbol: 'AAPL', side: 'Buy', type: 'Market', quantity: Quantity.of('1'), timeInForce: 'GTC', tsInit: 0n });
    expect(inside).toMatchObject({ code: 'Busy' });
  });
});

describe('FaultyVenue snapshot/restore', () => {
  it('under FAULT_PRESETS.chaos, a run cut at a random bar continues byte-identically (events, fault log, reports)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 0, max: STEPS }), async (seed, cut) => {
        const rng = new Rng(seed);
        const variant = variantOf(rng);
        const steps = scriptOf(rng);
        await checkResume(() => new FaultyVenue(builderOf(variant), new Rng(`faults-${seed}`), FAULT_PRESETS.chaos), steps, cut, stats.faulty);
      }),
      { numRuns: 120 },
    );
    const s = stats.faulty;
    expect(s.fills).toBeGreaterThan(300);
    expect(s.partials).toBeGreaterThan(20);
    expect(s.heldAtCut).toBeGreaterThan(0);
    expect(s.workingAtCut).toBeGreaterThan(20);
  }, 120_000);

  it('refuses a state taken under other faults, and a malformed held event, without changing anything', async () => {
    const rng = new Rng(11);
    const variant = variantOf(rng);
    const steps = scriptOf(rng);
    const a = new FaultyVenue(builderOf(variant), new Rng(1), FAULT_PRESETS.chaos);
    await a.connect();
    await drive(a, steps, 0, 40, []);
    const snap = decodeState(encodeState(a.snapshot())) as FaultyVenueState;
    const calm = new FaultyVenue(builderOf(variant), new Rng(1), { ...FAULT_PRESETS.chaos, dropEvent: 0.1 });
    expect(() => calm.restore(snap)).toThrow(expect.objectContaining({ code: 'StateMismatch', message: expect.stringContaining('dropEvent') }));

    const b = new FaultyVenue(builderOf(variant), new Rng(1), FAULT_PRESETS.chaos);
    const before = encodeState(b.snapshot());
    const badEvent = { ...snap, held: [{ event: { kind: 'filled', clientOrderId: 'x' }, releaseTick: 1 }] } as unknown as FaultyVenueState;
    expect(() => b.restore(badEvent)).toThrow(expect.objectContaining({ code: 'InvalidState', message: expect.stringContaining('held[0].event') }));
    const badRng = { ...snap, rng: { a: 0, b: 0, c: 0, d: 0, spare: undefined } } as FaultyVenueState;
    expect(() => b.restore(badRng)).toThrow(expect.objectContaining({ code: 'InvalidState', message: expect.stringContaining('rng') }));
    const badInner = { ...snap, inner: { ...snap.inner, orderSeq: -1 } } as FaultyVenueState;
    expect(() => b.restore(badInner)).toThrow(expect.objectContaining({ code: 'InvalidState' }));
    expect(encodeState(b.snapshot())).toBe(before);
  });
});

describe('SimulatedVenue restore refusals', () => {
  const base: Variant = { thisClose: false, touch: false, share: '0.3', slippageBps: undefined, commission: 'bps', jitterSeed: 5, margin: true };

  async function taken(): Promise<SimulatedVenueState> {
    const rng = new Rng(3);
    const steps = scriptOf(rng);
    const v = builderOf(base).build();
    await v.connect();
    await drive(v, steps, 0, 25, []);
    return decodeState(encodeState(v.snapshot())) as SimulatedVenueState;
  }

  it.each([
    ['another name', (b: SimulatedVenueBuilder) => b.name('OTHER'), 'name'],
    ['another account type', (b: SimulatedVenueBuilder) => b.accountType('cash'), 'accountType'],
    ['another market fill model', (b: SimulatedVenueBuilder) => b.marketFillModel(new ThisCloseMarketFill()), 'marketFillModel'],
    ['another commission parameter', (b: SimulatedVenueBuilder) => b.commissionModel(new BpsCommission('3')), 'commissionModel'],
    ['another volume share', (b: SimulatedVenueBuilder) => b.volumeModel(new ShareOfBarVolume('0.2')), 'volumeModel'],
    ['other instruments', (b: SimulatedVenueBuilder) => b.instruments(INSTRUMENTS.slice(0, 1)), 'instruments'],
    ['other starting balances', (b: SimulatedVenueBuilder) => b.startingBalances([Money.of('5', 'USD')]), 'startingBalances'],
  ])('refuses a state from a venue with %s (StateMismatch)', async (_what, change, field) => {
    const state = await taken();
    const v = change(builderOf(base)).build();
    expect(() => v.restore(state)).toThrow(expect.objectContaining({ code: 'StateMismatch', message: expect.stringContaining(field) }));
  });

  const breakers: [string, (s: SimulatedVenueState) => unknown, string][] = [
    ['another format', (s) => ({ ...s, format: 'v0' }), 'format'],
    ['not an object', () => 'nope', 'expected an object'],
    ['a missing field', (s) => ({ ...s, nowNs: undefined }), 'nowNs'],
    ['an unknown field', (s) => ({ ...s, extra: 1 }), 'extra'],
    ['a number where a bigint belongs', (s) => ({ ...s, nowNs: 5 }), 'nowNs'],
    ['an unknown order status', (s) => ({ ...s, orders: s.orders.map((o, i) => (i === 0 ? { ...o, status: 'lost' } : o)) }), 'orders[0].status'],
    ['a duplicate order id', (s) => ({ ...s, orders: [...s.orders, s.orders[0]] }), 'duplicate clientOrderId'],
    ['a working id that is no order', (s) => ({ ...s, books: s.books.map((b, i) => (i === 0 ? { ...b, working: ['ghost'] } : b)) }), 'books[0].working[0]'],
    ['a pending id that is no order', (s) => ({ ...s, pending: ['ghost'] }), 'pending[0]'],
    ['a sibling that is no order', (s) => ({ ...s, orders: s.orders.map((o, i) => (i === 0 ? { ...o, sibling: 'ghost' } : o)) }), 'orders[0].sibling'],
    ['a bad money precision', (s) => ({ ...s, cash: s.cash.map((m) => ({ ...m, precision: 1.5 })) }), 'cash[0].precision'],
    ['a bad currency code', (s) => ({ ...s, cash: s.cash.map((m) => ({ ...m, currency: 'us dollars' })) }), 'cash[0]'],
    ['other cash currencies', (s) => ({ ...s, cash: [] }), 'currencies'],
    ['an invalid last bar', (s) => ({ ...s, books: s.books.map((b, i) => (i === 0 ? { ...b, lastBar: { ...b.lastBar, high: -1 } } : b)) }), 'books[0].lastBar'],
    ['a missing book', (s) => ({ ...s, books: s.books.slice(1) }), 'books'],
    ['a missing jitter generator state', (s) => ({ ...s, modelStates: {} }), 'modelStates.latencyModel'],
    ['a broken jitter generator state', (s) => ({ ...s, modelStates: { latencyModel: { a: 1.5, b: 0, c: 0, d: 0 } } }), 'modelStates.latencyModel'],
    ['an order seq beyond the counter', (s) => ({ ...s, orderSeq: 0 }), 'seq'],
  ];

  it.each(breakers)('refuses a state with %s (InvalidState) and changes nothing', async (_what, breakIt, where) => {
    const state = await taken();
    const rng = new Rng(4);
    const v = builderOf(base).build();
    await v.connect();
    await drive(v, scriptOf(rng), 0, 10, []);
    const before = encodeState(v.snapshot());
    expect(() => v.restore(breakIt(state) as SimulatedVenueState)).toThrow(expect.objectContaining({ code: 'InvalidState', message: expect.stringContaining(where) }));
    expect(encodeState(v.snapshot())).toBe(before);
  });

  it('gives the books as columns in liveSnapshot, which round-trip to the rows of snapshot()', async () => {
    const state = await taken();
    const cols = bookColumns(state.books);
    expect(bookRows(cols)).toStrictEqual(state.books);
    expect(state.books.some((b) => b.lastBar !== undefined && b.working.length > 0)).toBe(true);
  });

  const liveBreakers: [string, (s: SimulatedVenueLiveState) => unknown, string][] = [
    ['book columns that do not line up', (s) => ({ ...s, books: { ...s.books, prices: s.books.prices.slice(5) } }), 'book columns do not line up'],
    ['an unknown book column', (s) => ({ ...s, books: { ...s.books, extra: [] } }), 'books: unknown field extra'],
    ['a working id that is no order', (s) => ({ ...s, books: { ...s.books, working: s.books.working.map((w, i) => (i === 0 ? ['ghost'] : w)) } }), 'books[0].working[0]'],
    ['an invalid last bar', (s) => ({ ...s, books: { ...s.books, prices: s.books.prices.map((p, i) => (i === 1 ? -1 : p)) } }), 'books[0].lastBar'],
    ['a number where a position belongs', (s) => ({ ...s, books: { ...s.books, positions: s.books.positions.map(() => 1) } }), 'books[0].position'],
  ];

  it.each(liveBreakers)('refuses a live state (book columns) with %s (InvalidState) and changes nothing', async (_what, breakIt, where) => {
    const rng = new Rng(3);
    const a = builderOf(base).build();
    await a.connect();
    await drive(a, scriptOf(rng), 0, 25, []);
    const state = decodeState(encodeState(a.liveSnapshot())) as SimulatedVenueLiveState;
    expect(state.books.columns).toBe(1);
    // intact, it restores
    const ok = builderOf(base).build();
    ok.restore(state);
    expect(encodeState(ok.liveSnapshot())).toBe(encodeState(a.liveSnapshot()));
    const v = builderOf(base).build();
    await v.connect();
    await drive(v, scriptOf(new Rng(4)), 0, 10, []);
    const before = encodeState(v.snapshot());
    expect(() => v.restore(breakIt(state) as SimulatedVenueLiveState)).toThrow(expect.objectContaining({ code: 'InvalidState', message: expect.stringContaining(where) }));
    expect(encodeState(v.snapshot())).toBe(before);
  });

  it('refuses snapshot and restore while it is delivering events (Busy)', async () => {
    const v = builderOf({ ...base, jitterSeed: undefined }).build();
    const state = v.snapshot();
    let inside: unknown;
    let insideRestore: unknown;
    v.onEvent(() => {
      try {
        v.snapshot();
      } catch (e) {
        inside = e;
      }
      try {
        v.restore(state);
      } catch (e) {
        insideRestore = e;
      }
    });
    await v.connect();
    await v.submit({ clientOrderId: clientOrderId('b1'), symbol: 'AAPL', side: 'Buy', type: 'Market', quantity: Quantity.of('1'), timeInForce: 'GTC', tsInit: 0n });
    expect(inside).toMatchObject({ code: 'Busy' });
    expect(insideRestore).toMatchObject({ code: 'Busy' });
  });

  it('a fresh venue snapshot restores into a fresh venue unchanged, and models keep their defaults', () => {
    const v = SimulatedVenue.defaults({ instruments: INSTRUMENTS, startingBalances: [Money.of('1', 'USD')] }).marketFillModel(new NextOpenMarketFill()).build();
    const s = encodeState(v.snapshot());
    const w = SimulatedVenue.defaults({ instruments: INSTRUMENTS, startingBalances: [Money.of('1', 'USD')] }).build();
    w.restore(decodeState(s) as SimulatedVenueState);
    expect(encodeState(w.snapshot())).toBe(s);
  });
});

describe('Rng state', () => {
  it('a generator restored from a snapshot continues the same sequence, including the cached normal', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 0, max: 50 }), fc.boolean(), (seed, skip, odd) => {
        const a = new Rng(seed);
        for (let i = 0; i < skip; i++) a.nextU32();
        if (odd) a.normal();
        const state = decodeState(encodeState(a.snapshot())) as ReturnType<Rng['snapshot']>;
        expect(state.spare === undefined).toBe(!odd);
        const b = Rng.fromState(state);
        const c = new Rng('other');
        c.restore(state);
        const seq = (r: Rng) => [r.normal(), r.nextU32(), r.next(), r.int(0, 1000), r.normal(), r.normal()];
        const want = seq(a);
        expect(seq(b)).toEqual(want);
        expect(seq(c)).toEqual(want);
      }),
      { numRuns: 300 },
    );
  });

  it('snapshot words are unsigned 32-bit integers', () => {
    const r = new Rng(42);
    for (let i = 0; i < 100; i++) {
      r.nextU32();
      const s = r.snapshot();
      for (const w of [s.a, s.b, s.c, s.d]) expect(w >= 0 && w <= 0xffffffff && Number.isInteger(w)).toBe(true);
    }
  });

  it.each([
    ['not an object', null, 'must be an object'],
    ['a fractional word', { a: 1.5, b: 1, c: 1, d: 1, spare: undefined }, 'word a'],
    ['a negative word', { a: 1, b: -1, c: 1, d: 1, spare: undefined }, 'word b'],
    ['a word beyond 32 bits', { a: 1, b: 1, c: 2 ** 32, d: 1, spare: undefined }, 'word c'],
    ['a missing word', { a: 1, b: 1, c: 1, spare: undefined }, 'word d'],
    ['all-zero words', { a: 0, b: 0, c: 0, d: 0, spare: undefined }, 'all zero'],
    ['a NaN spare', { a: 1, b: 1, c: 1, d: 1, spare: Number.NaN }, 'spare'],
  ])('refuses %s and keeps its state', (_what, state, msg) => {
    const r = new Rng(9);
    const before = r.snapshot();
    expect(() => r.restore(state as never)).toThrow(expect.objectContaining({ code: 'InvalidArgument', message: expect.stringContaining(msg) }));
    expect(r.snapshot()).toEqual(before);
    expect(() => Rng.fromState(state as never)).toThrow(expect.objectContaining({ code: 'InvalidArgument' }));
  });
});
