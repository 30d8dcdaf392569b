import { NS, type Clock } from '../../core/clock.js';
import { Price, Quantity } from '../../core/decimal.js';
import type { ClientOrderId, TradeId, VenueOrderId } from '../../core/ids.js';
import { Money } from '../../core/money.js';
import { Rng } from '../../core/rng.js';
import type { BalanceReport, ModifyRequest, OrderReport, OrderRequest, PositionReport, VenueEvent } from '../../model/order.js';
import type { Venue, VenueCapabilities, VenueEventHandler } from '../venue.js';
import type { AlpacaCredentials } from './credentials.js';
import { AlpacaError, REFUSAL_CODES } from './errors.js';
import {
  isWorking,
  legClientOrderId,
  nsToRfc3339,
  rfc3339ToNs,
  sideOf,
  toAlpacaOrderRequest,
  toOrderReport,
} from './mapping.js';
import type {
  AlpacaAccount,
  AlpacaClock,
  AlpacaFillActivity,
  AlpacaOrder,
  AlpacaPosition,
  AlpacaReplaceRequest,
  TradeUpdate,
  TradingStreamMessage,
} from './protocol.js';
import { TRADING_STREAM_PATH } from './protocol.js';
import { AlpacaRest, AlpacaRestError, type AlpacaLogger } from './rest.js';
import { TokenBucket, type BackoffOptions, type CircuitBreakerOptions, type TokenBucketOptions } from './resilience.js';
import { ResilientSocket, type SocketProtocol } from './socket.js';

/** Options of AlpacaVenue. */
export interface AlpacaVenueOptions {
  /** Trading REST base URL (`APCA_API_BASE_URL`), e.g. `https://paper-api.alpaca.markets`. */
  readonly baseUrl: string;
  /** Trading stream URL; default the base URL's `/stream` over ws(s). */
  readonly tradingStreamUrl?: string;
  /** Keys, from `alpacaCredentialsFromEnv()`. */
  readonly credentials: AlpacaCredentials;
  /** Timestamps (`tsInit`) and every wait (limiter, backoff, reconnect). */
  readonly clock: Clock;
  /** Seed of retry and reconnect jitter; default 1. */
  readonly seed?: number;
  /** REST rate limit; default 200 requests per minute. */
  readonly rateLimit?: TokenBucketOptions;
  readonly breaker?: CircuitBreakerOptions;
  /** Per-request timeout, ms; default 10,000. */
  readonly timeoutMs?: number;
  /** Idle time after which the next order's connection is kept warm with a `GET /v2/clock` (AlpacaRest); default 20,000 ms, 0 off. */
  readonly keepWarmMs?: number;
  /** Retries of safe REST requests; default 3. */
  readonly retries?: number;
  /** Backoff of REST retries and stream reconnects. */
  readonly backoff?: BackoffOptions;
  /** Stream ping interval, ms (0 = off); default 15,000. */
  readonly pingIntervalMs?: number;
  /** Currency of the account's cash when the account does not say; default USD. */
  readonly currency?: string;
  readonly logger?: AlpacaLogger;
}

const FILL_PAGE = 100;
/** How far before the session's first order the first catch-up starts: fills at the same instant are found again and deduplicated. */
const CATCH_UP_MARGIN_NS = NS.s;
const MAX_REPLACE_CHAIN = 64;

interface Resolved {
  readonly cid: ClientOrderId;
  readonly parent: ClientOrderId | undefined;
}

/**
 * The execution id inside a fill activity id: Alpaca's activity ids read `<time or sequence>::<execution id>`,
 * so a fill recovered from the activities gets the trade id its stream event had. Other forms are used whole.
 */
export function executionIdOfActivity(activityId: string): string {
  const i = activityId.lastIndexOf('::');
  return i >= 0 && i + 2 < activityId.length ? activityId.slice(i + 2) : activityId;
}

/** The trading stream URL for a REST base URL: same host, ws(s), `/stream`. */
export function defaultTradingStreamUrl(baseUrl: string): string {
  const u = new URL(baseUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = TRADING_STREAM_PATH;
  u.search = '';
  return u.toString();
}

/**
 * The Alpaca Trading API v2 as a Venue (the real Alpaca or the paper venue server). Orders go over REST
 * with our client order id; outcomes arrive on the trading stream's `trade_updates` and become venue
 * events, deduplicated by execution id (and by order + cumulative quantity, which both the stream and
 * the fill activities carry). After every stream reconnect the adapter re-queries the fill activities
 * since its previous catch-up and the open orders, and emits what it missed. Bracket legs are reported as `<entry>-tp`
 * (the limit leg) and `<entry>-sl` (the stop leg), the names the engine registers, whatever ids Alpaca
 * gave them. Definitive refusals of a request are events (`rejected`, `cancel-rejected`); a request whose
 * outcome is unknown rejects with `UnknownOutcome`.
 */
export class AlpacaVenue implements Venue {
  readonly name = 'alpaca';
  readonly capabilities: VenueCapabilities = Object.freeze({ brackets: true, oco: true, modify: true, fractional: true, shortSelling: true });
  readonly #options: AlpacaVenueOptions;
  readonly #clock: Clock;
  readonly #rng: Rng;
  readonly #limiter: TokenBucket;
  readonly #log: AlpacaLogger | undefined;
  #rest: AlpacaRest | undefined;
  #stream: ResilientSocket | undefined;
  #handlers: VenueEventHandler[] = [];
  /** serial processing of stream messages, catch-ups and request outcomes, so events keep their order */
  #chain: Promise<void> = Promise.resolve();
  readonly #byVenueId = new Map<string, Resolved>();
  readonly #venueIdOf = new Map<ClientOrderId, string>();
  readonly #parentOf = new Map<ClientOrderId, ClientOrderId>();
  readonly #submitted = new Set<string>();
  readonly #acked = new Set<ClientOrderId>();
  readonly #closed = new Set<ClientOrderId>();
  readonly #seenExecutions = new Set<string>();
  readonly #seenCumulative = new Set<string>();
  readonly #modifications = new Set<string>();
  /** id of the last fill activity a catch-up accounted for (Alpaca's page_token): catch-ups resume after it */
  #activityCursor: string | undefined;
  #floorNs = 0n;
  #catchUpTimer: number | undefined;
  #catchUpAttempt = 0;
  #connected = false;
  /** Alpaca charges no commission on equities */
  readonly #zeroCommission: Money;

  /** @throws AlpacaError InvalidConfig for a bad URL or rate limit */
  constructor(options: AlpacaVenueOptions) {
    this.#options = options;
    this.#clock = options.clock;
    this.#rng = new Rng(options.seed ?? 1);
    this.#log = options.logger;
    this.#limiter = new TokenBucket(options.rateLimit ?? { perMinute: 200 }, options.clock);
    this.#zeroCommission = Money.of('0', options.currency ?? 'USD');
    try {
      new URL(options.baseUrl);
    } catch (e) {
      throw new AlpacaError('InvalidConfig', `Alpaca base URL ${JSON.stringify(options.baseUrl)} is not a URL`, { cause: e });
    }
  }

  /** The REST rate limiter (shared by every request of this venue). */
  get limiter(): TokenBucket {
    return this.#limiter;
  }

  /** Times the trading stream reconnected since `connect`. */
  get reconnects(): number {
    return this.#stream?.reconnects ?? 0;
  }

  toString(): string {
    return `AlpacaVenue(${this.#options.baseUrl})`;
  }

  /**
   * Checks REST (GET /v2/account with the keys), learns the open orders, then opens the trading stream and
   * resolves once it listens to trade_updates.
   * @throws AlpacaError Unauthorized, NetworkError, Timeout, StreamError, ... when either side fails
   */
  async connect(): Promise<void> {
    if (this.#connected) return;
    const o = this.#options;
    const rest = new AlpacaRest({
      baseUrl: o.baseUrl,
      credentials: o.credentials,
      clock: this.#clock,
      rng: this.#rng,
      limiter: this.#limiter,
      ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
      ...(o.keepWarmMs === undefined ? {} : { keepWarmMs: o.keepWarmMs }),
      ...(o.breaker === undefined ? {} : { breaker: o.breaker }),
      ...(o.retries === undefined ? {} : { retries: o.retries }),
      ...(o.backoff === undefined ? {} : { backoff: o.backoff }),
      ...(o.logger === undefined ? {} : { logger: o.logger }),
    });
    this.#rest = rest;
    try {
      await rest.request<AlpacaAccount>('GET', '/v2/account', { safety: 'safe' });
      this.#floorNs = await this.#venueNow();
      for (const order of await this.#listOrders('open')) {
        const r = await this.#resolve(order);
        this.#markKnown(order, r);
        this.#lowerFloor(order);
      }
      const stream = new ResilientSocket(
        {
          url: o.tradingStreamUrl ?? defaultTradingStreamUrl(o.baseUrl),
          name: 'Alpaca trading stream',
          clock: this.#clock,
          rng: this.#rng,
          ...(o.backoff === undefined ? {} : { backoff: o.backoff }),
          ...(o.pingIntervalMs === undefined ? {} : { pingIntervalMs: o.pingIntervalMs }),
          ...(o.logger === undefined ? {} : { logger: o.logger }),
        },
        this.#protocol(),
      );
      this.#stream = stream;
      await stream.start();
      this.#connected = true;
    } catch (e) {
      await this.#teardown();
      throw e;
    }
  }

  /** Closes the stream (no reconnect) and the REST pool, after the events already received are delivered. */
  async disconnect(): Promise<void> {
    this.#connected = false;
    await this.#teardown();
  }

  onEvent(handler: VenueEventHandler): () => void {
    this.#handlers = [...this.#handlers, handler];
    return () => {
      this.#handlers = this.#handlers.filter((h) => h !== handler);
    };
  }

  /**
   * POST /v2/orders with client_order_id = our id; resolves once Alpaca took it (an `accepted` event) or
   * refused it (a `rejected` event carrying Alpaca's message). Never retried after it may have arrived.
   * @throws AlpacaError UnknownOutcome (timeout, network error, 5xx: query orderReport) | CircuitOpen |
   * RateLimited | Unauthorized | NotConnected
   */
  async submit(order: OrderRequest): Promise<void> {
    const rest = this.#requireRest('submit');
    const id = order.clientOrderId;
    this.#submitted.add(id);
    let placed: AlpacaOrder;
    try {
      placed = (await rest.request<AlpacaOrder>('POST', '/v2/orders', { safety: 'unsafe', body: toAlpacaOrderRequest(order) })).data;
    } catch (e) {
      if (e instanceof AlpacaRestError && e.code === 'DuplicateClientOrderId' && e.attempts > 1) {
        // an earlier attempt answered 429 yet placed the order: it is ours
        const found = await this.#fetchByClientId(id);
        if (found !== undefined) {
          await this.#serial(async () => this.#onPlaced(found, id));
          return;
        }
      }
      if (e instanceof AlpacaError && REFUSAL_CODES.has(e.code)) {
        await this.#serial(() => this.#emit({ kind: 'rejected', clientOrderId: id, reason: e.message, tsEvent: this.#clock.now(), tsInit: this.#clock.now() }));
        return;
      }
      throw e;
    }
    await this.#serial(async () => this.#onPlaced(placed, id));
  }

  /**
   * PATCH /v2/orders/{id} (replace): a `modified` event with the new quantity and prices, or `cancel-rejected`
   * when Alpaca refuses. Alpaca's replacement order keeps reporting under our client order id.
   * @throws AlpacaError UnknownOutcome | CircuitOpen | RateLimited | NotConnected
   */
  async modify(request: ModifyRequest): Promise<void> {
    const rest = this.#requireRest('modify');
    const id = request.clientOrderId;
    const now = this.#clock.now();
    const venueId = await this.#venueIdFor(id);
    if (venueId === undefined) {
      await this.#serial(() => this.#emit({ kind: 'cancel-rejected', clientOrderId: id, reason: `modify rejected: unknown order ${id}`, tsEvent: now, tsInit: now }));
      return;
    }
    const body: AlpacaReplaceRequest = {};
    if (request.quantity !== undefined) body.qty = request.quantity.toString();
    if (request.limitPrice !== undefined) body.limit_price = request.limitPrice.toString();
    if (request.stopPrice !== undefined) body.stop_price = request.stopPrice.toString();
    let replacement: AlpacaOrder;
    try {
      replacement = (await rest.request<AlpacaOrder>('PATCH', `/v2/orders/${encodeURIComponent(venueId)}`, { safety: 'unsafe', body })).data;
    } catch (e) {
      if (e instanceof AlpacaError && REFUSAL_CODES.has(e.code)) {
        await this.#serial(() => this.#emit({ kind: 'cancel-rejected', clientOrderId: id, reason: `modify rejected: ${e.message}`, tsEvent: now, tsInit: now }));
        return;
      }
      throw e;
    }
    await this.#serial(() => {
      const r: Resolved = { cid: id, parent: this.#parentOf.get(id) };
      this.#learn(replacement, r);
      this.#emitModified(replacement, r.cid);
    });
  }

  /**
   * DELETE /v2/orders/{venue id} (looked up by client order id and cached); the `canceled` event comes from
   * the stream. An unknown or finished order gets a `cancel-rejected` event with Alpaca's message. The DELETE
   * is retried (it is idempotent); when every attempt failed, the outcome is unknown.
   * @throws AlpacaError UnknownOutcome | CircuitOpen | RateLimited | NotConnected
   */
  async cancel(clientOrderId: ClientOrderId): Promise<void> {
    const rest = this.#requireRest('cancel');
    const now = this.#clock.now();
    const venueId = await this.#venueIdFor(clientOrderId);
    const refuse = (reason: string): Promise<void> =>
      this.#serial(() => this.#emit({ kind: 'cancel-rejected', clientOrderId, reason, tsEvent: now, tsInit: now }));
    if (venueId === undefined) return refuse(`unknown order ${clientOrderId}: Alpaca has no order with this client order id`);
    try {
      await rest.request('DELETE', `/v2/orders/${encodeURIComponent(venueId)}`, { safety: 'safe' });
    } catch (e) {
      if (e instanceof AlpacaError && REFUSAL_CODES.has(e.code)) return refuse(e.message);
      if (e instanceof AlpacaError && (e.code === 'Timeout' || e.code === 'NetworkError' || e.code === 'VenueUnavailable')) {
        throw new AlpacaError('UnknownOutcome', `cancel of ${clientOrderId} may or may not have happened: ${e.detail}; query orderReport(${clientOrderId})`, { cause: e });
      }
      throw e;
    }
  }

  /**
   * Open orders (GET /v2/orders?status=open&nested=true), bracket legs flattened under their names; with
   * `includeClosed`, the most recent 500 orders of any status.
   * @throws AlpacaError on a REST failure
   */
  async orderReports(options?: { includeClosed?: boolean }): Promise<OrderReport[]> {
    this.#requireRest('orderReports');
    const all = options?.includeClosed === true;
    const out: OrderReport[] = [];
    const seen = new Set<string>();
    const add = async (o: AlpacaOrder, parent: Resolved | undefined): Promise<void> => {
      if (seen.has(o.id)) return;
      seen.add(o.id);
      const r = parent === undefined ? await this.#resolve(o) : { cid: legClientOrderId(parent.cid, o), parent: parent.cid };
      this.#learn(o, r);
      if (o.status !== 'replaced' && (all || isWorking(o.status))) out.push(toOrderReport(o, r.cid, r.parent));
      for (const leg of o.legs ?? []) await add(leg, r);
    };
    for (const o of await this.#listOrders(all ? 'all' : 'open')) await add(o, undefined);
    return out;
  }

  /**
   * One order by our client order id (GET /v2/orders:by_client_order_id, following replacements; legs via
   * their entry), or undefined when Alpaca has none.
   * @throws AlpacaError on a REST failure other than 404
   */
  async orderReport(clientOrderId: ClientOrderId): Promise<OrderReport | undefined> {
    this.#requireRest('orderReport');
    const o = await this.#fetchByClientId(clientOrderId);
    return o === undefined ? undefined : toOrderReport(o, clientOrderId, this.#parentOf.get(clientOrderId));
  }

  /** GET /v2/positions: signed quantities exactly as Alpaca sends them, by symbol. @throws AlpacaError on a REST failure */
  async positionReports(): Promise<PositionReport[]> {
    const rest = this.#requireRest('positionReports');
    const positions = (await rest.request<AlpacaPosition[]>('GET', '/v2/positions', { safety: 'safe' })).data ?? [];
    return positions
      .filter((p) => !Quantity.of(p.qty.replace(/^-/, '')).isZero())
      .sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0))
      .map((p) => Object.freeze({ symbol: p.symbol, signedQty: p.qty, avgPx: Price.of(p.avg_entry_price) }));
  }

  /** GET /v2/account: the cash balance in the account's currency. @throws AlpacaError on a REST failure */
  async balanceReport(): Promise<BalanceReport> {
    const rest = this.#requireRest('balanceReport');
    const a = (await rest.request<AlpacaAccount>('GET', '/v2/account', { safety: 'safe' })).data;
    const currency = a.currency === '' ? (this.#options.currency ?? 'USD') : a.currency;
    return Object.freeze({ balances: new Map([[currency, Money.of(a.cash, currency)]]) });
  }

  /**
   * Runs the reconnect catch-up now (fill activities after the previous catch-up's last one, end states of orders held as working,
   * acks of open orders) and resolves with the number of fills recovered: for a caller that suspects lost
   * stream messages without a reconnect (a reconciliation pass).
   * @throws AlpacaError NotConnected, or on a REST failure
   */
  async recover(): Promise<number> {
    this.#requireRest('recover');
    let recovered = 0;
    await this.#serial(async () => {
      recovered = await this.#catchUp();
    });
    return recovered;
  }

  /**
   * Replays as fill events every fill Alpaca made after `afterNs` (epoch ns) that this adapter has not
   * delivered yet, by execution id, so a caller that counts fills by that id applies each once: how a
   * restarted engine learns the fills made while it was down (pass the time of the last fill it recorded).
   * @throws AlpacaError NotConnected, or on a REST failure
   */
  async recoverFills(afterNs: bigint): Promise<number> {
    this.#requireRest('recoverFills');
    await this.#serial(async () => {
      if (afterNs < this.#floorNs) {
        this.#floorNs = afterNs;
        this.#activityCursor = undefined;
      }
    });
    return this.recover();
  }

  /** Drops the trading stream's socket as a network fault would (tests; the venue reconnects and catches up). */
  dropStream(): void {
    this.#stream?.drop();
  }

  /** Resolves once every stream message and catch-up received so far has been turned into events. */
  async settled(): Promise<void> {
    let chain: Promise<void>;
    do {
      chain = this.#chain;
      await chain;
    } while (chain !== this.#chain);
  }

  // ---- internals

  #requireRest(what: string): AlpacaRest {
    if (this.#rest === undefined || !this.#connected) throw new AlpacaError('NotConnected', `${what} on the Alpaca venue before connect() (or after disconnect())`);
    return this.#rest;
  }

  async #teardown(): Promise<void> {
    if (this.#catchUpTimer !== undefined) this.#clock.cancelTimer(this.#catchUpTimer);
    this.#catchUpTimer = undefined;
    const stream = this.#stream;
    this.#stream = undefined;
    await stream?.stop();
    await this.settled().catch(() => undefined);
    const rest = this.#rest;
    this.#rest = undefined;
    await rest?.close();
  }

  /** The venue's own time (GET /v2/clock), the floor of the first catch-up; our clock when it has none. */
  async #venueNow(): Promise<bigint> {
    try {
      const c = (await (this.#rest as AlpacaRest).request<AlpacaClock>('GET', '/v2/clock', { safety: 'safe' })).data;
      return rfc3339ToNs(c.timestamp);
    } catch (e) {
      this.#log?.('warn', 'alpaca-clock-unavailable', { error: (e as Error).message });
      return this.#clock.now();
    }
  }

  #serial(task: () => void | Promise<void>): Promise<void> {
    const run = this.#chain.then(task);
    this.#chain = run.catch((e: unknown) => {
      this.#log?.('error', 'alpaca-event-processing-failed', { error: (e as Error).message });
    });
    return run;
  }

  /** Queues a task whose failure is only logged (stream messages, catch-ups). */
  #enqueue(task: () => void | Promise<void>): void {
    this.#serial(task).catch(() => undefined);
  }

  #emit(event: VenueEvent): void {
    const frozen = Object.freeze(event);
    for (const h of this.#handlers) {
      try {
        h(frozen);
      } catch (e) {
        this.#log?.('error', 'alpaca-event-handler-failed', { kind: event.kind, error: (e as Error).message });
      }
    }
  }

  /** Open orders, or the 500 most recent of any status; oldest first, legs nested in their entries. */
  async #listOrders(status: 'open' | 'all'): Promise<AlpacaOrder[]> {
    const rest = this.#rest as AlpacaRest;
    const q = { status, nested: 'true', limit: '500', direction: 'desc' };
    return ((await rest.request<AlpacaOrder[]>('GET', '/v2/orders', { safety: 'safe', query: q })).data ?? []).reverse();
  }

  async #getOrder(venueId: string): Promise<AlpacaOrder | undefined> {
    try {
      return (await (this.#rest as AlpacaRest).request<AlpacaOrder>('GET', `/v2/orders/${encodeURIComponent(venueId)}`, { safety: 'safe', query: { nested: 'true' } })).data;
    } catch (e) {
      if (e instanceof AlpacaError && e.code === 'OrderNotFound') return undefined;
      throw e;
    }
  }

  /** Follows `replaced_by` to the order that currently carries the client order id. */
  async #current(o: AlpacaOrder): Promise<AlpacaOrder> {
    let cur = o;
    for (let i = 0; i < MAX_REPLACE_CHAIN && cur.status === 'replaced' && cur.replaced_by !== null && cur.replaced_by !== cur.id; i++) {
      const next = await this.#getOrder(cur.replaced_by);
      if (next === undefined) break;
      cur = next;
    }
    return cur;
  }

  /** The current Alpaca order for our client order id (legs through their entry), learning its ids; undefined when Alpaca has none. */
  async #fetchByClientId(id: ClientOrderId): Promise<AlpacaOrder | undefined> {
    const rest = this.#rest as AlpacaRest;
    const known = this.#venueIdOf.get(id);
    if (known !== undefined) {
      const o = await this.#getOrder(known);
      if (o !== undefined) {
        const cur = await this.#current(o);
        this.#learn(cur, { cid: id, parent: this.#parentOf.get(id) });
        return cur;
      }
    }
    let direct: AlpacaOrder | undefined;
    try {
      direct = (await rest.request<AlpacaOrder>('GET', '/v2/orders:by_client_order_id', { safety: 'safe', query: { client_order_id: id, nested: 'true' } })).data;
    } catch (e) {
      if (!(e instanceof AlpacaError && e.code === 'OrderNotFound')) throw e;
    }
    const leg = /^(.+)-(tp|sl)$/.exec(id);
    if (direct !== undefined) {
      const cur = await this.#current(direct);
      const r = this.#byVenueId.get(direct.id) ?? { cid: id, parent: leg !== null && this.#parentOf.has(id) ? this.#parentOf.get(id) : undefined };
      this.#learn(cur, { cid: id, parent: r.parent });
      return cur;
    }
    if (leg === null) return undefined;
    const parent = await this.#fetchByClientId(leg[1] as ClientOrderId);
    if (parent === undefined) return undefined;
    const match = (parent.legs ?? []).find((l) => legClientOrderId(parent.client_order_id as ClientOrderId, l) === `${leg[1] as string}-${leg[2] as string}` || legClientOrderId(leg[1] as ClientOrderId, l) === id);
    if (match === undefined) return undefined;
    const cur = await this.#current(match);
    this.#learn(cur, { cid: id, parent: leg[1] as ClientOrderId });
    return cur;
  }

  async #venueIdFor(id: ClientOrderId): Promise<string | undefined> {
    const known = this.#venueIdOf.get(id);
    if (known !== undefined) return known;
    return (await this.#fetchByClientId(id))?.id;
  }

  /** Records under which of our ids an Alpaca order (and its legs) reports. */
  #learn(o: AlpacaOrder, r: Resolved): void {
    this.#byVenueId.set(o.id, r);
    if (o.status !== 'replaced') this.#venueIdOf.set(r.cid, o.id);
    if (r.parent !== undefined) this.#parentOf.set(r.cid, r.parent);
    for (const leg of o.legs ?? []) this.#learn(leg, { cid: legClientOrderId(r.cid, leg), parent: r.cid });
  }

  /** Marks an order learned from REST as already acknowledged (or finished), so no synthetic event repeats it. */
  #markKnown(o: AlpacaOrder, r: Resolved): void {
    if (o.status !== 'pending_new') this.#acked.add(r.cid);
    if (!isWorking(o.status) && o.status !== 'replaced') this.#closed.add(r.cid);
    for (const leg of o.legs ?? []) this.#markKnown(leg, { cid: legClientOrderId(r.cid, leg), parent: r.cid });
  }

  /**
   * Our ids for an Alpaca order: learned ones; a replacement's via the order it replaces; an unknown bracket
   * leg via a search of the recent orders for its entry; otherwise the order's own client_order_id.
   */
  async #resolve(o: AlpacaOrder): Promise<Resolved> {
    const known = this.#byVenueId.get(o.id);
    if (known !== undefined) {
      this.#learn(o, known);
      return known;
    }
    if (o.replaces !== null && o.replaces !== o.id) {
      const prev = this.#byVenueId.get(o.replaces) ?? (await this.#resolveVenueId(o.replaces));
      if (prev !== undefined) {
        this.#learn(o, prev);
        return prev;
      }
    }
    const legLike = o.order_class !== '' && o.order_class !== 'simple' && (o.legs === null || o.legs.length === 0) && !this.#submitted.has(o.client_order_id);
    if (legLike) {
      for (const p of await this.#listOrders('all')) {
        if ((p.legs ?? []).some((l) => l.id === o.id)) {
          const pr = await this.#resolve(p);
          this.#learn(p, pr);
          const found = this.#byVenueId.get(o.id);
          if (found !== undefined) return found;
        }
      }
    }
    const r: Resolved = { cid: o.client_order_id as ClientOrderId, parent: undefined };
    this.#learn(o, r);
    return r;
  }

  async #resolveVenueId(venueId: string): Promise<Resolved | undefined> {
    const o = await this.#getOrder(venueId);
    return o === undefined ? undefined : this.#resolve(o);
  }

  /**
   * The first catch-up starts no later than the creation of any order that was working in this session: a
   * venue's clock may move backwards (the paper server's jumps to replayed bar time at its first bar).
   */
  #lowerFloor(o: AlpacaOrder): void {
    const created = rfc3339ToNs(o.created_at);
    if (created < this.#floorNs) this.#floorNs = created;
  }

  #onPlaced(o: AlpacaOrder, id: ClientOrderId): void {
    this.#lowerFloor(o);
    const r: Resolved = { cid: id, parent: undefined };
    this.#learn(o, r);
    if (o.status === 'rejected') {
      this.#close(id, { kind: 'rejected', clientOrderId: id, reason: 'rejected by Alpaca', tsEvent: rfc3339ToNs(o.updated_at), tsInit: this.#clock.now() });
      return;
    }
    if (o.status !== 'pending_new') this.#accept(id, o.id, rfc3339ToNs(o.updated_at));
  }

  #accept(cid: ClientOrderId, venueId: string, ts: bigint): void {
    if (this.#acked.has(cid)) return;
    this.#acked.add(cid);
    this.#emit({ kind: 'accepted', clientOrderId: cid, venueOrderId: venueId as VenueOrderId, tsEvent: ts, tsInit: this.#clock.now() });
  }

  #close(cid: ClientOrderId, event: VenueEvent): void {
    if (this.#closed.has(cid)) return;
    this.#closed.add(cid);
    this.#emit(event);
  }

  #emitModified(o: AlpacaOrder, cid: ClientOrderId): void {
    const qty = o.qty ?? o.filled_qty;
    const key = `${cid}|${o.id}|${qty}|${o.limit_price ?? ''}|${o.stop_price ?? ''}`;
    if (this.#modifications.has(key)) return;
    this.#modifications.add(key);
    this.#emit({
      kind: 'modified',
      clientOrderId: cid,
      venueOrderId: o.id as VenueOrderId,
      quantity: Quantity.of(qty),
      limitPrice: o.limit_price === null ? undefined : Price.of(o.limit_price),
      stopPrice: o.stop_price === null ? undefined : Price.of(o.stop_price),
      tsEvent: rfc3339ToNs(o.updated_at),
      tsInit: this.#clock.now(),
    });
  }

  /** Emits one fill unless its execution id or (order, cumulative quantity) was seen; an `accepted` goes first when none did. */
  #fill(r: Resolved, f: { order: AlpacaOrder; tradeId: string; qty: string; price: string; cumQty: string; leavesQty: string; ts: bigint }): void {
    const cumKey = `${f.order.id}:${Quantity.of(f.cumQty).normalize().toString()}`;
    if (this.#seenExecutions.has(f.tradeId) || this.#seenCumulative.has(cumKey)) return;
    this.#seenExecutions.add(f.tradeId);
    this.#seenCumulative.add(cumKey);
    this.#accept(r.cid, f.order.id, f.ts);
    const leaves = Quantity.of(f.leavesQty);
    this.#emit({
      kind: 'filled',
      clientOrderId: r.cid,
      venueOrderId: f.order.id as VenueOrderId,
      tradeId: f.tradeId as TradeId,
      symbol: f.order.symbol,
      side: sideOf(f.order.side),
      lastQty: Quantity.of(f.qty),
      lastPx: Price.of(f.price),
      commission: this.#zeroCommission,
      liquiditySide: f.order.type === 'limit' ? 'Maker' : 'Taker',
      leavesQty: leaves,
      tsEvent: f.ts,
      tsInit: this.#clock.now(),
    });
    if (leaves.isZero()) this.#closed.add(r.cid);
  }

  async #onTradeUpdate(u: TradeUpdate): Promise<void> {
    const o = u.order;
    const r = await this.#resolve(o);
    const ts = rfc3339ToNs(u.timestamp);
    const now = this.#clock.now();
    switch (u.event) {
      case 'new':
        this.#accept(r.cid, o.id, ts);
        break;
      case 'fill':
      case 'partial_fill': {
        if (u.execution_id === undefined || u.qty === undefined || u.price === undefined) {
          this.#log?.('error', 'alpaca-fill-without-execution', { clientOrderId: r.cid, event: u.event });
          break;
        }
        // Price: a signed decimal, so an inconsistent order snapshot cannot throw here
        const leaves = Price.of(o.qty ?? o.filled_qty).sub(Price.of(o.filled_qty));
        this.#fill(r, { order: o, tradeId: u.execution_id, qty: u.qty, price: u.price, cumQty: o.filled_qty, leavesQty: leaves.isNegative() ? '0' : leaves.toString(), ts });
        break;
      }
      case 'canceled':
        this.#close(r.cid, { kind: 'canceled', clientOrderId: r.cid, venueOrderId: o.id as VenueOrderId, reason: 'canceled at Alpaca', tsEvent: ts, tsInit: now });
        break;
      case 'expired':
      case 'done_for_day':
        this.#close(r.cid, { kind: 'expired', clientOrderId: r.cid, venueOrderId: o.id as VenueOrderId, tsEvent: ts, tsInit: now });
        break;
      case 'rejected':
        this.#close(r.cid, { kind: 'rejected', clientOrderId: r.cid, reason: 'rejected by Alpaca', tsEvent: ts, tsInit: now });
        break;
      case 'replaced': {
        const next = o.replaced_by === null || o.replaced_by === o.id ? o : await this.#getOrder(o.replaced_by);
        if (next !== undefined) {
          this.#learn(next, r);
          this.#emitModified(next, r.cid);
        }
        break;
      }
      case 'order_cancel_rejected':
        this.#emit({ kind: 'cancel-rejected', clientOrderId: r.cid, reason: 'cancel rejected by Alpaca', tsEvent: ts, tsInit: now });
        break;
      case 'order_replace_rejected':
        this.#emit({ kind: 'cancel-rejected', clientOrderId: r.cid, reason: 'modify rejected by Alpaca', tsEvent: ts, tsInit: now });
        break;
      default:
        // pending_new, pending_cancel, pending_replace, calculated, stopped, suspended: no state change of ours
        break;
    }
  }

  /**
   * After a reconnect: fill activities after the previous catch-up's last one (paged; the first catch-up
   * starts at the session's first order; each order looked up for its client
   * id), then orders we hold as working that are no longer open (their end state), then open orders never
   * acknowledged. A failure retries with backoff while connected.
   */
  async #catchUp(): Promise<number> {
    const rest = this.#rest;
    if (rest === undefined) return 0;
    const since = this.#floorNs - CATCH_UP_MARGIN_NS;
    let recovered = 0;
    for (;;) {
      const token = this.#activityCursor;
      const page = (
        await rest.request<AlpacaFillActivity[]>('GET', '/v2/account/activities/FILL', {
          safety: 'safe',
          query: { after: nsToRfc3339(since), direction: 'asc', page_size: String(FILL_PAGE), page_token: token },
        })
      ).data ?? [];
      for (const a of page) {
        const cumKey = `${a.order_id}:${Quantity.of(a.cum_qty).normalize().toString()}`;
        if (!this.#seenExecutions.has(executionIdOfActivity(a.id)) && !this.#seenCumulative.has(cumKey)) {
          const order = await this.#getOrder(a.order_id);
          if (order === undefined) {
            this.#log?.('error', 'alpaca-fill-for-unknown-order', { orderId: a.order_id, activity: a.id });
          } else {
            const r = await this.#resolve(order);
            this.#fill(r, { order, tradeId: executionIdOfActivity(a.id), qty: a.qty, price: a.price, cumQty: a.cum_qty, leavesQty: a.leaves_qty, ts: rfc3339ToNs(a.transaction_time) });
            recovered++;
          }
        }
        // every activity up to here is accounted for: the next catch-up starts after it
        this.#activityCursor = a.id;
      }
      if (page.length < FILL_PAGE) break;
    }
    const open = await this.#listOrders('open');
    const openIds = new Set<ClientOrderId>();
    for (const o of open) {
      const r = await this.#resolve(o);
      const visit = (x: AlpacaOrder, xr: Resolved): void => {
        if (isWorking(x.status)) {
          openIds.add(xr.cid);
          if (x.status !== 'pending_new' && x.status !== 'held') this.#accept(xr.cid, x.id, rfc3339ToNs(x.updated_at));
        }
        for (const leg of x.legs ?? []) visit(leg, { cid: legClientOrderId(xr.cid, leg), parent: xr.cid });
      };
      visit(o, r);
    }
    const now = this.#clock.now();
    for (const cid of [...this.#acked]) {
      if (this.#closed.has(cid) || openIds.has(cid)) continue;
      const venueId = this.#venueIdOf.get(cid);
      if (venueId === undefined) continue;
      const fetched = await this.#getOrder(venueId);
      if (fetched === undefined) continue;
      const o = await this.#current(fetched);
      const ts = rfc3339ToNs(o.updated_at);
      if (o.status === 'canceled') this.#close(cid, { kind: 'canceled', clientOrderId: cid, venueOrderId: o.id as VenueOrderId, reason: 'canceled at Alpaca (found after a reconnect)', tsEvent: ts, tsInit: now });
      else if (o.status === 'expired' || o.status === 'done_for_day') this.#close(cid, { kind: 'expired', clientOrderId: cid, venueOrderId: o.id as VenueOrderId, tsEvent: ts, tsInit: now });
      else if (o.status === 'rejected') this.#close(cid, { kind: 'rejected', clientOrderId: cid, reason: 'rejected by Alpaca (found after a reconnect)', tsEvent: ts, tsInit: now });
      else if (o.status === 'filled') this.#closed.add(cid);
    }
    this.#log?.('info', 'alpaca-caught-up', { recoveredFills: recovered, openOrders: openIds.size });
    return recovered;
  }

  #scheduleCatchUp(): void {
    this.#enqueue(async () => {
      if (!this.#connected) return;
      try {
        await this.#catchUp();
        this.#catchUpAttempt = 0;
      } catch (e) {
        const delay = 200n * NS.ms * BigInt(2 ** Math.min(this.#catchUpAttempt++, 6));
        this.#log?.('warn', 'alpaca-catch-up-failed', { error: (e as Error).message, retryInMs: Number(delay / NS.ms) });
        if (this.#catchUpTimer !== undefined) this.#clock.cancelTimer(this.#catchUpTimer);
        this.#catchUpTimer = this.#clock.setTimer(this.#clock.now() + delay, () => {
          this.#catchUpTimer = undefined;
          this.#scheduleCatchUp();
        });
      }
    });
  }

  #protocol(): SocketProtocol {
    const creds = this.#options.credentials;
    let stage: 'auth' | 'listen' = 'auth';
    return {
      open: (send) => {
        stage = 'auth';
        send(creds.streamAuth());
      },
      handshake: (frame, send) => {
        const m = frame as Partial<TradingStreamMessage>;
        if (stage === 'auth' && m.stream === 'authorization') {
          const status = (m.data as { status?: string } | undefined)?.status;
          if (status !== 'authorized') throw new AlpacaError('Unauthorized', `the Alpaca trading stream refused the keys (status ${String(status)})`);
          stage = 'listen';
          send({ action: 'listen', data: { streams: ['trade_updates'] } });
          return false;
        }
        if (stage === 'listen' && m.stream === 'listening') {
          const d = m.data as { streams?: string[]; error?: string } | undefined;
          if (d?.error !== undefined || !(d?.streams ?? []).includes('trade_updates')) {
            throw new AlpacaError('StreamError', `the Alpaca trading stream did not listen to trade_updates: ${d?.error ?? JSON.stringify(d?.streams ?? [])}`);
          }
          return true;
        }
        return false;
      },
      message: (frame) => {
        const m = frame as Partial<TradingStreamMessage>;
        if (m.stream !== 'trade_updates') return;
        const u = m.data as TradeUpdate;
        // an update that cannot be applied is not dropped silently: a catch-up finds its effect from REST
        this.#serial(() => this.#onTradeUpdate(u)).catch(() => this.#scheduleCatchUp());
      },
      ready: (reconnect) => {
        if (reconnect) this.#scheduleCatchUp();
      },
    };
  }
}
