import { OmsError } from './errors.js';
import type { OrderStatusKind } from './status.js';

/** What happens to an order: venue answers, fills, and local requests. */
export type OrderEventKind = 'acknowledge' | 'partialFill' | 'fill' | 'cancel' | 'reject' | 'expire';

/** A state machine as data: `table[from][event] = to`; a pair not listed is an invalid transition. */
export type TransitionTable<S extends string = string, E extends string = string> = Readonly<
  Record<S, Readonly<Partial<Record<E, S>>>>
>;

/**
 * The one order transition table (`from -> event -> to`). A fill racing a cancel or an expiry is a
 * real world possibility (NautilusTrader keeps `(Canceled, Filled) => Filled`): the venue decides,
 * so the fill is applied; a complete fill makes the order Filled, a partial one leaves it Cancelled
 * (or Expired) with the larger filled quantity.
 */
export const ORDER_TRANSITIONS: TransitionTable<OrderStatusKind, OrderEventKind> = deepFreeze({
  New: {
    acknowledge: 'Acknowledged',
    partialFill: 'PartiallyFilled',
    fill: 'Filled',
    cancel: 'Cancelled',
    reject: 'Rejected',
    expire: 'Expired',
  },
  Acknowledged: {
    partialFill: 'PartiallyFilled',
    fill: 'Filled',
    cancel: 'Cancelled',
    reject: 'Rejected',
    expire: 'Expired',
  },
  PartiallyFilled: {
    partialFill: 'PartiallyFilled',
    fill: 'Filled',
    cancel: 'Cancelled',
    expire: 'Expired',
  },
  Filled: {},
  Cancelled: {
    partialFill: 'Cancelled',
    fill: 'Filled',
  },
  Rejected: {},
  Expired: {
    partialFill: 'Expired',
    fill: 'Filled',
  },
});

/**
 * The state after `event` in `from`, looked up in `table` (default ORDER_TRANSITIONS).
 * @throws OmsError InvalidTransition when the table has no such pair
 */
export function transition<S extends string, E extends string>(
  from: S,
  event: E,
  table: TransitionTable<S, E> = ORDER_TRANSITIONS as unknown as TransitionTable<S, E>,
): S {
  const row = table[from] as Readonly<Partial<Record<E, S>>> | undefined;
  const to = row?.[event];
  if (to === undefined) {
    throw new OmsError('InvalidTransition', `order in state ${from} cannot take event ${event}`);
  }
  return to;
}

/** Whether `table` lists `event` in state `from`. */
export function canTransition<S extends string, E extends string>(
  from: S,
  event: E,
  table: TransitionTable<S, E> = ORDER_TRANSITIONS as unknown as TransitionTable<S, E>,
): boolean {
  const row = table[from] as Readonly<Partial<Record<E, S>>> | undefined;
  return row?.[event] !== undefined;
}

/**
 * A new table: `base` with `additions` merged in (new states, new events, overridden pairs), for
 * engines that add states such as PENDING or SUBMITTED without forking the base table.
 */
export function extendTransitions<S extends string, E extends string, S2 extends string, E2 extends string>(
  base: TransitionTable<S, E>,
  additions: Readonly<Partial<Record<S | S2, Readonly<Partial<Record<E | E2, S | S2>>>>>>,
): TransitionTable<S | S2, E | E2> {
  const out: Record<string, Record<string, string>> = {};
  for (const [from, row] of Object.entries(base)) out[from] = { ...(row as Record<string, string>) };
  for (const [from, row] of Object.entries(additions)) {
    out[from] = { ...(out[from] ?? {}), ...(row as Record<string, string>) };
  }
  return deepFreeze(out) as unknown as TransitionTable<S | S2, E | E2>;
}

function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (typeof v === 'object' && v !== null) Object.freeze(v);
  return Object.freeze(o);
}
