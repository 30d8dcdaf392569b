import { describe, expect, it } from 'vitest';
import { venueConformance } from '../../../test/conformance/venue.case.js';
import { Price, Quantity } from '../../core/decimal.js';
import { clientOrderId } from '../../core/ids.js';
import { Money } from '../../core/money.js';
import { Rng } from '../../core/rng.js';
import { makeBar, type Bar } from '../../model/bar.js';
import { makeInstrument, usEquity, type Instrument } from '../../model/instrument.js';
import type { OrderRequest, VenueEvent } from '../../model/order.js';
import {
  BpsSlippage,
  ConstantLatency,
  JitterLatency,
  PerShareCommission,
  ShareOfBarVolume,
  ThisCloseMarketFill,
  TouchLimitFill,
} from './models.js';
import { SimulatedVenue, SimulatedVenueBuilder } from './simulated-venue.js';

const T0 = 1_700_000_000_000_000_000n;
const MIN = 60_000_000_000n;

/** Feeds bars for one symbol at consecutive minutes. */
class Feed {
  #i = 0;
  readonly bars: Bar[] = [];
  constructor(
    readonly venue: SimulatedVenue,
    readonly symbol = 'AAPL',
  ) {}
  bar(open: number, high: number, low: number, close: number, volume = 1_000_000): Bar {
    const b = makeBar({ symbol: this.symbol, timeframe: '1m', openTimeNs: T0 + BigInt(this.#i++) * MIN, open, high, low, close, volume });
    this.bars.push(b);
    this.venue.onBar(b);
    return b;
  }
  flat(px: number): Bar {
    return this.bar(px, px, px, px);
  }
}

function setup(configure: (b: SimulatedVenueBuilder) => SimulatedVenueBuilder = (b) => b, cash = '1000000', instruments: Instrument[] = [usEquity('AAPL')]) {
  const venue = configure(SimulatedVenue.defaults({ instruments, startingBalances: [Money.of(cash, instruments[0]?.quoteCurrency ?? 'USD')] })).build();
  const events: VenueEvent[] = [];
  venue.onEvent((e) => events.push(e));
  void venue.connect();
  return { venue, events, feed: new Feed(venue, instruments[0]?.id.symbol) };
}

let n = 0;
function req(fields: Partial<OrderRequest> & Pick<OrderRequest, 'side' | 'type'>): OrderRequest {
  return { clientOrderId: clientOrderId(`o${++n}`), symbol: 'AAPL', quantity: Quantity.of('10'), timeInForce: 'GTC', tsInit: 0n, ...fields };
}

const kinds = (events: VenueEvent[], id?: string) => events.filter((e) => id === undefined || ('clientOrderId' in e && e.clientOrderId === id)).map((e) => e.kind);
const fillsOf = (events: VenueEvent[], id: string) => events.flatMap((e) => (e.kind === 'filled' && e.clientOrderId === id ? [e] : []));
const reasonOf = (events: VenueEvent[], id: string) => events.flatMap((e) => ((e.kind === 'rejected' || e.kind === 'canceled' || e.kind === 'cancel-rejected') && e.clientOrderId === id ? [e.reason] : []));

venueConformance('SimulatedVenue', async () => {
  const inst = makeInstrument({ id: 'CONF.SIM', tickSize: '0.01', lotSize: '1', baseCurrency: 'CONF', quoteCurrency: 'USD' });
  const venue = SimulatedVenue.defaults({ instruments: [inst], startingBalances: [Money.of('1000000', 'USD')] })
    .commissionModel(new PerShareCommission('0.005', '1'))
    .build();
  let i = 0;
  return {
    venue,
    symbol: 'CONF',
    currency: 'USD',
    startingCash: '1000000',
    drive: (b) => {
      venue.onBar(
        makeBar({ symbol: 'CONF', timeframe: '1m', openTimeNs: T0 + BigInt(i++) * MIN, open: Number(b.open), high: Number(b.high), low: Number(b.low), close: Number(b.close), volume: Number(b.volume ?? '1000000') }),
      );
      return Promise.resolve();
    },
  };
});

describe('SimulatedVenue builder', () => {
  it('refuses to build with parts missing, naming each', () => {
    expect(() => new SimulatedVenueBuilder().name('X').build()).toThrow(/\[BuilderIncomplete\].*instruments, startingBalances, accountType, fractional, marketFillModel, limitFillModel, volumeModel, slippageModel, commissionModel, latencyModel/);
    const b = new SimulatedVenueBuilder().name('X').instruments([usEquity('AAPL')]).startingBalances([Money.of('1', 'USD')]).accountType('cash').fractional(false);
    try {
      b.build();
      expect.unreachable();
    } catch (e) {
      expect((e as { code: string }).code).toBe('BuilderIncomplete');
      expect((e as Error).message).toMatch(/missing marketFillModel, limitFillModel, volumeModel, slippageModel, commissionModel, latencyModel$/);
    }
  });
  it('defaults build a cash, whole-unit venue with brackets, OCO and modify', () => {
    const v = SimulatedVenue.defaults({ instruments: [usEquity('AAPL')], startingBalances: [Money.of('100', 'USD')] }).build();
    expect(v.capabilities).toEqual({ brackets: true, oco: true, modify: true, fractional: false, shortSelling: false });
    expect(v.config.marketFillModel.name).toBe('next-open');
    expect(v.config.limitFillModel.name).toBe('through');
    const m = SimulatedVenue.defaults({ instruments: [usEquity('AAPL')], startingBalances: [] }).accountType('margin').fractional(true).build();
    expect(m.capabilities.shortSelling).toBe(true);
    expect(m.capabilities.fractional).toBe(true);
  });
  it('refuses duplicate instruments and a fractional lot on a whole-unit venue', () => {
    expect(() => SimulatedVenue.defaults({ instruments: [usEquity('AAPL'), usEquity('AAPL')], startingBalances: [] }).build()).toThrow(/\[InvalidConfig\].*twice/);
    const btc = makeInstrument({ id: 'BTCUSDT.BINANCE', assetClass: 'crypto', tickSize: '0.01', lotSize: '0.001', baseCurrency: 'BTC', quoteCurrency: 'USDT' });
    expect(() => SimulatedVenue.defaults({ instruments: [btc], startingBalances: [] }).build()).toThrow(/\[InvalidConfig\].*fractional/);
  });
});

describe('SimulatedVenue time and hot path', () => {
  it('refuses requests before connect', async () => {
    const v = SimulatedVenue.defaults({ instruments: [usEquity('AAPL')], startingBalances: [] }).build();
    await expect(v.submit(req({ side: 'Buy', type: 'Market' }))).rejects.toThrow(/\[NotConnected\]/);
    await expect(v.cancel(clientOrderId('x'))).rejects.toThrow(/\[NotConnected\]/);
  });
  it('refuses bars of unknown symbols and bars out of order', () => {
    const { venue, feed } = setup();
    feed.flat(100);
    expect(() => venue.onBar({ ...(feed.bars[0] as Bar), symbol: 'MSFT' })).toThrow(/\[UnknownInstrument\]/);
    expect(() => venue.onBar(feed.bars[0] as Bar)).toThrow(/\[BarOutOfOrder\]/);
  });
  it('advances its time to the latest bar close and stamps requests with it', async () => {
    const { venue, events, feed } = setup();
    const b = feed.flat(100);
    expect(venue.now).toBe(b.closeTimeNs);
    await venue.submit(req({ side: 'Buy', type: 'Limit', limitPrice: Price.of('90') }));
    expect(events[0]?.tsEvent).toBe(b.closeTimeNs);
    expect(events[0]?.tsInit).toBe(b.closeTimeNs);
  });
  it('emits nothing on bars while no order works', () => {
    const { events, feed } = setup();
    for (let i = 0; i < 100; i++) feed.bar(100 + i, 101 + i, 99 + i, 100 + i);
    expect(events).toEqual([]);
  });
});

describe('SimulatedVenue fills', () => {
  it('next-open: a market order submitted on bar t fills at bar t+1 open, stamped with its open time', async () => {
    const { venue, events, feed } = setup();
    feed.bar(100, 101, 99, 100.5);
    const o = req({ side: 'Buy', type: 'Market' });
    await venue.submit(o);
    expect(kinds(events)).toEqual(['accepted']);
    const next = feed.bar(100.25, 102, 100, 101);
    const [f] = fillsOf(events, o.clientOrderId);
    expect(f?.lastPx.toString()).toBe('100.25');
    expect(f?.tsEvent).toBe(next.openTimeNs);
    expect(f?.liquiditySide).toBe('Taker');
    expect(f?.leavesQty.isZero()).toBe(true);
  });
  it('this-close: a market order fills at once, inside submit, at the current close', async () => {
    const { venue, events, feed } = setup((b) => b.marketFillModel(new ThisCloseMarketFill()));
    const b = feed.bar(100, 101, 99, 100.5);
    await venue.submit(req({ side: 'Buy', type: 'Market' }));
    expect(kinds(events)).toEqual(['accepted', 'filled']);
    const f = events[1];
    expect(f?.kind === 'filled' && f.lastPx.toString() === '100.50' && f.tsEvent === b.closeTimeNs).toBe(true);
  });
  it('limit through vs touch: a bar whose low equals the limit fills only under touch', async () => {
    for (const [touch, expected] of [[false, 0], [true, 1]] as const) {
      const { venue, events, feed } = setup((b) => (touch ? b.limitFillModel(new TouchLimitFill()) : b));
      feed.flat(100);
      const o = req({ side: 'Buy', type: 'Limit', limitPrice: Price.of('99') });
      await venue.submit(o);
      feed.bar(100, 100.5, 99, 99.5);
      expect(fillsOf(events, o.clientOrderId).length).toBe(expected);
      if (touch) expect(fillsOf(events, o.clientOrderId)[0]?.liquiditySide).toBe('Maker');
    }
  });
  it('limit gap: a bar opening below a buy limit fills at the open', async () => {
    const { venue, events, feed } = setup();
    feed.flat(100);
    const o = req({ side: 'Buy', type: 'Limit', limitPrice: Price.of('99') });
    await venue.submit(o);
    const b = feed.bar(97, 98, 96.5, 97.5);
    const [f] = fillsOf(events, o.clientOrderId);
    expect(f?.lastPx.toString()).toBe('97.00');
    expect(f?.tsEvent).toBe(b.openTimeNs);
  });
  it('stops trigger on the range, fill at the stop or the gapped open, with slippage rounded against the trader', async () => {
    const { venue, events, feed } = setup((b) => b.slippageModel(new BpsSlippage('10')).accountType('margin'));
    feed.flat(100);
    const buyStop = req({ side: 'Buy', type: 'Stop', stopPrice: Price.of('101.11') });
    const sellStop = req({ side: 'Sell', type: 'Stop', stopPrice: Price.of('99') });
    await venue.submit(buyStop);
    await venue.submit(sellStop);
    feed.bar(100, 101, 99.5, 100.5);
    expect(fillsOf(events, buyStop.clientOrderId)).toEqual([]);
    feed.bar(100.5, 101.5, 100, 101);
    // 101.11 * 1.001 = 101.21111 -> 101.22
    expect(fillsOf(events, buyStop.clientOrderId)[0]?.lastPx.toString()).toBe('101.22');
    feed.bar(97, 98, 96, 97.5);
    // gapped below 99: fills at the open 97, slipped: 97 * 0.999 = 96.903 -> 96.90
    expect(fillsOf(events, sellStop.clientOrderId)[0]?.lastPx.toString()).toBe('96.90');
  });
  it('stop-limit: fills at the trigger when within the limit, else rests as a limit', async () => {
    const { venue, events, feed } = setup((b) => b.accountType('margin'));
    feed.flat(100);
    const a = req({ side: 'Buy', type: 'StopLimit', stopPrice: Price.of('101'), limitPrice: Price.of('101.5') });
    const b = req({ side: 'Buy', type: 'StopLimit', stopPrice: Price.of('101'), limitPrice: Price.of('101.5') });
    await venue.submit(a);
    feed.bar(100.5, 101.2, 100, 101);
    expect(fillsOf(events, a.clientOrderId)[0]?.lastPx.toString()).toBe('101.00');
    await venue.submit(b);
    feed.bar(102, 103, 101.8, 102.5);
    expect(fillsOf(events, b.clientOrderId)).toEqual([]);
    expect((await venue.orderReport(b.clientOrderId))?.status).toBe('open');
    feed.bar(102, 102, 101, 101.2);
    expect(fillsOf(events, b.clientOrderId)[0]?.lastPx.toString()).toBe('101.50');
  });
  it('partial fills by a share of bar volume carry over bars, sharing the volume in arrival order', async () => {
    const { venue, events, feed } = setup((b) => b.volumeModel(new ShareOfBarVolume('0.1')));
    feed.flat(100);
    const a = req({ side: 'Buy', type: 'Market', quantity: Quantity.of('60') });
    const b = req({ side: 'Buy', type: 'Market', quantity: Quantity.of('5') });
    await venue.submit(a);
    await venue.submit(b);
    feed.bar(100, 100, 100, 100, 250);
    feed.bar(101, 101, 101, 101, 250);
    feed.bar(102, 102, 102, 102, 400);
    const fa = fillsOf(events, a.clientOrderId).map((f) => [f.lastQty.toString(), f.lastPx.toString(), f.leavesQty.toString()]);
    expect(fa).toEqual([
      ['25', '100.00', '35'],
      ['25', '101.00', '10'],
      ['10', '102.00', '0'],
    ]);
    expect(fillsOf(events, b.clientOrderId).map((f) => f.lastQty.toString())).toEqual(['5']);
    const r = await venue.orderReport(a.clientOrderId);
    // (25*100 + 25*101 + 10*102) / 60 = 100.75
    expect(r?.avgPx?.toString()).toBe('100.750000');
    expect(r?.status).toBe('filled');
  });
  it('charges commission per order across partial fills, with the minimum once', async () => {
    const { venue, events, feed } = setup((b) => b.volumeModel(new ShareOfBarVolume('0.1')).commissionModel(new PerShareCommission('0.01', '1')));
    feed.flat(100);
    const o = req({ side: 'Buy', type: 'Market', quantity: Quantity.of('150') });
    await venue.submit(o);
    feed.bar(100, 100, 100, 100, 500); // 50
    feed.bar(100, 100, 100, 100, 500); // 50 -> total 100 x 0.01 = 1, still the minimum
    feed.bar(100, 100, 100, 100, 500); // 50 -> 1.50
    expect(fillsOf(events, o.clientOrderId).map((f) => f.commission.toString())).toEqual(['1 USD', '0.00 USD', '0.50 USD']);
    const cash = (await venue.balanceReport()).balances.get('USD');
    expect(cash?.eq(Money.of('984998.50', 'USD'))).toBe(true);
  });
  it('IOC fills what it can on its first eligible bar and cancels the rest; FOK fills all or nothing', async () => {
    const { venue, events, feed } = setup((b) => b.volumeModel(new ShareOfBarVolume('0.01')));
    feed.flat(100);
    const ioc = req({ side: 'Buy', type: 'Market', quantity: Quantity.of('30'), timeInForce: 'IOC' });
    const fok = req({ side: 'Buy', type: 'Market', quantity: Quantity.of('30'), timeInForce: 'FOK' });
    await venue.submit(ioc);
    await venue.submit(fok);
    feed.bar(100, 100, 100, 100, 2000);
    expect(kinds(events, ioc.clientOrderId)).toEqual(['accepted', 'filled', 'canceled']);
    expect(fillsOf(events, ioc.clientOrderId)[0]?.lastQty.toString()).toBe('20');
    expect(kinds(events, fok.clientOrderId)).toEqual(['accepted', 'canceled']);
  });
  it('expires DAY orders at the first bar of a later session day', async () => {
    const { venue, events, feed } = setup();
    feed.flat(100);
    const o = req({ side: 'Buy', type: 'Limit', limitPrice: Price.of('50'), timeInForce: 'DAY' });
    await venue.submit(o);
    feed.flat(100);
    expect(kinds(events, o.clientOrderId)).toEqual(['accepted']);
    venue.onBar(makeBar({ symbol: 'AAPL', timeframe: '1m', openTimeNs: T0 + 86_400_000_000_000n, open: 100, high: 100, low: 40, close: 100, volume: 1 }));
    expect(kinds(events, o.clientOrderId)).toEqual(['accepted', 'expired']);
  });
});

describe('SimulatedVenue latency', () => {
  it('an order is eligible for a bar only if submit + latency <= that bar open', async () => {
    const { venue, events, feed } = setup((b) => b.latencyModel(new ConstantLatency(30_000_000_000n)));
    const b0 = feed.flat(100);
    const o = req({ side: 'Buy', type: 'Market' });
    await venue.submit(o);
    expect(events).toEqual([]);
    expect((await venue.orderReport(o.clientOrderId))?.status).toBe('pending');
    feed.flat(101); // opens at b0 close < arrival: accepted during it, not filled
    expect(kinds(events)).toEqual(['accepted']);
    expect(events[0]?.tsEvent).toBe(b0.closeTimeNs + 30_000_000_000n);
    feed.flat(102);
    expect(fillsOf(events, o.clientOrderId)[0]?.lastPx.toString()).toBe('102.00');
  });
  it('this-close with latency fills at the close of the first bar that closes after arrival', async () => {
    const { venue, events, feed } = setup((b) => b.marketFillModel(new ThisCloseMarketFill()).latencyModel(new ConstantLatency(30_000_000_000n)));
    feed.flat(100);
    const o = req({ side: 'Buy', type: 'Market' });
    await venue.submit(o);
    expect(events).toEqual([]);
    feed.bar(101, 101.5, 100.5, 101.25);
    expect(fillsOf(events, o.clientOrderId)[0]?.lastPx.toString()).toBe('101.25');
  });
  it('a pending order can be cancelled before it arrives', async () => {
    const { venue, events, feed } = setup((b) => b.latencyModel(new ConstantLatency(30_000_000_000n)));
    feed.flat(100);
    const o = req({ side: 'Buy', type: 'Market' });
    await venue.submit(o);
    await venue.cancel(o.clientOrderId);
    feed.flat(100);
    feed.flat(100);
    expect(kinds(events)).toEqual(['canceled']);
  });
});

describe('SimulatedVenue brackets', () => {
  async function entry(volume?: ShareOfBarVolume) {
    const s = setup((b) => (volume === undefined ? b : b.volumeModel(volume)));
    s.feed.flat(100);
    const o = req({ side: 'Buy', type: 'Market', quantity: Quantity.of('10'), bracket: { takeProfit: Price.of('105'), stopLoss: Price.of('95') } });
    await s.venue.submit(o);
    return { ...s, id: o.clientOrderId };
  }
  it('creates -sl and -tp legs only after the entry fills completely, sized to the fill', async () => {
    const { venue, events, feed, id } = await entry(new ShareOfBarVolume('0.01'));
    feed.bar(100, 100.5, 99.5, 100, 600); // 6 of 10
    expect(kinds(events).filter((k) => k === 'accepted').length).toBe(1);
    feed.bar(100, 100.5, 99.5, 100, 600); // the rest
    const legs = (await venue.orderReports()).filter((r) => r.parentClientOrderId === id);
    expect(legs.map((r) => [r.clientOrderId, r.type, r.side, r.quantity.toString()])).toEqual([
      [`${id}-sl`, 'Stop', 'Sell', '10'],
      [`${id}-tp`, 'Limit', 'Sell', '10'],
    ]);
  });
  it('OCO: when both legs could fill on one bar the stop-loss wins and the take-profit is cancelled', async () => {
    const { venue, events, feed, id } = await entry();
    feed.flat(100);
    feed.bar(100, 106, 94, 100);
    expect(fillsOf(events, `${id}-sl`)[0]?.lastPx.toString()).toBe('95.00');
    expect(kinds(events, `${id}-tp`)).toEqual(['accepted', 'canceled']);
    expect(reasonOf(events, `${id}-tp`)[0]).toMatch(/OCO/);
    expect(await venue.positionReports()).toEqual([]);
  });
  it('a partial fill of one leg shrinks its sibling to the same open quantity', async () => {
    const { venue, events, feed, id } = await entry(new ShareOfBarVolume('0.01'));
    feed.bar(100, 100, 100, 100, 1000);
    feed.bar(106, 107, 105.5, 106, 400); // tp fills 4 at the gapped open
    expect(fillsOf(events, `${id}-tp`).map((f) => [f.lastQty.toString(), f.lastPx.toString()])).toEqual([['4', '106.00']]);
    const sl = await venue.orderReport(clientOrderId(`${id}-sl`));
    expect(sl?.quantity.toString()).toBe('6');
    feed.bar(94, 94, 93, 93, 1000);
    expect(fillsOf(events, `${id}-sl`).map((f) => f.lastQty.toString())).toEqual(['6']);
    expect((await venue.orderReport(clientOrderId(`${id}-tp`)))?.status).toBe('canceled');
    expect(await venue.positionReports()).toEqual([]);
  });
  it('refuses brackets whose legs are on the wrong side', async () => {
    const { venue, events, feed } = setup();
    feed.flat(100);
    const o = req({ side: 'Buy', type: 'Limit', limitPrice: Price.of('100'), bracket: { takeProfit: Price.of('95'), stopLoss: Price.of('105') } });
    await venue.submit(o);
    expect(reasonOf(events, o.clientOrderId)[0]).toMatch(/takeProfit 95 must be above stopLoss 105/);
  });
});

describe('SimulatedVenue accounts', () => {
  it('cash account: refuses a buy beyond cash, counting open buys, and any short sale', async () => {
    const { venue, events, feed } = setup((b) => b, '10000');
    feed.flat(100);
    const big = req({ side: 'Buy', type: 'Market', quantity: Quantity.of('101') });
    await venue.submit(big);
    expect(reasonOf(events, big.clientOrderId)[0]).toMatch(/insufficient cash.*10100\.00 USD.*10000 USD is available/);
    const first = req({ side: 'Buy', type: 'Limit', limitPrice: Price.of('99'), quantity: Quantity.of('60') });
    await venue.submit(first);
    const second = req({ side: 'Buy', type: 'Limit', limitPrice: Price.of('99'), quantity: Quantity.of('60') });
    await venue.submit(second);
    expect(reasonOf(events, second.clientOrderId)[0]).toMatch(/5940\.00 USD reserved by open buys/);
    const short = req({ side: 'Sell', type: 'Market', quantity: Quantity.of('1') });
    await venue.submit(short);
    expect(reasonOf(events, short.clientOrderId)[0]).toMatch(/short selling is not allowed/);
    expect(kinds(events)).toEqual(['rejected', 'accepted', 'rejected', 'rejected']);
  });
  it('cash account: a fill that costs more than the cash (a gap up) is cancelled, never overdrawn', async () => {
    const { venue, events, feed } = setup((b) => b, '1000');
    feed.flat(100);
    const o = req({ side: 'Buy', type: 'Market', quantity: Quantity.of('10') });
    await venue.submit(o);
    feed.flat(101);
    expect(kinds(events, o.clientOrderId)).toEqual(['accepted', 'canceled']);
    expect(reasonOf(events, o.clientOrderId)[0]).toMatch(/insufficient cash.*1010\.00 USD, cash is 1000 USD/);
    expect((await venue.balanceReport()).balances.get('USD')?.toString()).toBe('1000 USD');
  });
  it('margin account: allows shorts; position average price and flips are exact', async () => {
    const { venue, feed } = setup((b) => b.accountType('margin'), '1000');
    feed.flat(100);
    await venue.submit(req({ side: 'Sell', type: 'Market', quantity: Quantity.of('10') }));
    feed.flat(100);
    await venue.submit(req({ side: 'Sell', type: 'Market', quantity: Quantity.of('20') }));
    feed.flat(103);
    let [p] = await venue.positionReports();
    expect([p?.signedQty, p?.avgPx?.toString()]).toEqual(['-30', '102.000000']);
    await venue.submit(req({ side: 'Buy', type: 'Market', quantity: Quantity.of('40') }));
    feed.flat(90);
    [p] = await venue.positionReports();
    expect([p?.signedQty, p?.avgPx?.toString()]).toEqual(['10', '90.000000']);
    // 1000 + 1000 + 2060 - 3600
    expect((await venue.balanceReport()).balances.get('USD')?.toString()).toBe('460.00 USD');
  });
  it('reduce-only: refused when it would not reduce, trimmed to the position at fill', async () => {
    const { venue, events, feed } = setup((b) => b.accountType('margin'));
    feed.flat(100);
    const bad = req({ side: 'Sell', type: 'Market', reduceOnly: true });
    await venue.submit(bad);
    expect(reasonOf(events, bad.clientOrderId)[0]).toMatch(/reduce-only Sell would not reduce/);
    await venue.submit(req({ side: 'Buy', type: 'Market', quantity: Quantity.of('10') }));
    feed.flat(100);
    const plain = req({ side: 'Sell', type: 'Market', quantity: Quantity.of('4') });
    const reduce = req({ side: 'Sell', type: 'Market', quantity: Quantity.of('10'), reduceOnly: true });
    await venue.submit(plain);
    await venue.submit(reduce);
    feed.flat(101);
    expect(fillsOf(events, plain.clientOrderId)[0]?.lastQty.toString()).toBe('4');
    expect(fillsOf(events, reduce.clientOrderId).map((f) => [f.lastQty.toString(), f.leavesQty.toString()])).toEqual([['6', '4']]);
    expect(kinds(events, reduce.clientOrderId)).toEqual(['accepted', 'filled', 'canceled']);
    expect(await venue.positionReports()).toEqual([]);
  });
  it('validates quantity, lot, tick and order-type fields', async () => {
    const { venue, events, feed } = setup();
    feed.flat(100);
    const cases: [Partial<OrderRequest> & Pick<OrderRequest, 'side' | 'type'>, RegExp][] = [
      [{ side: 'Buy', type: 'Limit', limitPrice: Price.of('99.999') }, /not on AAPL's tick size 0.01/],
      [{ side: 'Buy', type: 'Limit' }, /needs a limitPrice/],
      [{ side: 'Buy', type: 'Market', limitPrice: Price.of('1') }, /cannot have a limitPrice/],
      [{ side: 'Buy', type: 'Market', quantity: Quantity.of('0') }, /must be positive/],
      [{ side: 'Buy', type: 'Market', quantity: Quantity.of('1.5') }, /not a multiple of AAPL's lot size/],
      [{ side: 'Buy', type: 'Stop', stopPrice: Price.of('101'), timeInForce: 'IOC' }, /IOC is not supported for Stop/],
    ];
    for (const [fields, re] of cases) {
      const o = req(fields);
      await venue.submit(o);
      expect(reasonOf(events, o.clientOrderId)[0]).toMatch(re);
      expect((await venue.orderReport(o.clientOrderId))?.status).toBe('rejected');
    }
  });
});

describe('SimulatedVenue cancel and modify', () => {
  it('modify changes price and quantity; invalid or late modifies are cancel-rejected with a reason', async () => {
    const { venue, events, feed } = setup();
    feed.flat(100);
    const o = req({ side: 'Buy', type: 'Limit', limitPrice: Price.of('95') });
    await venue.submit(o);
    await venue.modify({ clientOrderId: o.clientOrderId, limitPrice: Price.of('99.5') });
    await venue.modify({ clientOrderId: o.clientOrderId, stopPrice: Price.of('99') });
    await venue.modify({ clientOrderId: o.clientOrderId, limitPrice: Price.of('99.555') });
    expect(kinds(events, o.clientOrderId)).toEqual(['accepted', 'modified', 'cancel-rejected', 'cancel-rejected']);
    expect(reasonOf(events, o.clientOrderId)).toEqual([
      'modify rejected: a Limit order has no stop price',
      'modify rejected: limitPrice 99.555 is not a positive price on the tick size 0.01',
    ]);
    feed.bar(100, 100, 99, 99.5);
    expect(fillsOf(events, o.clientOrderId)[0]?.lastPx.toString()).toBe('99.50');
    await venue.modify({ clientOrderId: o.clientOrderId, limitPrice: Price.of('98') });
    expect(reasonOf(events, o.clientOrderId).at(-1)).toBe(`modify rejected: order ${o.clientOrderId} is already filled`);
  });
});

describe('SimulatedVenue events', () => {
  it('delivers events synchronously; a handler calling the venue gets its events after the current ones', async () => {
    const { venue, events, feed } = setup((b) => b.accountType('margin'));
    feed.flat(100);
    const seen: string[] = [];
    venue.onEvent((e) => {
      seen.push(`${e.kind}:${'clientOrderId' in e ? e.clientOrderId : ''}`);
      if (e.kind === 'filled' && e.clientOrderId === 'entry') {
        void venue.submit({ ...req({ side: 'Sell', type: 'Limit', limitPrice: Price.of('110') }), clientOrderId: clientOrderId('exit') });
        seen.push('after-submit');
      }
    });
    await venue.submit({ ...req({ side: 'Buy', type: 'Market' }), clientOrderId: clientOrderId('entry') });
    feed.flat(101);
    expect(seen).toEqual(['accepted:entry', 'filled:entry', 'after-submit', 'accepted:exit']);
    expect(events.length).toBe(3);
  });
  it('is deterministic: the same seeded scenario gives the same event log byte for byte', async () => {
    async function run(): Promise<string> {
      const rng = new Rng('sim-venue-determinism');
      const { venue, events, feed } = setup(
        (b) =>
          b
            .accountType('margin')
            .volumeModel(new ShareOfBarVolume('0.05'))
            .slippageModel(new BpsSlippage('3'))
            .commissionModel(new PerShareCommission('0.005', '1'))
            .latencyModel(new JitterLatency(0n, 90_000_000_000, rng.fork('latency'))),
        '1000000',
      );
      let px = 100;
      for (let i = 0; i < 300; i++) {
        const o = Math.round(px * 100) / 100;
        const c = Math.round((o + rng.uniform(-1, 1)) * 100) / 100;
        const h = Math.round((Math.max(o, c) + rng.uniform(0, 0.5)) * 100) / 100;
        const l = Math.round((Math.min(o, c) - rng.uniform(0, 0.5)) * 100) / 100;
        feed.bar(o, h, l, c, rng.int(100, 2000));
        px = c;
        if (rng.chance(0.3)) {
          const side = rng.chance(0.5) ? 'Buy' : 'Sell';
          const type = rng.pick(['Market', 'Limit', 'Stop'] as const);
          const off = (side === 'Buy') === (type === 'Limit') ? -1 : 1;
          const level = Price.of((Math.round((c + off * rng.uniform(0, 1)) * 100) / 100).toFixed(2));
          await venue.submit(
            req({
              side,
              type,
              quantity: Quantity.of(rng.int(1, 100)),
              ...(type === 'Limit' ? { limitPrice: level } : type === 'Stop' ? { stopPrice: level } : {}),
              ...(rng.chance(0.2) && type === 'Market'
                ? { bracket: side === 'Buy' ? { takeProfit: Price.of((c + 2).toFixed(2)), stopLoss: Price.of((c - 2).toFixed(2)) } : { takeProfit: Price.of((c - 2).toFixed(2)), stopLoss: Price.of((c + 2).toFixed(2)) } }
                : {}),
            }),
          );
        }
        if (rng.chance(0.1)) {
          const open = await venue.orderReports();
          if (open.length > 0) await venue.modify({ clientOrderId: rng.pick(open).clientOrderId, quantity: Quantity.of(rng.int(1, 100)) });
        }
        if (rng.chance(0.1)) {
          const open = await venue.orderReports();
          if (open.length > 0) await venue.cancel(rng.pick(open).clientOrderId);
        }
      }
      n = 0;
      const state = [await venue.orderReports({ includeClosed: true }), await venue.positionReports(), [...(await venue.balanceReport()).balances]];
      return JSON.stringify([events, state], (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    }
    n = 0;
    const a = await run();
    const b = await run();
    expect(a).toBe(b);
    const parsed = JSON.parse(a) as [{ kind: string }[]];
    const k = new Set(parsed[0].map((e) => e.kind));
    for (const want of ['accepted', 'filled', 'canceled', 'modified', 'cancel-rejected']) expect(k.has(want), want).toBe(true);
  });
});
