import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { LiveClock, NS } from '../../core/clock.js';
import { Price, Quantity } from '../../core/decimal.js';
import { clientOrderId } from '../../core/ids.js';
import type { VenueEvent } from '../../model/order.js';
import { AlpacaVenue, defaultTradingStreamUrl, executionIdOfActivity } from './alpaca-venue.js';
import { AlpacaCredentials } from './credentials.js';
import type { AlpacaOrder, TradeUpdate } from './protocol.js';
import { alpacaOrder } from './orders.fixture.js';


/** A minimal Alpaca on loopback: orders in a map, a trading stream the test writes trade updates to. */
class FakeAlpaca {
  readonly http: Server;
  readonly wss: WebSocketServer;
  readonly orders = new Map<string, AlpacaOrder>();
  readonly activities: unknown[] = [];
  clients: WebSocket[] = [];
  authorize = true;
  url = '';
  failDeletes = 0;
  deletes = 0;

  constructor() {
    this.http = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const u = new URL(req.url ?? '/', 'http://x');
        const send = (status: number, data: unknown): void => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(data));
        };
        if (u.pathname === '/v2/account') return send(200, { cash: '1000', currency: 'USD' });
        if (u.pathname === '/v2/clock') return send(200, { timestamp: '2024-01-03T14:00:00Z', is_open: true, next_open: '', next_close: '' });
        if (u.pathname === '/v2/account/activities/FILL') return send(200, u.searchParams.get('page_token') === null ? this.activities : []);
        if (u.pathname === '/v2/orders' && req.method === 'GET') return send(200, [...this.orders.values()].filter((o) => ['new', 'partially_filled', 'held'].includes(o.status)));
        if (u.pathname === '/v2/orders' && req.method === 'POST') {
          const b = JSON.parse(body) as { client_order_id: string; qty: string; limit_price?: string };
          const o = alpacaOrder({ id: `v-${this.orders.size + 1}`, client_order_id: b.client_order_id, qty: b.qty, limit_price: b.limit_price ?? null });
          this.orders.set(o.id, o);
          return send(200, o);
        }
        if (u.pathname === '/v2/orders:by_client_order_id') {
          const o = [...this.orders.values()].find((x) => x.client_order_id === u.searchParams.get('client_order_id'));
          return o === undefined ? send(404, { code: 40410000, message: 'order not found' }) : send(200, o);
        }
        const m = /^\/v2\/orders\/(.+)$/.exec(u.pathname);
        if (m !== null) {
          const o = this.orders.get(m[1] as string);
          if (o === undefined) return send(404, { code: 40410000, message: 'order not found' });
          if (req.method === 'DELETE' && ++this.deletes && this.failDeletes-- > 0) return send(503, { code: 50010000, message: 'unavailable' });
          if (req.method === 'DELETE') return o.status === 'filled' ? send(422, { code: 42210000, message: 'order is already in "filled" state' }) : (res.writeHead(204), res.end());
          return send(200, o);
        }
        return send(404, { code: 40410000, message: `no route ${u.pathname}` });
      });
    });
    this.wss = new WebSocketServer({ server: this.http });
    this.wss.on('connection', (ws) => {
      ws.on('message', (raw: WebSocket.RawData) => {
        const msg = JSON.parse(raw.toString()) as { action: string };
        if (msg.action === 'auth') ws.send(JSON.stringify({ stream: 'authorization', data: { status: this.authorize ? 'authorized' : 'unauthorized', action: 'authenticate' } }));
        if (msg.action === 'listen') {
          ws.send(JSON.stringify({ stream: 'listening', data: { streams: ['trade_updates'] } }));
          this.clients.push(ws);
        }
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((r) => this.http.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  push(update: TradeUpdate): void {
    for (const c of this.clients) if (c.readyState === WebSocket.OPEN) c.send(JSON.stringify({ stream: 'trade_updates', data: update }));
  }

  async stop(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
    this.http.closeAllConnections();
    await new Promise<void>((r) => this.http.close(() => r()));
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<{ fake: FakeAlpaca; venue: AlpacaVenue; events: VenueEvent[]; logs: string[] }> {
  const fake = new FakeAlpaca();
  await fake.start();
  const logs: string[] = [];
  const venue = new AlpacaVenue({
    baseUrl: fake.url,
    credentials: new AlpacaCredentials('KEYID', 'SECRETKEY'),
    clock: new LiveClock(),
    pingIntervalMs: 0,
    backoff: { baseNs: 10n * NS.ms, maxNs: 50n * NS.ms },
    logger: (level, event) => logs.push(`${level} ${event}`),
  });
  const events: VenueEvent[] = [];
  venue.onEvent((e) => events.push(e));
  cleanups.push(() => fake.stop(), () => venue.disconnect());
  await venue.connect();
  return { fake, venue, events, logs };
}

async function eventually(check: () => void): Promise<void> {
  const deadline = performance.now() + 5_000;
  for (;;) {
    try {
      check();
      return;
    } catch (e) {
      if (performance.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

const update = (event: TradeUpdate['event'], order: AlpacaOrder, extra: Partial<TradeUpdate> = {}): TradeUpdate => ({ event, timestamp: '2024-01-03T14:31:00.000000123Z', order, ...extra });

describe('AlpacaVenue trade update mapping (loopback fake)', () => {
  it('maps new, partial fills, fill, with one ack, exact decimals, nanosecond times and deduplication by execution id', async () => {
    const { fake, venue, events } = await setup();
    await venue.submit({ clientOrderId: clientOrderId('m-1'), symbol: 'SPY', side: 'Buy', type: 'Limit', quantity: Quantity.of('10'), limitPrice: Price.of('470.12'), timeInForce: 'GTC', tsInit: 0n });
    const o = fake.orders.get('v-1') as AlpacaOrder;
    fake.push(update('new', o));
    fake.push(update('partial_fill', { ...o, status: 'partially_filled', filled_qty: '2.5' }, { execution_id: 'e-1', price: '470.1000', qty: '2.5', position_qty: '2.5' }));
    fake.push(update('partial_fill', { ...o, status: 'partially_filled', filled_qty: '2.5' }, { execution_id: 'e-1', price: '470.1000', qty: '2.5', position_qty: '2.5' }));
    fake.push(update('fill', { ...o, status: 'filled', filled_qty: '10' }, { execution_id: 'e-2', price: '470.12', qty: '7.5', position_qty: '10' }));
    await eventually(() => expect(events.map((e) => e.kind)).toEqual(['accepted', 'filled', 'filled']));
    await venue.settled();
    const [acc, f1, f2] = events;
    expect(acc?.kind === 'accepted' && acc.venueOrderId).toBe('v-1');
    expect(f1?.kind === 'filled' && [f1.tradeId, f1.lastQty.toString(), f1.lastPx.toString(), f1.leavesQty.toString(), f1.commission.toString(), f1.tsEvent]).toEqual(['e-1', '2.5', '470.1000', '7.5', '0 USD', 1704292260000000123n]);
    expect(f2?.kind === 'filled' && [f2.tradeId, f2.leavesQty.toString(), f2.liquiditySide, f2.side, f2.symbol]).toEqual(['e-2', '0', 'Maker', 'Buy', 'SPY']);
    for (const e of events) expect(Object.isFrozen(e)).toBe(true);
  });

  it('maps canceled, expired, rejected and cancel/replace rejections, each end state once', async () => {
    const { fake, events } = await setup();
    const mk = (id: string, cid: string): AlpacaOrder => {
      const o = alpacaOrder({ id, client_order_id: cid });
      fake.orders.set(id, o);
      return o;
    };
    const a = mk('v-a', 'c-a');
    const b = mk('v-b', 'c-b');
    const c = mk('v-c', 'c-c');
    fake.push(update('new', a));
    fake.push(update('canceled', { ...a, status: 'canceled' }));
    fake.push(update('canceled', { ...a, status: 'canceled' }));
    fake.push(update('new', b));
    fake.push(update('done_for_day', { ...b, status: 'done_for_day' }));
    fake.push(update('rejected', { ...c, status: 'rejected' }));
    fake.push(update('order_cancel_rejected', c));
    fake.push(update('order_replace_rejected', c));
    fake.push(update('pending_cancel', c));
    await eventually(() => expect(events.length).toBe(7));
    await new Promise((r) => setTimeout(r, 50));
    expect(events.map((e) => `${e.kind}:${'clientOrderId' in e ? e.clientOrderId : ''}`)).toEqual([
      'accepted:c-a',
      'canceled:c-a',
      'accepted:c-b',
      'expired:c-b',
      'rejected:c-c',
      'cancel-rejected:c-c',
      'cancel-rejected:c-c',
    ]);
  });

  it('still emits a fill whose order snapshot reports more filled than ordered, with nothing left', async () => {
    const { fake, events } = await setup();
    const o = alpacaOrder({ id: 'v-x', client_order_id: 'c-x', qty: '5' });
    fake.orders.set(o.id, o);
    fake.push(update('fill', { ...o, status: 'filled', filled_qty: '6' }, { execution_id: 'e-x', price: '1', qty: '6' }));
    await eventually(() => expect(events.map((e) => e.kind)).toEqual(['accepted', 'filled']));
    expect(events[1]?.kind === 'filled' && events[1].leavesQty.isZero()).toBe(true);
  });

  it('answers a cancel of an unknown or filled order with cancel-rejected carrying the reason', async () => {
    const { fake, venue, events } = await setup();
    fake.orders.set('v-f', alpacaOrder({ id: 'v-f', client_order_id: 'c-f', status: 'filled', filled_qty: '10' }));
    await venue.cancel(clientOrderId('c-none'));
    await venue.cancel(clientOrderId('c-f'));
    expect(events.map((e) => (e.kind === 'cancel-rejected' ? `${e.clientOrderId}: ${e.reason}` : e.kind))).toEqual([
      'c-none: unknown order c-none: Alpaca has no order with this client order id',
      'c-f: [NotCancelable] DELETE /v2/orders/v-f refused by Alpaca (HTTP 422): order is already in "filled" state (code 42210000)',
    ]);
  });

  it('retries a cancel through 5xx answers and reports UnknownOutcome when every attempt failed', async () => {
    const { fake, venue, events } = await setup();
    fake.orders.set('v-w', alpacaOrder({ id: 'v-w', client_order_id: 'c-w' }));
    fake.failDeletes = 2;
    await venue.cancel(clientOrderId('c-w'));
    expect(fake.deletes).toBe(3);
    fake.failDeletes = 100;
    await expect(venue.cancel(clientOrderId('c-w'))).rejects.toThrow(/\[UnknownOutcome\] cancel of c-w may or may not have happened: DELETE \/v2\/orders\/v-w answered HTTP 503 4 times/);
    expect(fake.deletes).toBe(7);
    expect(events).toEqual([]);
  });

  it('refuses requests before connect and rejects a stream that refuses the keys', async () => {
    const fake = new FakeAlpaca();
    await fake.start();
    cleanups.push(() => fake.stop());
    fake.authorize = false;
    const v = new AlpacaVenue({ baseUrl: fake.url, credentials: new AlpacaCredentials('K', 'S'), clock: new LiveClock(), pingIntervalMs: 0 });
    await expect(v.orderReports()).rejects.toThrow(/\[NotConnected\] orderReports on the Alpaca venue before connect/);
    await expect(v.connect()).rejects.toThrow(/\[Unauthorized\] the Alpaca trading stream refused the keys/);
    await expect(v.submit({ clientOrderId: clientOrderId('x'), symbol: 'SPY', side: 'Buy', type: 'Market', quantity: Quantity.of('1'), timeInForce: 'GTC', tsInit: 0n })).rejects.toThrow(/NotConnected/);
    expect(() => new AlpacaVenue({ baseUrl: 'not a url', credentials: new AlpacaCredentials('K', 'S'), clock: new LiveClock() })).toThrow(/\[InvalidConfig\]/);
  });

  it('derives the stream URL and the execution id of a fill activity', () => {
    expect(defaultTradingStreamUrl('https://paper-api.alpaca.markets')).toBe('wss://paper-api.alpaca.markets/stream');
    expect(defaultTradingStreamUrl('http://127.0.0.1:8080/')).toBe('ws://127.0.0.1:8080/stream');
    expect(executionIdOfActivity('20240103143100000::8a8d-11')).toBe('8a8d-11');
    expect(executionIdOfActivity('plain-id')).toBe('plain-id');
  });
});
