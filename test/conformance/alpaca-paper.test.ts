import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { LiveClock, NS } from '../../src/core/clock.js';
import { Price, Quantity } from '../../src/core/decimal.js';
import { clientOrderId } from '../../src/core/ids.js';
import type { Bar } from '../../src/model/bar.js';
import type { OrderFilled, OrderRequest, VenueEvent } from '../../src/model/order.js';
import { startPaperServer, type PaperServer, type PushedBar } from '../../src/server/alpaca-paper/index.js';
import { AlpacaCredentials } from '../../src/venues/alpaca/credentials.js';
import { AlpacaVenue, type AlpacaVenueOptions } from '../../src/venues/alpaca/alpaca-venue.js';
import { AlpacaBarFeed, type AlpacaBarFeedOptions } from '../../src/venues/alpaca/bar-feed.js';
import { venueConformance, type DriveBar } from './venue.case.js';

const KEY = 'PKCONFORMANCE0000001';
const SECRET = 'conformance-secret-0123456789abcdefghij';
const T0 = 1_704_292_260_000_000_000n; // 2024-01-03T14:31:00Z, inside a regular session
const MIN = 60n * NS.s;

interface Harness {
  server: PaperServer;
  venue: AlpacaVenue;
  dir: string;
  stateFile: string;
  minute: number;
  events: VenueEvent[];
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'axon-alpaca-'));
}

async function startServer(stateFile: string, port = 0, faults?: string, symbols = ['CONF']): Promise<PaperServer> {
  return startPaperServer({
    stateFile,
    port,
    keyId: KEY,
    secretKey: SECRET,
    symbols,
    startingCash: '1000000',
    ...(faults === undefined ? {} : { faults }),
  });
}

function venueFor(server: PaperServer, extra: Partial<AlpacaVenueOptions> = {}): AlpacaVenue {
  return new AlpacaVenue({
    baseUrl: server.url,
    tradingStreamUrl: server.tradingStreamUrl,
    credentials: new AlpacaCredentials(KEY, SECRET),
    clock: new LiveClock(),
    seed: 11,
    backoff: { baseNs: 20n * NS.ms, maxNs: 200n * NS.ms },
    pingIntervalMs: 0,
    ...extra,
  });
}

function pushBar(h: { server: PaperServer; minute: number }, b: DriveBar): Promise<void> {
  const openTimeNs = T0 + BigInt(h.minute++) * MIN;
  return h.server.pushBars([{ symbol: 'CONF', openTimeNs, open: Number(b.open), high: Number(b.high), low: Number(b.low), close: Number(b.close), volume: Number(b.volume ?? '1000000') }]);
}

venueConformance('AlpacaVenue <-> paper server', async () => {
  const dir = tempDir();
  const server = await startServer(path.join(dir, 'state.sqlite'));
  const venue = venueFor(server);
  const h = { server, minute: 0 };
  return {
    venue,
    symbol: 'CONF',
    currency: 'USD',
    startingCash: '1000000',
    drive: (b) => pushBar(h, b),
    teardown: async () => {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

const harnesses: Harness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) {
    await h.venue.disconnect();
    await h.server.close();
    fs.rmSync(h.dir, { recursive: true, force: true });
  }
});

async function harness(faults?: string, extra: Partial<AlpacaVenueOptions> = {}): Promise<Harness> {
  const dir = tempDir();
  const stateFile = path.join(dir, 'state.sqlite');
  const server = await startServer(stateFile, 0, faults);
  const venue = venueFor(server, extra);
  const h: Harness = { server, venue, dir, stateFile, minute: 0, events: [] };
  venue.onEvent((e) => h.events.push(e));
  harnesses.push(h);
  await venue.connect();
  return h;
}

async function eventually(check: () => void | Promise<void>, ms = 10_000): Promise<void> {
  const deadline = performance.now() + ms;
  for (;;) {
    try {
      await check();
      return;
    } catch (e) {
      if (performance.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

function market(id: string, side: 'Buy' | 'Sell', qty: string): OrderRequest {
  return { clientOrderId: clientOrderId(id), symbol: 'CONF', side, type: 'Market', quantity: Quantity.of(qty), timeInForce: 'GTC', tsInit: 0n };
}

/** A loopback TCP proxy to the server's port that can cut every connection and refuse new ones. */
class StreamProxy {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  #pairs: [net.Socket, net.Socket][] = [];
  #blocked = false;
  port = 0;

  private constructor(target: number) {
    this.#server = net.createServer((client) => {
      if (this.#blocked) {
        client.destroy();
        return;
      }
      const upstream = net.connect(target, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream);
      upstream.pipe(client);
      this.#pairs.push([client, upstream]);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }

  static async start(target: number): Promise<StreamProxy> {
    const p = new StreamProxy(target);
    await new Promise<void>((r) => p.#server.listen(0, '127.0.0.1', () => r()));
    p.port = (p.#server.address() as net.AddressInfo).port;
    return p;
  }

  block(): void {
    this.#blocked = true;
    for (const s of this.#sockets) s.destroy();
  }

  unblock(): void {
    this.#blocked = false;
  }

  /** Stops forwarding on the open connections without closing them (a half-open connection); new ones pass. */
  stall(): void {
    for (const [client, upstream] of this.#pairs.splice(0)) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  async close(): Promise<void> {
    this.block();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}

const fills = (events: readonly VenueEvent[]): OrderFilled[] => events.filter((e): e is OrderFilled => e.kind === 'filled');
const bar = (px: string): DriveBar => ({ open: px, high: String(Number(px) + 1), low: String(Number(px) - 1), close: px, volume: '1000000' });

describe('AlpacaVenue reconnects to the paper server', () => {
  it('recovers fills made while the server was down and restarted from its state file, each exactly once', async () => {
    const h = await harness();
    await pushBar(h, bar('100'));
    for (let i = 0; i < 3; i++) await h.venue.submit(market(`rc-a${i}`, 'Buy', '2'));
    await pushBar(h, bar('101'));
    await eventually(() => expect(fills(h.events).length).toBe(3));
    // orders that will fill while the adapter cannot hear the stream
    for (let i = 0; i < 4; i++) await h.venue.submit(market(`rc-b${i}`, 'Buy', '1'));
    await eventually(() => expect(h.events.filter((e) => e.kind === 'accepted').length).toBe(7));
    const port = h.server.port;
    await h.server.close();
    // the server restarts from its state file and fills the orders before the adapter is back
    h.server = await startServer(h.stateFile, port);
    await pushBar(h, bar('102'));
    await eventually(() => expect(fills(h.events).length).toBe(7), 20_000);
    await h.venue.settled();
    await new Promise((r) => setTimeout(r, 300));
    const all = fills(h.events);
    expect(all.length).toBe(7);
    expect(new Set(all.map((f) => f.tradeId)).size).toBe(7);
    for (let i = 0; i < 4; i++) {
      const f = all.filter((x) => x.clientOrderId === `rc-b${i}`);
      expect(f.length).toBe(1);
      expect(f[0]?.lastQty.eq(1)).toBe(true);
      expect(f[0]?.leavesQty.isZero()).toBe(true);
      expect(f[0]?.lastPx.eq('102')).toBe(true);
    }
    expect(h.venue.reconnects).toBeGreaterThanOrEqual(1);
    const pos = await h.venue.positionReports();
    expect(pos).toEqual([{ symbol: 'CONF', signedQty: '10', avgPx: pos[0]?.avgPx }]);
  });

  it('recovers fills made while the stream was cut (a TCP proxy refusing it) exactly once, deduping those it had seen', async () => {
    const dir = tempDir();
    const stateFile = path.join(dir, 'state.sqlite');
    const server = await startServer(stateFile);
    const proxy = await StreamProxy.start(server.port);
    const venue = venueFor(server, { tradingStreamUrl: `ws://127.0.0.1:${proxy.port}/stream` });
    const h: Harness = { server, venue, dir, stateFile, minute: 0, events: [] };
    venue.onEvent((e) => h.events.push(e));
    harnesses.push(h);
    try {
      await venue.connect();
      await pushBar(h, bar('50'));
      for (let i = 0; i < 3; i++) await venue.submit(market(`px-a${i}`, 'Buy', '1'));
      await pushBar(h, bar('51'));
      await eventually(() => expect(fills(h.events).length).toBe(3));
      for (let i = 0; i < 4; i++) await venue.submit(market(`px-b${i}`, 'Buy', '2'));
      await eventually(() => expect(h.events.filter((e) => e.kind === 'accepted').length).toBe(7));
      proxy.block();
      await pushBar(h, bar('52'));
      await new Promise((r) => setTimeout(r, 500));
      expect(fills(h.events).length).toBe(3);
      proxy.unblock();
      await eventually(() => expect(fills(h.events).length).toBe(7), 20_000);
      await venue.settled();
      await new Promise((r) => setTimeout(r, 300));
      const all = fills(h.events);
      expect(all.length).toBe(7);
      expect(new Set(all.map((f) => f.tradeId)).size).toBe(7);
      for (let i = 0; i < 4; i++) {
        const f = all.filter((x) => x.clientOrderId === `px-b${i}`);
        expect(f.length).toBe(1);
        expect(f[0]?.lastQty.eq(2)).toBe(true);
        expect(f[0]?.lastPx.eq('52')).toBe(true);
        expect(f[0]?.side).toBe('Buy');
      }
      expect(venue.reconnects).toBeGreaterThanOrEqual(1);
      // the stream delivers again after the catch-up
      await venue.submit(market('px-after', 'Sell', '11'));
      await pushBar(h, bar('53'));
      await eventually(() => expect(fills(h.events).some((f) => f.clientOrderId === 'px-after')).toBe(true));
      expect((await venue.positionReports()).length).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it('detects a silent half-open stream by its unanswered pings, reconnects and recovers the fills it missed', async () => {
    const dir = tempDir();
    const stateFile = path.join(dir, 'state.sqlite');
    const server = await startServer(stateFile);
    const proxy = await StreamProxy.start(server.port);
    const venue = venueFor(server, { tradingStreamUrl: `ws://127.0.0.1:${proxy.port}/stream`, pingIntervalMs: 150 });
    const h: Harness = { server, venue, dir, stateFile, minute: 0, events: [] };
    venue.onEvent((e) => h.events.push(e));
    harnesses.push(h);
    try {
      await venue.connect();
      await pushBar(h, bar('70'));
      for (let i = 0; i < 3; i++) await venue.submit(market(`hs-${i}`, 'Buy', '1'));
      await eventually(() => expect(h.events.filter((e) => e.kind === 'accepted').length).toBe(3));
      proxy.stall();
      await pushBar(h, bar('71'));
      await eventually(() => expect(fills(h.events).length).toBe(3), 10_000);
      await venue.settled();
      expect(venue.reconnects).toBeGreaterThanOrEqual(1);
      expect(new Set(fills(h.events).map((f) => f.clientOrderId)).size).toBe(3);
    } finally {
      await proxy.close();
    }
  });

  it('turns a 5xx for an order that was placed into UnknownOutcome, and orderReport finds the order', async () => {
    const h = await harness('r5xx_placed=1');
    await pushBar(h, bar('100'));
    let err: unknown;
    try {
      await h.venue.submit({ ...market('uo-1', 'Buy', '3'), type: 'Limit', limitPrice: Price.of('90') });
    } catch (e) {
      err = e;
    }
    expect((err as { code?: string }).code).toBe('UnknownOutcome');
    const r = await h.venue.orderReport(clientOrderId('uo-1'));
    expect(r?.status).toBe('open');
    expect(r?.quantity.eq(3)).toBe(true);
    expect(r?.limitPrice?.eq('90')).toBe(true);
  });

  it('waits out 429 answers through the limiter and Retry-After instead of failing', async () => {
    const limited: unknown[] = [];
    const h = await harness('r429=0.3', { logger: (_level, event, fields) => (event === 'alpaca-rate-limited' ? limited.push(fields) : undefined) });
    for (let i = 0; i < 6; i++) {
      const b = await h.venue.balanceReport();
      expect(b.balances.get('USD')?.toString()).toBe('1000000 USD');
    }
    expect(limited.length).toBeGreaterThan(0);
  });
});

describe('AlpacaVenue identities across a restart of the adapter', () => {
  it('reports legs as <entry>-tp/-sl and a replaced order under our id, to a fresh adapter too, which can cancel them', async () => {
    const h = await harness();
    await pushBar(h, bar('100'));
    await h.venue.submit({ ...market('id-e1', 'Buy', '4'), bracket: { takeProfit: Price.of('110'), stopLoss: Price.of('70') } });
    await h.venue.submit({ ...market('id-l1', 'Buy', '2'), type: 'Limit', limitPrice: Price.of('80') });
    await pushBar(h, bar('100'));
    await eventually(() => expect(fills(h.events).filter((f) => f.clientOrderId === 'id-e1').length).toBe(1));
    await h.venue.modify({ clientOrderId: clientOrderId('id-l1'), limitPrice: Price.of('85') });
    await eventually(() => expect(h.events.some((e) => e.kind === 'modified' && e.clientOrderId === 'id-l1')).toBe(true));
    const fresh = venueFor(h.server);
    const freshEvents: VenueEvent[] = [];
    fresh.onEvent((e) => freshEvents.push(e));
    await fresh.connect();
    try {
      const open = await fresh.orderReports();
      expect(open.map((r) => [r.clientOrderId, r.parentClientOrderId, r.type, r.limitPrice?.toString(), r.stopPrice?.toString()]).sort()).toEqual([
        ['id-e1-sl', 'id-e1', 'Stop', undefined, '70'],
        ['id-e1-tp', 'id-e1', 'Limit', '110', undefined],
        ['id-l1', undefined, 'Limit', '85', undefined],
      ]);
      const tp = await fresh.orderReport(clientOrderId('id-e1-tp'));
      expect(tp?.parentClientOrderId).toBe('id-e1');
      expect(tp?.quantity.eq(4)).toBe(true);
      const l1 = await fresh.orderReport(clientOrderId('id-l1'));
      expect(l1?.limitPrice?.eq('85')).toBe(true);
      expect(l1?.status).toBe('open');
      // the replacement fills under our id, on both adapters
      await pushBar(h, { open: '86', high: '87', low: '84', close: '86', volume: '1000000' });
      for (const evs of [h.events, freshEvents]) await eventually(() => expect(fills(evs).filter((f) => f.clientOrderId === 'id-l1').map((f) => f.lastPx.toString())).toEqual(['85']));
      await fresh.cancel(clientOrderId('id-e1-sl'));
      await eventually(async () => expect((await fresh.orderReport(clientOrderId('id-e1-tp')))?.status).toBe('canceled'));
      await eventually(() => expect(freshEvents.filter((e) => e.kind === 'canceled').map((e) => 'clientOrderId' in e && e.clientOrderId).sort()).toEqual(['id-e1-sl', 'id-e1-tp']));
      expect(await fresh.orderReport(clientOrderId('id-nobody'))).toBeUndefined();
      expect(await fresh.orderReport(clientOrderId('id-nobody-tp'))).toBeUndefined();
    } finally {
      await fresh.disconnect();
    }
  });

  it('shows no key in inspect, JSON or toString of the venue, in its logs, or in the error for refused keys', async () => {
    const h = await harness();
    const logs: string[] = [];
    const wrong = venueFor(h.server, { credentials: new AlpacaCredentials('PKWRONGKEY000', 'the-wrong-secret-0123'), logger: (l, e, f) => logs.push(`${l} ${e} ${JSON.stringify(f)}`) });
    let err: unknown;
    try {
      await wrong.connect();
    } catch (e) {
      err = e;
    }
    expect((err as { code?: string }).code).toBe('Unauthorized');
    const logged: string[] = [];
    const v = venueFor(h.server, { logger: (l, e, f) => logged.push(`${l} ${e} ${JSON.stringify(f)}`) });
    await v.connect();
    v.dropStream();
    await eventually(() => expect(v.reconnects).toBeGreaterThanOrEqual(1));
    await v.disconnect();
    const views = [inspect(h.venue, { showHidden: true, depth: 20 }), JSON.stringify(h.venue), String(h.venue), (err as Error).message, inspect(err, { depth: 20 }), ...logs, ...logged];
    expect(logged.length).toBeGreaterThan(0);
    for (const text of views) {
      for (const secret of [KEY, SECRET, 'PKWRONGKEY000', 'the-wrong-secret-0123']) expect(text).not.toContain(secret);
    }
  });
});

describe('AlpacaVenue under seeded chaos', () => {
  for (const seed of [1, 2]) {
    it(`ends with every venue fill reported exactly once, acks before fills, and positions equal to the fills (seed ${seed})`, async () => {
      const faults = 'drop=0.1,delay_ms=20,r429=0.02,r5xx_placed=0.1,ack_after_fill=0.2,disconnect=0.03';
      const dir = tempDir();
      const stateFile = path.join(dir, 'state.sqlite');
      const server = await startPaperServer({ stateFile, keyId: KEY, secretKey: SECRET, symbols: ['CONF'], startingCash: '1000000', faults, seed });
      const venue = venueFor(server);
      const h: Harness = { server, venue, dir, stateFile, minute: 0, events: [] };
      venue.onEvent((e) => h.events.push(e));
      harnesses.push(h);
      await venue.connect();
      let unknown = 0;
      await pushBar(h, bar('100'));
      for (let i = 0; i < 24; i++) {
        const side = i % 3 === 2 ? 'Sell' : 'Buy';
        try {
          await venue.submit(market(`ch${seed}-${i}`, side, String(1 + (i % 3))));
        } catch (e) {
          expect((e as { code?: string }).code).toBe('UnknownOutcome');
          unknown++;
          expect((await venue.orderReport(clientOrderId(`ch${seed}-${i}`)))?.clientOrderId).toBe(`ch${seed}-${i}`);
        }
        await pushBar(h, bar(String(100 + (i % 5))));
      }
      expect(unknown).toBeGreaterThan(0);
      await venue.settled();
      await new Promise((r) => setTimeout(r, 300));
      await venue.recover();
      let res: Response;
      do {
        res = await fetch(`${server.url}/v2/account/activities/FILL?direction=asc&page_size=100`, { headers: { 'APCA-API-KEY-ID': KEY, 'APCA-API-SECRET-KEY': SECRET } });
        if (res.status === 429) await new Promise((r) => setTimeout(r, 100));
      } while (res.status === 429);
      const activities = (await res.json()) as { id: string; order_id: string; qty: string }[];
      expect(activities.length).toBe(24);
      const got = fills(h.events);
      expect(got.map((f) => f.tradeId).sort()).toEqual(activities.map((a) => a.id.slice(a.id.lastIndexOf('::') + 2)).sort());
      for (const f of got) {
        const evs = h.events.filter((e) => 'clientOrderId' in e && e.clientOrderId === f.clientOrderId);
        expect(evs[0]?.kind).toBe('accepted');
        expect(evs.filter((e) => e.kind === 'accepted').length).toBe(1);
      }
      let signed = Quantity.of('0');
      let short = Quantity.of('0');
      for (const f of got) {
        if (f.side === 'Buy') signed = signed.add(f.lastQty);
        else short = short.add(f.lastQty);
      }
      const pos = (await venue.positionReports()).find((p) => p.symbol === 'CONF');
      expect(Price.of(pos?.signedQty ?? '0').eq(Price.of(signed.toString()).sub(short.toString()))).toBe(true);
    });
  }
});

describe('AlpacaBarFeed on the paper server', () => {
  async function feedHarness(extra: Partial<AlpacaBarFeedOptions> = {}): Promise<{ h: { server: PaperServer; minute: number }; feed: AlpacaBarFeed; bars: Bar[]; close: () => Promise<void>; proxy: StreamProxy }> {
    const dir = tempDir();
    const server = await startServer(path.join(dir, 'state.sqlite'));
    const proxy = await StreamProxy.start(server.port);
    const feed = new AlpacaBarFeed({
      dataStreamUrl: `ws://127.0.0.1:${proxy.port}/v2/iex`,
      dataUrl: server.url,
      credentials: new AlpacaCredentials(KEY, SECRET),
      clock: new LiveClock(),
      backoff: { baseNs: 20n * NS.ms, maxNs: 200n * NS.ms },
      pingIntervalMs: 0,
      ...extra,
    });
    const bars: Bar[] = [];
    feed.onBar((b) => bars.push(b));
    return {
      h: { server, minute: 0 },
      feed,
      bars,
      proxy,
      close: async () => {
        await feed.stop();
        await proxy.close();
        await server.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }

  it('delivers subscribed minute bars with open and close times, and backfills the minutes missed while cut off, once each and in order', async () => {
    const { h, feed, bars, proxy, close } = await feedHarness();
    try {
      await feed.start(['CONF']);
      await pushBar(h, bar('10'));
      await pushBar(h, bar('11'));
      await eventually(() => expect(bars.length).toBe(2));
      expect(bars[0]).toEqual({ symbol: 'CONF', timeframe: '1m', openTimeNs: T0, closeTimeNs: T0 + MIN, open: 10, high: 11, low: 9, close: 10, volume: 1_000_000 });
      proxy.block();
      for (const px of ['12', '13', '14']) await pushBar(h, bar(px));
      await new Promise((r) => setTimeout(r, 300));
      expect(bars.length).toBe(2);
      proxy.unblock();
      await eventually(() => expect(bars.length).toBe(5), 15_000);
      await pushBar(h, bar('15'));
      await eventually(() => expect(bars.length).toBe(6));
      await new Promise((r) => setTimeout(r, 200));
      expect(bars.map((b) => b.close)).toEqual([10, 11, 12, 13, 14, 15]);
      expect(bars.map((b) => b.openTimeNs)).toEqual([0n, 1n, 2n, 3n, 4n, 5n].map((i) => T0 + i * MIN));
      expect(feed.reconnects).toBeGreaterThanOrEqual(1);
    } finally {
      await close();
    }
  });

  it('pages through history and serves bars through the async iterator', async () => {
    const { h, feed, close } = await feedHarness({ historyPageSize: 2 });
    try {
      await feed.start(['CONF']);
      const it = feed[Symbol.asyncIterator]();
      for (const px of ['20', '21', '22', '23', '24']) await pushBar(h, bar(px));
      const got: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await it.next();
        if (r.done === true) break;
        got.push(r.value.close);
      }
      expect(got).toEqual([20, 21, 22, 23, 24]);
      const hist = await feed.history(['CONF'], T0 + MIN, T0 + 4n * MIN);
      expect(hist.map((b) => b.close)).toEqual([21, 22, 23]);
      expect(hist.every((b) => b.symbol === 'CONF' && b.closeTimeNs - b.openTimeNs === MIN)).toBe(true);
    } finally {
      await close();
    }
  });

  it('subscribe() hands over the bars of one stream message together (the live BarFeed shape)', async () => {
    const dir = tempDir();
    const server = await startServer(path.join(dir, 'state.sqlite'), 0, undefined, ['CONF', 'CONG']);
    const feed = new AlpacaBarFeed({ dataStreamUrl: server.dataStreamUrl, dataUrl: server.url, credentials: new AlpacaCredentials(KEY, SECRET), clock: new LiveClock(), pingIntervalMs: 0 });
    try {
      const arrivals: string[][] = [];
      await feed.subscribe(['CONF', 'CONG'], (bars) => arrivals.push(bars.map((b) => `${b.symbol}@${b.close}`)));
      const bar2 = (symbol: string, minute: bigint, px: number): PushedBar => ({ symbol, openTimeNs: T0 + minute * MIN, open: px, high: px, low: px, close: px, volume: 100 });
      await server.pushBars([bar2('CONF', 0n, 10), bar2('CONG', 0n, 20)]);
      await server.pushBars([bar2('CONF', 1n, 11), bar2('CONG', 1n, 21)]);
      await eventually(() => expect(arrivals).toEqual([
        ['CONF@10', 'CONG@20'],
        ['CONF@11', 'CONG@21'],
      ]));
    } finally {
      await feed.close();
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses wrong keys with Unauthorized, naming no key', async () => {
    const { feed, close } = await feedHarness({ credentials: new AlpacaCredentials('PKWRONGKEY', 'wrong-secret-value') });
    try {
      let err: unknown;
      try {
        await feed.start(['CONF']);
      } catch (e) {
        err = e;
      }
      expect((err as { code?: string }).code).toBe('Unauthorized');
      expect(String((err as Error).message)).not.toContain('wrong-secret-value');
    } finally {
      await close();
    }
  });
});
