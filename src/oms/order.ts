import { Price, Quantity, type DecimalInput } from '../core/decimal.js';
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

/** The plain form of an order. */
export function orderToDict(order: Order): OrderDict {
  const d: OrderDict = { symbol: order.symbol, side: order.side, orderType: order.orderType, quantity: order.quantity.toString() };
  if (order.price !== undefined) d.price = order.price.toString();
  if (order.idempotencyKey !== undefined) d.idempotencyKey = order.idempotencyKey;
  return d;
}
