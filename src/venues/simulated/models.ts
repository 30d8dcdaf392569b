import { Decimal, divRound, parseDecimal, pow10, priceFromFloat, rescale, shortestString, toRawParts, type DecimalInput } from '../../core/decimal.js';
import type { Quantity } from '../../core/decimal.js';
import { Money } from '../../core/money.js';
import type { Rng, RngState } from '../../core/rng.js';
import type { Bar } from '../../model/bar.js';
import type { Instrument } from '../../model/instrument.js';
import type { OrderRequest, Side } from '../../model/order.js';
import { SimulatedVenueError } from './errors.js';

/** A bar's prices as raw integers at the instrument's price precision (value = raw / 10^pricePrecision). */
export interface BarPrices {
  readonly open: bigint;
  readonly high: bigint;
  readonly low: bigint;
  readonly close: bigint;
}

/** Converts a bar's float prices to raw integers at `precision` (half-even, via the shortest decimal string). */
export function barPrices(bar: Bar, precision: number): BarPrices {
  return {
    open: rawFromFloat(bar.open, precision),
    high: rawFromFloat(bar.high, precision),
    low: rawFromFloat(bar.low, precision),
    close: rawFromFloat(bar.close, precision),
  };
}

const FLOAT_POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
const FAST_LIMIT = 2 ** 46;

/**
 * `priceFromFloat(value, precision).raw`, without the string round trip when `value` is a decimal of at
 * most `precision` fraction digits (a bar price on its tick).
 * @throws CoreError InvalidDecimal for a non-finite value
 */
export function rawFromFloat(value: number, precision: number): bigint {
  // k / 10^p === value means the decimal k·10^-p reads back as value; below 2^46 the rounding interval of
  // value is narrower than 10^-(p+1), so that decimal is also value's shortest string: both paths agree
  const scale = FLOAT_POW10[precision];
  if (scale !== undefined) {
    const k = Math.round(value * scale);
    if (k < FAST_LIMIT && k > -FAST_LIMIT && k / scale === value) return BigInt(k);
  }
  return priceFromFloat(value, precision).raw;
}

/** Where market orders fill: the next bar's open or the current bar's close. */
export interface MarketFillModel {
  readonly name: string;
  /** The time (epoch ns) an order must have reached the venue by to fill on `bar`. */
  eligibleAt(bar: Bar): bigint;
  /** Raw fill price before slippage, at the instrument's price precision. */
  price(bar: BarPrices): bigint;
  /** Whether the price is the bar's open (the fill's tsEvent is then the bar's open time, else its close time). */
  readonly atOpen: boolean;
}

/** Market orders fill at the open of the first bar that opens after they reached the venue (the default). */
export class NextOpenMarketFill implements MarketFillModel {
  readonly name = 'next-open';
  readonly atOpen = true;
  eligibleAt(bar: Bar): bigint {
    return bar.openTimeNs;
  }
  price(bar: BarPrices): bigint {
    return bar.open;
  }
}

/** Market orders fill at the close of the current bar (at once when submitted while that bar is handled). */
export class ThisCloseMarketFill implements MarketFillModel {
  readonly name = 'this-close';
  readonly atOpen = false;
  eligibleAt(bar: Bar): bigint {
    return bar.closeTimeNs;
  }
  price(bar: BarPrices): bigint {
    return bar.close;
  }
}

/** When a resting limit order fills on a bar, and at what price. */
export interface LimitFillModel {
  readonly name: string;
  /** Raw fill price of a limit at raw `limit` on this bar, or undefined when it does not fill. */
  fillPrice(side: Side, limit: bigint, bar: BarPrices): bigint | undefined;
}

function limitPrice(side: Side, limit: bigint, bar: BarPrices): bigint {
  // a bar that opens beyond the limit fills at the open, which is better for the trader
  if (side === 'Buy') return bar.open < limit ? bar.open : limit;
  return bar.open > limit ? bar.open : limit;
}

/** Fills only when the bar trades through the limit (buy: low < limit; sell: high > limit); the default. */
export class ThroughLimitFill implements LimitFillModel {
  readonly name = 'through';
  fillPrice(side: Side, limit: bigint, bar: BarPrices): bigint | undefined {
    if (side === 'Buy' ? bar.low < limit : bar.high > limit) return limitPrice(side, limit, bar);
    return undefined;
  }
}

/** Fills when the bar touches the limit (buy: low <= limit; sell: high >= limit). */
export class TouchLimitFill implements LimitFillModel {
  readonly name = 'touch';
  fillPrice(side: Side, limit: bigint, bar: BarPrices): bigint | undefined {
    if (side === 'Buy' ? bar.low <= limit : bar.high >= limit) return limitPrice(side, limit, bar);
    return undefined;
  }
}

/**
 * Raw price at which a stop at raw `stop` triggers on this bar, or undefined when the bar's range does not
 * reach it: the stop, or the open when the bar gaps beyond it (the worse price for the trader).
 */
export function stopTriggerPrice(side: Side, stop: bigint, bar: BarPrices): bigint | undefined {
  if (side === 'Buy') {
    if (bar.high < stop) return undefined;
    return bar.open > stop ? bar.open : stop;
  }
  if (bar.low > stop) return undefined;
  return bar.open < stop ? bar.open : stop;
}

/** How much of a bar's volume the simulated orders of one symbol may take. */
export interface VolumeModel {
  readonly name: string;
  /** Most raw quantity (instrument size precision) all orders on the bar's symbol may fill on it; undefined = no cap. */
  capacity(bar: Bar, instrument: Instrument): bigint | undefined;
}

/** No volume cap: every eligible order fills completely (the default). */
export class UnlimitedVolume implements VolumeModel {
  readonly name = 'unlimited';
  capacity(): bigint | undefined {
    return undefined;
  }
}

/** Caps fills per bar at a share of the bar's volume, floored to the lot size; the rest carries to later bars. */
export class ShareOfBarVolume implements VolumeModel {
  readonly name = 'share-of-volume';
  readonly share: Decimal;

  /** @throws SimulatedVenueError InvalidConfig when the share is not in (0, 1] */
  constructor(share: DecimalInput) {
    this.share = Decimal.of(share);
    if (!this.share.isPositive() || this.share.gt(1)) {
      throw new SimulatedVenueError('InvalidConfig', `volume share must be in (0, 1], got ${this.share.toString()}`);
    }
  }

  capacity(bar: Bar, instrument: Instrument): bigint {
    const [vr, vp] = parseDecimal(shortestString(bar.volume));
    const cap = rescale(vr * this.share.raw, vp + this.share.precision, instrument.sizePrecision, 'floor');
    const lot = rescale(instrument.lotSize.raw, instrument.lotSize.precision, instrument.sizePrecision);
    return cap - (cap % lot);
  }
}

/** Price adjustment against the trader on market and stop fills. */
export interface SlippageModel {
  readonly name: string;
  /** The raw price after slippage (instrument price precision), on the tick grid. */
  apply(side: Side, price: bigint, instrument: Instrument): bigint;
}

/** No slippage: fills at the model's price (the default). */
export class NoSlippage implements SlippageModel {
  readonly name = 'none';
  apply(_side: Side, price: bigint): bigint {
    return price;
  }
}

/** Slippage of a fixed number of bps against the trader, rounded to the tick in the trader's disfavour. */
export class BpsSlippage implements SlippageModel {
  readonly name = 'bps';
  readonly bps: Decimal;

  /** @throws SimulatedVenueError InvalidConfig when bps is negative or >= 10000 */
  constructor(bps: DecimalInput) {
    this.bps = Decimal.of(bps);
    if (this.bps.isNegative() || this.bps.gte(10_000)) {
      throw new SimulatedVenueError('InvalidConfig', `slippage must be in [0, 10000) bps, got ${this.bps.toString()}`);
    }
  }

  apply(side: Side, price: bigint, instrument: Instrument): bigint {
    const denom = 10_000n * pow10(this.bps.precision);
    const tick = rescale(instrument.tickSize.raw, instrument.tickSize.precision, instrument.pricePrecision);
    const factor = side === 'Buy' ? denom + this.bps.raw : denom - this.bps.raw;
    const units = divRound(price * factor, denom * tick, side === 'Buy' ? 'ceil' : 'floor');
    return units * tick;
  }
}

/** What a commission model sees of an order: its cumulative fills so far. */
export interface OrderFills {
  readonly filledQty: Quantity;
  /** Sum of fill price x fill quantity, exact, in the quote currency. */
  readonly filledNotional: Money;
  readonly instrument: Instrument;
}

/**
 * Commission on an order. The model returns the order's total commission for its fills so far; the venue
 * charges the increase at each fill, so minimums and fixed fees apply once per order and rounding never
 * accumulates over partial fills.
 */
export interface CommissionModel {
  readonly name: string;
  /** Total commission for the order's fills so far, in the instrument's quote currency. */
  orderTotal(fills: OrderFills): Money;
}

/** No commission (the default). */
export class NoCommission implements CommissionModel {
  readonly name = 'none';
  orderTotal(fills: OrderFills): Money {
    return zeroMoney(fills.instrument.quoteCurrency);
  }
}

const ZEROS = new Map<string, Money>();

/** Money.zero(currency), one shared immutable value per currency (the hot paths make many). */
export function zeroMoney(currency: string): Money {
  let z = ZEROS.get(currency);
  if (z === undefined) {
    z = Money.zero(currency);
    ZEROS.set(currency, z);
  }
  return z;
}

/** A fee per unit filled (quote currency), with an optional minimum per order (IBKR's fixed plan). */
export class PerShareCommission implements CommissionModel {
  readonly name = 'per-share';
  readonly perShare: Decimal;
  readonly minPerOrder: Decimal;

  /** @throws SimulatedVenueError InvalidConfig on negative amounts */
  constructor(perShare: DecimalInput, minPerOrder: DecimalInput = 0) {
    this.perShare = Decimal.of(perShare);
    this.minPerOrder = Decimal.of(minPerOrder);
    if (this.perShare.isNegative() || this.minPerOrder.isNegative()) {
      throw new SimulatedVenueError('InvalidConfig', 'per-share commission and its minimum cannot be negative');
    }
  }

  orderTotal(fills: OrderFills): Money {
    const cur = fills.instrument.quoteCurrency;
    if (fills.filledQty.isZero()) return Money.zero(cur);
    const fee = this.perShare.mul(fills.filledQty);
    return Money.of(fee.lt(this.minPerOrder) ? this.minPerOrder : fee, cur);
  }
}

/** Basis points of the filled notional, rounded up to `precision` fraction digits (default 2). */
export class BpsCommission implements CommissionModel {
  readonly name = 'bps';
  readonly bps: Decimal;
  readonly precision: number;

  /** @throws SimulatedVenueError InvalidConfig on negative bps or a bad precision */
  constructor(bps: DecimalInput, precision = 2) {
    this.bps = Decimal.of(bps);
    this.precision = precision;
    if (this.bps.isNegative()) throw new SimulatedVenueError('InvalidConfig', `commission bps cannot be negative, got ${this.bps.toString()}`);
    if (!Number.isInteger(precision) || precision < 0 || precision > 18) {
      throw new SimulatedVenueError('InvalidConfig', `commission precision must be an integer in 0..18, got ${precision}`);
    }
  }

  orderTotal(fills: OrderFills): Money {
    return fills.filledNotional.abs().mul(this.bps).div(10_000, this.precision, 'ceil');
  }
}

/** A fixed fee per order, charged with its first fill. */
export class FixedCommission implements CommissionModel {
  readonly name = 'fixed';
  readonly amount: Decimal;

  /** @throws SimulatedVenueError InvalidConfig on a negative amount */
  constructor(amount: DecimalInput) {
    this.amount = Decimal.of(amount);
    if (this.amount.isNegative()) throw new SimulatedVenueError('InvalidConfig', 'fixed commission cannot be negative');
  }

  orderTotal(fills: OrderFills): Money {
    return Money.of(fills.filledQty.isZero() ? 0 : this.amount, fills.instrument.quoteCurrency);
  }
}

/** The sum of several commission models (e.g. per share plus a fixed ticket fee). */
export class CombinedCommission implements CommissionModel {
  readonly name: string;
  readonly parts: readonly CommissionModel[];

  constructor(parts: readonly CommissionModel[]) {
    this.parts = [...parts];
    this.name = `combined(${this.parts.map((p) => p.name).join('+')})`;
  }

  orderTotal(fills: OrderFills): Money {
    let total = Money.zero(fills.instrument.quoteCurrency);
    for (const p of this.parts) total = total.add(p.orderTotal(fills));
    return total;
  }
}

/** Time from submit until an order is live at the venue. */
export interface LatencyModel {
  readonly name: string;
  /** ns from submit until `order` is live at the venue. */
  entryNs(order: OrderRequest): bigint;
}

/** No latency (the default): an order is live the moment it is submitted. */
export class ZeroLatency implements LatencyModel {
  readonly name = 'zero';
  entryNs(_order: OrderRequest): bigint {
    return 0n;
  }
}

/** The same latency for every order, in ns. */
export class ConstantLatency implements LatencyModel {
  readonly name = 'constant';
  readonly ns: bigint;

  /** @throws SimulatedVenueError InvalidConfig on a negative latency */
  constructor(ns: bigint) {
    if (ns < 0n) throw new SimulatedVenueError('InvalidConfig', `latency cannot be negative, got ${ns} ns`);
    this.ns = ns;
  }

  entryNs(_order: OrderRequest): bigint {
    return this.ns;
  }
}

/** A base latency plus a seeded uniform jitter in [0, maxJitterNs] ns, deterministic per seed. */
export class JitterLatency implements LatencyModel {
  readonly name = 'jitter';
  readonly baseNs: bigint;
  readonly maxJitterNs: number;
  readonly #rng: Rng;

  /** @throws SimulatedVenueError InvalidConfig on negative values */
  constructor(baseNs: bigint, maxJitterNs: number, rng: Rng) {
    if (baseNs < 0n || !Number.isSafeInteger(maxJitterNs) || maxJitterNs < 0) {
      throw new SimulatedVenueError('InvalidConfig', `latency base and jitter must be non-negative integers (ns), got ${baseNs} and ${maxJitterNs}`);
    }
    this.baseNs = baseNs;
    this.maxJitterNs = maxJitterNs;
    this.#rng = rng;
  }

  entryNs(_order: OrderRequest): bigint {
    return this.baseNs + BigInt(this.#rng.int(0, this.maxJitterNs));
  }

  /** The jitter generator's state, for a venue snapshot. */
  snapshotState(): RngState {
    return this.#rng.snapshot();
  }

  /** Continues the jitter sequence from a `snapshotState` result. @throws CoreError InvalidArgument on a malformed state */
  restoreState(state: unknown): void {
    this.#rng.restore(state as RngState);
  }
}

/** A model whose output depends on internal state (a seeded generator) that a venue snapshot must carry. */
export interface StatefulModel {
  snapshotState(): unknown;
  /** @throws AxonError when `state` is malformed (nothing changes) */
  restoreState(state: unknown): void;
}

/** Whether `model` carries state that a venue snapshot must include. */
export function isStatefulModel(model: object): model is StatefulModel {
  const m = model as Partial<StatefulModel>;
  return typeof m.snapshotState === 'function' && typeof m.restoreState === 'function';
}

/** Reads a DecimalInput as raw at `precision`, or undefined when it is not exact there. */
export function rawAt(value: DecimalInput, precision: number): bigint | undefined {
  const [r, p] = toRawParts(value);
  if (p <= precision) return r * pow10(precision - p);
  const d = pow10(p - precision);
  return r % d === 0n ? r / d : undefined;
}
