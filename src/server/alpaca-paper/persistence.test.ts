import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlpacaAccount, AlpacaFillActivity, AlpacaOrder, AlpacaPosition, HistoricalBarsResponse } from '../../venues/alpaca/protocol.js';
import { api, bar, eventsOf, start, tempDir, tradingClient, writeStore, KEY, SECRET, OPEN_NS, MIN_NS } from './harness.fixture.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = resolve(here, '..', '..', '..');
const fixture = join(here, 'serve.fixture.ts');

let dir: { dir: string; cleanup: () => void };
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = tempDir();
});

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  dir.cleanup();
});

/** Everything a client can see of the account. */
async function view(url: string): Promise<unknown> {
  const [orders, positions, account, fills, clock, bars] = await Promise.all([
    api(url, 'GET', '/v2/orders?status=all&nested=true&direction=asc&limit=500'),
    api(url, 'GET', '/v2/positions'),
    api(url, 'GET', '/v2/account'),
    api(url, 'GET', '/v2/account/activities/FILL?direction=asc'),
    api(url, 'GET', '/v2/clock'),
    api(url, 'GET', '/v2/stocks/bars?symbols=SPY,QQQ&timeframe=1Min&limit=10000'),
  ]);
  return { orders: orders.body, positions: positions.body, account: account.body, fills: fills.body, clock: clock.body, bars: bars.body };
}

async function serveChild(args: string[]): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, 'venue', 'serve', '--protocol', 'alpaca', ...args], {
    cwd: repoRoot,
    env: { ...process.env, APCA_API_KEY_ID: KEY, APCA_API_SECRET_KEY: SECRET },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let err = '';
  child.stderr?.on('data', (c: Buffer) => {
    err += String(c);
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const first = await new Promise<string>((res, rej) => {
    lines.once('line', res);
    child.once('exit', (code) => rej(new Error(`venue serve exited ${code}: ${err}`)));
  });
  const info = JSON.parse(first) as { url: string; trading_stream: string; data_stream: string };
  expect(info.trading_stream).toBe(`${info.url.replace('http', 'ws')}/stream`);
  expect(info.data_stream).toBe(`${info.url.replace('http', 'ws')}/v2/iex`);
  return { child, url: info.url, stderr: () => err };
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((res) => {
    child.once('exit', () => res());
    child.kill('SIGKILL');
  });
}

describe('paper server state', () => {
  it('continues exactly after a clean close: orders, legs, positions, cash, fills, bars, ids', async () => {
    const stateFile = join(dir.dir, 'state.sqlite');
    let s = await start(dir.dir);
    await s.pushBars([bar(0, 100, 101, 99, 100)]);
    const bracket = (
      await api(s.url, 'POST', '/v2/orders', { symbol: 'SPY', qty: '10', side: 'buy', type: 'market', time_in_force: 'gtc', order_class: 'bracket', take_profit: { limit_price: '104' }, stop_loss: { stop_price: '96' } })
    ).body as AlpacaOrder;
    await api(s.url, 'POST', '/v2/orders', { symbol: 'SPY', qty: '3', side: 'buy', type: 'limit', limit_price: '98', time_in_force: 'gtc', client_order_id: 'resting' });
    await s.pushBars([bar(1, 100.5, 101, 100, 100.5)]);
    const before = await view(s.url);
    await s.close();

    s = await start(dir.dir);
    expect(await view(s.url)).toEqual(before);
    // the restored venue still works the bracket legs and the resting limit
    const c = await tradingClient(s.tradingStreamUrl);
    await s.pushBars([bar(2, 100, 100.2, 97.5, 98)]);
    await s.pushBars([bar(3, 98, 99, 95, 95.5)]);
    await c.until((ms) => eventsOf(ms).length === 3);
    const legs = (((await api(s.url, 'GET', `/v2/orders/${bracket.id}?nested=true`)).body as AlpacaOrder).legs ?? []).map((l) => l.status);
    expect(legs).toEqual(['canceled', 'filled']);
    expect(((await api(s.url, 'GET', '/v2/orders:by_client_order_id?client_order_id=resting')).body as AlpacaOrder).status).toBe('filled');
    expect(((await api(s.url, 'GET', '/v2/positions/SPY')).body as AlpacaPosition).qty).toBe('3');
    // a duplicate client order id is still refused after the restart
    expect((await api(s.url, 'POST', '/v2/orders', { symbol: 'SPY', qty: '1', side: 'buy', type: 'market', time_in_force: 'day', client_order_id: 'resting' })).status).toBe(422);
    c.close();
    await s.close();
    expect(stateFile).toContain('state.sqlite');
  });

  it('replays a store step by step and resumes the replay after a restart', async () => {
    const storeDir = join(dir.dir, 'store');
    await writeStore(storeDir, ['SPY', 'QQQ'], 30);
    let s = await start(dir.dir, { store: storeDir, symbols: undefined, from: '2024-01-02T14:35:00Z' });
    expect(((await api(s.url, 'GET', '/v2/clock')).body as { timestamp: string }).timestamp).toBe('2024-01-02T14:35:00.000Z');
    expect(await s.step(2)).toBe(4);
    const st = (await api(s.url, 'POST', '/admin/step?n=1')).body as { shown: number; done: boolean };
    expect(st).toEqual({ shown: 2, done: false });
    await s.close();
    s = await start(dir.dir, { store: storeDir, symbols: undefined, from: '2024-01-02T14:35:00Z' });
    const status = (await api(s.url, 'GET', '/admin/status')).body as { bars_shown: number; last_bar_time: string; replay_time: string };
    expect(status).toMatchObject({ bars_shown: 6, last_bar_time: '2024-01-02T14:37:00Z', replay_time: '2024-01-02T14:38:00.000Z' });
    expect(await s.step(100)).toBe(2 * 22);
    expect(await s.step(1)).toBe(0);
    const bars = (await api(s.url, 'GET', '/v2/stocks/bars?symbols=SPY&timeframe=1Min&limit=100')).body as HistoricalBarsResponse;
    const times = (bars.bars.SPY ?? []).map((b) => Date.parse(b.t));
    expect(times).toHaveLength(25);
    times.forEach((t, i) => expect(t).toBe(Number((OPEN_NS + BigInt(5 + i) * MIN_NS) / 1_000_000n)));
    expect(((await api(s.url, 'GET', '/admin/status')).body as { done: boolean }).done).toBe(true);
    await s.close();
  });

  it('survives SIGKILL of `axon venue serve`: every answered order and fill is there after the restart', async () => {
    const storeDir = join(dir.dir, 'store');
    await writeStore(storeDir, ['SPY'], 60);
    const args = ['--data', storeDir, '--state', join(dir.dir, 'kill.sqlite'), '--seed', '7'];
    let { child, url } = await serveChild(args);
    await api(url, 'POST', '/admin/step?n=1');
    const answered = new Map<string, string>();
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 60; i++) {
      const cid = `c-${i}`;
      const sent = api(url, 'POST', '/v2/orders', { symbol: 'SPY', qty: '1', side: i % 3 === 0 ? 'sell' : 'buy', type: 'market', time_in_force: 'day', client_order_id: cid }).then(
        (r) => {
          if (r.status === 200) answered.set(cid, (r.body as AlpacaOrder).id);
        },
        () => undefined,
      );
      sends.push(sent);
      if (i % 5 === 4) sends.push(api(url, 'POST', '/admin/step?n=1').then(() => undefined, () => undefined));
      // the first half one at a time, the rest in flight when the process dies
      if (i < 30) await sent;
    }
    while (answered.size < 34) await new Promise((r) => setTimeout(r, 1));
    await kill(child);
    await Promise.all(sends);
    expect(answered.size).toBeGreaterThan(0);

    ({ child, url } = await serveChild(args));
    for (const [cid, id] of answered) {
      const r = await api(url, 'GET', `/v2/orders:by_client_order_id?client_order_id=${cid}`);
      expect(r.status).toBe(200);
      expect((r.body as AlpacaOrder).id).toBe(id);
    }
    const before = (await api(url, 'GET', '/admin/status')).body as { bars_shown: number };
    await api(url, 'POST', '/admin/step?n=2');
    const after = (await api(url, 'GET', '/admin/status')).body as { bars_shown: number };
    expect(after.bars_shown).toBe(before.bars_shown + 2);
    // positions and cash agree with the fill log
    const fills = (await api(url, 'GET', '/v2/account/activities/FILL?direction=asc&page_size=100')).body as AlpacaFillActivity[];
    let qty = 0;
    let cash = 100000 * 10_000;
    for (const f of fills) {
      const q = Number(f.qty);
      qty += f.side === 'buy' ? q : -q;
      cash += (f.side === 'buy' ? -1 : 1) * Math.round(Number(f.price) * 10_000) * q;
    }
    expect(new Set(fills.map((f) => f.id)).size).toBe(fills.length);
    const pos = (await api(url, 'GET', '/v2/positions')).body as AlpacaPosition[];
    expect(pos.length === 0 ? 0 : Number(pos[0]?.qty)).toBe(qty);
    expect(Math.round(Number(((await api(url, 'GET', '/v2/account')).body as AlpacaAccount).cash) * 10_000)).toBe(cash);
    await kill(child);
  });

  it('survives SIGKILL during a timed replay and continues from the next bar', async () => {
    const storeDir = join(dir.dir, 'store');
    await writeStore(storeDir, ['SPY'], 200);
    const args = ['--data', storeDir, '--state', join(dir.dir, 'timed.sqlite'), '--speed', '3000'];
    let { child, url } = await serveChild(args);
    await new Promise((r) => setTimeout(r, 300));
    await kill(child);
    ({ child, url } = await serveChild(args));
    const t0 = performance.now();
    for (;;) {
      const st = (await api(url, 'GET', '/admin/status')).body as { done: boolean; bars_shown: number };
      if (st.done) break;
      if (performance.now() - t0 > 20_000) throw new Error(`replay did not finish: ${JSON.stringify(st)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const bars = (await api(url, 'GET', '/v2/stocks/bars?symbols=SPY&timeframe=1Min&limit=1000')).body as HistoricalBarsResponse;
    const times = (bars.bars.SPY ?? []).map((b) => Date.parse(b.t));
    expect(times).toHaveLength(200);
    times.forEach((t, i) => expect(t).toBe(Number((OPEN_NS + BigInt(i) * MIN_NS) / 1_000_000n)));
    const term = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
    child.kill('SIGTERM');
    expect(await term).toBe(0);
  });

  it('refuses to start without keys in the environment, and never prints them', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, 'venue', 'serve', '--state', join(dir.dir, 'x.sqlite')], {
      cwd: repoRoot,
      env: { ...process.env, APCA_API_KEY_ID: '', APCA_API_SECRET_KEY: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let err = '';
    child.stderr.on('data', (c: Buffer) => {
      err += String(c);
    });
    const code = await new Promise<number | null>((res) => child.once('exit', res));
    expect(code).toBe(2);
    expect(err).toContain('APCA_API_KEY_ID');
  });
});
