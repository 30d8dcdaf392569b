import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlpacaAccount, AlpacaClock, AlpacaErrorBody, AlpacaFillActivity, AlpacaOrder, AlpacaPosition, HistoricalBarsResponse } from '../../venues/alpaca/protocol.js';
import { api, bar, start, tempDir, KEY, SECRET } from './harness.fixture.js';
import type { PaperServer } from './server.js';

let dir: { dir: string; cleanup: () => void };
let server: PaperServer;

beforeEach(async () => {
  dir = tempDir();
  server = await start(dir.dir, { fractional: true });
});

afterEach(async () => {
  await server.close();
  dir.cleanup();
});

const order = (over: Record<string, unknown> = {}): Record<string, unknown> => ({ symbol: 'SPY', qty: '10', side: 'buy', type: 'market', time_in_force: 'day', ...over });

async function expectError(method: string, path: string, body: unknown, status: number, fragment: string): Promise<void> {
  const r = await api(server.url, method, path, body);
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  const e = r.body as AlpacaErrorBody;
  expect(e.code).toBe(status * 100_000 + 10_000);
  expect(e.message).toContain(fragment);
}

describe('paper server REST', () => {
  it('places a market order that fills at the next bar open, with account, positions, fills and bars', async () => {
    await server.pushBars([bar(0, 100, 101, 99, 100.5)]);
    const placed = await api(server.url, 'POST', '/v2/orders', order({ client_order_id: 'my-1' }));
    expect(placed.status).toBe(200);
    const o = placed.body as AlpacaOrder;
    expect(o).toMatchObject({ client_order_id: 'my-1', symbol: 'SPY', qty: '10', filled_qty: '0', status: 'new', order_class: '', type: 'market', side: 'buy' });
    expect(o.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    await server.pushBars([bar(1, 100.25, 101, 99, 100.75)]);
    const got = (await api(server.url, 'GET', `/v2/orders/${o.id}`)).body as AlpacaOrder;
    expect(got).toMatchObject({ status: 'filled', filled_qty: '10', filled_avg_price: '100.25', filled_at: '2024-01-02T14:31:00.000Z' });
    const byCid = await api(server.url, 'GET', '/v2/orders:by_client_order_id?client_order_id=my-1');
    expect((byCid.body as AlpacaOrder).id).toBe(o.id);

    const acct = (await api(server.url, 'GET', '/v2/account')).body as AlpacaAccount;
    // cash 100000 - 10 x 100.25; the position is valued at the last close 100.75; buying power 2 x equity - long value
    expect(acct).toMatchObject({ cash: '98997.5', long_market_value: '1007.5', equity: '100005', multiplier: '2', buying_power: '199002.5', status: 'ACTIVE', currency: 'USD' });
    const pos = (await api(server.url, 'GET', '/v2/positions')).body as AlpacaPosition[];
    expect(pos).toEqual([
      expect.objectContaining({ symbol: 'SPY', qty: '10', side: 'long', avg_entry_price: '100.25', market_value: '1007.5', cost_basis: '1002.5', unrealized_pl: '5', current_price: '100.75' }),
    ]);
    expect((await api(server.url, 'GET', '/v2/positions/SPY')).status).toBe(200);

    const fills = (await api(server.url, 'GET', '/v2/account/activities/FILL?direction=asc')).body as AlpacaFillActivity[];
    expect(fills).toHaveLength(1);
    expect(fills[0]).toMatchObject({ activity_type: 'FILL', type: 'fill', price: '100.25', qty: '10', side: 'buy', symbol: 'SPY', order_id: o.id, cum_qty: '10', leaves_qty: '0', order_status: 'filled' });

    const bars = (await api(server.url, 'GET', '/v2/stocks/bars?symbols=SPY&timeframe=1Min')).body as HistoricalBarsResponse;
    expect(bars.bars.SPY).toEqual([
      { t: '2024-01-02T14:30:00Z', o: 100, h: 101, l: 99, c: 100.5, v: 1000 },
      { t: '2024-01-02T14:31:00Z', o: 100.25, h: 101, l: 99, c: 100.75, v: 1000 },
    ]);
    expect(bars.next_page_token).toBeNull();
    const page1 = (await api(server.url, 'GET', '/v2/stocks/bars?symbols=SPY&timeframe=1Min&limit=1')).body as HistoricalBarsResponse;
    expect(page1.bars.SPY).toHaveLength(1);
    const page2 = (await api(server.url, 'GET', `/v2/stocks/bars?symbols=SPY&timeframe=1Min&limit=1&page_token=${page1.next_page_token ?? ''}`)).body as HistoricalBarsResponse;
    expect(page2.bars.SPY?.[0]?.t).toBe('2024-01-02T14:31:00Z');
    expect(page2.next_page_token).toBeNull();

    // the Alpaca view equals the simulated venue's own books
    const venueCash = (await api(server.url, 'GET', '/admin/status')).body as { cash: string };
    expect(venueCash.cash).toBe('98997.5');
  });

  it('serves the clock and calendar from the replay time and the XNYS calendar', async () => {
    await server.pushBars([bar(0, 100, 101, 99, 100.5)]);
    const clock = (await api(server.url, 'GET', '/v2/clock')).body as AlpacaClock;
    expect(clock).toEqual({ timestamp: '2024-01-02T14:31:00.000Z', is_open: true, next_open: '2024-01-03T14:30:00Z', next_close: '2024-01-02T21:00:00Z' });
    const cal = (await api(server.url, 'GET', '/v2/calendar?start=2024-07-01&end=2024-07-05')).body as { date: string; close: string }[];
    // July 3 closes early, July 4 is a holiday
    expect(cal.map((d) => `${d.date} ${d.close}`)).toEqual(['2024-07-01 16:00', '2024-07-02 16:00', '2024-07-03 13:00', '2024-07-05 16:00']);
    await expectError('GET', '/v2/calendar?start=2024-13-01', undefined, 422, 'start');
  });

  it('lists open and closed orders, nested brackets, and cancels', async () => {
    await server.pushBars([bar(0, 100, 101, 99, 100.5)]);
    const limit = (await api(server.url, 'POST', '/v2/orders', order({ type: 'limit', limit_price: '90', time_in_force: 'gtc' }))).body as AlpacaOrder;
    const bracket = (await api(server.url, 'POST', '/v2/orders', order({ type: 'limit', limit_price: '95', order_class: 'bracket', take_profit: { limit_price: '110' }, stop_loss: { stop_price: '90' } })))
      .body as AlpacaOrder;
    expect(bracket.legs).toHaveLength(2);
    expect(bracket.legs?.map((l) => [l.type, l.side, l.status, l.limit_price ?? l.stop_price])).toEqual([
      ['limit', 'sell', 'held', '110'],
      ['stop', 'sell', 'held', '90'],
    ]);
    const flat = (await api(server.url, 'GET', '/v2/orders')).body as AlpacaOrder[];
    expect(flat).toHaveLength(4);
    const nested = (await api(server.url, 'GET', '/v2/orders?status=open&nested=true&direction=asc')).body as AlpacaOrder[];
    expect(nested.map((o) => o.id)).toEqual([limit.id, bracket.id]);
    expect(nested[1]?.legs).toHaveLength(2);

    expect((await api(server.url, 'DELETE', `/v2/orders/${limit.id}`)).status).toBe(204);
    await expectError('DELETE', `/v2/orders/${limit.id}`, undefined, 422, 'not cancelable');
    // cancelling a held leg cancels the whole group
    const legId = bracket.legs?.[0]?.id ?? '';
    expect((await api(server.url, 'DELETE', `/v2/orders/${legId}`)).status).toBe(204);
    const after = (await api(server.url, 'GET', `/v2/orders/${bracket.id}?nested=true`)).body as AlpacaOrder;
    expect([after.status, ...(after.legs ?? []).map((l) => l.status)]).toEqual(['canceled', 'canceled', 'canceled']);
    expect((await api(server.url, 'GET', '/v2/orders?status=open')).body).toEqual([]);
    const closed = (await api(server.url, 'GET', '/v2/orders?status=closed&limit=2')).body as AlpacaOrder[];
    expect(closed).toHaveLength(2);

    const a = (await api(server.url, 'POST', '/v2/orders', order({ type: 'limit', limit_price: '80' }))).body as AlpacaOrder;
    const b = (await api(server.url, 'POST', '/v2/orders', order({ type: 'stop', stop_price: '120' }))).body as AlpacaOrder;
    const all = await api(server.url, 'DELETE', '/v2/orders');
    expect(all.status).toBe(207);
    expect((all.body as { id: string; status: number }[]).map((x) => [x.id, x.status]).sort()).toEqual([[a.id, 200], [b.id, 200]].sort());
    expect(((await api(server.url, 'GET', `/v2/orders/${b.id}`)).body as AlpacaOrder).status).toBe('canceled');
  });

  it('fills notional and fractional orders', async () => {
    await server.pushBars([bar(0, 100, 101, 99, 100)]);
    const n = (await api(server.url, 'POST', '/v2/orders', order({ qty: undefined, notional: '1000' }))).body as AlpacaOrder;
    const f = (await api(server.url, 'POST', '/v2/orders', order({ qty: '0.5' }))).body as AlpacaOrder;
    expect(n).toMatchObject({ notional: '1000', qty: null });
    await server.pushBars([bar(1, 125, 126, 124, 125)]);
    expect((await api(server.url, 'GET', `/v2/orders/${n.id}`)).body).toMatchObject({ status: 'filled', filled_qty: '8', qty: '8', filled_avg_price: '125' });
    expect((await api(server.url, 'GET', `/v2/orders/${f.id}`)).body).toMatchObject({ status: 'filled', filled_qty: '0.5' });
    const pos = (await api(server.url, 'GET', '/v2/positions/SPY')).body as AlpacaPosition;
    expect(pos.qty).toBe('8.5');
  });

  it('answers 401 without keys and 403 with wrong keys, on REST and admin alike', async () => {
    for (const path of ['/v2/account', '/admin/status']) {
      const none = await api(server.url, 'GET', path, undefined, {});
      expect(none.status).toBe(401);
      expect(none.body).toEqual({ code: 40110000, message: 'request is not authorized' });
      const half = await api(server.url, 'GET', path, undefined, { key: KEY });
      expect(half.status).toBe(401);
      const wrong = await api(server.url, 'GET', path, undefined, { key: KEY, secret: `${SECRET}x` });
      expect(wrong.status).toBe(403);
      expect((wrong.body as AlpacaErrorBody).code).toBe(40310000);
      expect(JSON.stringify(wrong.body)).not.toContain(SECRET);
    }
  });

  it('answers 403 for insufficient buying power', async () => {
    await server.pushBars([bar(0, 100, 101, 99, 100)]);
    // margin 2x: 100000 equity buys about 200000 at the last close
    await expectError('POST', '/v2/orders', order({ qty: '2001' }), 403, 'insufficient buying power');
    expect((await api(server.url, 'POST', '/v2/orders', order({ qty: '1500' }))).status).toBe(200);
    // the open order holds buying power
    await expectError('POST', '/v2/orders', order({ qty: '600' }), 403, 'insufficient buying power');
    await expectError('POST', '/v2/orders', order({ qty: undefined, notional: '60000' }), 403, 'insufficient buying power');
    // selling does not need buying power up to the long position, shorting does
    expect((await api(server.url, 'POST', '/v2/orders', order({ side: 'sell', qty: '400' }))).status).toBe(200);
  });

  it('answers 404 for unknown orders, endpoints and positions', async () => {
    await expectError('GET', '/v2/orders/00000000-0000-4000-8000-000000000000', undefined, 404, 'order not found');
    await expectError('DELETE', '/v2/orders/nope', undefined, 404, 'order not found');
    await expectError('GET', '/v2/orders:by_client_order_id?client_order_id=nope', undefined, 404, 'order not found');
    await expectError('GET', '/v2/positions/SPY', undefined, 404, 'position does not exist');
    await expectError('GET', '/v2/assets', undefined, 404, 'endpoint not found');
    await expectError('PUT', '/v2/orders', undefined, 405, 'not allowed');
  });

  it('answers 422 naming the field for every invalid order body', async () => {
    const cases: [Record<string, unknown> | string, string][] = [
      ['{not json', 'not valid JSON'],
      [order({ extra: 1 }), 'unknown field "extra"'],
      [order({ type: 'trailing_stop' }), 'invalid type'],
      [order({ side: 'short' }), 'invalid side'],
      [order({ time_in_force: 'forever' }), 'invalid time_in_force'],
      [order({ time_in_force: 'opg' }), 'not supported'],
      [order({ qty: '1e3' }), 'invalid qty'],
      [order({ qty: '-5' }), 'invalid qty'],
      [order({ qty: '0' }), 'invalid qty: must be positive'],
      [order({ qty: '1.0000000001' }), 'invalid qty'],
      [order({ qty: '10', notional: '100' }), 'qty and notional cannot both be given'],
      [order({ qty: undefined }), 'qty or notional is required'],
      [order({ qty: undefined, notional: '100', type: 'limit', limit_price: '100' }), 'invalid notional'],
      [order({ qty: undefined, notional: '100.001' }), 'invalid notional'],
      [order({ qty: '0.5', time_in_force: 'gtc' }), 'invalid time_in_force'],
      [order({ type: 'limit' }), 'limit_price is required'],
      [order({ limit_price: '100' }), 'invalid limit_price'],
      [order({ type: 'stop' }), 'stop_price is required'],
      [order({ type: 'limit', limit_price: '100.001' }), 'sub-penny'],
      [order({ type: 'limit', limit_price: 'abc' }), 'invalid limit_price'],
      [order({ symbol: 'spy' }), 'invalid symbol'],
      [order({ symbol: undefined }), 'symbol is required'],
      [order({ symbol: 'QQQ' }), 'asset "QQQ" not found'],
      [order({ client_order_id: '' }), 'invalid client_order_id'],
      [order({ extended_hours: 'yes' }), 'invalid extended_hours'],
      [order({ order_class: 'oco' }), 'invalid order_class'],
      [order({ order_class: 'bracket' }), 'take_profit is required'],
      [order({ order_class: 'bracket', take_profit: { limit_price: '110' } }), 'stop_loss is required'],
      [order({ order_class: 'bracket', take_profit: { limit_price: '90' }, stop_loss: { stop_price: '95' } }), 'invalid take_profit.limit_price'],
      [order({ order_class: 'bracket', take_profit: { limit_price: '110' }, stop_loss: { stop_price: '95', limit_price: '94' } }), 'invalid stop_loss.limit_price'],
      [order({ order_class: 'bracket', take_profit: { limit_price: '110', x: 1 }, stop_loss: { stop_price: '95' } }), 'take_profit.x'],
      [order({ take_profit: { limit_price: '110' } }), 'invalid take_profit'],
      [order({ order_class: 'bracket', type: 'limit', limit_price: '120', take_profit: { limit_price: '110' }, stop_loss: { stop_price: '95' } }), 'either side'],
      [[] as unknown as Record<string, unknown>, 'JSON object'],
    ];
    for (const [body, fragment] of cases) await expectError('POST', '/v2/orders', body, 422, fragment);
    // nothing was placed
    expect((await api(server.url, 'GET', '/v2/orders?status=all')).body).toEqual([]);
  });

  it('answers 422 for a duplicate client_order_id and bad query parameters', async () => {
    expect((await api(server.url, 'POST', '/v2/orders', order({ client_order_id: 'dup' }))).status).toBe(200);
    await expectError('POST', '/v2/orders', order({ client_order_id: 'dup' }), 422, 'client_order_id must be unique');
    // the submission log names it (what the live crash test relies on to prove no id was sent twice)
    expect(((await api(server.url, 'GET', '/admin/status')).body as { resubmitted_client_order_ids: string[] }).resubmitted_client_order_ids).toEqual(['dup']);
    await expectError('GET', '/v2/orders?status=maybe', undefined, 422, 'invalid status');
    await expectError('GET', '/v2/orders?limit=0', undefined, 422, 'invalid limit');
    await expectError('GET', '/v2/orders?after=yesterday', undefined, 422, 'invalid after');
    await expectError('GET', '/v2/account/activities/FILL?page_token=zzz', undefined, 422, 'invalid page_token');
    await expectError('GET', '/v2/stocks/bars?symbols=SPY&timeframe=1Hour', undefined, 422, 'invalid timeframe');
    await expectError('GET', '/v2/stocks/bars?timeframe=1Min', undefined, 422, 'symbols is required');
  });

  it('pages fill activities after a token and after a time', async () => {
    await server.pushBars([bar(0, 100, 101, 99, 100)]);
    for (let i = 0; i < 3; i++) await api(server.url, 'POST', '/v2/orders', order({ qty: '1' }));
    await server.pushBars([bar(1, 100, 101, 99, 100)]);
    await api(server.url, 'POST', '/v2/orders', order({ qty: '2', side: 'sell' }));
    await server.pushBars([bar(2, 100, 101, 99, 100)]);
    const all = (await api(server.url, 'GET', '/v2/account/activities/FILL?direction=asc')).body as AlpacaFillActivity[];
    expect(all.map((f) => f.qty)).toEqual(['1', '1', '1', '2']);
    const p1 = (await api(server.url, 'GET', '/v2/account/activities/FILL?direction=asc&page_size=2')).body as AlpacaFillActivity[];
    const p2 = (await api(server.url, 'GET', `/v2/account/activities/FILL?direction=asc&page_size=2&page_token=${encodeURIComponent(p1[1]?.id ?? '')}`)).body as AlpacaFillActivity[];
    expect([...p1, ...p2].map((f) => f.id)).toEqual(all.map((f) => f.id));
    const later = (await api(server.url, 'GET', '/v2/account/activities/FILL?after=2024-01-02T14:31:30Z')).body as AlpacaFillActivity[];
    expect(later.map((f) => f.side)).toEqual(['sell']);
    const desc = (await api(server.url, 'GET', '/v2/account/activities/FILL')).body as AlpacaFillActivity[];
    expect(desc.map((f) => f.id)).toEqual([...all].reverse().map((f) => f.id));
  });

  it('limits each key to its requests per minute with X-RateLimit headers, then 429', async () => {
    await server.close();
    server = await start(dir.dir, { rateLimitPerMin: 5 });
    const seen: [number, string | null][] = [];
    for (let i = 0; i < 6; i++) {
      const r = await api(server.url, 'GET', '/v2/clock');
      seen.push([r.status, r.headers.get('x-ratelimit-remaining')]);
      expect(r.headers.get('x-ratelimit-limit')).toBe('5');
      expect(Number(r.headers.get('x-ratelimit-reset'))).toBeGreaterThan(1_600_000_000);
    }
    expect(seen).toEqual([
      [200, '4'],
      [200, '3'],
      [200, '2'],
      [200, '1'],
      [200, '0'],
      [429, '0'],
    ]);
    const limited = await api(server.url, 'GET', '/v2/account');
    expect(limited.body).toEqual({ code: 42910000, message: 'too many requests' });
    // admin endpoints are not limited
    expect((await api(server.url, 'GET', '/admin/status')).status).toBe(200);
  });

  it('applies venue-side position changes from /admin/position without moving cash', async () => {
    await server.pushBars([bar(0, 100, 101, 99, 100)]);
    const r = await api(server.url, 'POST', '/admin/position', { symbol: 'SPY', qty_delta: '5', price: '99' });
    expect(r.body).toEqual({ symbol: 'SPY', qty: '5' });
    expect(((await api(server.url, 'GET', '/v2/positions/SPY')).body as AlpacaPosition).avg_entry_price).toBe('99');
    expect(((await api(server.url, 'GET', '/v2/account')).body as AlpacaAccount).cash).toBe('100000');
    await expectError('POST', '/admin/position', { symbol: 'SPY', qty_delta: 'x' }, 422, 'qty_delta');
  });
});
