// simulated venue: onBar cost with no working orders (vs an empty loop over the same bars) and with 100 working limits
import { pair, throughput, type BenchResult, type BenchSuite } from '../harness.js';
import { Price, Quantity } from '../../src/core/decimal.js';
import { clientOrderId } from '../../src/core/ids.js';
import { Money } from '../../src/core/money.js';
import { Rng } from '../../src/core/rng.js';
import { makeBar, type Bar } from '../../src/model/bar.js';
import { usEquity } from '../../src/model/instrument.js';
import { SimulatedVenue } from '../../src/venues/simulated/index.js';

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
    return results;
  },
};

export default suite;
