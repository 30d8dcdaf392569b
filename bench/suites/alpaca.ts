// Alpaca adapter overhead on loopback, each against a raw peer in the same run, interleaved:
// submit() round trip (limiter, breaker, mapping, JSON, accepted event) vs a bare undici POST of the same body;
// trade_updates -> venue events throughput vs a bare ws client that only JSON.parses; data-stream bars -> Bar
// deliveries vs the same bare client. A tiny in-process server answers at once, so the figures are the adapter's.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import WebSocket, { WebSocketServer } from 'ws';
import { median, type BenchResult, type BenchSuite } from '../harness.js';
import { LiveClock } from '../../src/core/clock.js';
import { Price, Quantity } from '../../src/core/decimal.js';
import { clientOrderId } from '../../src/core/ids.js';
import { AlpacaBarFeed, AlpacaCredentials, AlpacaVenue, type AlpacaOrder } from '../../src/venues/alpaca/index.js';

const ROUND_TRIPS = 2_000;
const UPDATES = 20_000;
const BARS = 50_000;
const RUNS = 5;

function order(id: string, cid: string, status: AlpacaOrder['status'], filled: string): AlpacaOrder {
  const t = '2024-01-03T14:31:00.123456Z';
  return {
    id, client_order_id: cid, created_at: t, updated_at: t, submitted_at: t, filled_at: null, expired_at: null, canceled_at: null,
    failed_at: null, replaced_at: null, replaced_by: null, replaces: null, asset_id: 'a', symbol: 'SPY', asset_class: 'us_equity',
    notional: null, qty: '1000000', filled_qty: filled, filled_avg_price: null, order_class: '', order_type: 'limit', type: 'limit',
    side: 'buy', time_in_force: 'gtc', limit_price: '100.25', stop_price: null, status, extended_hours: false, legs: null,
  };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] as number;
}

const suite: BenchSuite = {
  name: 'alpaca',
  async run(): Promise<BenchResult[]> {
    let seq = 0;
    const http = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        if (req.method === 'POST') {
          const cid = (JSON.parse(body) as { client_order_id: string }).client_order_id;
          res.end(JSON.stringify(order(`o-${++seq}`, cid, 'new', '0')));
        } else if (req.url?.startsWith('/v2/orders')) res.end('[]');
        else if (req.url?.startsWith('/v2/clock')) res.end(JSON.stringify({ timestamp: '2024-01-03T14:31:00Z', is_open: true, next_open: '', next_close: '' }));
        else res.end(JSON.stringify({ cash: '1000000', currency: 'USD' }));
      });
    });
    const wss = new WebSocketServer({ server: http });
    const tradeClients: WebSocket[] = [];
    const dataClients: WebSocket[] = [];
    wss.on('connection', (ws, req) => {
      if (req.url === '/v2/iex') {
        ws.send(JSON.stringify([{ T: 'success', msg: 'connected' }]));
        ws.on('message', (m: WebSocket.RawData) => {
          const msg = JSON.parse(m.toString()) as { action: string; bars?: string[] };
          if (msg.action === 'auth') ws.send(JSON.stringify([{ T: 'success', msg: 'authenticated' }]));
          if (msg.action === 'subscribe') {
            ws.send(JSON.stringify([{ T: 'subscription', trades: [], quotes: [], bars: msg.bars }]));
            dataClients.push(ws);
          }
        });
        return;
      }
      ws.on('message', (m: WebSocket.RawData) => {
        const msg = JSON.parse(m.toString()) as { action: string };
        if (msg.action === 'auth') ws.send(JSON.stringify({ stream: 'authorization', data: { status: 'authorized', action: 'authenticate' } }));
        if (msg.action === 'listen') {
          ws.send(JSON.stringify({ stream: 'listening', data: { streams: ['trade_updates'] } }));
          tradeClients.push(ws);
        }
      });
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    const port = (http.address() as AddressInfo).port;
    const url = `http://127.0.0.1:${port}`;
    const clock = new LiveClock();
    const credentials = new AlpacaCredentials('bench-key', 'bench-secret');
    const results: BenchResult[] = [];
    const venue = new AlpacaVenue({ baseUrl: url, credentials, clock, rateLimit: { perMinute: 100_000_000, burst: 10_000_000 }, pingIntervalMs: 0 });
    let events = 0;
    venue.onEvent(() => events++);
    await venue.connect();
    const pool = new Pool(url, { connections: 4, keepAliveTimeout: 30_000 });
    try {
      // 1. submit round trip, one at a time, alternating subject and peer
      const body = (cid: string): string => JSON.stringify({ symbol: 'SPY', side: 'buy', type: 'limit', time_in_force: 'gtc', client_order_id: cid, qty: '1', limit_price: '100.25' });
      const a: number[] = [];
      const b: number[] = [];
      for (let i = 0; i < ROUND_TRIPS + 200; i++) {
        let t0 = process.hrtime.bigint();
        await venue.submit({ clientOrderId: clientOrderId(`b-${i}`), symbol: 'SPY', side: 'Buy', type: 'Limit', quantity: Quantity.of('1'), limitPrice: Price.of('100.25'), timeInForce: 'GTC', tsInit: 0n });
        const ta = Number(process.hrtime.bigint() - t0) / 1e6;
        t0 = process.hrtime.bigint();
        const r = await pool.request({ path: '/v2/orders', method: 'POST', headers: { ...credentials.headers(), 'content-type': 'application/json' }, body: body(`p-${i}`) });
        JSON.parse(await r.body.text());
        const tb = Number(process.hrtime.bigint() - t0) / 1e6;
        if (i >= 200) {
          a.push(ta);
          b.push(tb);
        }
      }
      const note = `${ROUND_TRIPS} sequential round trips on loopback after 200 warm-up; p99 ${pct(a, 0.99).toFixed(3)} ms vs peer ${pct(b, 0.99).toFixed(3)} ms`;
      results.push({ name: 'submit round trip p50 (AlpacaVenue.submit vs bare undici POST)', unit: 'ms', median: median(a), runs: ROUND_TRIPS, peer: 'undici Pool.request + JSON.parse', peerMedian: median(b), ratio: median(b) / median(a), note });

      // 2. trade_updates -> events, vs a bare ws client that only parses
      const fillFrames: string[] = [];
      for (let i = 0; i < UPDATES; i++) {
        const filled = String(i + 1);
        fillFrames.push(JSON.stringify({ stream: 'trade_updates', data: { event: 'partial_fill', execution_id: `x-${i}`, timestamp: '2024-01-03T14:32:00.5Z', price: '100.25', qty: '1', position_qty: filled, order: order('o-1', 'b-0', 'partially_filled', filled) } }));
      }
      const bare = new WebSocket(`ws://127.0.0.1:${port}/stream`);
      let bareCount = 0;
      let bareDone: (() => void) | undefined;
      bare.on('message', (m: WebSocket.RawData) => {
        const f = JSON.parse(m.toString()) as { stream: string };
        if (f.stream === 'trade_updates' && ++bareCount % UPDATES === 0) bareDone?.();
      });
      await new Promise<void>((r) => bare.on('open', () => r()));
      bare.send(JSON.stringify({ action: 'auth', key: 'k', secret: 's' }));
      bare.send(JSON.stringify({ action: 'listen', data: { streams: ['trade_updates'] } }));
      await new Promise((r) => setTimeout(r, 100));
      const [venueWs, bareWs] = tradeClients as [WebSocket, WebSocket];
      const ua: number[] = [];
      const ub: number[] = [];
      for (let run = 0; run < RUNS + 1; run++) {
        // fresh execution ids per run: deduplication would otherwise drop them
        const frames = fillFrames.map((f) => f.replace(/"x-(\d+)"/, `"r${run}-$1"`).replace(/"filled_qty":"(\d+)"/, (_m, n: string) => `"filled_qty":"${Number(n) + run * UPDATES}"`));
        const before = events;
        let t0 = process.hrtime.bigint();
        for (const f of frames) venueWs.send(f);
        while (events - before < UPDATES) await new Promise((r) => setImmediate(r));
        await venue.settled();
        const ta = Number(process.hrtime.bigint() - t0) / 1e9;
        t0 = process.hrtime.bigint();
        const done = new Promise<void>((r) => (bareDone = r));
        for (const f of frames) bareWs.send(f);
        await done;
        const tb = Number(process.hrtime.bigint() - t0) / 1e9;
        if (run > 0) {
          ua.push(UPDATES / ta);
          ub.push(UPDATES / tb);
        }
      }
      results.push({ name: 'trade_updates -> fill events (AlpacaVenue vs bare ws + JSON.parse)', unit: 'events/s', median: median(ua), runs: RUNS, peer: 'ws client, JSON.parse only', peerMedian: median(ub), ratio: median(ua) / median(ub), note: `${UPDATES} partial fills per run over one loopback socket; includes dedupe, exact decimal parsing, frozen events` });
      bare.close();

      // 3. data stream bars -> Bar deliveries, vs the bare client
      const feed = new AlpacaBarFeed({ dataStreamUrl: `ws://127.0.0.1:${port}/v2/iex`, dataUrl: url, credentials, clock, pingIntervalMs: 0 });
      let delivered = 0;
      feed.onBar(() => delivered++);
      await feed.start(['SPY']);
      const bare2 = new WebSocket(`ws://127.0.0.1:${port}/v2/iex`);
      let bare2Count = 0;
      let bare2Done: (() => void) | undefined;
      bare2.on('message', (m: WebSocket.RawData) => {
        const arr = JSON.parse(m.toString()) as { T: string }[];
        for (const x of arr) if (x.T === 'b' && ++bare2Count % BARS === 0) bare2Done?.();
      });
      await new Promise<void>((r) => bare2.on('open', () => r()));
      bare2.send(JSON.stringify({ action: 'auth', key: 'k', secret: 's' }));
      bare2.send(JSON.stringify({ action: 'subscribe', bars: ['SPY'] }));
      await new Promise((r) => setTimeout(r, 100));
      const [feedWs, bare2Ws] = dataClients as [WebSocket, WebSocket];
      const base = Date.parse('2024-01-03T14:30:00Z');
      const ba: number[] = [];
      const bb: number[] = [];
      for (let run = 0; run < RUNS + 1; run++) {
        const frames: string[] = [];
        for (let i = 0; i < BARS; i++) {
          const t = new Date(base + (run * BARS + i) * 60_000).toISOString().replace('.000Z', 'Z');
          frames.push(JSON.stringify([{ T: 'b', S: 'SPY', o: 100.1, h: 100.5, l: 99.9, c: 100.2, v: 1234, t }]));
        }
        const before = delivered;
        let t0 = process.hrtime.bigint();
        for (const f of frames) feedWs.send(f);
        while (delivered - before < BARS) await new Promise((r) => setImmediate(r));
        const ta = Number(process.hrtime.bigint() - t0) / 1e9;
        t0 = process.hrtime.bigint();
        const done = new Promise<void>((r) => (bare2Done = r));
        for (const f of frames) bare2Ws.send(f);
        await done;
        const tb = Number(process.hrtime.bigint() - t0) / 1e9;
        if (run > 0) {
          ba.push(BARS / ta);
          bb.push(BARS / tb);
        }
      }
      results.push({ name: 'data stream bars -> Bar deliveries (AlpacaBarFeed vs bare ws + JSON.parse)', unit: 'bars/s', median: median(ba), runs: RUNS, peer: 'ws client, JSON.parse only', peerMedian: median(bb), ratio: median(ba) / median(bb), note: `${BARS} one-bar frames per run; includes RFC 3339 -> ns, validation, per-symbol dedupe` });
      bare2.close();
      await feed.stop();
    } finally {
      await venue.disconnect();
      await pool.close();
      for (const c of wss.clients) c.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    }
    return results;
  },
};

export default suite;
