import { Decimal, type DecimalInput } from '../core/decimal.js';
import type { Side } from '../model/order.js';
import { RiskError, riskDecimal } from './errors.js';

/** What a risk check needs of an order (the OMS `Order` has the same shape). */
export interface RiskOrderLike {
  readonly symbol: string;
  readonly side: Side;
  /** Positive quantity. */
  readonly quantity: { readonly raw: bigint; readonly precision: number };
  /** Limit price, quote currency; undefined for a market order (the portfolio's mark is used). */
  readonly price: { readonly raw: bigint; readonly precision: number } | undefined;
}

/** What a risk check needs of a portfolio; the OMS `Portfolio` and makePortfolio's result provide it in O(1). */
export interface RiskPortfolioView {
  /** Valuation currency; when undefined, the order's quote currency is used. */
  readonly baseCurrency: string | undefined;
  readonly accountType: 'cash' | 'margin';
  quoteCurrency(symbol: string): string;
  equity(currency: string): Decimal;
  grossExposure(currency: string): Decimal;
  positionQuantity(symbol: string): Decimal;
  positionValue(symbol: string): Decimal;
  mark(symbol: string): Decimal | undefined;
  cashBalance(currency: string): Decimal;
  largestPositionValue(currency: string): Decimal;
}

/** The seed's order dict, typed: id, symbol, side, type, price, quantity (exact decimals). */
export interface RiskOrder extends RiskOrderLike {
  readonly id: string;
  readonly type: 'limit' | 'market';
  readonly quantity: Decimal;
  readonly price: Decimal | undefined;
}

/** Input of makeOrder; decimals as strings, safe integers or decimals. */
export interface RiskOrderInput {
  id: string | number;
  symbol: string;
  side: Side | string;
  type: 'limit' | 'market' | string;
  price?: DecimalInput;
  quantity: DecimalInput;
}

/**
 * The seed's `make_order`: a limit or market order for risk checks.
 * @throws RiskError OrderRejected on a bad side, type, symbol or decimal, a non-positive quantity or
 *   price, or a limit order without a price
 */
export function makeOrder(input: RiskOrderInput): RiskOrder {
  const problems: string[] = [];
  if (input.side !== 'Buy' && input.side !== 'Sell') problems.push(`side must be "Buy" or "Sell", got ${JSON.stringify(input.side)}`);
  const type = String(input.type).toLowerCase();
  if (type !== 'limit' && type !== 'market') problems.push(`type must be "limit" or "market", got ${JSON.stringify(input.type)}`);
  if (typeof input.symbol !== 'string' || input.symbol === '') problems.push('symbol must be a non-empty string');
  const quantity = collect(() => riskDecimal(input.quantity, 'quantity', 'OrderRejected'), problems);
  if (quantity !== undefined && !quantity.isPositive()) problems.push(`quantity must be positive, got ${quantity.toString()}`);
  const price = input.price === undefined ? undefined : collect(() => riskDecimal(input.price, 'price', 'OrderRejected'), problems);
  if (price !== undefined && !price.isPositive()) problems.push(`price must be positive, got ${price.toString()}`);
  if (type === 'limit' && input.price === undefined) problems.push('a limit order needs a price');
  if (problems.length > 0 || quantity === undefined) {
    throw new RiskError('OrderRejected', `order ${String(input.id)}: ${problems.join('; ')}`);
  }
  return Object.freeze({
    id: String(input.id),
    symbol: input.symbol,
    side: input.side as Side,
    type: type as 'limit' | 'market',
    price,
    quantity,
  });
}

function collect<T>(fn: () => T, problems: string[]): T | undefined {
  try {
    return fn();
  } catch (e) {
    if (e instanceof RiskError) {
      problems.push(e.detail);
      return undefined;
    }
    throw e;
  }
}

/** One position of makePortfolioWithPositions; `markPrice` values it, else `avgPrice`. */
export interface RiskPositionInput {
  /** Signed quantity (negative = short). */
  quantity: DecimalInput;
  avgPrice: DecimalInput;
  markPrice?: DecimalInput;
}

/** Input of makePortfolio. */
export interface RiskPortfolioInput {
  /** Valuation currency of equity, exposure and limits. */
  baseCurrency: string;
  /** Fee rate charged on order value (0.001 = 10 bps); checked against cash on a cash account. */
  commissionRate?: DecimalInput | number;
  cash?: Readonly<Record<string, DecimalInput>>;
  /** Default 'cash'. */
  accountType?: 'cash' | 'margin';
}

/** An immutable portfolio for risk checks: aggregates computed once at construction. */
export class RiskPortfolio implements RiskPortfolioView {
  readonly baseCurrency: string;
  readonly accountType: 'cash' | 'margin';
  readonly commissionRate: Decimal;
  readonly #cash: ReadonlyMap<string, Decimal>;
  readonly #qty = new Map<string, Decimal>();
  readonly #value = new Map<string, Decimal>();
  readonly #marks = new Map<string, Decimal>();
  readonly #equity: Decimal;
  readonly #gross: Decimal;
  readonly #largest: Decimal;

  /** @throws RiskError ConfigInvalid on bad decimals or currency */
  constructor(input: RiskPortfolioInput, positions: Readonly<Record<string, RiskPositionInput>> = {}) {
    if (typeof input.baseCurrency !== 'string' || !/^[A-Za-z0-9]{1,16}$/.test(input.baseCurrency)) {
      throw new RiskError('ConfigInvalid', `baseCurrency must be a currency code, got ${JSON.stringify(input.baseCurrency)}`);
    }
    this.baseCurrency = input.baseCurrency;
    this.accountType = input.accountType ?? 'cash';
    this.commissionRate = input.commissionRate === undefined ? Decimal.ZERO : riskDecimal(input.commissionRate, 'commissionRate', 'ConfigInvalid', true);
    if (this.commissionRate.isNegative()) throw new RiskError('ConfigInvalid', `commissionRate cannot be negative, got ${this.commissionRate.toString()}`);
    const cash = new Map<string, Decimal>();
    for (const [c, v] of Object.entries(input.cash ?? {})) cash.set(c, riskDecimal(v, `cash ${c}`, 'ConfigInvalid'));
    this.#cash = cash;
    let net = Decimal.ZERO;
    let gross = Decimal.ZERO;
    let largest = Decimal.ZERO;
    for (const [s, p] of Object.entries(positions)) {
      const q = riskDecimal(p.quantity, `quantity of ${s}`, 'ConfigInvalid');
      const px = riskDecimal(p.markPrice ?? p.avgPrice, `price of ${s}`, 'ConfigInvalid');
      if (p.markPrice !== undefined) this.#marks.set(s, px);
      const v = q.mul(px);
      this.#qty.set(s, q);
      this.#value.set(s, v);
      net = net.add(v);
      gross = gross.add(v.abs());
      if (v.abs().gt(largest)) largest = v.abs();
    }
    this.#equity = this.cashBalance(this.baseCurrency).add(net);
    this.#gross = gross;
    this.#largest = largest;
    Object.freeze(this);
  }

  quoteCurrency(): string {
    return this.baseCurrency;
  }
  equity(): Decimal {
    return this.#equity;
  }
  grossExposure(): Decimal {
    return this.#gross;
  }
  largestPositionValue(): Decimal {
    return this.#largest;
  }
  positionQuantity(symbol: string): Decimal {
    return this.#qty.get(symbol) ?? Decimal.ZERO;
  }
  positionValue(symbol: string): Decimal {
    return this.#value.get(symbol) ?? Decimal.ZERO;
  }
  mark(symbol: string): Decimal | undefined {
    return this.#marks.get(symbol);
  }
  cashBalance(currency: string): Decimal {
    return this.#cash.get(currency) ?? Decimal.ZERO;
  }
  /** Number of positions. */
  positionCount(): number {
    return this.#qty.size;
  }
}

/**
 * The seed's `make_portfolio`: base currency, commission rate and cash, no positions.
 * @throws RiskError ConfigInvalid
 */
export function makePortfolio(input: RiskPortfolioInput): RiskPortfolio {
  return new RiskPortfolio(input);
}

/**
 * The seed's `make_portfolio_with_positions`: cash plus positions valued at mark (or average) price.
 * @throws RiskError ConfigInvalid
 */
export function makePortfolioWithPositions(input: RiskPortfolioInput & { positions: Readonly<Record<string, RiskPositionInput>> }): RiskPortfolio {
  return new RiskPortfolio(input, input.positions);
}
