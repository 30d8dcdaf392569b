import { NS, type Clock } from '../../core/clock.js';
import type { Rng } from '../../core/rng.js';
import type { AlpacaCredentials } from './credentials.js';
import { AlpacaError, type AlpacaErrorCode } from './errors.js';
import type { AlpacaErrorBody } from './protocol.js';
import { Http1Headers, Http1Pool } from './http1.js';
import { backoffDelayNs, CircuitBreaker, sleep, TokenBucket, type BackoffOptions, type CircuitBreakerOptions } from './resilience.js';

/** Log levels of the adapter's optional logger. */
export type AlpacaLogLevel = 'debug' | 'info' | 'warn' | 'error';
/** The adapter's optional logger: an event name and plain fields, never credentials. */
export type AlpacaLogger = (level: AlpacaLogLevel, event: string, fields: Readonly<Record<string, unknown>>) => void;

/** How a request may be repeated. */
export type RequestSafety =
  /** may be retried on network errors, timeouts, 5xx and 429 (GET, DELETE of an order) */
  | 'safe'
  /** never repeated after it may have reached Alpaca: a timeout, network error or 5xx is `UnknownOutcome`; a 429 (refused unprocessed) waits and retries */
  | 'unsafe';

/** Options of the REST client. */
export interface AlpacaRestOptions {
  /** Origin (and optional path prefix) of the API, e.g. `https://paper-api.alpaca.markets`. */
  readonly baseUrl: string;
  readonly credentials: AlpacaCredentials;
  readonly clock: Clock;
  /** Jitter of retry backoff. */
  readonly rng: Rng;
  /** Per-request timeout (headers and body each), ms; default 10,000. */
  readonly timeoutMs?: number;
  /** A limiter shared with other clients of the same account; default a fresh 200/min bucket. */
  readonly limiter?: TokenBucket;
  readonly breaker?: CircuitBreakerOptions;
  /** Retries of safe requests after the first attempt; default 3. */
  readonly retries?: number;
  readonly backoff?: BackoffOptions;
  /** Keep-alive connections in the pool; default 4. */
  readonly connections?: number;
  /**
   * Once the connection the next request would take has been idle this long, a `GET /v2/clock` goes out on
   * it (with a free rate-limit token only; the answer is ignored), so an order after a quiet spell does not
   * pay a new TCP and TLS handshake to a server that closes idle connections. Default 20,000 ms; 0 turns it off.
   */
  readonly keepWarmMs?: number;
  readonly logger?: AlpacaLogger;
}

/** A parsed answer. */
export interface RestAnswer<T> {
  readonly status: number;
  readonly data: T;
  /** Attempts made (1 = no retry). */
  readonly attempts: number;
}

/** A REST refusal or failure, with the number of attempts made. */
export class AlpacaRestError extends AlpacaError {
  /** Attempts made before giving up (1 = the first answer was final). */
  readonly attempts: number;

  constructor(code: AlpacaErrorCode, detail: string, attempts: number, options?: { cause?: unknown; status?: number }) {
    super(code, detail, options);
    this.attempts = attempts;
  }
}

/** Attempts after a 429 (a refusal before processing, so safe to repeat for any request). */
const RATE_LIMIT_RETRIES = 8;

type Outcome =
  | { kind: 'answer'; status: number; headers: Record<string, string | string[] | undefined>; text: string }
  | { kind: 'failed'; error: Error; timeout: boolean };

/**
 * Alpaca REST over kept-alive HTTP/1.1 connections (./http1.ts: the request is on the socket when the call returns): every request waits for a rate-limit token and passes the
 * circuit breaker; safe requests retry with exponential backoff and seeded jitter; a 429 pauses the
 * limiter until Retry-After / X-RateLimit-Reset. Error messages carry Alpaca's message, never credentials.
 */
export class AlpacaRest {
  readonly limiter: TokenBucket;
  readonly breaker: CircuitBreaker;
  readonly #pool: Http1Pool;
  /** The key headers and accept, and the same with a JSON content type: fixed, so laid out once. */
  readonly #plainHeaders: Http1Headers;
  readonly #jsonHeaders: Http1Headers;
  readonly #prefix: string;
  readonly #origin: string;
  readonly #credentials: AlpacaCredentials;
  readonly #clock: Clock;
  readonly #rng: Rng;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #backoff: BackoffOptions;
  readonly #log: AlpacaLogger | undefined;

  /** @throws AlpacaError InvalidConfig for a base URL that is not http(s) */
  constructor(options: AlpacaRestOptions) {
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch (e) {
      throw new AlpacaError('InvalidConfig', `Alpaca base URL ${JSON.stringify(options.baseUrl)} is not a URL`, { cause: e });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new AlpacaError('InvalidConfig', `Alpaca base URL ${JSON.stringify(options.baseUrl)} must be http(s)`);
    }
    this.#origin = url.origin;
    this.#prefix = url.pathname.replace(/\/+$/, '');
    this.#credentials = options.credentials;
    this.#clock = options.clock;
    this.#rng = options.rng;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#retries = options.retries ?? 3;
    this.#backoff = options.backoff ?? {};
    this.#log = options.logger;
    this.limiter = options.limiter ?? new TokenBucket({ perMinute: 200 }, options.clock);
    this.breaker = new CircuitBreaker(options.breaker ?? {}, options.clock);
    // not undici: it holds every request on an idle keep-alive socket for one event-loop turn (its idle-socket
    // validation), ~0.5 ms on the order path here; nor node:http, whose request reaches the socket a tick later
    // (~0.35 ms behind the engine's other work of that tick): see http1.ts
    const fixed = { ...options.credentials.headers(), accept: 'application/json' };
    try {
      this.#plainHeaders = new Http1Headers(fixed);
      this.#jsonHeaders = new Http1Headers({ ...fixed, 'content-type': 'application/json' });
    } catch (e) {
      // names the header, never its value
      throw new AlpacaError('InvalidConfig', `Alpaca credentials cannot be sent: ${(e as Error).message}`);
    }
    const keepWarmMs = options.keepWarmMs ?? 20_000;
    if (!(Number.isFinite(keepWarmMs) && keepWarmMs >= 0)) throw new AlpacaError('InvalidConfig', `keepWarmMs must be a non-negative number of ms, got ${keepWarmMs}`);
    const tls = url.protocol === 'https:';
    this.#pool = new Http1Pool({
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port === '' ? (tls ? 443 : 80) : Number(url.port),
      tls,
      connections: options.connections ?? 4,
      ...(keepWarmMs > 0
        ? { keepWarm: { everyMs: keepWarmMs, path: `${this.#prefix}/v2/clock`, headers: this.#plainHeaders, mayRequest: () => this.limiter.tryAcquire() } }
        : {}),
    });
  }

  /** The origin requests go to (for messages; holds no credentials). */
  get origin(): string {
    return this.#origin;
  }

  /**
   * Sends one request and parses the JSON answer (undefined for an empty body).
   * @throws AlpacaRestError with a code for every failure: `UnknownOutcome` for an unsafe request that
   * may have been carried out, `CircuitOpen`, `RateLimited`, `Unauthorized`, the refusal codes for 403/404/422
   * (`InsufficientBuyingPower`, `OrderNotFound`, `InvalidOrder`, `DuplicateClientOrderId`, `NotCancelable`),
   * `VenueUnavailable` for 5xx, `Timeout`, `NetworkError`, `InvalidResponse`
   */
  async request<T>(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    options: { safety: RequestSafety; query?: Readonly<Record<string, string | undefined>>; body?: unknown } = { safety: 'safe' },
  ): Promise<RestAnswer<T>> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) qs.set(k, v);
    const fullPath = `${this.#prefix}${path}${qs.size > 0 ? `?${qs.toString()}` : ''}`;
    const what = `${method} ${path}`;
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const safe = options.safety === 'safe';
    for (let attempt = 1; ; attempt++) {
      try {
        this.breaker.admit(what);
      } catch (e) {
        throw new AlpacaRestError('CircuitOpen', (e as AlpacaError).detail, attempt - 1, { cause: e });
      }
      // a free token is taken in this turn, so the request is written before the caller's next statement
      if (!this.limiter.tryAcquire()) await this.limiter.acquire();
      const outcome = await this.#send(method, fullPath, body);
      const retriesLeft = attempt <= this.#retries;
      if (outcome.kind === 'failed') {
        this.breaker.failure();
        const code: AlpacaErrorCode = outcome.timeout ? 'Timeout' : 'NetworkError';
        const why = outcome.timeout ? `timed out after ${this.#timeoutMs} ms` : `failed: ${this.#credentials.redact(outcome.error.message)}`;
        if (!safe) {
          throw new AlpacaRestError('UnknownOutcome', `${what} ${why}; it may have been carried out: query the order by its client order id`, attempt, {
            cause: outcome.error,
          });
        }
        if (retriesLeft) {
          await this.#pause(what, attempt, `${code}`);
          continue;
        }
        throw new AlpacaRestError(code, `${what} ${why} (${attempt} attempts)`, attempt, { cause: outcome.error });
      }
      const { status, text } = outcome;
      if (status >= 200 && status < 300) {
        this.breaker.success();
        let data: T;
        try {
          data = (text === '' ? undefined : JSON.parse(text)) as T;
        } catch (e) {
          throw new AlpacaRestError('InvalidResponse', `${what} answered ${status} with a body that is not JSON`, attempt, { cause: e, status });
        }
        return { status, data, attempts: attempt };
      }
      const message = this.#credentials.redact(errorMessage(text));
      if (status === 429) {
        // a healthy refusal: the limiter, not the breaker, deals with it
        this.breaker.release();
        const until = this.#retryAt(outcome.headers);
        this.limiter.pauseUntil(until);
        this.#log?.('warn', 'alpaca-rate-limited', { request: what, retryInMs: Number((until - this.#clock.now()) / NS.ms), attempt });
        if (attempt <= Math.max(this.#retries, RATE_LIMIT_RETRIES)) continue;
        throw new AlpacaRestError('RateLimited', `${what} refused by Alpaca's rate limit (HTTP 429) ${attempt} times: ${message}`, attempt, { status });
      }
      if (status >= 500) {
        this.breaker.failure();
        if (!safe) {
          throw new AlpacaRestError('UnknownOutcome', `${what} answered HTTP ${status} (${message}); it may have been carried out: query the order by its client order id`, attempt, {
            status,
          });
        }
        if (retriesLeft) {
          await this.#pause(what, attempt, `HTTP ${status}`);
          continue;
        }
        throw new AlpacaRestError('VenueUnavailable', `${what} answered HTTP ${status} ${attempt} times: ${message}`, attempt, { status });
      }
      this.breaker.success();
      throw new AlpacaRestError(refusalCode(method, path, status, message), `${what} refused by Alpaca (HTTP ${status}): ${message}`, attempt, { status });
    }
  }

  /** Closes the kept-alive connections. */
  close(): Promise<void> {
    this.#pool.close();
    return Promise.resolve();
  }

  async #pause(what: string, attempt: number, why: string): Promise<void> {
    const delay = backoffDelayNs(attempt - 1, this.#rng, this.#backoff);
    this.#log?.('warn', 'alpaca-retry', { request: what, attempt, reason: why, delayMs: Number(delay / NS.ms) });
    await sleep(this.#clock, delay);
  }

  #retryAt(headers: Record<string, string | string[] | undefined>): bigint {
    const now = this.#clock.now();
    const header = (name: string): string | undefined => {
      const v = headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const after = header('retry-after');
    if (after !== undefined) {
      const secs = Number(after);
      if (Number.isFinite(secs) && secs >= 0) return now + BigInt(Math.ceil(secs * 1000)) * NS.ms;
      const at = Date.parse(after);
      if (!Number.isNaN(at)) return BigInt(at) * NS.ms;
    }
    const reset = Number(header('x-ratelimit-reset'));
    if (Number.isFinite(reset) && reset > 0) return BigInt(Math.ceil(reset)) * NS.s;
    return now + NS.s;
  }

  /**
   * One HTTP exchange: the answer (any status) or the failure. The timeout runs until the response headers,
   * then again until the body's end; on expiry the request is destroyed and the outcome is a timeout.
   */
  #send(method: string, path: string, body: string | undefined): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      const headers = body === undefined ? this.#plainHeaders : this.#jsonHeaders;
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (outcome: Outcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      const fail = (error: Error, timeout = false): void => finish({ kind: 'failed', error, timeout });
      let abort: (error: Error) => void = (error) => fail(error, true);
      const arm = (stage: string): void => {
        clearTimeout(timer);
        timer = setTimeout(() => abort(new Error(`no ${stage} within ${this.#timeoutMs} ms`)), this.#timeoutMs);
      };
      arm('response headers');
      try {
        const req = this.#pool.request(method, path, headers, body, {
          onHeaders: () => arm('response body'),
          onAnswer: (a) => finish({ kind: 'answer', status: a.status, headers: a.headers, text: a.text }),
          onError: (e) => fail(e),
        });
        abort = (error) => {
          fail(error, true);
          req.abort(error);
        };
      } catch (e) {
        // a path that cannot be written: nothing was sent
        fail(e as Error);
      }
    });
  }
}

function errorMessage(text: string): string {
  try {
    const b = JSON.parse(text) as Partial<AlpacaErrorBody>;
    if (typeof b.message === 'string') return typeof b.code === 'number' ? `${b.message} (code ${b.code})` : b.message;
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.length > 200 ? `${text.slice(0, 200)}...` : text === '' ? 'no message' : text;
}

function refusalCode(method: string, path: string, status: number, message: string): AlpacaErrorCode {
  const orders = path.startsWith('/v2/orders');
  if (status === 401) return 'Unauthorized';
  if (status === 403) return orders && (method === 'POST' || method === 'PATCH' || /buying power/i.test(message)) ? 'InsufficientBuyingPower' : 'Unauthorized';
  if (status === 404) return orders ? 'OrderNotFound' : 'InvalidResponse';
  if (status === 422) {
    if (/duplicate|unique/i.test(message) && /client.?order.?id/i.test(message)) return 'DuplicateClientOrderId';
    if (method === 'DELETE' || /not cancel/i.test(message)) return 'NotCancelable';
    return 'InvalidOrder';
  }
  return 'InvalidOrder';
}
