import { Decimal, parseDecimal, pow10, shortestString } from '../../core/decimal.js';
import { AxonError } from '../../core/errors.js';
import type { ClientOrderId } from '../../core/ids.js';
import { Rng, type RngState } from '../../core/rng.js';
import type { Bar } from '../../model/bar.js';
import type { BalanceReport, ModifyRequest, OrderReport, OrderRequest, PositionReport, VenueEvent } from '../../model/order.js';
import type { BarDrivenVenue, VenueCapabilities, VenueEventHandler } from '../venue.js';
import { rawAt, type VolumeModel } from './models.js';
import { EventOutbox } from './outbox.js';
import { SimulatedVenueError } from './errors.js';
import { SimulatedVenue, SimulatedVenueBuilder, type SimulatedVenueConfig, type SimulatedVenueState } from './simulated-venue.js';
import { eventFromState, eventState, invalidState, StateReader, type VenueEventState } from './state.js';

/** Stable error codes of the fault-injecting venue. */
export type FaultyVenueErrorCode = 'UnknownOutcome' | 'InvalidConfig';

/** Error raised by FaultyVenue: `UnknownOutcome` for a simulated timeout, `InvalidConfig` for a bad FaultConfig. */
export class FaultyVenueError extends AxonError<FaultyVenueErrorCode> {
  override readonly name = 'FaultyVenueError';
}

/** Probabilities (each in [0, 1], all default 0) and bounds of the faults a FaultyVenue injects. */
export interface FaultConfig {
  /** Per event: its notification is lost (the venue's state still changed). */
  readonly dropEvent: number;
  /** Per delivered event: it is delivered twice (a fill keeps its tradeId). */
  readonly duplicateEvent: number;
  /** Per event: it is held back for 1..maxDelayBars bars, then delivered. */
  readonly delayEvent: number;
  /** Most bars a delayed event is held back (a bar = the venue's clock advancing to a new bar close). */
  readonly maxDelayBars: number;
  /** Per delivery batch of two or more events: the batch is delivered in a shuffled order. */
  readonly reorderBatch: number;
  /** Per submit: the venue refuses it with a 'rejected' event; the inner venue never sees the order. */
  readonly rejectSubmit: number;
  /** Per submit, modify or cancel: the inner venue takes it, but the promise rejects with UnknownOutcome. */
  readonly timeoutTaken: number;
  /** Per submit, modify or cancel: the request is lost before the inner venue, and the promise rejects with UnknownOutcome. */
  readonly timeoutLost: number;
  /** Per cancel: the cancel is held until the order's symbol has matched its next bar, so the order may fill first. */
  readonly fillAfterCancel: number;
  /** Per new order: its symbol's fills are capped per bar at partialFillShare of its quantity while it works. */
  readonly partialFill: number;
  /** Share of a capped order's quantity that may fill per bar, in (0, 1); at least one lot. */
  readonly partialFillShare: number;
  /** Per bar: the venue changes the bar's symbol position by itself (see SimulatedVenue.adjustPosition). */
  readonly positionChange: number;
  /** Most lots one venue-side position change adds. */
  readonly maxPositionChangeLots: number;
}

const PROBABILITIES = [
  'dropEvent',
  'duplicateEvent',
  'delayEvent',
  'reorderBatch',
  'rejectSubmit',
  'timeoutTaken',
  'timeoutLost',
  'fillAfterCancel',
  'partialFill',
  'positionChange',
] as const;

/** No faults: a FaultyVenue with this configuration delivers exactly what its inner venue produces. */
export const NO_FAULTS: FaultConfig = Object.freeze({
  dropEvent: 0,
  duplicateEvent: 0,
  delayEvent: 0,
  maxDelayBars: 3,
  reorderBatch: 0,
  rejectSubmit: 0,
  timeoutTaken: 0,
  timeoutLost: 0,
  fillAfterCancel: 0,
  partialFill: 0,
  partialFillShare: 0.5,
  positionChange: 0,
  maxPositionChangeLots: 5,
});

/** Named fault configurations: `none`, and `chaos` with moderate probabilities of every kind. */
export const FAULT_PRESETS: { readonly none: FaultConfig; readonly chaos: FaultConfig } = Object.freeze({
  none: NO_FAULTS,
  chaos: Object.freeze({
    dropEvent: 0.05,
    duplicateEvent: 0.05,
    delayEvent: 0.05,
    maxDelayBars: 3,
    reorderBatch: 0.2,
    rejectSubmit: 0.05,
    timeoutTaken: 0.03,
    timeoutLost: 0.03,
    fillAfterCancel: 0.3,
    partialFill: 0.2,
    partialFillShare: 0.4,
    positionChange: 0.02,
    maxPositionChangeLots: 5,
  }),
});

/** What kind of fault a FaultRecord describes. */
export type FaultKind =
  | 'drop'
  | 'duplicate'
  | 'delay'
  | 'release'
  | 'reorder'
  | 'reject'
  | 'timeout-taken'
  | 'timeout-lost'
  | 'hold-cancel'
  | 'release-cancel'
  | 'partial-fill'
  | 'position-change';

/** One injected fault, in the order injected: `tsNs` is the venue time (epoch ns); `subject` the client order id, symbol or event kind. */
export interface FaultRecord {
  readonly kind: FaultKind;
  readonly tsNs: bigint;
  readonly subject: string;
  /** The event affected (drop, duplicate, delay, release). */
  readonly event: VenueEvent | undefined;
}

/**
 * Merges `faults` over NO_FAULTS and checks it, reporting every problem at once.
 * @throws FaultyVenueError InvalidConfig on unknown keys, probabilities outside [0, 1] or bad bounds
 */
export function faultConfig(faults: Partial<FaultConfig> = {}): FaultConfig {
  const problems: string[] = [];
  for (const key of Object.keys(faults)) {
    if (!(key in NO_FAULTS)) problems.push(`unknown key ${key}`);
  }
  const merged: FaultConfig = Object.freeze({ ...NO_FAULTS, ...faults });
  for (const key of PROBABILITIES) {
    const p = merged[key];
    if (typeof p !== 'number' || !Number.isFinite(p) || p < 0 || p > 1) problems.push(`${key} must be a probability in [0, 1], got ${String(p)}`);
  }
  for (const key of ['maxDelayBars', 'maxPositionChangeLots'] as const) {
    const n = merged[key];
    if (!Number.isSafeInteger(n) || n < 1) problems.push(`${key} must be an integer >= 1, got ${String(n)}`);
  }
  const share = merged.partialFillShare;
  if (typeof share !== 'number' || !Number.isFinite(share) || share <= 0 || share >= 1) {
    problems.push(`partialFillShare must be in (0, 1), got ${String(share)}`);
  }
  if (problems.length > 0) throw new FaultyVenueError('InvalidConfig', `invalid fault configuration: ${problems.join('; ')}`);
  return merged;
}

/** Format tag of FaultyVenueState; a state with another tag is refused. */
export const FAULTY_VENUE_STATE_FORMAT = 'axon-faulty-venue-state-1';

/** Everything a FaultyVenue needs to continue exactly where `snapshot` was taken, as plain data. */
export interface FaultyVenueState {
  readonly format: typeof FAULTY_VENUE_STATE_FORMAT;
  /** The fault configuration, compared on restore. */
  readonly faults: FaultConfig;
  readonly inner: SimulatedVenueState;
  /** The fault generator's state. */
  readonly rng: RngState;
  /** Bars seen so far (the clock for delayed events). */
  readonly tick: number;
  readonly lastCloseNs: bigint | undefined;
  /** Delayed events, in the order held, and the tick at which each is released. */
  readonly held: readonly { readonly event: VenueEventState; readonly releaseTick: number }[];
  /** Cancels held back (fill after cancel), in order; `symbol` undefined = released after any bar. */
  readonly heldCancels: readonly { readonly clientOrderId: string; readonly symbol: string | undefined }[];
  /** The symbol of every order the wrapper has seen. */
  readonly symbolOf: readonly { readonly clientOrderId: string; readonly symbol: string }[];
  /** Orders with forced partial fills and their per-bar cap, raw at size precision. */
  readonly capped: readonly { readonly clientOrderId: string; readonly symbol: string; readonly cap: bigint }[];
  /** Positions as the wrapper tracks them from events, raw at size precision. */
  readonly positions: readonly { readonly symbol: string; readonly signedQty: bigint }[];
}

interface SymbolInfo {
  readonly sp: number;
  readonly lot: bigint;
}

interface HeldEvent {
  readonly event: VenueEvent;
  readonly releaseTick: number;
}

interface HeldCancel {
  readonly clientOrderId: ClientOrderId;
  /** Released after this symbol's next bar; undefined (an order the wrapper never saw): after any bar. */
  readonly symbol: string | undefined;
}

/**
 * A BarDrivenVenue that injects seeded faults between a SimulatedVenue and its caller: lost, duplicated,
 * delayed and reordered events, refused submits, timeouts with an unknown outcome, cancels that arrive
 * after a fill, forced partial fills and venue-side position changes.
 *
 * The inner venue stays the source of truth: `orderReports`, `orderReport`, `positionReports` and
 * `balanceReport` are its, unaltered, so reconciliation always sees what really happened. Faults are
 * drawn from one Rng in call order, so the same seed and the same calls give the same events.
 * With every probability 0 the wrapper is transparent. Forced partial fills work through the inner
 * venue's volume model, so they cap every order of the symbol on that bar, not only the chosen one.
 */
export class FaultyVenue implements BarDrivenVenue {
  /** The simulated venue underneath (the truth); drive it only through this wrapper. */
  readonly inner: SimulatedVenue;
  readonly faults: FaultConfig;
  readonly name: string;
  readonly capabilities: VenueCapabilities;
  readonly #rng: Rng;
  readonly #symbols = new Map<string, SymbolInfo>();
  #handlers: VenueEventHandler[] = [];
  /** Events the inner venue produced during the current call, before faults. */
  #collected: VenueEvent[] = [];
  readonly #outbox = new EventOutbox(() => this.#handlers);
  #connected = false;
  #tick = 0;
  #lastClose: bigint | undefined;
  #held: HeldEvent[] = [];
  #heldCancels: HeldCancel[] = [];
  readonly #symbolOf = new Map<string, string>();
  /** Orders with forced partial fills: client order id -> symbol and cap (raw at size precision). */
  readonly #capped = new Map<string, { readonly symbol: string; readonly cap: bigint }>();
  readonly #positions = new Map<string, bigint>();
  #callSymbol: string | undefined;
  readonly #log: FaultRecord[] = [];
  readonly #share: readonly [bigint, bigint];

  /**
   * Builds the inner SimulatedVenue from `venue` (its volume model wrapped for forced partial fills) and
   * draws every fault from `rng`.
   * @throws FaultyVenueError InvalidConfig for a bad `faults`; SimulatedVenueError as the SimulatedVenue constructor
   */
  constructor(venue: SimulatedVenueConfig | SimulatedVenueBuilder, rng: Rng, faults: Partial<FaultConfig> = {}) {
    this.faults = faultConfig(faults);
    this.#rng = rng;
    const [shareRaw, shareP] = parseDecimal(shortestString(this.faults.partialFillShare));
    this.#share = [shareRaw, pow10(shareP)];
    const config = venue instanceof SimulatedVenueBuilder ? venue.build().config : venue;
    const base = config.volumeModel;
    const volumeModel: VolumeModel & { readonly base: VolumeModel } = {
      name: base.name,
      base,
      capacity: (bar, instrument) => this.#capacity(base.capacity(bar, instrument), bar.symbol),
    };
    this.inner = new SimulatedVenue({ ...config, volumeModel });
    this.name = this.inner.name;
    this.capabilities = this.inner.capabilities;
    for (const inst of config.instruments) {
      const sp = inst.sizePrecision;
      this.#symbols.set(inst.id.symbol, { sp, lot: rawAt(inst.lotSize, sp) ?? 1n });
    }
    this.inner.onEvent((e) => this.#collect(e));
  }

  /** The venue's current time: the latest bar close it has seen, epoch ns. */
  get now(): bigint {
    return this.inner.now;
  }

  /** Every fault injected so far, in order. */
  get faultLog(): readonly FaultRecord[] {
    return this.#log;
  }

  /** How many events are held back (delayed) and how many cancels are held (fill after cancel). */
  get pending(): { readonly events: number; readonly cancels: number } {
    return { events: this.#held.length, cancels: this.#heldCancels.length };
  }

  connect(): Promise<void> {
    this.#connected = true;
    return this.inner.connect();
  }

  disconnect(): Promise<void> {
    this.#connected = false;
    return this.inner.disconnect();
  }

  onEvent(handler: VenueEventHandler): () => void {
    this.#handlers = [...this.#handlers, handler];
    return () => {
      this.#handlers = this.#handlers.filter((h) => h !== handler);
    };
  }

  /**
   * Shows the inner venue a bar, then forwards cancels held for this symbol, maybe changes the symbol's
   * position, and delivers this bar's events with the delayed events now due in front of them.
   * @throws SimulatedVenueError UnknownInstrument | BarOutOfOrder (nothing changes)
   */
  onBar(bar: Bar): void {
    this.#callSymbol = bar.symbol;
    try {
      this.inner.onBar(bar);
      // bar times matter only for delays; skipping the bigint compare keeps idle bars cheap
      if (this.faults.delayEvent > 0 && (this.#lastClose === undefined || bar.closeTimeNs > this.#lastClose)) {
        this.#lastClose = bar.closeTimeNs;
        this.#tick++;
      }
      if (this.#connected && this.#heldCancels.length !== 0) this.#releaseCancels(bar.symbol);
      if (this.#roll(this.faults.positionChange)) this.#changePosition(bar.symbol);
    } finally {
      this.#callSymbol = undefined;
    }
    // the common bar: nothing produced, nothing held, no allocation
    if (this.#collected.length === 0 && this.#held.length === 0) return;
    this.#publish(this.#releaseEvents(false));
  }

  submit(order: OrderRequest): Promise<void> {
    if (!this.#connected) return this.inner.submit(order);
    const id = order.clientOrderId;
    if (this.#roll(this.faults.rejectSubmit)) {
      this.#record('reject', id);
      const now = this.inner.now;
      this.#collected.push(
        Object.freeze({ kind: 'rejected', clientOrderId: id, reason: `fault injection: the venue refused ${id} (simulated reject)`, tsEvent: now, tsInit: now }),
      );
      this.#publish([]);
      return Promise.resolve();
    }
    if (this.#roll(this.faults.timeoutLost)) return this.#lost('submit', id);
    const fresh = !this.#symbolOf.has(id) && this.#symbols.has(order.symbol);
    if (fresh) {
      this.#symbolOf.set(id, order.symbol);
      if (this.#roll(this.faults.partialFill)) this.#capOrder(order);
    }
    this.#callSymbol = order.symbol;
    let sent: Promise<void>;
    try {
      sent = this.inner.submit(order);
    } finally {
      this.#callSymbol = undefined;
    }
    if (fresh && this.#capped.has(id) && this.#collected.some((e) => e.kind === 'rejected' && e.clientOrderId === id)) this.#capped.delete(id);
    this.#publish([]);
    return this.#maybeTimeout(sent, 'submit', id);
  }

  modify(request: ModifyRequest): Promise<void> {
    if (!this.#connected) return this.inner.modify(request);
    const id = request.clientOrderId;
    if (this.#roll(this.faults.timeoutLost)) return this.#lost('modify', id);
    const sent = this.inner.modify(request);
    this.#publish([]);
    return this.#maybeTimeout(sent, 'modify', id);
  }

  cancel(clientOrderId: ClientOrderId): Promise<void> {
    if (!this.#connected) return this.inner.cancel(clientOrderId);
    if (this.#roll(this.faults.timeoutLost)) return this.#lost('cancel', clientOrderId);
    let sent: Promise<void>;
    if (this.#roll(this.faults.fillAfterCancel)) {
      this.#record('hold-cancel', clientOrderId);
      this.#heldCancels.push({ clientOrderId, symbol: this.#symbolOf.get(clientOrderId) });
      sent = Promise.resolve();
    } else {
      sent = this.inner.cancel(clientOrderId);
    }
    this.#publish([]);
    return this.#maybeTimeout(sent, 'cancel', clientOrderId);
  }

  /**
   * Ends every held fault now, with no new faults: forwards held cancels to the inner venue and
   * delivers every delayed event, then the cancels' outcomes (for the end of a scenario).
   */
  releaseAll(): void {
    if (this.#connected) this.#releaseCancels(undefined);
    const due = this.#releaseEvents(true);
    const outcomes = this.#take();
    this.#dispatch([...due, ...outcomes]);
  }

  orderReports(options?: { includeClosed?: boolean }): Promise<OrderReport[]> {
    return this.inner.orderReports(options);
  }

  orderReport(clientOrderId: ClientOrderId): Promise<OrderReport | undefined> {
    return this.inner.orderReport(clientOrderId);
  }

  positionReports(): Promise<PositionReport[]> {
    return this.inner.positionReports();
  }

  balanceReport(): Promise<BalanceReport> {
    return this.inner.balanceReport();
  }

  /**
   * The wrapper's and the inner venue's complete state as plain data, for a checkpoint: the fault
   * generator, held (delayed) events, held cancels, forced partial-fill caps and tracked positions.
   * Not included: the fault log (a record of this process's injections; it restarts empty), the
   * connection and the event handlers.
   * @throws SimulatedVenueError Busy when called while events are being delivered
   */
  snapshot(): FaultyVenueState {
    if (this.#outbox.busy || this.#collected.length !== 0) {
      throw new SimulatedVenueError('Busy', 'cannot snapshot the faulty venue while it is delivering events; snapshot between calls');
    }
    return {
      format: FAULTY_VENUE_STATE_FORMAT,
      faults: { ...this.faults },
      inner: this.inner.snapshot(),
      rng: this.#rng.snapshot(),
      tick: this.#tick,
      lastCloseNs: this.#lastClose,
      held: this.#held.map((h) => ({ event: eventState(h.event), releaseTick: h.releaseTick })),
      heldCancels: this.#heldCancels.map((c) => ({ clientOrderId: c.clientOrderId, symbol: c.symbol })),
      symbolOf: [...this.#symbolOf].map(([clientOrderId, symbol]) => ({ clientOrderId, symbol })),
      capped: [...this.#capped].map(([clientOrderId, c]) => ({ clientOrderId, symbol: c.symbol, cap: c.cap })),
      positions: [...this.#positions].map(([symbol, signedQty]) => ({ symbol, signedQty })),
    };
  }

  /**
   * Replaces the wrapper's and the inner venue's state with `state` from `snapshot`. The wrapper must have
   * the same fault configuration and an inner venue built from the same configuration; everything is
   * checked before anything changes. Event handlers and the connection stay as they are.
   * @throws SimulatedVenueError StateMismatch for different faults or venue configuration | InvalidState
   * for a malformed state | Busy while events are being delivered
   */
  restore(state: FaultyVenueState): void {
    if (this.#outbox.busy || this.#collected.length !== 0) {
      throw new SimulatedVenueError('Busy', 'cannot restore the faulty venue while it is delivering events');
    }
    const root = new StateReader('faulty venue state');
    const r = root.record(state, ['format', 'faults', 'inner', 'rng', 'tick', 'lastCloseNs', 'held', 'heldCancels', 'symbolOf', 'capped', 'positions']);
    if (r.format !== FAULTY_VENUE_STATE_FORMAT) invalidState(root.where, `format is ${JSON.stringify(r.format)}, expected ${JSON.stringify(FAULTY_VENUE_STATE_FORMAT)}`);
    const faults = root.at('faults').record(r.faults, Object.keys(NO_FAULTS));
    for (const key of Object.keys(NO_FAULTS) as (keyof FaultConfig)[]) {
      if (!Object.is(faults[key], this.faults[key])) {
        throw new SimulatedVenueError('StateMismatch', `the snapshot is from a venue with other faults: ${key} was ${String(faults[key])}, this venue has ${this.faults[key]}`);
      }
    }
    const rngRead = root.at('rng');
    rngRead.wrap(() => Rng.fromState(r.rng as RngState));
    const tick = root.at('tick').int(r.tick);
    const lastClose = root.at('lastCloseNs').optBigint(r.lastCloseNs);
    const heldRead = root.at('held');
    const held = heldRead.array(r.held).map((h, i): HeldEvent => {
      const read = heldRead.at(i);
      const hr = read.record(h, ['event', 'releaseTick']);
      return { event: eventFromState(hr.event, read.at('event')), releaseTick: read.at('releaseTick').int(hr.releaseTick) };
    });
    const hcRead = root.at('heldCancels');
    const heldCancels = hcRead.array(r.heldCancels).map((c, i): HeldCancel => {
      const read = hcRead.at(i);
      const cr = read.record(c, ['clientOrderId', 'symbol']);
      return { clientOrderId: read.at('clientOrderId').string(cr.clientOrderId) as ClientOrderId, symbol: read.at('symbol').optString(cr.symbol) };
    });
    const soRead = root.at('symbolOf');
    const symbolOf = soRead.array(r.symbolOf).map((e, i): [string, string] => {
      const read = soRead.at(i);
      const er = read.record(e, ['clientOrderId', 'symbol']);
      return [read.at('clientOrderId').string(er.clientOrderId), read.at('symbol').string(er.symbol)];
    });
    const capRead = root.at('capped');
    const capped = capRead.array(r.capped).map((e, i): [string, { symbol: string; cap: bigint }] => {
      const read = capRead.at(i);
      const er = read.record(e, ['clientOrderId', 'symbol', 'cap']);
      const symbol = read.at('symbol').string(er.symbol);
      if (!this.#symbols.has(symbol)) invalidState(read.at('symbol').where, `${symbol} is not one of this venue's instruments`);
      const cap = read.at('cap').bigint(er.cap);
      if (cap <= 0n) invalidState(read.at('cap').where, `must be positive, got ${cap}`);
      return [read.at('clientOrderId').string(er.clientOrderId), { symbol, cap }];
    });
    const posRead = root.at('positions');
    const positions = posRead.array(r.positions).map((e, i): [string, bigint] => {
      const read = posRead.at(i);
      const er = read.record(e, ['symbol', 'signedQty']);
      const symbol = read.at('symbol').string(er.symbol);
      if (!this.#symbols.has(symbol)) invalidState(read.at('symbol').where, `${symbol} is not one of this venue's instruments`);
      return [symbol, read.at('signedQty').bigint(er.signedQty)];
    });
    this.inner.restore(r.inner as SimulatedVenueState);
    this.#rng.restore(r.rng as RngState);
    this.#tick = tick;
    this.#lastClose = lastClose;
    this.#held = held;
    this.#heldCancels = heldCancels;
    this.#symbolOf.clear();
    for (const [id, symbol] of symbolOf) this.#symbolOf.set(id, symbol);
    this.#capped.clear();
    for (const [id, c] of capped) this.#capped.set(id, c);
    this.#positions.clear();
    for (const [symbol, q] of positions) this.#positions.set(symbol, q);
  }

  #roll(p: number): boolean {
    return p > 0 && this.#rng.chance(p);
  }

  #record(kind: FaultKind, subject: string, event?: VenueEvent): void {
    this.#log.push(Object.freeze({ kind, tsNs: this.inner.now, subject, event }));
  }

  #lost(what: string, id: ClientOrderId): Promise<void> {
    this.#record('timeout-lost', id);
    return Promise.reject(unknownOutcome(what, id));
  }

  #maybeTimeout(sent: Promise<void>, what: string, id: ClientOrderId): Promise<void> {
    if (!this.#roll(this.faults.timeoutTaken)) return sent;
    this.#record('timeout-taken', id);
    return sent.then(() => Promise.reject(unknownOutcome(what, id)));
  }

  /** Tracks the inner venue's truth (symbols of orders, open caps, positions) and keeps the event for delivery. */
  #collect(e: VenueEvent): void {
    switch (e.kind) {
      case 'accepted':
        if (!this.#symbolOf.has(e.clientOrderId) && this.#callSymbol !== undefined) this.#symbolOf.set(e.clientOrderId, this.#callSymbol);
        break;
      case 'filled': {
        const info = this.#symbols.get(e.symbol);
        if (info !== undefined) {
          const q = rawAt(e.lastQty, info.sp) ?? 0n;
          this.#positions.set(e.symbol, (this.#positions.get(e.symbol) ?? 0n) + (e.side === 'Buy' ? q : -q));
        }
        if (e.leavesQty.isZero()) this.#capped.delete(e.clientOrderId);
        break;
      }
      case 'canceled':
      case 'expired':
        this.#capped.delete(e.clientOrderId);
        break;
      case 'position-changed': {
        const info = this.#symbols.get(e.symbol);
        if (info !== undefined) this.#positions.set(e.symbol, rawAt(e.signedQty, info.sp) ?? 0n);
        break;
      }
      default:
        break;
    }
    this.#collected.push(e);
  }

  #take(): VenueEvent[] {
    const out = this.#collected;
    this.#collected = [];
    return out;
  }

  /** Applies the per-event faults to what the inner venue produced, reorders the batch, and delivers it after `due`. */
  #publish(due: VenueEvent[]): void {
    const f = this.faults;
    if (f.dropEvent === 0 && f.delayEvent === 0 && f.duplicateEvent === 0 && f.reorderBatch === 0) {
      const events = this.#take();
      this.#dispatch(due.length === 0 ? events : [...due, ...events]);
      return;
    }
    const batch = due;
    for (const e of this.#take()) {
      const subject = 'clientOrderId' in e ? e.clientOrderId : e.symbol;
      if (this.#roll(this.faults.dropEvent)) {
        this.#record('drop', subject, e);
        continue;
      }
      if (this.#roll(this.faults.delayEvent)) {
        this.#record('delay', subject, e);
        this.#held.push({ event: e, releaseTick: this.#tick + this.#rng.int(1, this.faults.maxDelayBars) });
        continue;
      }
      batch.push(e);
      if (this.#roll(this.faults.duplicateEvent)) {
        this.#record('duplicate', subject, e);
        batch.push(e);
      }
    }
    if (batch.length >= 2 && this.#roll(this.faults.reorderBatch)) {
      const before = [...batch];
      this.#rng.shuffle(batch);
      if (batch.every((e, i) => e === before[i])) {
        const first = batch[0] as VenueEvent;
        batch[0] = batch[1] as VenueEvent;
        batch[1] = first;
      }
      this.#record('reorder', batch.map((e) => e.kind).join(','));
    }
    this.#dispatch(batch);
  }

  /** Delayed events now due (all of them when `all`), in the order they were held. */
  #releaseEvents(all: boolean): VenueEvent[] {
    if (this.#held.length === 0) return [];
    const due: VenueEvent[] = [];
    const keep: HeldEvent[] = [];
    for (const h of this.#held) {
      if (all || h.releaseTick <= this.#tick) {
        this.#record('release', 'clientOrderId' in h.event ? h.event.clientOrderId : h.event.symbol, h.event);
        due.push(h.event);
      } else {
        keep.push(h);
      }
    }
    this.#held = keep;
    return due;
  }

  /** Forwards the held cancels of `symbol` (and of orders of unknown symbol); every held cancel when `symbol` is undefined. */
  #releaseCancels(symbol: string | undefined): void {
    const now: HeldCancel[] = [];
    const keep: HeldCancel[] = [];
    for (const c of this.#heldCancels) {
      if (symbol === undefined || c.symbol === undefined || c.symbol === symbol) now.push(c);
      else keep.push(c);
    }
    this.#heldCancels = keep;
    for (const c of now) {
      this.#record('release-cancel', c.clientOrderId);
      // connected, so the inner cancel resolves; its outcome arrives as an event
      void this.inner.cancel(c.clientOrderId);
    }
  }

  #capOrder(order: OrderRequest): void {
    const info = this.#symbols.get(order.symbol) as SymbolInfo;
    const qty = rawAt(order.quantity, info.sp);
    if (qty === undefined || qty <= 0n) return;
    const [num, den] = this.#share;
    const share = (qty * num) / den;
    const cap = share - (share % info.lot);
    this.#capped.set(order.clientOrderId, { symbol: order.symbol, cap: cap < info.lot ? info.lot : cap });
    this.#record('partial-fill', order.clientOrderId);
  }

  #capacity(base: bigint | undefined, symbol: string): bigint | undefined {
    let cap = base;
    if (this.#capped.size === 0) return cap;
    for (const c of this.#capped.values()) {
      if (c.symbol === symbol && (cap === undefined || c.cap < cap)) cap = c.cap;
    }
    return cap;
  }

  #changePosition(symbol: string): void {
    const info = this.#symbols.get(symbol) as SymbolInfo;
    const pos = this.#positions.get(symbol) ?? 0n;
    const held = (pos < 0n ? -pos : pos) / info.lot;
    let delta: bigint;
    if (held > 0n && this.#rng.chance(0.5)) {
      const lots = BigInt(this.#rng.int(1, held > 1_000_000_000n ? 1_000_000_000 : Number(held)));
      delta = (pos > 0n ? -lots : lots) * info.lot;
    } else {
      delta = (pos < 0n ? -1n : 1n) * BigInt(this.#rng.int(1, this.faults.maxPositionChangeLots)) * info.lot;
    }
    this.#record('position-change', symbol);
    this.inner.adjustPosition(symbol, Decimal.fromRaw(delta, info.sp));
  }

  #dispatch(events: VenueEvent[]): void {
    if (events.length === 0) return;
    for (const e of events) this.#outbox.push(e);
    this.#outbox.flush();
  }
}

function unknownOutcome(what: string, id: ClientOrderId): FaultyVenueError {
  return new FaultyVenueError('UnknownOutcome', `${what} of ${id} timed out with an unknown outcome: query orderReport(${id}) before acting on it`);
}
