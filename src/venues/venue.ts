import type { ClientOrderId } from '../core/ids.js';
import type { Bar } from '../model/bar.js';
import type {
  BalanceReport,
  ModifyRequest,
  OrderReport,
  OrderRequest,
  PositionReport,
  VenueEvent,
} from '../model/order.js';

/** What a venue supports natively; engine code reads this instead of branching on the venue. */
export interface VenueCapabilities {
  /** Take-profit / stop-loss legs attached to an entry, held at the venue. */
  readonly brackets: boolean;
  /** One-cancels-other pairs. */
  readonly oco: boolean;
  readonly modify: boolean;
  readonly fractional: boolean;
  readonly shortSelling: boolean;
}

/** Receives venue events in the order the venue produced them. */
export type VenueEventHandler = (event: VenueEvent) => void;

/**
 * The one venue interface (DESIGN.md): the backtest simulator, the paper venue's client and real
 * adapters all implement it, every method required. Requests resolve once the venue has taken them
 * (not when they are filled); outcomes arrive as events. A request whose outcome is unknown (a
 * timeout) rejects with an error whose code is `UnknownOutcome`: the caller must query the order by
 * its client order id, never assume it was rejected.
 */
export interface Venue {
  readonly name: string;
  readonly capabilities: VenueCapabilities;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** Subscribes to order events; returns the unsubscribe function. */
  onEvent(handler: VenueEventHandler): () => void;
  submit(order: OrderRequest): Promise<void>;
  modify(request: ModifyRequest): Promise<void>;
  cancel(clientOrderId: ClientOrderId): Promise<void>;
  /** Open orders (and, with `includeClosed`, recent closed ones). */
  orderReports(options?: { includeClosed?: boolean }): Promise<OrderReport[]>;
  /** One order by its client order id, or undefined when the venue never saw it. */
  orderReport(clientOrderId: ClientOrderId): Promise<OrderReport | undefined>;
  positionReports(): Promise<PositionReport[]>;
  balanceReport(): Promise<BalanceReport>;
}

/**
 * A venue that matches against bars it is shown (the simulated venue; the paper server uses it
 * inside). The backtest driver calls `onBar` before the engine sees the bar, so orders resting from
 * earlier bars fill on it (market orders at its open by default).
 */
export interface BarDrivenVenue extends Venue {
  onBar(bar: Bar): void;
}
