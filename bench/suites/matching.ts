// matching: the integer L2 book vs nodejs-order-book on one operation stream, and the Binance capture replay
import { OrderBook as PeerBook, Side as PeerSide } from 'nodejs-order-book';
import { Rng } from '../../src/core/rng.js';
import { readBinanceCapture, replayBinance } from '../../src/matching/binance.js';
import { L2MatchingEngine } from '../../src/matching/engines.js';
import { BUY, OrderBook, SELL, type SideCode } from '../../src/matching/order-book.js';
import { limitOrder, marketOrder, type OrderSpec } from '../../src/matching/orders.js';
import { median, throughput, type BenchResult, type BenchSuite } from '../harness.js';

const ADD = 0;
const CANCEL = 1;
const MARKET = 2;

interface Stream {
  n: number;
  /** The first `prefill` ops are passive adds that build a resting book before timing starts. */
  prefill: number;
  kind: Uint8Array;
  id: Float64Array;
  idText: string[];
  side: Uint8Array;
  price: Float64Array;
  lots: Float64Array;
}

/**
 * 70% passive adds (1..10 lots) within 1..40 ticks of a drifting mid, 25% cancels of a live order, 5% market
 * orders of 20..80 lots; cancel targets are drawn from the orders live at that point, found by running the stream
 * once through the book before anything is timed.
 */
export function makeStream(n: number, seed: number, prefill = 0): Stream {
  const rng = new Rng(seed);
  n += prefill;
  const s: Stream = { n, prefill, kind: new Uint8Array(n), id: new Float64Array(n), idText: new Array<string>(n), side: new Uint8Array(n), price: new Float64Array(n), lots: new Float64Array(n) };
  const book = new OrderBook();
  const live: number[] = [];
  const where = new Map<number, number>();
  const drop = (id: number): void => {
    const k = where.get(id) as number;
    const last = live[live.length - 1] as number;
    live[k] = last;
    where.set(last, k);
    live.pop();
    where.delete(id);
  };
  let mid = 100_000;
  let nextId = 1;
  for (let i = 0; i < n; i++) {
    const r = rng.next();
    if (i % 1000 === 0) mid += rng.int(-5, 5);
    if (r < 0.7 || live.length === 0 || i < prefill) {
      const side: SideCode = rng.chance(0.5) ? BUY : SELL;
      const off = 1 + Math.floor(-Math.log(1 - rng.next()) * 8) % 40;
      const bestOpp = book.best(side === BUY ? SELL : BUY);
      let price = side === BUY ? mid - off : mid + off;
      // keep adds passive: never at or through the opposite touch
      if (!Number.isNaN(bestOpp)) price = side === BUY ? Math.min(price, bestOpp - 1) : Math.max(price, bestOpp + 1);
      const id = nextId++;
      s.kind[i] = ADD;
      s.id[i] = id;
      s.side[i] = side;
      s.price[i] = price;
      s.lots[i] = rng.int(1, 10);
      book.submit(id, side, price, s.lots[i] as number, 0);
      where.set(id, live.length);
      live.push(id);
    } else if (r < 0.95) {
      const k = rng.int(0, live.length - 1);
      const id = live[k] as number;
      drop(id);
      s.kind[i] = CANCEL;
      s.id[i] = id;
      book.cancel(id);
    } else {
      s.kind[i] = MARKET;
      s.id[i] = nextId++;
      s.side[i] = rng.chance(0.5) ? BUY : SELL;
      // about nine resting orders per market order, so the book reaches a steady state instead of growing
      s.lots[i] = rng.int(20, 80);
      book.submit(s.id[i] as number, s.side[i] as SideCode, s.side[i] === BUY ? Infinity : -Infinity, s.lots[i] as number, 1);
      const f = book.fills;
      for (let j = 0; j < f.count; j++) if (!book.has(f.makerIds[j] as number)) drop(f.makerIds[j] as number);
    }
    s.idText[i] = String(s.id[i]);
  }
  return s;
}

let sink = 0;

export function runOurs(s: Stream): number {
  const book = new OrderBook();
  const { kind, id, side, price, lots } = s;
  for (let i = 0; i < s.prefill; i++) book.submit(id[i] as number, side[i] as SideCode, price[i] as number, lots[i] as number, 0);
  const t0 = process.hrtime.bigint();
  for (let i = s.prefill; i < s.n; i++) {
    const k = kind[i];
    if (k === ADD) book.submit(id[i] as number, side[i] as SideCode, price[i] as number, lots[i] as number, 0);
    else if (k === CANCEL) book.cancel(id[i] as number);
    else book.submit(id[i] as number, side[i] as SideCode, side[i] === BUY ? Infinity : -Infinity, lots[i] as number, 1);
  }
  const dt = Number(process.hrtime.bigint() - t0) / 1e9;
  sink += book.orderCount;
  return dt;
}

function runPeer(s: Stream): number {
  const book = new PeerBook();
  const { kind, idText, side, price, lots } = s;
  for (let i = 0; i < s.prefill; i++) book.limit({ id: idText[i] as string, side: side[i] === BUY ? PeerSide.BUY : PeerSide.SELL, size: lots[i] as number, price: price[i] as number });
  const t0 = process.hrtime.bigint();
  for (let i = s.prefill; i < s.n; i++) {
    const k = kind[i];
    const sd = side[i] === BUY ? PeerSide.BUY : PeerSide.SELL;
    if (k === ADD) book.limit({ id: idText[i] as string, side: sd, size: lots[i] as number, price: price[i] as number });
    else if (k === CANCEL) book.cancel(idText[i] as string);
    else book.market({ side: sd, size: lots[i] as number });
  }
  const dt = Number(process.hrtime.bigint() - t0) / 1e9;
  sink += book.depth()[0].length;
  return dt;
}

/** Like the harness's `pair`, but each side times only its ops after the untimed prefill: A B A B ... */
function pairTimed(subject: () => number, peer: () => number, work: number, runs: number, warmup: number): { subject: number; peer: number; ratio: number } {
  for (let i = 0; i < warmup; i++) {
    subject();
    peer();
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    a.push(work / subject());
    b.push(work / peer());
  }
  return { subject: median(a), peer: median(b), ratio: median(a) / median(b) };
}

/** The same stream through the seed-level API: order objects with decimal strings, results with fill reports. */
function toSpecs(s: Stream): (OrderSpec | number)[] {
  const out: (OrderSpec | number)[] = [];
  for (let i = 0; i < s.n; i++) {
    const k = s.kind[i];
    const sd = s.side[i] === BUY ? 'Buy' : 'Sell';
    if (k === ADD) out.push(limitOrder(s.id[i] as number, 'BTC-USDT', sd, ((s.price[i] as number) / 100).toFixed(2), String(s.lots[i])));
    else if (k === CANCEL) out.push(s.id[i] as number);
    else out.push(marketOrder(s.id[i] as number, 'BTC-USDT', sd, String(s.lots[i])));
  }
  return out;
}

function runSeedApi(specs: (OrderSpec | number)[]): void {
  const e = new L2MatchingEngine({ tickSize: '0.01', lotSize: '1' });
  for (const x of specs) {
    if (typeof x === 'number') {
      if (e.book.has(x)) e.cancel(x);
    } else sink += e.submit(x).fills.length;
  }
}

const suite: BenchSuite = {
  name: 'matching',
  async run(): Promise<BenchResult[]> {
    const results: BenchResult[] = [];
    let peerMedian = Number.NaN;
    const n = 300_000;
    const prefill = 10_000;
    let stream = makeStream(n, 42, prefill);
    // two regimes: a realistic resting book, and one starting empty (the peer is far faster on a tiny book)
    for (const pf of [prefill, 0]) {
      const st = makeStream(n, 42, pf);
      if (pf === prefill) stream = st;
      const counts = [0, 0, 0];
      for (let i = pf; i < st.n; i++) counts[st.kind[i] as number]! += 1;
      const mix = `${((counts[0]! / n) * 100).toFixed(1)}% add / ${((counts[1]! / n) * 100).toFixed(1)}% cancel / ${((counts[2]! / n) * 100).toFixed(1)}% market`;
      const p = pairTimed(() => runOurs(st), () => runPeer(st), n, 7, 2);
      results.push({
        name: pf > 0 ? `l2 book mixed ops, ${pf} resting orders (integer API)` : 'l2 book mixed ops, empty start (integer API)',
        unit: 'ops/s',
        median: p.subject,
        runs: 7,
        peer: 'nodejs-order-book 10.1.1 limit/cancel/market',
        peerMedian: p.peer,
        ratio: p.ratio,
        note: `${n} timed ops (${mix}; markets sized so the book neither grows nor drains) after ${pf} untimed resting adds; same stream for both, interleaved; targets >= 5M ops/s and >= 30x`,
      });
      if (pf === prefill) peerMedian = p.peer;
    }
    const big = makeStream(2_000_000, 7, prefill);
    for (let i = 0; i < 2; i++) runOurs(big);
    const bigRuns: number[] = [];
    for (let i = 0; i < 7; i++) bigRuns.push(2_000_000 / runOurs(big));
    results.push({ name: 'l2 book mixed ops, 2M-op stream (integer API)', unit: 'ops/s', median: median(bigRuns), runs: 7, note: 'same mix and prefill, longer stream, subject only' });
    const specs = toSpecs(stream);
    const seed = throughput(() => runSeedApi(specs), stream.n, 5, 1);
    results.push({
      name: 'l2 engine mixed ops (seed API: decimal strings in, fill reports out)',
      unit: 'ops/s',
      median: seed.median,
      runs: 5,
      peer: 'nodejs-order-book (first pair above)',
      peerMedian,
      ratio: seed.median / peerMedian,
      note: 'orders pre-built; the prefill adds are timed here too; parsing, tick conversion and report strings are timed',
    });
    const path = new URL('../../data/binance_btcusdt_spot_depth_trades_20240808_2354-2400_utc.jsonl.gz', import.meta.url).pathname;
    const t0 = process.hrtime.bigint();
    const cap = readBinanceCapture(path);
    const parseMs = Number(process.hrtime.bigint() - t0) / 1e6;
    let levels = 0;
    const c0 = process.hrtime.bigint();
    replayBinance(cap, { validate: false });
    const coldMs = Number(process.hrtime.bigint() - c0) / 1e6;
    const replay = throughput(
      () => {
        const r = replayBinance(cap, { validate: false, listener: { onTrade: (_t, _p, q) => void (sink += q) } });
        levels = r.levelUpdates;
      },
      cap.count,
      9,
      8,
    );
    results.push({
      name: 'binance capture replay (book rebuild + trades)',
      unit: 'events/s',
      median: replay.median,
      runs: 9,
      note: `${cap.count} messages (depth diffs, trades, bookTickers; ${levels} level updates) parsed ONCE (gunzip + JSON: ${parseMs.toFixed(0)} ms, not timed), then the replay of the parsed columns is timed after 8 warm-up replays (the first, cold replay took ${coldMs.toFixed(1)} ms = ${(cap.count / coldMs / 1e3).toFixed(2)}M events/s); target >= 3M events/s`,
    });
    const validated = throughput(() => replayBinance(cap), cap.count, 5, 5);
    results.push({ name: 'binance capture replay with bookTicker validation', unit: 'events/s', median: validated.median, runs: 5, note: 'same, plus the agreement check after every diff' });
    if (sink === -1) results.push({ name: 'sink', unit: '', median: sink, runs: 0 });
    return results;
  },
};

export default suite;
