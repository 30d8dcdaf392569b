import { MAX_PRECISION, Price, Quantity } from '../../core/decimal.js';
import { AxonError } from '../../core/errors.js';
import { Money } from '../../core/money.js';
import type { VenueEvent } from '../../model/order.js';
import { SimulatedVenueError } from './errors.js';

/** An exact decimal as a scaled integer: value = raw / 10^precision. */
export interface DecimalState {
  readonly raw: bigint;
  readonly precision: number;
}

/** An exact amount of money as a scaled integer and its currency. */
export interface MoneyState {
  readonly raw: bigint;
  readonly precision: number;
  readonly currency: string;
}

/** A venue event as plain data: its fields in their order, Price and Quantity as DecimalState, Money as MoneyState. */
export type VenueEventState = Readonly<Record<string, unknown>> & { readonly kind: VenueEvent['kind'] };

type FieldType = 'string' | 'bigint' | 'decimal' | 'money' | 'string?' | 'price?' | 'price' | 'quantity';

// field order is the order the venues build events in, so a decoded event serializes byte-identically
const EVENT_FIELDS: Readonly<Record<VenueEvent['kind'], readonly (readonly [string, FieldType])[]>> = {
  accepted: [['clientOrderId', 'string'], ['venueOrderId', 'string'], ['tsEvent', 'bigint'], ['tsInit', 'bigint']],
  rejected: [['clientOrderId', 'string'], ['reason', 'string'], ['tsEvent', 'bigint'], ['tsInit', 'bigint']],
  filled: [
    ['clientOrderId', 'string'],
    ['venueOrderId', 'string'],
    ['tradeId', 'string'],
    ['symbol', 'string'],
    ['side', 'string'],
    ['lastQty', 'quantity'],
    ['lastPx', 'price'],
    ['commission', 'money'],
    ['liquiditySide', 'string'],
    ['leavesQty', 'quantity'],
    ['tsEvent', 'bigint'],
    ['tsInit', 'bigint'],
  ],
  canceled: [['clientOrderId', 'string'], ['venueOrderId', 'string?'], ['reason', 'string'], ['tsEvent', 'bigint'], ['tsInit', 'bigint']],
  'cancel-rejected': [['clientOrderId', 'string'], ['reason', 'string'], ['tsEvent', 'bigint'], ['tsInit', 'bigint']],
  expired: [['clientOrderId', 'string'], ['venueOrderId', 'string?'], ['tsEvent', 'bigint'], ['tsInit', 'bigint']],
  modified: [
    ['clientOrderId', 'string'],
    ['venueOrderId', 'string'],
    ['quantity', 'quantity'],
    ['limitPrice', 'price?'],
    ['stopPrice', 'price?'],
    ['tsEvent', 'bigint'],
    ['tsInit', 'bigint'],
  ],
  'position-changed': [['symbol', 'string'], ['signedQty', 'string'], ['tsEvent', 'bigint'], ['tsInit', 'bigint']],
};

/** Throws InvalidState naming the place in the state (`where`) and what is wrong with it. */
export function invalidState(where: string, what: string): never {
  throw new SimulatedVenueError('InvalidState', `${where}: ${what}`);
}

/** Reads fields of an untrusted decoded state, throwing InvalidState with the field's path on anything unexpected. */
export class StateReader {
  constructor(readonly where: string) {}

  /** A reader for a nested field or element. */
  at(key: string | number): StateReader {
    return new StateReader(typeof key === 'number' ? `${this.where}[${key}]` : `${this.where}.${key}`);
  }

  record(v: unknown, keys?: readonly string[]): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) invalidState(this.where, `expected an object, got ${kindOf(v)}`);
    const r = v as Record<string, unknown>;
    if (keys !== undefined) {
      const extra = Object.keys(r).filter((k) => !keys.includes(k));
      if (extra.length > 0) invalidState(this.where, `unknown field ${extra.join(', ')}`);
    }
    return r;
  }

  array(v: unknown): readonly unknown[] {
    if (!Array.isArray(v)) invalidState(this.where, `expected an array, got ${kindOf(v)}`);
    return v;
  }

  string(v: unknown): string {
    if (typeof v !== 'string') invalidState(this.where, `expected a string, got ${kindOf(v)}`);
    return v;
  }

  optString(v: unknown): string | undefined {
    return v === undefined ? undefined : this.string(v);
  }

  oneOf<T extends string>(v: unknown, allowed: readonly T[]): T {
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) invalidState(this.where, `expected one of ${allowed.join(', ')}, got ${describeValue(v)}`);
    return v as T;
  }

  boolean(v: unknown): boolean {
    if (typeof v !== 'boolean') invalidState(this.where, `expected a boolean, got ${kindOf(v)}`);
    return v;
  }

  /** A safe integer >= min. */
  int(v: unknown, min = 0): number {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) invalidState(this.where, `expected an integer >= ${min}, got ${describeValue(v)}`);
    return v;
  }

  finite(v: unknown): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) invalidState(this.where, `expected a finite number, got ${describeValue(v)}`);
    return v;
  }

  bigint(v: unknown): bigint {
    if (typeof v !== 'bigint') invalidState(this.where, `expected a bigint, got ${kindOf(v)}`);
    return v;
  }

  optBigint(v: unknown): bigint | undefined {
    return v === undefined ? undefined : this.bigint(v);
  }

  decimal(v: unknown): DecimalState {
    const r = this.record(v, ['raw', 'precision']);
    return { raw: this.at('raw').bigint(r.raw), precision: this.at('precision').precision(r.precision) };
  }

  money(v: unknown): Money {
    const r = this.record(v, ['raw', 'precision', 'currency']);
    const raw = this.at('raw').bigint(r.raw);
    const precision = this.at('precision').precision(r.precision);
    const currency = this.at('currency').string(r.currency);
    return this.wrap(() => Money.fromRaw(raw, precision, currency));
  }

  optMoney(v: unknown): Money | undefined {
    return v === undefined ? undefined : this.money(v);
  }

  precision(v: unknown): number {
    const p = this.int(v);
    if (p > 2 * MAX_PRECISION) invalidState(this.where, `precision ${p} exceeds ${2 * MAX_PRECISION}`);
    return p;
  }

  /** Runs a constructor, turning its AxonError into InvalidState at this path. */
  wrap<T>(build: () => T): T {
    try {
      return build();
    } catch (e) {
      if (e instanceof AxonError) invalidState(this.where, e.message);
      throw e;
    }
  }
}

/** Money as plain data (raw, precision and currency kept, so it prints the same after a round trip). */
export function moneyState(m: Money): MoneyState {
  return { raw: m.raw, precision: m.precision, currency: m.currency };
}

/** A venue event as plain data for a checkpoint. */
export function eventState(e: VenueEvent): VenueEventState {
  const out: Record<string, unknown> = { kind: e.kind };
  for (const [key, type] of EVENT_FIELDS[e.kind]) {
    const v = (e as unknown as Record<string, unknown>)[key];
    if (type === 'money') out[key] = moneyState(v as Money);
    else if (type === 'price' || type === 'quantity' || type === 'price?') {
      out[key] = v === undefined ? undefined : { raw: (v as Price).raw, precision: (v as Price).precision };
    } else out[key] = v;
  }
  return out as VenueEventState;
}

/** Rebuilds a frozen venue event from `eventState` output. @throws SimulatedVenueError InvalidState */
export function eventFromState(v: unknown, read: StateReader = new StateReader('venue event')): VenueEvent {
  const r = read.record(v);
  const kind = read.at('kind').oneOf(r.kind, Object.keys(EVENT_FIELDS) as VenueEvent['kind'][]);
  const fields = EVENT_FIELDS[kind];
  read.record(v, ['kind', ...fields.map(([k]) => k)]);
  const out: Record<string, unknown> = { kind };
  for (const [key, type] of fields) {
    const f = read.at(key);
    const x = r[key];
    switch (type) {
      case 'string':
        out[key] = f.string(x);
        break;
      case 'string?':
        out[key] = f.optString(x);
        break;
      case 'bigint':
        out[key] = f.bigint(x);
        break;
      case 'money':
        out[key] = f.money(x);
        break;
      case 'quantity': {
        const d = f.decimal(x);
        out[key] = f.wrap(() => Quantity.fromRaw(d.raw, d.precision));
        break;
      }
      case 'price':
      case 'price?': {
        if (type === 'price?' && x === undefined) {
          out[key] = undefined;
          break;
        }
        const d = f.decimal(x);
        out[key] = Price.fromRaw(d.raw, d.precision);
        break;
      }
      default:
        break;
    }
  }
  if (kind === 'filled') {
    read.at('side').oneOf(out.side, ['Buy', 'Sell']);
    read.at('liquiditySide').oneOf(out.liquiditySide, ['Maker', 'Taker']);
  }
  return Object.freeze(out) as unknown as VenueEvent;
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}

function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return kindOf(v);
}
