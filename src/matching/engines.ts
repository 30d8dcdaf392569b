import type { DecimalInput } from '../core/decimal.js';
import type { Side } from '../model/order.js';
import { BacktestError } from './errors.js';
import { BUY, OrderBook, SELL, type SideCode, type TifCode } from './order-book.js';
import { checkOrder, checkOrderId, parseSide, type FillReport, type OrderSpec, type SideInput, type SubmitResult } from './orders.js';
import { Scale } from './scale.js';

/** Construction options of a single-book engine. */
export interface EngineOptions {
  /** Price step in quote currency (default "0.01"). */
  readonly tickSize?: DecimalInput;
  /** Quantity step in base units (default "0.00000001"). */
  readonly lotSize?: DecimalInput;
  /** The one symbol this book trades; when absent the first order's symbol binds it. */
  readonly symbol?: string;
}

/** One aggregated price level; price in quote currency, quantity in base units. */
export interface DepthLevel {
  readonly price: string;
  readonly quantity: string;
  readonly orders: number;
}

/** The top of both sides of a book, best first. */
export interface DepthSnapshot {
  readonly bids: readonly DepthLevel[];
  readonly asks: readonly DepthLevel[];
}

const TIF: Record<OrderSpec['tif'], TifCode> = { GTC: 0, IOC: 1, FOK: 2 };

/** `Buy` -> 0, `Sell` -> 1. */
export function sideCode(side: Side): SideCode {
  return side === 'Buy' ? BUY : SELL;
}

/**
 * Price-time priority matching of limit and market orders (GTC, IOC, FOK) with cancel, on one book
 * (the seed's `L1MatchingEngine`). Self-trades are not prevented: two orders of one id space cross
 * like any other pair.
 */
export class L1MatchingEngine {
  /** The integer book; exposed for models and replays that work in ticks and lots. */
  readonly book = new OrderBook();
  /** The tick / lot conversion of this engine. */
  readonly scale: Scale;
  #symbol: string | undefined;
  #nextFillId = 1;
  #fillCount = 0;
  #volumeLots = 0;

  /** @throws BacktestError Matching on a non-positive tick or lot size */
  constructor(options: EngineOptions = {}) {
    this.scale = new Scale(options.tickSize, options.lotSize);
    this.#symbol = options.symbol;
  }

  /** The symbol this book trades, once bound. */
  get symbol(): string | undefined {
    return this.#symbol;
  }

  /** Number of fills produced so far. */
  get fillCount(): number {
    return this.#fillCount;
  }

  /** Base quantity traded so far, exact. */
  get volume(): string {
    return this.scale.lotsToString(this.#volumeLots);
  }

  /**
   * Matches an order and rests a GTC remainder; returns the seed's submit protocol.
   * @throws BacktestError Matching on an invalid order, a duplicate resting id or a foreign symbol
   */
  submit(order: OrderSpec): SubmitResult {
    const { side, priceTicks, lots, tif } = this.parse(order);
    const remaining = this.book.submit(order.id, side, priceTicks, lots, tif);
    return this.report(order.id, side, lots, remaining, 0);
  }

  /**
   * Cancels a resting order and returns its remaining quantity (base units, exact).
   * @throws BacktestError Matching "order not found: id"
   */
  cancel(orderId: number): string {
    checkOrderId(orderId);
    const lots = this.book.cancel(orderId);
    if (lots < 0) throw new BacktestError('Matching', `order not found: ${orderId}`);
    return this.scale.lotsToString(lots);
  }

  /** Best bid in quote currency, or undefined when no bids rest. */
  bestBid(): string | undefined {
    const t = this.book.best(BUY);
    return Number.isNaN(t) ? undefined : this.scale.ticksToString(t);
  }

  /** Best ask in quote currency, or undefined when no asks rest. */
  bestAsk(): string | undefined {
    const t = this.book.best(SELL);
    return Number.isNaN(t) ? undefined : this.scale.ticksToString(t);
  }

  /** The best `levels` levels of each side. */
  depth(levels = 10): DepthSnapshot {
    const side = (s: SideCode): DepthLevel[] => {
      const out: DepthLevel[] = [];
      this.book.forEachLevel(s, (p, lots, orders) => {
        if (out.length >= levels) return false;
        out.push({ price: this.scale.ticksToString(p), quantity: this.scale.lotsToString(lots), orders });
        return true;
      });
      return out;
    };
    return { bids: side(BUY), asks: side(SELL) };
  }

  /** Validates an order and converts it to book units. @throws BacktestError Matching */
  protected parse(order: OrderSpec): { side: SideCode; priceTicks: number; lots: number; tif: TifCode } {
    checkOrder(order);
    if (this.#symbol === undefined) this.#symbol = order.symbol;
    else if (order.symbol !== this.#symbol) {
      throw new BacktestError('Matching', `order ${order.id} is for ${order.symbol} but this book trades ${this.#symbol}`);
    }
    const side = sideCode(parseSide(order.side));
    const lots = this.scale.quantityToLots(order.quantity);
    if (order.type === 'Market') return { side, priceTicks: side === BUY ? Infinity : -Infinity, lots, tif: 1 };
    return { side, priceTicks: this.scale.priceToTicks(order.price as string), lots, tif: TIF[order.tif] };
  }

  /** Builds the submit protocol from the book's fill buffer; `offsetTicks` shifts every fill price. */
  protected report(takerId: number, side: SideCode, lots: number, remaining: number, offsetTicks: number): SubmitResult {
    const f = this.book.fills;
    const fills: FillReport[] = [];
    const takerSide = side === BUY ? 'BUY' : 'SELL';
    for (let i = 0; i < f.count; i++) {
      fills.push({
        fillId: this.#nextFillId++,
        takerOrderId: takerId,
        makerOrderId: f.makerIds[i] as number,
        price: this.scale.ticksToString((f.priceTicks[i] as number) + offsetTicks),
        quantity: this.scale.lotsToString(f.lots[i] as number),
        takerSide,
      });
    }
    this.#fillCount += f.count;
    this.#volumeLots += lots - remaining;
    return {
      isFilled: remaining === 0,
      isPartiallyFilled: remaining > 0 && remaining < lots,
      remainingQuantity: this.scale.lotsToString(remaining),
      fills,
    };
  }
}

/** A resting order for `fromEntries` / `exportEntries`; price in quote currency, quantity in base units. */
export interface OrderBookEntry {
  readonly orderId: number;
  readonly side: Side;
  readonly price: string;
  readonly quantity: string;
}

/** Where an order stands: level 0 is the best, queue position 0 the front. */
export interface OrderLocation {
  readonly side: Side;
  readonly price: string;
  readonly levelIndex: number;
  readonly queuePosition: number;
  /** Quantity resting ahead of it at its price, base units. */
  readonly quantityAhead: string;
  readonly quantity: string;
}

/** Counters and the touch of an L2 book; quantities in base units, prices in quote currency. */
export interface BookStats {
  readonly bidLevels: number;
  readonly askLevels: number;
  readonly bidOrders: number;
  readonly askOrders: number;
  readonly bidQuantity: string;
  readonly askQuantity: string;
  readonly bestBid: string | undefined;
  readonly bestAsk: string | undefined;
  readonly spread: string | undefined;
  readonly fills: number;
  readonly volume: string;
}

/** Changes to a resting order: a new limit price and/or a new remaining quantity. */
export interface ModifyChanges {
  readonly price?: DecimalInput;
  readonly quantity?: DecimalInput;
}

/**
 * The L1 engine plus modify (a price change or a size increase loses time priority; a size decrease
 * keeps it), fromEntries / exportEntries, volumeAtPrice, stats and queue location (the seed's
 * `L2MatchingEngine`).
 */
export class L2MatchingEngine extends L1MatchingEngine {
  /**
   * A book holding `entries` as resting orders, time priority in array order. Atomic: on any bad or
   * crossing entry it throws and nothing is built.
   * @throws BacktestError Matching on an invalid entry, a duplicate id, or entries that cross
   */
  static fromEntries(entries: readonly OrderBookEntry[], options: EngineOptions = {}): L2MatchingEngine {
    const engine = new L2MatchingEngine(options);
    for (const [i, e] of entries.entries()) {
      checkOrderId(e.orderId);
      const side = sideCode(parseSide(e.side));
      const ticks = engine.scale.priceToTicks(e.price);
      const lots = engine.scale.quantityToLots(e.quantity);
      if (engine.book.has(e.orderId)) throw new BacktestError('Matching', `entry ${i}: duplicate order id: ${e.orderId}`);
      const opp = engine.book.best(side === BUY ? SELL : BUY);
      if (!Number.isNaN(opp) && (side === BUY ? ticks >= opp : ticks <= opp)) {
        throw new BacktestError('Matching', `entry ${i} (order ${e.orderId}) at ${e.price} crosses the book`);
      }
      engine.book.submit(e.orderId, side, ticks, lots, 0);
    }
    return engine;
  }

  /** Every resting order in priority order: bids best first, then asks best first. */
  exportEntries(): OrderBookEntry[] {
    const out: OrderBookEntry[] = [];
    for (const s of [BUY, SELL] as const) {
      const side: Side = s === BUY ? 'Buy' : 'Sell';
      this.book.forEachOrder(s, (id, p, lots) => {
        out.push({ orderId: id, side, price: this.scale.ticksToString(p), quantity: this.scale.lotsToString(lots) });
      });
    }
    return out;
  }

  /** Quantity resting at a price on a side, base units ("0..." when none). @throws BacktestError Matching */
  volumeAtPrice(side: SideInput, price: DecimalInput): string {
    return this.scale.lotsToString(this.book.lotsAt(sideCode(parseSide(side)), this.scale.priceToTicks(price)));
  }

  /** Where a resting order stands in the book, or undefined when it is not resting. */
  location(orderId: number): OrderLocation | undefined {
    const loc = this.book.location(orderId);
    if (loc === undefined) return undefined;
    return {
      side: loc.side === BUY ? 'Buy' : 'Sell',
      price: this.scale.ticksToString(loc.priceTicks),
      levelIndex: loc.levelIndex,
      queuePosition: loc.queuePosition,
      quantityAhead: this.scale.lotsToString(loc.lotsAhead),
      quantity: this.scale.lotsToString(loc.lots),
    };
  }

  /** Level, order and quantity counts per side, the touch, and the fills so far. */
  stats(): BookStats {
    const sum = (s: SideCode): [number, number] => {
      let orders = 0;
      let lots = 0;
      this.book.forEachLevel(s, (_p, l, n) => {
        orders += n;
        lots += l;
      });
      return [orders, lots];
    };
    const [bidOrders, bidLots] = sum(BUY);
    const [askOrders, askLots] = sum(SELL);
    const bb = this.book.best(BUY);
    const ba = this.book.best(SELL);
    return {
      bidLevels: this.book.levelCount(BUY),
      askLevels: this.book.levelCount(SELL),
      bidOrders,
      askOrders,
      bidQuantity: this.scale.lotsToString(bidLots),
      askQuantity: this.scale.lotsToString(askLots),
      bestBid: this.bestBid(),
      bestAsk: this.bestAsk(),
      spread: Number.isNaN(bb) || Number.isNaN(ba) ? undefined : this.scale.ticksToString(ba - bb),
      fills: this.fillCount,
      volume: this.volume,
    };
  }

  /**
   * Changes a resting order. Same price and a smaller quantity: reduced in place, keeping its queue
   * place. A new price or a larger quantity: cancelled and resubmitted as GTC at the back of the
   * queue (it may cross and fill). Returns the submit protocol for the order's new state.
   * @throws BacktestError Matching "order not found: id", or on an invalid price / quantity / empty change
   */
  modify(orderId: number, changes: ModifyChanges): SubmitResult {
    checkOrderId(orderId);
    if (changes.price === undefined && changes.quantity === undefined) {
      throw new BacktestError('Matching', `invalid modify of order ${orderId}: no new price or quantity`);
    }
    const side = this.book.orderSide(orderId);
    if (side === -1) throw new BacktestError('Matching', `order not found: ${orderId}`);
    const oldTicks = this.book.orderPrice(orderId);
    const oldLots = this.book.orderLots(orderId);
    const ticks = changes.price === undefined ? oldTicks : this.scale.priceToTicks(changes.price);
    const lots = changes.quantity === undefined ? oldLots : this.scale.quantityToLots(changes.quantity);
    if (ticks === oldTicks && lots <= oldLots) {
      this.book.reduce(orderId, lots);
      this.book.fills.count = 0;
      return this.report(orderId, side, lots, lots, 0);
    }
    this.book.cancel(orderId);
    const remaining = this.book.submit(orderId, side, ticks, lots, 0);
    return this.report(orderId, side, lots, remaining, 0);
  }
}
