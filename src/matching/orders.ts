import { toRawParts, formatDecimal, type DecimalInput } from '../core/decimal.js';
import type { Side } from '../model/order.js';
import { BacktestError } from './errors.js';

/** Time in force the matching engines support. */
export type MatchingTimeInForce = 'GTC' | 'IOC' | 'FOK';
/** Sides accepted at the edge; normalized to `Buy` / `Sell`. */
export type SideInput = Side | 'BUY' | 'SELL' | 'buy' | 'sell';

/** An order for the matching engines (the seed's order dict); prices and quantities are exact decimal strings. */
export interface OrderSpec {
  readonly id: number;
  readonly symbol: string;
  readonly side: Side;
  readonly type: 'Limit' | 'Market';
  /** Limit price in quote currency; absent for market orders. */
  readonly price?: string;
  /** Quantity in base units. */
  readonly quantity: string;
  readonly tif: MatchingTimeInForce;
}

/** One fill of the submit return protocol; price in quote currency, quantity in base units, both exact strings. */
export interface FillReport {
  readonly fillId: number;
  readonly takerOrderId: number;
  readonly makerOrderId: number;
  readonly price: string;
  readonly quantity: string;
  readonly takerSide: 'BUY' | 'SELL';
}

/** What every submit returns (the seed's protocol). */
export interface SubmitResult {
  /** The whole quantity was filled. */
  readonly isFilled: boolean;
  /** Some, not all, of the quantity was filled. */
  readonly isPartiallyFilled: boolean;
  /** Quantity not filled (resting for GTC, dropped for IOC/FOK), exact string. */
  readonly remainingQuantity: string;
  readonly fills: readonly FillReport[];
}

/** Checks and normalizes a side. @throws BacktestError Matching "invalid side: xxx" */
export function parseSide(side: unknown): Side {
  if (typeof side === 'string') {
    const s = side.toLowerCase();
    if (s === 'buy') return 'Buy';
    if (s === 'sell') return 'Sell';
  }
  throw new BacktestError('Matching', `invalid side: ${String(side)}`);
}

/** Checks an order id: a positive safe integer. @throws BacktestError Matching */
export function checkOrderId(id: unknown): number {
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) {
    throw new BacktestError('Matching', `invalid order id: ${String(id)} (a positive integer)`);
  }
  return id;
}

function checkTif(tif: unknown): MatchingTimeInForce {
  if (tif === 'GTC' || tif === 'IOC' || tif === 'FOK') return tif;
  throw new BacktestError('Matching', `invalid time in force: ${String(tif)} (GTC, IOC or FOK)`);
}

function positiveDecimal(value: DecimalInput, what: string): string {
  let raw: bigint;
  let precision: number;
  try {
    [raw, precision] = toRawParts(value);
  } catch (e) {
    throw new BacktestError('Matching', `invalid ${what}: ${String(value)}`, { cause: e });
  }
  if (raw <= 0n) throw new BacktestError('Matching', `invalid ${what}: ${String(value)} (must be > 0)`);
  return formatDecimal(raw, precision);
}

function checkSymbol(symbol: unknown): string {
  if (typeof symbol !== 'string' || symbol.length === 0) throw new BacktestError('Matching', `invalid symbol: ${String(symbol)}`);
  return symbol;
}

/**
 * A limit order (the seed's `limit_order`); price in quote currency and quantity in base units as
 * decimal strings (or safe integers).
 * @throws BacktestError Matching on an invalid id, side, price, quantity or time in force
 */
export function limitOrder(
  id: number,
  symbol: string,
  side: SideInput,
  price: DecimalInput,
  quantity: DecimalInput,
  tif: MatchingTimeInForce = 'GTC',
): OrderSpec {
  return Object.freeze({
    id: checkOrderId(id),
    symbol: checkSymbol(symbol),
    side: parseSide(side),
    type: 'Limit' as const,
    price: positiveDecimal(price, 'price'),
    quantity: positiveDecimal(quantity, 'quantity'),
    tif: checkTif(tif),
  });
}

/** A market order (the seed's `market_order`); its time in force is always IOC. @throws BacktestError Matching */
export function marketOrder(id: number, symbol: string, side: SideInput, quantity: DecimalInput): OrderSpec {
  return Object.freeze({
    id: checkOrderId(id),
    symbol: checkSymbol(symbol),
    side: parseSide(side),
    type: 'Market' as const,
    quantity: positiveDecimal(quantity, 'quantity'),
    tif: 'IOC' as const,
  });
}

/** Validates an order built by hand (not by the factories). @throws BacktestError Matching */
export function checkOrder(order: OrderSpec): OrderSpec {
  if (typeof order !== 'object' || order === null) throw new BacktestError('Matching', `invalid order: ${String(order)}`);
  checkOrderId(order.id);
  checkSymbol(order.symbol);
  parseSide(order.side);
  if (order.type !== 'Limit' && order.type !== 'Market') throw new BacktestError('Matching', `invalid order type: ${String(order.type)}`);
  if (order.type === 'Limit' && order.price === undefined) throw new BacktestError('Matching', `invalid price: limit order ${order.id} has no price`);
  checkTif(order.tif);
  return order;
}
