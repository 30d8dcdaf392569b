// oms-risk: pre-trade checkOrder on a 100-position portfolio, and the OMS submit -> ack -> fill
// cycle, each against a minimal number-based twin doing the same work in the same run
import { loadavg } from 'node:os';
import { TestClock, Rng } from '../../src/core/index.js';
import { OrderManager, Portfolio, limitOrder, makeOrderStatus, seededUuid, type Order } from '../../src/oms/index.js';
import { DefaultRiskEngine, makeRiskConfig } from '../../src/risk/index.js';
import { liveOmsState } from '../../src/oms/live-state.fixture.js';
import { StringIndex } from '../../src/oms/string-index.js';
import { pair, type BenchResult, type BenchSuite } from '../harness.js';

const POSITIONS = 100;
const CHECKS = 200_000;
const CYCLES = 50_000;

interface NumPos {
  qty: number;
  value: number;
}

/** The number twin of the risk check: same limits, same order of checks, float arithmetic. */
class NumberRisk {
  constructor(
    readonly lim: { order: number; pos: number; gross: number; lev: number; dd: number; conc: number },
    readonly p: { cash: number; net: number; gross: number; positions: Map<string, NumPos> },
    public peak = 0,
  ) {}
  check(o: { symbol: string; side: 'Buy' | 'Sell'; qty: number; price: number }): boolean {
    const v = o.qty * o.price;
    if (v > this.lim.order) return false;
    const pos = this.p.positions.get(o.symbol);
    const oldQ = pos?.qty ?? 0;
    const newQ = o.side === 'Buy' ? oldQ + o.qty : oldQ - o.qty;
    if (Math.abs(newQ) <= Math.abs(oldQ)) return true;
    const eq = this.p.cash + this.p.net;
    if (eq > this.peak) this.peak = eq;
    if (this.peak - eq > this.lim.dd * this.peak) return false;
    const npv = Math.abs(newQ) * o.price;
    if (npv > this.lim.pos) return false;
    const gross = this.p.gross - Math.abs(pos?.value ?? 0) + npv;
    if (gross > this.lim.gross) return false;
    if (eq <= 0 || gross > this.lim.lev * eq) return false;
    if (npv > this.lim.conc * eq) return false;
    return true;
  }
}

/**
 * The number twin of the OMS cycle: active orders in a map, terminal ones in a list (as the
 * OrderManager keeps them with a built-in id generator: indexed only when looked up), fill ids in a
 * table like the portfolio's ledger, status strings, float cash and positions.
 */
class NumberOms {
  readonly active = new Map<string, { symbol: string; side: 'Buy' | 'Sell'; qty: number; filled: number; notional: number; status: string }>();
  readonly history: unknown[] = [];
  readonly keys = new Set<string>();
  readonly fills = new StringIndex<true>();
  readonly cash = new Map<string, number>();
  readonly pos = new Map<string, { qty: number; basis: number }>();
  constructor(readonly newId: () => string) {}
  submit(o: { symbol: string; side: 'Buy' | 'Sell'; qty: number; key?: string }): string {
    if (o.key !== undefined) {
      if (this.keys.has(o.key)) throw new Error('dup');
      this.keys.add(o.key);
    }
    const id = this.newId();
    this.active.set(id, { symbol: o.symbol, side: o.side, qty: o.qty, filled: 0, notional: 0, status: 'New' });
    return id;
  }
  ack(id: string): void {
    const s = this.active.get(id);
    if (s === undefined || s.status !== 'New') throw new Error('bad');
    s.status = 'Acknowledged';
  }
  fill(id: string, fillId: string, price: number, qty: number): void {
    if (this.fills.has(fillId)) return;
    const s = this.active.get(id);
    if (s === undefined) throw new Error('bad');
    const filled = s.filled + qty;
    if (filled > s.qty) throw new Error('overfill');
    const dq = s.side === 'Buy' ? qty : -qty;
    const quote = s.symbol.slice(s.symbol.indexOf('-') + 1);
    const cash = (this.cash.get(quote) ?? 0) - dq * price;
    if (cash < 0) throw new Error('cash');
    const p = this.pos.get(s.symbol) ?? { qty: 0, basis: 0 };
    const newQ = p.qty + dq;
    if (newQ < 0) throw new Error('short');
    const basis = dq > 0 ? p.basis + dq * price : p.basis - (p.basis * qty) / p.qty;
    this.cash.set(quote, cash);
    this.pos.set(s.symbol, { qty: newQ, basis });
    this.fills.set(fillId, true);
    s.filled = filled;
    s.notional += qty * price;
    s.status = filled === s.qty ? 'Filled' : 'PartiallyFilled';
    if (s.status === 'Filled') {
      this.active.delete(id);
      this.history.push(s);
    }
  }
}

/** The 1-minute load average, so a figure can be read against how busy the machine was. */
function load(): string {
  return (loadavg()[0] ?? 0).toFixed(1);
}

function symbols(): string[] {
  return Array.from({ length: POSITIONS }, (_, i) => `S${i}-USD`);
}

function riskBench(): BenchResult[] {
  const syms = symbols();
  const portfolio = new Portfolio({ accountType: 'margin', clock: new TestClock(0n) });
  portfolio.deposit('USD', '10000000');
  const numPositions = new Map<string, NumPos>();
  let net = 0;
  let gross = 0;
  for (const [i, s] of syms.entries()) {
    const px = (100 + i).toString() + '.25';
    portfolio.applyFill({ symbol: s, side: 'Buy', price: px, quantity: '10.5' });
    portfolio.setMark(s, (101 + i).toString() + '.50');
    const v = 10.5 * (101 + i + 0.5);
    numPositions.set(s, { qty: 10.5, value: v });
    net += v;
    gross += v;
  }
  const cfg = {
    maxOrderValue: '1000000',
    maxPositionPerInstrument: '2000000',
    maxTotalExposure: '50000000',
    maxLeverage: '5',
    maxDrawdown: '0.5',
    maxConcentration: '0.9',
    maxDailyLoss: '1000000',
  };
  const engine = new DefaultRiskEngine(makeRiskConfig(cfg), { clock: new TestClock(0n) });
  const twin = new NumberRisk(
    { order: 1e6, pos: 2e6, gross: 5e7, lev: 5, dd: 0.5, conc: 0.9 },
    { cash: 1e7 - syms.reduce((a, _s, i) => a + 10.5 * (100 + i + 0.25), 0), net, gross, positions: numPositions },
  );
  const rng = new Rng(7);
  const orders: Order[] = [];
  const numOrders: { symbol: string; side: 'Buy' | 'Sell'; qty: number; price: number }[] = [];
  for (let i = 0; i < 1024; i++) {
    const s = rng.pick(syms);
    const side = rng.chance(0.8) ? 'Buy' : 'Sell';
    const q = rng.int(1, 500);
    const px = rng.int(10000, 30000);
    orders.push(limitOrder(s, side, `${q / 10}`, `${px / 100}`));
    numOrders.push({ symbol: s, side, qty: q / 10, price: px / 100 });
  }
  let allowed = 0;
  let allowedNum = 0;
  const r = pair(
    () => {
      for (let i = 0; i < CHECKS; i++) if (engine.checkOrder(orders[i & 1023] as Order, portfolio).isAllow) allowed++;
    },
    () => {
      for (let i = 0; i < CHECKS; i++) if (twin.check(numOrders[i & 1023] as (typeof numOrders)[number])) allowedNum++;
    },
    CHECKS,
    7,
    2,
  );
  if (allowed !== allowedNum) throw new Error(`exact and number checks disagree: ${allowed} vs ${allowedNum} allowed`);
  return [
    {
      name: 'checkOrder, 100 positions, 7 limits (exact bigint)',
      unit: 'checks/s',
      median: r.subject,
      runs: 7,
      peer: 'same checks with number arithmetic',
      peerMedian: r.peer,
      ratio: r.ratio,
      note: `load average ${load()} on this shared machine; target >= 2M/s; 80% of orders raise a position and run every limit, 20% reduce one; exact and number agree on ${allowed} allowed of ${CHECKS * 9}`,
    },
  ];
}

function omsBench(): BenchResult[] {
  const prices = Array.from({ length: 64 }, (_, i) => `${50000 + i}.${(i * 7) % 100}`.replace(/\.(\d)$/, '.0$1'));
  const orders = prices.map((_, i) => limitOrder('BTC-USDT', i % 2 === 0 ? 'Buy' : 'Sell', '0.125', prices[i] as string));
  const ack = makeOrderStatus('Acknowledged');
  const runExact = () => {
    const mgr = new OrderManager({ clock: new TestClock(0n), idGenerator: seededUuid(new Rng(1)) });
    mgr.deposit('USDT', '100000000');
    mgr.portfolio.applyFill({ symbol: 'BTC-USDT', side: 'Buy', price: '50000', quantity: '100' });
    for (let i = 0; i < CYCLES; i++) {
      const o = orders[i & 63] as Order;
      const id = mgr.submit(o);
      mgr.updateStatus(id, ack);
      mgr.addFill({ orderId: id, fillId: `f${i}`, price: prices[i & 63] as string, quantity: '0.125' });
    }
    return mgr;
  };
  const numPrices = prices.map(Number);
  const runNumber = () => {
    const oms = new NumberOms(seededUuid(new Rng(1)));
    oms.cash.set('USDT', 1e8);
    oms.pos.set('BTC-USDT', { qty: 100, basis: 5e6 });
    for (let i = 0; i < CYCLES; i++) {
      const id = oms.submit({ symbol: 'BTC-USDT', side: (i & 63) % 2 === 0 ? 'Buy' : 'Sell', qty: 0.125 });
      oms.ack(id);
      oms.fill(id, `f${i}`, numPrices[i & 63] as number, 0.125);
    }
    return oms;
  };
  const r = pair(runExact, runNumber, CYCLES, 15, 2);
  const check = runExact();
  if (check.historyCount() !== CYCLES || check.activeCount() !== 0) throw new Error('OMS cycle did not fill every order');
  return [
    {
      name: 'OMS submit -> acknowledge -> fill (exact decimals)',
      unit: 'orders/s',
      median: r.subject,
      runs: 15,
      peer: 'number-arithmetic OMS twin',
      peerMedian: r.peer,
      ratio: r.ratio,
      note:
        `load average ${load()} on this shared machine; target >= 500k/s; ${CYCLES} orders per run, seeded UUIDs, fill dedupe, portfolio update, history; ` +
        'both sides hash a new UUID into the active map (one entry at a time) and a fill id into a set or ledger that grows to 50k entries, and keep every order in a history list (most of the twin\'s time, with the GC of those records); ' +
        'the exact side adds exact cash/position/cost-basis/PnL updates (safe-integer scaled amounts, bigint past 2^53), the transition table, idempotency/owner checks and the per-order fill index liveSnapshot uses',
    },
  ];
}

function checkpointBench(): BenchResult[] {
  const ORDERS = 50_000;
  const mgr = new OrderManager({ clock: new TestClock(0n), idGenerator: seededUuid(new Rng(3)), historyLimit: 256 });
  mgr.deposit('USDT', '100000000');
  for (let i = 0; i < ORDERS; i++) {
    const id = mgr.submit(limitOrder('BTC-USDT', 'Buy', '0.002', '50000.5', `k${i}`));
    mgr.addFill({ orderId: id, fillId: `a${i}`, price: '50000.5', quantity: '0.001' });
    // every 1000th order stays working with half its quantity
    if (i % 1000 !== 0) mgr.addFill({ orderId: id, fillId: `b${i}`, price: '50000.25', quantity: '0.001' });
  }
  const same = JSON.stringify(mgr.liveSnapshot(), (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) === JSON.stringify(liveOmsState(mgr.snapshot()), (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  if (!same) throw new Error('liveSnapshot() differs from liveOmsState(snapshot())');
  // a mark moves before each snapshot (both sides): liveSnapshot returns its last state again while nothing
  // changed, and that cache hit is not what this measures
  const marks = ['50000.5', '50001'];
  let m = 0;
  const r = pair(
    () => {
      mgr.portfolio.setMark('BTC-USDT', marks[m++ & 1] as string);
      return mgr.liveSnapshot();
    },
    () => {
      mgr.portfolio.setMark('BTC-USDT', marks[m++ & 1] as string);
      return liveOmsState(mgr.snapshot());
    },
    1,
    15,
    3,
  );
  const live = mgr.liveSnapshot();
  return [
    {
      name: 'OMS checkpoint state after a 50k-order run (historyLimit 256): liveSnapshot()',
      unit: 'snapshots/s',
      median: r.subject,
      runs: 15,
      peer: "liveOmsState(snapshot()) as the engine computed it before liveSnapshot (copies every fill and key, then filters)",
      peerMedian: r.peer,
      ratio: r.ratio,
      note: `load average ${load()}; a mark set before each snapshot, so it is built, not the unchanged one returned again; same state byte for byte; ${live.active.length} working + ${live.history.length} retained orders with ${live.fillOrders.fillIds.length} fills, out of ${ORDERS} orders and ${mgr.snapshot().fillOrders.fillIds.length} fills`,
    },
  ];
}

const suite: BenchSuite = {
  name: 'oms-risk',
  run: () => [...riskBench(), ...omsBench(), ...checkpointBench()],
};
export default suite;
