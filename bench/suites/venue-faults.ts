// fault-injecting venue: FaultyVenue's overhead over the bare SimulatedVenue it wraps, idle (no orders)
// and with order flow (one market order per bar, filled on the next), faults off and under FAULT_PRESETS.chaos
import { pair, type BenchResult, type BenchSuite } from '../harness.js';
import { Quantity } from '../../src/core/decimal.js';
import { clientOrderId } from '../../src/core/ids.js';
import { Money } from '../../src/core/money.js';
import { Rng } from '../../src/core/rng.js';
import type { Bar } from '../../src/model/bar.js';
import { usEquity } from '../../src/model/instrument.js';
import type { BarDrivenVenue } from '../../src/venues/venue.js';
import { FAULT_PRESETS, FaultyVenue } from '../../src/venues/simulated/faulty-venue.js';
import { SimulatedVenue, type SimulatedVenueConfig } from '../../src/venues/simulated/simulated-venue.js';

const SYMBOLS = 10;
const IDLE_BARS = 500_000;
const FLOW_BARS = 50_000;
const MIN = 60_000_000_000n;

function makeBars(count: number): Bar[] {
  const rng = new Rng('venue-faults-bench');
  const px = new Array<number>(SYMBOLS).fill(100);
  const out: Bar[] = [];
  for (let i = 0; i < count; i++) {
    const s = i % SYMBOLS;
    const o = px[s] as number;
    const c = Math.max(1, Math.round((o + rng.uniform(-0.2, 0.2)) * 100) / 100);
    const h = Math.round((Math.max(o, c) + rng.uniform(0, 0.1)) * 100) / 100;
    const l = Math.round((Math.min(o, c) - rng.uniform(0, 0.1)) * 100) / 100;
    px[s] = c;
    const openTimeNs = BigInt(Math.floor(i / SYMBOLS)) * MIN;
    out.push(Object.freeze({ symbol: `S${s}`, timeframe: '1m', openTimeNs, closeTimeNs: openTimeNs + MIN, open: o, high: h, low: l, close: c, volume: 1000 }));
  }
  return out;
}

function config(): SimulatedVenueConfig {
  const instruments = Array.from({ length: SYMBOLS }, (_, s) => usEquity(`S${s}`));
  return SimulatedVenue.defaults({ instruments, startingBalances: [Money.of('1000000000', 'USD')] }).accountType('margin').build().config;
}

type Make = () => BarDrivenVenue;

function idle(make: Make, bars: Bar[]): () => number {
  return () => {
    const v = make();
    void v.connect();
    let n = 0;
    v.onEvent(() => n++);
    for (const b of bars) v.onBar(b);
    return n;
  };
}

// every bar: a market order on the bar's symbol (buy and sell alternating), so every bar fills one
function flow(make: Make, bars: Bar[]): () => number {
  const qty = Quantity.of('1');
  const ids = bars.map((_, i) => clientOrderId(`o${i}`));
  return () => {
    const v = make();
    void v.connect();
    let n = 0;
    v.onEvent(() => n++);
    const ignore = (): void => undefined;
    for (let i = 0; i < bars.length; i++) {
      const b = bars[i] as Bar;
      v.onBar(b);
      v.submit({ clientOrderId: ids[i] as ReturnType<typeof clientOrderId>, symbol: b.symbol, side: i % 20 < 10 ? 'Buy' : 'Sell', type: 'Market', quantity: qty, timeInForce: 'GTC', tsInit: 0n }).catch(ignore);
    }
    return n;
  };
}

const suite: BenchSuite = {
  name: 'venue-faults',
  run(): BenchResult[] {
    const cfg = config();
    const bare: Make = () => new SimulatedVenue(cfg);
    const off: Make = () => new FaultyVenue(cfg, new Rng(1), FAULT_PRESETS.none);
    const chaos: Make = () => new FaultyVenue(cfg, new Rng(1), FAULT_PRESETS.chaos);
    const idleBars = makeBars(IDLE_BARS);
    const flowBars = makeBars(FLOW_BARS);
    const out: BenchResult[] = [];
    const r1 = pair(idle(off, idleBars), idle(bare, idleBars), IDLE_BARS, 9);
    out.push({ name: 'idle onBar, faults off', unit: 'bars/s', median: r1.subject, runs: 9, peer: 'bare SimulatedVenue', peerMedian: r1.peer, ratio: r1.ratio, note: `${IDLE_BARS} bars over ${SYMBOLS} symbols, no orders` });
    const r2 = pair(flow(off, flowBars), flow(bare, flowBars), FLOW_BARS, 7);
    out.push({ name: 'order flow, faults off', unit: 'bars/s', median: r2.subject, runs: 7, peer: 'bare SimulatedVenue', peerMedian: r2.peer, ratio: r2.ratio, note: `${FLOW_BARS} bars, one market order submitted and filled per bar` });
    const r3 = pair(flow(chaos, flowBars), flow(bare, flowBars), FLOW_BARS, 7);
    out.push({ name: 'order flow, chaos preset', unit: 'bars/s', median: r3.subject, runs: 7, peer: 'bare SimulatedVenue', peerMedian: r3.peer, ratio: r3.ratio, note: `${FLOW_BARS} bars, one market order per bar; every fault kind active` });
    return out;
  },
};

export default suite;
