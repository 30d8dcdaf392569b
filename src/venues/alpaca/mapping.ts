import { Price, Quantity } from '../../core/decimal.js';
import { CoreError } from '../../core/errors.js';
import type { ClientOrderId, VenueOrderId } from '../../core/ids.js';
import type { OrderReport, OrderRequest, OrderType, Side, TimeInForce } from '../../model/order.js';
import type { AlpacaOrder, AlpacaOrderRequest, AlpacaOrderStatus, AlpacaOrderType, AlpacaSide, AlpacaTimeInForce } from './protocol.js';

const RFC3339_RE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/**
 * RFC 3339 time (Alpaca's form, up to nanosecond digits) to epoch ns, keeping every fraction digit.
 * @throws CoreError InvalidArgument when the text is not RFC 3339
 */
export function rfc3339ToNs(text: string): bigint {
  const fast = utcFast(text);
  if (fast !== undefined) return fast;
  const m = RFC3339_RE.exec(text);
  const ms = m === null ? Number.NaN : Date.parse(`${m[1] as string}${m[3] as string}`);
  if (m === null || Number.isNaN(ms)) throw new CoreError('InvalidArgument', `not an RFC 3339 time: ${JSON.stringify(text)}`);
  const frac = (m[2] ?? '').padEnd(9, '0');
  return BigInt(ms) * 1_000_000n + BigInt(frac);
}

function digits(text: string, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z` (every time Alpaca sends) without a regex or Date.parse; undefined for anything else. */
function utcFast(t: string): bigint | undefined {
  const n = t.length;
  if (n < 20 || n > 30 || t.charCodeAt(n - 1) !== 90 || t[4] !== '-' || t[7] !== '-' || t[10] !== 'T' || t[13] !== ':' || t[16] !== ':') return undefined;
  const y = digits(t, 0, 4);
  const mo = digits(t, 5, 7);
  const d = digits(t, 8, 10);
  const h = digits(t, 11, 13);
  const mi = digits(t, 14, 16);
  const sec = digits(t, 17, 19);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59) return undefined;
  let frac = 0;
  if (n > 20) {
    if (t[19] !== '.' || n === 21) return undefined;
    frac = digits(t, 20, n - 1);
    if (frac < 0) return undefined;
    frac *= 10 ** (9 - (n - 21));
  }
  const ms = Date.UTC(y, mo - 1, d, h, mi, sec);
  // Date.UTC rolls invalid days over (Feb 30 -> Mar 2): leave those to the strict path
  if (new Date(ms).getUTCDate() !== d) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt(frac);
}

/** Epoch ns to RFC 3339 UTC with nanosecond digits (trailing zeros trimmed), as Alpaca accepts in queries. */
export function nsToRfc3339(ns: bigint): string {
  const sec = ns / 1_000_000_000n;
  const frac = ns % 1_000_000_000n;
  const base = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
  if (frac === 0n) return `${base}Z`;
  return `${base}.${frac.toString().padStart(9, '0').replace(/0+$/, '')}Z`;
}

const SIDE_OUT: Record<Side, AlpacaSide> = { Buy: 'buy', Sell: 'sell' };
const TYPE_OUT: Record<OrderType, AlpacaOrderType> = { Market: 'market', Limit: 'limit', Stop: 'stop', StopLimit: 'stop_limit' };
const TIF_OUT: Record<TimeInForce, AlpacaTimeInForce> = { GTC: 'gtc', DAY: 'day', IOC: 'ioc', FOK: 'fok' };
const TYPE_IN: Record<AlpacaOrderType, OrderType> = { market: 'Market', limit: 'Limit', stop: 'Stop', stop_limit: 'StopLimit' };

/**
 * The `POST /v2/orders` body for an order: client_order_id = our id, qty or notional, a bracket as
 * order_class bracket with take_profit / stop_loss. Alpaca has no reduce-only flag for equities, so it is not sent.
 */
export function toAlpacaOrderRequest(order: OrderRequest): AlpacaOrderRequest {
  const body: AlpacaOrderRequest = {
    symbol: order.symbol,
    side: SIDE_OUT[order.side],
    type: TYPE_OUT[order.type],
    time_in_force: TIF_OUT[order.timeInForce],
    client_order_id: order.clientOrderId,
  };
  if (order.notional !== undefined) body.notional = order.notional.amountString();
  else body.qty = order.quantity.toString();
  if (order.limitPrice !== undefined) body.limit_price = order.limitPrice.toString();
  if (order.stopPrice !== undefined) body.stop_price = order.stopPrice.toString();
  if (order.bracket !== undefined) {
    body.order_class = 'bracket';
    body.take_profit = { limit_price: order.bracket.takeProfit.toString() };
    body.stop_loss = { stop_price: order.bracket.stopLoss.toString() };
  }
  return body;
}

/** Our side for Alpaca's. */
export function sideOf(side: AlpacaSide): Side {
  return side === 'buy' ? 'Buy' : 'Sell';
}

/** Our order type for Alpaca's. */
export function orderTypeOf(type: AlpacaOrderType): OrderType {
  return TYPE_IN[type];
}

/**
 * Our report status for an Alpaca order: working states are `open` (`partially-filled` once something
 * filled), `pending_new` and `held` (a bracket leg waiting for its entry) are `pending`, `done_for_day`
 * is `expired`, and `replaced` (only seen when a replacement cannot be followed) is `canceled`.
 */
export function reportStatusOf(status: AlpacaOrderStatus, filledQty: string): OrderReport['status'] {
  switch (status) {
    case 'pending_new':
    case 'held':
      return 'pending';
    case 'filled':
      return 'filled';
    case 'canceled':
    case 'replaced':
      return 'canceled';
    case 'expired':
    case 'done_for_day':
      return 'expired';
    case 'rejected':
      return 'rejected';
    case 'partially_filled':
      return 'partially-filled';
    default:
      return Quantity.of(filledQty).isZero() ? 'open' : 'partially-filled';
  }
}

/** Whether an order in this status can still trade. */
export function isWorking(status: AlpacaOrderStatus): boolean {
  const s = reportStatusOf(status, '0');
  return s === 'open' || s === 'pending' || s === 'partially-filled';
}

/** Whether a bracket leg is its take-profit (a limit order) rather than its stop-loss. */
export function isTakeProfitLeg(leg: AlpacaOrder): boolean {
  return leg.type === 'limit';
}

/** Our client order id for a bracket leg: `<entry>-tp` / `<entry>-sl`, as the engine names the venue's legs. */
export function legClientOrderId(parent: ClientOrderId, leg: AlpacaOrder): ClientOrderId {
  return `${parent}-${isTakeProfitLeg(leg) ? 'tp' : 'sl'}` as ClientOrderId;
}

/**
 * An Alpaca order as our OrderReport, under our client order id (`clientOrderId`, which differs from the
 * order's own for legs and replacements), with decimals exactly as Alpaca sent them.
 * @throws CoreError InvalidDecimal on a malformed decimal field
 */
export function toOrderReport(o: AlpacaOrder, clientOrderId: ClientOrderId, parent: ClientOrderId | undefined): OrderReport {
  const filled = Quantity.of(o.filled_qty);
  const qty = o.qty === null ? filled : Quantity.of(o.qty);
  return Object.freeze({
    clientOrderId,
    venueOrderId: o.id as VenueOrderId,
    symbol: o.symbol,
    side: sideOf(o.side),
    type: orderTypeOf(o.type ?? o.order_type),
    quantity: qty,
    filledQty: filled,
    avgPx: o.filled_avg_price === null || filled.isZero() ? undefined : Price.of(o.filled_avg_price),
    limitPrice: o.limit_price === null ? undefined : Price.of(o.limit_price),
    stopPrice: o.stop_price === null ? undefined : Price.of(o.stop_price),
    status: reportStatusOf(o.status, o.filled_qty),
    parentClientOrderId: parent,
    tsLast: rfc3339ToNs(o.updated_at),
  });
}
