import { Price, Quantity, type Decimal, type DecimalInput } from '../core/decimal.js';
import type { Side } from '../model/order.js';
import { OmsError, omsDecimal } from './errors.js';

export type { Side } from '../model/order.js';

/** The OMS order types (the seed's `OrderType` enum; a subset of the model's OrderType). */
export type OmsOrderType = 'Limit' | 'Market';

/** An order to submit: symbol, side, type, exact quantity and limit price, optional idempotency key. */
export interface Order {
  readonly symbol: string;
  readonly side: Side;
  readonly orderType: OmsOrderType;
  /** Positive quantity in instrument units. */
  readonly quantity: Quantity;
  /** Limit price in quote currency; undefined for a market order (the taker price comes from matching). */
  readonly price: Price | undefined;
  /** A submit with a key already seen is refused with DuplicateIdempotencyKey. */
  readonly idempotencyKey: string | undefined;
  /**
   * A notional market order: spend (or raise) this much quote currency; the venue decides the
   * quantity at its fill price. `quantity` is then an estimate (for risk checks), fills may total
   * more or less than it, and the order completes on the fill the venue marks final.
   */
  readonly notional?: Decimal;
}

/** Plain form of an Order; decimals as exact strings. */
export interface OrderDict {
  symbol: string;
  side: Side;
  orderType: OmsOrderType;
  quantity: string;
  price?: string;
  idempotencyKey?: string;
}

/** Checks a side given at the API edge. @throws OmsError SerializationError */
export function checkSide(side: string): Side {
  if (side !== 'Buy' && side !== 'Sell') {
    throw new OmsError('SerializationError', `side must be "Buy" or "Sell", got ${JSON.stringify(side)}`);
  }
  return side;
}

function checkSymbol(symbol: string): string {
  if (typeof symbol !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._\-/^:]{0,63}$/.test(symbol)) {
    throw new OmsError('SerializationError', `invalid symbol ${JSON.stringify(symbol)}`);
  }
  return symbol;
}

function positiveQuantity(input: DecimalInput, what: string): Quantity {
  const d = omsDecimal(input, what);
  if (!d.isPositive()) throw new OmsError('SerializationError', `${what} must be positive, got ${d.toString()}`);
  return Quantity.fromRaw(d.raw, d.precision);
}

function makeOrder(
  symbol: string,
  side: string,
  orderType: OmsOrderType,
  quantity: DecimalInput,
  price: DecimalInput | undefined,
  idempotencyKey: string | undefined,
): Order {
  let px: Price | undefined;
  if (price !== undefined) {
    const d = omsDecimal(price, 'price');
    if (!d.isPositive()) throw new OmsError('SerializationError', `price must be positive, got ${d.toString()}`);
    px = Price.fromRaw(d.raw, d.precision);
  }
  if (idempotencyKey !== undefined && (typeof idempotencyKey !== 'string' || idempotencyKey === '')) {
    throw new OmsError('SerializationError', 'idempotencyKey must be a non-empty string');
  }
  return Object.freeze({
    symbol: checkSymbol(symbol),
    side: checkSide(side),
    orderType,
    quantity: positiveQuantity(quantity, 'quantity'),
    price: px,
    idempotencyKey,
  });
}

/**
 * A limit order; quantity and price (quote currency) as strings, safe integers or decimals.
 * @throws OmsError SerializationError on a bad symbol, side or decimal, or a non-positive quantity/price
 */
export function limitOrder(symbol: string, side: Side | string, quantity: DecimalInput, price: DecimalInput, idempotencyKey?: string): Order {
  return makeOrder(symbol, side, 'Limit', quantity, price, idempotencyKey);
}

/**
 * A market order (its price is decided by matching).
 * @throws OmsError SerializationError on a bad symbol, side or decimal, or a non-positive quantity
 */
export function marketOrder(symbol: string, side: Side | string, quantity: DecimalInput, idempotencyKey?: string): Order {
  return makeOrder(symbol, side, 'Market', quantity, undefined, idempotencyKey);
}

/**
 * A notional market order: buy (sell) `notional` worth of quote currency at the venue's fill price;
 * `estimatedQuantity` (notional / reference price) is what risk checks see.
 * @throws OmsError SerializationError on a bad symbol, side or decimal, or a non-positive amount
 */
export function notionalOrder(symbol: string, side: Side | string, notional: DecimalInput, estimatedQuantity: DecimalInput, idempotencyKey?: string): Order {
  const n = omsDecimal(notional, 'notional');
  if (!n.isPositive()) throw new OmsError('SerializationError', `notional must be positive, got ${n.toString()}`);
  return Object.freeze({ ...makeOrder(symbol, side, 'Market', estimatedQuantity, undefined, idempotencyKey), notional: n });
}

/** The plain form of an order. */
export function orderToDict(order: Order): OrderDict {
  const d: OrderDict = { symbol: order.symbol, side: order.side, orderType: order.orderType, quantity: order.quantity.toString() };
  if (order.price !== undefined) d.price = order.price.toString();
  if (order.idempotencyKey !== undefined) d.idempotencyKey = order.idempotencyKey;
  return d;
}
