import { describe, expect, it } from 'vitest';
import { venueConformance } from '../../../test/conformance/venue.case.js';
import { Price, Quantity } from '../../core/decimal.js';
import { AxonError, CoreError } from '../../core/errors.js';
import { clientOrderId, type ClientOrderId } from '../../core/ids.js';
import { Money } from '../../core/money.js';
import { Rng } from '../../core/rng.js';
import { makeBar } from '../../model/bar.js';
import { makeInstrument, usEquity } from '../../model/instrument.js';
import type { OrderFilled, OrderRequest, VenueEvent } from '../../model/order.js';
import type { BarDrivenVenue } from '../venue.js';
import { FAULT_PRESETS, FaultyVenue, FaultyVenueError, faultConfig, type FaultConfig, type FaultKind } from './faulty-venue.js';
import { PerShareCommission } from './models.js';
import { SimulatedVenue, type SimulatedVenueConfig } from './simulated-venue.js';

const T0 = 1_700_000_000_000_000_000n;
const MIN = 60_000_000_000n;

function simConfig(accountType: 'cash' | 'margin' = 'cash'): SimulatedVenueConfig {
  return SimulatedVenue.defaults({ instruments: [usEquity('AAPL'), usEquity('MSFT')], startingBalances: [Money.of('1000000', 'USD')] })
    .accountType(accountType)
    .commissionModel(new PerShareCommission('0.005', '1'))
    .build().config;
}

/** Shows `venue` one bar per call for a symbol, at consecutive minutes per symbol. */
function barFeed(venue: BarDrivenVenue) {
  const index = new Map<string, number>();
  return (open: number, high: number, low: number, close: number, symbol = 'AAPL'): void => {
    const i = index.get(symbol) ?? 0;
    index.set(symbol, i + 1);
    venue.onBar(makeBar({ symbol, timeframe: '1m', openTimeNs: T0 + BigInt(i) * MIN, open, high, low, close, volume: 1_000_000 }));
  };
}

function setup(faults: Partial<FaultConfig>, seed = 1, accountType: 'cash' | 'margin' = 'cash') {
  const venue = new FaultyVenue(simConfig(accountType), new Rng(seed), faults);
  const events: VenueEvent[] = [];
  venue.onEvent((e) => events.push(e));
  const truth: VenueEvent[] = [];
  venue.inner.onEvent((e) => truth.push(e));
  void venue.connect();
  return { venue, events, truth, bar: barFeed(venue) };
}

function req(id: string, fields: Partial<OrderRequest> & Pick<OrderRequest, 'side' | 'type'>): OrderRequest {
  return { clientOrderId: clientOrderId(id), symbol: 'AAPL', quantity: Quantity.of('10'), timeInForce: 'GTC', tsInit: 0n, ...fields };
}

const kindsOf = (events: readonly VenueEvent[], id: string) => events.filter((e) => 'clientOrderId' in e && e.clientOrderId === id).map((e) => e.kind);
const fills = (events: readonly VenueEvent[]) => events.filter((e): e is OrderFilled => e.kind === 'filled');
const countKind = (venue: FaultyVenue, kind: FaultKind) => venue.faultLog.filter((f) => f.kind === kind).length;
const cid = (s: string): ClientOrderId => clientOrderId(s);

function serialize(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof Map ? [...(v as Map<unknown, unknown>)] : v));
}

async function position(venue: BarDrivenVenue, symbol = 'AAPL'): Promise<string> {
  return (await venue.positionReports()).find((p) => p.symbol === symbol)?.signedQty ?? '0';
}

async function expectUnknownOutcome(p: Promise<void>): Promise<void> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FaultyVenueError);
  expect((error as FaultyVenueError).code).toBe('UnknownOutcome');
  expect((error as Error).message).toMatch(/^\[UnknownOutcome\] .*orderReport/);
}

/**
 * A seeded stream of requests over two symbols, including a handler that calls the venue back (an exit
 * for every filled entry), so re-entrant delivery is covered. Returns everything the caller saw.
 */
async function scenario(venue: BarDrivenVenue, seed: number, bars = 80): Promise<string> {
  const input = new Rng(`inputs-${seed}`);
  const trace: string[] = [];
  const ids: ClientOrderId[] = [];
  const outcome = (what: string, p: Promise<void>): Promise<void> =>
    p.then(
      () => void trace.push(`${what}:ok`),
      (e: unknown) => void trace.push(`${what}:${e instanceof AxonError ? e.code : 'error'}`),
    );
  venue.onEvent((e) => {
    trace.push(serialize(e));
    if (e.kind === 'filled' && e.side === 'Buy' && e.clientOrderId.startsWith('e')) {
      const exit: OrderRequest = { ...req(`x-${e.tradeId}`, { side: 'Sell', type: 'Limit' }), symbol: e.symbol, quantity: e.lastQty, limitPrice: e.lastPx.add('0.50') };
      void outcome(`submit ${exit.clientOrderId}`, venue.submit(exit));
    }
  });
  await venue.connect();
  const feed = barFeed(venue);
  const px = new Map([
    ['AAPL', 100],
    ['MSFT', 300],
  ]);
  for (let t = 0; t < bars; t++) {
    for (const symbol of ['AAPL', 'MSFT']) {
      const open = px.get(symbol) as number;
      const close = Math.max(1, Math.round((open + input.normal(0, 1)) * 100) / 100);
      const high = Math.round((Math.max(open, close) + input.uniform(0, 1)) * 100) / 100;
      const low = Math.round((Math.min(open, close) - input.uniform(0, 1)) * 100) / 100;
      px.set(symbol, close);
      feed(open, high, low, close, symbol);
      const r = input.next();
      if (r < 0.5) {
        const id = cid(`e${t}-${symbol}`);
        ids.push(id);
        const limit = input.chance(0.5);
        const order: OrderRequest = {
          ...req(id, { side: 'Buy', type: limit ? 'Limit' : 'Market' }),
          symbol,
          quantity: Quantity.of(String(input.int(1, 40))),
          ...(limit ? { limitPrice: Price.of((close - input.uniform(0, 1)).toFixed(2)) } : {}),
        };
        await outcome(`submit ${id}`, venue.submit(order));
      } else if (r < 0.7 && ids.length > 0) {
        const id = input.pick(ids);
        await outcome(`cancel ${id}`, venue.cancel(id));
      } else if (r < 0.75 && ids.length > 0) {
        const id = input.pick(ids);
        await outcome(`modify ${id}`, venue.modify({ clientOrderId: id, quantity: Quantity.of(String(input.int(41, 60))) }));
      }
    }
  }
  trace.push(serialize(await venue.orderReports({ includeClosed: true })));
  trace.push(serialize(await venue.positionReports()));
  trace.push(serialize(await venue.balanceReport()));
  return trace.join('\n');
}

venueConformance('FaultyVenue (all faults off)', () => {
  const inst = makeInstrument({ id: 'CONF.SIM', tickSize: '0.01', lotSize: '1', baseCurrency: 'CONF', quoteCurrency: 'USD' });
  const config = SimulatedVenue.defaults({ instruments: [inst], startingBalances: [Money.of('1000000', 'USD')] })
    .commissionModel(new PerShareCommission('0.005', '1'))
    .build().config;
  const venue = new FaultyVenue(config, new Rng(99), FAULT_PRESETS.none);
  const feed = barFeed(venue);
  return Promise.resolve({
    venue,
    symbol: 'CONF',
    currency: 'USD',
    startingCash: '1000000',
    drive: (b) => {
      feed(Number(b.open), Number(b.high), Number(b.low), Number(b.close), 'CONF');
      return Promise.resolve();
    },
  });
});

describe('FaultyVenue configuration', () => {
  it('defaults every probability to 0 and reports every problem at once', () => {
    expect(faultConfig()).toEqual(FAULT_PRESETS.none);
    for (const [k, v] of Object.entries(FAULT_PRESETS.none)) if (!k.startsWith('max') && k !== 'partialFillShare') expect(v).toBe(0);
    let error: unknown;
    try {
      faultConfig({ dropEvent: 1.5, maxDelayBars: 0, partialFillShare: 1, bogus: 1 } as Partial<FaultConfig>);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FaultyVenueError);
    const message = (error as FaultyVenueError).message;
    expect((error as FaultyVenueError).code).toBe('InvalidConfig');
    for (const part of ['unknown key bogus', 'dropEvent', 'maxDelayBars', 'partialFillShare']) expect(message).toContain(part);
    expect(() => new FaultyVenue(simConfig(), new Rng(1), { timeoutLost: Number.NaN })).toThrow(/timeoutLost/);
  });

  it('has a chaos preset with a non-zero probability of every kind', () => {
    const chaos = faultConfig(FAULT_PRESETS.chaos);
    for (const k of ['dropEvent', 'duplicateEvent', 'delayEvent', 'reorderBatch', 'rejectSubmit', 'timeoutTaken', 'timeoutLost', 'fillAfterCancel', 'partialFill', 'positionChange'] as const) {
      expect(chaos[k]).toBeGreaterThan(0);
      expect(chaos[k]).toBeLessThanOrEqual(0.3);
    }
  });

  it('accepts a builder and keeps the inner venue name and capabilities', () => {
    const v = new FaultyVenue(SimulatedVenue.defaults({ instruments: [usEquity('AAPL')], startingBalances: [Money.of('10', 'USD')], name: 'SIMF' }), new Rng(1));
    expect(v.name).toBe('SIMF');
    expect(v.capabilities).toEqual(v.inner.capabilities);
  });
});

describe('FaultyVenue with all probabilities 0', () => {
  it('is transparent: the same events, outcomes and reports as the bare venue, with re-entrant handlers', async () => {
    for (const seed of [1, 2, 3]) {
      const bare = await scenario(new SimulatedVenue(simConfig()), seed);
      const wrapped = new FaultyVenue(simConfig(), new Rng(seed), {});
      const seen = await scenario(wrapped, seed);
      expect(seen).toBe(bare);
      expect(wrapped.faultLog).toEqual([]);
      expect(bare.split('\n').filter((l) => l.includes('"kind":"filled"')).length).toBeGreaterThan(10);
    }
  });
});

describe('FaultyVenue determinism', () => {
  it('gives the same event sequence byte for byte for the same seed and inputs, and a different one for another seed', async () => {
    const run = async (seed: number) => {
      const v = new FaultyVenue(simConfig(), new Rng(seed), FAULT_PRESETS.chaos);
      const trace = await scenario(v, 5, 120);
      return `${trace}\n${serialize(v.faultLog)}`;
    };
    const a = await run(7);
    const b = await run(7);
    expect(a).toBe(b);
    expect(a.length).toBeGreaterThan(10_000);
    expect(await run(8)).not.toBe(a);
  });

  it('injects every kind of fault under the chaos preset, and every event the venue produced is delivered, dropped or still held', async () => {
    const v = new FaultyVenue(simConfig(), new Rng(11), FAULT_PRESETS.chaos);
    const truth: VenueEvent[] = [];
    v.inner.onEvent((e) => truth.push(e));
    const seen: VenueEvent[] = [];
    v.onEvent((e) => seen.push(e));
    await scenario(v, 11, 200);
    const kinds = new Set(v.faultLog.map((f) => f.kind));
    for (const k of ['drop', 'duplicate', 'delay', 'release', 'reorder', 'reject', 'timeout-taken', 'timeout-lost', 'hold-cancel', 'release-cancel', 'partial-fill', 'position-change'] as const) {
      expect(kinds.has(k), k).toBe(true);
    }
    const delivered = new Map<VenueEvent, number>();
    for (const e of seen) delivered.set(e, (delivered.get(e) ?? 0) + 1);
    const logged = (k: FaultKind) => new Set(v.faultLog.filter((f) => f.kind === k).map((f) => f.event));
    const dropped = logged('drop');
    const duplicated = logged('duplicate');
    const delayed = logged('delay');
    const released = logged('release');
    for (const e of truth) {
      const n = delivered.get(e) ?? 0;
      if (dropped.has(e)) expect(n).toBe(0);
      else if (delayed.has(e) && !released.has(e)) expect(n).toBe(0);
      else expect(n).toBe(duplicated.has(e) ? 2 : 1);
    }
    const synthesized = new Set(seen.filter((e) => !truth.includes(e)));
    expect(synthesized.size).toBeGreaterThan(0);
    expect(synthesized.size).toBeLessThanOrEqual(countKind(v, 'reject'));
    for (const e of synthesized) expect(e.kind === 'rejected' && /simulated reject/.test(e.reason)).toBe(true);
  });
});

describe('FaultyVenue faults', () => {
  it('drops notifications while the venue state still changes', async () => {
    const { venue, events, truth, bar } = setup({ dropEvent: 1 });
    bar(100, 101, 99, 100);
    await venue.submit(req('d1', { side: 'Buy', type: 'Market' }));
    bar(100, 101, 99, 100.5);
    expect(events).toEqual([]);
    expect(truth.map((e) => e.kind)).toEqual(['accepted', 'filled']);
    expect((await venue.orderReport(cid('d1')))?.status).toBe('filled');
    expect(await position(venue)).toBe('10');
    expect(countKind(venue, 'drop')).toBe(2);
  });

  it('drops only some events at a lower probability', async () => {
    const { venue, events, truth, bar } = setup({ dropEvent: 0.5 }, 3);
    bar(100, 101, 99, 100);
    for (let i = 0; i < 20; i++) await venue.submit(req(`dp${i}`, { side: 'Buy', type: 'Market', quantity: Quantity.of('1') }));
    bar(100, 101, 99, 100.5);
    expect(truth.length).toBe(40);
    expect(events.length).toBe(40 - countKind(venue, 'drop'));
    expect(events.length).toBeGreaterThan(5);
    expect(events.length).toBeLessThan(35);
    expect(await position(venue)).toBe('20');
  });

  it('duplicates events: a fill arrives twice with the same tradeId, the venue filled once', async () => {
    const { venue, events, bar } = setup({ duplicateEvent: 1 });
    bar(100, 101, 99, 100);
    await venue.submit(req('u1', { side: 'Buy', type: 'Market' }));
    bar(100, 101, 99, 100.5);
    expect(kindsOf(events, 'u1')).toEqual(['accepted', 'accepted', 'filled', 'filled']);
    const [a, b] = fills(events);
    expect(a?.tradeId).toBe(b?.tradeId);
    expect(a).toBe(b);
    expect(await position(venue)).toBe('10');
  });

  it('delays events for 1 to maxDelayBars bars, then delivers them in front of the new bar\'s events', async () => {
    const { venue, events, truth, bar } = setup({ delayEvent: 1, maxDelayBars: 3 }, 5);
    bar(100, 101, 99, 100);
    await venue.submit(req('l1', { side: 'Buy', type: 'Market' }));
    expect(events).toEqual([]);
    expect(venue.pending.events).toBe(1);
    expect((await venue.orderReport(cid('l1')))?.status).toBe('open');
    const delay = venue.faultLog.find((f) => f.kind === 'delay');
    for (let i = 0; i < 8; i++) bar(100, 101, 99, 100);
    // every event was delayed, and every one was delivered exactly once within 3 bars
    expect(new Set(events).size).toBe(truth.length);
    expect(events.length).toBe(truth.length);
    const releases = venue.faultLog.filter((f) => f.kind === 'release');
    expect(releases.length).toBe(2);
    expect(releases[0]?.event).toBe(delay?.event);
    const lag = (releases[0]?.tsNs ?? 0n) - (delay?.tsNs ?? 0n);
    expect(lag >= MIN && lag <= 3n * MIN).toBe(true);
    venue.releaseAll();
    expect(venue.pending).toEqual({ events: 0, cancels: 0 });
  });

  it('counts a delay in bar times, not in calls: two symbols at one time are one bar', async () => {
    const { venue, events, bar } = setup({ delayEvent: 1, maxDelayBars: 1 }, 5);
    bar(100, 101, 99, 100, 'AAPL');
    bar(300, 301, 299, 300, 'MSFT');
    await venue.submit(req('t1', { side: 'Buy', type: 'Limit', limitPrice: Price.of('50') }));
    bar(300, 301, 299, 300, 'MSFT');
    expect(events.map((e) => e.kind)).toEqual(['accepted']);
    bar(100, 101, 99, 100, 'AAPL');
    expect(events.map((e) => e.kind)).toEqual(['accepted']);
  });

  it('reorders events within one delivery batch, delivering the same events', async () => {
    const { venue, events, truth, bar } = setup({ reorderBatch: 1 });
    bar(100, 101, 99, 100);
    for (let i = 0; i < 6; i++) await venue.submit(req(`r${i}`, { side: 'Buy', type: 'Market', quantity: Quantity.of('1') }));
    const before = events.length;
    bar(100, 101, 99, 100.5);
    const batch = events.slice(before);
    const produced = truth.slice(before);
    expect(batch.length).toBe(6);
    expect(new Set(batch)).toEqual(new Set(produced));
    expect(batch).not.toEqual(produced);
    expect(countKind(venue, 'reorder')).toBe(1);
  });

  it('rejects a submit with a rejected event; the inner venue never sees the order', async () => {
    const { venue, events, truth, bar } = setup({ rejectSubmit: 1 });
    bar(100, 101, 99, 100);
    await venue.submit(req('j1', { side: 'Buy', type: 'Market' }));
    bar(100, 101, 99, 100);
    expect(kindsOf(events, 'j1')).toEqual(['rejected']);
    const e = events[0];
    expect(e?.kind === 'rejected' && e.reason.includes('j1') && Object.isFrozen(e)).toBe(true);
    expect(truth).toEqual([]);
    expect(await venue.orderReport(cid('j1'))).toBeUndefined();
    expect(await venue.orderReports({ includeClosed: true })).toEqual([]);
    expect(await position(venue)).toBe('0');
  });

  it('times out a submit the venue took: the promise rejects with UnknownOutcome, the order report shows it live', async () => {
    const { venue, events, bar } = setup({ timeoutTaken: 1 });
    bar(100, 101, 99, 100);
    await expectUnknownOutcome(venue.submit(req('k1', { side: 'Buy', type: 'Limit', limitPrice: Price.of('99') })));
    expect(kindsOf(events, 'k1')).toEqual(['accepted']);
    expect((await venue.orderReport(cid('k1')))?.status).toBe('open');
    await expectUnknownOutcome(venue.cancel(cid('k1')));
    expect((await venue.orderReport(cid('k1')))?.status).toBe('canceled');
    expect(kindsOf(events, 'k1')).toEqual(['accepted', 'canceled']);
  });

  it('times out a submit that was lost: the promise rejects with UnknownOutcome, the venue never saw the order', async () => {
    const { venue, events, truth, bar } = setup({ timeoutLost: 1 });
    bar(100, 101, 99, 100);
    await expectUnknownOutcome(venue.submit(req('k2', { side: 'Buy', type: 'Market' })));
    bar(100, 101, 99, 100);
    expect(events).toEqual([]);
    expect(truth).toEqual([]);
    expect(await venue.orderReport(cid('k2'))).toBeUndefined();
    await expectUnknownOutcome(venue.cancel(cid('k2')));
    await expectUnknownOutcome(venue.modify({ clientOrderId: cid('k2'), quantity: Quantity.of('3') }));
    expect(truth).toEqual([]);
  });

  it('holds a cancel until the next bar has matched: a crossing order fills first and the cancel is rejected', async () => {
    const { venue, events, bar } = setup({ fillAfterCancel: 1 });
    bar(100, 101, 99, 100);
    await venue.submit(req('c1', { side: 'Buy', type: 'Market' }));
    await venue.cancel(cid('c1'));
    expect(venue.pending.cancels).toBe(1);
    expect((await venue.orderReport(cid('c1')))?.status).toBe('open');
    bar(100, 101, 99, 100.5);
    expect(kindsOf(events, 'c1')).toEqual(['accepted', 'filled', 'cancel-rejected']);
    expect((await venue.orderReport(cid('c1')))?.status).toBe('filled');
    expect(await position(venue)).toBe('10');
  });

  it('holds a cancel of an order that does not fill on the next bar: it is then canceled', async () => {
    const { venue, events, bar } = setup({ fillAfterCancel: 1 });
    bar(100, 101, 99, 100);
    await venue.submit(req('c2', { side: 'Buy', type: 'Limit', limitPrice: Price.of('90') }));
    await venue.cancel(cid('c2'));
    bar(100, 101, 99, 100, 'MSFT');
    expect(kindsOf(events, 'c2')).toEqual(['accepted']);
    bar(100, 101, 99, 100);
    expect(kindsOf(events, 'c2')).toEqual(['accepted', 'canceled']);
    expect((await venue.orderReport(cid('c2')))?.status).toBe('canceled');
  });

  it('holds a cancel of a bracket leg until the leg\'s symbol trades again', async () => {
    const { venue, events, bar } = setup({ fillAfterCancel: 1 });
    bar(100, 101, 99, 100);
    await venue.submit(req('b1', { side: 'Buy', type: 'Market', bracket: { takeProfit: Price.of('105'), stopLoss: Price.of('95') } }));
    bar(100, 101, 99, 100);
    await venue.cancel(cid('b1-tp'));
    bar(300, 301, 299, 300, 'MSFT');
    expect(kindsOf(events, 'b1-tp')).toEqual(['accepted']);
    bar(101, 106, 100, 105);
    expect(kindsOf(events, 'b1-tp')).toEqual(['accepted', 'filled', 'cancel-rejected']);
  });

  it('forces partial fills: a capped order fills a share of its quantity per bar, reports agree', async () => {
    const { venue, events, bar } = setup({ partialFill: 1, partialFillShare: 0.25 });
    bar(100, 101, 99, 100);
    await venue.submit(req('p1', { side: 'Buy', type: 'Market', quantity: Quantity.of('100') }));
    bar(100, 101, 99, 100);
    const first = fills(events);
    expect(first.map((f) => f.lastQty.toString())).toEqual(['25']);
    expect(first[0]?.leavesQty.toString()).toBe('75');
    const r = await venue.orderReport(cid('p1'));
    expect(r?.status).toBe('partially-filled');
    expect(r?.filledQty.eq(25)).toBe(true);
    for (let i = 0; i < 3; i++) bar(100, 101, 99, 100);
    expect(fills(events).map((f) => f.lastQty.toString())).toEqual(['25', '25', '25', '25']);
    expect((await venue.orderReport(cid('p1')))?.status).toBe('filled');
    expect(await position(venue)).toBe('100');
    await venue.submit(req('p2', { side: 'Sell', type: 'Market', quantity: Quantity.of('3') }));
    bar(100, 101, 99, 100);
    // a cap is at least one lot
    expect(fills(events).filter((f) => f.clientOrderId === 'p2').map((f) => f.lastQty.toString())).toEqual(['1']);
  });

  it('changes the position at the venue by itself, with a position-changed event that agrees with the reports and no cash moving', async () => {
    const { venue, events, bar } = setup({ positionChange: 1, maxPositionChangeLots: 4 }, 9);
    const cash = (await venue.balanceReport()).balances.get('USD');
    for (let i = 0; i < 30; i++) {
      bar(100, 101, 99, 100);
      const last = events.at(-1);
      expect(last?.kind).toBe('position-changed');
      expect(last?.kind === 'position-changed' && last.signedQty).toBe(await position(venue));
    }
    expect(countKind(venue, 'position-change')).toBe(30);
    const sizes = events.map((e) => (e.kind === 'position-changed' ? Number(e.signedQty) : Number.NaN));
    expect(sizes.every((s) => s >= 0)).toBe(true);
    expect(new Set(sizes).size).toBeGreaterThan(3);
    expect((await venue.balanceReport()).balances.get('USD')?.eq(cash as Money)).toBe(true);
    expect(venue.inner.now).toBe(venue.now);
  });

  it('releaseAll delivers held events and forwards held cancels without new faults', async () => {
    const { venue, events, bar } = setup({ delayEvent: 1, fillAfterCancel: 1, maxDelayBars: 3 });
    bar(100, 101, 99, 100);
    await venue.submit(req('a1', { side: 'Buy', type: 'Limit', limitPrice: Price.of('90') }));
    await venue.cancel(cid('a1'));
    expect(events).toEqual([]);
    venue.releaseAll();
    expect(kindsOf(events, 'a1')).toEqual(['accepted', 'canceled']);
    expect(venue.pending).toEqual({ events: 0, cancels: 0 });
  });

  it('passes requests through unchanged while disconnected (they fail as the inner venue fails them)', async () => {
    const venue = new FaultyVenue(simConfig(), new Rng(1), { rejectSubmit: 1, timeoutLost: 1 });
    await expect(venue.submit(req('n1', { side: 'Buy', type: 'Market' }))).rejects.toThrow(/NotConnected/);
    expect(venue.faultLog).toEqual([]);
  });
});

describe('SimulatedVenue.adjustPosition', () => {
  function bare(accountType: 'cash' | 'margin' = 'margin') {
    const venue = new SimulatedVenue(simConfig(accountType));
    const events: VenueEvent[] = [];
    venue.onEvent((e) => events.push(e));
    void venue.connect();
    return { venue, events, bar: barFeed(venue) };
  }

  it('adds and removes quantity, pricing added quantity at the last close, moving no cash', async () => {
    const { venue, events, bar } = bare();
    bar(100, 101, 99, 100);
    venue.adjustPosition('AAPL', '5');
    expect(events.at(-1)).toMatchObject({ kind: 'position-changed', symbol: 'AAPL', signedQty: '5' });
    bar(110, 111, 109, 110);
    venue.adjustPosition('AAPL', 5);
    let p = (await venue.positionReports())[0];
    expect(p?.signedQty).toBe('10');
    expect(p?.avgPx?.eq('105')).toBe(true);
    venue.adjustPosition('AAPL', '-4');
    p = (await venue.positionReports())[0];
    expect(p?.signedQty).toBe('6');
    expect(p?.avgPx?.eq('105')).toBe(true);
    venue.adjustPosition('AAPL', '-8', { price: '120' });
    p = (await venue.positionReports())[0];
    expect(p?.signedQty).toBe('-2');
    expect(p?.avgPx?.eq('120')).toBe(true);
    venue.adjustPosition('AAPL', '2');
    expect(await venue.positionReports()).toEqual([]);
    expect((await venue.balanceReport()).balances.get('USD')?.eq(Money.of('1000000', 'USD'))).toBe(true);
    expect(Object.isFrozen(events.at(-1))).toBe(true);
  });

  it('refuses an unknown symbol, a zero or off-lot delta, and added quantity with no price known', () => {
    const { venue, events } = bare();
    expect(() => venue.adjustPosition('NOPE', '1')).toThrow(/UnknownInstrument/);
    expect(() => venue.adjustPosition('AAPL', '0')).toThrow(CoreError);
    expect(() => venue.adjustPosition('AAPL', '0.5')).toThrow(/lot size/);
    expect(() => venue.adjustPosition('AAPL', '1')).toThrow(/no price known/);
    expect(() => venue.adjustPosition('AAPL', '1', { price: '1.001' })).toThrow(/not a positive price/);
    expect(events).toEqual([]);
    venue.adjustPosition('AAPL', '1', { price: '1.01' });
    expect(events.length).toBe(1);
  });

  it('lets a later sell on a cash account use the adjusted position', async () => {
    const { venue, events, bar } = bare('cash');
    bar(100, 101, 99, 100);
    venue.adjustPosition('AAPL', '10');
    await venue.submit(req('s1', { side: 'Sell', type: 'Market' }));
    bar(100, 101, 99, 100);
    expect(kindsOf(events, 's1')).toEqual(['accepted', 'filled']);
    expect(await position(venue)).toBe('0');
  });
});
