// Alpaca paper venue server on loopback: a REST order placement (validate, match, commit one SQLite transaction
// with synchronous FULL, answer) against a read-only request (GET /v2/clock) measured in the same run, interleaved;
// and showing one bar time to the server (fills + commit + publish) with resting orders open
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, type BenchResult, type BenchSuite } from '../harness.js';
import { startPaperServer } from '../../src/server/alpaca-paper/index.js';

const REQUESTS = 400;
const MIN = 60_000_000_000n;
const T0 = 1_704_205_800_000_000_000n;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] as number;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const suite: BenchSuite = {
  name: 'paper-server',
  async run(): Promise<BenchResult[]> {
    const dir = mkdtempSync(join(tmpdir(), 'axon-paper-bench-'));
    const server = await startPaperServer({ stateFile: join(dir, 'state.sqlite'), keyId: 'k', secretKey: 's', symbols: ['SPY'], rateLimitPerMin: 1_000_000 });
    const headers = { 'APCA-API-KEY-ID': 'k', 'APCA-API-SECRET-KEY': 's', 'Content-Type': 'application/json' };
    try {
      let bar = 0;
      const push = (): Promise<void> =>
        server.pushBars([{ symbol: 'SPY', openTimeNs: T0 + BigInt(bar++) * MIN, open: 100, high: 100.5, low: 99.5, close: 100, volume: 1e6 }]);
      await push();
      const place = (i: number): Promise<unknown> =>
        fetch(`${server.url}/v2/orders`, { method: 'POST', headers, body: JSON.stringify({ symbol: 'SPY', qty: '1', side: i % 2 === 0 ? 'buy' : 'sell', type: 'limit', limit_price: i % 2 === 0 ? '90' : '110', time_in_force: 'gtc' }) }).then((r) => r.text());
      const read = (): Promise<unknown> => fetch(`${server.url}/v2/clock`, { headers }).then((r) => r.text());
      for (let i = 0; i < 20; i++) {
        await place(i);
        await read();
      }
      const orders: number[] = [];
      const reads: number[] = [];
      for (let i = 0; i < REQUESTS; i++) {
        orders.push(await timed(() => place(i)));
        reads.push(await timed(read));
      }
      const bars: number[] = [];
      for (let i = 0; i < 100; i++) bars.push(await timed(push));
      const om = median(orders);
      const rm = median(reads);
      const open = REQUESTS + 20;
      return [
        {
          name: 'POST /v2/orders round trip (limit order, committed before the answer)',
          unit: 'ms',
          median: om,
          runs: REQUESTS,
          peer: 'GET /v2/clock round trip (no state change)',
          peerMedian: rm,
          ratio: rm / om,
          note: `p99 ${pct(orders, 0.99).toFixed(3)} ms vs peer p99 ${pct(reads, 0.99).toFixed(3)} ms; the state written per order grows with the orders held (0..${open} resting)`,
        },
        {
          name: `bar time shown (match ${open} resting orders, commit, publish)`,
          unit: 'ms',
          median: median(bars),
          runs: bars.length,
          note: `p99 ${pct(bars, 0.99).toFixed(3)} ms`,
        },
      ];
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default suite;
