import { AxonError } from '../core/errors.js';
import { frozenData } from '../core/frozen.js';
import type { ClientOrderId } from '../core/ids.js';
import type { VenueEvent } from '../model/order.js';
import type { TransitionTable } from '../oms/transitions.js';
import type { OrderStatusKind } from '../oms/status.js';

/** Stable error codes of the execution layer. */
export type ExecutionErrorCode =
  | 'InvalidTransition'
  | 'UnknownOrder'
  | 'DuplicateOrder'
  | 'InvalidConfig'
  | 'InvalidState'
  | 'InvalidSnapshot';

/** Error raised by the engine's order state machine and the entry escalator. */
export class ExecutionError extends AxonError<ExecutionErrorCode> {
  override readonly name = 'ExecutionError';
}

/** The engine's order states (the seed's lifecycle plus EXPIRED from the OMS). */
export type EngineOrderState =
  | 'PENDING'
  | 'SUBMITTED'
  | 'ACCEPTED'
  | 'PARTIALLY_FILLED'
  | 'FILLED'
  | 'REPRICING'
  | 'ESCALATING'
  | 'CANCELED'
  | 'REJECTED'
  | 'EXPIRED';

/** Every engine order state, in lifecycle order. */
export const ENGINE_ORDER_STATES: readonly EngineOrderState[] = Object.freeze([
  'PENDING',
  'SUBMITTED',
  'ACCEPTED',
  'PARTIALLY_FILLED',
  'FILLED',
  'REPRICING',
  'ESCALATING',
  'CANCELED',
  'REJECTED',
  'EXPIRED',
]);

/**
 * What happens to an order. Local requests: submit, reprice (cancel to replace at a new limit),
 * escalate (cancel to replace with a market order), cancel (plain cancel request), timeout (a request
 * whose outcome is unknown). Venue answers: ack, partialFill (leaves > 0), fill (leaves = 0),
 * canceled (confirmed), cancelReject, reject, expire.
 */
export type EngineOrderEvent =
  | 'submit'
  | 'ack'
  | 'partialFill'
  | 'fill'
  | 'reprice'
  | 'escalate'
  | 'cancel'
  | 'canceled'
  | 'cancelReject'
  | 'reject'
  | 'expire'
  | 'timeout';

/** Every engine order event. */
export const ENGINE_ORDER_EVENTS: readonly EngineOrderEvent[] = Object.freeze([
  'submit',
  'ack',
  'partialFill',
  'fill',
  'reprice',
  'escalate',
  'cancel',
  'canceled',
  'cancelReject',
  'reject',
  'expire',
  'timeout',
]);

const TERMINAL_STATES: ReadonlySet<EngineOrderState> = new Set<EngineOrderState>(['FILLED', 'CANCELED', 'REJECTED', 'EXPIRED']);

/** Whether an engine state ends the order's life at the venue (FILLED, CANCELED, REJECTED, EXPIRED). */
export function isTerminalEngineState(state: EngineOrderState): boolean {
  return TERMINAL_STATES.has(state);
}

/**
 * The engine's one order transition table (`from -> event -> to`); a pair not listed is an invalid
 * transition. It is its own table rather than `extendTransitions(ORDER_TRANSITIONS, ...)`: the OMS
 * names states New/Acknowledged/Cancelled and has one `cancel` event meaning "cancelled", while the
 * engine must tell a cancel request from its confirmation and needs REPRICING/ESCALATING, so an
 * extension would hold two names for the same state. Instead every state maps onto an OMS kind
 * (`omsStatusKind`) and a test checks that venue answers move the two tables alike.
 *
 * A plain `cancel` request, a `timeout` and a `cancelReject` leave the state as it is: until the
 * venue confirms, the order is live and may fill.
 */
export const ENGINE_ORDER_TRANSITIONS: TransitionTable<EngineOrderState, EngineOrderEvent> = freezeTable({
  PENDING: {
    submit: 'SUBMITTED',
    // refused or dropped before it was sent
    reject: 'REJECTED',
    cancel: 'CANCELED',
  },
  SUBMITTED: {
    ack: 'ACCEPTED',
    // venues that skip the ack and report the fill first
    partialFill: 'PARTIALLY_FILLED',
    fill: 'FILLED',
    reject: 'REJECTED',
    reprice: 'REPRICING',
    escalate: 'ESCALATING',
    cancel: 'SUBMITTED',
    canceled: 'CANCELED',
    cancelReject: 'SUBMITTED',
    expire: 'EXPIRED',
    // unknown outcome: never assumed rejected; the order is queried by its client order id
    timeout: 'SUBMITTED',
  },
  ACCEPTED: {
    partialFill: 'PARTIALLY_FILLED',
    fill: 'FILLED',
    reprice: 'REPRICING',
    escalate: 'ESCALATING',
    cancel: 'ACCEPTED',
    canceled: 'CANCELED',
    cancelReject: 'ACCEPTED',
    reject: 'REJECTED',
    expire: 'EXPIRED',
    timeout: 'ACCEPTED',
    // duplicate ack
    ack: 'ACCEPTED',
  },
  PARTIALLY_FILLED: {
    partialFill: 'PARTIALLY_FILLED',
    fill: 'FILLED',
    reprice: 'REPRICING',
    escalate: 'ESCALATING',
    cancel: 'PARTIALLY_FILLED',
    canceled: 'CANCELED',
    cancelReject: 'PARTIALLY_FILLED',
    expire: 'EXPIRED',
    timeout: 'PARTIALLY_FILLED',
    // real world possibility: the ack arrives after the first fill
    ack: 'PARTIALLY_FILLED',
  },
  REPRICING: {
    // real world possibility: fills while the cancel is in flight are honoured
    partialFill: 'REPRICING',
    fill: 'FILLED',
    canceled: 'CANCELED',
    // the cancel was refused while the order is still live: keep waiting, the cancel is retried
    cancelReject: 'REPRICING',
    cancel: 'REPRICING',
    reject: 'REJECTED',
    expire: 'EXPIRED',
    timeout: 'REPRICING',
    // the reprice was decided before the ack arrived
    ack: 'REPRICING',
  },
  ESCALATING: {
    partialFill: 'ESCALATING',
    fill: 'FILLED',
    canceled: 'CANCELED',
    cancelReject: 'ESCALATING',
    cancel: 'ESCALATING',
    reject: 'REJECTED',
    expire: 'EXPIRED',
    timeout: 'ESCALATING',
    ack: 'ESCALATING',
  },
  FILLED: {
    // real world possibility: the ack arrives after the fill
    ack: 'FILLED',
    // real world possibility: a cancel that crossed the fill is refused because the order filled
    cancelReject: 'FILLED',
  },
  CANCELED: {
    // real world possibility (NautilusTrader's (Canceled, Filled) => Filled): a fill after the cancel
    // is the venue's truth; a complete one makes the order FILLED, a partial one keeps it CANCELED
    // (not live any more) with a larger filled quantity, as the OMS's Cancelled + partialFill
    fill: 'FILLED',
    partialFill: 'CANCELED',
    // late ack, repeated confirmation, a second cancel request refused
    ack: 'CANCELED',
    canceled: 'CANCELED',
    cancelReject: 'CANCELED',
  },
  REJECTED: {},
  EXPIRED: {
    // real world possibility: a fill racing the expiry
    fill: 'FILLED',
    partialFill: 'EXPIRED',
    ack: 'EXPIRED',
    cancelReject: 'EXPIRED',
  },
});

/**
 * The state after `event` in `from`, looked up in the engine table.
 * @throws ExecutionError InvalidTransition when the table has no such pair
 */
export function nextEngineState(from: EngineOrderState, event: EngineOrderEvent, clientOrderId?: string): EngineOrderState {
  const to = ENGINE_ORDER_TRANSITIONS[from][event];
  if (to === undefined) {
    const who = clientOrderId === undefined ? 'order' : `order ${clientOrderId}`;
    throw new ExecutionError('InvalidTransition', `${who} in state ${from} cannot take event ${event}`);
  }
  return to;
}

/**
 * The OMS status kind of an engine state. REPRICING and ESCALATING are working orders with a cancel
 * in flight, so their kind depends on what the venue has said so far: PartiallyFilled with fills,
 * else Acknowledged once acked, else New.
 */
export function omsStatusKind(state: EngineOrderState, facts: { readonly hasFills: boolean; readonly acknowledged: boolean }): OrderStatusKind {
  switch (state) {
    case 'PENDING':
    case 'SUBMITTED':
      return 'New';
    case 'ACCEPTED':
      return 'Acknowledged';
    case 'PARTIALLY_FILLED':
      return 'PartiallyFilled';
    case 'REPRICING':
    case 'ESCALATING':
      return facts.hasFills ? 'PartiallyFilled' : facts.acknowledged ? 'Acknowledged' : 'New';
    case 'FILLED':
      return 'Filled';
    case 'CANCELED':
      return 'Cancelled';
    case 'REJECTED':
      return 'Rejected';
    case 'EXPIRED':
      return 'Expired';
  }
}

/** A JSON-friendly account of what caused a transition (a venue event's fields, or a local cause), for the audit trail. */
export type TransitionCause = Readonly<Record<string, string>>;

/** One transition of one order, as handed to the audit trail. */
export interface OrderTransition {
  readonly clientOrderId: ClientOrderId;
  readonly from: EngineOrderState;
  readonly to: EngineOrderState;
  readonly event: EngineOrderEvent;
  readonly reason: string;
  /** When it happened, epoch ns. */
  readonly tsNs: bigint;
  readonly cause: TransitionCause;
}

/** The engine event a venue event stands for (fills by leaves quantity), or undefined for events that do not move an order. */
export function engineEventOf(e: VenueEvent): EngineOrderEvent | undefined {
  switch (e.kind) {
    case 'accepted':
      return 'ack';
    case 'filled':
      return e.leavesQty.isZero() ? 'fill' : 'partialFill';
    case 'canceled':
      return 'canceled';
    case 'cancel-rejected':
      return 'cancelReject';
    case 'rejected':
      return 'reject';
    case 'expired':
      return 'expire';
    case 'modified':
    case 'position-changed':
      return undefined;
  }
}

/** The audit cause of a venue event: its kind, ids, times and amounts as strings. */
export function causeOfVenueEvent(e: VenueEvent): TransitionCause {
  const c: Record<string, string> = { source: 'venue', kind: e.kind, tsEvent: e.tsEvent.toString() };
  switch (e.kind) {
    case 'accepted':
      c.venueOrderId = e.venueOrderId;
      break;
    case 'filled':
      c.venueOrderId = e.venueOrderId;
      c.tradeId = e.tradeId;
      c.lastQty = e.lastQty.toString();
      c.lastPx = e.lastPx.toString();
      c.leavesQty = e.leavesQty.toString();
      break;
    case 'canceled':
    case 'cancel-rejected':
    case 'rejected':
      c.reason = e.reason;
      break;
    default:
      break;
  }
  return Object.freeze(c);
}

/** Plain form of an OrderTracker: each tracked order's state, by client order id (sorted). */
export type OrderTrackerState = Readonly<Record<string, EngineOrderState>>;

/**
 * Keeps each order's engine state and reports every transition through `onTransition` (the engine
 * appends them to the hash-chained audit trail). The callback runs before the state changes, so an
 * audit write that throws leaves the state as it was.
 */
export class OrderTracker {
  readonly #states = new Map<string, EngineOrderState>();
  readonly #onTransition: (t: OrderTransition) => void;

  constructor(onTransition: (t: OrderTransition) => void = () => {}) {
    this.#onTransition = onTransition;
  }

  /** Starts tracking a new order in PENDING (not a transition, so not reported). @throws ExecutionError DuplicateOrder */
  open(clientOrderId: ClientOrderId): void {
    if (this.#states.has(clientOrderId)) {
      throw new ExecutionError('DuplicateOrder', `order ${clientOrderId} is already tracked (state ${this.#states.get(clientOrderId) ?? ''})`);
    }
    this.#last = undefined;
    this.#states.set(clientOrderId, 'PENDING');
  }

  /**
   * Applies `event` to the order and returns its new state (self-transitions are reported too).
   * @throws ExecutionError UnknownOrder | InvalidTransition (the state is then unchanged)
   */
  apply(clientOrderId: ClientOrderId, event: EngineOrderEvent, detail: { reason: string; tsNs: bigint; cause: TransitionCause }): EngineOrderState {
    const from = this.#states.get(clientOrderId);
    if (from === undefined) throw new ExecutionError('UnknownOrder', `order ${clientOrderId} is not tracked; cannot apply ${event}`);
    const to = nextEngineState(from, event, clientOrderId);
    this.#onTransition(Object.freeze({ clientOrderId, from, to, event, reason: detail.reason, tsNs: detail.tsNs, cause: detail.cause }));
    this.#last = undefined;
    this.#states.set(clientOrderId, to);
    return to;
  }

  /** Whether applying `event` to the order is listed in the table (false for an unknown order). */
  canApply(clientOrderId: ClientOrderId, event: EngineOrderEvent): boolean {
    const from = this.#states.get(clientOrderId);
    return from !== undefined && ENGINE_ORDER_TRANSITIONS[from][event] !== undefined;
  }

  /** The order's state, or undefined when it is not tracked. */
  state(clientOrderId: ClientOrderId): EngineOrderState | undefined {
    return this.#states.get(clientOrderId);
  }

  /** Whether the order is tracked. */
  has(clientOrderId: ClientOrderId): boolean {
    return this.#states.has(clientOrderId);
  }

  /** Number of tracked orders. */
  get size(): number {
    return this.#states.size;
  }

  /** Stops tracking a terminal order (to bound memory). @throws ExecutionError InvalidState when it is not terminal */
  forget(clientOrderId: ClientOrderId): void {
    const s = this.#states.get(clientOrderId);
    if (s === undefined) return;
    if (!isTerminalEngineState(s)) throw new ExecutionError('InvalidState', `order ${clientOrderId} is ${s}, not terminal; it cannot be forgotten`);
    this.#last = undefined;
    this.#states.delete(clientOrderId);
  }

  /** Every tracked order's state, keyed by client order id in sorted order. */
  snapshot(): OrderTrackerState {
    if (this.#last !== undefined) return this.#last;
    const ids = [...this.#states.keys()].sort();
    const out: Record<string, EngineOrderState> = {};
    for (const id of ids) out[id] = this.#states.get(id) as EngineOrderState;
    this.#last = frozenData(out);
    return out;
  }
  /** The last snapshot (frozenData), returned again until a state changes: a checkpoint stores it once. */
  #last: OrderTrackerState | undefined;

  /** Replaces the tracked states with a snapshot, all or nothing. @throws ExecutionError InvalidSnapshot */
  restore(state: OrderTrackerState): void {
    if (typeof state !== 'object' || state === null || Array.isArray(state)) {
      throw new ExecutionError('InvalidSnapshot', 'order tracker snapshot must be an object of client order id -> state');
    }
    const next = new Map<string, EngineOrderState>();
    for (const [id, s] of Object.entries(state as Record<string, unknown>)) {
      if (typeof s !== 'string' || !(ENGINE_ORDER_STATES as readonly string[]).includes(s)) {
        throw new ExecutionError('InvalidSnapshot', `order tracker snapshot: order ${id} has unknown state ${JSON.stringify(s)}`);
      }
      next.set(id, s as EngineOrderState);
    }
    this.#last = undefined;
    this.#states.clear();
    for (const [id, s] of next) this.#states.set(id, s);
  }
}

function freezeTable<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (typeof v === 'object' && v !== null) Object.freeze(v);
  return Object.freeze(o);
}
