import { Decimal, MAX_PRECISION, type DecimalInput } from '../core/decimal.js';
import { LiveClock, type Clock } from '../core/clock.js';
import { currencyCode } from '../core/money.js';
import { CoreError } from '../core/errors.js';
import type { Instrument } from '../model/instrument.js';
import type { Side } from '../model/order.js';
import { OmsError, omsDecimal } from './errors.js';
import { checkSide } from './order.js';

/** A cash account refuses negative cash and short positions; a margin account allows both. */
export type AccountType = 'cash' | 'margin';

/** Options of a Portfolio. */
export interface PortfolioOptions {
  /** Default 'cash'. */
  accountType?: AccountType;
  /** Quote currency for symbols without a dash (`SPY`) and no registered instrument. */
  defaultQuoteCurrency?: string;
  /** The currency risk checks and equity use by default; default: the order's quote currency. */
  baseCurrency?: string;
  /** Instruments whose base/quote currencies resolve their symbols. */
  instruments?: readonly Instrument[];
  /** Source of `updatedAt` (epoch ns); default LiveClock. */
  clock?: Clock;
}

/** One fill to apply; decimals as strings, safe integers or decimal objects. */
export interface FillInput {
  /** The venue's execution id: a fill id already applied is ignored (idempotent). */
  fillId?: string;
  symbol: string;
  /** Default: the sign of `quantity` (negative = Sell). */
  side?: Side;
  /** Fill price, quote currency. */
  price: DecimalInput;
  /** Positive with `side`; signed without it. */
  quantity: DecimalInput;
  /** Fee charged, in `feeCurrency`; default 0. */
  fee?: DecimalInput;
  /** Default: the symbol's quote currency. */
  feeCurrency?: string;
  /** Fill time, epoch ns; default clock.now(). */
  tsNs?: bigint;
}

/** A single-symbol position snapshot; decimals as exact strings. */
export class Position {
  readonly symbol: string;
  /** Signed quantity (negative = short). */
  readonly quantity: string;
  /** Average open price, quote currency ("0" when flat). */
  readonly avgPrice: string;
  /** Realized PnL, quote currency. */
  readonly realizedPnl: string;
  /** Last change, epoch ns. */
  readonly updatedAt: bigint;

  constructor(symbol: string, quantity: string, avgPrice: string, realizedPnl: string, updatedAt: bigint) {
    this.symbol = symbol;
    this.quantity = quantity;
    this.avgPrice = avgPrice;
    this.realizedPnl = realizedPnl;
    this.updatedAt = updatedAt;
    Object.freeze(this);
  }

  /** The plain form (updatedAt as a decimal string of epoch ns). */
  toDict(): { symbol: string; quantity: string; avgPrice: string; realizedPnl: string; updatedAt: string } {
    return {
      symbol: this.symbol,
      quantity: this.quantity,
      avgPrice: this.avgPrice,
      realizedPnl: this.realizedPnl,
      updatedAt: this.updatedAt.toString(),
    };
  }
}

interface PositionState {
  readonly symbol: string;
  readonly quote: string;
  qty: Decimal;
  /** Signed open cost basis, quote currency: exact sum of opening notionals less what closes removed. */
  basis: Decimal;
  realized: Decimal;
  /** Largest price precision seen, for printing the average price. */
  pxPrecision: number;
  /** Whether any fill touched it (a mark alone does not make a position). */
  traded: boolean;
  mark: Decimal | undefined;
  /** Signed value used by the aggregates: qty * mark, or the basis without a mark. */
  value: Decimal;
  updatedAt: bigint;
}

interface Aggregate {
  net: Decimal;
  gross: Decimal;
}

/** Extra fraction digits of a printed average price beyond the prices' own precision. */
const AVG_EXTRA_DIGITS = 8;

/** The quotient rounded half-even at `minPrecision + 8` digits, trailing zeros trimmed down to `minPrecision`. */
function averageOf(basis: Decimal, qty: Decimal, minPrecision: number): Decimal {
  const p = Math.min(MAX_PRECISION, minPrecision + AVG_EXTRA_DIGITS);
  let raw = basis.abs().div(qty.abs(), p).raw;
  let q = p;
  while (q > minPrecision && raw % 10n === 0n) {
    raw /= 10n;
    q--;
  }
  return Decimal.fromRaw(raw, q);
}

/**
 * Multi-currency cash plus positions. Buying `BTC-USDT` debits USDT by price x quantity and
 * credits the position; selling realizes PnL against the open cost; fees are charged in their
 * currency. Every fill is applied atomically: a refused fill changes nothing. Equity and gross
 * exposure per quote currency are kept incrementally, so risk checks read them in O(1).
 */
export class Portfolio {
  readonly accountType: AccountType;
  readonly defaultQuoteCurrency: string | undefined;
  readonly baseCurrency: string | undefined;
  readonly #clock: Clock;
  readonly #cash = new Map<string, Decimal>();
  readonly #positions = new Map<string, PositionState>();
  readonly #aggregates = new Map<string, Aggregate>();
  readonly #instruments = new Map<string, Instrument>();
  readonly #fills = new Map<string, string>();
  #openCount = 0;
  /** Equity per currency since the last change (risk checks read it many times between changes). */
  readonly #equityCache = new Map<string, Decimal>();

  /** @throws CoreError InvalidIdentifier on a bad currency code */
  constructor(options: PortfolioOptions = {}) {
    this.accountType = options.accountType ?? 'cash';
    if (this.accountType !== 'cash' && this.accountType !== 'margin') {
      throw new OmsError('Portfolio', `accountType must be "cash" or "margin", got ${JSON.stringify(this.accountType)}`);
    }
    this.defaultQuoteCurrency = options.defaultQuoteCurrency === undefined ? undefined : currencyCode(options.defaultQuoteCurrency);
    this.baseCurrency = options.baseCurrency === undefined ? undefined : currencyCode(options.baseCurrency);
    this.#clock = options.clock ?? new LiveClock();
    for (const inst of options.instruments ?? []) this.registerInstrument(inst);
  }

  /** Registers an instrument so its symbol (and `SYMBOL.VENUE` id) resolves to its base/quote currencies. */
  registerInstrument(instrument: Instrument): void {
    this.#instruments.set(instrument.id.symbol, instrument);
    this.#instruments.set(instrument.id.value, instrument);
  }

  /**
   * The quote currency of `symbol`: its registered instrument's, the part after the dash
   * (`BTC-USDT` -> USDT), or defaultQuoteCurrency.
   * @throws OmsError Portfolio when none applies
   */
  quoteCurrency(symbol: string): string {
    const inst = this.#instruments.get(symbol);
    if (inst !== undefined) return inst.quoteCurrency;
    const existing = this.#positions.get(symbol);
    if (existing !== undefined) return existing.quote;
    const i = symbol.search(/[-/][^-/]*$/);
    if (i > 0) {
      const quote = symbol.slice(i + 1);
      if (/^[A-Za-z0-9]{1,16}$/.test(quote)) return quote;
    }
    if (this.defaultQuoteCurrency !== undefined) return this.defaultQuoteCurrency;
    throw new OmsError(
      'Portfolio',
      `cannot tell the quote currency of ${JSON.stringify(symbol)}: register its instrument or set defaultQuoteCurrency`,
    );
  }

  /**
   * Adds `amount` (positive) of `currency` to cash.
   * @throws OmsError Portfolio on a non-positive amount; SerializationError on a bad decimal
   */
  deposit(currency: string, amount: DecimalInput): void {
    const code = this.#currency(currency);
    const a = omsDecimal(amount, `deposit of ${code}`);
    if (!a.isPositive()) throw new OmsError('Portfolio', `deposit of ${code} must be positive, got ${a.toString()}`);
    this.#cash.set(code, (this.#cash.get(code) ?? Decimal.ZERO).add(a));
    this.#equityCache.clear();
  }

  /**
   * Removes `amount` (positive) of `currency` from cash.
   * @throws OmsError Portfolio when it is not positive or a cash account would go negative
   */
  withdraw(currency: string, amount: DecimalInput): void {
    const code = this.#currency(currency);
    const a = omsDecimal(amount, `withdrawal of ${code}`);
    if (!a.isPositive()) throw new OmsError('Portfolio', `withdrawal of ${code} must be positive, got ${a.toString()}`);
    const next = (this.#cash.get(code) ?? Decimal.ZERO).sub(a);
    if (next.isNegative() && this.accountType === 'cash') {
      throw new OmsError('Portfolio', `withdrawal of ${a.toString()} ${code} exceeds the cash balance ${this.cashBalance(code).toString()}`);
    }
    this.#cash.set(code, next);
    this.#equityCache.clear();
  }

  /** Whether a fill with this id was already applied. */
  hasFill(fillId: string): boolean {
    return this.#fills.has(fillId);
  }

  /**
   * Applies a fill atomically; returns false (and changes nothing) when its fill id was already
   * applied with the same data.
   * @throws OmsError Portfolio when a cash account would go negative or short, the fill id was
   *   applied with different data, or the quantity is zero; SerializationError on bad input
   */
  applyFill(fill: FillInput): boolean {
    const p = this.prepareFill(fill);
    if (p === undefined) return false;
    this.commitFill(p);
    return true;
  }

  /**
   * Validates a fill and computes its effect without changing anything (undefined for an
   * already-applied duplicate); `commitFill` then applies it. Lets a caller update other state
   * atomically with the portfolio.
   * @throws OmsError as applyFill
   */
  prepareFill(fill: FillInput): PreparedFill | undefined {
    const symbol = fill.symbol;
    if (typeof symbol !== 'string' || symbol === '') throw new OmsError('SerializationError', 'fill symbol must be a non-empty string');
    const price = omsDecimal(fill.price, `fill price of ${symbol}`);
    if (!price.isPositive()) throw new OmsError('Portfolio', `fill price of ${symbol} must be positive, got ${price.toString()}`);
    let qty = omsDecimal(fill.quantity, `fill quantity of ${symbol}`);
    if (qty.isZero()) throw new OmsError('Portfolio', `fill quantity of ${symbol} is zero`);
    if (fill.side !== undefined) {
      const side = checkSide(fill.side);
      if (qty.isNegative()) throw new OmsError('Portfolio', `fill quantity of ${symbol} must be positive with a side, got ${qty.toString()}`);
      if (side === 'Sell') qty = qty.neg();
    }
    const fee = fill.fee === undefined ? Decimal.ZERO : omsDecimal(fill.fee, `fee of ${symbol}`);
    const quote = this.quoteCurrency(symbol);
    const feeCurrency = fill.feeCurrency === undefined ? quote : this.#currency(fill.feeCurrency);
    let signature: string | undefined;
    if (fill.fillId !== undefined) {
      if (typeof fill.fillId !== 'string' || fill.fillId === '') throw new OmsError('SerializationError', 'fillId must be a non-empty string');
      signature = `${symbol}|${qty.toString()}|${price.toString()}|${fee.toString()}|${feeCurrency}`;
      const seen = this.#fills.get(fill.fillId);
      if (seen !== undefined) {
        if (seen === signature) return undefined;
        throw new OmsError('Portfolio', `fill ${fill.fillId} was already applied with different data (${seen} vs ${signature})`);
      }
    }
    const ts = fill.tsNs ?? this.#clock.now();
    const old = this.#positions.get(symbol);
    const oldQty = old?.qty ?? Decimal.ZERO;
    const oldBasis = old?.basis ?? Decimal.ZERO;
    const notional = qty.mul(price);
    let basis: Decimal;
    let realizedDelta = Decimal.ZERO;
    const newQty = oldQty.add(qty);
    if (oldQty.isZero() || oldQty.sign() === qty.sign()) {
      basis = oldBasis.add(notional);
    } else {
      const closing = qty.abs().lt(oldQty.abs()) ? qty.abs() : oldQty.abs();
      const removed = closing.eq(oldQty.abs()) ? oldBasis : oldBasis.mul(closing).div(oldQty.abs(), oldBasis.precision);
      // cash received for the closing part minus the cost it carried
      const closingCash = closing.mul(price).mul(oldQty.sign());
      realizedDelta = closingCash.sub(removed);
      basis = oldBasis.sub(removed);
      if (newQty.sign() === qty.sign() && !newQty.isZero()) basis = basis.add(newQty.mul(price));
    }
    if (newQty.isZero()) basis = Decimal.ZERO;
    const cashQuote = this.cashBalance(quote).sub(notional);
    const feeBase = feeCurrency === quote ? cashQuote : this.cashBalance(feeCurrency);
    const cashFee = feeBase.sub(fee);
    if (this.accountType === 'cash') {
      if (newQty.isNegative()) {
        throw new OmsError('Portfolio', `cash account cannot go short ${symbol}: position ${oldQty.toString()} + fill ${qty.toString()} = ${newQty.toString()}`);
      }
      const afterQuote = feeCurrency === quote ? cashFee : cashQuote;
      if (afterQuote.isNegative()) {
        throw new OmsError('Portfolio', `insufficient ${quote} cash for fill of ${qty.toString()} ${symbol} @ ${price.toString()}: balance would be ${afterQuote.toString()}`);
      }
      if (cashFee.isNegative()) {
        throw new OmsError('Portfolio', `insufficient ${feeCurrency} cash for fee ${fee.toString()} on ${symbol}: balance would be ${cashFee.toString()}`);
      }
    }
    return {
      symbol,
      quote,
      feeCurrency,
      fillId: fill.fillId,
      signature,
      qty,
      price,
      fee,
      newQty,
      basis,
      realizedDelta,
      cashQuote: feeCurrency === quote ? cashFee : cashQuote,
      cashFee,
      ts,
    };
  }

  /** Applies a fill computed by prepareFill (call it before any other change to this portfolio). */
  commitFill(p: PreparedFill): void {
    let pos = this.#positions.get(p.symbol);
    if (pos === undefined) {
      pos = {
        symbol: p.symbol,
        quote: p.quote,
        qty: Decimal.ZERO,
        basis: Decimal.ZERO,
        realized: Decimal.ZERO,
        pxPrecision: 0,
        traded: true,
        mark: undefined,
        value: Decimal.ZERO,
        updatedAt: p.ts,
      };
      this.#positions.set(p.symbol, pos);
    }
    const wasOpen = !pos.qty.isZero();
    pos.qty = p.newQty;
    pos.basis = p.basis;
    if (!p.realizedDelta.isZero()) pos.realized = pos.realized.add(p.realizedDelta);
    if (p.price.precision > pos.pxPrecision) pos.pxPrecision = p.price.precision;
    pos.updatedAt = p.ts;
    pos.traded = true;
    this.#revalue(pos);
    const isOpen = !p.newQty.isZero();
    if (isOpen !== wasOpen) this.#openCount += isOpen ? 1 : -1;
    this.#equityCache.clear();
    this.#cash.set(p.quote, p.cashQuote);
    if (p.feeCurrency !== p.quote) this.#cash.set(p.feeCurrency, p.cashFee);
    if (p.fillId !== undefined && p.signature !== undefined) this.#fills.set(p.fillId, p.signature);
  }

  /**
   * Sets the mark price (quote currency) that values `symbol` in equity and exposure.
   * @throws OmsError SerializationError on a bad decimal, Portfolio on a non-positive price
   */
  setMark(symbol: string, price: DecimalInput): void {
    const px = omsDecimal(price, `mark of ${symbol}`);
    if (!px.isPositive()) throw new OmsError('Portfolio', `mark of ${symbol} must be positive, got ${px.toString()}`);
    let pos = this.#positions.get(symbol);
    if (pos === undefined) {
      pos = {
        symbol,
        quote: this.quoteCurrency(symbol),
        qty: Decimal.ZERO,
        basis: Decimal.ZERO,
        realized: Decimal.ZERO,
        pxPrecision: 0,
        traded: false,
        mark: px,
        value: Decimal.ZERO,
        updatedAt: this.#clock.now(),
      };
      this.#positions.set(symbol, pos);
      return;
    }
    pos.mark = px;
    this.#revalue(pos);
  }

  /** Sets several marks at once (validated first, so a bad one changes nothing). */
  updateMarks(marks: Readonly<Record<string, DecimalInput>>): void {
    const parsed = Object.entries(marks).map(([s, v]) => {
      const px = omsDecimal(v, `mark of ${s}`);
      if (!px.isPositive()) throw new OmsError('Portfolio', `mark of ${s} must be positive, got ${px.toString()}`);
      this.quoteCurrency(s);
      return [s, px] as const;
    });
    for (const [s, px] of parsed) this.setMark(s, px);
  }

  /** The mark price of `symbol`, if one was set. */
  mark(symbol: string): Decimal | undefined {
    return this.#positions.get(symbol)?.mark;
  }

  #revalue(pos: PositionState): void {
    const value = pos.mark === undefined ? pos.basis : pos.qty.mul(pos.mark);
    let agg = this.#aggregates.get(pos.quote);
    if (agg === undefined) {
      agg = { net: Decimal.ZERO, gross: Decimal.ZERO };
      this.#aggregates.set(pos.quote, agg);
    }
    this.#equityCache.clear();
    agg.net = agg.net.sub(pos.value).add(value);
    agg.gross = agg.gross.sub(pos.value.abs()).add(value.abs());
    pos.value = value;
  }

  #currency(code: string): string {
    try {
      return currencyCode(code);
    } catch (e) {
      if (e instanceof CoreError) throw new OmsError('SerializationError', e.detail, { cause: e });
      throw e;
    }
  }

  /** Cash balance of `currency` (zero when never funded). */
  cashBalance(currency: string): Decimal {
    return this.#cash.get(currency) ?? Decimal.ZERO;
  }

  /** Every cash balance as exact strings: `cash.USDT === "70000.0"`. */
  get cash(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [c, v] of this.#cash) out[c] = v.toString();
    return out;
  }

  /** Open (non-zero) positions by symbol. */
  get positions(): Record<string, Position> {
    const out: Record<string, Position> = {};
    for (const pos of this.#positions.values()) if (!pos.qty.isZero()) out[pos.symbol] = this.#snapshot(pos);
    return out;
  }

  /** The position of `symbol` (open or closed), or undefined if it never traded. */
  position(symbol: string): Position | undefined {
    const pos = this.#positions.get(symbol);
    return pos === undefined || !pos.traded ? undefined : this.#snapshot(pos);
  }

  #snapshot(pos: PositionState): Position {
    const avg = pos.qty.isZero() ? Decimal.ZERO : averageOf(pos.basis, pos.qty, pos.pxPrecision);
    return new Position(pos.symbol, pos.qty.toString(), avg.toString(), pos.realized.toString(), pos.updatedAt);
  }

  /** Signed position quantity of `symbol` (zero when flat). */
  positionQuantity(symbol: string): Decimal {
    return this.#positions.get(symbol)?.qty ?? Decimal.ZERO;
  }

  /** Signed open cost basis of `symbol`, quote currency (exact sum of opening notionals still open). */
  costBasis(symbol: string): Decimal {
    return this.#positions.get(symbol)?.basis ?? Decimal.ZERO;
  }

  /** Realized PnL of `symbol`, quote currency. */
  realizedPnl(symbol: string): Decimal {
    return this.#positions.get(symbol)?.realized ?? Decimal.ZERO;
  }

  /** Price `symbol` is valued at: `marks[symbol]`, else its set mark, else undefined (cost basis used). */
  #valueOf(pos: PositionState, marks: Readonly<Record<string, DecimalInput>> | undefined): Decimal {
    const m = marks?.[pos.symbol];
    if (m !== undefined) return pos.qty.mul(omsDecimal(m, `mark of ${pos.symbol}`));
    return pos.value;
  }

  /** Signed value of `symbol`'s position, quote currency: qty x mark (from `marks`, else the set mark), else its cost basis. */
  positionValue(symbol: string, marks?: Readonly<Record<string, DecimalInput>>): Decimal {
    const pos = this.#positions.get(symbol);
    return pos === undefined ? Decimal.ZERO : this.#valueOf(pos, marks);
  }

  /** Unrealized PnL of `symbol`, quote currency: position value minus open cost basis. */
  unrealizedPnl(symbol: string, marks?: Readonly<Record<string, DecimalInput>>): Decimal {
    const pos = this.#positions.get(symbol);
    return pos === undefined ? Decimal.ZERO : this.#valueOf(pos, marks).sub(pos.basis);
  }

  /**
   * Equity (NAV) in `currency`: its cash plus the signed value of positions quoted in it. Without
   * `marks` this reads the incremental aggregate (O(1)); other currencies are not converted.
   */
  equity(currency: string, marks?: Readonly<Record<string, DecimalInput>>): Decimal {
    const cash = this.cashBalance(currency);
    if (marks === undefined) {
      let e = this.#equityCache.get(currency);
      if (e === undefined) {
        e = cash.add(this.#aggregates.get(currency)?.net ?? Decimal.ZERO);
        this.#equityCache.set(currency, e);
      }
      return e;
    }
    let total = cash;
    for (const pos of this.#positions.values()) if (pos.quote === currency) total = total.add(this.#valueOf(pos, marks));
    return total;
  }

  /** Sum of |position value| over positions quoted in `currency` (O(1) without `marks`). */
  grossExposure(currency: string, marks?: Readonly<Record<string, DecimalInput>>): Decimal {
    if (marks === undefined) return this.#aggregates.get(currency)?.gross ?? Decimal.ZERO;
    let total = Decimal.ZERO;
    for (const pos of this.#positions.values()) if (pos.quote === currency) total = total.add(this.#valueOf(pos, marks).abs());
    return total;
  }

  /** Largest |position value| among positions quoted in `currency` (O(positions)). */
  largestPositionValue(currency: string): Decimal {
    let max = Decimal.ZERO;
    for (const pos of this.#positions.values()) if (pos.quote === currency && pos.value.abs().gt(max)) max = pos.value.abs();
    return max;
  }

  /** Number of open (non-zero) positions. */
  positionCount(): number {
    return this.#openCount;
  }

  /** True when there is no cash balance and no open position. */
  isEmpty(): boolean {
    return this.#openCount === 0 && [...this.#cash.values()].every((v) => v.isZero());
  }

  /** The plain form: `{ cash, positions, positionCount }` with exact strings. */
  toDict(): { cash: Record<string, string>; positions: Record<string, ReturnType<Position['toDict']>>; positionCount: number } {
    const positions: Record<string, ReturnType<Position['toDict']>> = {};
    for (const [s, p] of Object.entries(this.positions)) positions[s] = p.toDict();
    return { cash: this.cash, positions, positionCount: this.positionCount() };
  }
}

/** A fill validated by Portfolio.prepareFill, ready to commit. */
export interface PreparedFill {
  readonly symbol: string;
  readonly quote: string;
  readonly feeCurrency: string;
  readonly fillId: string | undefined;
  readonly signature: string | undefined;
  /** Signed fill quantity. */
  readonly qty: Decimal;
  readonly price: Decimal;
  readonly fee: Decimal;
  readonly newQty: Decimal;
  readonly basis: Decimal;
  readonly realizedDelta: Decimal;
  readonly cashQuote: Decimal;
  readonly cashFee: Decimal;
  readonly ts: bigint;
}
