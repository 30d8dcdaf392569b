import type { Price} from '../core/decimal.js';
import { Decimal, Quantity } from '../core/decimal.js';
import { Money } from '../core/money.js';
import type { Instrument } from '../model/instrument.js';

/** How entries are sized: a share of equity per position, or all free cash (peer-parity style). */
export interface SizingConfig {
  mode: 'percent-equity' | 'all-cash';
  /** Cap per position, percent of equity (0..100). */
  maxPositionPct: number;
  /** Allow fractional units (to `fractionalLot`) instead of whole lots. */
  fractional: boolean;
  fractionalLot: Decimal;
}

/** What the sizer knows: equity and free cash (quote currency, exact) and a reference price. */
export interface SizingInput {
  equity: Money;
  freeCash: Money;
  price: Price;
  instrument: Instrument;
}

/** The sizer's decision: a quantity, a notional (the venue converts at its fill price), or nothing and why. */
export type SizingDecision =
  | { kind: 'quantity'; quantity: Quantity; notional: Money }
  | { kind: 'notional'; notional: Money }
  | { kind: 'none'; reason: string };

const HUNDRED = Decimal.of(100);

/**
 * The one place entries are sized (strategies cannot size). Percent-equity floors
 * `equity * pct / price` to whole lots (or the fractional lot) and caps it by free cash; all-cash with
 * fractional units sends a notional order for all free cash, so the venue sizes at its fill price.
 * Equity sanity: equity and price must be positive, the result at least the instrument's minimum
 * quantity and notional.
 */
export class PositionSizer {
  readonly #config: SizingConfig;
  readonly #pct: Decimal;

  constructor(config: SizingConfig) {
    this.#config = config;
    // percent as an exact decimal from its shortest string
    this.#pct = Decimal.of(String(config.maxPositionPct));
  }

  size(input: SizingInput): SizingDecision {
    const { equity, freeCash, price, instrument } = input;
    if (!equity.isPositive()) return { kind: 'none', reason: `equity is not positive (${equity.toString()})` };
    if (!price.isPositive()) return { kind: 'none', reason: `reference price is not positive (${price.toString()})` };
    if (!freeCash.isPositive()) return { kind: 'none', reason: 'no free cash' };
    const quotePrecision = Math.max(2, freeCash.precision);
    if (this.#config.mode === 'all-cash' && this.#config.fractional) {
      const notional = freeCash.round(quotePrecision, 'floor');
      if (instrument.minNotional !== undefined && notional.lt(instrument.minNotional)) {
        return { kind: 'none', reason: `notional ${notional.toString()} below minimum ${instrument.minNotional.toString()}` };
      }
      return { kind: 'notional', notional };
    }
    let budget = this.#config.mode === 'all-cash' ? freeCash : equity.mul(this.#pct).div(HUNDRED, quotePrecision + 2, 'floor');
    if (budget.gt(freeCash)) budget = freeCash;
    const lot = this.#config.fractional ? this.#config.fractionalLot : instrument.lotSize;
    const qtyDec = budget.amount.div(price, lot.precision, 'floor').roundTo(lot, 'floor');
    if (!qtyDec.isPositive()) return { kind: 'none', reason: `budget ${budget.toString()} buys less than one lot at ${price.toString()}` };
    const quantity = Quantity.of(qtyDec);
    if (quantity.lt(instrument.minQuantity)) {
      return { kind: 'none', reason: `quantity ${quantity.toString()} below minimum ${instrument.minQuantity.toString()}` };
    }
    const notional = Money.of(price.mul(quantity).toString(), equity.currency);
    if (instrument.minNotional !== undefined && notional.lt(instrument.minNotional)) {
      return { kind: 'none', reason: `notional ${notional.toString()} below minimum ${instrument.minNotional.toString()}` };
    }
    return { kind: 'quantity', quantity, notional };
  }
}
