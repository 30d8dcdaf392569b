import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlpacaOrder, TradeUpdate } from '../../venues/alpaca/protocol.js';
import { api, bar, eventsOf, start, tempDir, tradingClient, StreamClient, KEY, SECRET } from './harness.fixture.js';
import type { PaperServer } from './server.js';

let dir: { dir: string; cleanup: () => void };
let server: PaperServer;
const clients: StreamClient[] = [];

beforeEach(async () => {
  dir = tempDir();
  server = await start(dir.dir, { symbols: ['SPY', 'QQQ'] });
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server.close();
  dir.cleanup();
});

function updates(c: StreamClient): TradeUpdate[] {
  return (c.messages as { stream?: string; data: TradeUpdate }[]).filter((m) => m.stream === 'trade_updates').map((m) => m.data);
}

describe('trading stream', () => {
  it('authorizes with both the auth and authenticate forms and refuses wrong keys', async () => {
    const a = new StreamClient(server.tradingStreamUrl);
    const b = new StreamClient(server.tradingStreamUrl);
    const bad = new StreamClient(server.tradingStreamUrl);
    clients.push(a, b, bad);
    await Promise.all([a.open(), b.open(), bad.open()]);
    a.send({ action: 'listen', data: { streams: ['trade_updates'] } });
    await a.until((ms) => ms.length === 1);
    expect(a.messages[0]).toEqual({ stream: 'listening', data: { streams: [], error: 'not authenticated' } });
    a.send({ action: 'auth', key: KEY, secret: SECRET });
    b.send({ action: 'authenticate', data: { key_id: KEY, secret_key: SECRET } });
    bad.send({ action: 'auth', key: KEY, secret: 'nope' });
    const authorized = { stream: 'authorization', data: { status: 'authorized', action: 'authenticate' } };
    await a.until((ms) => ms.length === 2);
    await b.until((ms) => ms.length === 1);
    expect(a.messages[1]).toEqual(authorized);
    expect(b.messages[0]).toEqual(authorized);
    await bad.until((ms) => ms.length === 1);
    expect(bad.messages[0]).toEqual({ stream: 'authorization', data: { status: 'unauthorized', action: 'authenticate' } });
    await bad.until(() => bad.closed);
    b.send({ action: 'listen', data: { streams: ['trade_updates'] } });
    await b.until((ms) => ms.length === 2);
    expect(b.messages[1]).toEqual({ stream: 'listening', data: { streams: ['trade_updates'] } });
  });

  it('sends the event sequence of a bracket order: new, fill, legs new, take-profit fill, stop-loss canceled', async () => {
    const c = await tradingClient(server.tradingStreamUrl);
    clients.push(c);
    await server.pushBars([bar(0, 100, 101, 99, 100)]);
    const placed = (
      await api(server.url, 'POST', '/v2/orders', {
        symbol: 'SPY',
        qty: '10',
        side: 'buy',
        type: 'market',
        time_in_force: 'gtc',
        order_class: 'bracket',
        take_profit: { limit_price: '105' },
        stop_loss: { stop_price: '95' },
      })
    ).body as AlpacaOrder;
    const [tp, sl] = placed.legs ?? [];
    await server.pushBars([bar(1, 100.5, 101, 100, 100.8)]);
    await server.pushBars([bar(2, 101, 106, 100.5, 105.5)]);
    await c.until((ms) => eventsOf(ms).length === 6);
    const seq = updates(c).map((u) => [u.order.id === placed.id ? 'entry' : u.order.id === tp?.id ? 'tp' : u.order.id === sl?.id ? 'sl' : u.order.id, u.event]);
    expect(seq).toEqual([
      ['entry', 'new'],
      ['entry', 'fill'],
      ['sl', 'new'],
      ['tp', 'new'],
      ['tp', 'fill'],
      ['sl', 'canceled'],
    ]);
    const [, entryFill, , , tpFill] = updates(c);
    expect(entryFill).toMatchObject({ price: '100.5', qty: '10', position_qty: '10', timestamp: '2024-01-02T14:31:00.000Z' });
    expect(entryFill?.execution_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(entryFill?.order).toMatchObject({ status: 'filled', filled_qty: '10', filled_avg_price: '100.5' });
    expect(tpFill).toMatchObject({ price: '105', qty: '10', position_qty: '0' });
    expect(tpFill?.execution_id).not.toBe(entryFill?.execution_id);
    expect(tpFill?.order).toMatchObject({ side: 'sell', type: 'limit', status: 'filled' });
  });

  it('sends canceled and expired updates (a day order expires at the next session)', async () => {
    const c = await tradingClient(server.tradingStreamUrl);
    clients.push(c);
    await server.pushBars([bar(0, 100, 101, 99, 100)]);
    const day = (await api(server.url, 'POST', '/v2/orders', { symbol: 'SPY', qty: '1', side: 'buy', type: 'limit', limit_price: '50', time_in_force: 'day' })).body as AlpacaOrder;
    const gtc = (await api(server.url, 'POST', '/v2/orders', { symbol: 'SPY', qty: '1', side: 'buy', type: 'limit', limit_price: '50', time_in_force: 'gtc' })).body as AlpacaOrder;
    await api(server.url, 'DELETE', `/v2/orders/${gtc.id}`);
    await server.pushBars([bar(24 * 60, 100, 101, 99, 100)]);
    await c.until((ms) => eventsOf(ms).length === 4);
    expect(eventsOf(c.messages, day.id)).toEqual(['new', 'expired']);
    expect(eventsOf(c.messages, gtc.id)).toEqual(['new', 'canceled']);
  });
  it('replaces an order (PATCH): replaced for the old order, new for the new one, which then fills', async () => {
    const c = await tradingClient(server.tradingStreamUrl);
    clients.push(c);
    await server.pushBars([bar(0, 100, 101, 99, 100)]);
    const first = (await api(server.url, 'POST', '/v2/orders', { symbol: 'SPY', qty: '2', side: 'buy', type: 'limit', limit_price: '90', time_in_force: 'gtc' })).body as AlpacaOrder;
    const r = await api(server.url, 'PATCH', `/v2/orders/${first.id}`, { limit_price: '99.5', qty: '3', client_order_id: 'second' });
    expect(r.status).toBe(200);
    const second = r.body as AlpacaOrder;
    expect(second).toMatchObject({ client_order_id: 'second', replaces: first.id, qty: '3', limit_price: '99.5', status: 'new' });
    expect((await api(server.url, 'GET', `/v2/orders/${first.id}`)).body).toMatchObject({ status: 'replaced', replaced_by: second.id });
    expect((await api(server.url, 'PATCH', `/v2/orders/${first.id}`, { limit_price: '98' })).status).toBe(422);
    expect((await api(server.url, 'PATCH', `/v2/orders/${second.id}`, { time_in_force: 'day' })).status).toBe(422);
    expect((await api(server.url, 'PATCH', `/v2/orders/${second.id}`, { stop_price: '98' })).status).toBe(422);
    await server.pushBars([bar(1, 100, 101, 99, 100)]);
    await c.until((ms) => eventsOf(ms).length === 4);
    expect(eventsOf(c.messages, first.id)).toEqual(['new', 'replaced']);
    expect(eventsOf(c.messages, second.id)).toEqual(['new', 'fill']);
    expect((await api(server.url, 'GET', `/v2/orders/${second.id}`)).body).toMatchObject({ status: 'filled', filled_qty: '3', filled_avg_price: '99.5' });
  });
});

describe('market data stream', () => {
  it('connects, authenticates, subscribes and receives minute bars as arrays; errors per protocol', async () => {
    const d = new StreamClient(server.dataStreamUrl);
    clients.push(d);
    await d.open();
    await d.until((ms) => ms.length === 1);
    expect(d.messages[0]).toEqual([{ T: 'success', msg: 'connected' }]);
    d.send({ action: 'subscribe', bars: ['SPY'] });
    await d.until((ms) => ms.length === 2);
    expect(d.messages[1]).toEqual([{ T: 'error', code: 401, msg: 'not authenticated' }]);
    d.send({ action: 'auth', key: KEY, secret: 'wrong' });
    await d.until((ms) => ms.length === 3);
    expect(d.messages[2]).toEqual([{ T: 'error', code: 402, msg: 'auth failed' }]);
    d.ws.send('{nope');
    await d.until((ms) => ms.length === 4);
    expect(d.messages[3]).toEqual([{ T: 'error', code: 400, msg: 'invalid syntax' }]);
    d.send({ action: 'auth', key: KEY, secret: SECRET });
    await d.until((ms) => ms.length === 5);
    expect(d.messages[4]).toEqual([{ T: 'success', msg: 'authenticated' }]);
    d.send({ action: 'auth', key: KEY, secret: SECRET });
    await d.until((ms) => ms.length === 6);
    expect(d.messages[5]).toEqual([{ T: 'error', code: 403, msg: 'already authenticated' }]);
    d.send({ action: 'subscribe', bars: ['SPY'] });
    await d.until((ms) => ms.length === 7);
    expect(d.messages[6]).toEqual([{ T: 'subscription', trades: [], quotes: [], bars: ['SPY'] }]);
    await server.pushBars([bar(0, 100, 101, 99, 100.5), bar(0, 300, 301, 299, 300.5, 'QQQ')]);
    await d.until((ms) => ms.length === 8);
    expect(d.messages[7]).toEqual([{ T: 'b', S: 'SPY', o: 100, h: 101, l: 99, c: 100.5, v: 1000, t: '2024-01-02T14:30:00Z' }]);
    d.send({ action: 'subscribe', bars: ['*'] });
    await d.until((ms) => ms.length === 9);
    await server.pushBars([bar(1, 100, 101, 99, 100.5), bar(1, 300, 301, 299, 300.5, 'QQQ')]);
    await d.until((ms) => ms.length === 10);
    expect((d.messages[9] as { S: string }[]).map((b) => b.S)).toEqual(['SPY', 'QQQ']);
  });

  it('fills resting orders before it publishes the bar that filled them', async () => {
    const c = await tradingClient(server.tradingStreamUrl);
    clients.push(c);
    const d = new StreamClient(server.dataStreamUrl);
    clients.push(d);
    await d.open();
    d.send({ action: 'auth', key: KEY, secret: SECRET });
    d.send({ action: 'subscribe', bars: ['SPY'] });
    await d.until((ms) => ms.length === 3);
    await server.pushBars([bar(0, 100, 101, 99, 100)]);
    await api(server.url, 'POST', '/v2/orders', { symbol: 'SPY', qty: '1', side: 'buy', type: 'market', time_in_force: 'day' });
    const order: string[] = [];
    c.ws.on('message', () => order.push('fill'));
    d.ws.on('message', () => order.push('bar'));
    await server.pushBars([bar(1, 100, 101, 99, 100)]);
    await d.until(() => order.length === 2);
    expect(order).toEqual(['fill', 'bar']);
  });
});
