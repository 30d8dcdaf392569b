import { Decimal, Price, Quantity, priceFromFloat } from '../../core/decimal.js';
import { clientOrderId as asClientOrderId } from '../../core/ids.js';
import { InstrumentId } from '../../core/ids.js';
import { Money } from '../../core/money.js';
import { Rng, type RngState } from '../../core/rng.js';
import { nsToIso } from '../../core/clock.js';
import type { Bar } from '../../model/bar.js';
import { makeInstrument, type Instrument } from '../../model/instrument.js';
import type { OrderRequest, VenueEvent } from '../../model/order.js';
import { formatDate, localDayOf } from '../../session/civil.js';
import { SimulatedVenue, type SimulatedVenueState } from '../../venues/simulated/simulated-venue.js';
import type {
  AlpacaAccount,
  AlpacaFillActivity,
  AlpacaOrder,
  AlpacaOrderClass,
  AlpacaOrderStatus,
  AlpacaOrderType,
  AlpacaPosition,
  AlpacaSide,
  AlpacaTimeInForce,
  TradeUpdate,
  TradeUpdateEvent,
} from '../../venues/alpaca/protocol.js';
import { ApiError, PaperServerError } from './errors.js';
import { uuidFrom } from './faults.js';
import { canonicalDecimal, type ParsedOrder } from './order-request.js';

/** Name of the simulated venue inside the paper server (part of its persisted configuration). */
export const PAPER_VENUE_NAME = 'ALPACA-PAPER';
const USD = 'USD';
const NY = 'America/New_York';
const PRICE_PRECISION = 4;
const FRACTIONAL_LOT = '0.000000001';

/** An Alpaca order as the server keeps it; `internalId` is the simulated venue's client order id. */
export interface OrderMeta {
  readonly id: string;
  readonly clientOrderId: string;
  readonly internalId: string;
  readonly symbol: string;
  readonly side: AlpacaSide;
  readonly type: AlpacaOrderType;
  readonly tif: AlpacaTimeInForce;
  qty: string | null;
  readonly notional: string | null;
  limitPrice: string | null;
  stopPrice: string | null;
  readonly extendedHours: boolean;
  readonly orderClass: AlpacaOrderClass;
  /** Alpaca ids of a bracket entry's legs: take-profit, then stop-loss (a replaced leg's id is swapped for its replacement's). */
  legs: string[];
  /** Alpaca id of a leg's entry. */
  readonly parent: string | null;
  status: AlpacaOrderStatus;
  /** Filled quantity, canonical decimal. */
  filledQty: string;
  /** Sum of price x quantity over fills, exact decimal. */
  filledCost: string;
  readonly createdNs: bigint;
  updatedNs: bigint;
  filledNs: bigint | null;
  canceledNs: bigint | null;
  expiredNs: bigint | null;
  failedNs: bigint | null;
  /** Replace chain: the order this one replaced, the order that replaced this one, and when. */
  replaces?: string | null;
  replacedBy?: string | null;
  replacedNs?: bigint | null;
}

/** A validated `PATCH /v2/orders/{id}` body. */
export interface ReplaceRequest {
  readonly qty?: string;
  readonly limitPrice?: string;
  readonly stopPrice?: string;
  readonly clientOrderId?: string;
}

/** The broker's persisted scalars (orders and fills are persisted row by row). */
export interface BrokerScalars {
  readonly symbols: readonly string[];
  readonly fractional: boolean;
  readonly startingCash: string;
  readonly accountId: string;
  readonly createdNs: bigint;
  readonly clockNs: bigint;
  readonly cash: string;
  readonly lastEquity: string;
  readonly equityDay: string;
  readonly positions: readonly (readonly [string, string])[];
  readonly lastClose: readonly (readonly [string, number])[];
  readonly prevClose: readonly (readonly [string, number])[];
  readonly lastDay: readonly (readonly [string, string])[];
  readonly fillSeq: number;
  readonly idRng: RngState;
}

/** One fill activity row as persisted: its order in the log, time (epoch ms) and the activity. */
export interface FillRow {
  readonly seq: number;
  readonly timeMs: number;
  readonly activity: AlpacaFillActivity;
}

/** Options of a new broker. */
export interface BrokerOptions {
  readonly symbols: readonly string[];
  readonly fractional: boolean;
  readonly startingCash: string;
  /** Accept orders for symbols not in `symbols` (added on first use). */
  readonly dynamicSymbols: boolean;
  readonly seed: number;
  /** Server time before any bar is shown, epoch ns. */
  readonly clockNs: bigint;
}

const OPEN_STATUSES: ReadonlySet<AlpacaOrderStatus> = new Set<AlpacaOrderStatus>([
  'new',
  'partially_filled',
  'pending_new',
  'accepted',
  'held',
  'pending_cancel',
  'pending_replace',
  'accepted_for_bidding',
]);

/** Whether an Alpaca order status is still open (cancelable). */
export function isOpenStatus(status: AlpacaOrderStatus): boolean {
  return OPEN_STATUSES.has(status);
}

function nyDay(tsNs: bigint): string {
  return formatDate(localDayOf(NY, Number(tsNs / 1_000_000n)));
}

/** The instrument the paper venue trades for a US equity symbol: tick 0.0001 (sub-penny below $1), whole or fractional shares. */
export function paperInstrument(symbol: string, fractional: boolean): Instrument {
  return makeInstrument({
    id: InstrumentId.of(symbol, 'ALPACA'),
    assetClass: 'equity',
    tickSize: '0.0001',
    lotSize: fractional ? FRACTIONAL_LOT : '1',
    baseCurrency: symbol.replace(/[^A-Za-z0-9]/g, '').slice(0, 16) || 'SHARE',
    quoteCurrency: USD,
    calendarId: 'XNYS',
  });
}

function buildVenue(symbols: readonly string[], fractional: boolean, startingCash: string): SimulatedVenue {
  return SimulatedVenue.defaults({
    instruments: symbols.map((s) => paperInstrument(s, fractional)),
    startingBalances: [Money.of(startingCash, USD)],
    name: PAPER_VENUE_NAME,
  })
    .accountType('margin')
    .fractional(fractional)
    .sessionDay(nyDay)
    .build();
}

/** A decimal's shortest text (no trailing fraction zeros). */
export function trimDecimal(text: string): string {
  const neg = text.startsWith('-');
  const c = canonicalDecimal(neg ? text.slice(1) : text);
  return neg && !/^0(\.0*)?$/.test(c) ? `-${c}` : c;
}

function iso(ns: bigint | null): string | null {
  return ns === null ? null : nsToIso(ns);
}

function closePrice(close: number): Price {
  return priceFromFloat(close, PRICE_PRECISION);
}

/**
 * Alpaca's order semantics on top of the simulated venue: maps REST requests to `OrderRequest`s (venue
 * client order id = the Alpaca order id), venue events to trade updates, fill activities and Alpaca order
 * objects, and keeps what Alpaca shows that the venue does not (ids, timestamps, held bracket legs).
 * Every method is synchronous; what a call produced is taken with `drain` after the caller persisted it.
 */
export class PaperBroker {
  #venue: SimulatedVenue;
  #symbols: string[];
  readonly #fractional: boolean;
  readonly #startingCash: string;
  readonly #dynamicSymbols: boolean;
  readonly #accountId: string;
  readonly #createdNs: bigint;
  readonly #orders = new Map<string, OrderMeta>();
  readonly #byInternal = new Map<string, string>();
  readonly #byClient = new Map<string, string>();
  readonly #positions = new Map<string, Decimal>();
  readonly #lastClose = new Map<string, number>();
  readonly #prevClose = new Map<string, number>();
  readonly #lastDay = new Map<string, string>();
  #cash: Money;
  #lastEquity: Money;
  #equityDay: string;
  #clockNs: bigint;
  #fillSeq = 0;
  #idRng: Rng;
  #unsubscribe: () => void = () => undefined;
  #submitting: string | undefined;
  #syncReject: string | undefined;
  #updates: TradeUpdate[] = [];
  #fills: FillRow[] = [];
  readonly #dirty = new Set<string>();
  #failure: unknown;

  private constructor(o: {
    symbols: readonly string[];
    fractional: boolean;
    startingCash: string;
    dynamicSymbols: boolean;
    accountId: string;
    createdNs: bigint;
    clockNs: bigint;
    idRng: Rng;
  }) {
    this.#symbols = [...o.symbols];
    this.#fractional = o.fractional;
    this.#startingCash = o.startingCash;
    this.#dynamicSymbols = o.dynamicSymbols;
    this.#accountId = o.accountId;
    this.#createdNs = o.createdNs;
    this.#clockNs = o.clockNs;
    this.#idRng = o.idRng;
    this.#cash = Money.of(o.startingCash, USD);
    this.#lastEquity = this.#cash;
    this.#equityDay = nyDay(o.clockNs);
    this.#venue = buildVenue(this.#symbols, o.fractional, o.startingCash);
    this.#attach();
  }

  /** A broker with a fresh account holding `startingCash` USD. @throws CoreError on a bad symbol or cash amount */
  static create(options: BrokerOptions): PaperBroker {
    const idRng = new Rng(`alpaca-paper-ids:${options.seed}`);
    const accountId = uuidFrom(idRng);
    return new PaperBroker({ ...options, accountId, createdNs: options.clockNs, idRng });
  }

  /**
   * A broker continuing from persisted state: scalars, every order and the venue snapshot.
   * @throws SimulatedVenueError StateMismatch | InvalidState; CoreError on malformed values
   */
  static restore(scalars: BrokerScalars, orders: readonly OrderMeta[], venueState: SimulatedVenueState, dynamicSymbols: boolean): PaperBroker {
    const b = new PaperBroker({
      symbols: scalars.symbols,
      fractional: scalars.fractional,
      startingCash: scalars.startingCash,
      dynamicSymbols,
      accountId: scalars.accountId,
      createdNs: scalars.createdNs,
      clockNs: scalars.clockNs,
      idRng: Rng.fromState(scalars.idRng),
    });
    b.#venue.restore(venueState);
    b.#cash = Money.of(scalars.cash, USD);
    b.#lastEquity = Money.of(scalars.lastEquity, USD);
    b.#equityDay = scalars.equityDay;
    for (const [s, q] of scalars.positions) b.#positions.set(s, Decimal.of(q));
    for (const [s, c] of scalars.lastClose) b.#lastClose.set(s, c);
    for (const [s, c] of scalars.prevClose) b.#prevClose.set(s, c);
    for (const [s, d] of scalars.lastDay) b.#lastDay.set(s, d);
    b.#fillSeq = scalars.fillSeq;
    for (const o of orders) b.#index(o);
    return b;
  }

  #attach(): void {
    this.#unsubscribe();
    this.#unsubscribe = this.#venue.onEvent((e) => {
      try {
        this.#onEvent(e);
      } catch (err) {
        this.#failure ??= err;
      }
    });
    this.#venue.connect().catch((err: unknown) => {
      this.#failure ??= err;
    });
  }

  #index(o: OrderMeta): void {
    this.#orders.set(o.id, o);
    this.#byInternal.set(o.internalId, o.id);
    this.#byClient.set(o.clientOrderId, o.id);
  }

  /** Server time: the replay time (the latest bar close shown), epoch ns. */
  get clockNs(): bigint {
    return this.#clockNs;
  }

  /** Whether fractional quantities and notional orders are allowed. */
  get fractional(): boolean {
    return this.#fractional;
  }

  /** Symbols the venue trades, in the order they were added. */
  get symbols(): readonly string[] {
    return this.#symbols;
  }

  /** The simulated venue inside (tests compare its reports with the Alpaca view). */
  get venue(): SimulatedVenue {
    return this.#venue;
  }

  /** Moves server time forward (never back), e.g. to the start of a replay. */
  advanceClock(ns: bigint): void {
    if (ns > this.#clockNs) this.#clockNs = ns;
  }

  #newId(): string {
    return uuidFrom(this.#idRng);
  }

  #check(): void {
    if (this.#failure !== undefined) {
      const e = this.#failure;
      this.#failure = undefined;
      throw e;
    }
  }

  /** Adds a symbol to the venue (rebuilt with one more instrument, state carried over). */
  #addSymbol(symbol: string): void {
    const state = this.#venue.snapshot();
    const symbols = [...this.#symbols, symbol];
    const next = buildVenue(symbols, this.#fractional, this.#startingCash);
    const fresh = next.snapshot();
    const book = fresh.books.find((bk) => bk.symbol === symbol);
    if (book === undefined) throw new PaperServerError('StateCorrupt', `venue rebuilt for ${symbol} has no book for it`);
    next.restore({ ...state, config: fresh.config, books: [...state.books, book] });
    this.#venue = next;
    this.#symbols = symbols;
    this.#attach();
  }

  /** Makes sure `symbol` is tradable (bars add it; orders add it only with dynamic symbols). */
  #ensureSymbol(symbol: string, forOrder: boolean): void {
    if (this.#symbols.includes(symbol)) return;
    if (forOrder && !this.#dynamicSymbols) throw new ApiError('Unprocessable', `asset ${JSON.stringify(symbol)} not found (this paper venue trades ${this.#symbols.join(', ')})`);
    this.#addSymbol(symbol);
  }

  // ---- requests

  /**
   * Places an order (and the held legs of a bracket).
   * @throws ApiError Unprocessable for a duplicate client_order_id, an unknown asset or an order the venue refuses |
   * Forbidden for insufficient buying power
   */
  submit(p: ParsedOrder): OrderMeta {
    this.#check();
    const cid = p.clientOrderId ?? this.#newId();
    if (this.#byClient.has(cid)) throw new ApiError('Unprocessable', `client_order_id must be unique: ${JSON.stringify(cid)} was already used`);
    this.#ensureSymbol(p.symbol, true);
    this.#checkBuyingPower(p);
    const now = this.#clockNs;
    const id = this.#newId();
    const legIds = p.orderClass === 'bracket' ? [this.#newId(), this.#newId()] : [];
    const entry: OrderMeta = {
      id,
      clientOrderId: cid,
      internalId: id,
      symbol: p.symbol,
      side: p.side,
      type: p.type,
      tif: p.timeInForce,
      qty: p.qty ?? null,
      notional: p.notional ?? null,
      limitPrice: p.limitPrice ?? null,
      stopPrice: p.stopPrice ?? null,
      extendedHours: p.extendedHours,
      orderClass: p.orderClass === 'bracket' ? 'bracket' : '',
      legs: legIds,
      parent: null,
      status: 'pending_new',
      filledQty: '0',
      filledCost: '0',
      createdNs: now,
      updatedNs: now,
      filledNs: null,
      canceledNs: null,
      expiredNs: null,
      failedNs: null,
    };
    const request: OrderRequest = {
      clientOrderId: asClientOrderId(id),
      symbol: p.symbol,
      side: p.side === 'buy' ? 'Buy' : 'Sell',
      type: p.type === 'market' ? 'Market' : p.type === 'limit' ? 'Limit' : p.type === 'stop' ? 'Stop' : 'StopLimit',
      quantity: p.qty === undefined ? Quantity.zero(9) : Quantity.of(p.qty),
      ...(p.notional === undefined ? {} : { notional: Money.of(p.notional, USD) }),
      ...(p.limitPrice === undefined ? {} : { limitPrice: Price.of(p.limitPrice) }),
      ...(p.stopPrice === undefined ? {} : { stopPrice: Price.of(p.stopPrice) }),
      timeInForce: p.timeInForce === 'day' ? 'DAY' : p.timeInForce === 'gtc' ? 'GTC' : p.timeInForce === 'ioc' ? 'IOC' : 'FOK',
      ...(p.takeProfit !== undefined && p.stopLoss !== undefined ? { bracket: { takeProfit: Price.of(p.takeProfit), stopLoss: Price.of(p.stopLoss) } } : {}),
      tsInit: now,
    };
    this.#index(entry);
    this.#dirty.add(id);
    const legKinds = ['tp', 'sl'] as const;
    legIds.forEach((legId, i) => {
      const kind = legKinds[i] as 'tp' | 'sl';
      const leg: OrderMeta = {
        id: legId,
        clientOrderId: this.#newId(),
        internalId: `${id}-${kind}`,
        symbol: p.symbol,
        side: p.side === 'buy' ? 'sell' : 'buy',
        type: kind === 'tp' ? 'limit' : 'stop',
        tif: p.timeInForce,
        qty: p.qty ?? null,
        notional: null,
        limitPrice: kind === 'tp' ? (p.takeProfit ?? null) : null,
        stopPrice: kind === 'sl' ? (p.stopLoss ?? null) : null,
        extendedHours: false,
        orderClass: 'bracket',
        legs: [],
        parent: id,
        status: 'held',
        filledQty: '0',
        filledCost: '0',
        createdNs: now,
        updatedNs: now,
        filledNs: null,
        canceledNs: null,
        expiredNs: null,
        failedNs: null,
      };
      this.#index(leg);
      this.#dirty.add(legId);
    });
    const mark = this.#updates.length;
    this.#submitting = id;
    this.#syncReject = undefined;
    try {
      this.#venue.submit(request).catch((err: unknown) => {
        this.#failure ??= err;
      });
    } finally {
      this.#submitting = undefined;
    }
    this.#check();
    if (this.#syncReject !== undefined) {
      // the venue refused it at once: Alpaca answers 422 and the order never exists
      for (const oid of [id, ...legIds]) {
        const o = this.#orders.get(oid) as OrderMeta;
        this.#orders.delete(oid);
        this.#byInternal.delete(o.internalId);
        this.#byClient.delete(o.clientOrderId);
        this.#dirty.delete(oid);
      }
      this.#updates.length = mark;
      throw new ApiError('Unprocessable', this.#syncReject);
    }
    return entry;
  }

  #checkBuyingPower(p: ParsedOrder): void {
    const pos = this.#positions.get(p.symbol) ?? Decimal.of(0);
    const last = this.#lastClose.get(p.symbol);
    const ref = p.limitPrice ?? p.stopPrice ?? (last === undefined ? undefined : closePrice(last).toString());
    let cost: Decimal | undefined;
    if (p.notional !== undefined) cost = Decimal.of(p.notional);
    else if (ref !== undefined && p.qty !== undefined) {
      const covering = p.side === 'buy' ? (pos.isNegative() ? pos.neg() : Decimal.of(0)) : pos.isPositive() ? pos : Decimal.of(0);
      const opening = Decimal.of(p.qty).sub(covering);
      cost = opening.isPositive() ? opening.mul(ref) : Decimal.of(0);
    }
    if (cost === undefined || cost.isZero()) return;
    const free = this.#buyingPower().sub(this.#reserved());
    if (cost.gt(free)) {
      throw new ApiError('Forbidden', `insufficient buying power: the order needs about ${trimDecimal(cost.toString())} USD, ${trimDecimal(free.isNegative() ? '0' : free.toString())} is available`);
    }
  }

  #marketValues(): { long: Decimal; short: Decimal } {
    let long = Decimal.of(0);
    let short = Decimal.of(0);
    for (const [s, q] of this.#positions) {
      const c = this.#lastClose.get(s);
      if (c === undefined || q.isZero()) continue;
      const v = q.mul(closePrice(c));
      if (v.isNegative()) short = short.add(v);
      else long = long.add(v);
    }
    return { long, short };
  }

  #equity(): Decimal {
    const { long, short } = this.#marketValues();
    return Decimal.of(this.#cash.amountString()).add(long).add(short);
  }

  #multiplier(equity: Decimal): number {
    return equity.gte(2000) ? 2 : 1;
  }

  #buyingPower(): Decimal {
    const { long, short } = this.#marketValues();
    const equity = this.#equity();
    const bp = equity.mul(this.#multiplier(equity)).sub(long).sub(short.abs());
    return bp.isNegative() ? Decimal.of(0) : bp;
  }

  /** Buying power held by open orders (not exit legs): remaining quantity at the limit, stop or last price. */
  #reserved(): Decimal {
    let sum = Decimal.of(0);
    for (const o of this.#orders.values()) {
      if (!OPEN_STATUSES.has(o.status) || o.parent !== null) continue;
      if (o.notional !== null) {
        if (o.filledQty === '0') sum = sum.add(o.notional);
        continue;
      }
      const last = this.#lastClose.get(o.symbol);
      const ref = o.limitPrice ?? o.stopPrice ?? (last === undefined ? undefined : closePrice(last).toString());
      if (ref === undefined || o.qty === null) continue;
      sum = sum.add(Decimal.of(o.qty).sub(o.filledQty).mul(ref));
    }
    return sum;
  }

  /**
   * Cancels an order; a held bracket leg cancels its whole group (through the entry).
   * @throws ApiError NotFound | Unprocessable when the order is no longer cancelable
   */
  cancel(id: string): OrderMeta {
    this.#check();
    const o = this.#orders.get(id);
    if (o === undefined) throw new ApiError('NotFound', `order not found: ${id}`);
    if (!OPEN_STATUSES.has(o.status)) throw new ApiError('Unprocessable', `order is not cancelable: ${id} is ${o.status}`);
    const target = o.status === 'held' && o.parent !== null ? (this.#orders.get(o.parent) as OrderMeta) : o;
    this.#venue.cancel(asClientOrderId(target.internalId)).catch((err: unknown) => {
      this.#failure ??= err;
    });
    this.#check();
    return o;
  }

  /**
   * Replaces a working order (Alpaca's PATCH): the venue order is modified in place, the Alpaca order is
   * closed as `replaced` and a new Alpaca order (new id) carries the new terms. Only unfilled orders.
   * @throws ApiError NotFound | Unprocessable when the order is not open, partly filled, held, or the venue refuses the change
   */
  replace(id: string, r: ReplaceRequest): OrderMeta {
    this.#check();
    const o = this.#orders.get(id);
    if (o === undefined) throw new ApiError('NotFound', `order not found: ${id}`);
    if (!OPEN_STATUSES.has(o.status) || o.status === 'held') throw new ApiError('Unprocessable', `order is not replaceable: ${id} is ${o.status}`);
    if (o.filledQty !== '0') throw new ApiError('Unprocessable', `order is not replaceable: ${id} is partly filled (this paper venue replaces unfilled orders only)`);
    if (o.notional !== null && r.qty !== undefined) throw new ApiError('Unprocessable', 'invalid qty: a notional order cannot be given a qty');
    if (r.limitPrice !== undefined && o.type !== 'limit' && o.type !== 'stop_limit') throw new ApiError('Unprocessable', `invalid limit_price: a ${o.type} order has no limit price`);
    if (r.stopPrice !== undefined && o.type !== 'stop' && o.type !== 'stop_limit') throw new ApiError('Unprocessable', `invalid stop_price: a ${o.type} order has no stop price`);
    const cid = r.clientOrderId ?? this.#newId();
    if (this.#byClient.has(cid)) throw new ApiError('Unprocessable', `client_order_id must be unique: ${JSON.stringify(cid)} was already used`);
    const mark = this.#updates.length;
    let refused: string | undefined;
    const off = this.#venue.onEvent((e) => {
      if (e.kind === 'cancel-rejected' && e.clientOrderId === o.internalId) refused = e.reason;
    });
    try {
      this.#venue
        .modify({
          clientOrderId: asClientOrderId(o.internalId),
          ...(r.qty === undefined ? {} : { quantity: Quantity.of(r.qty) }),
          ...(r.limitPrice === undefined ? {} : { limitPrice: Price.of(r.limitPrice) }),
          ...(r.stopPrice === undefined ? {} : { stopPrice: Price.of(r.stopPrice) }),
        })
        .catch((err: unknown) => {
          this.#failure ??= err;
        });
    } finally {
      off();
    }
    this.#check();
    if (refused !== undefined) {
      this.#updates.length = mark;
      throw new ApiError('Unprocessable', refused);
    }
    const now = this.#clockNs;
    const next: OrderMeta = {
      ...o,
      id: this.#newId(),
      clientOrderId: cid,
      legs: [...o.legs],
      status: 'new',
      createdNs: now,
      updatedNs: now,
      replaces: o.id,
      replacedBy: null,
      replacedNs: null,
    };
    o.status = 'replaced';
    o.replacedBy = next.id;
    o.replacedNs = now;
    this.#touch(o, now);
    this.#index(next);
    // the venue order now belongs to the new Alpaca order
    this.#byInternal.set(o.internalId, next.id);
    this.#dirty.add(next.id);
    if (o.parent !== null) {
      const parent = this.#orders.get(o.parent) as OrderMeta;
      parent.legs = parent.legs.map((l) => (l === o.id ? next.id : l));
      this.#dirty.add(parent.id);
    }
    this.#update('replaced', o, now);
    this.#update('new', next, now);
    return next;
  }

  /** Cancels every open order (a bracket group once); returns the orders asked to cancel. */
  cancelAll(): OrderMeta[] {
    this.#check();
    const out: OrderMeta[] = [];
    for (const o of [...this.#orders.values()]) {
      if (!OPEN_STATUSES.has(o.status)) continue;
      if (o.status === 'held') continue;
      this.#venue.cancel(asClientOrderId(o.internalId)).catch((err: unknown) => {
        this.#failure ??= err;
      });
      out.push(o);
    }
    this.#check();
    return out;
  }

  /**
   * Shows the venue bars of one bar time (fills happen here) and advances server time to their close.
   * @throws PaperServerError InvalidBars when a bar does not follow the symbol's previous one
   */
  showBars(bars: readonly Bar[]): void {
    this.#check();
    const first = bars[0];
    // before the first bar, the clock stood at a start time that may lie after the bars (pushBars without a replay)
    if (first !== undefined && this.#lastClose.size === 0) this.#clockNs = first.closeTimeNs;
    for (const bar of bars) {
      this.#ensureSymbol(bar.symbol, false);
      const day = nyDay(bar.openTimeNs);
      if (day !== this.#equityDay) {
        this.#lastEquity = Money.of(this.#equity().toString(), USD);
        this.#equityDay = day;
      }
      const prevDay = this.#lastDay.get(bar.symbol);
      const last = this.#lastClose.get(bar.symbol);
      if (prevDay !== undefined && prevDay !== day && last !== undefined) this.#prevClose.set(bar.symbol, last);
      this.#venue.onBar(bar);
      this.#check();
      this.#lastClose.set(bar.symbol, bar.close);
      this.#lastDay.set(bar.symbol, day);
      this.advanceClock(bar.closeTimeNs);
    }
  }

  /**
   * A venue-side position change the client did not cause (no order, no cash moved).
   * @throws SimulatedVenueError UnknownInstrument; CoreError InvalidArgument for a bad delta or price
   */
  adjustPosition(symbol: string, qtyDelta: string, price?: string): string {
    this.#check();
    this.#ensureSymbol(symbol, false);
    this.#venue.adjustPosition(symbol, qtyDelta, price === undefined ? {} : { price });
    this.#check();
    return trimDecimal((this.#positions.get(symbol) ?? Decimal.of(0)).toString());
  }

  // ---- events

  #onEvent(e: VenueEvent): void {
    if (e.kind === 'position-changed') {
      this.#positions.set(e.symbol, Decimal.of(e.signedQty));
      return;
    }
    const id = this.#byInternal.get(e.clientOrderId);
    if (id === undefined) return;
    const o = this.#orders.get(id) as OrderMeta;
    const ts = e.tsEvent === 0n ? this.#clockNs : e.tsEvent;
    switch (e.kind) {
      case 'rejected':
        if (this.#submitting === e.clientOrderId) {
          this.#syncReject = e.reason;
          return;
        }
        o.status = 'rejected';
        o.failedNs = ts;
        this.#touch(o, ts);
        this.#update('rejected', o, ts);
        this.#closeHeldLegs(o, ts);
        return;
      case 'accepted':
        if (o.status !== 'pending_new' && o.status !== 'held') return;
        o.status = 'new';
        this.#touch(o, ts);
        this.#update('new', o, ts);
        return;
      case 'filled': {
        const qty = Decimal.of(e.lastQty.toString());
        const filled = Decimal.of(o.filledQty).add(qty);
        o.filledQty = trimDecimal(filled.toString());
        o.filledCost = trimDecimal(Decimal.of(o.filledCost).add(qty.mul(e.lastPx.toString())).toString());
        const done = e.leavesQty.isZero();
        o.status = done ? 'filled' : 'partially_filled';
        if (done) o.filledNs = ts;
        if (o.qty === null) {
          // a notional order's quantity is known once it fills
          if (done) o.qty = o.filledQty;
        }
        this.#touch(o, ts);
        const signed = e.side === 'Buy' ? qty : qty.neg();
        const pos = (this.#positions.get(o.symbol) ?? Decimal.of(0)).add(signed);
        this.#positions.set(o.symbol, pos);
        const value = Money.fromRaw(e.lastPx.raw * e.lastQty.raw, e.lastPx.precision + e.lastQty.precision, USD);
        this.#cash = (e.side === 'Buy' ? this.#cash.sub(value) : this.#cash.add(value)).sub(e.commission);
        const executionId = this.#newId();
        const price = trimDecimal(e.lastPx.toString());
        const qtyText = trimDecimal(qty.toString());
        const update: TradeUpdate = {
          event: done ? 'fill' : 'partial_fill',
          execution_id: executionId,
          timestamp: nsToIso(ts),
          price,
          qty: qtyText,
          position_qty: trimDecimal(pos.toString()),
          order: this.render(o, false),
        };
        this.#updates.push(update);
        const seq = ++this.#fillSeq;
        this.#fills.push({
          seq,
          timeMs: Number(ts / 1_000_000n),
          activity: {
            id: `${String(seq).padStart(12, '0')}::${executionId}`,
            activity_type: 'FILL',
            transaction_time: nsToIso(ts),
            type: done ? 'fill' : 'partial_fill',
            price,
            qty: qtyText,
            side: o.side,
            symbol: o.symbol,
            leaves_qty: trimDecimal(e.leavesQty.toString()),
            order_id: o.id,
            cum_qty: o.filledQty,
            order_status: o.status,
          },
        });
        return;
      }
      case 'canceled':
      case 'expired':
        if (!OPEN_STATUSES.has(o.status)) return;
        o.status = e.kind;
        if (e.kind === 'canceled') o.canceledNs = ts;
        else o.expiredNs = ts;
        this.#touch(o, ts);
        this.#update(e.kind, o, ts);
        this.#closeHeldLegs(o, ts);
        return;
      case 'modified':
        // a bracket leg shrunk with its sibling's partial fill (one-updates-other)
        o.qty = trimDecimal(e.quantity.toString());
        o.limitPrice = e.limitPrice === undefined ? null : trimDecimal(e.limitPrice.toString());
        o.stopPrice = e.stopPrice === undefined ? null : trimDecimal(e.stopPrice.toString());
        this.#touch(o, ts);
        return;
      case 'cancel-rejected':
        return;
    }
  }

  /** An entry closed before filling completely: its held legs will never go live. */
  #closeHeldLegs(entry: OrderMeta, ts: bigint): void {
    for (const legId of entry.legs) {
      const leg = this.#orders.get(legId) as OrderMeta;
      if (leg.status !== 'held') continue;
      leg.status = 'canceled';
      leg.canceledNs = ts;
      this.#touch(leg, ts);
      this.#update('canceled', leg, ts);
    }
  }

  #touch(o: OrderMeta, ts: bigint): void {
    o.updatedNs = ts;
    this.#dirty.add(o.id);
  }

  #update(event: TradeUpdateEvent, o: OrderMeta, ts: bigint): void {
    this.#updates.push({ event, timestamp: nsToIso(ts), order: this.render(o, false) });
  }

  // ---- persistence

  /** What changed since the last drain: trade updates to send, fill rows and changed orders to persist. */
  drain(): { updates: TradeUpdate[]; fills: FillRow[]; orders: OrderMeta[] } {
    const out = { updates: this.#updates, fills: this.#fills, orders: [...this.#dirty].map((id) => this.#orders.get(id) as OrderMeta) };
    this.#updates = [];
    this.#fills = [];
    this.#dirty.clear();
    return out;
  }

  /** Whether anything changed since the last drain. */
  get changed(): boolean {
    return this.#dirty.size > 0 || this.#fills.length > 0 || this.#updates.length > 0;
  }

  /** The persisted scalars. */
  scalars(): BrokerScalars {
    return {
      symbols: [...this.#symbols],
      fractional: this.#fractional,
      startingCash: this.#startingCash,
      accountId: this.#accountId,
      createdNs: this.#createdNs,
      clockNs: this.#clockNs,
      cash: this.#cash.amountString(),
      lastEquity: this.#lastEquity.amountString(),
      equityDay: this.#equityDay,
      positions: [...this.#positions].map(([s, q]) => [s, q.toString()] as const),
      lastClose: [...this.#lastClose],
      prevClose: [...this.#prevClose],
      lastDay: [...this.#lastDay],
      fillSeq: this.#fillSeq,
      idRng: this.#idRng.snapshot(),
    };
  }

  /** The simulated venue's snapshot. */
  venueState(): SimulatedVenueState {
    return this.#venue.snapshot();
  }

  // ---- views

  /** An order by Alpaca id. */
  order(id: string): OrderMeta | undefined {
    return this.#orders.get(id);
  }

  /** An order by client order id. */
  orderByClientId(clientOrderId: string): OrderMeta | undefined {
    const id = this.#byClient.get(clientOrderId);
    return id === undefined ? undefined : this.#orders.get(id);
  }

  /** Every order in creation order. */
  orders(): IterableIterator<OrderMeta> {
    return this.#orders.values();
  }

  /** The Alpaca order object; `nested` puts a bracket entry's legs inside it. */
  render(o: OrderMeta, nested: boolean): AlpacaOrder {
    const filled = Decimal.of(o.filledQty);
    const avg = filled.isZero() ? null : trimDecimal(Decimal.of(o.filledCost).div(filled, 9).toString());
    return {
      id: o.id,
      client_order_id: o.clientOrderId,
      created_at: nsToIso(o.createdNs),
      updated_at: nsToIso(o.updatedNs),
      submitted_at: nsToIso(o.createdNs),
      filled_at: iso(o.filledNs),
      expired_at: iso(o.expiredNs),
      canceled_at: iso(o.canceledNs),
      failed_at: iso(o.failedNs),
      replaced_at: iso(o.replacedNs ?? null),
      replaced_by: o.replacedBy ?? null,
      replaces: o.replaces ?? null,
      asset_id: assetId(o.symbol),
      symbol: o.symbol,
      asset_class: 'us_equity',
      notional: o.notional,
      qty: o.qty,
      filled_qty: o.filledQty,
      filled_avg_price: avg,
      order_class: o.orderClass,
      order_type: o.type,
      type: o.type,
      side: o.side,
      time_in_force: o.tif,
      limit_price: o.limitPrice,
      stop_price: o.stopPrice,
      status: o.status,
      extended_hours: o.extendedHours,
      legs: nested && o.legs.length > 0 ? o.legs.map((l) => this.render(this.#orders.get(l) as OrderMeta, false)) : null,
    };
  }

  /** `GET /v2/account`, from the venue's cash and the last shown closes. */
  account(): AlpacaAccount {
    const { long, short } = this.#marketValues();
    const equity = this.#equity();
    const mult = this.#multiplier(equity);
    const gross = long.add(short.abs());
    const fmt = (d: Decimal): string => trimDecimal(d.round(2, 'half-even').toString());
    return {
      id: this.#accountId,
      account_number: `PA${this.#accountId.replace(/[^0-9]/g, '').slice(0, 10).padEnd(10, '0')}`,
      status: 'ACTIVE',
      currency: USD,
      cash: fmt(Decimal.of(this.#cash.amountString())),
      portfolio_value: fmt(equity),
      equity: fmt(equity),
      last_equity: fmt(Decimal.of(this.#lastEquity.amountString())),
      buying_power: fmt(this.#buyingPower()),
      long_market_value: fmt(long),
      short_market_value: fmt(short),
      initial_margin: fmt(mult === 2 ? gross.div(2, 9) : gross),
      maintenance_margin: fmt(long.mul('0.25').add(short.abs().mul('0.3'))),
      daytrade_count: 0,
      pattern_day_trader: false,
      trading_blocked: false,
      transfers_blocked: false,
      account_blocked: false,
      shorting_enabled: true,
      multiplier: String(mult),
      created_at: nsToIso(this.#createdNs),
    };
  }

  /** The venue's own cash (the broker's mirror must equal it). */
  async venueCash(): Promise<Money> {
    const bal = await this.#venue.balanceReport();
    return bal.balances.get(USD) ?? Money.zero(USD);
  }

  /** `GET /v2/positions`, from the venue's position reports valued at the last shown close. */
  async positions(): Promise<AlpacaPosition[]> {
    const reports = await this.#venue.positionReports();
    return reports.map((r) => {
      const qty = Decimal.of(r.signedQty);
      const last = this.#lastClose.get(r.symbol);
      const current = last === undefined ? undefined : closePrice(last);
      const prev = this.#prevClose.get(r.symbol);
      const lastday = prev === undefined ? current : closePrice(prev);
      const avg = r.avgPx === undefined ? Decimal.of(0) : Decimal.of(r.avgPx.toString());
      const costBasis = qty.mul(avg);
      const mv = current === undefined ? costBasis : qty.mul(current);
      const pl = mv.sub(costBasis);
      const money = (d: Decimal): string => trimDecimal(d.round(4, 'half-even').toString());
      return {
        asset_id: assetId(r.symbol),
        symbol: r.symbol,
        exchange: 'IEX',
        asset_class: 'us_equity',
        avg_entry_price: money(avg),
        qty: trimDecimal(r.signedQty),
        qty_available: trimDecimal(r.signedQty),
        side: qty.isNegative() ? 'short' : 'long',
        market_value: money(mv),
        cost_basis: money(costBasis),
        unrealized_pl: money(pl),
        unrealized_plpc: costBasis.isZero() ? '0' : trimDecimal(pl.div(costBasis.abs(), 6).toString()),
        current_price: current === undefined ? money(avg) : trimDecimal(current.toString()),
        lastday_price: lastday === undefined ? money(avg) : trimDecimal(lastday.toString()),
        change_today: current === undefined || lastday === undefined || lastday.isZero() ? '0' : trimDecimal(Decimal.of(current.toString()).div(lastday.toString(), 6).sub(1).toString()),
      };
    });
  }
}

/** A stable asset id per symbol (a UUID-shaped hash of the symbol). */
export function assetId(symbol: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < symbol.length; i++) {
    h1 = Math.imul(h1 ^ symbol.charCodeAt(i), 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ symbol.charCodeAt(i), 0x5bd1e995) >>> 0;
  }
  const a = h1.toString(16).padStart(8, '0');
  const b = h2.toString(16).padStart(8, '0');
  return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-8${a.slice(1, 4)}-${b}${a.slice(0, 4)}`;
}
