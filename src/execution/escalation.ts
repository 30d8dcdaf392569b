import { Price, Quantity } from '../core/decimal.js';
import type { Clock, TimerId } from '../core/clock.js';
import type { ClientOrderId } from '../core/ids.js';
import type { Side, VenueEvent } from '../model/order.js';
import {
  causeOfVenueEvent,
  engineEventOf,
  ExecutionError,
  isTerminalEngineState,
  type EngineOrderEvent,
  type OrderTracker,
} from './order-states.js';

/** Timing and attempt limits of an entry escalation; times in ns. */
export interface EscalationConfig {
  /** How long the first limit may work before it is cancelled and repriced, ns (default 2 s). */
  readonly firstTimeoutNs: bigint;
  /** How long each later order (reprice, market) may work before the next step, ns (default 2 s). */
  readonly secondTimeoutNs: bigint;
  /** Most orders sent for one entry (default 3: limit, reprice, market); then the entry gives up. */
  readonly maxAttempts: number;
  /** Wait before repeating a cancel the venue refused while the order still looked live, ns (default 1 s). */
  readonly cancelRetryNs: bigint;
  /** Refused cancels repeated before giving up and leaving the order to reconciliation (default 3). */
  readonly maxCancelRetries: number;
  /** Time out (cancel and give up on) a market order like the others (default true); false lets it fill. */
  readonly marketTimeout?: boolean;
}

/** The seed's policy: 2 s at the fair price, 2 s repriced, then market; 3 orders at most. */
export const DEFAULT_ESCALATION_CONFIG: EscalationConfig = Object.freeze({
  firstTimeoutNs: 2_000_000_000n,
  secondTimeoutNs: 2_000_000_000n,
  maxAttempts: 3,
  cancelRetryNs: 1_000_000_000n,
  maxCancelRetries: 3,
});

/**
 * A complete escalation config from partial settings over the defaults.
 * @throws ExecutionError InvalidConfig on a non-positive time or a count out of range
 */
export function escalationConfig(partial: Partial<EscalationConfig> = {}): EscalationConfig {
  const c = { ...DEFAULT_ESCALATION_CONFIG, ...partial };
  const problems: string[] = [];
  for (const k of ['firstTimeoutNs', 'secondTimeoutNs', 'cancelRetryNs'] as const) {
    if (typeof c[k] !== 'bigint' || c[k] <= 0n) problems.push(`${k} must be a positive bigint of ns, got ${String(c[k])}`);
  }
  if (!Number.isInteger(c.maxAttempts) || c.maxAttempts < 1 || c.maxAttempts > 100) problems.push(`maxAttempts must be an integer in 1..100, got ${c.maxAttempts}`);
  if (!Number.isInteger(c.maxCancelRetries) || c.maxCancelRetries < 0 || c.maxCancelRetries > 100) {
    problems.push(`maxCancelRetries must be an integer in 0..100, got ${c.maxCancelRetries}`);
  }
  if (problems.length > 0) throw new ExecutionError('InvalidConfig', `escalation config: ${problems.join('; ')}`);
  return Object.freeze(c);
}

/** The entry to work: buy or sell `quantity` of `symbol`, starting at the fair price (e.g. VWAP). */
export interface EntryRequest {
  readonly symbol: string;
  readonly side: Side;
  readonly quantity: Quantity;
  /** Fair price in quote currency; rounded to the tick in the trader's favour for the first limit. */
  readonly fairPrice: Price;
  /** The instrument's tick size. */
  readonly tickSize: Price;
}

/** An order the escalator asks the engine to send. */
export interface PortOrderRequest {
  readonly symbol: string;
  readonly side: Side;
  readonly type: 'Limit' | 'Market';
  readonly quantity: Quantity;
  readonly limitPrice?: Price;
  readonly reason: string;
}

/**
 * How the escalator reaches the venue: through the engine (which records intents, checks risk and
 * routes events back with `onEvent`), never directly.
 */
export interface OrderPort {
  /** Sends an order and returns its client order id; events the venue delivers during the call are fine. */
  send(request: PortOrderRequest): ClientOrderId;
  /** Requests a cancel; the outcome arrives as a 'canceled' or 'cancel-rejected' event. */
  cancel(clientOrderId: ClientOrderId, reason: string): void;
  /** The last trade price of `symbol`, quote currency. */
  lastTrade(symbol: string): Price;
}

/** A fill the escalator counted (after de-duplication by trade id). */
export interface EscalationFill {
  readonly clientOrderId: ClientOrderId;
  readonly tradeId: string;
  readonly quantity: Quantity;
  readonly price: Price;
  /** Total filled over all of the entry's orders after this fill. */
  readonly totalFilled: Quantity;
  /** When the escalator counted it, epoch ns. */
  readonly tsNs: bigint;
}

/** How an entry ended. */
export type EscalationOutcome = 'filled' | 'gave-up' | 'rejected';

/** Progress callbacks of an escalation. */
export interface EscalationCallbacks {
  onFill?: (fill: EscalationFill) => void;
  /** Called once; fills that arrive later (racing a cancel) are still reported through onFill. */
  onDone?: (outcome: EscalationOutcome, filledQty: Quantity) => void;
}

/** What an escalator needs from the engine. */
export interface EscalatorDeps {
  readonly clock: Clock;
  readonly port: OrderPort;
  /** The engine's order tracker (shared, so every transition lands in the audit trail). */
  readonly tracker: OrderTracker;
  readonly callbacks?: EscalationCallbacks;
}

/** Where an escalation is: not started, an order working, a cancel in flight, or finished. */
export type EscalationPhase = 'new' | 'working' | 'canceling' | 'done';

/** What follows once the cancel in flight is confirmed. */
type NextStep = 'reprice' | 'market' | 'give-up' | 'resend';

interface Leg {
  readonly id: ClientOrderId;
  readonly type: 'Limit' | 'Market';
  readonly quantity: Quantity;
  readonly limitPrice: Price | undefined;
  filled: Quantity;
  /** Terminal at the venue (filled, cancelled, rejected, expired). */
  closed: boolean;
}

type TimerKind = 'timeout' | 'cancel-retry';

/** A bigint in JSON, tagged so it is not mistaken for a number or a string. */
export interface TaggedBigint {
  readonly $bigint: string;
}

/** Plain, JSON-safe form of an EntryEscalator (decimals as strings, ns as tagged bigints). */
export interface EscalationSnapshot {
  readonly version: 1;
  readonly entry: { readonly symbol: string; readonly side: Side; readonly quantity: string; readonly fairPrice: string; readonly tickSize: string };
  readonly config: {
    readonly firstTimeoutNs: TaggedBigint;
    readonly secondTimeoutNs: TaggedBigint;
    readonly maxAttempts: number;
    readonly cancelRetryNs: TaggedBigint;
    readonly maxCancelRetries: number;
    readonly marketTimeout?: boolean;
  };
  readonly phase: EscalationPhase;
  readonly next: NextStep | null;
  readonly legs: readonly {
    readonly id: string;
    readonly type: 'Limit' | 'Market';
    readonly quantity: string;
    readonly limitPrice: string | null;
    readonly filled: string;
    readonly closed: boolean;
  }[];
  readonly timer: { readonly kind: TimerKind; readonly atNs: TaggedBigint } | null;
  readonly cancelRetries: number;
  readonly seenTradeIds: readonly string[];
  readonly outcome: EscalationOutcome | null;
}

/**
 * Drives one entry on the injected Clock: a limit at the fair price; not filled within
 * `firstTimeoutNs`, cancel and, once the cancel is confirmed, reprice the remainder halfway to the
 * last trade; each later order gets `secondTimeoutNs`; the last allowed order is a market order;
 * after `maxAttempts` orders without completion it gives up. At most one order is live at a time:
 * a replacement is sent only after the previous order is confirmed closed, and only for what is
 * still unfilled, so a fill racing a cancel never leads to a duplicate.
 */
export class EntryEscalator {
  readonly entry: EntryRequest;
  readonly config: EscalationConfig;
  readonly #clock: Clock;
  readonly #port: OrderPort;
  readonly #tracker: OrderTracker;
  readonly #callbacks: EscalationCallbacks;
  #phase: EscalationPhase = 'new';
  #next: NextStep | undefined;
  #legs: Leg[] = [];
  #filled: Quantity;
  #seen = new Set<string>();
  #timer: { id: TimerId; kind: TimerKind; atNs: bigint } | undefined;
  #cancelRetries = 0;
  #outcome: EscalationOutcome | undefined;
  #sending = false;
  #buffer: VenueEvent[] = [];

  /** @throws ExecutionError InvalidConfig on a non-positive quantity, price or tick, or a bad config */
  constructor(entry: EntryRequest, deps: EscalatorDeps, config: Partial<EscalationConfig> = {}) {
    const problems: string[] = [];
    if (!entry.quantity.isPositive()) problems.push(`quantity must be positive, got ${entry.quantity.toString()}`);
    if (!entry.fairPrice.isPositive()) problems.push(`fairPrice must be positive, got ${entry.fairPrice.toString()}`);
    if (!entry.tickSize.isPositive()) problems.push(`tickSize must be positive, got ${entry.tickSize.toString()}`);
    if (entry.side !== 'Buy' && entry.side !== 'Sell') problems.push(`side must be Buy or Sell, got ${String(entry.side)}`);
    if (problems.length > 0) throw new ExecutionError('InvalidConfig', `entry for ${entry.symbol}: ${problems.join('; ')}`);
    this.entry = Object.freeze({ ...entry });
    this.config = escalationConfig(config);
    this.#clock = deps.clock;
    this.#port = deps.port;
    this.#tracker = deps.tracker;
    this.#callbacks = deps.callbacks ?? {};
    this.#filled = Quantity.zero(entry.quantity.precision);
  }

  /** Where the escalation is. */
  get phase(): EscalationPhase {
    return this.#phase;
  }

  /** How it ended, or undefined while it runs. */
  get outcome(): EscalationOutcome | undefined {
    return this.#outcome;
  }

  /** Number of orders sent so far. */
  get attempts(): number {
    return this.#legs.length;
  }

  /** Quantity filled over all of the entry's orders. */
  get filledQty(): Quantity {
    return this.#filled;
  }

  /** Quantity still to fill (never negative). */
  get remainingQty(): Quantity {
    const r = this.entry.quantity.sub(this.#filled);
    return r.isNegative() ? Quantity.zero(r.precision) : r;
  }

  /** The client order ids sent for this entry, oldest first. */
  get orderIds(): readonly ClientOrderId[] {
    return this.#legs.map((l) => l.id);
  }

  /** Whether `clientOrderId` is one of this entry's orders (for routing events). */
  owns(clientOrderId: ClientOrderId): boolean {
    return this.#legs.some((l) => l.id === clientOrderId);
  }

  /**
   * Sends the first limit at the fair price rounded to the tick in the trader's favour.
   * @throws ExecutionError InvalidState when already started; whatever the port throws
   */
  start(): ClientOrderId {
    if (this.#phase !== 'new') throw new ExecutionError('InvalidState', `escalation for ${this.entry.symbol} was already started (phase ${this.#phase})`);
    const { fairPrice, tickSize, side } = this.entry;
    const limit = fairPrice.roundTo(tickSize, side === 'Buy' ? 'floor' : 'ceil');
    if (!limit.isPositive()) {
      throw new ExecutionError('InvalidConfig', `fair price ${fairPrice.toString()} rounds to ${limit.toString()} on tick ${tickSize.toString()}`);
    }
    return this.#send('Limit', this.entry.quantity, limit, `entry limit at fair price ${fairPrice.toString()} -> ${limit.toString()}`);
  }

  /**
   * Feeds a venue event for one of this entry's orders (fills are de-duplicated by trade id).
   * @throws ExecutionError UnknownOrder for an order it did not send; InvalidTransition when the table refuses the event
   */
  onEvent(e: VenueEvent): void {
    if (this.#sending) {
      // the venue answered inside send(), before the id was known here
      this.#buffer.push(e);
      return;
    }
    if (e.kind === 'position-changed' || e.kind === 'modified') return;
    const leg = this.#legs.find((l) => l.id === e.clientOrderId);
    if (leg === undefined) {
      throw new ExecutionError('UnknownOrder', `escalation for ${this.entry.symbol} got a ${e.kind} event for order ${e.clientOrderId}, which it did not send`);
    }
    if (e.kind === 'filled') {
      if (this.#seen.has(e.tradeId)) return;
    }
    const event = engineEventOf(e) as EngineOrderEvent;
    // a duplicated or late event the table refuses (a second reject, an ack after the fill) changes nothing
    if (!this.#tracker.canApply(leg.id, event)) return;
    const to = this.#tracker.apply(leg.id, event, { reason: venueReason(e), tsNs: this.#clock.now(), cause: causeOfVenueEvent(e) });
    const wasClosed = leg.closed;
    leg.closed = isTerminalEngineState(to);
    switch (e.kind) {
      case 'filled':
        this.#seen.add(e.tradeId);
        this.#onFill(leg, e.lastQty, e.lastPx, e.tradeId, wasClosed);
        break;
      case 'canceled':
      case 'expired':
        if (!wasClosed && leg === this.#current()) this.#afterCurrentClosed();
        break;
      case 'rejected':
        if (!wasClosed && leg === this.#current() && this.#phase !== 'done') this.#finish('rejected');
        break;
      case 'cancel-rejected':
        if (leg === this.#current() && this.#phase === 'canceling' && !leg.closed) this.#onCancelRefused();
        break;
      case 'accepted':
        break;
    }
  }

  /**
   * Stops the entry from outside (kill switch, session end): cancels the working order and reports
   * 'gave-up' once the cancel is confirmed ('filled' if it filled meanwhile). A no-op when done.
   */
  abandon(reason: string): void {
    if (this.#phase === 'done') return;
    if (this.#phase === 'new') {
      this.#finish('gave-up');
      return;
    }
    if (this.#phase === 'canceling') {
      this.#next = 'give-up';
      return;
    }
    this.#requestCancel(this.#current() as Leg, 'give-up', `abandoned: ${reason}`);
  }

  /** Cancels the pending timer (the escalation no longer reacts to time). */
  dispose(): void {
    this.#clearTimer();
  }

  /** The escalation as plain JSON-safe data, for a checkpoint. */
  snapshot(): EscalationSnapshot {
    const c = this.config;
    return {
      version: 1,
      entry: {
        symbol: this.entry.symbol,
        side: this.entry.side,
        quantity: this.entry.quantity.toString(),
        fairPrice: this.entry.fairPrice.toString(),
        tickSize: this.entry.tickSize.toString(),
      },
      config: {
        firstTimeoutNs: tag(c.firstTimeoutNs),
        secondTimeoutNs: tag(c.secondTimeoutNs),
        maxAttempts: c.maxAttempts,
        cancelRetryNs: tag(c.cancelRetryNs),
        maxCancelRetries: c.maxCancelRetries,
        ...(c.marketTimeout === false ? { marketTimeout: false } : {}),
      },
      phase: this.#phase,
      next: this.#next ?? null,
      legs: this.#legs.map((l) => ({
        id: l.id,
        type: l.type,
        quantity: l.quantity.toString(),
        limitPrice: l.limitPrice === undefined ? null : l.limitPrice.toString(),
        filled: l.filled.toString(),
        closed: l.closed,
      })),
      timer: this.#timer === undefined ? null : { kind: this.#timer.kind, atNs: tag(this.#timer.atNs) },
      cancelRetries: this.#cancelRetries,
      seenTradeIds: [...this.#seen],
      outcome: this.#outcome ?? null,
    };
  }

  /**
   * Rebuilds an escalation from `snapshot()` (its timer re-armed on `deps.clock`); the tracker must be
   * restored separately. Validates everything before building.
   * @throws ExecutionError InvalidSnapshot naming the bad field
   */
  static restore(snapshot: EscalationSnapshot, deps: EscalatorDeps): EntryEscalator {
    const r = new SnapshotReader(snapshot);
    if (r.root.version !== 1) r.fail(`version must be 1, got ${JSON.stringify(r.root.version)}`);
    const en = r.obj(r.root, 'entry');
    const side = r.str(en, 'entry.side');
    if (side !== 'Buy' && side !== 'Sell') r.fail(`entry.side must be Buy or Sell, got ${JSON.stringify(side)}`);
    const entry: EntryRequest = {
      symbol: r.str(en, 'entry.symbol'),
      side: side as Side,
      quantity: r.dec(en, 'entry.quantity', Quantity),
      fairPrice: r.dec(en, 'entry.fairPrice', Price),
      tickSize: r.dec(en, 'entry.tickSize', Price),
    };
    const cf = r.obj(r.root, 'config');
    const config = {
      firstTimeoutNs: r.big(cf, 'config.firstTimeoutNs'),
      secondTimeoutNs: r.big(cf, 'config.secondTimeoutNs'),
      maxAttempts: r.int(cf, 'config.maxAttempts'),
      cancelRetryNs: r.big(cf, 'config.cancelRetryNs'),
      maxCancelRetries: r.int(cf, 'config.maxCancelRetries'),
      ...((cf as Record<string, unknown>).marketTimeout === false ? { marketTimeout: false } : {}),
    };
    let esc: EntryEscalator;
    try {
      esc = new EntryEscalator(entry, deps, config);
    } catch (e) {
      if (e instanceof ExecutionError) throw new ExecutionError('InvalidSnapshot', `escalation snapshot: ${e.detail}`, { cause: e });
      throw e;
    }
    const phase = r.root.phase;
    if (phase !== 'new' && phase !== 'working' && phase !== 'canceling' && phase !== 'done') r.fail(`phase must be new, working, canceling or done, got ${JSON.stringify(phase)}`);
    const next = r.root.next;
    if (next !== null && next !== 'reprice' && next !== 'market' && next !== 'give-up' && next !== 'resend') r.fail(`next must be reprice, market, give-up, resend or null, got ${JSON.stringify(next)}`);
    if ((phase === 'canceling') !== (next !== null)) r.fail(`next is ${JSON.stringify(next)} in phase ${String(phase)}`);
    const rawLegs = r.root.legs as unknown;
    if (!Array.isArray(rawLegs)) r.fail('legs must be an array');
    const legs: Leg[] = [];
    let filled = Quantity.zero(entry.quantity.precision);
    const ids = new Set<string>();
    for (const [i, x] of (rawLegs as unknown[]).entries()) {
      const l = r.obj({ x }, 'x', `legs[${i}]`);
      const id = r.str(l, `legs[${i}].id`);
      if (ids.has(id)) r.fail(`legs[${i}].id ${id} is repeated`);
      ids.add(id);
      const type = l.type;
      if (type !== 'Limit' && type !== 'Market') r.fail(`legs[${i}].type must be Limit or Market, got ${JSON.stringify(type)}`);
      const limitPrice = l.limitPrice === null ? undefined : r.dec(l, `legs[${i}].limitPrice`, Price);
      if ((type === 'Limit') !== (limitPrice !== undefined)) r.fail(`legs[${i}]: a limit price is required on Limit orders and refused on Market orders`);
      if (typeof l.closed !== 'boolean') r.fail(`legs[${i}].closed must be a boolean`);
      const leg: Leg = {
        id: id as ClientOrderId,
        type: type as 'Limit' | 'Market',
        quantity: r.dec(l, `legs[${i}].quantity`, Quantity),
        limitPrice,
        filled: r.dec(l, `legs[${i}].filled`, Quantity),
        closed: l.closed as boolean,
      };
      if (leg.filled.isNegative() || leg.filled.gt(leg.quantity)) r.fail(`legs[${i}].filled ${leg.filled.toString()} is outside 0..${leg.quantity.toString()}`);
      filled = filled.add(leg.filled);
      legs.push(leg);
    }
    if (legs.length > config.maxAttempts) r.fail(`${legs.length} legs exceed maxAttempts ${config.maxAttempts}`);
    if ((phase === 'new') !== (legs.length === 0)) r.fail(`phase ${String(phase)} does not fit ${legs.length} legs`);
    for (const [i, l] of legs.entries()) if (i < legs.length - 1 && !l.closed && phase !== 'done') r.fail(`legs[${i}] is not closed but a later order was sent`);
    const seen = r.root.seenTradeIds as unknown;
    if (!Array.isArray(seen) || !seen.every((s) => typeof s === 'string')) r.fail('seenTradeIds must be an array of strings');
    const outcome = r.root.outcome;
    if (outcome !== null && outcome !== 'filled' && outcome !== 'gave-up' && outcome !== 'rejected') r.fail(`outcome must be filled, gave-up, rejected or null, got ${JSON.stringify(outcome)}`);
    if ((phase === 'done') !== (outcome !== null)) r.fail(`outcome is ${JSON.stringify(outcome)} in phase ${String(phase)}`);
    const cancelRetries = r.int(r.root, 'cancelRetries');
    let timer: { kind: TimerKind; atNs: bigint } | undefined;
    if (r.root.timer !== null) {
      const t = r.obj(r.root, 'timer');
      if (t.kind !== 'timeout' && t.kind !== 'cancel-retry') r.fail(`timer.kind must be timeout or cancel-retry, got ${JSON.stringify(t.kind)}`);
      timer = { kind: t.kind as TimerKind, atNs: r.big(t, 'timer.atNs') };
    }
    if (phase === 'working' && timer?.kind !== 'timeout') r.fail('a working escalation needs its timeout timer');
    esc.#phase = phase as EscalationPhase;
    esc.#next = next === null ? undefined : (next as NextStep);
    esc.#legs = legs;
    esc.#filled = filled;
    esc.#seen = new Set(seen as string[]);
    esc.#cancelRetries = cancelRetries;
    esc.#outcome = outcome === null ? undefined : (outcome as EscalationOutcome);
    if (timer !== undefined) esc.#arm(timer.kind, timer.atNs);
    return esc;
  }

  // ---- internals

  #current(): Leg | undefined {
    return this.#legs[this.#legs.length - 1];
  }

  #send(type: 'Limit' | 'Market', quantity: Quantity, limitPrice: Price | undefined, reason: string): ClientOrderId {
    const req: PortOrderRequest =
      limitPrice === undefined
        ? { symbol: this.entry.symbol, side: this.entry.side, type, quantity, reason }
        : { symbol: this.entry.symbol, side: this.entry.side, type, quantity, limitPrice, reason };
    this.#sending = true;
    let id: ClientOrderId;
    try {
      id = this.#port.send(req);
    } catch (e) {
      this.#buffer = [];
      throw e;
    } finally {
      this.#sending = false;
    }
    if (this.#legs.some((l) => l.id === id)) {
      this.#buffer = [];
      throw new ExecutionError('DuplicateOrder', `the port returned client order id ${id} twice for the ${this.entry.symbol} entry`);
    }
    const leg: Leg = { id, type, quantity, limitPrice, filled: Quantity.zero(quantity.precision), closed: false };
    this.#legs.push(leg);
    this.#phase = 'working';
    this.#next = undefined;
    this.#cancelRetries = 0;
    const now = this.#clock.now();
    this.#tracker.open(id);
    this.#tracker.apply(id, 'submit', { reason, tsNs: now, cause: { source: 'escalation', attempt: String(this.#legs.length), type, quantity: quantity.toString(), ...(limitPrice === undefined ? {} : { limitPrice: limitPrice.toString() }) } });
    // with `marketTimeout` off, a market order is not timed out: it fills at the venue's next chance (the
    // next bar's open in a bar backtest) or the venue cancels or rejects it
    if (type !== 'Market' || this.config.marketTimeout !== false) this.#arm('timeout', now + (this.#legs.length === 1 ? this.config.firstTimeoutNs : this.config.secondTimeoutNs));
    const buffered = this.#buffer;
    this.#buffer = [];
    for (const e of buffered) this.onEvent(e);
    return id;
  }

  #arm(kind: TimerKind, atNs: bigint): void {
    this.#clearTimer();
    const id = this.#clock.setTimer(atNs, () => {
      if (this.#timer?.id !== id) return;
      this.#timer = undefined;
      this.#onTimer(kind);
    });
    this.#timer = { id, kind, atNs };
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.#clock.cancelTimer(this.#timer.id);
    this.#timer = undefined;
  }

  #onTimer(kind: TimerKind): void {
    const leg = this.#current();
    if (leg === undefined || leg.closed) return;
    if (kind === 'timeout' && this.#phase === 'working') {
      const timeout = this.#legs.length === 1 ? this.config.firstTimeoutNs : this.config.secondTimeoutNs;
      const step = this.#nextStep();
      this.#requestCancel(leg, step, `not filled within ${timeout} ns: ${step}`);
    } else if (kind === 'cancel-retry' && this.#phase === 'canceling') {
      this.#tracker.apply(leg.id, 'cancel', { reason: `cancel retry ${this.#cancelRetries}`, tsNs: this.#clock.now(), cause: { source: 'escalation', timer: 'cancel-retry' } });
      this.#port.cancel(leg.id, `cancel retry ${this.#cancelRetries} (${this.#next ?? ''})`);
    }
  }

  /** What the next order is once the current one is closed unfilled. */
  #nextStep(): NextStep {
    const n = this.#legs.length;
    if (n >= this.config.maxAttempts) return 'give-up';
    return n + 1 === this.config.maxAttempts ? 'market' : 'reprice';
  }

  #requestCancel(leg: Leg, next: NextStep, reason: string): void {
    this.#clearTimer();
    this.#phase = 'canceling';
    this.#next = next;
    this.#cancelRetries = 0;
    const event: EngineOrderEvent = next === 'reprice' ? 'reprice' : next === 'market' ? 'escalate' : 'cancel';
    this.#tracker.apply(leg.id, event, { reason, tsNs: this.#clock.now(), cause: { source: 'escalation', next } });
    // state first: the venue may confirm the cancel before this call returns
    this.#port.cancel(leg.id, reason);
  }

  #onCancelRefused(): void {
    if (this.#cancelRetries >= this.config.maxCancelRetries) {
      // the order may still be live: the tracker keeps it REPRICING/ESCALATING for reconciliation
      this.#finish('gave-up');
      return;
    }
    this.#cancelRetries++;
    this.#arm('cancel-retry', this.#clock.now() + this.config.cancelRetryNs);
  }

  #onFill(leg: Leg, qty: Quantity, px: Price, tradeId: string, wasClosed: boolean): void {
    leg.filled = leg.filled.add(qty);
    this.#filled = this.#filled.add(qty);
    this.#callbacks.onFill?.(Object.freeze({ clientOrderId: leg.id, tradeId, quantity: qty, price: px, totalFilled: this.#filled, tsNs: this.#clock.now() }));
    if (this.#phase === 'done') return;
    const current = this.#current() as Leg;
    if (!this.#filled.lt(this.entry.quantity)) {
      this.#finish('filled');
      return;
    }
    if (leg === current) {
      // closed by a fill but short of the entry (a venue that filled less than asked): next step
      if (leg.closed) this.#afterCurrentClosed();
      return;
    }
    if (wasClosed && this.#phase === 'working' && !current.closed) {
      // a late fill on an earlier order: the working one now asks for more than remains
      const open = current.quantity.sub(current.filled);
      if (open.gt(this.remainingQty)) {
        this.#requestCancel(current, this.#legs.length >= this.config.maxAttempts ? 'give-up' : 'resend', `late fill of ${leg.id} leaves ${this.remainingQty.toString()} to fill, less than the ${open.toString()} working`);
      }
    }
  }

  #afterCurrentClosed(): void {
    this.#clearTimer();
    if (this.#phase === 'done') return;
    if (!this.#filled.lt(this.entry.quantity)) {
      this.#finish('filled');
      return;
    }
    const step = this.#phase === 'canceling' ? (this.#next as NextStep) : this.#nextStep();
    const prev = this.#current() as Leg;
    const remaining = this.remainingQty;
    switch (step) {
      case 'give-up':
        this.#finish('gave-up');
        return;
      case 'market':
        this.#send('Market', remaining, undefined, `escalate to market for the remaining ${remaining.toString()} (attempt ${this.#legs.length + 1})`);
        return;
      case 'reprice': {
        const last = this.#port.lastTrade(this.entry.symbol);
        const limit = this.#repriceLimit(prev.limitPrice ?? last, last);
        this.#send('Limit', remaining, limit, `reprice halfway from ${(prev.limitPrice ?? last).toString()} to last trade ${last.toString()}: ${limit.toString()} for the remaining ${remaining.toString()} (attempt ${this.#legs.length + 1})`);
        return;
      }
      case 'resend':
        if (this.#legs.length >= this.config.maxAttempts) {
          this.#finish('gave-up');
          return;
        }
        this.#send(prev.type, remaining, prev.limitPrice, `resend the remaining ${remaining.toString()} after a late fill (attempt ${this.#legs.length + 1})`);
        return;
    }
  }

  /**
   * Halfway between the last limit and the last trade, on the tick, rounded toward the trade so a
   * reprice moves at least one tick when they differ, and never less aggressive than the last limit.
   */
  #repriceLimit(lastLimit: Price, lastTrade: Price): Price {
    const { side, tickSize } = this.entry;
    const mid = lastLimit.add(lastTrade).div(2, Math.max(lastLimit.precision, lastTrade.precision) + 1);
    const p = mid.roundTo(tickSize, side === 'Buy' ? 'ceil' : 'floor');
    const base = lastLimit.roundTo(tickSize, side === 'Buy' ? 'floor' : 'ceil');
    if (side === 'Buy') return p.lt(base) ? base : p;
    return p.gt(base) ? base : p;
  }

  #finish(outcome: EscalationOutcome): void {
    this.#clearTimer();
    const wasWorking = this.#phase === 'working';
    this.#phase = 'done';
    this.#next = undefined;
    this.#outcome = outcome;
    const current = this.#current();
    if (outcome === 'filled' && wasWorking && current !== undefined && !current.closed && this.#tracker.canApply(current.id, 'cancel')) {
      // complete through an earlier order's late fill: the working order is not needed any more
      const reason = 'entry complete; cancel the working remainder';
      this.#tracker.apply(current.id, 'cancel', { reason, tsNs: this.#clock.now(), cause: { source: 'escalation', next: 'done' } });
      this.#port.cancel(current.id, reason);
    }
    this.#callbacks.onDone?.(outcome, this.#filled);
  }
}

function venueReason(e: VenueEvent): string {
  switch (e.kind) {
    case 'filled':
      return `fill ${e.lastQty.toString()} @ ${e.lastPx.toString()} (leaves ${e.leavesQty.toString()})`;
    case 'canceled':
    case 'cancel-rejected':
    case 'rejected':
      return `${e.kind}: ${e.reason}`;
    default:
      return e.kind;
  }
}

function tag(n: bigint): TaggedBigint {
  return { $bigint: n.toString() };
}

class SnapshotReader {
  readonly root: Record<string, unknown>;

  constructor(snapshot: unknown) {
    if (typeof snapshot !== 'object' || snapshot === null || Array.isArray(snapshot)) this.fail('snapshot must be an object');
    this.root = snapshot as Record<string, unknown>;
  }

  fail(what: string): never {
    throw new ExecutionError('InvalidSnapshot', `escalation snapshot: ${what}`);
  }

  obj(o: Record<string, unknown>, key: string, name = key): Record<string, unknown> {
    const v = o[key];
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(`${name} must be an object`);
    return v as Record<string, unknown>;
  }

  str(o: Record<string, unknown>, name: string): string {
    const v = o[name.slice(name.lastIndexOf('.') + 1)];
    if (typeof v !== 'string' || v === '') this.fail(`${name} must be a non-empty string`);
    return v as string;
  }

  int(o: Record<string, unknown>, name: string): number {
    const v = o[name.slice(name.lastIndexOf('.') + 1)];
    if (!Number.isSafeInteger(v) || (v as number) < 0) this.fail(`${name} must be a non-negative integer`);
    return v as number;
  }

  big(o: Record<string, unknown>, name: string): bigint {
    const v = o[name.slice(name.lastIndexOf('.') + 1)] as { $bigint?: unknown } | null | undefined;
    if (typeof v !== 'object' || v === null || typeof v.$bigint !== 'string' || !/^-?\d+$/.test(v.$bigint)) {
      this.fail(`${name} must be a tagged bigint {"$bigint": "<digits>"}`);
    }
    return BigInt(v.$bigint as string);
  }

  dec<T>(o: Record<string, unknown>, name: string, kind: { of(input: string): T }): T {
    const text = this.str(o, name);
    try {
      return kind.of(text);
    } catch {
      return this.fail(`${name} is not an exact decimal: ${JSON.stringify(text)}`);
    }
  }
}
