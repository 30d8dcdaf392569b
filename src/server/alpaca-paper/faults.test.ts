import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlpacaOrder } from '../../venues/alpaca/protocol.js';
import { CHAOS_FAULTS, NO_FAULTS, parseFaultSpec } from './faults.js';
import { api, bar, eventsOf, start, tempDir, tradingClient } from './harness.fixture.js';

let dirs: { dir: string; cleanup: () => void }[] = [];

beforeEach(() => {
  dirs = [];
});

afterEach(() => {
  for (const d of dirs) d.cleanup();
});

function newDir(): string {
  const d = tempDir();
  dirs.push(d);
  return d.dir;
}

/** Runs one fixed request sequence against a fresh server; returns the REST statuses and the trade update events seen. */
async function scenario(faults: string, seed: number): Promise<{ statuses: number[]; events: string[] }> {
  const s = await start(newDir(), { faults, seed, rateLimitPerMin: 100_000 });
  const c = await tradingClient(s.tradingStreamUrl);
  const statuses: number[] = [];
  await s.pushBars([bar(0, 100, 101, 99, 100)]);
  for (let i = 0; i < 30; i++) {
    statuses.push((await api(s.url, 'GET', '/v2/clock')).status);
    const r = await api(s.url, 'POST', '/v2/orders', { symbol: 'SPY', qty: '1', side: 'buy', type: 'market', time_in_force: 'day', client_order_id: `o${i}` });
    statuses.push(r.status);
    if (i % 3 === 2) await s.pushBars([bar(1 + i, 100, 101, 99, 100)]);
  }
  await s.pushBars([bar(40, 100, 101, 99, 100)]);
  await new Promise((r) => setTimeout(r, 100));
  const events = (c.messages as { stream?: string; data?: { event: string; order: { client_order_id: string } } }[])
    .filter((m) => m.stream === 'trade_updates')
    .map((m) => `${m.data?.order.client_order_id ?? ''}:${m.data?.event ?? ''}`);
  c.close();
  await s.close();
  return { statuses, events };
}

describe('fault spec', () => {
  it('parses items, the chaos preset and overrides; refuses unknown names and bad values', () => {
    expect(parseFaultSpec(undefined)).toEqual(NO_FAULTS);
    expect(parseFaultSpec('drop=0.05,delay_ms=200,r429=0.05,r5xx_placed=0.05,ack_after_fill=0.1,disconnect=0.01')).toEqual({
      drop: 0.05,
      delayMs: 200,
      r429: 0.05,
      r5xxPlaced: 0.05,
      ackAfterFill: 0.1,
      disconnect: 0.01,
    });
    expect(parseFaultSpec('chaos')).toEqual(CHAOS_FAULTS);
    expect(parseFaultSpec('chaos,drop=0')).toEqual({ ...CHAOS_FAULTS, drop: 0 });
    expect(() => parseFaultSpec('explode=1')).toThrow(/unknown fault "explode"/);
    expect(() => parseFaultSpec('drop=1.5')).toThrow(/probability/);
    expect(() => parseFaultSpec('drop')).toThrow(/probability/);
    expect(() => parseFaultSpec('delay_ms=0.5')).toThrow(/delay_ms/);
  });
});

describe('seeded faults', () => {
  it('give the same fault sequence for the same seed and request sequence, another for another seed', async () => {
    const spec = 'r429=0.2,drop=0.3,r5xx_placed=0.2';
    const a = await scenario(spec, 11);
    const b = await scenario(spec, 11);
    const c = await scenario(spec, 12);
    expect(a).toEqual(b);
    expect(a.statuses).toContain(429);
    expect(a.statuses).toContain(500);
    expect(a.statuses).toContain(200);
    expect(c.statuses).not.toEqual(a.statuses);
    // drops happened: fewer updates than without faults for the same accepted orders
    const clean = await scenario('', 11);
    expect(clean.statuses.every((x) => x === 200)).toBe(true);
    expect(clean.events).toHaveLength(60);
    expect(a.events.length).toBeLessThan(2 * a.statuses.filter((x, i) => i % 2 === 1 && x !== 429).length);
  });

  it('r5xx_placed answers 500 although the order is placed', async () => {
    const s = await start(newDir(), { faults: 'r5xx_placed=1' });
    const r = await api(s.url, 'POST', '/v2/orders', { symbol: 'SPY', qty: '1', side: 'buy', type: 'market', time_in_force: 'day', client_order_id: 'placed' });
    expect(r.status).toBe(500);
    expect(r.body).toEqual({ code: 50010000, message: 'internal server error' });
    const q = await api(s.url, 'GET', '/v2/orders:by_client_order_id?client_order_id=placed');
    expect(q.status).toBe(200);
    expect((q.body as AlpacaOrder).status).toBe('new');
    await s.close();
  });

  it('ack_after_fill sends new after the fill; disconnect closes the socket; delay keeps the order', async () => {
    let s = await start(newDir(), { faults: 'ack_after_fill=1' });
    let c = await tradingClient(s.tradingStreamUrl);
    await s.pushBars([bar(0, 100, 101, 99, 100)]);
    const o = (await api(s.url, 'POST', '/v2/orders', { symbol: 'SPY', qty: '1', side: 'buy', type: 'market', time_in_force: 'day' })).body as AlpacaOrder;
    await s.pushBars([bar(1, 100, 101, 99, 100)]);
    await c.until((ms) => eventsOf(ms).length === 2);
    expect(eventsOf(c.messages, o.id)).toEqual(['fill', 'new']);
    c.close();
    await s.close();

    s = await start(newDir(), { faults: 'disconnect=1' });
    c = await tradingClient(s.tradingStreamUrl);
    await api(s.url, 'POST', '/v2/orders', { symbol: 'SPY', qty: '1', side: 'buy', type: 'market', time_in_force: 'day' });
    await c.until(() => c.closed);
    expect(eventsOf(c.messages)).toEqual([]);
    await s.close();

    s = await start(newDir(), { faults: 'delay_ms=40', seed: 3 });
    c = await tradingClient(s.tradingStreamUrl);
    await s.pushBars([bar(0, 100, 101, 99, 100)]);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(((await api(s.url, 'POST', '/v2/orders', { symbol: 'SPY', qty: '1', side: 'buy', type: 'market', time_in_force: 'day' })).body as AlpacaOrder).id);
    await s.pushBars([bar(1, 100, 101, 99, 100)]);
    await c.until((ms) => eventsOf(ms).length === 10);
    const seen = (c.messages as { stream?: string; data?: { event: string; order: { id: string } } }[]).filter((m) => m.stream === 'trade_updates').map((m) => `${m.data?.order.id ?? ''}:${m.data?.event ?? ''}`);
    expect(seen).toEqual([...ids.map((id) => `${id}:new`), ...ids.map((id) => `${id}:fill`)]);
    c.close();
    await s.close();
  });
});
