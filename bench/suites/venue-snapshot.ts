// simulated venue checkpoint state: liveSnapshot() (working orders and their links only) against the
// engine's former liveVenueState(snapshot()) (copy every order of the run, then filter), measured
// interleaved in the same run, on a venue of 1,000 symbols after 100k finished orders with 1,000 working
import { Price, Quantity } from '../../src/core/decimal.js';
import { clientOrderId } from '../../src/core/ids.js';
import { Money } from '../../src/core/money.js';
import type { Bar } from '../../src/model/bar.js';
import { usEquity } from '../../src/model/instrument.js';
import type { OrderRequest } from '../../src/model/order.js';
import { encodeStateBinary } from '../../src/engine/state/index.js';
import { SimulatedVenue } from '../../src/venues/simulated/index.js';
import { liveVenueState } from '../../src/venues/simulated/live-state.fixture.js';
import { pair, type BenchResult, type BenchSuite } from '../harness.js';

const SYMBOLS = 1_000;
const FINISHED = 100_000;
const WORKING = 1_000;
const MIN = 60_000_000_000n;
const RUNS = 21;

function bar(s: number, i: number): Bar {
  const openTimeNs = BigInt(i) * MIN;
  const px = 100 + (i % 7) * 0.1;
  return { symbol: `S${s}`, timeframe: '1m', openTimeNs, closeTimeNs: openTimeNs + MIN, open: px, high: px + 0.5, low: px - 0.5, close: px, volume: 1000 };
}

function order(id: string, s: number, extra: Partial<OrderRequest>): OrderRequest {
  return { clientOrderId: clientOrderId(id), symbol: `S${s}`, side: 'Buy', type: 'Market', quantity: Quantity.of('1'), timeInForce: 'GTC', tsInit: 0n, ...extra };
}

/** A venue after FINISHED filled or canceled orders, with WORKING orders working: half plain limits, half bracket legs (their entries filled, kept as links). */
async function busyVenue(): Promise<{ venue: SimulatedVenue; kept: number; total: number }> {
  const instruments = Array.from({ length: SYMBOLS }, (_, s) => usEquity(`S${s}`));
  const venue = SimulatedVenue.defaults({ instruments, startingBalances: [Money.of('1000000000', 'USD')] }).accountType('margin').build();
  await venue.connect();
  let t = 0;
  for (let s = 0; s < SYMBOLS; s++) venue.onBar(bar(s, t));
  let n = 0;
  // rounds of one order per symbol: market orders fill on the next bar, far limits are canceled
  while (n < FINISHED) {
    for (let s = 0; s < SYMBOLS && n < FINISHED; s++) {
      const id = `f${n++}`;
      if (n % 2 === 0) await venue.submit(order(id, s, { side: n % 4 === 0 ? 'Buy' : 'Sell' }));
      else {
        await venue.submit(order(id, s, { type: 'Limit', limitPrice: Price.of('1.00') }));
        await venue.cancel(clientOrderId(id));
      }
    }
    t++;
    for (let s = 0; s < SYMBOLS; s++) venue.onBar(bar(s, t));
  }
  for (let s = 0; s < WORKING / 2; s++) await venue.submit(order(`w${s}`, s, { type: 'Limit', limitPrice: Price.of('1.00') }));
  for (let s = 0; s < WORKING / 4; s++) {
    await venue.submit(order(`e${s}`, WORKING / 2 + s, { bracket: { takeProfit: Price.of('1000.00'), stopLoss: Price.of('1.00') } }));
  }
  t++;
  for (let s = 0; s < SYMBOLS; s++) venue.onBar(bar(s, t));
  const live = venue.liveSnapshot();
  const working = live.orders.filter((o) => o.status === 'open').length;
  if (working !== WORKING) throw new Error(`bench setup: ${working} working orders, expected ${WORKING}`);
  return { venue, kept: live.orders.length, total: venue.snapshot().orders.length };
}

const suite: BenchSuite = {
  name: 'venue-snapshot',
  async run(): Promise<BenchResult[]> {
    const { venue, kept, total } = await busyVenue();
    const results: BenchResult[] = [];
    const size = `${SYMBOLS} symbols, ${total} orders of which ${WORKING} working (${kept} kept with bracket entries)`;

    // a position moves by one share before each snapshot (both sides): liveSnapshot returns its last kept
    // orders again while nothing changed, and that cache hit is not what this measures
    let k = 0;
    const touch = (): void => venue.adjustPosition('S0', k++ % 2 === 0 ? '1' : '-1');
    const state = pair(
      () => {
        touch();
        return venue.liveSnapshot();
      },
      () => {
        touch();
        return liveVenueState(venue.snapshot());
      },
      1,
      RUNS,
      5,
    );
    results.push({
      name: 'venue checkpoint state: liveSnapshot()',
      unit: 'ms',
      median: 1e3 / state.subject,
      runs: RUNS,
      peer: 'liveVenueState(snapshot()) (copy all orders, then filter)',
      peerMedian: 1e3 / state.peer,
      ratio: state.ratio,
      note: `${size}; a position moved before each snapshot, so its kept orders are gathered, not returned again`,
    });

    // what the checkpoint does with it: the same state encoded (identical bytes either way)
    const encoded = pair(
      () => {
        touch();
        return encodeStateBinary(venue.liveSnapshot());
      },
      () => {
        touch();
        return encodeStateBinary(liveVenueState(venue.snapshot()));
      },
      1,
      RUNS,
      5,
    );
    results.push({
      name: 'venue checkpoint state + binary encode: liveSnapshot()',
      unit: 'ms',
      median: 1e3 / encoded.subject,
      runs: RUNS,
      peer: 'liveVenueState(snapshot()) + binary encode',
      peerMedian: 1e3 / encoded.peer,
      ratio: encoded.ratio,
      note: `${size}; target: whole checkpoint < 5 ms`,
    });
    return results;
  },
};

export default suite;
