import type { Price, Quantity } from '../core/decimal.js';
import type { Money } from '../core/money.js';
import type { ClientOrderId, TradeId, VenueOrderId } from '../core/ids.js';

/** Order side (the seed's `Side`). */
export type Side = 'Buy' | 'Sell';
/** Order type. */
export type OrderType = 'Market' | 'Limit' | 'Stop' | 'StopLimit';
/** Time in force. */
export type TimeInForce = 'GTC' | 'IOC' | 'FOK' | 'DAY';
/** Whether a fill added liquidity (maker) or took it (taker). */
export type LiquiditySide = 'Maker' | 'Taker';

/** The opposite side. */
export function oppositeSide(side: Side): Side {
  return side === 'Buy' ? 'Sell' : 'Buy';
}

/** Take-profit and stop-loss legs attached to an entry (a bracket). */
export interface BracketSpec {
  readonly takeProfit: Price;
  readonly stopLoss: Price;
}

/** An order as sent to a venue: everything the venue needs, with exact decimals. */
export interface OrderRequest {
  readonly clientOrderId: ClientOrderId;
  /** Symbol as the venue knows it (the bar store's key), e.g. `SPY`. */
  readonly symbol: string;
  readonly side: Side;
  readonly type: OrderType;
  /** For a `notional` order: an estimate (notional / reference price), used for risk checks only. */
  readonly quantity: Quantity;
  /**
   * Buy (or sell) this much quote currency instead of a fixed quantity (Alpaca's `notional`): the venue
   * fills notional / fill price, floored to its lot. Market orders only.
   */
  readonly notional?: Money;
  readonly limitPrice?: Price;
  readonly stopPrice?: Price;
  readonly timeInForce: TimeInForce;
  /** Attach TP/SL legs, active once this order fills; only where the venue has `brackets`. */
  readonly bracket?: BracketSpec;
  /** Only reduce an existing position. */
  readonly reduceOnly?: boolean;
  /** Epoch ns the order was created. */
  readonly tsInit: bigint;
}

/** Changes to a working order. */
export interface ModifyRequest {
  readonly clientOrderId: ClientOrderId;
  readonly quantity?: Quantity;
  readonly limitPrice?: Price;
  readonly stopPrice?: Price;
}

/** Venue events: frozen tagged unions, each with tsEvent (venue time) and tsInit (when we built it), epoch ns. */
export type VenueEvent =
  | OrderAccepted
  | OrderRejected
  | OrderFilled
  | OrderCanceled
  | OrderCancelRejected
  | OrderExpired
  | OrderModified
  | PositionChanged;

interface EventBase {
  readonly tsEvent: bigint;
  readonly tsInit: bigint;
}

export interface OrderAccepted extends EventBase {
  readonly kind: 'accepted';
  readonly clientOrderId: ClientOrderId;
  readonly venueOrderId: VenueOrderId;
}

export interface OrderRejected extends EventBase {
  readonly kind: 'rejected';
  readonly clientOrderId: ClientOrderId;
  readonly reason: string;
}

export interface OrderFilled extends EventBase {
  readonly kind: 'filled';
  readonly clientOrderId: ClientOrderId;
  readonly venueOrderId: VenueOrderId;
  /** The venue's execution id: fills are deduplicated by it. */
  readonly tradeId: TradeId;
  readonly symbol: string;
  readonly side: Side;
  readonly lastQty: Quantity;
  readonly lastPx: Price;
  readonly commission: Money;
  readonly liquiditySide: LiquiditySide;
  /** Quantity still open on the order after this fill. */
  readonly leavesQty: Quantity;
}

export interface OrderCanceled extends EventBase {
  readonly kind: 'canceled';
  readonly clientOrderId: ClientOrderId;
  readonly venueOrderId: VenueOrderId | undefined;
  readonly reason: string;
}

export interface OrderCancelRejected extends EventBase {
  readonly kind: 'cancel-rejected';
  readonly clientOrderId: ClientOrderId;
  readonly reason: string;
}

export interface OrderExpired extends EventBase {
  readonly kind: 'expired';
  readonly clientOrderId: ClientOrderId;
  readonly venueOrderId: VenueOrderId | undefined;
}

export interface OrderModified extends EventBase {
  readonly kind: 'modified';
  readonly clientOrderId: ClientOrderId;
  readonly venueOrderId: VenueOrderId;
  readonly quantity: Quantity;
  readonly limitPrice: Price | undefined;
  readonly stopPrice: Price | undefined;
}

/** A venue-side position change the engine did not cause (corporate action, manual trade). */
export interface PositionChanged extends EventBase {
  readonly kind: 'position-changed';
  readonly symbol: string;
  /** Signed quantity after the change (negative = short). */
  readonly signedQty: string;
}

/** An order as the venue reports it (for reconciliation). */
export interface OrderReport {
  readonly clientOrderId: ClientOrderId;
  readonly venueOrderId: VenueOrderId;
  readonly symbol: string;
  readonly side: Side;
  readonly type: OrderType;
  readonly quantity: Quantity;
  readonly filledQty: Quantity;
  readonly avgPx: Price | undefined;
  readonly limitPrice: Price | undefined;
  readonly stopPrice: Price | undefined;
  readonly status: 'open' | 'partially-filled' | 'filled' | 'canceled' | 'rejected' | 'expired' | 'pending';
  /** For bracket legs: the parent entry's client order id. */
  readonly parentClientOrderId: ClientOrderId | undefined;
  readonly tsLast: bigint;
}

/** A position as the venue reports it. */
export interface PositionReport {
  readonly symbol: string;
  /** Signed quantity as an exact decimal string (negative = short). */
  readonly signedQty: string;
  readonly avgPx: Price | undefined;
}

/** Cash balances as the venue reports them, per currency. */
export interface BalanceReport {
  readonly balances: ReadonlyMap<string, Money>;
}
