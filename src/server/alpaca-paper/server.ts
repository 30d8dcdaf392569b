import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { LiveClock, NS, isoToNs, nsToIso } from '../../core/clock.js';
import { Decimal } from '../../core/decimal.js';
import { AxonError } from '../../core/errors.js';
import { BarStore } from '../../data/store.js';
import { barProblem, type Bar } from '../../model/bar.js';
import { XnysCalendar } from '../../session/xnys.js';
import { formatDate, parseDate, zoneOffsetMs } from '../../session/civil.js';
import {
  DATA_STREAM_ERRORS,
  DATA_STREAM_PATH,
  DEFAULT_RATE_LIMIT_PER_MIN,
  ERROR_CODES,
  HEADER_KEY_ID,
  HEADER_SECRET_KEY,
  TRADING_STREAM_PATH,
  type AlpacaCalendarDay,
  type AlpacaClock,
  type AlpacaOrder,
  type DataStreamBar,
  type HistoricalBar,
  type TradeUpdate,
} from '../../venues/alpaca/protocol.js';
import { PaperBroker, isOpenStatus, type OrderMeta } from './broker.js';
import { ApiError, PaperServerError } from './errors.js';
import { FaultInjector, parseFaultSpec, type FaultSpec } from './faults.js';
import { parseOrderBody, parseReplaceBody } from './order-request.js';
import { RateLimiter } from './rate-limit.js';
import { BarTimeReplay } from './replay.js';
import { PaperStateDb, type ReplayCursor, type StoredBar } from './state-db.js';

/** Options of the Alpaca paper venue server (see the shared contract). */
export interface PaperServerOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** 0 (default) = an ephemeral port. */
  port?: number;
  /** SQLite file; the server's whole state survives a restart from it. */
  stateFile: string;
  /** BarStore directory to replay; omitted = bars only through pushBars / POST /admin/bars. */
  store?: string;
  /** Symbols to trade and replay; default every symbol in the store (without a store: any symbol, added on first use). */
  symbols?: string[];
  /** ISO instant: replay bars opening at or after it. */
  from?: string;
  /** ISO instant: replay bars opening before it. */
  to?: string;
  /** Market seconds per wall second (60 = a minute bar per second); 0 (default) = bars advance only through step(). */
  speed?: number;
  /** Seeded fault spec (see parseFaultSpec); default none. */
  faults?: string;
  /** Fault seed, default 1. */
  seed?: number;
  keyId: string;
  secretKey: string;
  /** Starting cash in USD, default '100000'; only used when the state file is new. */
  startingCash?: string;
  /** Default true. */
  fractional?: boolean;
  /** Default true: enables /admin/* endpoints. */
  admin?: boolean;
  /** REST requests per minute per key, default 200. */
  rateLimitPerMin?: number;
  /** Receives errors of the timer-driven replay (default: kept for GET /admin/status only). */
  onError?: (error: unknown) => void;
}

/** A running paper venue server. */
export interface PaperServer {
  /** 'http://127.0.0.1:<port>': APCA_API_BASE_URL and the data REST base URL. */
  readonly url: string;
  /** 'ws://127.0.0.1:<port>/stream'. */
  readonly tradingStreamUrl: string;
  /** 'ws://127.0.0.1:<port>/v2/iex'. */
  readonly dataStreamUrl: string;
  readonly port: number;
  /** Shows these bars to the matching engine (fills first), then publishes them on the data stream; resolves when done. */
  pushBars(bars: PushedBar[]): Promise<void>;
  /** Advances the store replay by n bar times (all symbols of each time); resolves with how many bars were shown. */
  step(n?: number): Promise<number>;
  close(): Promise<void>;
}

/** A bar given to pushBars: a one-minute bar opening at `openTimeNs` (epoch ns). */
export interface PushedBar {
  symbol: string;
  openTimeNs: bigint;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

const SYMBOL_RE = /^[A-Z][A-Z0-9.]{0,15}$/;
const MAX_BODY = 1 << 20;
const AUTH_TIMEOUT_MS = 10_000;

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** RFC 3339 in UTC, whole seconds without a fraction (as Alpaca prints bar times). */
function rfc3339(ns: bigint): string {
  const s = nsToIso(ns);
  return s.endsWith('.000Z') ? `${s.slice(0, -5)}Z` : s;
}

function invalidOption(what: string): never {
  throw new PaperServerError('InvalidOption', what);
}

function parseInstant(text: string, what: string): bigint {
  try {
    return isoToNs(text);
  } catch {
    return invalidOption(`${what} ${JSON.stringify(text)} is not an ISO-8601 instant`);
  }
}

function bad(message: string): never {
  throw new ApiError('Unprocessable', message);
}

function queryInstantMs(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(v) ? Date.parse(`${v}T00:00:00Z`) : Date.parse(v);
  if (Number.isNaN(ms)) bad(`invalid ${name}: ${JSON.stringify(v)} is not an RFC 3339 time`);
  return ms;
}

function queryInt(q: URLSearchParams, name: string, min: number, max: number, dflt: number): number {
  const v = q.get(name);
  if (v === null || v === '') return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) bad(`invalid ${name}: ${JSON.stringify(v)} must be an integer from ${min} to ${max}`);
  return Number(v);
}

function queryBool(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null || v === '' || v === 'false') return false;
  if (v === 'true') return true;
  return bad(`invalid ${name}: ${JSON.stringify(v)} must be true or false`);
}

function queryOneOf<T extends string>(q: URLSearchParams, name: string, values: readonly T[], dflt: T): T {
  const v = q.get(name);
  if (v === null || v === '') return dflt;
  if (!(values as readonly string[]).includes(v)) bad(`invalid ${name}: ${JSON.stringify(v)} is not one of ${values.join(', ')}`);
  return v as T;
}

interface TradingClient {
  readonly outlet: Outlet;
  authed: boolean;
  listening: boolean;
}

interface DataClient {
  readonly outlet: Outlet;
  authed: boolean;
  bars: Set<string>;
  trades: string[];
  quotes: string[];
  timer: NodeJS.Timeout | undefined;
}

/**
 * One socket's outgoing messages with the seeded faults applied: a message may close the socket instead
 * (disconnect) or wait up to delay_ms; the order of messages on one socket is kept, as TCP would keep it.
 */
class Outlet {
  readonly ws: WebSocket;
  readonly #faults: FaultInjector;
  /** Delayed messages in send order, each with the time it is due; one timer serves the head. */
  readonly #queue: { at: number; text: string }[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(ws: WebSocket, faults: FaultInjector) {
    this.ws = ws;
    this.#faults = faults;
  }

  /** Sends a control message (auth, subscription answers): never faulted. */
  control(text: string): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(text);
  }

  /** Sends a data message (trade update, bars) through the fault plan. */
  data(text: string): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.#faults.disconnect()) {
      this.ws.terminate();
      return;
    }
    const delay = this.#faults.delayMs();
    const pending = this.#queue.length - this.#head;
    if (delay === 0 && pending === 0) {
      this.ws.send(text);
      return;
    }
    // A message never overtakes an earlier one: it is due no sooner than the last queued message.
    const last = pending > 0 ? this.#queue[this.#queue.length - 1]!.at : 0;
    this.#queue.push({ at: Math.max(last, performance.now() + delay), text });
    if (this.#timer === undefined) this.#arm();
  }

  /** Sends every due message in queue order, then waits for the next one (one timer, so timer order never matters). */
  #drain(): void {
    this.#timer = undefined;
    if (this.ws.readyState !== this.ws.OPEN) {
      this.#queue.length = 0;
      this.#head = 0;
      return;
    }
    const now = performance.now();
    while (this.#head < this.#queue.length && this.#queue[this.#head]!.at <= now) {
      const { text } = this.#queue[this.#head++]!;
      if (this.ws.readyState === this.ws.OPEN) this.ws.send(text);
    }
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
      return;
    }
    this.#arm();
  }

  #arm(): void {
    const wait = Math.max(1, Math.ceil(this.#queue[this.#head]!.at - performance.now()));
    this.#timer = setTimeout(() => this.#drain(), wait);
  }
}

/**
 * The paper venue server: Alpaca's REST subset, trading stream and market data stream on one port,
 * matching with the simulated venue on replayed or pushed bars, every state change committed to SQLite
 * before it is answered or published.
 */
class AlpacaPaperServer implements PaperServer {
  readonly url: string;
  readonly tradingStreamUrl: string;
  readonly dataStreamUrl: string;
  readonly port: number;
  readonly #opts: PaperServerOptions;
  readonly #db: PaperStateDb;
  readonly #broker: PaperBroker;
  readonly #faults: FaultInjector;
  readonly #seed: number;
  readonly #limiter: RateLimiter;
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  readonly #calendar = new XnysCalendar();
  readonly #trading = new Set<TradingClient>();
  readonly #data = new Set<DataClient>();
  readonly #held = new Map<string, TradeUpdate>();
  readonly #replay: BarTimeReplay | undefined;
  #cursor: ReplayCursor;
  #serial: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #lastError: string | undefined;

  constructor(init: {
    opts: PaperServerOptions;
    db: PaperStateDb;
    broker: PaperBroker;
    faults: FaultInjector;
    seed: number;
    replay: BarTimeReplay | undefined;
    cursor: ReplayCursor;
    http: Server;
    wss: WebSocketServer;
    port: number;
    host: string;
  }) {
    this.#opts = init.opts;
    this.#db = init.db;
    this.#broker = init.broker;
    this.#faults = init.faults;
    this.#seed = init.seed;
    this.#replay = init.replay;
    this.#cursor = init.cursor;
    this.#http = init.http;
    this.#wss = init.wss;
    this.port = init.port;
    const clock = new LiveClock();
    this.#limiter = new RateLimiter(init.opts.rateLimitPerMin ?? DEFAULT_RATE_LIMIT_PER_MIN, () => clock.now());
    const host = init.host.includes(':') ? `[${init.host}]` : init.host;
    this.url = `http://${host}:${init.port}`;
    this.tradingStreamUrl = `ws://${host}:${init.port}${TRADING_STREAM_PATH}`;
    this.dataStreamUrl = `ws://${host}:${init.port}${DATA_STREAM_PATH}`;
    this.#http.on('request', (req: IncomingMessage, res: ServerResponse) => {
      void this.#handle(req, res);
    });
    this.#http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#upgrade(req, socket, head));
  }

  /** Starts the timer-driven replay when a speed is set. */
  start(): void {
    if ((this.#opts.speed ?? 0) > 0 && this.#replay !== undefined) this.#scheduleNext();
  }

  // ---- state changes

  #commit(bars: readonly Bar[] = []): void {
    const d = this.#broker.drain();
    const stored: StoredBar[] = bars.map((b) => ({
      symbol: b.symbol,
      timeMs: Number(b.openTimeNs / 1_000_000n),
      open: b.open,
      high: b.high,
      low: b.low,
      close: b.close,
      volume: b.volume,
    }));
    this.#db.commit({
      scalars: this.#broker.scalars(),
      venue: this.#broker.venueState(),
      orders: d.orders,
      fills: d.fills,
      bars: stored,
      replay: this.#cursor,
      faults: { seed: this.#seed, rng: this.#faults.snapshot() },
    });
    this.#dispatch(d.updates);
  }

  /** Runs `fn` after every earlier bar step or push (bar times never interleave). */
  #serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#serial.then(fn, fn);
    this.#serial = run.catch(() => undefined);
    return run;
  }

  #showGroup(bars: readonly Bar[]): void {
    this.#broker.showBars(bars);
    this.#commit(bars);
    this.#publishBars(bars);
  }

  step(n = 1): Promise<number> {
    if (!Number.isSafeInteger(n) || n < 1) return Promise.reject(new PaperServerError('InvalidOption', `step count must be a positive integer, got ${n}`));
    return this.#serialized(async () => {
      this.#assertOpen();
      let shown = 0;
      for (let i = 0; i < n; i++) {
        if (this.#replay === undefined || this.#cursor.done) break;
        const group = await this.#replay.next();
        if (this.#closed) break;
        if (group === undefined) {
          this.#cursor = { ...this.#cursor, done: true };
          this.#commit();
          break;
        }
        const first = group[0] as Bar;
        this.#cursor = { lastOpenNs: first.openTimeNs, barsShown: this.#cursor.barsShown + group.length, done: false };
        this.#showGroup(group);
        shown += group.length;
      }
      return shown;
    });
  }

  pushBars(bars: PushedBar[]): Promise<void> {
    return this.#serialized(async () => {
      this.#assertOpen();
      const built = this.#buildPushed(bars);
      for (const group of built) this.#showGroup(group);
      await Promise.resolve();
    });
  }

  /** Validates pushed bars completely before any is shown; groups them by open time. */
  #buildPushed(bars: readonly PushedBar[]): Bar[][] {
    const state = this.#broker.venueState();
    const lastOpen = new Map<string, bigint>();
    for (const b of state.books) if (b.lastBar !== undefined) lastOpen.set(b.symbol, b.lastBar.openTimeNs);
    const groups: Bar[][] = [];
    let prevTime: bigint | undefined;
    bars.forEach((p, i) => {
      const where = `bar ${i}${typeof p.symbol === 'string' ? ` (${p.symbol})` : ''}`;
      if (typeof p.symbol !== 'string' || !SYMBOL_RE.test(p.symbol)) throw new PaperServerError('InvalidBars', `${where}: invalid symbol ${JSON.stringify(p.symbol)}`);
      if (typeof p.openTimeNs !== 'bigint') throw new PaperServerError('InvalidBars', `${where}: openTimeNs must be a bigint (epoch ns)`);
      const problem = barProblem(p.open, p.high, p.low, p.close, p.volume);
      if (problem !== undefined) throw new PaperServerError('InvalidBars', `${where}: ${problem}`);
      if (prevTime !== undefined && p.openTimeNs < prevTime) throw new PaperServerError('InvalidBars', `${where}: bars must be in time order; ${rfc3339(p.openTimeNs)} follows ${rfc3339(prevTime)}`);
      const last = lastOpen.get(p.symbol);
      if (last !== undefined && p.openTimeNs <= last) throw new PaperServerError('InvalidBars', `${where}: opens at ${rfc3339(p.openTimeNs)}, not after the symbol's last bar at ${rfc3339(last)}`);
      lastOpen.set(p.symbol, p.openTimeNs);
      const bar: Bar = Object.freeze({
        symbol: p.symbol,
        timeframe: '1m',
        openTimeNs: p.openTimeNs,
        closeTimeNs: p.openTimeNs + NS.m,
        open: p.open,
        high: p.high,
        low: p.low,
        close: p.close,
        volume: p.volume,
      });
      if (prevTime === p.openTimeNs) (groups[groups.length - 1] as Bar[]).push(bar);
      else groups.push([bar]);
      prevTime = p.openTimeNs;
    });
    return groups;
  }

  #scheduleNext(): void {
    if (this.#closed || this.#replay === undefined || this.#cursor.done) return;
    const speed = this.#opts.speed ?? 0;
    // gaps between sessions are compressed to one bar, so a multi-day replay does not sit idle overnight
    const delayMs = Number(NS.m / NS.ms) / speed;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.step(1).then(
        () => this.#scheduleNext(),
        (e: unknown) => {
          if (this.#closed) return;
          this.#lastError = e instanceof Error ? e.message : String(e);
          this.#opts.onError?.(e);
        },
      );
    }, delayMs);
  }

  #assertOpen(): void {
    if (this.#closed) throw new PaperServerError('Closed', 'the paper server is closed');
  }

  // ---- streams

  #dispatch(updates: readonly TradeUpdate[]): void {
    for (const u of updates) {
      if (this.#faults.drop()) continue;
      if (u.event === 'new' && this.#faults.ackAfterFill()) {
        this.#held.set(u.order.id, u);
        continue;
      }
      this.#sendTrade(u);
      const held = this.#held.get(u.order.id);
      if (held !== undefined && u.event !== 'new') {
        this.#held.delete(u.order.id);
        this.#sendTrade(held);
      }
    }
  }

  #sendTrade(u: TradeUpdate): void {
    const text = JSON.stringify({ stream: 'trade_updates', data: u });
    for (const c of this.#trading) if (c.authed && c.listening) c.outlet.data(text);
  }

  #publishBars(bars: readonly Bar[]): void {
    if (this.#data.size === 0) return;
    const msgs: DataStreamBar[] = bars.map((b) => ({ T: 'b', S: b.symbol, o: b.open, h: b.high, l: b.low, c: b.close, v: b.volume, t: rfc3339(b.openTimeNs) }));
    for (const c of this.#data) {
      if (!c.authed) continue;
      const mine = c.bars.has('*') ? msgs : msgs.filter((m) => c.bars.has(m.S));
      if (mine.length > 0) c.outlet.data(JSON.stringify(mine));
    }
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (this.#closed || (path !== TRADING_STREAM_PATH && path !== DATA_STREAM_PATH)) {
      socket.write('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      socket.destroy();
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      if (path === TRADING_STREAM_PATH) this.#onTradingSocket(ws);
      else this.#onDataSocket(ws);
    });
  }

  #keysMatch(key: unknown, secret: unknown): boolean {
    return typeof key === 'string' && typeof secret === 'string' && safeEqual(key, this.#opts.keyId) && safeEqual(secret, this.#opts.secretKey);
  }

  #onTradingSocket(ws: WebSocket): void {
    const c: TradingClient = { outlet: new Outlet(ws, this.#faults), authed: false, listening: false };
    this.#trading.add(c);
    ws.on('close', () => this.#trading.delete(c));
    ws.on('error', () => this.#trading.delete(c));
    ws.on('message', (raw) => {
      let msg: Record<string, unknown>;
      try {
        const parsed: unknown = JSON.parse(String(raw));
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
        msg = parsed as Record<string, unknown>;
      } catch {
        c.outlet.control(JSON.stringify({ stream: 'listening', data: { streams: [], error: 'invalid message: expected a JSON object with an action' } }));
        return;
      }
      const data = (typeof msg.data === 'object' && msg.data !== null ? msg.data : {}) as Record<string, unknown>;
      if (msg.action === 'auth' || msg.action === 'authenticate') {
        const ok = msg.action === 'auth' ? this.#keysMatch(msg.key, msg.secret) : this.#keysMatch(data.key_id, data.secret_key);
        c.authed = ok;
        c.outlet.control(JSON.stringify({ stream: 'authorization', data: { status: ok ? 'authorized' : 'unauthorized', action: 'authenticate' } }));
        if (!ok) ws.close(1008, 'unauthorized');
        return;
      }
      if (msg.action === 'listen') {
        if (!c.authed) {
          c.outlet.control(JSON.stringify({ stream: 'listening', data: { streams: [], error: 'not authenticated' } }));
          return;
        }
        const streams = Array.isArray(data.streams) ? data.streams.filter((s): s is string => typeof s === 'string') : [];
        c.listening = streams.includes('trade_updates');
        c.outlet.control(JSON.stringify({ stream: 'listening', data: { streams: c.listening ? ['trade_updates'] : [] } }));
        return;
      }
      c.outlet.control(JSON.stringify({ stream: 'listening', data: { streams: c.listening ? ['trade_updates'] : [], error: `unknown action ${JSON.stringify(msg.action)}` } }));
    });
  }

  #onDataSocket(ws: WebSocket): void {
    const c: DataClient = { outlet: new Outlet(ws, this.#faults), authed: false, bars: new Set(), trades: [], quotes: [], timer: undefined };
    this.#data.add(c);
    const drop = (): void => {
      if (c.timer !== undefined) clearTimeout(c.timer);
      this.#data.delete(c);
    };
    ws.on('close', drop);
    ws.on('error', drop);
    const send = (m: unknown[]): void => c.outlet.control(JSON.stringify(m));
    send([{ T: 'success', msg: 'connected' }]);
    c.timer = setTimeout(() => {
      if (!c.authed) {
        send([{ T: 'error', code: DATA_STREAM_ERRORS.authTimeout, msg: 'auth timeout' }]);
        ws.close(1008, 'auth timeout');
      }
    }, AUTH_TIMEOUT_MS);
    c.timer.unref();
    ws.on('message', (raw) => {
      let msg: Record<string, unknown>;
      try {
        const parsed: unknown = JSON.parse(String(raw));
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || typeof (parsed as Record<string, unknown>).action !== 'string') throw new Error('bad');
        msg = parsed as Record<string, unknown>;
      } catch {
        send([{ T: 'error', code: DATA_STREAM_ERRORS.invalidSyntax, msg: 'invalid syntax' }]);
        return;
      }
      if (msg.action === 'auth') {
        if (c.authed) return send([{ T: 'error', code: DATA_STREAM_ERRORS.alreadyAuthenticated, msg: 'already authenticated' }]);
        if (!this.#keysMatch(msg.key, msg.secret)) return send([{ T: 'error', code: DATA_STREAM_ERRORS.authFailed, msg: 'auth failed' }]);
        c.authed = true;
        if (c.timer !== undefined) clearTimeout(c.timer);
        return send([{ T: 'success', msg: 'authenticated' }]);
      }
      if (msg.action === 'subscribe' || msg.action === 'unsubscribe') {
        if (!c.authed) return send([{ T: 'error', code: DATA_STREAM_ERRORS.notAuthenticated, msg: 'not authenticated' }]);
        const lists: Record<'bars' | 'trades' | 'quotes', string[]> = { bars: [], trades: [], quotes: [] };
        for (const k of ['bars', 'trades', 'quotes'] as const) {
          const v = msg[k];
          if (v === undefined) continue;
          if (!Array.isArray(v) || !v.every((s) => typeof s === 'string' && (s === '*' || SYMBOL_RE.test(s)))) {
            return send([{ T: 'error', code: DATA_STREAM_ERRORS.invalidSyntax, msg: 'invalid syntax' }]);
          }
          lists[k] = v as string[];
        }
        const add = msg.action === 'subscribe';
        for (const s of lists.bars) {
          if (add) c.bars.add(s);
          else c.bars.delete(s);
        }
        c.trades = add ? [...new Set([...c.trades, ...lists.trades])] : c.trades.filter((s) => !lists.trades.includes(s));
        c.quotes = add ? [...new Set([...c.quotes, ...lists.quotes])] : c.quotes.filter((s) => !lists.quotes.includes(s));
        return send([{ T: 'subscription', trades: c.trades, quotes: c.quotes, bars: [...c.bars] }]);
      }
      return send([{ T: 'error', code: DATA_STREAM_ERRORS.invalidSyntax, msg: 'invalid syntax' }]);
    });
  }

  // ---- REST

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const headers: Record<string, string> = {};
    try {
      if (this.#closed) throw new ApiError('Internal', 'the server is shutting down');
      const url = new URL(req.url ?? '/', 'http://localhost');
      const key = req.headers[HEADER_KEY_ID.toLowerCase()];
      const secret = req.headers[HEADER_SECRET_KEY.toLowerCase()];
      if (typeof key !== 'string' || typeof secret !== 'string' || key === '' || secret === '') throw new ApiError('Unauthorized', 'request is not authorized');
      if (!this.#keysMatch(key, secret)) throw new ApiError('Forbidden', 'forbidden: the API key or secret is wrong');
      const admin = url.pathname.startsWith('/admin/');
      if (admin && this.#opts.admin === false) throw new ApiError('NotFound', 'endpoint not found');
      if (!admin) {
        const d = this.#limiter.take(key);
        headers['X-RateLimit-Limit'] = String(d.limit);
        headers['X-RateLimit-Remaining'] = String(d.remaining);
        headers['X-RateLimit-Reset'] = String(d.resetEpochSec);
        if (!d.allowed) throw new ApiError('RateLimited', 'too many requests');
        if (this.#faults.reject429()) throw new ApiError('RateLimited', 'too many requests');
      }
      const method = req.method ?? 'GET';
      const body = method === 'POST' || method === 'PATCH' ? await readJson(req) : undefined;
      const out = await this.#route(method, url, body);
      send(res, out.status, out.body, headers);
    } catch (e) {
      if (e instanceof ApiError) {
        send(res, e.status, { code: e.alpacaCode, message: e.detail }, headers);
      } else {
        send(res, 500, { code: ERROR_CODES.internal, message: e instanceof AxonError ? e.message : `internal error: ${e instanceof Error ? e.message : String(e)}` }, headers);
      }
    }
  }

  async #route(method: string, url: URL, body: unknown): Promise<{ status: number; body?: unknown }> {
    const path = url.pathname;
    const q = url.searchParams;
    const allow = (...methods: string[]): void => {
      if (!methods.includes(method)) throw new ApiError('MethodNotAllowed', `method ${method} is not allowed on ${path}`);
    };
    if (path === '/v2/orders') {
      allow('GET', 'POST', 'DELETE');
      if (method === 'POST') return this.#placeOrder(body);
      if (method === 'DELETE') return this.#cancelAll();
      return { status: 200, body: this.#listOrders(q) };
    }
    if (path === '/v2/orders:by_client_order_id') {
      allow('GET');
      const cid = q.get('client_order_id');
      if (cid === null || cid === '') bad('client_order_id is required');
      const o = this.#broker.orderByClientId(cid);
      if (o === undefined) throw new ApiError('NotFound', `order not found for client_order_id ${JSON.stringify(cid)}`);
      return { status: 200, body: this.#broker.render(o, queryBool(q, 'nested')) };
    }
    if (path.startsWith('/v2/orders/')) {
      allow('GET', 'DELETE', 'PATCH');
      const id = decodeURIComponent(path.slice('/v2/orders/'.length));
      if (method === 'PATCH') {
        const next = this.#broker.replace(id, parseReplaceBody(body));
        this.#commit();
        return { status: 200, body: this.#broker.render(next, false) };
      }
      if (method === 'DELETE') {
        this.#broker.cancel(id);
        this.#commit();
        return { status: 204 };
      }
      const o = this.#broker.order(id);
      if (o === undefined) throw new ApiError('NotFound', `order not found: ${id}`);
      return { status: 200, body: this.#broker.render(o, queryBool(q, 'nested')) };
    }
    if (path === '/v2/account') {
      allow('GET');
      return { status: 200, body: this.#broker.account() };
    }
    if (path === '/v2/positions') {
      allow('GET');
      return { status: 200, body: await this.#broker.positions() };
    }
    if (path.startsWith('/v2/positions/')) {
      allow('GET');
      const symbol = decodeURIComponent(path.slice('/v2/positions/'.length));
      const p = (await this.#broker.positions()).find((x) => x.symbol === symbol);
      if (p === undefined) throw new ApiError('NotFound', `position does not exist: ${symbol}`);
      return { status: 200, body: p };
    }
    if (path === '/v2/clock') {
      allow('GET');
      return { status: 200, body: this.#clock() };
    }
    if (path === '/v2/calendar') {
      allow('GET');
      return { status: 200, body: this.#calendarDays(q) };
    }
    if (path === '/v2/account/activities/FILL') {
      allow('GET');
      return { status: 200, body: this.#fillActivities(q) };
    }
    if (path === '/v2/stocks/bars') {
      allow('GET');
      const symbols = (q.get('symbols') ?? '').split(',').filter((s) => s !== '');
      if (symbols.length === 0) bad('symbols is required');
      return { status: 200, body: this.#historicalBars(symbols, q) };
    }
    const single = /^\/v2\/stocks\/([^/]+)\/bars$/.exec(path);
    if (single !== null) {
      allow('GET');
      const symbol = decodeURIComponent(single[1] as string);
      const r = this.#historicalBars([symbol], q);
      return { status: 200, body: { symbol, bars: r.bars[symbol] ?? [], next_page_token: r.next_page_token } };
    }
    if (path === '/admin/step') {
      allow('POST');
      const n = queryInt(q, 'n', 1, 1_000_000, 1);
      const shown = await this.step(n);
      return { status: 200, body: { shown, done: this.#cursor.done || this.#replay === undefined } };
    }
    if (path === '/admin/bars') {
      allow('POST');
      await this.#adminBars(body);
      return { status: 200, body: { shown: Array.isArray((body as { bars?: unknown }).bars) ? (body as { bars: unknown[] }).bars.length : 0 } };
    }
    if (path === '/admin/status') {
      allow('GET');
      return { status: 200, body: await this.#status() };
    }
    if (path === '/admin/position') {
      allow('POST');
      return { status: 200, body: this.#adminPosition(body) };
    }
    throw new ApiError('NotFound', `endpoint not found: ${method} ${path}`);
  }

  #placeOrder(body: unknown): { status: number; body?: unknown } {
    const cid = typeof body === 'object' && body !== null && typeof (body as { client_order_id?: unknown }).client_order_id === 'string' ? (body as { client_order_id: string }).client_order_id : undefined;
    const nowMs = Number(this.#broker.clockNs / 1_000_000n);
    let o: OrderMeta;
    try {
      const parsed = parseOrderBody(body, { fractional: this.#broker.fractional });
      o = this.#broker.submit(parsed);
    } catch (e) {
      this.#db.logSubmission(cid, e instanceof ApiError ? e.code : 'error', nowMs);
      throw e;
    }
    this.#db.logSubmission(cid ?? o.clientOrderId, 'placed', nowMs);
    this.#commit();
    if (this.#faults.fail5xxPlaced()) throw new ApiError('Internal', 'internal server error');
    return { status: 200, body: this.#broker.render(this.#broker.order(o.id) as OrderMeta, true) };
  }

  #cancelAll(): { status: number; body: unknown } {
    const asked = this.#broker.cancelAll();
    this.#commit();
    return { status: 207, body: asked.map((o) => ({ id: o.id, status: 200, body: this.#broker.render(o, false) })) };
  }

  #listOrders(q: URLSearchParams): AlpacaOrder[] {
    const status = queryOneOf(q, 'status', ['open', 'closed', 'all'] as const, 'open');
    const limit = queryInt(q, 'limit', 1, 500, 50);
    const direction = queryOneOf(q, 'direction', ['asc', 'desc'] as const, 'desc');
    const nested = queryBool(q, 'nested');
    const afterMs = queryInstantMs(q, 'after');
    const untilMs = queryInstantMs(q, 'until');
    const side = queryOneOf(q, 'side', ['buy', 'sell', 'any'] as const, 'any');
    const symbols = (q.get('symbols') ?? '').split(',').filter((s) => s !== '');
    let list = [...this.#broker.orders()].filter((o) => {
      if (nested && o.parent !== null) return false;
      const open = isOpenStatus(o.status) || (nested && o.legs.some((l) => isOpenStatus((this.#broker.order(l) as OrderMeta).status)));
      if (status === 'open' && !open) return false;
      if (status === 'closed' && open) return false;
      const ms = Number(o.createdNs / NS.ms);
      if (afterMs !== undefined && !(ms > afterMs)) return false;
      if (untilMs !== undefined && !(ms < untilMs)) return false;
      if (side !== 'any' && o.side !== side) return false;
      if (symbols.length > 0 && !symbols.includes(o.symbol)) return false;
      return true;
    });
    if (direction === 'desc') list = list.reverse();
    return list.slice(0, limit).map((o) => this.#broker.render(o, nested));
  }

  #clock(): AlpacaClock {
    const now = this.#broker.clockNs;
    const session = this.#calendar.sessionAt(now);
    const next = this.#calendar.nextSession(now);
    return {
      timestamp: nsToIso(now),
      is_open: session !== undefined,
      next_open: rfc3339(next.openNs),
      next_close: rfc3339(session?.closeNs ?? next.closeNs),
    };
  }

  #calendarDays(q: URLSearchParams): AlpacaCalendarDay[] {
    const day = (name: string, dflt: number): number => {
      const v = q.get(name);
      if (v === null || v === '') return dflt;
      if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) bad(`invalid ${name}: ${JSON.stringify(v)} must be YYYY-MM-DD`);
      try {
        return parseDate(v);
      } catch {
        return bad(`invalid ${name}: ${JSON.stringify(v)} is not a date`);
      }
    };
    const today = parseDate(nsToIso(this.#broker.clockNs).slice(0, 10));
    const start = day('start', today);
    const end = day('end', start + 31);
    if (end < start) bad('invalid end: before start');
    if (end - start > 3700) bad('invalid end: at most ten years per request');
    const out: AlpacaCalendarDay[] = [];
    const local = (ns: bigint): string => {
      const ms = Number(ns / NS.ms);
      const t = new Date(ms + zoneOffsetMs(this.#calendar.timeZone, ms));
      return `${String(t.getUTCHours()).padStart(2, '0')}:${String(t.getUTCMinutes()).padStart(2, '0')}`;
    };
    try {
      for (let d = start; d <= end; d++) {
        const s = this.#calendar.sessionForDay(d);
        if (s === undefined) continue;
        let settle = d + 1;
        while (this.#calendar.sessionForDay(settle) === undefined) settle++;
        out.push({ date: s.date, open: local(s.openNs), close: local(s.closeNs), session_open: '0400', session_close: '2000', settlement_date: formatDate(settle) });
      }
    } catch (e) {
      if (e instanceof AxonError) bad(`invalid calendar range: ${e.detail}`);
      throw e;
    }
    return out;
  }

  #fillActivities(q: URLSearchParams): unknown[] {
    const direction = queryOneOf(q, 'direction', ['asc', 'desc'] as const, 'desc');
    const pageSize = queryInt(q, 'page_size', 1, 100, 100);
    const afterMs = queryInstantMs(q, 'after');
    const untilMs = queryInstantMs(q, 'until');
    const token = q.get('page_token');
    let seq: number | undefined;
    if (token !== null && token !== '') {
      seq = this.#db.fillSeq(token);
      if (seq === undefined) bad(`invalid page_token: ${JSON.stringify(token)} is not an activity id`);
    }
    return this.#db.fills({
      direction,
      ...(seq === undefined ? {} : direction === 'asc' ? { afterSeq: seq } : { beforeSeq: seq }),
      ...(afterMs === undefined ? {} : { fromMs: afterMs }),
      ...(untilMs === undefined ? {} : { untilMs }),
      limit: pageSize,
    });
  }

  #historicalBars(symbols: string[], q: URLSearchParams): { bars: Record<string, HistoricalBar[]>; next_page_token: string | null } {
    for (const s of symbols) if (!SYMBOL_RE.test(s)) bad(`invalid symbols: ${JSON.stringify(s)}`);
    const tf = q.get('timeframe');
    if (tf === null || tf === '') bad('timeframe is required');
    if (tf !== '1Min' && tf !== '1T') bad(`invalid timeframe: ${JSON.stringify(tf)} (this paper venue serves 1Min bars)`);
    const limit = queryInt(q, 'limit', 1, 10_000, 1000);
    const startMs = queryInstantMs(q, 'start') ?? 0;
    const endMs = queryInstantMs(q, 'end') ?? Number(this.#broker.clockNs / NS.ms);
    const sort = queryOneOf(q, 'sort', ['asc'] as const, 'asc');
    void sort;
    const token = q.get('page_token');
    let after: { symbol: string; timeMs: number } | undefined;
    if (token !== null && token !== '') {
      const m = /^([A-Z][A-Z0-9.]{0,15})\|(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
      if (m === null) bad(`invalid page_token: ${JSON.stringify(token)}`);
      after = { symbol: m[1] as string, timeMs: Number(m[2]) };
    }
    const rows = this.#db.bars([...new Set(symbols)].sort(), startMs, endMs, limit + 1, after);
    const more = rows.length > limit;
    const page = more ? rows.slice(0, limit) : rows;
    const bars: Record<string, HistoricalBar[]> = {};
    for (const r of page) {
      const { S, ...bar } = r;
      (bars[S] ??= []).push(bar);
    }
    const last = page[page.length - 1];
    const next = more && last !== undefined ? Buffer.from(`${last.S}|${Date.parse(last.t)}`).toString('base64url') : null;
    return { bars, next_page_token: next };
  }

  async #adminBars(body: unknown): Promise<void> {
    const list = (body as { bars?: unknown } | undefined)?.bars;
    if (!Array.isArray(list)) bad('bars is required: an array of {S, o, h, l, c, v, t}');
    const bars: PushedBar[] = list.map((raw: unknown, i) => {
      const b = raw as Record<string, unknown>;
      if (typeof b !== 'object' || b === null) bad(`bars[${i}] must be an object`);
      for (const k of ['o', 'h', 'l', 'c', 'v'] as const) if (typeof b[k] !== 'number') bad(`bars[${i}].${k} must be a number`);
      if (typeof b.S !== 'string') bad(`bars[${i}].S must be a symbol`);
      if (typeof b.t !== 'string' || Number.isNaN(Date.parse(b.t))) bad(`bars[${i}].t must be an RFC 3339 time`);
      return { symbol: b.S, openTimeNs: isoToNs(b.t), open: b.o as number, high: b.h as number, low: b.l as number, close: b.c as number, volume: b.v as number };
    });
    try {
      await this.pushBars(bars);
    } catch (e) {
      if (e instanceof PaperServerError && e.code === 'InvalidBars') bad(e.detail);
      throw e;
    }
  }

  #adminPosition(body: unknown): { symbol: string; qty: string } {
    const b = body as Record<string, unknown> | undefined;
    if (typeof b !== 'object' || b === null) bad('body must be {symbol, qty_delta, price?}');
    if (typeof b.symbol !== 'string' || !SYMBOL_RE.test(b.symbol)) bad('invalid symbol');
    if (typeof b.qty_delta !== 'string' || !/^-?\d+(\.\d+)?$/.test(b.qty_delta)) bad('invalid qty_delta: a signed decimal string');
    if (b.price !== undefined && (typeof b.price !== 'string' || !/^\d+(\.\d+)?$/.test(b.price))) bad('invalid price: a decimal string');
    let qty: string;
    try {
      qty = this.#broker.adjustPosition(b.symbol, b.qty_delta, b.price as string | undefined);
    } catch (e) {
      if (e instanceof AxonError && !(e instanceof PaperServerError)) bad(e.detail);
      throw e;
    }
    this.#commit();
    return { symbol: b.symbol, qty };
  }

  async #status(): Promise<Record<string, unknown>> {
    // client order ids that arrived in more than one POST /v2/orders
    const submissions = this.#db.submissions();
    const seen = new Set<string>();
    const again = new Set<string>();
    for (const r of submissions) {
      if (r.clientOrderId === null) continue;
      if (seen.has(r.clientOrderId)) again.add(r.clientOrderId);
      seen.add(r.clientOrderId);
    }
    const cash = await this.#broker.venueCash();
    let open = 0;
    for (const o of this.#broker.orders()) if (isOpenStatus(o.status)) open++;
    return {
      replay_time: nsToIso(this.#broker.clockNs),
      done: this.#cursor.done || this.#replay === undefined,
      bars_shown: this.#cursor.barsShown,
      last_bar_time: this.#cursor.lastOpenNs === undefined ? null : rfc3339(this.#cursor.lastOpenNs),
      symbols: this.#broker.symbols,
      open_orders: open,
      cash: Decimal.of(cash.amountString()).normalize().toString(),
      submissions: submissions.length,
      resubmitted_client_order_ids: [...again],
      faults: this.#faults.spec,
      seed: this.#seed,
      last_error: this.#lastError ?? null,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#serial;
    for (const c of this.#trading) c.outlet.ws.terminate();
    for (const c of this.#data) {
      if (c.timer !== undefined) clearTimeout(c.timer);
      c.outlet.ws.terminate();
    }
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    await new Promise<void>((resolve) => {
      this.#http.close(() => resolve());
      this.#http.closeAllConnections();
    });
    await this.#replay?.close();
    this.#db.close();
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  if (res.headersSent) return;
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { ...headers, ...(body === undefined ? {} : { 'Content-Type': 'application/json; charset=utf-8' }), 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new ApiError('Unprocessable', `request body exceeds ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('error', reject);
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new ApiError('Unprocessable', 'request body is not valid JSON'));
      }
    });
  });
}

function checkOptions(o: PaperServerOptions): void {
  if (typeof o.stateFile !== 'string' || o.stateFile === '') invalidOption('stateFile is required');
  if (typeof o.keyId !== 'string' || o.keyId === '' || typeof o.secretKey !== 'string' || o.secretKey === '') invalidOption('keyId and secretKey are required');
  if (o.port !== undefined && (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535)) invalidOption(`port must be 0..65535, got ${o.port}`);
  if (o.speed !== undefined && (!Number.isFinite(o.speed) || o.speed < 0)) invalidOption(`speed must be a finite number >= 0, got ${o.speed}`);
  if (o.seed !== undefined && !Number.isSafeInteger(o.seed)) invalidOption(`seed must be an integer, got ${o.seed}`);
  if (o.startingCash !== undefined && !/^\d+(\.\d{1,2})?$/.test(o.startingCash)) invalidOption(`startingCash must be a decimal amount of USD, got ${JSON.stringify(o.startingCash)}`);
  if (o.rateLimitPerMin !== undefined && (!Number.isInteger(o.rateLimitPerMin) || o.rateLimitPerMin < 1)) invalidOption(`rateLimitPerMin must be a positive integer, got ${o.rateLimitPerMin}`);
  for (const s of o.symbols ?? []) if (!SYMBOL_RE.test(s)) invalidOption(`invalid symbol ${JSON.stringify(s)} (upper-case US equity symbols)`);
  if ((o.speed ?? 0) > 0 && o.store === undefined) invalidOption('speed needs a store to replay (--data)');
}

/**
 * Starts the Alpaca paper venue server: restores its state from `stateFile` when the file has one,
 * listens on host:port, and starts the timer-driven replay when `speed` > 0.
 * @throws PaperServerError InvalidOption | StateMismatch | StateCorrupt; DataError when the store cannot be read
 */
export async function startPaperServer(options: PaperServerOptions): Promise<PaperServer> {
  checkOptions(options);
  const faultSpec: FaultSpec = parseFaultSpec(options.faults);
  const seed = options.seed ?? 1;
  const fromNs = options.from === undefined ? undefined : parseInstant(options.from, 'from');
  const toNs = options.to === undefined ? undefined : parseInstant(options.to, 'to');
  if (fromNs !== undefined && toNs !== undefined && toNs <= fromNs) invalidOption(`to ${options.to ?? ''} must be after from ${options.from ?? ''}`);
  const store = options.store === undefined ? undefined : new BarStore(options.store);
  let symbols = options.symbols;
  if (store !== undefined) {
    const inStore = store.symbols();
    symbols ??= inStore;
    if (symbols.length === 0) invalidOption(`the store ${options.store ?? ''} holds no symbols`);
    for (const s of symbols) if (!inStore.includes(s)) invalidOption(`symbol ${s} has no bars in the store ${options.store ?? ''}`);
  }
  const fractional = options.fractional ?? true;
  const db = new PaperStateDb(options.stateFile);
  try {
    const saved = db.load();
    const faults = new FaultInjector(faultSpec, seed);
    let broker: PaperBroker | undefined;
    let cursor: ReplayCursor;
    if (saved !== undefined) {
      if (saved.scalars.fractional !== fractional) {
        throw new PaperServerError('StateMismatch', `${options.stateFile} was created with fractional=${saved.scalars.fractional}; start with the same setting or a new state file`);
      }
      broker = PaperBroker.restore(saved.scalars, saved.orders, saved.venue, options.symbols === undefined && store === undefined);
      cursor = saved.replay;
      if (saved.faults !== null && saved.faults.seed === seed) faults.restore(saved.faults.rng);
    } else {
      cursor = { lastOpenNs: undefined, barsShown: 0, done: false };
    }
    let replay: BarTimeReplay | undefined;
    if (store !== undefined && symbols !== undefined) {
      const resumeNs = cursor.lastOpenNs === undefined ? fromNs : cursor.lastOpenNs + 1n;
      const from = fromNs !== undefined && resumeNs !== undefined && fromNs > resumeNs ? fromNs : resumeNs;
      replay = new BarTimeReplay(store, symbols, { ...(from === undefined ? {} : { fromNs: from }), ...(toNs === undefined ? {} : { toNs }) });
    }
    if (saved === undefined) {
      // before the first bar the server's clock stands at the replay's start
      const startNs = fromNs ?? (await replay?.peekOpenNs()) ?? new LiveClock().now();
      broker = PaperBroker.create({
        symbols: symbols ?? [],
        fractional,
        startingCash: options.startingCash ?? '100000',
        dynamicSymbols: symbols === undefined,
        seed,
        clockNs: startNs,
      });
    }
    const http = createServer();
    const wss = new WebSocketServer({ noServer: true });
    const host = options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(options.port ?? 0, host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    const address = http.address();
    const port = typeof address === 'object' && address !== null ? address.port : (options.port ?? 0);
    if (broker === undefined) throw new PaperServerError('StateCorrupt', 'no broker was created');
    const server = new AlpacaPaperServer({ opts: options, db, broker, faults, seed, replay, cursor, http, wss, port, host });
    // the state file is complete from the first moment (a restart needs no options it cannot check)
    db.commit({ scalars: broker.scalars(), venue: broker.venueState(), orders: [], fills: [], bars: [], replay: cursor, faults: { seed, rng: faults.snapshot() } });
    server.start();
    return server;
  } catch (e) {
    db.close();
    throw e;
  }
}
