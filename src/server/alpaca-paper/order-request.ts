import { Price } from '../../core/decimal.js';
import type { AlpacaOrderType, AlpacaSide, AlpacaTimeInForce } from '../../venues/alpaca/protocol.js';
import { ApiError } from './errors.js';

/** A validated `POST /v2/orders` body; decimals are canonical strings (no trailing zeros). */
export interface ParsedOrder {
  readonly symbol: string;
  readonly qty: string | undefined;
  readonly notional: string | undefined;
  readonly side: AlpacaSide;
  readonly type: AlpacaOrderType;
  readonly timeInForce: AlpacaTimeInForce;
  readonly limitPrice: string | undefined;
  readonly stopPrice: string | undefined;
  readonly extendedHours: boolean;
  readonly clientOrderId: string | undefined;
  readonly orderClass: 'simple' | 'bracket';
  readonly takeProfit: string | undefined;
  readonly stopLoss: string | undefined;
}

const FIELDS = new Set([
  'symbol',
  'qty',
  'notional',
  'side',
  'type',
  'time_in_force',
  'limit_price',
  'stop_price',
  'extended_hours',
  'client_order_id',
  'order_class',
  'take_profit',
  'stop_loss',
]);
const SIDES: readonly AlpacaSide[] = ['buy', 'sell'];
const TYPES: readonly AlpacaOrderType[] = ['market', 'limit', 'stop', 'stop_limit'];
const TIFS: readonly AlpacaTimeInForce[] = ['day', 'gtc', 'opg', 'cls', 'ioc', 'fok'];
const SYMBOL_RE = /^[A-Z][A-Z0-9.]{0,15}$/;
const DECIMAL_RE = /^\d+(\.\d+)?$/;

function bad(message: string): never {
  throw new ApiError('Unprocessable', message);
}

/** Canonical form of a plain decimal: no leading zeros, no trailing fraction zeros. */
export function canonicalDecimal(text: string): string {
  let [int = '0', frac = ''] = text.split('.');
  int = int.replace(/^0+(?=\d)/, '');
  frac = frac.replace(/0+$/, '');
  return frac === '' ? int : `${int}.${frac}`;
}

/** A positive decimal field (JSON string or number) with at most `maxDigits` fraction digits, canonical. */
function decimalField(body: Record<string, unknown>, field: string, maxDigits: number): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  const text = typeof v === 'number' && Number.isFinite(v) ? String(v) : v;
  if (typeof text !== 'string' || !DECIMAL_RE.test(text)) bad(`invalid ${field}: ${JSON.stringify(v)} is not a decimal number`);
  const c = canonicalDecimal(text);
  if (/^0(\.0*)?$/.test(c)) bad(`invalid ${field}: must be positive, got ${JSON.stringify(v)}`);
  const digits = c.includes('.') ? c.length - c.indexOf('.') - 1 : 0;
  if (digits > maxDigits) bad(`invalid ${field}: ${JSON.stringify(v)} has more than ${maxDigits} decimal places`);
  return c;
}

/** A price field: Alpaca's sub-penny rule (2 decimals at or above $1, 4 below). */
function priceField(body: Record<string, unknown>, field: string, label = field): string | undefined {
  const p = decimalField(body, field, 4);
  if (p === undefined) return undefined;
  const digits = p.includes('.') ? p.length - p.indexOf('.') - 1 : 0;
  if (digits > 2 && !p.startsWith('0.')) bad(`invalid ${label}: sub-penny increment ${p} does not fulfill the minimum pricing criteria`);
  return p;
}

function oneOf<T extends string>(body: Record<string, unknown>, field: string, values: readonly T[]): T {
  const v = body[field];
  if (v === undefined || v === null) bad(`${field} is required`);
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) bad(`invalid ${field}: ${JSON.stringify(v)} is not one of ${values.join(', ')}`);
  return v as T;
}

function subObject(body: Record<string, unknown>, field: string, allowed: readonly string[]): Record<string, unknown> | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) bad(`invalid ${field}: must be an object`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!allowed.includes(k)) bad(`invalid ${field}: unknown field ${JSON.stringify(`${field}.${k}`)}`);
  return o;
}

/**
 * Validates a `POST /v2/orders` body strictly: unknown fields, wrong types, bad decimals, qty with
 * notional, notional on a non-market order, prices a type does not take, unsupported classes and
 * time-in-force values are refused. `null` is read as absent.
 * @throws ApiError Unprocessable (422) naming the field
 */
export function parseOrderBody(body: unknown, options: { fractional: boolean }): ParsedOrder {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) bad('request body must be a JSON object');
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (!FIELDS.has(k)) bad(`unknown field ${JSON.stringify(k)}`);
  const symbol = b.symbol;
  if (symbol === undefined || symbol === null) bad('symbol is required');
  if (typeof symbol !== 'string' || !SYMBOL_RE.test(symbol)) bad(`invalid symbol: ${JSON.stringify(symbol)}`);
  const side = oneOf(b, 'side', SIDES);
  const type = oneOf(b, 'type', TYPES);
  const timeInForce = oneOf(b, 'time_in_force', TIFS);
  if (timeInForce === 'opg' || timeInForce === 'cls') bad(`invalid time_in_force: ${timeInForce} (auction orders) is not supported by this paper venue`);
  const qty = decimalField(b, 'qty', 9);
  const notional = decimalField(b, 'notional', 2);
  if (qty !== undefined && notional !== undefined) bad('qty and notional cannot both be given');
  if (qty === undefined && notional === undefined) bad('qty or notional is required');
  const fractionalQty = qty !== undefined && qty.includes('.');
  if (fractionalQty && !options.fractional) bad(`invalid qty: fractional quantity ${qty} is not allowed (fractional trading is off)`);
  if (notional !== undefined && !options.fractional) bad('invalid notional: notional orders need fractional trading, which is off');
  if (notional !== undefined && type !== 'market') bad(`invalid notional: notional orders must be market orders, got type ${type}`);
  if ((notional !== undefined || fractionalQty) && timeInForce !== 'day') bad(`invalid time_in_force: fractional and notional orders must be day orders, got ${timeInForce}`);
  const limitPrice = priceField(b, 'limit_price');
  const stopPrice = priceField(b, 'stop_price');
  const needsLimit = type === 'limit' || type === 'stop_limit';
  const needsStop = type === 'stop' || type === 'stop_limit';
  if (needsLimit && limitPrice === undefined) bad(`limit_price is required for ${type} orders`);
  if (!needsLimit && limitPrice !== undefined) bad(`invalid limit_price: ${type} orders take no limit_price`);
  if (needsStop && stopPrice === undefined) bad(`stop_price is required for ${type} orders`);
  if (!needsStop && stopPrice !== undefined) bad(`invalid stop_price: ${type} orders take no stop_price`);
  if (needsStop && (timeInForce === 'ioc' || timeInForce === 'fok')) bad(`invalid time_in_force: ${timeInForce} is not supported for ${type} orders`);
  const eh = b.extended_hours;
  if (eh !== undefined && eh !== null && typeof eh !== 'boolean') bad(`invalid extended_hours: ${JSON.stringify(eh)} is not a boolean`);
  const extendedHours = eh === true;
  if (extendedHours && (type !== 'limit' || timeInForce !== 'day')) bad('invalid extended_hours: extended hours orders must be day limit orders');
  const cid = b.client_order_id;
  if (cid !== undefined && cid !== null && (typeof cid !== 'string' || cid.length === 0 || cid.length > 128)) {
    bad(`invalid client_order_id: must be a string of 1 to 128 characters, got ${JSON.stringify(cid)}`);
  }
  const oc = b.order_class;
  if (oc !== undefined && oc !== null && (typeof oc !== 'string' || !['simple', 'bracket', 'oco', 'oto'].includes(oc))) {
    bad(`invalid order_class: ${JSON.stringify(oc)} is not one of simple, bracket, oco, oto`);
  }
  if (oc === 'oco' || oc === 'oto') bad(`invalid order_class: ${oc} is not supported by this paper venue (simple and bracket are)`);
  const orderClass = oc === 'bracket' ? 'bracket' : 'simple';
  const tp = subObject(b, 'take_profit', ['limit_price']);
  const sl = subObject(b, 'stop_loss', ['stop_price', 'limit_price']);
  let takeProfit: string | undefined;
  let stopLoss: string | undefined;
  if (orderClass === 'simple') {
    if (tp !== undefined) bad('invalid take_profit: only bracket orders take take_profit');
    if (sl !== undefined) bad('invalid stop_loss: only bracket orders take stop_loss');
  } else {
    if (tp === undefined) bad('take_profit is required for bracket orders');
    if (sl === undefined) bad('stop_loss is required for bracket orders');
    takeProfit = priceField(tp, 'limit_price', 'take_profit.limit_price');
    stopLoss = priceField(sl, 'stop_price', 'stop_loss.stop_price');
    if (takeProfit === undefined) bad('take_profit.limit_price is required');
    if (stopLoss === undefined) bad('stop_loss.stop_price is required');
    if (sl.limit_price !== undefined && sl.limit_price !== null) bad('invalid stop_loss.limit_price: stop-limit exit legs are not supported by this paper venue');
    if (type !== 'market' && type !== 'limit') bad(`invalid type: bracket orders must be market or limit orders, got ${type}`);
    if (timeInForce !== 'day' && timeInForce !== 'gtc') bad(`invalid time_in_force: bracket orders must be day or gtc, got ${timeInForce}`);
    if (notional !== undefined || fractionalQty) bad('invalid qty: bracket orders need a whole-share qty');
    const tpN = Price.of(takeProfit);
    const slN = Price.of(stopLoss);
    if (side === 'buy' ? !tpN.gt(slN) : !tpN.lt(slN)) {
      bad(`invalid take_profit.limit_price: ${takeProfit} must be ${side === 'buy' ? 'above' : 'below'} stop_loss.stop_price ${stopLoss} for a ${side}`);
    }
    if (limitPrice !== undefined) {
      const l = Price.of(limitPrice);
      if (side === 'buy' ? !(slN.lt(l) && l.lt(tpN)) : !(tpN.lt(l) && l.lt(slN))) {
        bad(`invalid take_profit.limit_price: take_profit ${takeProfit} and stop_loss ${stopLoss} must lie on either side of limit_price ${limitPrice}`);
      }
    }
  }
  return {
    symbol,
    qty,
    notional,
    side,
    type,
    timeInForce,
    limitPrice,
    stopPrice,
    extendedHours,
    clientOrderId: typeof cid === 'string' ? cid : undefined,
    orderClass,
    takeProfit,
    stopLoss,
  };
}

/**
 * Validates a `PATCH /v2/orders/{id}` body: qty, limit_price, stop_price, client_order_id; at least one
 * change; time_in_force only as an unchanged value is not supported and refused.
 * @throws ApiError Unprocessable (422) naming the field
 */
export function parseReplaceBody(body: unknown): { qty?: string; limitPrice?: string; stopPrice?: string; clientOrderId?: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) bad('request body must be a JSON object');
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) {
    if (k === 'time_in_force' || k === 'trail') bad(`invalid ${k}: changing it is not supported by this paper venue`);
    if (!['qty', 'limit_price', 'stop_price', 'client_order_id'].includes(k)) bad(`unknown field ${JSON.stringify(k)}`);
  }
  const qty = decimalField(b, 'qty', 9);
  const limitPrice = priceField(b, 'limit_price');
  const stopPrice = priceField(b, 'stop_price');
  const cid = b.client_order_id;
  if (cid !== undefined && cid !== null && (typeof cid !== 'string' || cid.length === 0 || cid.length > 128)) {
    bad(`invalid client_order_id: must be a string of 1 to 128 characters, got ${JSON.stringify(cid)}`);
  }
  if (qty === undefined && limitPrice === undefined && stopPrice === undefined) bad('nothing to replace: give qty, limit_price or stop_price');
  return {
    ...(qty === undefined ? {} : { qty }),
    ...(limitPrice === undefined ? {} : { limitPrice }),
    ...(stopPrice === undefined ? {} : { stopPrice }),
    ...(typeof cid === 'string' ? { clientOrderId: cid } : {}),
  };
}
