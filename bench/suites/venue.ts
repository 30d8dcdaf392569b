// simulated venue: onBar cost with no working orders (vs an empty loop over the same bars) and with 100 working
// limits; the per-order path submit -> match -> fill events (market orders, bracket round trips) against
// nodejs-order-book resting a limit and filling it with a market order, interleaved in the same run
import { OrderBook as PeerBook, Side as PeerSide } from 'nodejs-order-book';
import { pair, throughput, type BenchResult, type BenchSuite } from '../harness.js';
import { Price, Quantity } from '../../src/core/decimal.js';
import { clientOrderId } from '../../src/core/ids.js';
import { Money } from '../../src/core/money.js';
import { Rng } from '../../src/core/rng.js';
import { makeBar, type Bar } from '../../src/model/bar.js';
import { usEquity } from '../../src/model/instrument.js';
import type { OrderRequest, VenueEvent } from '../../src/model/order.js';
import { PerShareCommission, SimulatedVenue } from '../../src/venues/simulated/index.js';

const SYMBOLS = 100;
const BARS = 1_000_000;
const MIN = 60_000_000_000n;

function makeBars(count: number, symbols: number): Bar[] {
  const rng = new Rng('venue-bench');
  const px = new Array<number>(symbols).fill(100);
  const out: Bar[] = [];
  for (let i = 0; i < count; i++) {
    const s = i % symbols;
    const o = px[s] as number;
    const c = Math.max(1, Math.round((o + rng.uniform(-0.2, 0.2)) * 100) / 100);
    const h = Math.round((Math.max(o, c) + rng.uniform(0, 0.1)) * 100) / 100;
    const l = Math.round((Math.min(o, c) - rng.uniform(0, 0.1)) * 100) / 100;
    px[s] = c;
    const openTimeNs = BigInt(Math.floor(i / symbols)) * MIN;
    makeBar({ symbol: `S${s}`, timeframe: '1m', openTimeNs, open: o, high: h, low: l, close: c, volume: 1000 });
    // a literal of fixed shape, as a columnar replay yields: makeBar's {...spread} result reads ~30x slower in V8
    out.push(Object.freeze({ symbol: `S${s}`, timeframe: '1m', openTimeNs, closeTimeNs: openTimeNs + MIN, open: o, high: h, low: l, close: c, volume: 1000 }));
  }
  return out;
}

function venue(symbols: number): SimulatedVenue {
  const instruments = Array.from({ length: symbols }, (_, s) => usEquity(`S${s}`));
  return SimulatedVenue.defaults({ instruments, startingBalances: [Money.of('1000000000', 'USD')] }).accountType('margin').build();
}

const ORDER_SYMBOLS = 100;
const ROUNDS = 500;

/** One bar per symbol per round, each opening at 100 and trading 99.5..100.5 (a bracket's take-profit at 100.30 fills on it). */
function orderBars(rounds: number, symbols: number): Bar[][] {
  const out: Bar[][] = [];
  for (let r = 0; r < rounds; r++) {
    const openTimeNs = BigInt(r + 1) * MIN;
    const row: Bar[] = [];
    for (let s = 0; s < symbols; s++) {
      row.push(Object.freeze({ symbol: `S${s}`, timeframe: '1m', openTimeNs, closeTimeNs: openTimeNs + MIN, open: 100, high: 100.5, low: 99.5, close: 100, volume: 1000 }));
    }
    out.push(row);
  }
  return out;
}

function orderRequests(rounds: number, symbols: number, bracket: boolean): OrderRequest[][] {
  const out: OrderRequest[][] = [];
  for (let r = 0; r < rounds; r++) {
    const row: OrderRequest[] = [];
    for (let s = 0; s < symbols; s++) {
      // a cash account: buy, then sell the same quantity on the next round
      const side = bracket || r % 2 === 0 ? 'Buy' : 'Sell';
      row.push({
        clientOrderId: clientOrderId(`o${r}-${s}`),
        symbol: `S${s}`,
        side,
        type: 'Market',
        quantity: Quantity.of(String(1 + ((Math.floor(r / 2) * 7 + s) % 9))),
        timeInForce: 'GTC',
        tsInit: 0n,
        ...(bracket ? { bracket: { takeProfit: Price.of('100.30'), stopLoss: Price.of('98.00') } } : {}),
      });
    }
    out.push(row);
  }
  return out;
}

/** Submits each round's orders, then shows the round's bars (orders fill at the next open); returns the events seen. */
function runOrders(requests: OrderRequest[][], bars: Bar[][]): number {
  // the engine's default venue: a cash account with per-share commission (0.005, minimum 1)
  const instruments = Array.from({ length: ORDER_SYMBOLS }, (_, s) => usEquity(`S${s}`));
  const v = SimulatedVenue.defaults({ instruments, startingBalances: [Money.of('1000000000', 'USD')] })
    .commissionModel(new PerShareCommission('0.005', '1'))
    .build();
  let events = 0;
  v.onEvent((e: VenueEvent) => {
    if (e.kind !== 'rejected') events++;
    else throw new Error(`bench order rejected: ${e.reason}`);
  });
  void v.connect();
  const setup = bars[0] as Bar[];
  for (const b of setup) v.onBar({ ...b, openTimeNs: 0n, closeTimeNs: MIN });
  for (let r = 0; r < requests.length; r++) {
    const row = requests[r] as OrderRequest[];
    for (let s = 0; s < row.length; s++) void v.submit(row[s] as OrderRequest);
    const bs = bars[r] as Bar[];
    for (let s = 0; s < bs.length; s++) v.onBar(bs[s] as Bar);
  }
  return events;
}

/** The peer: per order, a resting limit and a market order that fills it (nodejs-order-book 10). */
function runPeerBook(orders: number): number {
  const book = new PeerBook();
  let fills = 0;
  for (let i = 0; i < orders; i++) {
    const buy = i % 2 === 0;
    book.limit({ id: `p${i}`, side: buy ? PeerSide.SELL : PeerSide.BUY, size: 1 + (i % 9), price: 100 });
    const r = book.market({ side: buy ? PeerSide.BUY : PeerSide.SELL, size: 1 + (i % 9) });
    fills += r.done.length;
  }
  return fills;
}

const suite: BenchSuite = {
  name: 'venue',
  async run(): Promise<BenchResult[]> {
    const bars = makeBars(BARS, SYMBOLS);
    const results: BenchResult[] = [];

    // idle: a fresh venue per run (bars must move forward in time); nothing is working
    let sink = 0;
    const idle = pair(
      () => {
        const v = venue(SYMBOLS);
        for (let i = 0; i < bars.length; i++) v.onBar(bars[i] as Bar);
      },
      () => {
        // the ceiling: touching each bar's symbol and close, as any consumer must
        for (let i = 0; i < bars.length; i++) {
          const b = bars[i] as Bar;
          sink += b.close + b.symbol.length;
        }
      },
      BARS,
      7,
      2,
    );
    results.push({
      name: 'onBar, no working orders',
      unit: 'bars/s',
      median: idle.subject,
      runs: 7,
      peer: 'empty loop over the same bars',
      peerMedian: idle.peer,
      ratio: idle.ratio,
      note: `${BARS} bars, ${SYMBOLS} symbols; target >= 1M bars/s for the whole pipeline (sink ${sink > 0 ? 'ok' : '0'})`,
    });

    // 100 working limit orders on one symbol, far from the market so they stay working; every bar of that
    // symbol matches all 100
    const one = bars.filter((b) => b.symbol === 'S0').slice(0, 20_000);
    const working = throughput(
      () => {
        const v = venue(SYMBOLS);
        void v.connect();
        v.onBar(one[0] as Bar);
        for (let k = 0; k < 100; k++) {
          void v.submit({
            clientOrderId: clientOrderId(`w${k}`),
            symbol: 'S0',
            side: k % 2 === 0 ? 'Buy' : 'Sell',
            type: 'Limit',
            quantity: Quantity.of('1'),
            limitPrice: Price.of(k % 2 === 0 ? '1.00' : '100000.00'),
            timeInForce: 'GTC',
            tsInit: 0n,
          });
        }
        for (let i = 1; i < one.length; i++) v.onBar(one[i] as Bar);
      },
      one.length - 1,
      5,
      1,
    );
    results.push({
      name: 'onBar, 100 working limit orders on the bar symbol',
      unit: 'bars/s',
      median: working.median,
      runs: 5,
      note: `${one.length - 1} bars; x100 = order checks/s ${(working.median * 100).toExponential(2)}`,
    });

    // the per-order path: submit (validate, cash check, accept) -> next bar match -> fill events
    const obars = orderBars(ROUNDS, ORDER_SYMBOLS);
    const orders = ROUNDS * ORDER_SYMBOLS;
    for (const bracket of [false, true]) {
      const reqs = orderRequests(ROUNDS, ORDER_SYMBOLS, bracket);
      let events = 0;
      let fills = 0;
      const r = pair(
        () => {
          events = runOrders(reqs, obars);
        },
        () => {
          fills = runPeerBook(orders);
        },
        orders,
        9,
        2,
      );
      const perOrder = bracket ? 6 : 2;
      if (events !== orders * perOrder || fills !== orders) throw new Error(`bench: ${events} events, ${fills} peer fills for ${orders} orders`);
      results.push({
        name: bracket ? 'bracket round trip: entry fill, legs, take-profit fill, OCO cancel' : 'market order: submit, accept, fill at next open',
        unit: 'orders/s',
        median: r.subject,
        runs: 9,
        peer: 'nodejs-order-book: rest a limit, fill it with a market order',
        peerMedian: r.peer,
        ratio: r.ratio,
        note: `${orders} orders over ${ORDER_SYMBOLS} symbols, ${perOrder} events each, cash account, per-share commission`,
      });
    }
    return results;
  },
};

export default suite;
