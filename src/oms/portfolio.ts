import { Decimal, MAX_PRECISION, formatDecimal, type DecimalInput, type DecimalValue } from '../core/decimal.js';
import { LiveClock, type Clock } from '../core/clock.js';
import { currencyCode } from '../core/money.js';
import { CoreError } from '../core/errors.js';
import type { Instrument } from '../model/instrument.js';
import type { Side } from '../model/order.js';
import { OmsError, omsDecimal } from './errors.js';
import { checkSide } from './order.js';
import { big, cmp, edgeDecimal, mulPrecision, mulRaw, norm, rAbs, rAdd, rCmp, rDivRaw, rMulRaw, rNeg, rSub, rUp, up, type Raw } from './raw.js';
import { StateReader } from './state.js';
import { StringIndex } from './string-index.js';
import { fillLedger } from './ledger.js';

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
  /** Signed quantity as (raw, precision). */
  qR: Raw;
  qP: number;
  /** Signed open cost basis, quote currency: exact sum of opening notionals less what closes removed. */
  bR: Raw;
  bP: number;
  /** Realized PnL, quote currency. */
  rR: Raw;
  rP: number;
  /** Largest price precision seen, for printing the average price. */
  pxPrecision: number;
  /** Whether any fill touched it (a mark alone does not make a position). */
  traded: boolean;
  mark: Decimal | undefined;
  /** Signed value used by the aggregates: qty * mark, or the basis without a mark. */
  vR: Raw;
  vP: number;
  updatedAt: bigint;
  /** Decimal forms built on first read after a change (risk checks read them many times). */
  qtyDecimal: Decimal | undefined;
  valueDecimal: Decimal | undefined;
}

interface Aggregate {
  netR: Raw;
  netP: number;
  grossR: Raw;
  grossP: number;
  grossDecimal: Decimal | undefined;
}

interface CashState {
  raw: Raw;
  precision: number;
  decimal: Decimal | undefined;
}

function newPosition(symbol: string, quote: string, traded: boolean, mark: Decimal | undefined, updatedAt: bigint): PositionState {
  return {
    symbol,
    quote,
    qR: 0,
    qP: 0,
    bR: 0,
    bP: 0,
    rR: 0,
    rP: 0,
    pxPrecision: 0,
    traded,
    mark,
    vR: 0,
    vP: 0,
    updatedAt,
    qtyDecimal: undefined,
    valueDecimal: undefined,
  };
}

function qtyOf(pos: PositionState): Decimal {
  return (pos.qtyDecimal ??= Decimal.fromRaw(big(pos.qR), pos.qP));
}

function valueOf(pos: PositionState): Decimal {
  return (pos.valueDecimal ??= Decimal.fromRaw(big(pos.vR), pos.vP));
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
  #cash = new Map<string, CashState>();
  #positions = new Map<string, PositionState>();
  #aggregates = new Map<string, Aggregate>();
  readonly #instruments = new Map<string, Instrument>();
  /** Applied fills by id; a replay is recognised by equal symbol, quantity, price, fee and fee currency. */
  #fills = new StringIndex<FillKey>();
  /** The next applied fill's sequence number (its rank in #fills' order). */
  #fillSeq = 0;
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
    this.#version++;
    this.#instruments.set(instrument.id.symbol, instrument);
    this.#instruments.set(instrument.id.value, instrument);
  }

  /**
   * The quote currency of `symbol`: its registered instrument's, the part after the dash
   * (`BTC-USDT` -> USDT), or defaultQuoteCurrency.
   * @throws OmsError Portfolio when none applies
   */
  quoteCurrency(symbol: string): string {
    return this.#quoteOf(symbol, this.#positions.get(symbol));
  }

  #quoteOf(symbol: string, existing: PositionState | undefined): string {
    const inst = this.#instruments.get(symbol);
    if (inst !== undefined) return inst.quoteCurrency;
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

  // Map.clear allocates a fresh table, so skip it when there is nothing cached (every fill)
  #dropEquity(): void {
    if (this.#equityCache.size > 0) this.#equityCache.clear();
  }

  /** Bumped by every change of state (see fillLedger.version); a mutation that throws half way bumps it too. */
  #version = 0;

  #setCash(code: string, raw: Raw, precision: number): void {
    this.#version++;
    const c = this.#cash.get(code);
    if (c === undefined) {
      this.#cash.set(code, { raw, precision, decimal: undefined });
    } else {
      c.raw = raw;
      c.precision = precision;
      c.decimal = undefined;
    }
  }

  /**
   * Adds `amount` (positive) of `currency` to cash.
   * @throws OmsError Portfolio on a non-positive amount; SerializationError on a bad decimal
   */
  deposit(currency: string, amount: DecimalInput): void {
    const code = this.#currency(currency);
    const a = omsDecimal(amount, `deposit of ${code}`);
    if (!a.isPositive()) throw new OmsError('Portfolio', `deposit of ${code} must be positive, got ${a.toString()}`);
    const next = this.cashBalance(code).add(a);
    this.#setCash(code, norm(next.raw), next.precision);
    this.#dropEquity();
  }

  /**
   * Removes `amount` (positive) of `currency` from cash.
   * @throws OmsError Portfolio when it is not positive or a cash account would go negative
   */
  withdraw(currency: string, amount: DecimalInput): void {
    const code = this.#currency(currency);
    const a = omsDecimal(amount, `withdrawal of ${code}`);
    if (!a.isPositive()) throw new OmsError('Portfolio', `withdrawal of ${code} must be positive, got ${a.toString()}`);
    const next = this.cashBalance(code).sub(a);
    if (next.isNegative() && this.accountType === 'cash') {
      throw new OmsError('Portfolio', `withdrawal of ${a.toString()} ${code} exceeds the cash balance ${this.cashBalance(code).toString()}`);
    }
    this.#setCash(code, norm(next.raw), next.precision);
    this.#dropEquity();
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
    const p = new Prepared();
    return this.#prepare(fill.symbol, fill.side, fill.price, fill.quantity, fill.fee, fill.feeCurrency, fill.fillId, fill.tsNs, null, p) ? p : undefined;
  }

  /** prepareFill's work on the fill's fields, written into `out`; false for an already-applied duplicate. */
  #prepare(
    symbol: string,
    fillSide: Side | undefined,
    fillPrice: DecimalInput,
    fillQuantity: DecimalInput,
    fillFee: DecimalInput | undefined,
    fillFeeCurrency: string | undefined,
    fillId: string | undefined,
    tsNs: bigint | undefined,
    /** The ledger's record of fillId when the caller just looked it up (null: not looked up). */
    known: FillKey | undefined | null,
    out: Prepared,
  ): boolean {
    if (typeof symbol !== 'string' || symbol === '') throw new OmsError('SerializationError', 'fill symbol must be a non-empty string');
    const price = edgeDecimal(fillPrice, 'fill price of ', symbol);
    if (price.raw <= 0n) throw new OmsError('Portfolio', `fill price of ${symbol} must be positive, got ${price.toString()}`);
    const q = edgeDecimal(fillQuantity, 'fill quantity of ', symbol);
    let sell = false;
    const qP = q.precision;
    if (q.raw === 0n) throw new OmsError('Portfolio', `fill quantity of ${symbol} is zero`);
    if (fillSide !== undefined) {
      const side = checkSide(fillSide);
      if (q.raw < 0n) throw new OmsError('Portfolio', `fill quantity of ${symbol} must be positive with a side, got ${q.toString()}`);
      if (side === 'Sell') sell = true;
    }
    // the signed fill quantity
    const qR = sell ? rNeg(norm(q.raw)) : norm(q.raw);
    const fee = fillFee === undefined ? Decimal.ZERO : edgeDecimal(fillFee, 'fee of ', symbol);
    const old = this.#positions.get(symbol);
    const quote = this.#quoteOf(symbol, old);
    const feeCurrency = fillFeeCurrency === undefined ? quote : this.#currency(fillFeeCurrency);
    if (fillId !== undefined) {
      if (typeof fillId !== 'string' || fillId === '') throw new OmsError('SerializationError', 'fillId must be a non-empty string');
      const seen = known === null ? this.#fills.get(fillId) : known;
      if (seen !== undefined) {
        if (
          seen.symbol === symbol &&
          keyQR(seen) === big(qR) &&
          seen.quantity.precision === qP &&
          seen.price.raw === price.raw &&
          seen.price.precision === price.precision &&
          seen.fee.raw === fee.raw &&
          seen.fee.precision === fee.precision &&
          seen.feeCurrency === feeCurrency
        ) {
          return false;
        }
        const now = signatureOf(symbol, formatDecimal(big(qR), qP), price, fee, feeCurrency);
        const before = signatureOf(seen.symbol, formatDecimal(keyQR(seen), seen.quantity.precision), seen.price, seen.fee, seen.feeCurrency);
        throw new OmsError('Portfolio', `fill ${fillId} was already applied with different data (${before} vs ${now})`);
      }
    }
    const ts = tsNs ?? this.#clock.now();
    const oR = old === undefined ? 0 : old.qR;
    const oP = old === undefined ? 0 : old.qP;
    const obR = old === undefined ? 0 : old.bR;
    const obP = old === undefined ? 0 : old.bP;
    const pR = norm(price.raw);
    const pP = price.precision;
    // notional = qty x price
    const nP = mulPrecision(qP, pP);
    const nR = rMulRaw(qR, qP, pR, pP);
    let bR: Raw;
    let bP: number;
    let rdR: Raw = 0;
    let rdP = 0;
    const nqP = oP > qP ? oP : qP;
    const nqR = rAdd(rUp(oR, oP, nqP), rUp(qR, qP, nqP));
    if (oR === 0 || oR < 0 === qR < 0) {
      bP = obP > nP ? obP : nP;
      bR = rAdd(rUp(obR, obP, bP), rUp(nR, nP, bP));
    } else {
      const qAbs = rAbs(qR);
      const oAbs = rAbs(oR);
      // closing = min(|qty|, |old qty|) by value, keeping the smaller one's precision
      const qSmaller = rCmp(qAbs, qP, oAbs, oP) < 0;
      const cR = qSmaller ? qAbs : oAbs;
      const cP = qSmaller ? qP : oP;
      let remR: Raw;
      let remP: number;
      if (rCmp(cR, cP, oAbs, oP) === 0) {
        remR = obR;
        remP = obP;
      } else {
        const mP = mulPrecision(obP, cP);
        remR = rDivRaw(rMulRaw(obR, obP, cR, cP), mP, oAbs, oP, obP);
        remP = obP;
      }
      // cash received for the closing part minus the cost it carried
      const ccP = mulPrecision(cP, pP);
      let ccR = rMulRaw(cR, cP, pR, pP);
      if (oR < 0) ccR = rNeg(ccR);
      rdP = ccP > remP ? ccP : remP;
      rdR = rSub(rUp(ccR, ccP, rdP), rUp(remR, remP, rdP));
      bP = obP > remP ? obP : remP;
      bR = rSub(rUp(obR, obP, bP), rUp(remR, remP, bP));
      if (nqR !== 0 && nqR < 0 === qR < 0) {
        const aP = mulPrecision(nqP, pP);
        const aR = rMulRaw(nqR, nqP, pR, pP);
        const sP = bP > aP ? bP : aP;
        bR = rAdd(rUp(bR, bP, sP), rUp(aR, aP, sP));
        bP = sP;
      }
    }
    if (nqR === 0) {
      bR = 0;
      bP = 0;
    }
    const cash = this.#cash.get(quote);
    const cqR0 = cash === undefined ? 0 : cash.raw;
    const cqP0 = cash === undefined ? 0 : cash.precision;
    const cqP = cqP0 > nP ? cqP0 : nP;
    const cqR = rSub(rUp(cqR0, cqP0, cqP), rUp(nR, nP, cqP));
    let fbR = cqR;
    let fbP = cqP;
    if (feeCurrency !== quote) {
      const fc = this.#cash.get(feeCurrency);
      fbR = fc === undefined ? 0 : fc.raw;
      fbP = fc === undefined ? 0 : fc.precision;
    }
    const cfP = fbP > fee.precision ? fbP : fee.precision;
    // no fee (the usual case): the balance as is
    const cfR = fee.raw === 0n && cfP === fbP ? fbR : rSub(rUp(fbR, fbP, cfP), rUp(norm(fee.raw), fee.precision, cfP));
    if (this.accountType === 'cash') {
      if (nqR < 0) {
        throw new OmsError(
          'Portfolio',
          `cash account cannot go short ${symbol}: position ${formatDecimal(big(oR), oP)} + fill ${formatDecimal(big(qR), qP)} = ${formatDecimal(big(nqR), nqP)}`,
        );
      }
      const afterR = feeCurrency === quote ? cfR : cqR;
      if (afterR < 0) {
        const after = feeCurrency === quote ? formatDecimal(big(cfR), cfP) : formatDecimal(big(cqR), cqP);
        throw new OmsError(
          'Portfolio',
          `insufficient ${quote} cash for fill of ${formatDecimal(big(qR), qP)} ${symbol} @ ${price.toString()}: balance would be ${after}`,
        );
      }
      if (cfR < 0) {
        throw new OmsError(
          'Portfolio',
          `insufficient ${feeCurrency} cash for fee ${fee.toString()} on ${symbol}: balance would be ${formatDecimal(big(cfR), cfP)}`,
        );
      }
    }
    const sameCcy = feeCurrency === quote;
    out.symbol = symbol;
    out.quote = quote;
    out.feeCurrency = feeCurrency;
    out.fillId = fillId;
    out.quantity = q;
    out.sell = sell;
    out.qR = qR;
    out.qP = qP;
    out.price = price;
    out.fee = fee;
    out.nqR = nqR;
    out.nqP = nqP;
    out.bR = bR;
    out.bP = bP;
    out.rdR = rdR;
    out.rdP = rdP;
    out.cqR = sameCcy ? cfR : cqR;
    out.cqP = sameCcy ? cfP : cqP;
    out.cfR = cfR;
    out.cfP = cfP;
    out.ts = ts;
    return true;
  }

  /** Applies a fill computed by prepareFill (call it before any other change to this portfolio). */
  commitFill(fill: PreparedFill): void {
    this.#commit(fill instanceof Prepared ? fill : Prepared.from(fill));
  }

  #commit(p: Prepared): FillKey | undefined {
    this.#version++;
    let pos = this.#positions.get(p.symbol);
    if (pos === undefined) {
      pos = newPosition(p.symbol, p.quote, true, undefined, p.ts);
      this.#positions.set(p.symbol, pos);
    }
    const wasOpen = pos.qR !== 0;
    pos.qR = p.nqR;
    pos.qP = p.nqP;
    pos.qtyDecimal = undefined;
    pos.bR = p.bR;
    pos.bP = p.bP;
    if (p.rdR !== 0) {
      const P = pos.rP > p.rdP ? pos.rP : p.rdP;
      pos.rR = rAdd(rUp(pos.rR, pos.rP, P), rUp(p.rdR, p.rdP, P));
      pos.rP = P;
    }
    if (p.price.precision > pos.pxPrecision) pos.pxPrecision = p.price.precision;
    pos.updatedAt = p.ts;
    pos.traded = true;
    this.#revalue(pos);
    const isOpen = p.nqR !== 0;
    if (isOpen !== wasOpen) this.#openCount += isOpen ? 1 : -1;
    this.#dropEquity();
    this.#setCash(p.quote, p.cqR, p.cqP);
    if (p.feeCurrency !== p.quote) this.#setCash(p.feeCurrency, p.cfR, p.cfP);
    if (p.fillId === undefined) return undefined;
    const key = fillKey(p.symbol, p.quantity, p.sell, p.price, p.fee, p.feeCurrency, this.#fillSeq++);
    this.#fills.set(p.fillId, key);
    return key;
  }

  /** The OrderManager's prepared fill, reused: it commits each one before preparing the next. */
  readonly #scratch = new Prepared();

  static {
    fillLedger.prepare = (portfolio, symbol, side, price, quantity, fee, feeCurrency, fillId, tsNs, known) => {
      const pf = portfolio as Portfolio;
      const out = pf.#scratch;
      return pf.#prepare(symbol, side, price, quantity, fee, feeCurrency, fillId, tsNs, known as FillKey | undefined, out) ? out : undefined;
    };
    fillLedger.find = (portfolio, fillId) => (portfolio as Portfolio).#fills.get(fillId);
    fillLedger.commit = (portfolio, prepared, tag, owner) => {
      const p = prepared instanceof Prepared ? prepared : Prepared.from(prepared as PreparedFill);
      // #commit bumped the version, before these owner fields change
      const k = (portfolio as Portfolio).#commit(p);
      if (k !== undefined) {
        k.owner = owner;
        k.ownerTag = tag;
      }
    };
    fillLedger.setOwner = (portfolio, fillId, tag, owner) => {
      const pf = portfolio as Portfolio;
      const k = pf.#fills.get(fillId);
      if (k === undefined) return false;
      pf.#version++;
      k.owner = owner;
      k.ownerTag = tag;
      return true;
    };
    fillLedger.snapshotWith = <S>(portfolio: { snapshot(): S }, fillIds: readonly string[]) => {
      const pf = portfolio as unknown as Portfolio;
      const n = fillIds.length;
      const fills: AppliedFillsSnapshot = { ids: new Array<string>(n), data: new Array<string>(n) };
      for (let i = 0; i < n; i++) {
        const id = fillIds[i] as string;
        const k = pf.#fills.get(id);
        if (k === undefined) throw new OmsError('SerializationError', `fill ${id} is not among the applied fills`);
        fills.ids[i] = id;
        fills.data[i] = fillText(k);
      }
      return pf.#stateWith(fills) as unknown as S;
    };
    fillLedger.version = (portfolio) => (portfolio as Portfolio).#version;
    fillLedger.snapshot = <S>(portfolio: { snapshot(): S }, tag: object) => {
      const owned = { fillIds: [] as string[], orderIds: [] as string[] };
      // the manager passes its Portfolio, whose snapshot() type S is PortfolioState
      const state = (portfolio as unknown as Portfolio).#state(tag, owned) as unknown as S;
      return { state, owned };
    };
  }

  /**
   * Sets the mark price (quote currency) that values `symbol` in equity and exposure.
   * @throws OmsError SerializationError on a bad decimal, Portfolio on a non-positive price
   */
  setMark(symbol: string, price: DecimalInput): void {
    const px = edgeDecimal(price, 'mark of ', symbol);
    if (!px.isPositive()) throw new OmsError('Portfolio', `mark of ${symbol} must be positive, got ${px.toString()}`);
    this.#version++;
    const pos = this.#positions.get(symbol);
    if (pos === undefined) {
      this.#positions.set(symbol, newPosition(symbol, this.quoteCurrency(symbol), false, px, this.#clock.now()));
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
    let vR: Raw;
    let vP: number;
    const mark = pos.mark;
    if (mark === undefined) {
      vR = pos.bR;
      vP = pos.bP;
    } else {
      vR = rMulRaw(pos.qR, pos.qP, norm(mark.raw), mark.precision);
      vP = mulPrecision(pos.qP, mark.precision);
    }
    let agg = this.#aggregates.get(pos.quote);
    if (agg === undefined) {
      agg = { netR: 0, netP: 0, grossR: 0, grossP: 0, grossDecimal: undefined };
      this.#aggregates.set(pos.quote, agg);
    }
    this.#dropEquity();
    // net - old value + new value, and gross - |old value| + |new value|, at the widest precision
    const oR = pos.vR;
    const oP = pos.vP;
    if (oP === vP && agg.netP === vP && agg.grossP === vP && oR >= 0 && vR >= 0) {
      // the usual case (one precision, long values): one difference moves both sums
      const d = rSub(vR, oR);
      agg.netR = rAdd(agg.netR, d);
      agg.grossR = rAdd(agg.grossR, d);
    } else {
      const netP = Math.max(agg.netP, oP, vP);
      agg.netR = rAdd(rSub(rUp(agg.netR, agg.netP, netP), rUp(oR, oP, netP)), rUp(vR, vP, netP));
      agg.netP = netP;
      const grossP = Math.max(agg.grossP, oP, vP);
      agg.grossR = rAdd(rSub(rUp(agg.grossR, agg.grossP, grossP), rUp(rAbs(oR), oP, grossP)), rUp(rAbs(vR), vP, grossP));
      agg.grossP = grossP;
    }
    agg.grossDecimal = undefined;
    pos.vR = vR;
    pos.vP = vP;
    pos.valueDecimal = undefined;
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
    const c = this.#cash.get(currency);
    if (c === undefined) return Decimal.ZERO;
    return (c.decimal ??= Decimal.fromRaw(big(c.raw), c.precision));
  }

  /** Every cash balance as exact strings: `cash.USDT === "70000.0"`. */
  get cash(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [c, v] of this.#cash) out[c] = formatDecimal(big(v.raw), v.precision);
    return out;
  }

  /** Open (non-zero) positions by symbol. */
  get positions(): Record<string, Position> {
    const out: Record<string, Position> = {};
    for (const pos of this.#positions.values()) if (pos.qR !== 0) out[pos.symbol] = this.#snapshot(pos);
    return out;
  }

  /** The position of `symbol` (open or closed), or undefined if it never traded. */
  position(symbol: string): Position | undefined {
    const pos = this.#positions.get(symbol);
    return pos === undefined || !pos.traded ? undefined : this.#snapshot(pos);
  }

  #snapshot(pos: PositionState): Position {
    const avg = pos.qR === 0 ? Decimal.ZERO : averageOf(Decimal.fromRaw(big(pos.bR), pos.bP), qtyOf(pos), pos.pxPrecision);
    return new Position(pos.symbol, formatDecimal(big(pos.qR), pos.qP), avg.toString(), formatDecimal(big(pos.rR), pos.rP), pos.updatedAt);
  }

  /** Signed position quantity of `symbol` (zero when flat). */
  positionQuantity(symbol: string): Decimal {
    const pos = this.#positions.get(symbol);
    return pos === undefined ? Decimal.ZERO : qtyOf(pos);
  }

  /** Signed open cost basis of `symbol`, quote currency (exact sum of opening notionals still open). */
  costBasis(symbol: string): Decimal {
    const pos = this.#positions.get(symbol);
    return pos === undefined ? Decimal.ZERO : Decimal.fromRaw(big(pos.bR), pos.bP);
  }

  /** Realized PnL of `symbol`, quote currency. */
  realizedPnl(symbol: string): Decimal {
    const pos = this.#positions.get(symbol);
    return pos === undefined ? Decimal.ZERO : Decimal.fromRaw(big(pos.rR), pos.rP);
  }

  /** Price `symbol` is valued at: `marks[symbol]`, else its set mark, else undefined (cost basis used). */
  #valueOf(pos: PositionState, marks: Readonly<Record<string, DecimalInput>> | undefined): Decimal {
    const m = marks?.[pos.symbol];
    if (m !== undefined) return qtyOf(pos).mul(omsDecimal(m, `mark of ${pos.symbol}`));
    return valueOf(pos);
  }

  /** Signed value of `symbol`'s position, quote currency: qty x mark (from `marks`, else the set mark), else its cost basis. */
  positionValue(symbol: string, marks?: Readonly<Record<string, DecimalInput>>): Decimal {
    const pos = this.#positions.get(symbol);
    return pos === undefined ? Decimal.ZERO : this.#valueOf(pos, marks);
  }

  /** Unrealized PnL of `symbol`, quote currency: position value minus open cost basis. */
  unrealizedPnl(symbol: string, marks?: Readonly<Record<string, DecimalInput>>): Decimal {
    const pos = this.#positions.get(symbol);
    return pos === undefined ? Decimal.ZERO : this.#valueOf(pos, marks).sub(Decimal.fromRaw(big(pos.bR), pos.bP));
  }

  /**
   * Equity (NAV) in `currency`: its cash plus the signed value of positions quoted in it. Without
   * `marks` this reads the incremental aggregate (O(1)); other currencies are not converted.
   */
  equity(currency: string, marks?: Readonly<Record<string, DecimalInput>>): Decimal {
    if (marks === undefined) {
      let e = this.#equityCache.get(currency);
      if (e === undefined) {
        const c = this.#cash.get(currency);
        const cR = c === undefined ? 0n : big(c.raw);
        const cP = c === undefined ? 0 : c.precision;
        const agg = this.#aggregates.get(currency);
        const nR = agg === undefined ? 0n : big(agg.netR);
        const nP = agg === undefined ? 0 : agg.netP;
        const P = cP > nP ? cP : nP;
        e = Decimal.fromRaw(up(cR, cP, P) + up(nR, nP, P), P);
        this.#equityCache.set(currency, e);
      }
      return e;
    }
    let total = this.cashBalance(currency);
    for (const pos of this.#positions.values()) if (pos.quote === currency) total = total.add(this.#valueOf(pos, marks));
    return total;
  }

  /** Sum of |position value| over positions quoted in `currency` (O(1) without `marks`). */
  grossExposure(currency: string, marks?: Readonly<Record<string, DecimalInput>>): Decimal {
    if (marks === undefined) {
      const agg = this.#aggregates.get(currency);
      return agg === undefined ? Decimal.ZERO : (agg.grossDecimal ??= Decimal.fromRaw(big(agg.grossR), agg.grossP));
    }
    let total = Decimal.ZERO;
    for (const pos of this.#positions.values()) if (pos.quote === currency) total = total.add(this.#valueOf(pos, marks).abs());
    return total;
  }

  /** Largest |position value| among positions quoted in `currency` (O(positions)). */
  largestPositionValue(currency: string): Decimal {
    let best: PositionState | undefined;
    let bR: Raw = 0;
    let bP = 0;
    for (const pos of this.#positions.values()) {
      if (pos.quote !== currency) continue;
      const a = rAbs(pos.vR);
      if (rCmp(a, pos.vP, bR, bP) > 0) {
        best = pos;
        bR = a;
        bP = pos.vP;
      }
    }
    return best === undefined ? Decimal.ZERO : valueOf(best).abs();
  }

  /** Number of open (non-zero) positions. */
  positionCount(): number {
    return this.#openCount;
  }

  /** True when there is no cash balance and no open position. */
  isEmpty(): boolean {
    return this.#openCount === 0 && [...this.#cash.values()].every((v) => v.raw === 0);
  }

  /**
   * Everything needed to continue exactly, as plain data (decimals as exact strings, times as epoch-ns
   * bigints): settings, registered instruments, cash, positions with marks and aggregates, applied fills.
   */
  snapshot(): PortfolioState {
    return this.#state(undefined, undefined);
  }

  /** snapshot(), also collecting the fills `tag`'s manager owns into `owned` in the same pass. */
  #state(tag: object | undefined, owned: { fillIds: string[]; orderIds: string[] } | undefined): PortfolioState {
    const n = this.#fills.size;
    const fills: AppliedFillsSnapshot = { ids: new Array<string>(n), data: new Array<string>(n) };
    let i = 0;
    let o = 0;
    if (owned !== undefined) {
      owned.fillIds = new Array<string>(n);
      owned.orderIds = new Array<string>(n);
    }
    const all = this.#fills;
    for (let e = 0; e < n; e++) {
      const id = all.keyAt(e);
      const k = all.valueAt(e);
      fills.ids[i] = id;
      fills.data[i] = fillText(k);
      i++;
      if (owned !== undefined && k.ownerTag === tag && k.owner !== undefined) {
        owned.fillIds[o] = id;
        owned.orderIds[o++] = k.owner;
      }
    }
    if (owned !== undefined) {
      owned.fillIds.length = o;
      owned.orderIds.length = o;
    }
    return this.#stateWith(fills);
  }

  /** The state with `fills` as its applied fills. */
  #stateWith(fills: AppliedFillsSnapshot): PortfolioState {
    const instruments: [string, string][] = [];
    for (const [key, inst] of this.#instruments) if (key === inst.id.value) instruments.push([key, inst.quoteCurrency]);
    const cash: [string, string][] = [];
    for (const [c, v] of this.#cash) cash.push([c, formatDecimal(big(v.raw), v.precision)]);
    const positions: PositionStateSnapshot[] = [];
    for (const p of this.#positions.values()) {
      positions.push({
        symbol: p.symbol,
        quote: p.quote,
        quantity: formatDecimal(big(p.qR), p.qP),
        basis: formatDecimal(big(p.bR), p.bP),
        realizedPnl: formatDecimal(big(p.rR), p.rP),
        pxPrecision: p.pxPrecision,
        traded: p.traded,
        mark: p.mark === undefined ? null : p.mark.toString(),
        value: formatDecimal(big(p.vR), p.vP),
        updatedAt: p.updatedAt,
      });
    }
    const aggregates: [string, string, string][] = [];
    for (const [c, a] of this.#aggregates) aggregates.push([c, formatDecimal(big(a.netR), a.netP), formatDecimal(big(a.grossR), a.grossP)]);
    return {
      version: 1,
      accountType: this.accountType,
      defaultQuoteCurrency: this.defaultQuoteCurrency ?? null,
      baseCurrency: this.baseCurrency ?? null,
      instruments,
      cash,
      positions,
      aggregates,
      fills,
    };
  }

  /**
   * Replaces this portfolio's state with `state` from snapshot(); the portfolio must have been built with
   * the same options (account type, currencies, instruments). Everything is checked and built before
   * anything is replaced, so a refused state changes nothing.
   * @throws OmsError RecoveryFailed naming what is wrong
   */
  restore(state: PortfolioState): void {
    this.#swapIn(this.#build(state, new StateReader('Portfolio restore'), 'state'));
  }

  /**
   * Checks a state for restore without changing anything (OrderManager checks its own part too before
   * it swaps either in); errors name `path`.
   * @throws OmsError RecoveryFailed
   */
  checkState(state: unknown, path = 'state', owner = 'Portfolio restore'): CheckedPortfolioState {
    return this.#build(state, new StateReader(owner), path);
  }

  /**
   * Replaces the state with one checkState returned for this portfolio (cannot fail).
   * @throws OmsError RecoveryFailed when `checked` did not come from this portfolio's checkState
   */
  swapIn(checked: CheckedPortfolioState): void {
    if (!(checked instanceof BuiltPortfolio) || checked.owner !== this) throw new OmsError('RecoveryFailed', 'Portfolio swapIn: the state was not checked by this portfolio');
    this.#swapIn(checked);
  }

  #swapIn(b: BuiltPortfolio): void {
    this.#version++;
    this.#cash = b.cash;
    this.#positions = b.positions;
    this.#aggregates = b.aggregates;
    this.#fills = b.fills;
    this.#fillSeq = b.fills.size;
    this.#openCount = b.openCount;
    this.#equityCache.clear();
  }

  #build(state: unknown, r: StateReader, path: string): BuiltPortfolio {
    const s = r.obj(state, path, PORTFOLIO_KEYS);
    if (s.version !== 1) r.fail(`${path}.version`, `unsupported version ${JSON.stringify(s.version)}; expected 1`);
    if (s.accountType !== this.accountType) {
      r.fail(`${path}.accountType`, `state is for a ${JSON.stringify(s.accountType)} account but this portfolio is ${JSON.stringify(this.accountType)}`);
    }
    for (const [key, mine] of [['defaultQuoteCurrency', this.defaultQuoteCurrency], ['baseCurrency', this.baseCurrency]] as const) {
      const theirs = s[key] === null ? undefined : s[key];
      if (theirs !== mine) r.fail(`${path}.${key}`, `state has ${JSON.stringify(theirs ?? null)} but this portfolio has ${JSON.stringify(mine ?? null)}`);
    }
    const mineInst = new Map<string, string>();
    for (const [key, inst] of this.#instruments) if (key === inst.id.value) mineInst.set(key, inst.quoteCurrency);
    const theirsInst = new Map<string, string>();
    for (const [i, e] of r.arr(s.instruments, `${path}.instruments`).entries()) {
      const p = `${path}.instruments[${i}]`;
      const [id, quote] = r.arrOf(e, p, 2);
      theirsInst.set(r.str(id, `${p}[0]`), r.str(quote, `${p}[1]`));
    }
    const describeInst = (m: Map<string, string>): string => (m.size === 0 ? 'none' : [...m].map(([id, q]) => `${id} (${q})`).sort().join(', '));
    if (theirsInst.size !== mineInst.size || [...theirsInst].some(([id, q]) => mineInst.get(id) !== q)) {
      r.fail(`${path}.instruments`, `state has ${describeInst(theirsInst)} but this portfolio has ${describeInst(mineInst)}`);
    }
    const cash = new Map<string, CashState>();
    for (const [i, e] of r.arr(s.cash, `${path}.cash`).entries()) {
      const p = `${path}.cash[${i}]`;
      const [c, v] = r.arrOf(e, p, 2);
      const code = stateCurrency(r, c, `${p}[0]`);
      if (cash.has(code)) r.fail(`${p}[0]`, `currency ${code} appears twice`);
      const [raw, precision] = r.dec(v, `${p}[1]`);
      if (raw < 0n && this.accountType === 'cash') r.fail(`${p}[1]`, `a cash account cannot hold negative ${code}: ${formatDecimal(raw, precision)}`);
      cash.set(code, { raw: norm(raw), precision, decimal: undefined });
    }
    const positions = new Map<string, PositionState>();
    const valueSums = new Map<string, [bigint, number]>();
    let openCount = 0;
    for (const [i, e] of r.arr(s.positions, `${path}.positions`).entries()) {
      const p = `${path}.positions[${i}]`;
      const o = r.obj(e, p, POSITION_KEYS);
      const symbol = r.str(o.symbol, `${p}.symbol`);
      if (positions.has(symbol)) r.fail(`${p}.symbol`, `position ${symbol} appears twice`);
      const quote = stateCurrency(r, o.quote, `${p}.quote`);
      const [qR, qP] = r.dec(o.quantity, `${p}.quantity`);
      const [bR, bP] = r.dec(o.basis, `${p}.basis`);
      const [rR, rP] = r.dec(o.realizedPnl, `${p}.realizedPnl`);
      const pxPrecision = r.int(o.pxPrecision, `${p}.pxPrecision`, 0, MAX_PRECISION);
      const traded = r.bool(o.traded, `${p}.traded`);
      const m = r.optDec(o.mark, `${p}.mark`);
      if (m !== undefined && m[0] <= 0n) r.fail(`${p}.mark`, `mark must be positive, got ${formatDecimal(m[0], m[1])}`);
      const [vR, vP] = r.dec(o.value, `${p}.value`);
      const updatedAt = r.ns(o.updatedAt, `${p}.updatedAt`);
      if (qR < 0n && this.accountType === 'cash') r.fail(`${p}.quantity`, `a cash account cannot be short ${symbol}: ${formatDecimal(qR, qP)}`);
      if (qR === 0n && bR !== 0n) r.fail(`${p}.basis`, `a flat position must have a zero cost basis, got ${formatDecimal(bR, bP)}`);
      if (!traded && (qR !== 0n || rR !== 0n)) r.fail(`${p}.traded`, `position ${symbol} holds a quantity or realized PnL but is marked as never traded`);
      const expected = m === undefined ? ([bR, bP] as const) : ([mulRaw(qR, qP, m[0], m[1]), mulPrecision(qP, m[1])] as const);
      if (cmp(vR, vP, expected[0], expected[1]) !== 0) {
        r.fail(`${p}.value`, `${formatDecimal(vR, vP)} is not ${m === undefined ? 'the cost basis' : 'quantity x mark'} ${formatDecimal(expected[0], expected[1])}`);
      }
      const sum = valueSums.get(quote) ?? [0n, 0];
      const sP = Math.max(sum[1], vP);
      valueSums.set(quote, [up(sum[0], sum[1], sP) + up(vR, vP, sP), sP]);
      positions.set(symbol, {
        symbol,
        quote,
        qR: norm(qR),
        qP,
        bR: norm(bR),
        bP,
        rR: norm(rR),
        rP,
        pxPrecision,
        traded,
        mark: m === undefined ? undefined : Decimal.fromRaw(m[0], m[1]),
        vR: norm(vR),
        vP,
        updatedAt,
        qtyDecimal: undefined,
        valueDecimal: undefined,
      });
      if (qR !== 0n) openCount++;
    }
    const aggregates = new Map<string, Aggregate>();
    const grossSums = new Map<string, [bigint, number]>();
    for (const pos of positions.values()) {
      const g = grossSums.get(pos.quote) ?? [0n, 0];
      const gP = Math.max(g[1], pos.vP);
      grossSums.set(pos.quote, [up(g[0], g[1], gP) + up(big(rAbs(pos.vR)), pos.vP, gP), gP]);
    }
    for (const [i, e] of r.arr(s.aggregates, `${path}.aggregates`).entries()) {
      const p = `${path}.aggregates[${i}]`;
      const [c, net, gross] = r.arrOf(e, p, 3);
      const code = stateCurrency(r, c, `${p}[0]`);
      if (aggregates.has(code)) r.fail(`${p}[0]`, `currency ${code} appears twice`);
      const [netR, netP] = r.dec(net, `${p}[1]`);
      const [grossR, grossP] = r.dec(gross, `${p}[2]`);
      const ns = valueSums.get(code) ?? [0n, 0];
      const gs = grossSums.get(code) ?? [0n, 0];
      if (cmp(netR, netP, ns[0], ns[1]) !== 0) r.fail(`${p}[1]`, `net value ${formatDecimal(netR, netP)} of ${code} is not the sum of its position values ${formatDecimal(ns[0], ns[1])}`);
      if (cmp(grossR, grossP, gs[0], gs[1]) !== 0) r.fail(`${p}[2]`, `gross value ${formatDecimal(grossR, grossP)} of ${code} is not the sum of its |position values| ${formatDecimal(gs[0], gs[1])}`);
      aggregates.set(code, { netR: norm(netR), netP, grossR: norm(grossR), grossP, grossDecimal: undefined });
    }
    for (const [code, [vR]] of valueSums) {
      if (vR !== 0n && !aggregates.has(code)) r.fail(`${path}.aggregates`, `positions quoted in ${code} hold value but there is no aggregate for ${code}`);
    }
    const f = r.obj(s.fills, `${path}.fills`, FILL_KEYS);
    const ids = r.arr(f.ids, `${path}.fills.ids`);
    const n = ids.length;
    const data = r.arrOf(f.data, `${path}.fills.data`, n);
    const fills = new StringIndex<FillKey>();
    for (let i = 0; i < n; i++) {
      const id = r.str(ids[i], `${path}.fills.ids[${i}]`);
      if (fills.has(id)) r.fail(`${path}.fills.ids[${i}]`, `fill id ${JSON.stringify(id)} appears twice`);
      const dp = `${path}.fills.data[${i}]`;
      const text = r.str(data[i], dp);
      const parts = text.split(' ', 4);
      const head = parts.join(' ').length + 1;
      if (parts.length < 4 || head >= text.length) r.fail(dp, `expected "quantity price fee feeCurrency symbol", got ${JSON.stringify(text)}`);
      const symbol = text.slice(head);
      const [qR, qP] = r.dec(parts[0], `${dp} quantity`);
      if (qR === 0n) r.fail(dp, 'a fill quantity cannot be zero');
      const [pR, pP] = r.dec(parts[1], `${dp} price`);
      if (pR <= 0n) r.fail(dp, `a fill price must be positive, got ${formatDecimal(pR, pP)}`);
      const [feeR, feeP] = r.dec(parts[2], `${dp} fee`);
      const feeCurrency = stateCurrency(r, parts[3], `${dp} feeCurrency`);
      const key = fillKey(symbol, Decimal.fromRaw(qR, qP), false, Decimal.fromRaw(pR, pP), Decimal.fromRaw(feeR, feeP), feeCurrency, i);
      key.text = text;
      fills.set(id, key);
    }
    return new BuiltPortfolio(this, cash, positions, aggregates, fills, openCount);
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

/** A position inside PortfolioState; decimals as exact strings (their precision is part of the state). */
export interface PositionStateSnapshot {
  symbol: string;
  /** Quote currency. */
  quote: string;
  /** Signed quantity. */
  quantity: string;
  /** Signed open cost basis, quote currency. */
  basis: string;
  /** Realized PnL, quote currency. */
  realizedPnl: string;
  /** Largest fill price precision seen (digits of the printed average price). */
  pxPrecision: number;
  /** Whether any fill touched it (a mark alone does not make a position). */
  traded: boolean;
  /** Mark price, quote currency, or null. */
  mark: string | null;
  /** Signed value in the aggregates: quantity x mark, else the cost basis. */
  value: string;
  /** Last change, epoch ns. */
  updatedAt: bigint;
}

/** Applied fills inside PortfolioState, in the order applied: ids, and per fill its data as text. */
export interface AppliedFillsSnapshot {
  ids: string[];
  /** `"<signed quantity> <price> <fee> <fee currency> <symbol>"` (the symbol last: it may hold spaces). */
  data: string[];
}

/** Plain state of a Portfolio (Portfolio.snapshot / restore); no class instances, so a checkpoint codec can store it. */
export interface PortfolioState {
  version: 1;
  accountType: AccountType;
  defaultQuoteCurrency: string | null;
  baseCurrency: string | null;
  /** Registered instruments as [instrument id, quote currency]; restore requires the same set. */
  instruments: [string, string][];
  /** [currency, amount] in the order the currencies first appeared. */
  cash: [string, string][];
  positions: PositionStateSnapshot[];
  /** [quote currency, net value, gross value] kept incrementally for equity and exposure. */
  aggregates: [string, string, string][];
  fills: AppliedFillsSnapshot;
}

const PORTFOLIO_KEYS = ['version', 'accountType', 'defaultQuoteCurrency', 'baseCurrency', 'instruments', 'cash', 'positions', 'aggregates', 'fills'] as const;
const POSITION_KEYS = ['symbol', 'quote', 'quantity', 'basis', 'realizedPnl', 'pxPrecision', 'traded', 'mark', 'value', 'updatedAt'] as const;
const FILL_KEYS = ['ids', 'data'] as const;

function stateCurrency(r: StateReader, v: unknown, path: string): string {
  const s = r.str(v, path);
  try {
    return currencyCode(s);
  } catch (e) {
    if (e instanceof CoreError) r.fail(path, e.detail);
    throw e;
  }
}

/** A portfolio state checked by Portfolio.checkState, opaque to callers. */
export interface CheckedPortfolioState {
  readonly checkedPortfolioState: true;
}

class BuiltPortfolio implements CheckedPortfolioState {
  readonly checkedPortfolioState = true as const;

  constructor(
    readonly owner: Portfolio,
    readonly cash: Map<string, CashState>,
    readonly positions: Map<string, PositionState>,
    readonly aggregates: Map<string, Aggregate>,
    readonly fills: StringIndex<FillKey>,
    readonly openCount: number,
  ) {}
}

function signatureOf(symbol: string, qty: string, price: Decimal, fee: Decimal, feeCurrency: string): string {
  return `${symbol}|${qty}|${price.toString()}|${fee.toString()}|${feeCurrency}`;
}

/** What identifies an applied fill's data (a replay with equal data is a no-op, other data is refused). */
interface FillKey {
  readonly symbol: string;
  /** The quantity as given (shared with the parse cache), negated when `sell`: no bigint kept per sell. */
  readonly quantity: DecimalValue;
  readonly sell: boolean;
  readonly price: Decimal;
  readonly fee: Decimal;
  readonly feeCurrency: string;
  /** The snapshot text, built on the first snapshot. */
  text: string | undefined;
  /** Rank in the portfolio's applied fills (the order applied). */
  readonly seq: number;
  /** The order that took this fill, and the token of its OrderManager (see ledger.ts). */
  owner: string | undefined;
  ownerTag: object | undefined;
}

// an object literal, not a class instance: V8 can then allocate these long-lived records straight in
// the old generation (allocation-site pretenuring) instead of copying each one through the young one
function fillKey(symbol: string, quantity: DecimalValue, sell: boolean, price: Decimal, fee: Decimal, feeCurrency: string, seq: number): FillKey {
  return { symbol, quantity, sell, price, fee, feeCurrency, text: undefined, seq, owner: undefined, ownerTag: undefined };
}

/** An applied fill's snapshot text; it never changes, so checkpoints after the first reuse it. */
function fillText(k: FillKey): string {
  return (k.text ??= `${formatDecimal(keyQR(k), k.quantity.precision)} ${k.price.toString()} ${k.fee.toString()} ${k.feeCurrency} ${k.symbol}`);
}

/** Signed quantity raw of an applied fill. */
function keyQR(k: FillKey): bigint {
  return k.sell ? -k.quantity.raw : k.quantity.raw;
}

/** PreparedFill over (raw, precision) pairs; its Decimal fields are built only when read. */
class Prepared implements PreparedFill {
  // mutable so one instance can serve as the OrderManager's scratch (see ledger.ts); public
  // prepareFill returns a fresh one
  symbol = '';
  quote = '';
  feeCurrency = '';
  fillId: string | undefined = undefined;
  /** The fill quantity as given, and whether the side negates it (qR is the signed raw). */
  quantity: DecimalValue = Decimal.ZERO;
  sell = false;
  qR: Raw = 0;
  qP = 0;
  price: Decimal = Decimal.ZERO;
  fee: Decimal = Decimal.ZERO;
  nqR: Raw = 0;
  nqP = 0;
  bR: Raw = 0;
  bP = 0;
  rdR: Raw = 0;
  rdP = 0;
  cqR: Raw = 0;
  cqP = 0;
  cfR: Raw = 0;
  cfP = 0;
  ts = 0n;

  static from(f: PreparedFill): Prepared {
    const p = new Prepared();
    p.symbol = f.symbol;
    p.quote = f.quote;
    p.feeCurrency = f.feeCurrency;
    p.fillId = f.fillId;
    p.quantity = f.qty;
    p.qR = norm(f.qty.raw);
    p.qP = f.qty.precision;
    p.price = f.price;
    p.fee = f.fee;
    p.nqR = norm(f.newQty.raw);
    p.nqP = f.newQty.precision;
    p.bR = norm(f.basis.raw);
    p.bP = f.basis.precision;
    p.rdR = norm(f.realizedDelta.raw);
    p.rdP = f.realizedDelta.precision;
    p.cqR = norm(f.cashQuote.raw);
    p.cqP = f.cashQuote.precision;
    p.cfR = norm(f.cashFee.raw);
    p.cfP = f.cashFee.precision;
    p.ts = f.ts;
    return p;
  }

  get signature(): string | undefined {
    return this.fillId === undefined ? undefined : signatureOf(this.symbol, formatDecimal(big(this.qR), this.qP), this.price, this.fee, this.feeCurrency);
  }
  get qty(): Decimal {
    return Decimal.fromRaw(big(this.qR), this.qP);
  }
  get newQty(): Decimal {
    return Decimal.fromRaw(big(this.nqR), this.nqP);
  }
  get basis(): Decimal {
    return Decimal.fromRaw(big(this.bR), this.bP);
  }
  get realizedDelta(): Decimal {
    return Decimal.fromRaw(big(this.rdR), this.rdP);
  }
  get cashQuote(): Decimal {
    return Decimal.fromRaw(big(this.cqR), this.cqP);
  }
  get cashFee(): Decimal {
    return Decimal.fromRaw(big(this.cfR), this.cfP);
  }
}
