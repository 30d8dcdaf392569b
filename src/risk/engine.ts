import { Decimal, pow10 } from '../core/decimal.js';
import { LiveClock, type Clock } from '../core/clock.js';
import { CircuitBreaker } from './circuit-breaker.js';
import type { RiskConfig } from './config.js';
import { RiskError, riskDecimal } from './errors.js';
import type { RiskOrderLike, RiskPortfolioView } from './inputs.js';
import { RiskReason, RiskResult } from './result.js';

/** Options of a DefaultRiskEngine. */
export interface RiskEngineOptions {
  /** Time source of the circuit breaker's cooldown; default LiveClock. */
  clock?: Clock;
  /** Number of daily returns the VaR uses (most recent first out); default 250. */
  varWindow?: number;
}

/** Risk metrics of a portfolio; money as exact strings, ratios as numbers (statistics). */
export interface RiskMetrics {
  /** Valuation currency. */
  readonly currency: string;
  /** Net asset value: cash plus signed position values. */
  readonly nav: string;
  /** Sum of |position values|. */
  readonly grossExposure: string;
  /** Gross exposure / NAV (Infinity when NAV <= 0 with exposure). */
  readonly leverage: number;
  /** (peak NAV - NAV) / peak NAV, 0 at a new peak. */
  readonly drawdown: number;
  readonly peakNav: string;
  /** Cumulative PnL since the last resetDaily. */
  readonly dailyPnl: string;
  /** Historical one-day VaR at 95% as a positive fraction of NAV; undefined without returns. */
  readonly var95: number | undefined;
  /** var95 x NAV, valuation currency (a statistic, rounded to 2 digits). */
  readonly var95Amount: string | undefined;
  /** Largest |position value| / NAV. */
  readonly concentration: number;
  readonly circuitBreakerActive: boolean;
}

function cmpRaw(aR: bigint, aP: number, bR: bigint, bP: number): number {
  if (aP < bP) aR *= pow10(bP - aP);
  else if (bP < aP) bR *= pow10(aP - bP);
  return aR < bR ? -1 : aR > bR ? 1 : 0;
}

const RATIO_DIGITS = 6;

/**
 * Historical VaR(95) of a return series: the lower empirical 5% quantile, i.e. the k-th smallest
 * return with k = ceil(0.05 n) (no interpolation), reported as a positive loss fraction (0 when
 * that return is a gain); undefined for an empty series.
 */
export function historicalVar95(returns: readonly number[]): number | undefined {
  if (returns.length === 0) return undefined;
  const sorted = [...returns].sort((a, b) => a - b);
  const k = Math.max(1, Math.ceil(0.05 * sorted.length));
  const r = sorted[k - 1] as number;
  return r < 0 ? -r : 0;
}

/**
 * The pre-trade risk engine: checks an order against the 8 thresholds of its RiskConfig in O(1)
 * (it reads the portfolio's incremental aggregates), tracks daily PnL with a circuit breaker on
 * the injected Clock, the equity peak for drawdown, and daily returns for VaR. Orders that reduce
 * the absolute position pass the exposure, leverage, concentration, drawdown and daily-loss
 * checks; the circuit breaker and the order-value check apply to every order.
 */
export class DefaultRiskEngine {
  readonly config: RiskConfig;
  readonly #breaker: CircuitBreaker | undefined;
  readonly #varWindow: number;
  #dailyPnl = Decimal.ZERO;
  #dailyLossBreached = false;
  #peak: Decimal | undefined;
  #dayStart: Decimal | undefined;
  #lastEquity: Decimal | undefined;
  #last: { portfolio: RiskPortfolioView; currency: string } | undefined;
  readonly #returns: number[] = [];

  /** @throws RiskError ConfigInvalid on a bad varWindow */
  constructor(config: RiskConfig, options: RiskEngineOptions = {}) {
    this.config = config;
    const w = options.varWindow ?? 250;
    if (!Number.isSafeInteger(w) || w < 1) throw new RiskError('ConfigInvalid', `varWindow must be a positive integer, got ${w}`);
    this.#varWindow = w;
    this.#breaker =
      config.maxDailyLoss === undefined
        ? undefined
        : new CircuitBreaker({
            dailyLossLimit: config.maxDailyLoss,
            clock: options.clock ?? new LiveClock(),
            ...(config.circuitBreakerCooldown === undefined ? {} : { cooldownSeconds: config.circuitBreakerCooldown }),
          });
  }

  #observe(equity: Decimal): void {
    this.#lastEquity = equity;
    if (this.#dayStart === undefined) this.#dayStart = equity;
    const peak = this.#peak;
    if (peak === undefined || cmpRaw(equity.raw, equity.precision, peak.raw, peak.precision) > 0) this.#peak = equity;
  }

  /**
   * Checks one order against the limits (Allow, Reject(reason) or Warn when a market order has
   * no price to value it by).
   * @throws RiskError OrderRejected when the order itself is malformed
   */
  checkOrder(order: RiskOrderLike, portfolio: RiskPortfolioView): RiskResult {
    const cfg = this.config;
    if (this.#breaker !== undefined && this.#breaker.isActive) {
      return RiskResult.reject(RiskReason.limit('CircuitBreakerActive', cfg.maxDailyLoss ?? Decimal.ZERO, this.#dailyPnl.neg()));
    }
    const q = order.quantity;
    if (q.raw <= 0n || (order.side !== 'Buy' && order.side !== 'Sell')) {
      throw new RiskError('OrderRejected', `order on ${order.symbol} is malformed: side ${String(order.side)}, quantity must be positive`);
    }
    const symbol = order.symbol;
    const price = order.price ?? portfolio.mark(symbol);
    if (price === undefined) return RiskResult.warn(`market order on ${symbol} has no price or mark: value limits not checked`);
    const pR = price.raw;
    const pP = price.precision;
    const vR = pR * q.raw;
    const vP = pP + q.precision;
    const maxOrder = cfg.maxOrderValue;
    if (maxOrder !== undefined && cmpRaw(vR, vP, maxOrder.raw, maxOrder.precision) > 0) {
      return RiskResult.reject(RiskReason.limit('OrderTooLarge', maxOrder, Decimal.fromRaw(vR, vP), { symbol }));
    }
    const pos = portfolio.positionQuantity(symbol);
    const P = pos.precision > q.precision ? pos.precision : q.precision;
    const oldR = pos.precision === P ? pos.raw : pos.raw * pow10(P - pos.precision);
    const dq = q.precision === P ? q.raw : q.raw * pow10(P - q.precision);
    const newR = order.side === 'Buy' ? oldR + dq : oldR - dq;
    const oldAbs = oldR < 0n ? -oldR : oldR;
    const newAbs = newR < 0n ? -newR : newR;
    if (newAbs <= oldAbs) return RiskResult.ALLOW;

    const ccy = portfolio.baseCurrency ?? portfolio.quoteCurrency(symbol);
    const eq = portfolio.equity(ccy);
    this.#observe(eq);
    if (this.#dailyLossBreached && cfg.maxDailyLoss !== undefined) {
      return RiskResult.reject(RiskReason.limit('DailyPnLLimit', cfg.maxDailyLoss, this.#dailyPnl.neg()));
    }
    const dd = this.#drawdownReject(eq);
    if (dd !== undefined) return dd;
    const npvR = newAbs * pR;
    const npvP = P + pP;
    const maxPos = cfg.maxPositionPerInstrument;
    if (maxPos !== undefined && cmpRaw(npvR, npvP, maxPos.raw, maxPos.precision) > 0) {
      return RiskResult.reject(RiskReason.limit('PositionLimitExceeded', maxPos, Decimal.fromRaw(npvR, npvP), { symbol }));
    }
    const maxGross = cfg.maxTotalExposure;
    const maxLev = cfg.maxLeverage;
    if (maxGross !== undefined || maxLev !== undefined) {
      const gross = portfolio.grossExposure(ccy);
      const pv = portfolio.positionValue(symbol);
      const G = Math.max(gross.precision, pv.precision, npvP);
      const pvAbs = pv.raw < 0n ? -pv.raw : pv.raw;
      const gR = gross.raw * pow10(G - gross.precision) - pvAbs * pow10(G - pv.precision) + npvR * pow10(G - npvP);
      if (maxGross !== undefined && cmpRaw(gR, G, maxGross.raw, maxGross.precision) > 0) {
        return RiskResult.reject(RiskReason.limit('PositionLimitExceeded', maxGross, Decimal.fromRaw(gR, G), { scope: 'total' }));
      }
      if (maxLev !== undefined) {
        if (eq.raw <= 0n) return this.#noEquity(eq);
        if (cmpRaw(gR, G, maxLev.raw * eq.raw, maxLev.precision + eq.precision) > 0) {
          const actual = Decimal.fromRaw(gR, G).div(eq, RATIO_DIGITS);
          return RiskResult.reject(RiskReason.limit('MaxLeverageExceeded', maxLev, actual));
        }
      }
    }
    const maxConc = cfg.maxConcentration;
    if (maxConc !== undefined) {
      if (eq.raw <= 0n) return this.#noEquity(eq);
      if (cmpRaw(npvR, npvP, maxConc.raw * eq.raw, maxConc.precision + eq.precision) > 0) {
        const actual = Decimal.fromRaw(npvR, npvP).div(eq, RATIO_DIGITS);
        return RiskResult.reject(RiskReason.limit('ConcentrationTooHigh', maxConc, actual, { symbol }));
      }
    }
    if (portfolio.accountType === 'cash') {
      if (newR < 0n) {
        return RiskResult.reject(
          new RiskReason('InsufficientMargin', { symbol, detail: 'a cash account cannot sell short', actual: Decimal.fromRaw(newR, P).toString() }),
        );
      }
      const rate = (portfolio as { commissionRate?: Decimal }).commissionRate;
      // required cash = value x (1 + commission rate)
      const rR = rate === undefined || rate.raw === 0n ? vR : vR * (pow10(rate.precision) + rate.raw);
      const rP = rate === undefined || rate.raw === 0n ? vP : vP + rate.precision;
      const cash = portfolio.cashBalance(ccy);
      if (cmpRaw(rR, rP, cash.raw, cash.precision) > 0) {
        return RiskResult.reject(RiskReason.limit('InsufficientMargin', cash, Decimal.fromRaw(rR, rP), { symbol }));
      }
    }
    return RiskResult.ALLOW;
  }

  #noEquity(eq: Decimal): RiskResult {
    return RiskResult.reject(new RiskReason('InsufficientMargin', { detail: 'equity is not positive', actual: eq.toString() }));
  }

  #drawdownReject(eq: Decimal): RiskResult | undefined {
    const maxDd = this.config.maxDrawdown;
    const peak = this.#peak;
    if (maxDd === undefined || peak === undefined || peak.raw <= 0n) return undefined;
    const P = Math.max(peak.precision, eq.precision);
    const lossR = peak.raw * pow10(P - peak.precision) - eq.raw * pow10(P - eq.precision);
    if (cmpRaw(lossR, P, maxDd.raw * peak.raw, maxDd.precision + peak.precision) > 0) {
      return RiskResult.reject(RiskReason.limit('MaxDrawdownExceeded', maxDd, Decimal.fromRaw(lossR, P).div(peak, RATIO_DIGITS)));
    }
    return undefined;
  }

  /**
   * Checks the whole portfolio (circuit breaker, daily loss, drawdown, total exposure, leverage,
   * concentration of the largest position) and records its equity for drawdown and VaR; O(positions).
   */
  checkPortfolio(portfolio: RiskPortfolioView, currency?: string): RiskResult {
    const ccy = currency ?? portfolio.baseCurrency;
    if (ccy === undefined) throw new RiskError('ConfigInvalid', 'checkPortfolio needs a currency when the portfolio has no baseCurrency');
    this.#last = { portfolio, currency: ccy };
    const cfg = this.config;
    const eq = portfolio.equity(ccy);
    this.#observe(eq);
    if (this.#breaker !== undefined && this.#breaker.isActive) {
      return RiskResult.reject(RiskReason.limit('CircuitBreakerActive', cfg.maxDailyLoss ?? Decimal.ZERO, this.#dailyPnl.neg()));
    }
    if (this.#dailyLossBreached && cfg.maxDailyLoss !== undefined) {
      return RiskResult.reject(RiskReason.limit('DailyPnLLimit', cfg.maxDailyLoss, this.#dailyPnl.neg()));
    }
    const dd = this.#drawdownReject(eq);
    if (dd !== undefined) return dd;
    const gross = portfolio.grossExposure(ccy);
    if (cfg.maxTotalExposure !== undefined && gross.gt(cfg.maxTotalExposure)) {
      return RiskResult.reject(RiskReason.limit('PositionLimitExceeded', cfg.maxTotalExposure, gross, { scope: 'total' }));
    }
    if ((cfg.maxLeverage !== undefined || cfg.maxConcentration !== undefined) && !gross.isZero() && !eq.isPositive()) return this.#noEquity(eq);
    if (cfg.maxLeverage !== undefined && gross.gt(cfg.maxLeverage.mul(eq))) {
      return RiskResult.reject(RiskReason.limit('MaxLeverageExceeded', cfg.maxLeverage, gross.div(eq, RATIO_DIGITS)));
    }
    const largest = portfolio.largestPositionValue(ccy);
    if (cfg.maxConcentration !== undefined && largest.gt(cfg.maxConcentration.mul(eq))) {
      return RiskResult.reject(RiskReason.limit('ConcentrationTooHigh', cfg.maxConcentration, largest.div(eq, RATIO_DIGITS)));
    }
    return RiskResult.ALLOW;
  }

  /**
   * Adds `pnl` (valuation currency, negative = loss) to today's cumulative PnL; a cumulative loss
   * beyond maxDailyLoss trips the circuit breaker.
   * @throws RiskError ConfigInvalid when pnl is not a decimal
   */
  updateDailyPnl(pnl: string | number | Decimal): void {
    this.#dailyPnl = this.#dailyPnl.add(riskDecimal(pnl, 'daily pnl', 'ConfigInvalid'));
    const max = this.config.maxDailyLoss;
    this.#dailyLossBreached = max !== undefined && this.#dailyPnl.neg().gt(max);
    this.#breaker?.checkAndTrigger(this.#dailyPnl);
  }

  /** Today's cumulative PnL. */
  get dailyPnl(): Decimal {
    return this.#dailyPnl;
  }

  /** Whether the engine's circuit breaker blocks orders now. */
  get circuitBreakerActive(): boolean {
    return this.#breaker?.isActive ?? false;
  }

  /**
   * Closes the day: records today's return (daily PnL / the day's starting equity) in the VaR
   * history, then clears daily PnL and the circuit breaker. The VaR history is kept.
   */
  resetDaily(): void {
    const start = this.#dayStart;
    if (start !== undefined && start.isPositive()) this.recordReturn(this.#dailyPnl.div(start, 12).toNumber());
    this.#dailyPnl = Decimal.ZERO;
    this.#dailyLossBreached = false;
    this.#breaker?.reset();
    this.#dayStart = this.#lastEquity;
  }

  /** Appends one daily return (a fraction: -0.02 = -2%) to the VaR window. */
  recordReturn(dailyReturn: number): void {
    if (!Number.isFinite(dailyReturn)) throw new RiskError('ConfigInvalid', `daily return must be finite, got ${dailyReturn}`);
    this.#returns.push(dailyReturn);
    if (this.#returns.length > this.#varWindow) this.#returns.shift();
  }

  /** The daily returns in the VaR window, oldest first. */
  returns(): readonly number[] {
    return [...this.#returns];
  }

  /**
   * Risk metrics of `portfolio` (default: the last one given to checkPortfolio).
   * @throws RiskError ConfigInvalid when no portfolio or currency is known
   */
  metrics(portfolio?: RiskPortfolioView, currency?: string): RiskMetrics {
    const p = portfolio ?? this.#last?.portfolio;
    const ccy = currency ?? portfolio?.baseCurrency ?? this.#last?.currency;
    if (p === undefined || ccy === undefined) throw new RiskError('ConfigInvalid', 'metrics needs a portfolio and a valuation currency');
    const nav = p.equity(ccy);
    this.#observe(nav);
    const gross = p.grossExposure(ccy);
    const peak = this.#peak ?? nav;
    const navF = nav.toNumber();
    const v = historicalVar95(this.#returns);
    return Object.freeze({
      currency: ccy,
      nav: nav.toString(),
      grossExposure: gross.toString(),
      leverage: gross.isZero() ? 0 : navF > 0 ? gross.toNumber() / navF : Infinity,
      drawdown: peak.isPositive() ? Math.max(0, (peak.toNumber() - navF) / peak.toNumber()) : 0,
      peakNav: peak.toString(),
      dailyPnl: this.#dailyPnl.toString(),
      var95: v,
      var95Amount: v === undefined ? undefined : (v * navF).toFixed(2),
      concentration: navF > 0 ? p.largestPositionValue(ccy).toNumber() / navF : 0,
      circuitBreakerActive: this.circuitBreakerActive,
    });
  }
}
