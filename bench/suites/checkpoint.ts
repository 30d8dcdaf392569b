// checkpoint: the whole checkpoint of a 1,000-symbol, 1,000-open-order engine state (snapshot of live
// indicators and orders + binary encode + SHA-256 + one SQLite transaction, WAL, synchronous FULL, a
// real file), against JSON.stringify of the same state and a plain INSERT of a same-size blob into the
// same kind of store, measured interleaved in the same run
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Rng } from '../../src/core/rng.js';
import { SymbolIndicators } from '../../src/engine/symbol-indicators.js';
import { decodeStateBinary, encodeState, encodeStateBinary, StateStore, STATE_PAGE_SIZE } from '../../src/engine/state/index.js';
import type { BarView } from '../../src/strategy/types.js';
import { median, pair, type BenchResult, type BenchSuite } from '../harness.js';
import { bookCheckpointTimes, withEngineBook } from '../lib/engine-book.js';
import type { Engine } from '../../src/engine/engine.js';

const SYMBOLS = 1_000;
const ORDERS = 1_000;
const WINDOW = 30;
const INDICATORS = ['sma', 'ema', 'rsi', 'atr', 'bollinger'] as const;
const RUNS = 21;
const T0 = 1_700_000_000_000_000_000n;

/** An engine state shaped like the engine's checkpoint: positions as decimal strings, indicator windows, counters, open orders. */
export function makeState(rng: Rng): unknown {
  const symbols: Record<string, unknown> = {};
  for (let s = 0; s < SYMBOLS; s++) {
    let px = 20 + rng.next() * 400;
    const indicators: Record<string, unknown> = {};
    for (const kind of INDICATORS) {
      const window: number[] = [];
      for (let i = 0; i < WINDOW; i++) {
        px *= 1 + (rng.next() - 0.5) * 0.002;
        window.push(kind === 'rsi' ? rng.next() * 100 : px);
      }
      indicators[kind] = { kind, period: WINDOW, count: 5_000 + s, partial: window.reduce((a, b) => a + b, 0), window, value: window[WINDOW - 1] };
    }
    symbols[`SYM${String(s).padStart(4, '0')}`] = {
      position: { qty: `${rng.int(1, 5000)}.${rng.int(0, 99)}`, avgPrice: px.toFixed(4), realizedPnl: (rng.next() * 2000 - 1000).toFixed(2), costBasis: (px * 100).toFixed(2) },
      indicators,
      counters: { trades: rng.int(0, 500), wins: rng.int(0, 250), losses: rng.int(0, 250), barsSinceEntry: rng.int(0, 100), cooldownBars: rng.int(0, 5) },
      lastBarNs: T0 + BigInt(s) * 60_000_000_000n,
    };
  }
  const orders: unknown[] = [];
  for (let o = 0; o < ORDERS; o++) {
    orders.push({
      clientOrderId: `AXON-sma-SYM${String(o % SYMBOLS).padStart(4, '0')}-${o}`,
      venueOrderId: `V${1_000_000 + o}`,
      symbol: `SYM${String(o % SYMBOLS).padStart(4, '0')}`,
      side: o % 2 === 0 ? 'Buy' : 'Sell',
      type: 'Limit',
      quantity: `${rng.int(1, 500)}`,
      filledQty: '0',
      limitPrice: (20 + rng.next() * 400).toFixed(2),
      status: 'ACCEPTED',
      attempt: rng.int(1, 3),
      createdNs: T0 + BigInt(o) * 1_000_000n,
      escalateAtNs: T0 + BigInt(o) * 1_000_000n + 2_000_000_000n,
    });
  }
  return { barCount: 100_000, cash: '1000000.00', killSwitch: false, tradeCount: 12_345, symbols, orders };
}

const replacer = (_key: string, v: unknown): unknown => (typeof v === 'bigint' ? v.toString() : v instanceof Float64Array ? Array.from(v) : v);

/**
 * The engine side of a checkpoint: per symbol a live SymbolIndicators (the engine's own class) with
 * windows of the same total size as makeState's (sma 30 and 50, bollinger 30, slope 30, ema/rsi/atr 30:
 * ~170 doubles a symbol), a position, counters; 1,000 working orders. snapshot() builds a fresh state
 * each time, as Engine.snapshot() does.
 */
class LiveBook {
  readonly symbols: { name: string; ind: SymbolIndicators; position: Record<string, string>; counters: Record<string, number>; lastBarNs: bigint }[] = [];
  readonly orders: Record<string, unknown>[];

  constructor(rng: Rng) {
    for (let s = 0; s < SYMBOLS; s++) {
      const ind = new SymbolIndicators(6);
      ind.sma(WINDOW);
      ind.ema(WINDOW);
      ind.rsi(WINDOW);
      ind.atr(WINDOW);
      ind.bollinger(WINDOW, 2);
      ind.slope(WINDOW);
      ind.sma(50);
      let px = 20 + rng.next() * 400;
      for (let b = 0; b < 80; b++) {
        px *= 1 + (rng.next() - 0.5) * 0.002;
        ind.update({ open: px, high: px * 1.001, low: px * 0.999, close: px, volume: 1000 } as unknown as BarView, false);
      }
      this.symbols.push({
        name: `SYM${String(s).padStart(4, '0')}`,
        ind,
        position: { qty: `${rng.int(1, 5000)}.${rng.int(0, 99)}`, avgPrice: px.toFixed(4), realizedPnl: (rng.next() * 2000 - 1000).toFixed(2), costBasis: (px * 100).toFixed(2) },
        counters: { trades: rng.int(0, 500), wins: rng.int(0, 250), losses: rng.int(0, 250), barsSinceEntry: rng.int(0, 100), cooldownBars: rng.int(0, 5) },
        lastBarNs: T0 + BigInt(s) * 60_000_000_000n,
      });
    }
    this.orders = (makeState(rng) as { orders: Record<string, unknown>[] }).orders;
  }

  snapshot(): unknown {
    const symbols: Record<string, unknown> = {};
    for (const s of this.symbols) {
      symbols[s.name] = { position: { ...s.position }, indicators: s.ind.snapshot(), counters: { ...s.counters }, lastBarNs: s.lastBarNs };
    }
    return { barCount: 100_000, cash: '1000000.00', killSwitch: false, tradeCount: 12_345, symbols, orders: this.orders.map((o) => ({ ...o })) };
  }
}

const suite: BenchSuite = {
  name: 'checkpoint',
  async run(): Promise<BenchResult[]> {
    return [...(await engineCase()), ...(await runningCase()), ...fixedCases()];
  },
};

/**
 * The engine's own checkpoints as a backtest takes them: the same book run for 2,120 bar times, every
 * checkpoint (every 100 bar times, with 100,000 bars handled in between) timed where the engine calls it.
 * The first one, right after the entries, encodes everything afresh; the later ones reuse the parts that
 * did not change (the resting orders of OMS and venue, the symbols' trade records) and re-encode the
 * rest (every symbol's indicators and columns, the venue's last bars, counters).
 */
async function runningCase(): Promise<BenchResult[]> {
  const times = await bookCheckpointTimes(SYMBOLS, 2_120);
  const first = times[0];
  const rest = times.slice(1).map((t) => t.ms);
  if (first === undefined || rest.length < 10) throw new Error(`checkpoint bench: ${times.length} checkpoints in the running book, expected 21`);
  return [
    {
      name: 'Engine.checkpoint() as a running backtest takes it (every 100 bar times, 1,000 symbols, 1,000 working orders)',
      unit: 'ms',
      median: median(rest),
      runs: rest.length,
      note: `target < 5 ms; checkpoints at bar times 200..${times[times.length - 1]?.step ?? '?'} (100,000 bars between two); min ${Math.min(...rest).toFixed(2)} ms, max ${Math.max(...rest).toFixed(2)} ms`,
    },
    {
      name: 'the first checkpoint of that run (bar time 100: nothing stored or cached yet)',
      unit: 'ms',
      median: first.ms,
      runs: 1,
      note: 'one sample: every order record, the OMS and the venue book are encoded and written afresh',
    },
  ];
}

/**
 * The engine's own checkpoint, mid-run: a real backtest of 1,000 symbols (SPY minute copies) whose
 * strategy holds sma 30/50, ema, rsi, atr, bollinger and slope per symbol and has entered on every other
 * symbol, so 500 positions keep a take-profit and a stop-loss leg working at the simulated venue (1,000
 * open orders). At its checkpoint of bar time 100, Engine.checkpoint() (series append, engine snapshot,
 * the venue's liveSnapshot, binary encode, SHA-256, one SQLite transaction in the backtest's store:
 * WAL, durability 'process') is timed, paired with JSON.stringify of the same engine and venue state.
 */
async function engineCase(): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  await withEngineBook(SYMBOLS, 100, (engine: Engine) => {
    const state = (): unknown => ({ engine: engine.snapshot() });
    const blob = encodeStateBinary(state());
    const snap = engine.snapshot() as { oms: { active: unknown[] }; symbols: { names: string[] } };
    if (snap.oms.active.length !== ORDERS || snap.symbols.names.length !== SYMBOLS) {
      throw new Error(`checkpoint bench: the engine holds ${snap.oms.active.length} orders and ${snap.symbols.names.length} symbols, not ${ORDERS} and ${SYMBOLS}`);
    }
    const r = pair(
      () => engine.checkpoint(),
      () => JSON.stringify(state(), replacer),
      1,
      RUNS,
      3,
    );
    out.push({
      name: 'Engine.checkpoint() of a live backtest: 1,000 symbols, 1,000 working orders',
      unit: 'ms',
      median: 1_000 / r.subject,
      runs: RUNS,
      peer: 'engine.snapshot() + JSON.stringify (no venue, no write)',
      peerMedian: 1_000 / r.peer,
      ratio: r.ratio,
      note: `target < 5 ms; repeated at one bar time, so what did not change is reused (the running-backtest row is the stricter figure); real engine mid-backtest (sma 30/50, ema, rsi, atr, bollinger, slope 30 per symbol; 500 positions with 2 bracket legs each), venue liveSnapshot, durability 'process' (WAL, synchronous OFF); engine part of the blob ${(blob.length / 1e6).toFixed(2)} MB`,
    });
  });
  return out;
}

function fixedCases(): BenchResult[] {
  const synthetic = makeState(new Rng('checkpoint-bench'));
  const book = new LiveBook(new Rng('checkpoint-bench-live'));
  const dir = mkdtempSync(join(tmpdir(), 'axon-bench-checkpoint-'));
  const store = StateStore.open(join(dir, 'state.sqlite'), { configHash: 'bench', create: true, createdNs: T0 });
  // the plain-INSERT peer: a bare table in a store with the same pragmas (WAL, FULL, 16 KiB pages)
  const raw = new Database(join(dir, 'raw.sqlite'));
  raw.pragma(`page_size = ${STATE_PAGE_SIZE}`);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = FULL');
  raw.exec('CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB NOT NULL)');
  const insert = raw.prepare('INSERT INTO blobs (data) VALUES (?)');
  const prune = raw.prepare('DELETE FROM blobs WHERE id NOT IN (SELECT id FROM blobs ORDER BY id DESC LIMIT 3)');
  const insertTx = raw.transaction((b: Buffer) => {
    insert.run(b);
    prune.run();
  });
  try {
    let bar = 0;
    const liveState = book.snapshot();
    const liveBlob = encodeStateBinary(liveState);
    const liveJson = JSON.stringify(liveState, replacer);
    const whole = pair(
      () => store.writeCheckpoint({ barCount: ++bar, tsNs: T0 + BigInt(bar), state: book.snapshot() }),
      () => JSON.stringify(book.snapshot(), replacer),
      1,
      RUNS,
      3,
    );
    const plainInsert = pair(
      () => store.writeCheckpoint({ barCount: ++bar, tsNs: T0 + BigInt(bar), state: book.snapshot() }),
      () => insertTx(liveBlob),
      1,
      RUNS,
      3,
    );
    const syntheticWrite = pair(
      () => store.writeCheckpoint({ barCount: ++bar, tsNs: T0 + BigInt(bar), state: synthetic }),
      () => JSON.stringify(synthetic, replacer),
      1,
      RUNS,
      3,
    );
    const encode = pair(
      () => encodeStateBinary(synthetic),
      () => JSON.stringify(synthetic, replacer),
      1,
      RUNS,
      3,
    );
    store.writeCheckpoint({ barCount: ++bar, tsNs: T0 + BigInt(bar), state: liveState });
    const load = pair(
      () => store.loadCheckpoint(),
      () => JSON.parse(liveJson),
      1,
      RUNS,
      3,
    );
    if (decodeStateBinary(liveBlob) === undefined || store.listCheckpoints().length !== 3) throw new Error('checkpoint bench: store did not keep 3 checkpoints');
    const ms = (opsPerSecond: number): number => 1_000 / opsPerSecond;
    const syntheticBlob = encodeStateBinary(synthetic);
    const size = `${SYMBOLS} symbols (live SymbolIndicators: sma 30/50, ema, rsi, atr, bollinger, slope 30), ${ORDERS} open orders; blob ${(liveBlob.length / 1e6).toFixed(2)} MB, plain JSON ${(liveJson.length / 1e6).toFixed(2)} MB`;
    return [
      {
        name: 'whole checkpoint: snapshot + binary encode + sha256 + SQLite txn (WAL, FULL)',
        unit: 'ms',
        median: ms(whole.subject),
        runs: RUNS,
        peer: 'snapshot + JSON.stringify of the same state',
        peerMedian: ms(whole.peer),
        ratio: whole.ratio,
        note: `target < 5 ms; ${size}`,
      },
      {
        name: 'whole checkpoint (second pairing)',
        unit: 'ms',
        median: ms(plainInsert.subject),
        runs: RUNS,
        peer: 'plain INSERT of a same-size blob (same pragmas, keeps 3)',
        peerMedian: ms(plainInsert.peer),
        ratio: plainInsert.ratio,
      },
      {
        name: 'writeCheckpoint of makeState (plain objects, number[] windows)',
        unit: 'ms',
        median: ms(syntheticWrite.subject),
        runs: RUNS,
        peer: 'JSON.stringify alone',
        peerMedian: ms(syntheticWrite.peer),
        ratio: syntheticWrite.ratio,
        note: `the state of the earlier bench (before: 89 ms); blob ${(syntheticBlob.length / 1e6).toFixed(2)} MB, JSON codec ${(encodeState(synthetic).length / 1e6).toFixed(2)} MB`,
      },
      {
        name: 'encodeStateBinary of makeState',
        unit: 'ms',
        median: ms(encode.subject),
        runs: RUNS,
        peer: 'JSON.stringify alone',
        peerMedian: ms(encode.peer),
        ratio: encode.ratio,
      },
      {
        name: 'loadCheckpoint (read + sha256 verify + decode) of the live state',
        unit: 'ms',
        median: ms(load.subject),
        runs: RUNS,
        peer: 'JSON.parse of its plain JSON',
        peerMedian: ms(load.peer),
        ratio: load.ratio,
      },
    ];
  } finally {
    store.close();
    raw.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export default suite;
