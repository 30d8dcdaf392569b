import { CoreError } from '../core/errors.js';
import { Price, Quantity, type DecimalInput } from '../core/decimal.js';
import { Money, currencyCode } from '../core/money.js';
import { InstrumentId } from '../core/ids.js';

/** Broad asset class; decides defaults such as the calendar and fractional sizing. */
export type AssetClass = 'equity' | 'crypto' | 'future' | 'fx' | 'index' | 'option';

/** A tradable instrument and its trading rules. */
export interface Instrument {
  readonly id: InstrumentId;
  readonly assetClass: AssetClass;
  /** Minimum price increment; its precision is the instrument's price precision. */
  readonly tickSize: Price;
  /** Quantity increment; its precision is the instrument's size precision. */
  readonly lotSize: Quantity;
  readonly minQuantity: Quantity;
  /** Minimum order notional in the quote currency, if the venue has one. */
  readonly minNotional: Money | undefined;
  readonly baseCurrency: string;
  readonly quoteCurrency: string;
  /** The session calendar id: `XNYS`, `24/7`, `XSHG`. */
  readonly calendarId: string;
  readonly pricePrecision: number;
  readonly sizePrecision: number;
}

/** What makeInstrument takes; decimals as strings. */
export interface InstrumentSpec {
  id: string | InstrumentId;
  assetClass?: AssetClass;
  tickSize: DecimalInput;
  lotSize: DecimalInput;
  minQuantity?: DecimalInput;
  minNotional?: DecimalInput;
  baseCurrency: string;
  quoteCurrency: string;
  calendarId?: string;
}

/**
 * Builds and checks an instrument (tick and lot positive, min quantity a multiple of the lot).
 * @throws CoreError InvalidInstrument
 */
export function makeInstrument(spec: InstrumentSpec): Instrument {
  const id = typeof spec.id === 'string' ? InstrumentId.parse(spec.id) : spec.id;
  const tickSize = Price.of(spec.tickSize);
  const lotSize = Quantity.of(spec.lotSize);
  const problems: string[] = [];
  if (!tickSize.isPositive()) problems.push(`tickSize must be positive, got ${tickSize.toString()}`);
  if (!lotSize.isPositive()) problems.push(`lotSize must be positive, got ${lotSize.toString()}`);
  const minQuantity = spec.minQuantity === undefined ? lotSize : Quantity.of(spec.minQuantity);
  if (lotSize.isPositive() && !minQuantity.isMultipleOf(lotSize)) {
    problems.push(`minQuantity ${minQuantity.toString()} is not a multiple of lotSize ${lotSize.toString()}`);
  }
  const quote = currencyCode(spec.quoteCurrency);
  const minNotional = spec.minNotional === undefined ? undefined : Money.of(spec.minNotional, quote);
  if (minNotional !== undefined && minNotional.isNegative()) problems.push('minNotional cannot be negative');
  if (problems.length > 0) throw new CoreError('InvalidInstrument', `${id.value}: ${problems.join('; ')}`);
  const assetClass = spec.assetClass ?? 'equity';
  return Object.freeze({
    id,
    assetClass,
    tickSize,
    lotSize,
    minQuantity,
    minNotional,
    baseCurrency: currencyCode(spec.baseCurrency),
    quoteCurrency: quote,
    calendarId: spec.calendarId ?? (assetClass === 'crypto' ? '24/7' : 'XNYS'),
    pricePrecision: tickSize.precision,
    sizePrecision: lotSize.precision,
  });
}

/** A US equity on NYSE: tick 0.01, lot 1 share, USD. */
export function usEquity(symbol: string, venue = 'XNYS'): Instrument {
  return makeInstrument({
    id: InstrumentId.of(symbol, venue),
    assetClass: 'equity',
    tickSize: '0.01',
    lotSize: '1',
    baseCurrency: symbol.replace(/[^A-Za-z0-9]/g, '').slice(0, 16) || 'SHARE',
    quoteCurrency: 'USD',
    calendarId: 'XNYS',
  });
}
