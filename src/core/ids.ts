import { CoreError } from './errors.js';

declare const brand: unique symbol;
/** A string with a compile-time brand, so ids of different kinds cannot be mixed up. */
export type Branded<T, B extends string> = T & { readonly [brand]: B };

export type ClientOrderId = Branded<string, 'ClientOrderId'>;
export type VenueOrderId = Branded<string, 'VenueOrderId'>;
export type TradeId = Branded<string, 'TradeId'>;
export type StrategyId = Branded<string, 'StrategyId'>;
export type PositionId = Branded<string, 'PositionId'>;
export type AccountId = Branded<string, 'AccountId'>;

const ID_RE = /^[\x21-\x7e]{1,128}$/;

function checked<T>(kind: string, value: string): T {
  if (!ID_RE.test(value)) {
    throw new CoreError('InvalidIdentifier', `invalid ${kind}: ${JSON.stringify(value)} (1-128 printable ASCII characters, no spaces)`);
  }
  return value as T;
}

/** @throws CoreError InvalidIdentifier */
export const clientOrderId = (v: string): ClientOrderId => checked('ClientOrderId', v);
/** @throws CoreError InvalidIdentifier */
export const venueOrderId = (v: string): VenueOrderId => checked('VenueOrderId', v);
/** @throws CoreError InvalidIdentifier */
export const tradeId = (v: string): TradeId => checked('TradeId', v);
/** @throws CoreError InvalidIdentifier */
export const strategyId = (v: string): StrategyId => checked('StrategyId', v);
/** @throws CoreError InvalidIdentifier */
export const positionId = (v: string): PositionId => checked('PositionId', v);
/** @throws CoreError InvalidIdentifier */
export const accountId = (v: string): AccountId => checked('AccountId', v);

const SYMBOL_RE = /^[A-Za-z0-9][A-Za-z0-9._\-/^:]{0,63}$/;
const VENUE_RE = /^[A-Z0-9_]{1,32}$/;

/** An instrument's identity: symbol and venue, written `SYMBOL.VENUE` (`SPY.XNYS`, `BTC-USDT.BINANCE`). */
export class InstrumentId {
  readonly symbol: string;
  readonly venue: string;
  readonly value: string;

  private constructor(symbol: string, venue: string) {
    this.symbol = symbol;
    this.venue = venue;
    this.value = `${symbol}.${venue}`;
    Object.freeze(this);
  }

  /** @throws CoreError InvalidIdentifier */
  static of(symbol: string, venue: string): InstrumentId {
    if (!SYMBOL_RE.test(symbol)) throw new CoreError('InvalidIdentifier', `invalid symbol: ${JSON.stringify(symbol)}`);
    if (!VENUE_RE.test(venue)) throw new CoreError('InvalidIdentifier', `invalid venue: ${JSON.stringify(venue)} (upper-case letters, digits, _)`);
    return new InstrumentId(symbol, venue);
  }

  /** Parses `SYMBOL.VENUE`, splitting at the last dot (`BRK.B.XNYS`). @throws CoreError InvalidIdentifier */
  static parse(text: string): InstrumentId {
    const i = text.lastIndexOf('.');
    if (i <= 0 || i === text.length - 1) {
      throw new CoreError('InvalidIdentifier', `instrument id must be SYMBOL.VENUE, got ${JSON.stringify(text)}`);
    }
    return InstrumentId.of(text.slice(0, i), text.slice(i + 1));
  }

  equals(other: InstrumentId): boolean {
    return this.value === other.value;
  }

  toString(): string {
    return this.value;
  }

  toJSON(): string {
    return this.value;
  }
}
