import { NS, type Clock } from '../../core/clock.js';
import { Rng } from '../../core/rng.js';
import { barProblem, type Bar } from '../../model/bar.js';
import type { AlpacaCredentials } from './credentials.js';
import { AlpacaError } from './errors.js';
import { nsToRfc3339, rfc3339ToNs } from './mapping.js';
import { DATA_STREAM_ERRORS, type DataStreamMessage, type HistoricalBarsResponse } from './protocol.js';
import { AlpacaRest, type AlpacaLogger } from './rest.js';
import { TokenBucket, type BackoffOptions, type TokenBucketOptions } from './resilience.js';
import { ResilientSocket, type SocketProtocol } from './socket.js';

/** Options of AlpacaBarFeed. */
export interface AlpacaBarFeedOptions {
  /** Market data stream URL, e.g. `wss://stream.data.alpaca.markets/v2/iex`. */
  readonly dataStreamUrl: string;
  /** Market data REST base URL (historical bars), e.g. `https://data.alpaca.markets`. */
  readonly dataUrl: string;
  readonly credentials: AlpacaCredentials;
  /** Every wait (reconnect backoff, rate limit) and the end of reconnect backfills. */
  readonly clock: Clock;
  /** Seed of reconnect and retry jitter; default 1. */
  readonly seed?: number;
  readonly backoff?: BackoffOptions;
  /** REST rate limit of history requests; default 200 per minute. */
  readonly rateLimit?: TokenBucketOptions;
  /** Per-request timeout, ms; default 10,000. */
  readonly timeoutMs?: number;
  /** Stream ping interval, ms (0 = off); default 15,000. */
  readonly pingIntervalMs?: number;
  /** Bars per history page (Alpaca allows up to 10,000); default 10,000. */
  readonly historyPageSize?: number;
  /** After a reconnect, fetch the bars missed meanwhile over REST and deliver them first; default true. */
  readonly backfillOnReconnect?: boolean;
  readonly logger?: AlpacaLogger;
}

/** Receives bars in time order per symbol, each (symbol, open time) once. */
export type BarHandler = (bar: Bar) => void;
/** Receives the bars of one arrival (one stream message, or one reconnect backfill), in time order. */
export type BarsHandler = (bars: readonly Bar[]) => void;

const MINUTE = NS.m;
const HISTORY_PAGE = 10_000;

/**
 * Alpaca's market data stream of minute bars: authenticates, subscribes to bars of the given symbols,
 * reconnects with backoff and re-subscribes, and after a reconnect backfills the missed minutes over
 * `GET /v2/stocks/bars`. Every bar is delivered once per (symbol, open time) and in time order per symbol:
 * one arriving at or before the last delivered of its symbol is dropped. Bars come through `onBar`
 * handlers or the async iterator.
 */
export class AlpacaBarFeed implements AsyncIterable<Bar> {
  readonly #options: AlpacaBarFeedOptions;
  readonly #rng: Rng;
  readonly #rest: AlpacaRest;
  #socket: ResilientSocket | undefined;
  #symbols: string[] = [];
  #handlers: BarHandler[] = [];
  #batchHandlers: BarsHandler[] = [];
  readonly #last = new Map<string, bigint>();
  readonly #queue: Bar[] = [];
  #waiters: ((r: IteratorResult<Bar>) => void)[] = [];
  #stopped = false;
  #iterating = false;
  /** bars received while a backfill runs, delivered after it */
  #held: Bar[] | undefined;

  /** @throws AlpacaError InvalidConfig for a bad URL or rate limit */
  constructor(options: AlpacaBarFeedOptions) {
    this.#options = options;
    this.#rng = new Rng(options.seed ?? 1);
    this.#rest = new AlpacaRest({
      baseUrl: options.dataUrl,
      credentials: options.credentials,
      clock: options.clock,
      rng: this.#rng,
      limiter: new TokenBucket(options.rateLimit ?? { perMinute: 200 }, options.clock),
      // the data API has no cheap endpoint to keep a connection warm with, and backfills are not latency-bound
      keepWarmMs: 0,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
  }

  /** Times the stream reconnected since `start`. */
  get reconnects(): number {
    return this.#socket?.reconnects ?? 0;
  }

  toString(): string {
    return `AlpacaBarFeed(${this.#options.dataStreamUrl})`;
  }

  /** Subscribes a bar handler; returns the unsubscribe function. */
  onBar(handler: BarHandler): () => void {
    this.#handlers = [...this.#handlers, handler];
    return () => {
      this.#handlers = this.#handlers.filter((h) => h !== handler);
    };
  }

  /**
   * Delivers the bars of each arrival together (the engine's live `BarFeed` shape): registers `onBars`, then
   * starts the stream for `symbols`.
   * @throws AlpacaError as `start`
   */
  async subscribe(symbols: readonly string[], onBars: BarsHandler): Promise<void> {
    this.#batchHandlers = [...this.#batchHandlers, onBars];
    await this.start(symbols);
  }

  /** Same as `stop` (the engine's live `BarFeed` shape). */
  close(): Promise<void> {
    return this.stop();
  }

  /**
   * Connects, authenticates and subscribes to minute bars of `symbols`; resolves once Alpaca confirms the subscription.
   * @throws AlpacaError Unauthorized when the keys are refused | StreamError when the stream cannot be reached
   */
  async start(symbols: readonly string[]): Promise<void> {
    if (this.#socket !== undefined) throw new AlpacaError('InvalidConfig', 'the bar feed is already started');
    this.#symbols = [...new Set(symbols)];
    this.#stopped = false;
    const o = this.#options;
    const socket = new ResilientSocket(
      {
        url: o.dataStreamUrl,
        name: 'Alpaca market data stream',
        clock: o.clock,
        rng: this.#rng,
        ...(o.backoff === undefined ? {} : { backoff: o.backoff }),
        ...(o.pingIntervalMs === undefined ? {} : { pingIntervalMs: o.pingIntervalMs }),
        ...(o.logger === undefined ? {} : { logger: o.logger }),
      },
      this.#protocol(),
    );
    this.#socket = socket;
    try {
      await socket.start();
    } catch (e) {
      this.#socket = undefined;
      throw e;
    }
  }

  /** Closes the stream and the REST pool; an async iterator ends after the bars already queued. */
  async stop(): Promise<void> {
    this.#stopped = true;
    const socket = this.#socket;
    this.#socket = undefined;
    await socket?.stop();
    await this.#rest.close();
    for (const w of this.#waiters.splice(0)) w({ done: true, value: undefined });
  }

  /** Drops the stream's socket as a network fault would (tests; the feed reconnects and backfills). */
  dropStream(): void {
    this.#socket?.drop();
  }

  /**
   * Minute bars of `symbols` opening in [startNs, endNs) from `GET /v2/stocks/bars` (all pages), ordered by
   * open time, then symbol. Invalid bars are skipped (and logged).
   * @throws AlpacaError on a REST failure
   */
  async history(symbols: readonly string[], startNs: bigint, endNs: bigint): Promise<Bar[]> {
    const out: Bar[] = [];
    if (symbols.length === 0 || endNs <= startNs) return out;
    let token: string | undefined;
    for (;;) {
      const page = (
        await this.#rest.request<HistoricalBarsResponse>('GET', '/v2/stocks/bars', {
          safety: 'safe',
          query: {
            symbols: [...new Set(symbols)].join(','),
            timeframe: '1Min',
            start: nsToRfc3339(startNs),
            end: nsToRfc3339(endNs - 1n),
            limit: String(this.#options.historyPageSize ?? HISTORY_PAGE),
            page_token: token,
          },
        })
      ).data;
      for (const [symbol, bars] of Object.entries(page.bars ?? {})) {
        for (const b of bars) {
          const bar = this.#toBar(symbol, b.t, b.o, b.h, b.l, b.c, b.v);
          if (bar !== undefined && bar.openTimeNs >= startNs && bar.openTimeNs < endNs) out.push(bar);
        }
      }
      if (page.next_page_token === null || page.next_page_token === undefined || page.next_page_token === '') break;
      token = page.next_page_token;
    }
    return out.sort((a, b) => (a.openTimeNs < b.openTimeNs ? -1 : a.openTimeNs > b.openTimeNs ? 1 : a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
  }

  /** Bars as an async iterator (one consumer); ends when the feed stops. */
  [Symbol.asyncIterator](): AsyncIterator<Bar> {
    if (this.#iterating) throw new AlpacaError('InvalidConfig', 'the bar feed has one async iterator at a time');
    this.#iterating = true;
    return {
      next: () => {
        const bar = this.#queue.shift();
        if (bar !== undefined) return Promise.resolve({ done: false, value: bar });
        if (this.#stopped) return Promise.resolve({ done: true, value: undefined });
        return new Promise((resolve) => this.#waiters.push(resolve));
      },
      return: () => {
        this.#iterating = false;
        this.#queue.length = 0;
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  #toBar(symbol: string, t: string, o: number, h: number, l: number, c: number, v: number): Bar | undefined {
    let openTimeNs: bigint;
    try {
      openTimeNs = rfc3339ToNs(t);
    } catch {
      this.#options.logger?.('warn', 'alpaca-bad-bar', { symbol, reason: `bad time ${JSON.stringify(t)}` });
      return undefined;
    }
    const problem = barProblem(o, h, l, c, v);
    if (problem !== undefined) {
      this.#options.logger?.('warn', 'alpaca-bad-bar', { symbol, t, reason: problem });
      return undefined;
    }
    return Object.freeze({ symbol, timeframe: '1m', openTimeNs, closeTimeNs: openTimeNs + MINUTE, open: o, high: h, low: l, close: c, volume: v });
  }

  /** Delivers every new bar of one arrival to the bar handlers, then the batch to the batch handlers. */
  #arrive(bars: readonly Bar[]): void {
    if (this.#held !== undefined) {
      this.#held.push(...bars);
      return;
    }
    const fresh: Bar[] = [];
    for (const b of bars) if (this.#deliver(b)) fresh.push(b);
    if (fresh.length === 0) return;
    for (const h of this.#batchHandlers) {
      try {
        h(fresh);
      } catch (e) {
        this.#options.logger?.('error', 'alpaca-bar-handler-failed', { bars: fresh.length, error: (e as Error).message });
      }
    }
  }

  #deliver(bar: Bar): boolean {
    const last = this.#last.get(bar.symbol);
    if (last !== undefined && bar.openTimeNs <= last) return false;
    this.#last.set(bar.symbol, bar.openTimeNs);
    for (const h of this.#handlers) {
      try {
        h(bar);
      } catch (e) {
        this.#options.logger?.('error', 'alpaca-bar-handler-failed', { symbol: bar.symbol, error: (e as Error).message });
      }
    }
    if (this.#iterating) {
      const w = this.#waiters.shift();
      if (w !== undefined) w({ done: false, value: bar });
      else this.#queue.push(bar);
    }
    return true;
  }

  /** Fetches the minutes missed since each symbol's last bar up to now, delivers them, then the bars held meanwhile. */
  async #backfill(): Promise<void> {
    this.#held ??= [];
    const now = this.#options.clock.now();
    try {
      const known = this.#symbols.filter((s) => this.#last.has(s));
      if (known.length > 0) {
        let from = now;
        for (const s of known) {
          const t = (this.#last.get(s) as bigint) + MINUTE;
          if (t < from) from = t;
        }
        const bars = await this.history(known, from, now);
        const held = this.#held;
        this.#held = undefined;
        this.#arrive(bars);
        this.#held = held;
        this.#options.logger?.('info', 'alpaca-bars-backfilled', { bars: bars.length });
      }
    } catch (e) {
      this.#options.logger?.('warn', 'alpaca-backfill-failed', { error: (e as Error).message });
    } finally {
      const held = this.#held ?? [];
      this.#held = undefined;
      this.#arrive(held);
    }
  }

  #protocol(): SocketProtocol {
    const creds = this.#options.credentials;
    let stage: 'connect' | 'auth' | 'subscribe' = 'connect';
    const check = (m: DataStreamMessage): void => {
      if (m.T !== 'error') return;
      const code = m.code === DATA_STREAM_ERRORS.authFailed ? 'Unauthorized' : 'StreamError';
      throw new AlpacaError(code, `the Alpaca market data stream refused: ${m.msg} (code ${m.code})`);
    };
    return {
      open: () => {
        stage = 'connect';
      },
      handshake: (frame, send) => {
        for (const m of Array.isArray(frame) ? (frame as DataStreamMessage[]) : [frame as DataStreamMessage]) {
          check(m);
          if (stage === 'connect' && m.T === 'success' && m.msg === 'connected') {
            stage = 'auth';
            send(creds.streamAuth());
          } else if (stage === 'auth' && m.T === 'success' && m.msg === 'authenticated') {
            if (this.#symbols.length === 0) return true;
            stage = 'subscribe';
            send({ action: 'subscribe', bars: this.#symbols });
          } else if (stage === 'subscribe' && m.T === 'subscription') {
            const missing = this.#symbols.filter((s) => !m.bars.includes(s) && !m.bars.includes('*'));
            if (missing.length > 0) throw new AlpacaError('StreamError', `the Alpaca market data stream did not subscribe bars of ${missing.join(', ')}`);
            return true;
          }
        }
        return false;
      },
      message: (frame) => {
        const bars: Bar[] = [];
        for (const m of Array.isArray(frame) ? (frame as DataStreamMessage[]) : [frame as DataStreamMessage]) {
          if (m.T === 'b') {
            const bar = this.#toBar(m.S, m.t, m.o, m.h, m.l, m.c, m.v);
            if (bar !== undefined) bars.push(bar);
          } else if (m.T === 'error') {
            this.#options.logger?.('warn', 'alpaca-data-stream-error', { code: m.code, message: m.msg });
          }
        }
        if (bars.length > 0) this.#arrive(bars);
      },
      ready: (reconnect) => {
        if (reconnect && this.#options.backfillOnReconnect !== false) {
          this.#held = [];
          void this.#backfill();
        }
      },
    };
  }
}
