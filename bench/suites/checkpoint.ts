// checkpoint: StateStore.writeCheckpoint (encode + SHA-256 + one SQLite transaction with fsync, WAL,
// synchronous FULL) of a 1,000-symbol, 1,000-open-order engine state, against JSON.stringify of the
// same state alone (bigints through a replacer) measured interleaved in the same run
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/core/rng.js';
import { decodeState, encodeState, StateStore } from '../../src/engine/state/index.js';
import { pair, type BenchResult, type BenchSuite } from '../harness.js';

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

const bigintReplacer = (_key: string, v: unknown): unknown => (typeof v === 'bigint' ? v.toString() : v);

const suite: BenchSuite = {
  name: 'checkpoint',
  run(): BenchResult[] {
    const state = makeState(new Rng('checkpoint-bench'));
    const dir = mkdtempSync(join(tmpdir(), 'axon-bench-checkpoint-'));
    const store = StateStore.open(join(dir, 'state.sqlite'), { configHash: 'bench', create: true, createdNs: T0 });
    try {
      let bar = 0;
      const plainJson = JSON.stringify(state, bigintReplacer);
      const encoded = encodeState(state);
      const write = pair(
        () => store.writeCheckpoint({ barCount: ++bar, tsNs: T0 + BigInt(bar), state }),
        () => JSON.stringify(state, bigintReplacer),
        1,
        RUNS,
        3,
      );
      const encode = pair(
        () => encodeState(state),
        () => JSON.stringify(state, bigintReplacer),
        1,
        RUNS,
        3,
      );
      const load = pair(
        () => store.loadCheckpoint(),
        () => JSON.parse(plainJson),
        1,
        RUNS,
        3,
      );
      if (decodeState(encoded) === undefined || store.listCheckpoints().length !== 3) throw new Error('checkpoint bench: store did not keep 3 checkpoints');
      const ms = (opsPerSecond: number): number => 1_000 / opsPerSecond;
      const size = `${SYMBOLS} symbols x ${INDICATORS.length} indicators x ${WINDOW}-element windows, ${ORDERS} open orders; state_json ${(encoded.length / 1e6).toFixed(2)} MB (plain JSON ${(plainJson.length / 1e6).toFixed(2)} MB)`;
      return [
        {
          name: 'writeCheckpoint (encode + sha256 + SQLite txn, fsync)',
          unit: 'ms',
          median: ms(write.subject),
          runs: RUNS,
          peer: 'JSON.stringify alone',
          peerMedian: ms(write.peer),
          ratio: write.ratio,
          note: `target < 5 ms; ${size}`,
        },
        {
          name: 'encodeState (tags + float64 packing)',
          unit: 'ms',
          median: ms(encode.subject),
          runs: RUNS,
          peer: 'JSON.stringify alone',
          peerMedian: ms(encode.peer),
          ratio: encode.ratio,
        },
        {
          name: 'loadCheckpoint (read + sha256 verify + decode)',
          unit: 'ms',
          median: ms(load.subject),
          runs: RUNS,
          peer: 'JSON.parse of plain JSON alone',
          peerMedian: ms(load.peer),
          ratio: load.ratio,
        },
      ];
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default suite;
