import { Decimal, type DecimalInput } from '../core/decimal.js';
import { Money } from '../core/money.js';
import { L2MatchingEngine } from './engines.js';
import { BacktestError } from './errors.js';
import { checkOrder, checkOrderId, type FillReport, type OrderSpec } from './orders.js';

/** Epoch nanoseconds as a bigint or a safe integer. */
export type TimestampInput = bigint | number;

/** Submit an order (the seed's `order_submitted`). */
export interface OrderSubmittedEvent {
  readonly type: 'order_submitted';
  readonly timestampNs: TimestampInput;
  readonly order: OrderSpec;
}
/** Cancel a resting order (`order_cancelled`). */
export interface OrderCancelledEvent {
  readonly type: 'order_cancelled';
  readonly timestampNs: TimestampInput;
  readonly orderId: number;
}
/** Modify a resting order (`order_modified`): a new price and/or a new remaining quantity. */
export interface OrderModifiedEvent {
  readonly type: 'order_modified';
  readonly timestampNs: TimestampInput;
  readonly orderId: number;
  readonly newPrice?: DecimalInput;
  readonly newQuantity?: DecimalInput;
}
/**
 * A fill from outside the matching engines (`fill`); the side whose order id is one of ours is
 * booked, the other is the outside world. `symbol` defaults to the symbol of the order of ours.
 */
export interface ExternalFillEvent {
  readonly type: 'fill';
  readonly timestampNs: TimestampInput;
  readonly price: DecimalInput;
  readonly quantity: DecimalInput;
  readonly buyerOrderId: number;
  readonly sellerOrderId: number;
  readonly symbol?: string;
}
/** Every event the backtest loop understands. */
export type BacktestEvent = OrderSubmittedEvent | OrderCancelledEvent | OrderModifiedEvent | ExternalFillEvent;

/** A fill booked to the account; price in quote currency, quantity in base units. */
export interface BacktestFill extends FillReport {
  readonly symbol: string;
  readonly timestampNs: bigint;
  /** True for a `fill` event, false for a fill produced by matching. */
  readonly external: boolean;
}

/** An event the loop refused, with the error's stable code and message. */
export interface Rejection {
  readonly index: number;
  readonly timestampNs: bigint;
  readonly code: string;
  readonly message: string;
}

/** Counters of one run. */
export interface RunStats {
  readonly eventsProcessed: number;
  readonly ordersSubmitted: number;
  readonly ordersCancelled: number;
  readonly ordersModified: number;
  readonly externalFills: number;
  readonly fills: number;
  readonly rejected: number;
}

/** What `run()` returns; money in the account currency, exact. */
export interface RunResult {
  readonly eventsProcessed: number;
  /** Number of fills booked. */
  readonly fills: number;
  /** finalNav - initialCash. */
  readonly pnl: Money;
  /** Largest peak-to-trough fall of the NAV. */
  readonly maxDrawdown: Money;
  /** maxDrawdown / peak NAV at that trough, a float for statistics. */
  readonly maxDrawdownFraction: number;
  /** Cash plus every position marked at its symbol's last fill price. */
  readonly finalNav: Money;
  readonly cash: Money;
  /** Position per symbol in base units, exact strings. */
  readonly positions: Readonly<Record<string, string>>;
  readonly stats: RunStats;
  readonly fillLog: readonly BacktestFill[];
  readonly rejections: readonly Rejection[];
}

/** Options of the event-driven backtest. */
export interface BacktestOptions {
  /** Account currency (default "USDT"). */
  readonly currency?: string;
  readonly tickSize?: DecimalInput;
  readonly lotSize?: DecimalInput;
}

function toNs(t: TimestampInput, where: string): bigint {
  if (typeof t === 'bigint') return t;
  if (typeof t === 'number' && Number.isSafeInteger(t)) return BigInt(t);
  throw new BacktestError('Matching', `${where}: invalid timestampNs: ${String(t)} (epoch ns as a bigint or safe integer)`);
}

/**
 * The seed's event-driven backtest loop: events are queued with `pushEvent`, then `run()` replays
 * them in timestamp order (ties in push order) through one L2 engine per symbol and books every fill
 * to an exact cash account. Every order in the stream is the account's own, so a cross between two
 * of its orders books both sides (net zero); an external fill books only the side whose order id is
 * known. An event that fails (an unknown order id) is recorded as a rejection and the loop goes on.
 */
export class BacktestEngine {
  /** Starting cash in the account currency. */
  readonly initialCash: Money;
  readonly #options: BacktestOptions;
  readonly #queue: { ns: bigint; seq: number; event: BacktestEvent }[] = [];
  readonly #engines = new Map<string, L2MatchingEngine>();
  readonly #orderSymbol = new Map<number, string>();
  readonly #positions = new Map<string, Decimal>();
  readonly #lastPrice = new Map<string, Decimal>();
  readonly #fillLog: BacktestFill[] = [];
  readonly #rejections: Rejection[] = [];
  #cash: Decimal;
  #peak: Decimal;
  #maxDd = Decimal.ZERO;
  #maxDdFraction = 0;
  #seq = 0;
  #externalFillId = 1_000_000_000;
  #stats = { eventsProcessed: 0, ordersSubmitted: 0, ordersCancelled: 0, ordersModified: 0, externalFills: 0, fills: 0, rejected: 0 };

  /** @throws BacktestError Matching on a negative or malformed initial cash */
  constructor(initialCash: DecimalInput, options: BacktestOptions = {}) {
    let cash: Decimal;
    try {
      cash = Decimal.of(initialCash);
    } catch (e) {
      throw new BacktestError('Matching', `invalid initial cash: ${String(initialCash)}`, { cause: e });
    }
    if (cash.isNegative()) throw new BacktestError('Matching', `invalid initial cash: ${String(initialCash)} (must be >= 0)`);
    this.#options = options;
    this.initialCash = Money.of(cash, options.currency ?? 'USDT');
    this.#cash = cash;
    this.#peak = cash;
  }

  /** Queues an event after checking its shape; nothing is queued when it is malformed. @throws BacktestError Matching */
  pushEvent(event: BacktestEvent): void {
    const where = `event ${this.#seq}`;
    if (typeof event !== 'object' || event === null) throw new BacktestError('Matching', `${where}: not an event object`);
    const ns = toNs(event.timestampNs, where);
    switch (event.type) {
      case 'order_submitted':
        checkOrder(event.order);
        break;
      case 'order_cancelled':
        checkOrderId(event.orderId);
        break;
      case 'order_modified':
        checkOrderId(event.orderId);
        if (event.newPrice === undefined && event.newQuantity === undefined) {
          throw new BacktestError('Matching', `${where}: order_modified needs newPrice or newQuantity`);
        }
        break;
      case 'fill':
        positive(event.price, `${where}: fill price`);
        positive(event.quantity, `${where}: fill quantity`);
        if (!Number.isSafeInteger(event.buyerOrderId) || !Number.isSafeInteger(event.sellerOrderId)) {
          throw new BacktestError('Matching', `${where}: fill needs integer buyerOrderId and sellerOrderId`);
        }
        break;
      default:
        throw new BacktestError('Matching', `${where}: unknown event type: ${String((event as { type: unknown }).type)}`);
    }
    this.#queue.push({ ns, seq: this.#seq++, event });
  }

  /** Replays the queued events in time order and returns the cumulative result of all runs so far. */
  run(): RunResult {
    const events = this.#queue.splice(0).sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : a.seq - b.seq));
    for (const { ns, seq, event } of events) {
      this.#stats.eventsProcessed++;
      try {
        this.#apply(ns, event);
      } catch (e) {
        if (!(e instanceof BacktestError)) throw e;
        this.#stats.rejected++;
        this.#rejections.push({ index: seq, timestampNs: ns, code: e.code, message: e.message });
      }
      this.#markDrawdown();
    }
    const currency = this.initialCash.currency;
    const nav = this.#nav();
    const positions: Record<string, string> = {};
    for (const [s, q] of this.#positions) positions[s] = q.toString();
    return {
      eventsProcessed: this.#stats.eventsProcessed,
      fills: this.#stats.fills,
      pnl: Money.of(nav.sub(this.initialCash.amount), currency),
      maxDrawdown: Money.of(this.#maxDd, currency),
      maxDrawdownFraction: this.#maxDdFraction,
      finalNav: Money.of(nav, currency),
      cash: Money.of(this.#cash, currency),
      positions,
      stats: { ...this.#stats },
      fillLog: [...this.#fillLog],
      rejections: [...this.#rejections],
    };
  }

  #engine(symbol: string): L2MatchingEngine {
    let e = this.#engines.get(symbol);
    if (e === undefined) {
      const opts: { tickSize?: DecimalInput; lotSize?: DecimalInput; symbol: string } = { symbol };
      if (this.#options.tickSize !== undefined) opts.tickSize = this.#options.tickSize;
      if (this.#options.lotSize !== undefined) opts.lotSize = this.#options.lotSize;
      e = new L2MatchingEngine(opts);
      this.#engines.set(symbol, e);
    }
    return e;
  }

  #known(orderId: number): string {
    const symbol = this.#orderSymbol.get(orderId);
    if (symbol === undefined) throw new BacktestError('Matching', `order not found: ${orderId}`);
    return symbol;
  }

  #apply(ns: bigint, event: BacktestEvent): void {
    switch (event.type) {
      case 'order_submitted': {
        const o = event.order;
        if (this.#orderSymbol.has(o.id)) throw new BacktestError('Matching', `duplicate order id: ${o.id}`);
        const r = this.#engine(o.symbol).submit(o);
        this.#orderSymbol.set(o.id, o.symbol);
        this.#stats.ordersSubmitted++;
        this.#bookMatches(ns, o.symbol, r.fills);
        return;
      }
      case 'order_cancelled':
        this.#engine(this.#known(event.orderId)).cancel(event.orderId);
        this.#stats.ordersCancelled++;
        return;
      case 'order_modified': {
        const symbol = this.#known(event.orderId);
        const changes: { price?: DecimalInput; quantity?: DecimalInput } = {};
        if (event.newPrice !== undefined) changes.price = event.newPrice;
        if (event.newQuantity !== undefined) changes.quantity = event.newQuantity;
        const r = this.#engine(symbol).modify(event.orderId, changes);
        this.#stats.ordersModified++;
        this.#bookMatches(ns, symbol, r.fills);
        return;
      }
      case 'fill': {
        const buyerOurs = this.#orderSymbol.get(event.buyerOrderId);
        const sellerOurs = this.#orderSymbol.get(event.sellerOrderId);
        const symbol = event.symbol ?? buyerOurs ?? sellerOurs;
        if (symbol === undefined) throw new BacktestError('Matching', `fill names no order of ours and no symbol (buyer ${event.buyerOrderId}, seller ${event.sellerOrderId})`);
        const price = Decimal.of(event.price);
        const qty = Decimal.of(event.quantity);
        // an external fill consumes what it filled of a resting order of ours, so it cannot fill twice
        for (const id of [buyerOurs === undefined ? 0 : event.buyerOrderId, sellerOurs === undefined ? 0 : event.sellerOrderId]) {
          if (id === 0) continue;
          const e = this.#engine(this.#orderSymbol.get(id) as string);
          const loc = e.location(id);
          if (loc === undefined) continue;
          const left = Decimal.of(loc.quantity).sub(qty);
          if (left.isPositive()) e.modify(id, { quantity: left.toString() });
          else e.cancel(id);
        }
        if (buyerOurs !== undefined) this.#book(symbol, 'Buy', price, qty);
        if (sellerOurs !== undefined) this.#book(symbol, 'Sell', price, qty);
        this.#lastPrice.set(symbol, price);
        this.#stats.externalFills++;
        if (buyerOurs !== undefined || sellerOurs !== undefined) {
          this.#stats.fills++;
          this.#fillLog.push({
            fillId: this.#externalFillId++,
            takerOrderId: buyerOurs !== undefined ? event.buyerOrderId : event.sellerOrderId,
            makerOrderId: buyerOurs !== undefined ? event.sellerOrderId : event.buyerOrderId,
            price: price.toString(),
            quantity: qty.toString(),
            takerSide: buyerOurs !== undefined ? 'BUY' : 'SELL',
            symbol,
            timestampNs: ns,
            external: true,
          });
        }
        return;
      }
    }
  }

  #bookMatches(ns: bigint, symbol: string, fills: readonly FillReport[]): void {
    for (const f of fills) {
      const price = Decimal.of(f.price);
      const qty = Decimal.of(f.quantity);
      // both orders of a match are the account's own
      this.#book(symbol, 'Buy', price, qty);
      this.#book(symbol, 'Sell', price, qty);
      this.#lastPrice.set(symbol, price);
      this.#stats.fills++;
      this.#fillLog.push({ ...f, symbol, timestampNs: ns, external: false });
    }
  }

  #book(symbol: string, side: 'Buy' | 'Sell', price: Decimal, qty: Decimal): void {
    const notional = price.mul(qty);
    const pos = this.#positions.get(symbol) ?? Decimal.ZERO;
    if (side === 'Buy') {
      this.#cash = this.#cash.sub(notional);
      this.#positions.set(symbol, pos.add(qty));
    } else {
      this.#cash = this.#cash.add(notional);
      this.#positions.set(symbol, pos.sub(qty));
    }
  }

  #nav(): Decimal {
    let nav = this.#cash;
    for (const [s, q] of this.#positions) {
      const p = this.#lastPrice.get(s);
      if (p !== undefined && !q.isZero()) nav = nav.add(q.mul(p));
    }
    return nav;
  }

  #markDrawdown(): void {
    const nav = this.#nav();
    if (nav.gt(this.#peak)) this.#peak = nav;
    const dd = this.#peak.sub(nav);
    if (dd.gt(this.#maxDd)) {
      this.#maxDd = dd;
      this.#maxDdFraction = this.#peak.isPositive() ? dd.toNumber() / this.#peak.toNumber() : 0;
    }
  }
}

function positive(v: DecimalInput, what: string): void {
  let d: Decimal;
  try {
    d = Decimal.of(v);
  } catch (e) {
    throw new BacktestError('Matching', `invalid ${what}: ${String(v)}`, { cause: e });
  }
  if (!d.isPositive()) throw new BacktestError('Matching', `invalid ${what}: ${String(v)} (must be > 0)`);
}
