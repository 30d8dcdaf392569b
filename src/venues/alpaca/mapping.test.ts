import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Price, Quantity } from '../../core/decimal.js';
import { clientOrderId } from '../../core/ids.js';
import { Money } from '../../core/money.js';
import { AlpacaCredentials, alpacaCredentialsFromEnv } from './credentials.js';
import { legClientOrderId, nsToRfc3339, reportStatusOf, rfc3339ToNs, toAlpacaOrderRequest, toOrderReport } from './mapping.js';
import { alpacaOrder } from './orders.fixture.js';


describe('mapping', () => {
  it('builds the POST body: client id, qty or notional, prices, bracket as order_class bracket', () => {
    const body = toAlpacaOrderRequest({
      clientOrderId: clientOrderId('e-1'),
      symbol: 'SPY',
      side: 'Buy',
      type: 'Limit',
      quantity: Quantity.of('2.50'),
      limitPrice: Price.of('470.10'),
      timeInForce: 'DAY',
      bracket: { takeProfit: Price.of('480'), stopLoss: Price.of('460.5') },
      tsInit: 0n,
    });
    expect(body).toEqual({
      symbol: 'SPY',
      side: 'buy',
      type: 'limit',
      time_in_force: 'day',
      client_order_id: 'e-1',
      qty: '2.50',
      limit_price: '470.10',
      order_class: 'bracket',
      take_profit: { limit_price: '480' },
      stop_loss: { stop_price: '460.5' },
    });
    const notional = toAlpacaOrderRequest({
      clientOrderId: clientOrderId('n-1'),
      symbol: 'AAPL',
      side: 'Sell',
      type: 'Market',
      quantity: Quantity.of('1'),
      notional: Money.of('1000.25', 'USD'),
      timeInForce: 'GTC',
      tsInit: 0n,
    });
    expect(notional).toEqual({ symbol: 'AAPL', side: 'sell', type: 'market', time_in_force: 'gtc', client_order_id: 'n-1', notional: '1000.25' });
  });

  it('maps an order to a report with exact decimals, nanosecond time and our ids', () => {
    const r = toOrderReport(alpacaOrder({ status: 'partially_filled', filled_qty: '3.5', filled_avg_price: '470.0100', qty: '10' }), clientOrderId('mine'), clientOrderId('parent'));
    expect(r.clientOrderId).toBe('mine');
    expect(r.parentClientOrderId).toBe('parent');
    expect(r.venueOrderId).toBe('v-1');
    expect(r.status).toBe('partially-filled');
    expect(r.quantity.toString()).toBe('10');
    expect(r.filledQty.toString()).toBe('3.5');
    expect(r.avgPx?.toString()).toBe('470.0100');
    expect(r.limitPrice?.toString()).toBe('470.12');
    expect(r.stopPrice).toBeUndefined();
    expect(r.type).toBe('Limit');
    expect(r.side).toBe('Buy');
    expect(r.tsLast).toBe(1704205800123456789n);
    expect(Object.isFrozen(r)).toBe(true);
  });

  it('maps every Alpaca status to one of ours', () => {
    expect(reportStatusOf('new', '0')).toBe('open');
    expect(reportStatusOf('accepted', '0')).toBe('open');
    expect(reportStatusOf('new', '1')).toBe('partially-filled');
    expect(reportStatusOf('pending_new', '0')).toBe('pending');
    expect(reportStatusOf('held', '0')).toBe('pending');
    expect(reportStatusOf('filled', '10')).toBe('filled');
    expect(reportStatusOf('canceled', '0')).toBe('canceled');
    expect(reportStatusOf('replaced', '0')).toBe('canceled');
    expect(reportStatusOf('done_for_day', '0')).toBe('expired');
    expect(reportStatusOf('expired', '0')).toBe('expired');
    expect(reportStatusOf('rejected', '0')).toBe('rejected');
    expect(reportStatusOf('pending_cancel', '0')).toBe('open');
  });

  it('names bracket legs <entry>-tp (limit) and <entry>-sl (stop)', () => {
    expect(legClientOrderId(clientOrderId('e'), alpacaOrder({ type: 'limit' }))).toBe('e-tp');
    expect(legClientOrderId(clientOrderId('e'), alpacaOrder({ type: 'stop' }))).toBe('e-sl');
    expect(legClientOrderId(clientOrderId('e'), alpacaOrder({ type: 'stop_limit' }))).toBe('e-sl');
  });

  it('round-trips RFC 3339 times at nanosecond resolution', () => {
    expect(rfc3339ToNs('2024-01-02T14:30:00Z')).toBe(1704205800000000000n);
    expect(rfc3339ToNs('2024-01-02T09:30:00.5-05:00')).toBe(1704205800500000000n);
    for (const ns of [0n, 1704205800000000001n, 1704205800123456789n, 1704205800100000000n]) expect(rfc3339ToNs(nsToRfc3339(ns))).toBe(ns);
    expect(() => rfc3339ToNs('yesterday')).toThrow(/RFC 3339/);
    expect(() => rfc3339ToNs('2024-01-02T14:30:00.Z')).toThrow(/RFC 3339/);
    expect(() => rfc3339ToNs('2024-13-02T14:30:00Z')).toThrow(/RFC 3339/);
  });

  it('parses every UTC form the fast path takes exactly as the general path', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 4_102_444_800_000_000_000n }), fc.integer({ min: 0, max: 9 }), (ns, keep) => {
        const full = nsToRfc3339(ns);
        const base = full.slice(0, 19);
        const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').slice(0, keep);
        const text = keep === 0 ? `${base}Z` : `${base}.${frac}Z`;
        const expected = (ns / 1_000_000_000n) * 1_000_000_000n + (keep === 0 ? 0n : BigInt(frac.padEnd(9, '0')));
        expect(rfc3339ToNs(text)).toBe(expected);
        expect(rfc3339ToNs(`${base}${keep === 0 ? '' : `.${frac}`}+00:00`)).toBe(expected);
      }),
      { numRuns: 500, seed: 3 },
    );
  });
});

describe('credentials', () => {
  const KEY = 'AKTESTKEYID123456789';
  const SECRET = 'sEcReT/VaLuE+0123456789abcdefghijklmnop';

  it('reads keys only from APCA_API_KEY_ID / APCA_API_SECRET_KEY and names the missing variable', () => {
    expect(() => alpacaCredentialsFromEnv({})).toThrow(/\[MissingCredentials\].*APCA_API_KEY_ID/);
    expect(() => alpacaCredentialsFromEnv({ APCA_API_KEY_ID: KEY })).toThrow(/APCA_API_SECRET_KEY/);
    expect(() => alpacaCredentialsFromEnv({ APCA_API_KEY_ID: ' ', APCA_API_SECRET_KEY: SECRET })).toThrow(/APCA_API_KEY_ID/);
    const c = alpacaCredentialsFromEnv({ APCA_API_KEY_ID: KEY, APCA_API_SECRET_KEY: SECRET });
    expect(c.headers()).toEqual({ 'APCA-API-KEY-ID': KEY, 'APCA-API-SECRET-KEY': SECRET });
    expect(c.streamAuth()).toEqual({ action: 'auth', key: KEY, secret: SECRET });
  });

  it('never shows the keys through toString, inspect, JSON or enumeration', () => {
    const c = new AlpacaCredentials(KEY, SECRET);
    const views = [
      String(c),
      `${c}`,
      inspect(c),
      inspect({ nested: { c } }, { depth: 10, showHidden: true }),
      JSON.stringify(c),
      JSON.stringify({ c }),
      Object.keys(c).join(','),
      JSON.stringify(Object.entries(c)),
    ];
    for (const v of views) {
      expect(v).not.toContain(KEY);
      expect(v).not.toContain(SECRET);
    }
    expect(c.redact(`bad key ${KEY} and ${SECRET}`)).toBe('bad key <redacted> and <redacted>');
  });
});

describe('endpoints from the environment', () => {
  it('defaults to the paper API and derives stream and data URLs, loopback servers serving everything', async () => {
    const { alpacaEndpointsFromEnv, alpacaOptionsFromEnv } = await import('./env.js');
    expect(alpacaEndpointsFromEnv({})).toEqual({
      baseUrl: 'https://paper-api.alpaca.markets',
      tradingStreamUrl: 'wss://paper-api.alpaca.markets/stream',
      dataUrl: 'https://data.alpaca.markets',
      dataStreamUrl: 'wss://stream.data.alpaca.markets/v2/iex',
      live: false,
    });
    expect(alpacaEndpointsFromEnv({ APCA_API_BASE_URL: 'http://127.0.0.1:8123' })).toEqual({
      baseUrl: 'http://127.0.0.1:8123',
      tradingStreamUrl: 'ws://127.0.0.1:8123/stream',
      dataUrl: 'http://127.0.0.1:8123',
      dataStreamUrl: 'ws://127.0.0.1:8123/v2/iex',
      live: false,
    });
    expect(alpacaEndpointsFromEnv({ APCA_API_BASE_URL: 'https://api.alpaca.markets' }).live).toBe(true);
    expect(alpacaEndpointsFromEnv({ APCA_API_BASE_URL: 'https://api.alpaca.markets', APCA_API_STREAM_URL: 'wss://x/stream' }).tradingStreamUrl).toBe('wss://x/stream');
    expect(() => alpacaEndpointsFromEnv({ APCA_API_BASE_URL: 'ftp://x' })).toThrow(/\[InvalidConfig\] APCA_API_BASE_URL="ftp:\/\/x" must use http: or https:/);
    expect(() => alpacaEndpointsFromEnv({ APCA_API_DATA_STREAM_URL: 'nope' })).toThrow(/APCA_API_DATA_STREAM_URL/);
    const { TestClock } = await import('../../core/clock.js');
    expect(() => alpacaOptionsFromEnv(new TestClock(), {})).toThrow(/APCA_API_KEY_ID/);
    const o = alpacaOptionsFromEnv(new TestClock(), { APCA_API_KEY_ID: 'k', APCA_API_SECRET_KEY: 's' });
    expect(o.venue.baseUrl).toBe('https://paper-api.alpaca.markets');
    expect(o.feed.credentials).toBe(o.venue.credentials);
  });
});
