import type { DecimalInput } from '../core/decimal.js';
import { OmsError, omsDecimal } from './errors.js';

/** The seed's order status kinds. */
export type OrderStatusKind =
  | 'New'
  | 'Acknowledged'
  | 'PartiallyFilled'
  | 'Filled'
  | 'Cancelled'
  | 'Rejected'
  | 'Expired';

/** Every status kind, in lifecycle order. */
export const ORDER_STATUS_KINDS: readonly OrderStatusKind[] = Object.freeze([
  'New',
  'Acknowledged',
  'PartiallyFilled',
  'Filled',
  'Cancelled',
  'Rejected',
  'Expired',
]);

const TERMINAL: ReadonlySet<string> = new Set(['Filled', 'Cancelled', 'Rejected', 'Expired']);

/** Whether a status kind ends the order's life (Filled, Cancelled, Rejected, Expired). */
export function isTerminalKind(kind: string): boolean {
  return TERMINAL.has(kind);
}

/** The plain form of an OrderStatus; decimals as exact strings. */
export interface OrderStatusDict {
  kind: OrderStatusKind;
  filledQty?: string;
  avgPrice?: string;
  reason?: string;
}

/** An order's status (kind tag pattern): decimals are exact strings, e.g. `filledQty === "0.6"`. */
export class OrderStatus {
  readonly kind: OrderStatusKind;
  /** Filled quantity so far (PartiallyFilled, Filled; also kept on a cancelled order that had fills). */
  readonly filledQty: string | undefined;
  /** Quantity-weighted average fill price, quote currency. */
  readonly avgPrice: string | undefined;
  /** Why the order was cancelled or rejected. */
  readonly reason: string | undefined;

  constructor(kind: OrderStatusKind, filledQty?: string, avgPrice?: string, reason?: string) {
    this.kind = kind;
    this.filledQty = filledQty;
    this.avgPrice = avgPrice;
    this.reason = reason;
    Object.freeze(this);
  }

  /** True for Filled, Cancelled, Rejected and Expired. */
  isTerminal(): boolean {
    return TERMINAL.has(this.kind);
  }

  /** The plain form, without absent fields. */
  toDict(): OrderStatusDict {
    const d: OrderStatusDict = { kind: this.kind };
    if (this.filledQty !== undefined) d.filledQty = this.filledQty;
    if (this.avgPrice !== undefined) d.avgPrice = this.avgPrice;
    if (this.reason !== undefined) d.reason = this.reason;
    return d;
  }

  toString(): string {
    if (this.kind === 'PartiallyFilled' || this.kind === 'Filled') {
      return this.filledQty === undefined ? this.kind : `${this.kind}(${this.filledQty} @ ${this.avgPrice ?? '?'})`;
    }
    return this.reason === undefined ? this.kind : `${this.kind}(${this.reason})`;
  }
}

/** Optional fields of makeOrderStatus; decimals as strings, safe integers or decimal objects. */
export interface OrderStatusFields {
  filledQty?: DecimalInput;
  avgPrice?: DecimalInput;
  reason?: string;
}

/**
 * Builds an OrderStatus; PartiallyFilled needs `filledQty` and `avgPrice`, and fill fields are only
 * accepted on PartiallyFilled and Filled.
 * @throws OmsError SerializationError on an unknown kind, a bad decimal or a missing/extra field
 */
export function makeOrderStatus(kind: string, fields: OrderStatusFields = {}): OrderStatus {
  if (!(ORDER_STATUS_KINDS as readonly string[]).includes(kind)) {
    throw new OmsError('SerializationError', `unknown order status kind ${JSON.stringify(kind)}; expected one of ${ORDER_STATUS_KINDS.join(', ')}`);
  }
  const k = kind as OrderStatusKind;
  const fill = k === 'PartiallyFilled' || k === 'Filled';
  if (!fill && (fields.filledQty !== undefined || fields.avgPrice !== undefined)) {
    throw new OmsError('SerializationError', `status ${k} does not carry filledQty/avgPrice`);
  }
  if (k === 'PartiallyFilled' && (fields.filledQty === undefined || fields.avgPrice === undefined)) {
    throw new OmsError('SerializationError', 'status PartiallyFilled needs filledQty and avgPrice');
  }
  const qty = fields.filledQty === undefined ? undefined : omsDecimal(fields.filledQty, 'filledQty');
  const px = fields.avgPrice === undefined ? undefined : omsDecimal(fields.avgPrice, 'avgPrice');
  if (qty !== undefined && qty.isNegative()) throw new OmsError('SerializationError', `filledQty cannot be negative: ${qty.toString()}`);
  if (px !== undefined && px.isNegative()) throw new OmsError('SerializationError', `avgPrice cannot be negative: ${px.toString()}`);
  return new OrderStatus(k, qty?.toString(), px?.toString(), fields.reason);
}
