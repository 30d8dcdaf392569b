import type { DecimalInput } from '../core/decimal.js';
import { L2MatchingEngine, type EngineOptions } from './engines.js';
import { BacktestError } from './errors.js';
import { BUY, SELL, type SideCode } from './order-book.js';
import type { OrderSpec, SubmitResult } from './orders.js';

/** Built-in impact models; `custom` uses a user-supplied function. */
export type ImpactModelType = 'linear' | 'power_law' | 'custom';

/**
 * An impact model: from the order's quantity and the opposite quantity resting in the top
 * `depthLevels` levels (both base units, floats), the price impact as a fraction of the touch price
 * (0.001 = 10 bps). Models are statistics, so floats; the result is turned into whole ticks.
 */
export type ImpactFunction = (quantity: number, depth: number) => number;

/** Full configuration of an impact-aware engine. */
export interface ImpactConfig {
  readonly modelType: ImpactModelType;
  /** Scale of the built-in models: impact = coefficient x participation (linear) or x participation^exponent. */
  readonly coefficient: number;
  /** Exponent of `power_law` (default 0.5, the square-root law). */
  readonly exponent: number;
  /** Levels of the opposite side counted as available depth. */
  readonly depthLevels: number;
  /** Share of each order's impact that stays in the price for later orders (default 0.5). */
  readonly permanentFraction: number;
  readonly impactFunction?: ImpactFunction;
}

/**
 * An L2 engine whose taker executions pay market impact (the seed's `ImpactedMatchingEngine`).
 * Matching against the book is unchanged (limit prices gate what can match); each fill of a
 * crossing order is then priced at book price + permanent offset + this order's temporary impact,
 * both in whole ticks, adverse to the taker (temporary impact rounds up). After the order,
 * `permanentFraction` of its impact is added to the signed permanent offset (buys up, sells down).
 */
export class ImpactedMatchingEngine extends L2MatchingEngine {
  /** The frozen impact configuration. */
  readonly config: ImpactConfig;
  #permanentTicks = 0;
  readonly #impact: ImpactFunction;

  /** Prefer `ImpactedMatchingEngineBuilder`. @throws BacktestError Matching on invalid parameters */
  constructor(config: ImpactConfig, options: EngineOptions = {}) {
    super(options);
    if (!Number.isInteger(config.depthLevels) || config.depthLevels < 1) throw new BacktestError('Matching', `invalid depth levels: ${config.depthLevels} (an integer >= 1)`);
    if (!(config.coefficient >= 0) || !Number.isFinite(config.coefficient)) throw new BacktestError('Matching', `invalid impact coefficient: ${config.coefficient} (finite, >= 0)`);
    if (!(config.permanentFraction >= 0 && config.permanentFraction <= 1)) throw new BacktestError('Matching', `invalid permanent fraction: ${config.permanentFraction} (0..1)`);
    this.config = Object.freeze({ ...config });
    const { coefficient, exponent } = config;
    if (config.modelType === 'linear') this.#impact = (q, d) => coefficient * (q / d);
    else if (config.modelType === 'power_law') this.#impact = (q, d) => coefficient * Math.pow(q / d, exponent);
    else if (config.impactFunction !== undefined) this.#impact = config.impactFunction;
    else throw new BacktestError('Matching', 'custom impact model without an impact function');
  }

  /** Cumulative permanent impact offset in quote currency (signed: positive after net buying). */
  permanentOffset(): string {
    return this.scale.ticksToString(this.#permanentTicks);
  }

  /** Cumulative permanent impact offset in ticks. */
  permanentOffsetTicks(): number {
    return this.#permanentTicks;
  }

  /** Matches like the L2 engine, then prices the fills with impact. @throws BacktestError Matching */
  override submit(order: OrderSpec): SubmitResult {
    const { side, priceTicks, lots, tif } = this.parse(order);
    const opp: SideCode = side === BUY ? SELL : BUY;
    const touch = this.book.best(opp);
    let depthLots = 0;
    let n = 0;
    this.book.forEachLevel(opp, (_p, l) => {
      depthLots += l;
      return ++n < this.config.depthLevels;
    });
    const crossing = this.book.crossingLots(side, priceTicks, lots);
    const filled = tif === 2 && crossing < lots ? 0 : Math.min(crossing, lots);
    let impact = 0;
    if (filled > 0 && depthLots > 0) {
      const lotSize = Number(this.scale.lotSize);
      // the model runs before the book is touched, so a bad model result changes nothing
      impact = this.#impact(filled * lotSize, depthLots * lotSize);
      if (!Number.isFinite(impact) || impact < 0) throw new BacktestError('Matching', `impact model returned ${impact} for order ${order.id} (a finite fraction >= 0)`);
    }
    const remaining = this.book.submit(order.id, side, priceTicks, lots, tif);
    if (filled === 0) return this.report(order.id, side, lots, remaining, 0);
    const sign = side === BUY ? 1 : -1;
    const tempTicks = Math.ceil(impact * touch - 1e-9);
    const result = this.report(order.id, side, lots, remaining, this.#permanentTicks + sign * tempTicks);
    this.#permanentTicks += sign * Math.round(this.config.permanentFraction * impact * touch);
    return result;
  }
}

/**
 * Builds an `ImpactedMatchingEngine` step by step (the seed's builder chain); `build()` refuses with
 * `BuilderIncomplete` naming the first missing part (modelType, coefficient, depthLevels, impactFunction).
 */
export class ImpactedMatchingEngineBuilder {
  #modelType: ImpactModelType | undefined;
  #coefficient: number | undefined;
  #exponent = 0.5;
  #depthLevels: number | undefined;
  #permanentFraction = 0.5;
  #impactFunction: ImpactFunction | undefined;
  #options: { tickSize?: DecimalInput; lotSize?: DecimalInput; symbol?: string } = {};

  /** `linear`, `power_law`, or `custom` (with `impactFunction`). @throws BacktestError Matching on another name */
  modelType(type: ImpactModelType): this {
    if (type !== 'linear' && type !== 'power_law' && type !== 'custom') throw new BacktestError('Matching', `invalid impact model type: ${String(type)} (linear, power_law or custom)`);
    this.#modelType = type;
    return this;
  }
  /** Scale of the built-in model. */
  coefficient(c: number): this {
    this.#coefficient = c;
    return this;
  }
  /** Exponent of the power law (default 0.5). */
  exponent(e: number): this {
    this.#exponent = e;
    return this;
  }
  /** Opposite levels counted as depth. */
  depthLevels(n: number): this {
    this.#depthLevels = n;
    return this;
  }
  /** Share of impact that persists (default 0.5). */
  permanentFraction(f: number): this {
    this.#permanentFraction = f;
    return this;
  }
  /** A user-supplied impact model; sets the model type to `custom`. */
  impactFunction(fn: ImpactFunction): this {
    this.#impactFunction = fn;
    this.#modelType = 'custom';
    return this;
  }
  /** Tick size of the book (quote currency). */
  tickSize(t: DecimalInput): this {
    this.#options.tickSize = t;
    return this;
  }
  /** Lot size of the book (base units). */
  lotSize(l: DecimalInput): this {
    this.#options.lotSize = l;
    return this;
  }

  /** @throws BacktestError BuilderIncomplete naming the missing part, or Matching on invalid values */
  build(): ImpactedMatchingEngine {
    const missing = (part: string): never => {
      throw new BacktestError('BuilderIncomplete', `${part}: call .${part}(...) before build()`);
    };
    const modelType = this.#modelType ?? missing('modelType');
    if (modelType === 'custom' && this.#impactFunction === undefined) missing('impactFunction');
    const coefficient = modelType === 'custom' ? (this.#coefficient ?? 0) : (this.#coefficient ?? missing('coefficient'));
    const depthLevels = this.#depthLevels ?? missing('depthLevels');
    const config: ImpactConfig = {
      modelType,
      coefficient,
      exponent: this.#exponent,
      depthLevels,
      permanentFraction: this.#permanentFraction,
      ...(this.#impactFunction === undefined ? {} : { impactFunction: this.#impactFunction }),
    };
    return new ImpactedMatchingEngine(config, this.#options);
  }
}
