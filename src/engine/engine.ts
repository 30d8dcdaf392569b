import type { Clock } from '../core/clock.js';
import { Decimal, Price, Quantity, priceFromFloat, shortestString } from '../core/decimal.js';
import { AxonError } from '../core/errors.js';
import { frozenData, sameFrozenList, samePlainData } from '../core/frozen.js';
import type { ClientOrderId, TradeId } from '../core/ids.js';
import { Money } from '../core/money.js';
import type { Rng } from '../core/rng.js';
import type { Instrument } from '../model/instrument.js';
import type { OrderRequest, Side, VenueEvent } from '../model/order.js';
import { OrderManager } from '../oms/manager.js';
import { limitOrder, marketOrder, notionalOrder, type Order } from '../oms/order.js';
import { makeOrderStatus } from '../oms/status.js';
import { DefaultRiskEngine } from '../risk/engine.js';
import { makeRiskConfig } from '../risk/config.js';
import type { SessionCalendar, SessionPhase } from '../session/types.js';
import type { EquityColumns, TradeRecord } from '../analytics/types.js';
import { Cooldowns } from '../execution/cooldown.js';
import { KillSwitch } from '../execution/kill-switch.js';
import { PositionSizer } from '../execution/sizer.js';
import { resolveParams } from '../strategy/registry.js';
import type { BarView, Signal, Strategy, StrategyFactory } from '../strategy/types.js';
import type { Venue } from '../venues/venue.js';
import type { EngineConfig } from './config.js';
import type { EngineLogger } from './logger.js';
import { SymbolIndicators } from './symbol-indicators.js';
import { AuditTrail } from '../compliance/trail.js';
import { sha256Hex } from '../compliance/canonical.js';
import { OrderTracker, causeOfVenueEvent, engineEventOf, isTerminalEngineState, type OrderTransition } from '../execution/order-states.js';
import { EntryEscalator, type EscalationSnapshot, type OrderPort } from '../execution/escalation.js';
import type { StateStore } from './state/store.js';
import { SeriesStore } from './state/series.js';

/** Error codes of the engine. */
export type EngineErrorCode = 'EngineHalted' | 'UnknownSymbol' | 'InvalidState' | 'ConfigInvalid';

export class EngineError extends AxonError<EngineErrorCode> {
  override readonly name = 'EngineError';
}

/** Where a raw bar is stored before anything else touches it (pipeline step 1). */
export interface RawBarSink {
  append(symbol: string, openTimeNs: bigint, closeTimeNs: bigint, open: number, high: number, low: number, close: number, volume: number): void;
}

/** Extension points that later layers (checkpoints, escalation, reconciliation) fill in without changing the pipeline. */
export interface EngineHooks {
  /** Pipeline step 8: called every `engine.checkpoint_every` bars, after the bar is fully handled. */
  checkpoint?(engine: Engine, barCount: number): void;
  /** Called every `engine.reconcile_every` bars. */
  reconcile?(engine: Engine, barCount: number): void;
  /** Called for every venue event after the engine applied it. */
  afterVenueEvent?(engine: Engine, event: VenueEvent): void;
  /** Called for every order the engine sends, after its intent is recorded and before the venue sees it. */
  beforeSubmit?(engine: Engine, request: OrderRequest): void;
}

/** Everything the engine is built from; nothing in it knows whether it is live or a backtest. */
export interface EngineDeps {
  config: EngineConfig;
  clock: Clock;
  rng: Rng;
  venue: Venue;
  /** Instruments by symbol (the bar stream's key). */
  instruments: ReadonlyMap<string, Instrument>;
  strategy: StrategyFactory;
  /** Session calendar of an instrument, or undefined for none (always ACTIVE). */
  calendarFor(instrument: Instrument): SessionCalendar | undefined;
  logger: EngineLogger;
  rawBars?: RawBarSink;
  hooks?: EngineHooks;
  /** state.sqlite: order intents written before sending, fills, checkpoints; the audit trail shares it. */
  state?: StateStore;
  /** More state for each checkpoint, e.g. a backtest's in-process venue. */
  checkpointExtras?: () => Record<string, unknown>;
  /**
   * Group the state writes (intents, fills, audit) between two checkpoints into one SQLite transaction.
   * Only where the venue dies with the process (a backtest, resumed from its last checkpoint anyway): a
   * live venue must see an intent only after it is committed.
   */
  batchWrites?: boolean;
  /**
   * Reuse a symbol's checkpoint record while what it was made from is unchanged (default true). False
   * builds every record afresh: the same state, slower; tests compare the two.
   */
  reuseRecords?: boolean;
  /**
   * Hold orders and cancels until `flushSends()` instead of handing them to the venue at once. A live
   * driver commits the bar's writes and a checkpoint in one transaction first, so the venue never hears
   * of an order whose intent and surrounding state a restart could not load.
   */
  deferSends?: boolean;
  /**
   * The driver hands venue events to `onVenueEvent` itself (a live driver applies them as tasks, inside a
   * transaction) instead of the engine subscribing to the venue.
   */
  driverDeliversEvents?: boolean;
  /**
   * Mixed into every client order id. A live driver gives each process start its own (the ids of a
   * crashed process may already be at the venue: a restart must never reuse them).
   */
  idNamespace?: string;
}

/** What one reconciliation found and did. */
export interface ReconcileReport {
  readonly reason: string;
  readonly tsNs: bigint;
  /** Corrections applied to local state (each also an audit entry). */
  readonly corrections: readonly string[];
  readonly halted: boolean;
  /** Orders the venue closed with more filled than the engine saw, left alone (`deferMissingFills`). */
  readonly missingFills: readonly ClientOrderId[];
  /** Position and cash were not compared: the venue reported changes while the reports were taken (`quiet`). */
  readonly skippedPositions: boolean;
}

/** How a reconciliation treats what may still be in flight (a live venue keeps moving while it is asked). */
export interface ReconcileOptions {
  /**
   * Do not synthesize fills for orders the venue closed with more filled than the engine saw; list them
   * instead (a caller that can fetch the venue's own fills does so and reconciles again).
   */
  readonly deferMissingFills?: boolean;
  /**
   * Asked after the venue's reports are taken: false when events arrived meanwhile, so position and cash
   * are compared next time instead of against a report that may already be stale.
   */
  readonly quiet?: () => boolean;
}

type Purpose = 'entry' | 'exit';

interface WorkingOrder {
  readonly clientOrderId: ClientOrderId;
  readonly symbol: string;
  readonly purpose: Purpose;
  readonly side: Side;
  readonly reason: string;
  /** an entry sent with take-profit / stop-loss legs attached at the venue */
  readonly bracket?: { readonly takeProfit: string; readonly stopLoss: string };
  /** a bracket leg created by the venue when its entry filled */
  readonly leg?: boolean;
}

/** An open round trip, exact. */
class OpenTrade {
  readonly id: number;
  readonly symbol: string;
  readonly side: 'Long' | 'Short';
  entryQty = Decimal.ZERO;
  entryNotional = Decimal.ZERO;
  exitQty = Decimal.ZERO;
  exitNotional = Decimal.ZERO;
  fees = Decimal.ZERO;
  entryTimeNs = 0n;
  exitTimeNs: bigint | undefined;
  exitReason: string | undefined;
  /** float average entry price, for the per-bar TP/SL check only */
  entryPxF = 0;
  takeProfitPct: number | undefined;
  stopLossPct: number | undefined;
  legsRegistered = false;
  /** exit orders sent for this trade (a rejected exit is retried under a new id) */
  exitAttempts = 0;
  /** entry orders sent for this trade (escalation sends up to max_attempts) */
  entryAttempts = 0;

  constructor(id: number, symbol: string, side: 'Long' | 'Short') {
    this.id = id;
    this.symbol = symbol;
    this.side = side;
  }

  get openQty(): Decimal {
    return this.entryQty.sub(this.exitQty);
  }

  record(): TradeRecord {
    const closed = this.exitTimeNs !== undefined && this.openQty.isZero();
    const sign = this.side === 'Long' ? 1 : -1;
    const gross = this.exitNotional.sub(this.entryNotional);
    return {
      id: this.id,
      symbol: this.symbol,
      side: this.side,
      quantity: this.entryQty.toString(),
      entryTimeNs: this.entryTimeNs,
      entryPrice: avg(this.entryNotional, this.entryQty),
      exitTimeNs: closed ? this.exitTimeNs : undefined,
      exitPrice: closed ? avg(this.exitNotional, this.exitQty) : undefined,
      pnl: closed ? (sign === 1 ? gross : gross.neg()).sub(this.fees).toString() : undefined,
      fees: this.fees.toString(),
      exitReason: closed ? this.exitReason : undefined,
    };
  }
}

function avg(notional: Decimal, qty: Decimal): string {
  if (qty.isZero()) return '0';
  return notional.div(qty, Math.max(notional.precision - qty.precision, 0) + 8).normalize().toString();
}

interface StrategySlot {
  readonly strategy: Strategy;
  enabled: boolean;
}

class SymbolState {
  readonly symbol: string;
  readonly instrument: Instrument;
  readonly calendar: SessionCalendar | undefined;
  readonly indicators: SymbolIndicators;
  readonly slots: StrategySlot[] = [];
  index = 0;
  lastClose = Number.NaN;
  /** float mirror of the signed position, for equity marking only */
  qtyF = 0;
  /** the close last given to the portfolio as this symbol's mark */
  markedClose = Number.NaN;
  nextAnchorNs = -1n;
  trade: OpenTrade | undefined;
  entryOrder: ClientOrderId | undefined;
  exitOrder: ClientOrderId | undefined;
  /** live bracket legs at the venue (take-profit, stop-loss) */
  legs: ClientOrderId[] = [];
  /** an exit decided while legs were live: sent once the venue confirms them canceled */
  pendingExit: string | undefined;
  /** the entry being worked limit -> reprice -> market (execution.entry = 'escalate') */
  escalator: EntryEscalator | undefined;
  escalatorReason: string | undefined;
  /** The last checkpoint record of what this symbol holds beyond its columns (frozenData), reused while equal. */
  extrasSnap: Record<string, unknown> | undefined;
  /** The values extrasSnap was made from (see extrasKey), when they were all the engine's own. */
  extrasKey: unknown[] | undefined;
  /** This symbol's region of the engine's prepack buffer (offset, capacity), and what it holds. */
  prepackOff = -1;
  prepackCap = 0;
  prepackEnd = 0;
  /** indicators.version when the region was written; -1 when it holds nothing. */
  prepackAt = -1;
  /** enginesOwn's answer, valid while indicators.registrations equals ownRegs (-1: unknown). */
  own = false;
  ownRegs = -1;

  constructor(symbol: string, instrument: Instrument, calendar: SessionCalendar | undefined) {
    this.symbol = symbol;
    this.instrument = instrument;
    this.calendar = calendar;
    this.indicators = new SymbolIndicators(Math.max(6, instrument.pricePrecision));
  }
}

/**
 * True when nothing but the engine's own fields goes into the symbol's checkpoint record: no indicator
 * that does not pack, and every strategy enabled without state of its own.
 */
function enginesOwn(st: SymbolState): boolean {
  // cached: a checkpoint asks for 1,000 symbols, and the slots and strategies are cold by then; a slot
  // disabled or restored resets ownRegs, a registration changes indicators.registrations
  const regs = st.indicators.registrations;
  if (st.ownRegs === regs) return st.own;
  let own = !st.indicators.hasObjects;
  for (let k = 0; own && k < st.slots.length; k++) {
    const slot = st.slots[k] as StrategySlot;
    if (!slot.enabled || slot.strategy.snapshot !== undefined) own = false;
  }
  st.own = own;
  st.ownRegs = regs;
  return own;
}

/**
 * Every value Engine.#symbolExtras reads from an engine-owned symbol (see enginesOwn), in a fixed order;
 * Decimals and strings are immutable, so equal keys (by Object.is) mean equal records. Keep in step
 * with #symbolExtras.
 */
function extrasKey(st: SymbolState, i: number): unknown[] {
  const t = st.trade;
  const key: unknown[] = [i, st.entryOrder, st.exitOrder, st.pendingExit, t];
  if (t !== undefined) key.push(...tradeKey(t));
  key.push(st.legs.length, ...st.legs);
  return key;
}

/** The trade's fields #symbolExtras writes (its Decimals are immutable: compared by identity). */
function tradeKey(t: OpenTrade): unknown[] {
  return [t.id, t.side, t.entryQty, t.entryNotional, t.exitQty, t.exitNotional, t.fees, t.entryTimeNs, t.exitTimeNs, t.exitReason, t.takeProfitPct, t.stopLossPct, t.entryPxF, t.legsRegistered, t.exitAttempts, t.entryAttempts];
}

/** extrasKey(st, i) equals `key`, compared without building all of it. */
function sameExtrasKey(key: unknown[], st: SymbolState, i: number): boolean {
  const t = st.trade;
  if (key[0] !== i || key[1] !== st.entryOrder || key[2] !== st.exitOrder || key[3] !== st.pendingExit || key[4] !== t) return false;
  let k = 5;
  if (t !== undefined) {
    const tf = tradeKey(t);
    for (let j = 0; j < tf.length; j++) if (!Object.is(key[k++], tf[j])) return false;
  }
  const legs = st.legs;
  if (key.length !== k + 1 + legs.length || key[k++] !== legs.length) return false;
  for (let j = 0; j < legs.length; j++) if (key[k++] !== legs[j]) return false;
  return true;
}

/** `buf`, or a copy of its first `used` slots in one at least `need` long (doubling). */
function withRoom(buf: Float64Array<ArrayBuffer>, used: number, need: number): Float64Array<ArrayBuffer> {
  if (need <= buf.length) return buf;
  const next = new Float64Array(Math.max(need, buf.length * 2, 1024));
  next.set(buf.subarray(0, used));
  return next;
}

/** A mutable BarView the drivers fill in place (no allocation per bar). */
export class MutableBar implements BarView {
  symbol = '';
  openTimeNs = 0n;
  closeTimeNs = 0n;
  open = 0;
  high = 0;
  low = 0;
  close = 0;
  volume = 0;
  index = 0;
}

const GROW = 4096;
/** Numbers a checkpoint keeps per symbol in `symbols.nums`: index, lastClose, markedClose, qtyF, packed indicator slots. */
const SYMBOL_NUMS = 5;

interface SymbolColumns {
  readonly names: string[];
  readonly anchors: bigint[];
  readonly layouts: string[];
  readonly nums: Float64Array;
  readonly packed: Float64Array;
  readonly sparse: Record<string, unknown>[];
}

/** Checks the shape of a checkpoint's symbol columns before anything is restored. @throws EngineError InvalidState */
function readSymbolColumns(v: unknown): SymbolColumns {
  const bad = (what: string): EngineError => new EngineError('InvalidState', `checkpoint symbols: ${what}`);
  if (typeof v !== 'object' || v === null) throw bad('missing');
  const c = v as Record<string, unknown>;
  const { names, anchors, layouts, nums, packed, sparse } = c;
  if (!Array.isArray(names) || !names.every((x) => typeof x === 'string')) throw bad('names is not a list of strings');
  const n = names.length;
  if (!Array.isArray(anchors) || anchors.length !== n || !anchors.every((x) => typeof x === 'bigint')) throw bad(`anchors must be ${n} epoch-ns integers`);
  if (!Array.isArray(layouts) || layouts.length !== n || !layouts.every((x) => typeof x === 'string')) throw bad(`layouts must be ${n} strings`);
  if (!(nums instanceof Float64Array) || nums.length !== n * SYMBOL_NUMS) throw bad(`nums must be ${n * SYMBOL_NUMS} float64 slots`);
  if (!(packed instanceof Float64Array)) throw bad('packed is not a Float64Array');
  let slots = 0;
  for (let i = 0; i < n; i++) {
    const len = nums[i * SYMBOL_NUMS + 4] as number;
    if (!Number.isSafeInteger(len) || len < 0) throw bad(`${names[i] as string}: packed length ${len} is not a count`);
    slots += len;
  }
  if (slots !== packed.length) throw bad(`the packed lengths add up to ${slots} slots, the array has ${packed.length}`);
  if (!Array.isArray(sparse)) throw bad('sparse is not a list');
  let last = -1;
  for (const e of sparse as unknown[]) {
    const i = (e as { i?: unknown } | null)?.i;
    if (typeof i !== 'number' || !Number.isInteger(i) || i <= last || i >= n) throw bad(`sparse entries must name symbols in order, got index ${String(i)}`);
    last = i;
  }
  return { names: names as string[], anchors: anchors as bigint[], layouts: layouts as string[], nums, packed, sparse: sparse as Record<string, unknown>[] };
}

/**
 * The engine: one bar pipeline for backtest and live. `onBar` is the heartbeat: (1) store the raw
 * bar, (2) update the symbol's indicators, (3) mark an open position and check take-profit /
 * stop-loss, (4) gate by session phase, (5) require the symbol's warm-up, (6) run the strategy,
 * (7) size, kill-switch, cooldown and pre-trade risk, then submit through the OMS to the venue,
 * (8) checkpoint hook. Venue events arrive through `onVenueEvent`, whenever the venue sends them.
 */
export class Engine {
  readonly config: EngineConfig;
  readonly oms: OrderManager;
  readonly risk: DefaultRiskEngine;
  readonly #deps: EngineDeps;
  readonly #clock: Clock;
  readonly #log: EngineLogger;
  readonly #venue: Venue;
  readonly #sizer: PositionSizer;
  readonly #kill: KillSwitch;
  readonly #cooldowns: Cooldowns;
  readonly #symbols = new Map<string, SymbolState>();
  readonly #working = new Map<string, WorkingOrder>();
  readonly #closedTrades: TradeRecord[] = [];
  readonly #currency: string;
  readonly #warmupBars: number;
  readonly #checkpointEvery: number;
  readonly #reconcileEvery: number;
  readonly #allowOvernight: boolean;
  readonly #longOnly: boolean;
  readonly #tpPct: number | undefined;
  readonly #slPct: number | undefined;
  readonly #held = new Set<SymbolState>();
  /** client order ids sent by an escalator: their states are the escalator's to track */
  readonly #escalated = new Set<string>();
  readonly #lotPrecision: number;
  #nextTradeId = 1;
  #bars = 0;
  /** distinct bar times seen: checkpoints and reconciliation count these, so 100 symbols do not multiply them */
  #steps = 0;
  #lastStepT = -1n;
  readonly #audit: AuditTrail;
  readonly #tracker: OrderTracker;
  readonly #state: StateStore | undefined;
  #corrections = 0;
  /** reconciliations run (for the summary) */
  get corrections(): number {
    return this.#corrections;
  }
  #entries = 0;
  #cashF = 0;
  #equityF = 0;
  #grossF = 0;
  #halted: string | undefined;
  // equity curve, columnar and growable
  #eqTime = new BigInt64Array(GROW);
  #eqValue = new Float64Array(GROW);
  #eqExposure = new Float64Array(GROW);
  #eqLen = 0;
  #eqLastT = -1n;
  /** marks for the risk engine's portfolio limits are needed only when such limits are configured */
  readonly #riskNeedsMarks: boolean;

  constructor(deps: EngineDeps) {
    this.#deps = deps;
    this.config = deps.config;
    this.#clock = deps.clock;
    this.#log = deps.logger;
    this.idNamespace = deps.idNamespace;
    this.#venue = deps.venue;
    const cfg = deps.config;
    this.#currency = cfg.run.currency;
    this.#warmupBars = cfg.engine.warmup_bars;
    this.#checkpointEvery = cfg.engine.checkpoint_every;
    this.#reconcileEvery = cfg.engine.reconcile_every;
    this.#allowOvernight = cfg.session.allow_overnight;
    this.#longOnly = cfg.engine.long_only;
    this.#tpPct = cfg.exits.take_profit_pct;
    this.#slPct = cfg.exits.stop_loss_pct;
    this.#lotPrecision = Decimal.of(cfg.sizing.fractional_lot).precision;
    this.#riskNeedsMarks =
      cfg.risk.max_total_exposure !== undefined || cfg.risk.max_leverage !== undefined || cfg.risk.max_concentration !== undefined || cfg.risk.max_position_per_instrument !== undefined;
    this.oms = new OrderManager({
      clock: deps.clock,
      // deterministic, restart-stable client order ids: a function of the run seed and the order's cause
      idGenerator: () => this.#takeClientId(),
      // finished orders stay in state.sqlite (intents, fills, audit); the OMS keeps only the recent ones
      historyLimit: 256,
      portfolio: {
        // the local ledger records what the venue reports, in whatever order events arrive (a bracket leg's
        // fill may come before its entry's); the venue enforces the account's rules, the engine only sends
        // what they allow
        accountType: 'margin',
        defaultQuoteCurrency: cfg.run.currency,
        baseCurrency: cfg.run.currency,
        instruments: [...deps.instruments.values()],
        clock: deps.clock,
      },
    });
    this.oms.deposit(cfg.run.currency, cfg.run.cash);
    this.#cashF = Number(cfg.run.cash);
    this.#equityF = this.#cashF;
    this.risk = new DefaultRiskEngine(
      makeRiskConfig({
        ...(cfg.risk.max_order_value === undefined ? {} : { maxOrderValue: cfg.risk.max_order_value }),
        ...(cfg.risk.max_position_per_instrument === undefined ? {} : { maxPositionPerInstrument: cfg.risk.max_position_per_instrument }),
        ...(cfg.risk.max_total_exposure === undefined ? {} : { maxTotalExposure: cfg.risk.max_total_exposure }),
        ...(cfg.risk.max_leverage === undefined ? {} : { maxLeverage: String(cfg.risk.max_leverage) }),
        ...(cfg.risk.max_concentration === undefined ? {} : { maxConcentration: String(cfg.risk.max_concentration) }),
      }),
      { clock: deps.clock },
    );
    this.#sizer = new PositionSizer({
      mode: cfg.sizing.mode,
      maxPositionPct: cfg.sizing.max_position_pct,
      fractional: cfg.sizing.fractional,
      fractionalLot: Decimal.of(cfg.sizing.fractional_lot),
    });
    this.#kill = new KillSwitch({ dailyLossPct: cfg.kill_switch.daily_loss_pct, weeklyLossPct: cfg.kill_switch.weekly_loss_pct });
    this.#cooldowns = new Cooldowns(cfg.cooldown.bars_after_stop);
    this.#state = deps.state;
    // with batched writes the audit rows go in with the batch: held, then inserted many at a time before each commit
    this.#audit = deps.state === undefined ? new AuditTrail(deps.clock) : AuditTrail.open(deps.state.db, deps.clock, { deferWrites: deps.batchWrites === true });
    this.#tracker = new OrderTracker((t) => this.#onTransition(t));
    if (deps.driverDeliversEvents !== true) deps.venue.onEvent((e) => this.onVenueEvent(e));
  }

  #symbolState(symbol: string): SymbolState {
    let st = this.#symbols.get(symbol);
    if (st !== undefined) return st;
    const instrument = this.#deps.instruments.get(symbol);
    if (instrument === undefined) throw new EngineError('UnknownSymbol', `no instrument for symbol ${symbol}`);
    st = new SymbolState(symbol, instrument, this.#deps.calendarFor(instrument));
    const params = resolveParams(this.#deps.strategy, this.config.strategy.params);
    st.slots.push({ strategy: this.#deps.strategy.create(params, { symbol, indicators: st.indicators }), enabled: true });
    this.#symbols.set(symbol, st);
    return st;
  }

  /** Why the engine halted, or undefined while it runs. */
  get halted(): string | undefined {
    return this.#halted;
  }

  /** Stops all new activity: logged loudly; a stopped engine that did not trade is always recoverable. */
  halt(reason: string): void {
    if (this.#halted !== undefined) return;
    this.#halted = reason;
    this.#log.log('error', 'engine-halted', { reason, tsNs: this.#clock.now() });
  }

  /**
   * Called by the driver before anything (the venue included) sees a bar closing at `closeTimeNs`: when it
   * starts a new bar time, the previous one is complete and a due checkpoint is written, so engine and an
   * in-process venue are captured at the same moment. `onBar` calls it too, so a driver may skip it.
   */
  beforeBar(closeTimeNs: bigint): void {
    if (closeTimeNs === this.#lastStepT) return;
    if (this.#steps > 0 && this.#steps % this.#checkpointEvery === 0 && this.#checkpointedStep !== this.#steps) {
      this.#checkpointedStep = this.#steps;
      this.#deps.hooks?.checkpoint?.(this, this.#steps);
      this.checkpoint();
    }
    if (this.#deps.batchWrites === true && this.#state !== undefined && !this.#state.db.inTransaction) {
      this.#state.db.exec('BEGIN');
      this.#txOpen = true;
    }
  }

  #txOpen = false;

  /** Commits the writes batched since the last checkpoint (see `batchWrites`); a no-op otherwise. */
  commitWrites(): void {
    if (!this.#txOpen || this.#state === undefined) return;
    this.#txOpen = false;
    if (this.#state.db.inTransaction) {
      this.#audit.flush();
      this.#state.db.exec('COMMIT');
    }
  }

  /** The heartbeat: runs the whole pipeline for one bar. The view is only read during the call. */
  onBar(bar: BarView): void {
    const st = this.#symbolState(bar.symbol);
    // 1. raw bar first
    this.#deps.rawBars?.append(bar.symbol, bar.openTimeNs, bar.closeTimeNs, bar.open, bar.high, bar.low, bar.close, bar.volume);
    if (bar.closeTimeNs !== this.#lastStepT) {
      this.beforeBar(bar.closeTimeNs);
      this.#lastStepT = bar.closeTimeNs;
      this.#steps++;
      this.#stepStarted = true;
    }
    this.#bars++;
    st.index++;
    (bar as { index: number }).index = st.index;
    // 2. indicators (vwap re-anchored at each session open)
    let newSession = false;
    if (bar.openTimeNs >= st.nextAnchorNs) {
      newSession = true;
      st.nextAnchorNs = this.#nextAnchor(st, bar.openTimeNs);
    }
    st.indicators.update(bar, newSession);
    // a checkpoint follows this bar time: pack now, while the symbol's state is in the cache
    if (this.#steps % this.#checkpointEvery === 0 && this.#state !== undefined) this.#prepack(st);
    // 3. mark position, TP/SL
    const close = bar.close;
    if (st.qtyF !== 0) {
      const d = st.qtyF * (close - st.lastClose);
      this.#equityF += d;
      this.#grossF += (st.qtyF > 0 ? d : -d);
    }
    st.lastClose = close;
    this.#recordEquity(bar.closeTimeNs);
    const blocked = this.#kill.update(bar.closeTimeNs, this.#equityF);
    if (this.catchUp) {
      // bars the engine missed while it was down: indicators and marks only, no decisions on stale data
      this.#afterBar();
      return;
    }
    const trade = st.trade;
    if (trade !== undefined && st.exitOrder === undefined && st.legs.length === 0 && st.pendingExit !== undefined) {
      const why = st.pendingExit;
      st.pendingExit = undefined;
      this.#exit(st, why, close);
    }
    // layer 2 (software): with bracket legs live at the venue it defers to them
    if (trade !== undefined && st.exitOrder === undefined && st.legs.length === 0 && trade.entryPxF > 0) {
      const r = ((close - trade.entryPxF) / trade.entryPxF) * (trade.side === 'Long' ? 100 : -100);
      const tp = trade.takeProfitPct;
      const sl = trade.stopLossPct;
      if (sl !== undefined && r <= -sl) this.#exit(st, 'stop-loss', close);
      else if (tp !== undefined && r >= tp) this.#exit(st, 'take-profit', close);
    }
    // 4. session phase
    const phase: SessionPhase = st.calendar === undefined ? 'ACTIVE' : st.calendar.phaseAt(bar.closeTimeNs);
    if (phase !== 'ACTIVE' && phase !== 'EOD_WARNING') {
      if (phase === 'EOD_LIQUIDATION' && !this.#allowOvernight) this.#liquidate(st, close);
      this.#afterBar();
      return;
    }
    // 5. warm-up
    if (st.index < this.#warmupBars || this.#halted !== undefined) {
      this.#afterBar();
      return;
    }
    // 6. strategies suggest
    for (let i = 0; i < st.slots.length; i++) {
      const slot = st.slots[i] as StrategySlot;
      if (!slot.enabled) continue;
      let signal: Signal | undefined;
      try {
        signal = slot.strategy.onBar(bar);
      } catch (e) {
        slot.enabled = false;
        st.ownRegs = -1;
        this.#log.log('error', 'strategy-failed', { symbol: st.symbol, strategy: this.#deps.strategy.name, error: (e as Error)?.message ?? String(e), tsNs: bar.closeTimeNs, disabled: true });
        continue;
      }
      // 7. the engine decides
      if (signal !== undefined) this.#act(st, signal, phase, blocked, close);
    }
    this.#afterBar();
  }

  #stepStarted = false;
  #checkpointedStep = -1;

  /**
   * While true, bars update indicators, marks and the equity curve only: no exits, no strategies, no
   * orders. A live driver sets it while it replays bars it missed (history backfill after a restart).
   */
  catchUp = false;

  #afterBar(): void {
    if (!this.#stepStarted) return;
    this.#stepStarted = false;
    const n = this.#steps;
    if (n % this.#reconcileEvery === 0) this.#deps.hooks?.reconcile?.(this, n);
  }

  /** True when the driver should reconcile after this bar (every `engine.reconcile_every` bar times). */
  get reconcileDue(): boolean {
    return this.#steps % this.#reconcileEvery === 0 && this.#lastReconciledStep !== this.#steps;
  }
  #lastReconciledStep = -1;

  /** Writes a checkpoint to state.sqlite (one transaction) when the engine has a state store. */
  checkpoint(): void {
    const store = this.#state;
    if (store === undefined) return;
    const series = (this.#series ??= new SeriesStore(store.db));
    // inside the batched writes' transaction (see `batchWrites`), committed with them: a death can never
    // leave the writes since the last checkpoint durable without the checkpoint that covers them
    store.transaction(() => {
      series.appendEquity(this.#eqTime, this.#eqValue, this.#eqExposure, this.#eqPersisted, this.#eqLen);
      series.appendTrades(this.#closedTrades.slice(this.#tradesPersisted));
      const state = { engine: this.#snapshot(true), ...(this.#deps.checkpointExtras?.() ?? {}) };
      // the rows up to the head the checkpoint names go in with it
      this.#audit.flush();
      store.writeCheckpoint({ barCount: this.#bars, tsNs: this.#lastStepT, state, audit: this.#audit.head() });
    });
    this.commitWrites();
    // the last point may still change while its bar time goes on: it is rewritten next time
    this.#eqPersisted = Math.max(0, this.#eqLen - 1);
    this.#tradesPersisted = this.#closedTrades.length;
  }
  #series: SeriesStore | undefined;
  #eqPersisted = 0;
  #tradesPersisted = 0;

  #nextAnchor(st: SymbolState, t: bigint): bigint {
    const cal = st.calendar;
    if (cal === undefined) return (t / 86_400_000_000_000n + 1n) * 86_400_000_000_000n;
    return cal.nextSession(t).openNs;
  }

  #recordEquity(t: bigint): void {
    const exposure = this.#equityF > 0 ? this.#grossF / this.#equityF : 0;
    const n = this.#eqLen;
    if (n > 0 && this.#eqLastT === t) {
      this.#eqValue[n - 1] = this.#equityF;
      this.#eqExposure[n - 1] = exposure;
      return;
    }
    if (n === this.#eqTime.length) {
      const grow = <T extends BigInt64Array | Float64Array>(a: T, make: (k: number) => T): T => {
        const b = make(a.length * 2);
        b.set(a as never);
        return b;
      };
      this.#eqTime = grow(this.#eqTime, (k) => new BigInt64Array(k));
      this.#eqValue = grow(this.#eqValue, (k) => new Float64Array(k));
      this.#eqExposure = grow(this.#eqExposure, (k) => new Float64Array(k));
    }
    this.#eqTime[n] = t;
    this.#eqLastT = t;
    this.#eqValue[n] = this.#equityF;
    this.#eqExposure[n] = exposure;
    this.#eqLen = n + 1;
  }

  #act(st: SymbolState, signal: Signal, phase: SessionPhase, killBlocked: boolean, close: number): void {
    if (signal.action === 'exit') {
      if (st.escalator !== undefined) st.escalator.abandon('exit signal');
      else if (st.entryOrder !== undefined) this.#cancel(st.entryOrder, 'exit signal');
      if (st.trade !== undefined && st.exitOrder === undefined) this.#exit(st, signal.reason, close);
      return;
    }
    const side: Side = signal.action === 'enter-long' ? 'Buy' : 'Sell';
    const skip = (why: string): void => this.#log.log('info', 'entry-skipped', { symbol: st.symbol, why, signal: signal.reason, tsNs: this.#clock.now() });
    if (st.trade !== undefined || st.entryOrder !== undefined || st.escalator !== undefined) return;
    if (side === 'Sell' && this.#longOnly) return skip('long-only');
    if (phase !== 'ACTIVE') return skip(`session phase ${phase}: exits only`);
    if (killBlocked) return skip(this.#kill.reason() ?? 'kill switch');
    if (this.#cooldowns.isCooling(st.symbol, st.index)) return skip('cooldown after stop loss');
    const inst = st.instrument;
    const price = priceFromFloat(close, inst.pricePrecision);
    const portfolio = this.oms.portfolio;
    if (this.#riskNeedsMarks) this.#markHeld();
    // equity for sizing: cash (exact) plus positions at their last closes, to the cent; the sized quantity is exact
    const equity = Money.of(this.#equityF.toFixed(2), this.#currency);
    const freeCash = Money.of(portfolio.cashBalance(this.#currency), this.#currency);
    const decision = this.#sizer.size({ equity, freeCash, price, instrument: inst });
    if (decision.kind === 'none') return skip(decision.reason);
    const key = `${st.symbol}:entry:${st.index}`;
    const order: Order =
      decision.kind === 'quantity'
        ? marketOrder(st.symbol, side, decision.quantity, key)
        : notionalOrder(st.symbol, side, decision.notional.amount, decision.notional.amount.div(price, this.#lotPrecision, 'floor'), key);
    const check = this.risk.checkOrder(order, portfolio);
    if (check.isReject) {
      const reason = check.reason;
      return skip(`risk: ${reason === undefined ? 'rejected' : JSON.stringify(reason.toDict())}`);
    }
    const trade = new OpenTrade(this.#nextTradeId++, st.symbol, side === 'Buy' ? 'Long' : 'Short');
    trade.takeProfitPct = signal.takeProfitPct ?? this.#tpPct;
    trade.stopLossPct = signal.stopLossPct ?? this.#slPct;
    // layer 1: take-profit / stop-loss legs held at the venue, active once the entry fills completely
    let bracket: { takeProfit: Price; stopLoss: Price } | undefined;
    if (decision.kind === 'quantity' && this.config.exits.brackets && this.#venue.capabilities.brackets && trade.takeProfitPct !== undefined && trade.stopLossPct !== undefined) {
      const sign = side === 'Buy' ? 1 : -1;
      const tp = priceFromFloat(close * (1 + (sign * trade.takeProfitPct) / 100), inst.pricePrecision).roundTo(inst.tickSize, side === 'Buy' ? 'ceil' : 'floor');
      const sl = priceFromFloat(close * (1 - (sign * trade.stopLossPct) / 100), inst.pricePrecision).roundTo(inst.tickSize, side === 'Buy' ? 'floor' : 'ceil');
      if (tp.isPositive() && sl.isPositive() && (side === 'Buy' ? tp.gt(sl) : tp.lt(sl))) bracket = { takeProfit: tp, stopLoss: sl };
    }
    // the trade exists before the venue hears of the order: its events may arrive inside submit
    st.trade = trade;
    this.#entries++;
    if (this.config.execution.entry === 'escalate' && decision.kind === 'quantity') {
      const fair = priceFromFloat(signal.fairPrice ?? close, inst.pricePrecision);
      st.escalatorReason = signal.reason;
      st.escalator = new EntryEscalator({ symbol: st.symbol, side, quantity: decision.quantity, fairPrice: fair, tickSize: inst.tickSize }, this.#escalatorDeps(st, signal.reason), this.#escalation);
      st.escalator.start();
      return;
    }
    this.#send(st, order, 'entry', signal.reason, bracket);
  }

  get #escalation(): { firstTimeoutNs: bigint; secondTimeoutNs: bigint; maxAttempts: number; marketTimeout: boolean } {
    const x = this.config.execution;
    return { firstTimeoutNs: BigInt(x.first_timeout_ms) * 1_000_000n, secondTimeoutNs: BigInt(x.second_timeout_ms) * 1_000_000n, maxAttempts: x.max_attempts, marketTimeout: x.market_timeout };
  }

  /** The escalator's way to the venue: every order goes through the OMS, an intent and the working set. */
  #escalatorDeps(st: SymbolState, reason: string): ConstructorParameters<typeof EntryEscalator>[1] {
    const port: OrderPort = {
      send: (req) => {
        const attempt = (st.trade?.entryAttempts ?? 0) + 1;
        if (st.trade !== undefined) st.trade.entryAttempts = attempt;
        const key = `${st.symbol}:entry:${st.index}:${attempt}`;
        const order = req.type === 'Limit' && req.limitPrice !== undefined ? limitOrder(st.symbol, req.side, req.quantity, req.limitPrice, key) : marketOrder(st.symbol, req.side, req.quantity, key);
        return this.#send(st, order, 'entry', `${reason}: ${req.reason}`, undefined, req.type === 'Limit' ? req.limitPrice : undefined) as ClientOrderId;
      },
      cancel: (id, why) => this.#cancel(id, why),
      lastTrade: () => priceFromFloat(st.lastClose, st.instrument.pricePrecision),
    };
    return {
      clock: this.#clock,
      port,
      tracker: this.#tracker,
      callbacks: {
        onDone: (outcome) => {
          st.escalator = undefined;
          this.#log.log('info', 'entry-escalation-done', { symbol: st.symbol, outcome, tsNs: this.#clock.now() });
          if (st.trade !== undefined && st.trade.entryQty.isZero() && st.entryOrder === undefined) st.trade = undefined;
        },
      },
    };
  }

  #markHeld(): void {
    const portfolio = this.oms.portfolio;
    for (const h of this.#held) {
      if (h.markedClose === h.lastClose) continue;
      portfolio.setMark(h.symbol, Decimal.of(shortestString(h.lastClose)));
      h.markedClose = h.lastClose;
    }
  }

  #exit(st: SymbolState, reason: string, _close: number): void {
    const trade = st.trade;
    if (trade === undefined || st.exitOrder !== undefined) return;
    if (st.legs.length > 0) {
      // never sell what a leg may be selling: cancel the group (one leg cancels both), exit once confirmed
      st.pendingExit = reason;
      this.#cancel(st.legs[0] as ClientOrderId, `exit: ${reason}`);
      if (st.legs.length > 0) return;
      st.pendingExit = undefined;
    }
    const qty = this.oms.portfolio.positionQuantity(st.symbol);
    if (qty.isZero()) return;
    const side: Side = qty.isPositive() ? 'Sell' : 'Buy';
    trade.exitReason = reason;
    trade.exitAttempts++;
    const order = marketOrder(st.symbol, side, Quantity.of(qty.abs()), `${st.symbol}:exit:${st.index}:${trade.id}:${trade.exitAttempts}`);
    this.#send(st, order, 'exit', reason);
  }

  #liquidate(st: SymbolState, close: number): void {
    if (st.entryOrder !== undefined) this.#cancel(st.entryOrder, 'EOD liquidation');
    if (st.trade !== undefined && st.exitOrder === undefined) this.#exit(st, 'eod-liquidation', close);
  }

  #nextClientId: string | undefined;

  #takeClientId(): string {
    const id = this.#nextClientId;
    if (id === undefined) throw new EngineError('InvalidState', 'an OMS order id was requested outside #send');
    this.#nextClientId = undefined;
    return id;
  }

  /** A UUID-shaped id from sha256(seed, symbol, bar index, purpose, trade id): the same order always gets the same id. */
  #clientIdFor(st: SymbolState, purpose: Purpose): string {
    const tradeId = st.trade?.id ?? this.#nextTradeId;
    const attempt = purpose === 'exit' ? (st.trade?.exitAttempts ?? 0) : (st.trade?.entryAttempts ?? 0);
    const ns = this.idNamespace === undefined ? '' : `${this.idNamespace}|`;
    const h = sha256Hex(`${ns}${this.config.run.seed}|${st.symbol}|${st.index}|${purpose}|${tradeId}|${attempt}`);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 17), 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  #send(st: SymbolState, order: Order, purpose: Purpose, reason: string, bracket?: { takeProfit: Price; stopLoss: Price }, limitPrice?: Price): ClientOrderId | undefined {
    const escalated = purpose === 'entry' && st.escalator !== undefined;
    this.#nextClientId = this.#clientIdFor(st, purpose);
    const id = this.oms.submit(order) as ClientOrderId;
    const notional = order.notional === undefined ? undefined : Money.of(order.notional, this.#currency);
    const request: OrderRequest = {
      clientOrderId: id,
      symbol: st.symbol,
      side: order.side,
      type: limitPrice === undefined ? 'Market' : 'Limit',
      quantity: order.quantity,
      ...(limitPrice === undefined ? {} : { limitPrice }),
      timeInForce: 'GTC',
      tsInit: this.#clock.now(),
      ...(notional === undefined ? {} : { notional }),
      ...(bracket === undefined ? {} : { bracket }),
    };
    this.#working.set(id, {
      clientOrderId: id,
      symbol: st.symbol,
      purpose,
      side: order.side,
      reason,
      ...(bracket === undefined ? {} : { bracket: { takeProfit: bracket.takeProfit.toString(), stopLoss: bracket.stopLoss.toString() } }),
    });
    if (purpose === 'entry') st.entryOrder = id;
    else st.exitOrder = id;
    // the intent is durable before the venue hears of the order: a restart can always ask the venue about it
    // (an escalator tracks its own orders' states: it opens them once the id is known)
    if (escalated) this.#escalated.add(id);
    else this.#tracker.open(id);
    this.#recordIntent({
      clientOrderId: id,
      symbol: st.symbol,
      side: order.side,
      type: limitPrice === undefined ? 'Market' : 'Limit',
      quantity: order.quantity.toString(),
      ...(limitPrice === undefined ? {} : { limitPrice: limitPrice.toString() }),
      ...(notional === undefined ? {} : { notional: notional.amountString() }),
      purpose,
      reason,
      barIndex: st.index,
      createdNs: request.tsInit,
    });
    if (!escalated) this.#tracker.apply(id, 'submit', { reason, tsNs: request.tsInit, cause: { source: 'engine', purpose } });
    this.#log.log('info', 'order-submit', { id, symbol: st.symbol, purpose, side: order.side, quantity: order.quantity.toString(), notional: notional?.toString(), reason, tsNs: request.tsInit });
    this.#deps.hooks?.beforeSubmit?.(this, request);
    if (this.#deps.deferSends === true) this.#outgoing.push(request);
    else {
      // the venue may answer inside submit(), before an escalation knows the id it is sending
      this.#submitting = id;
      try {
        this.#venue.submit(request).catch((e: unknown) => this.#onSendFailure(id, e));
      } finally {
        this.#submitting = undefined;
      }
    }
    return id;
  }

  #submitting: ClientOrderId | undefined;

  /**
   * Mixed into client order ids (from `deps.idNamespace`); a live driver replaying a task of an earlier
   * process start sets that start's namespace for the replay, so the replay rebuilds the same ids.
   */
  idNamespace: string | undefined;

  /**
   * Removes the held orders (not the cancels) without sending them, and returns their ids: after a replay,
   * the process that died may or may not have sent them, so they are never sent again; reconciliation asks
   * the venue about each by its client order id (found: its events follow; not found: never placed).
   */
  dropHeldOrders(reason: string): ClientOrderId[] {
    const dropped: ClientOrderId[] = [];
    for (const r of this.#outgoing.splice(0)) {
      if ('cancel' in r) this.#outgoing.push(r);
      else dropped.push(r.clientOrderId);
    }
    for (const id of dropped) this.#log.log('warn', 'order-not-resent', { id, reason, tsNs: this.#clock.now() });
    return dropped;
  }

  /** Orders and cancels held for `flushSends()` (with `deferSends`), in the order they were made. */
  readonly #outgoing: (OrderRequest | { readonly cancel: ClientOrderId })[] = [];

  /** How many orders and cancels wait for `flushSends()`. */
  get pendingSends(): number {
    return this.#outgoing.length;
  }

  /**
   * Hands the held orders and cancels to the venue (with `deferSends`), in order; call it once their
   * intents and the state around them are committed. Resolves when the venue has taken (or failed) them all.
   */
  flushSends(): Promise<void> {
    if (this.#outgoing.length === 0) return Promise.resolve();
    const batch = this.#outgoing.splice(0);
    return Promise.all(
      batch.map((r) =>
        'cancel' in r
          ? this.#venue.cancel(r.cancel).catch((e: unknown) => this.#log.log('warn', 'cancel-failed', { id: r.cancel, error: (e as Error)?.message ?? String(e) }))
          : this.#venue.submit(r).catch((e: unknown) => this.#onSendFailure(r.clientOrderId, e)),
      ),
    ).then(() => undefined);
  }

  /**
   * Writes the intent before the venue hears of the order. After a resume, the same deterministic id may
   * already be stored from the crashed run's bars past the checkpoint: the checkpointed venue never saw it
   * (a backtest venue is restored with the engine), so it is reused when it describes the same order; any
   * other clash is state the engine does not understand, and it halts.
   */
  #recordIntent(intent: Parameters<StateStore['recordIntent']>[0]): void {
    const store = this.#state;
    if (store === undefined) return;
    try {
      store.recordIntent(intent);
    } catch (e) {
      if (!(e instanceof AxonError) || e.code !== 'DuplicateIntent' || !this.#resumed) throw e;
      const old = store.intents().find((i) => i.clientOrderId === intent.clientOrderId);
      if (old === undefined || old.symbol !== intent.symbol || old.side !== intent.side || old.quantity !== intent.quantity || old.purpose !== intent.purpose) {
        this.halt(`intent ${intent.clientOrderId} clashes with a stored one after resume`);
        throw e;
      }
      store.setIntentStatus(intent.clientOrderId, 'PENDING', intent.createdNs);
      this.#audit.append({ kind: 'intent', subject: intent.clientOrderId, reason: 'intent from the crashed run past the checkpoint, re-sent after resume' });
    }
  }

  #resumed = false;

  #onTransition(t: OrderTransition): void {
    this.#audit.append({ kind: 'transition', subject: t.clientOrderId, fromState: t.from, toState: t.to, reason: t.reason, event: t.cause });
    if (this.#state !== undefined && t.to !== 'SUBMITTED') this.#state.setIntentStatus(t.clientOrderId, t.to, t.tsNs);
  }

  /** The hash-chained audit trail of every order transition and correction. */
  get audit(): AuditTrail {
    return this.#audit;
  }

  #onSendFailure(id: ClientOrderId, e: unknown): void {
    // the outcome is unknown: never assume rejected; reconciliation asks the venue by client order id
    this.#log.log('error', 'submit-failed', { id, error: (e as Error)?.message ?? String(e), tsNs: this.#clock.now() });
  }

  #cancel(id: ClientOrderId, reason: string): void {
    this.#log.log('info', 'order-cancel', { id, reason, tsNs: this.#clock.now() });
    if (this.#deps.deferSends === true) {
      this.#outgoing.push({ cancel: id });
      return;
    }
    this.#venue.cancel(id).catch((e: unknown) => this.#log.log('warn', 'cancel-failed', { id, error: (e as Error)?.message ?? String(e) }));
  }

  /** Applies one venue event: status in the OMS, fills to the portfolio (deduplicated by execution id) and the trade. */
  onVenueEvent(e: VenueEvent): void {
    if (e.kind !== 'position-changed') {
      const escalator = this.#escalated.has(e.clientOrderId) ? this.#symbols.get(this.#working.get(e.clientOrderId)?.symbol ?? this.#recentDone.get(e.clientOrderId)?.symbol ?? '')?.escalator : undefined;
      // an event of an earlier escalation's order (late, after that escalation ended) goes to the shared table
      if (escalator !== undefined && (escalator.owns(e.clientOrderId) || e.clientOrderId === this.#submitting)) escalator.onEvent(e);
      else this.#track(e);
    }
    switch (e.kind) {
      case 'accepted':
        this.#status(e.clientOrderId, 'Acknowledged');
        break;
      case 'filled':
        this.#onFill(e);
        break;
      case 'canceled':
        this.#status(e.clientOrderId, 'Cancelled', e.reason);
        this.#done(e.clientOrderId);
        break;
      case 'expired':
        this.#status(e.clientOrderId, 'Expired');
        this.#done(e.clientOrderId);
        break;
      case 'rejected':
        this.#status(e.clientOrderId, 'Rejected', e.reason);
        this.#log.log('warn', 'order-rejected', { id: e.clientOrderId, reason: e.reason, tsNs: e.tsEvent });
        this.#done(e.clientOrderId);
        break;
      case 'cancel-rejected':
        this.#log.log('info', 'cancel-rejected', { id: e.clientOrderId, reason: e.reason, tsNs: e.tsEvent });
        break;
      case 'modified':
        break;
      case 'position-changed':
        this.#log.log('warn', 'venue-position-changed', { symbol: e.symbol, signedQty: e.signedQty, tsNs: e.tsEvent });
        break;
    }
    this.#deps.hooks?.afterVenueEvent?.(this, e);
  }

  #track(e: Exclude<VenueEvent, { kind: 'position-changed' }>): void {
    const id = e.clientOrderId;
    const event = engineEventOf(e);
    if (event === undefined || !this.#tracker.has(id)) return;
    if (e.kind === 'filled' && this.oms.portfolio.hasFill(e.tradeId)) return; // a duplicate execution: deduped before the table
    if (!this.#tracker.canApply(id, event)) {
      this.#log.log('warn', 'transition-refused', { id, event, state: this.#tracker.state(id), tsNs: e.tsEvent });
      return;
    }
    const to = this.#tracker.apply(id, event, { reason: e.kind, tsNs: e.tsEvent, cause: causeOfVenueEvent(e) });
    if (isTerminalEngineState(to) && (e.kind !== 'filled' || e.leavesQty.isZero())) this.#tracker.forget(id);
  }

  #status(id: string, kind: 'Acknowledged' | 'Cancelled' | 'Expired' | 'Rejected', reason?: string): void {
    if (this.oms.getOrder(id) === undefined) {
      this.#log.log('warn', 'event-for-unknown-order', { id, kind });
      return;
    }
    const current = this.oms.getOrderStatus(id);
    if (current === undefined) return; // already terminal here (e.g. filled before a late cancel ack)
    try {
      this.oms.updateStatus(id, makeOrderStatus(kind, reason === undefined ? {} : { reason }));
    } catch (err) {
      this.#log.log('warn', 'status-refused', { id, kind, error: (err as Error).message });
    }
  }

  #onFill(e: Extract<VenueEvent, { kind: 'filled' }>): void {
    const w = this.#working.get(e.clientOrderId) ?? this.#recentDone.get(e.clientOrderId);
    if (w === undefined) {
      if (this.oms.portfolio.hasFill(e.tradeId)) return; // a duplicate of a fill already applied
      this.#log.log('error', 'fill-for-unknown-order', { id: e.clientOrderId, tradeId: e.tradeId, symbol: e.symbol });
      return;
    }
    let added: boolean;
    try {
      added = this.oms.addFill({
        orderId: w.clientOrderId,
        fillId: e.tradeId,
        symbol: e.symbol,
        price: e.lastPx,
        quantity: e.lastQty,
        fee: e.commission.amount,
        feeCurrency: e.commission.currency,
        tsNs: e.tsEvent,
        // only a notional order completes on the venue's word; a sized one completes by quantity, so a
        // fill whose event was lost keeps it open in the OMS until reconciliation applies it
        final: e.leavesQty.isZero() && this.oms.getOrder(w.clientOrderId)?.order.notional !== undefined,
      });
    } catch (err) {
      // a fill the ledger cannot take is state the engine does not understand: refused, logged loudly,
      // audited; reconciliation brings the position back to the venue's
      this.#log.log('error', 'fill-refused', { id: w.clientOrderId, tradeId: e.tradeId, error: (err as Error).message, tsNs: e.tsEvent });
      this.#audit.append({ kind: 'correction', subject: w.clientOrderId, reason: `fill ${e.tradeId} refused: ${(err as Error).message}`, event: { source: 'engine' } });
      return;
    }
    if (!added) return;
    this.#state?.recordFill({
      tradeId: e.tradeId,
      clientOrderId: w.clientOrderId,
      symbol: e.symbol,
      side: e.side,
      qty: e.lastQty.toString(),
      px: e.lastPx.toString(),
      fee: e.commission.amountString(),
      feeCurrency: e.commission.currency,
      tsNs: e.tsEvent,
    });
    const st = this.#symbolState(w.symbol);
    const trade = st.trade;
    const px = Decimal.of(e.lastPx);
    const q = Decimal.of(e.lastQty);
    const fee = e.commission.currency === this.#currency ? e.commission.amount : Decimal.ZERO;
    if (trade !== undefined) {
      if (w.purpose === 'entry') {
        if (trade.entryQty.isZero()) trade.entryTimeNs = e.tsEvent;
        trade.entryQty = trade.entryQty.add(q);
        trade.entryNotional = trade.entryNotional.add(px.mul(q));
        trade.entryPxF = trade.entryNotional.toNumber() / trade.entryQty.toNumber();
      } else {
        if (w.leg === true) trade.exitReason = w.reason;
        trade.exitQty = trade.exitQty.add(q);
        trade.exitNotional = trade.exitNotional.add(px.mul(q));
        trade.exitTimeNs = e.tsEvent;
      }
      trade.fees = trade.fees.add(fee);
    }
    const pos = this.oms.portfolio.positionQuantity(w.symbol);
    st.qtyF = pos.toNumber();
    if (st.qtyF !== 0) this.#held.add(st);
    else this.#held.delete(st);
    this.#revalue();
    this.#log.log('info', 'fill', { id: w.clientOrderId, tradeId: e.tradeId, symbol: w.symbol, side: e.side, qty: e.lastQty.toString(), px: e.lastPx.toString(), fee: e.commission.toString(), leaves: e.leavesQty.toString(), tsNs: e.tsEvent });
    if (e.leavesQty.isZero()) {
      this.#done(w.clientOrderId);
      if (w.bracket !== undefined && trade !== undefined) this.#registerLegs(st, w, trade);
    }
    if (trade !== undefined && w.purpose === 'exit' && pos.isZero() && !trade.entryQty.isZero()) {
      this.#closedTrades.push(trade.record());
      if (trade.exitReason === 'stop-loss') this.#cooldowns.onStopLoss(st.symbol, st.index);
      this.#endTrade(st, 'position closed');
    }
  }

  /**
   * The venue creates a filled bracket entry's legs (`<entry>-tp`, `<entry>-sl`, for the filled quantity):
   * the engine records them as its own exit orders (OMS order, intent, order state) before their first event.
   */
  #registerLegs(st: SymbolState, entry: WorkingOrder, trade: OpenTrade): void {
    const b = entry.bracket;
    if (b === undefined || trade.legsRegistered) return;
    // a late final fill of an entry whose legs exist already (reported again, or applied to a later trade)
    const tpId = `${entry.clientOrderId}-tp`;
    // (the OMS, restored with the engine, knows them; state.sqlite is no guide: after a resume it also holds
    // the crashed run's intents past the checkpoint, which the resumed run must register again)
    if (this.#working.has(tpId) || this.#recentDone.has(tpId) || this.oms.getOrder(tpId) !== undefined) return;
    trade.legsRegistered = true;
    // the venue sizes the legs to the entry's filled quantity: all of it, since legs exist only after a complete fill
    const qty = this.oms.getOrder(entry.clientOrderId)?.order.quantity ?? Quantity.of(trade.entryQty);
    const side: Side = entry.side === 'Buy' ? 'Sell' : 'Buy';
    for (const [suffix, reason, type, px] of [
      ['tp', 'take-profit', 'Limit', b.takeProfit],
      ['sl', 'stop-loss', 'Stop', b.stopLoss],
    ] as const) {
      const id = `${entry.clientOrderId}-${suffix}` as ClientOrderId;
      this.#nextClientId = id;
      try {
        this.oms.submit(type === 'Limit' ? limitOrder(st.symbol, side, qty, px, `${id}`) : marketOrder(st.symbol, side, qty, `${id}`));
      } catch (e) {
        // registered long ago (the OMS keeps the key after it dropped the order from its history): nothing new
        this.#nextClientId = undefined;
        if (e instanceof AxonError && e.code === 'DuplicateIdempotencyKey') {
          this.#log.log('warn', 'bracket-legs-known', { entry: entry.clientOrderId, id });
          return;
        }
        throw e;
      }
      this.#working.set(id, { clientOrderId: id, symbol: st.symbol, purpose: 'exit', side, reason, leg: true });
      st.legs.push(id);
      this.#tracker.open(id);
      this.#recordIntent({ clientOrderId: id, symbol: st.symbol, side, type, quantity: qty.toString(), limitPrice: px, purpose: `bracket-${suffix}`, reason, barIndex: st.index, createdNs: this.#clock.now() });
      this.#tracker.apply(id, 'submit', { reason, tsNs: this.#clock.now(), cause: { source: 'venue-bracket', parent: entry.clientOrderId } });
    }
  }

  /** orders finished since the last reconciliation: it checks them too (a lost fill event shows there) */
  readonly #recentDone = new Map<string, WorkingOrder>();

  #done(id: ClientOrderId): void {
    const w = this.#working.get(id);
    if (w === undefined) return;
    this.#working.delete(id);
    this.#recentDone.set(id, w);
    const st = this.#symbols.get(w.symbol);
    if (st === undefined) return;
    if (st.entryOrder === id) {
      st.entryOrder = undefined;
      // an entry that ended without any fill leaves no trade
      if (st.trade !== undefined && st.trade.entryQty.isZero() && st.escalator === undefined) st.trade = undefined;
    }
    if (st.exitOrder === id) st.exitOrder = undefined;
    if (w.leg === true) st.legs = st.legs.filter((l) => l !== id);
  }

  #revalue(): void {
    this.#cashF = this.oms.portfolio.cashBalance(this.#currency).toNumber();
    let eq = this.#cashF;
    let gross = 0;
    // first-seen symbol order, not position-opening order: a restored engine sums in the same order
    for (const h of this.#symbols.values()) {
      if (h.qtyF === 0) continue;
      const v = h.qtyF * h.lastClose;
      eq += v;
      gross += Math.abs(v);
    }
    this.#equityF = eq;
    this.#grossF = gross;
  }

  /** Cancels every order the engine has working (shutdown, end of a session of trading); outcomes arrive as events. */
  cancelAll(reason: string): void {
    for (const w of [...this.#working.values()]) this.#cancel(w.clientOrderId, reason);
  }

  /** Bars handled so far. */
  get barCount(): number {
    return this.#bars;
  }

  /** Entries sent so far (the trade count). */
  get entryCount(): number {
    return this.#entries;
  }

  /** Current float equity (cash + positions at the last close), for display and guardrails. */
  get equity(): number {
    return this.#equityF;
  }

  /** Orders the engine is waiting on. */
  workingOrders(): WorkingOrder[] {
    return [...this.#working.values()];
  }

  /** The equity curve so far, columnar (views, not copies). */
  equityCurve(): EquityColumns {
    return { timeNs: this.#eqTime.subarray(0, this.#eqLen), equity: this.#eqValue.subarray(0, this.#eqLen), exposure: this.#eqExposure.subarray(0, this.#eqLen) };
  }

  /** Closed round trips, then the ones still open. */
  trades(): TradeRecord[] {
    const open: TradeRecord[] = [];
    for (const st of this.#symbols.values()) if (st.trade !== undefined && !st.trade.entryQty.isZero()) open.push(st.trade.record());
    open.sort((a, b) => a.id - b.id);
    return [...this.#closedTrades, ...open];
  }

  /** Exact final equity: cash plus every position at its last close (the data's own decimal). */
  exactEquity(): Decimal {
    let eq = this.oms.portfolio.cashBalance(this.#currency);
    for (const st of this.#symbols.values()) {
      const q = this.oms.portfolio.positionQuantity(st.symbol);
      if (!q.isZero()) eq = eq.add(q.mul(Decimal.of(shortestString(st.lastClose))));
    }
    return eq;
  }

  /**
   * The engine's state as plain data (bigints kept), for checkpoints: counters, kill switch, cooldowns,
   * the portfolio, working orders and their states, open trades, indicator and strategy state per symbol.
   * The equity curve is not included (it grows with the run; a later step stores it incrementally).
   */
  snapshot(): Record<string, unknown> {
    return this.#snapshot(false);
  }

  /**
   * snapshot(); with `scratch`, the symbol columns are views of buffers reused by the next such call
   * (the checkpoint encodes them at once): writing 1-2 MB of freshly allocated pages cost more page
   * faults than the packing itself; and the name, anchor and layout columns are the last checkpoint's
   * frozen lists while they are unchanged. One pass over the symbols: each pass reads 1,000 symbols'
   * scattered state from memory.
   */
  #snapshot(scratch: boolean): Record<string, unknown> {
    const reuseRecords = this.#deps.reuseRecords ?? true;
    // columns, not an object per symbol: with 1,000 symbols the per-symbol objects and their walk in the
    // encoder were most of a checkpoint; the indicators of every symbol pack into one Float64Array
    const n = this.#symbols.size;
    const names: string[] = new Array<string>(n);
    const anchors: bigint[] = new Array<bigint>(n);
    const layouts: string[] = new Array<string>(n);
    let nums: Float64Array;
    let packed: Float64Array<ArrayBuffer>;
    if (scratch) {
      if (this.#numsScratch.length < n * SYMBOL_NUMS) this.#numsScratch = new Float64Array(n * SYMBOL_NUMS);
      nums = this.#numsScratch.subarray(0, n * SYMBOL_NUMS);
      // grown in the pass below when a symbol does not fit
      packed = this.#packScratch;
    } else {
      let slots = 0;
      for (const st of this.#symbols.values()) slots += st.indicators.packedLength();
      nums = new Float64Array(n * SYMBOL_NUMS);
      packed = new Float64Array(slots);
    }
    const sparse: Record<string, unknown>[] = [];
    let i = 0;
    let at = 0;
    for (const st of this.#symbols.values()) {
      names[i] = st.symbol;
      anchors[i] = st.nextAnchorNs;
      layouts[i] = st.indicators.layout;
      const o = i * SYMBOL_NUMS;
      nums[o] = st.index;
      nums[o + 1] = st.lastClose;
      nums[o + 2] = st.markedClose;
      nums[o + 3] = st.qtyF;
      if (scratch) this.#packScratch = packed = withRoom(packed, at, at + st.indicators.packedLength());
      let end: number;
      if (scratch && st.prepackAt === st.indicators.version) {
        // packed at its last update (see #prepack): a copy of contiguous slots
        const off = st.prepackOff;
        const len = st.prepackEnd - off;
        const src = this.#prepackBuf;
        for (let k = 0; k < len; k++) packed[at + k] = src[off + k] as number;
        end = at + len;
      } else end = st.indicators.packInto(packed, at);
      nums[o + 4] = end - at;
      at = end;
      if (reuseRecords && st.escalator === undefined && enginesOwn(st)) {
        // only the engine's own fields: compared by identity with those the last record was made from
        // (a symbol that holds nothing keeps its key too: most of them, most of the time)
        if (st.extrasKey !== undefined && sameExtrasKey(st.extrasKey, st, i)) {
          if (st.extrasSnap !== undefined) sparse.push(st.extrasSnap);
        } else {
          const rec = this.#symbolExtras(st);
          st.extrasKey = extrasKey(st, i);
          if (rec === undefined) st.extrasSnap = undefined;
          else {
            rec.i = i;
            sparse.push((st.extrasSnap = frozenData(rec)));
          }
        }
        i++;
        continue;
      }
      const extra = this.#symbolExtras(st);
      if (!reuseRecords) {
        // afresh, leaving the reused records as they are
        if (extra !== undefined) sparse.push(Object.assign(extra, { i }));
        i++;
        continue;
      }
      st.extrasKey = undefined;
      if (extra !== undefined) {
        extra.i = i;
        // an unchanged record stays the same frozen object, so the list below can too
        const last = st.extrasSnap;
        if (last !== undefined && samePlainData(last, extra)) sparse.push(last);
        // a copy is frozen: strategy and indicator snapshots may share objects their owners still change
        else sparse.push((st.extrasSnap = frozenData(structuredClone(extra))));
      } else st.extrasSnap = undefined;
      i++;
    }
    return {
      version: 3,
      bars: this.#bars,
      steps: this.#steps,
      lastStepT: this.#lastStepT,
      cashF: this.#cashF,
      equityF: this.#equityF,
      grossF: this.#grossF,
      corrections: this.#corrections,
      lastReconciledStep: this.#lastReconciledStep,
      eqLen: this.#eqLen,
      entries: this.#entries,
      nextTradeId: this.#nextTradeId,
      halted: this.#halted ?? null,
      killSwitch: this.#kill.snapshot(),
      cooldowns: this.#cooldowns.snapshot(),
      // active orders and the retained history with their fills and keys, in O(live state): memory of older
      // fills and idempotency keys is dropped so a checkpoint does not grow with the run (the engine's ids
      // are never reused, and state.sqlite keeps every fill); a duplicate of a fill older than the
      // retained history is not caught after a resume: venues repeat fills within seconds, not hours
      oms: this.oms.liveSnapshot(),
      // entries are readonly and never changed in place: shared, not copied
      working: (this.#liveWorking = sameFrozenList(this.#liveWorking, [...this.#working.values()])),
      orderStates: this.#tracker.snapshot(),
      escalated: [...this.#escalated],
      closedTrades: this.#closedTrades.length,
      audit: this.#audit.head(),
      // packInto writes at most packedLength() slots (shared windows are left out): the used part
      symbols: {
        names: scratch ? (this.#liveNames = sameFrozenList(this.#liveNames, names)) : names,
        anchors: scratch ? (this.#liveAnchors = sameFrozenList(this.#liveAnchors, anchors)) : anchors,
        layouts: scratch ? (this.#liveLayouts = sameFrozenList(this.#liveLayouts, layouts)) : layouts,
        nums,
        packed: packed.subarray(0, at),
        sparse: reuseRecords ? (this.#liveSparse = sameFrozenList(this.#liveSparse, sparse)) : sparse,
      },
    };
  }

  /**
   * Packs the symbol's indicators into its region of #prepackBuf (see #snapshot). Packing 1,000 symbols at
   * the checkpoint reads each one's ~20 scattered objects from memory (measured 1.3 ms cold, 0.27 ms warm);
   * packed right after their last update before the checkpoint, the checkpoint copies contiguous slots.
   */
  #prepack(st: SymbolState): void {
    const need = st.indicators.packedLength();
    if (need > st.prepackCap) {
      this.#prepackBuf = withRoom(this.#prepackBuf, this.#prepackUsed, this.#prepackUsed + need);
      st.prepackOff = this.#prepackUsed;
      st.prepackCap = need;
      this.#prepackUsed += need;
    }
    st.prepackEnd = st.indicators.packInto(this.#prepackBuf, st.prepackOff);
    st.prepackAt = st.indicators.version;
  }
  #prepackBuf = new Float64Array(0);
  #prepackUsed = 0;

  #numsScratch = new Float64Array(0);
  #packScratch = new Float64Array(0);
  /** The last checkpoint's lists (frozenData), kept while their elements are the same. */
  #liveWorking: readonly WorkingOrder[] | undefined;
  #liveSparse: readonly Record<string, unknown>[] | undefined;
  #liveNames: readonly string[] | undefined;
  #liveAnchors: readonly bigint[] | undefined;
  #liveLayouts: readonly string[] | undefined;

  /**
   * What a symbol holds beyond its columns (orders, legs, an open trade, an escalator, strategy state,
   * indicators that do not pack), or undefined when it holds none of it: most symbols, most of the time.
   */
  #symbolExtras(st: SymbolState): Record<string, unknown> | undefined {
    const objects = st.indicators.objectSnapshots();
    // each strategy's snapshot is taken once, and a list is made only when one is not the default
    let strategies: { enabled: boolean; state: unknown }[] | undefined;
    for (let k = 0; k < st.slots.length; k++) {
      const slot = st.slots[k] as StrategySlot;
      const state = slot.strategy.snapshot?.() ?? null;
      if (strategies === undefined) {
        if (slot.enabled && state === null) continue;
        // the slots before this one were all enabled without state
        strategies = [];
        for (let j = 0; j < k; j++) strategies.push({ enabled: true, state: null });
      }
      strategies.push({ enabled: slot.enabled, state });
    }
    const t = st.trade;
    if (
      objects === undefined &&
      strategies === undefined &&
      t === undefined &&
      st.entryOrder === undefined &&
      st.exitOrder === undefined &&
      st.legs.length === 0 &&
      st.pendingExit === undefined &&
      st.escalator === undefined
    ) {
      return undefined;
    }
    return {
      i: 0,
      entryOrder: st.entryOrder ?? null,
      exitOrder: st.exitOrder ?? null,
      legs: [...st.legs],
      pendingExit: st.pendingExit ?? null,
      escalator: st.escalator === undefined ? null : { reason: st.escalatorReason ?? '', state: st.escalator.snapshot() },
      trade:
        t === undefined
          ? null
          : {
              id: t.id,
              side: t.side,
              entryQty: t.entryQty.toString(),
              entryNotional: t.entryNotional.toString(),
              exitQty: t.exitQty.toString(),
              exitNotional: t.exitNotional.toString(),
              fees: t.fees.toString(),
              entryTimeNs: t.entryTimeNs,
              exitTimeNs: t.exitTimeNs ?? null,
              exitReason: t.exitReason ?? null,
              takeProfitPct: t.takeProfitPct ?? null,
              stopLossPct: t.stopLossPct ?? null,
              entryPxF: t.entryPxF,
              legsRegistered: t.legsRegistered,
              exitAttempts: t.exitAttempts,
              entryAttempts: t.entryAttempts,
            },
      indicatorObjects: objects ?? null,
      strategies: strategies ?? null,
    };
  }

  /**
   * Restores the state of `snapshot()` (taken by an engine built from the same configuration), with the
   * equity curve and closed trades from state.sqlite's series tables. Nothing is half-restored: the
   * OMS validates its part first, and any inconsistency throws before the engine's own fields change.
   * @throws EngineError InvalidState
   */
  restore(state: Record<string, unknown>): void {
    const store = this.#state;
    if (store === undefined) throw new EngineError('InvalidState', 'restore needs the engine state store');
    if (state.version !== 3) throw new EngineError('InvalidState', `checkpoint engine state version ${String(state.version)} is not 3 (this build writes version 3: symbol columns with shared indicator closes)`);
    const series = (this.#series ??= new SeriesStore(store.db));
    const num = (k: string): number => {
      const v = state[k];
      if (typeof v !== 'number') throw new EngineError('InvalidState', `checkpoint field ${k} is not a number`);
      return v;
    };
    const symbols = readSymbolColumns(state.symbols);
    for (const name of symbols.names) if (!this.#deps.instruments.has(name)) throw new EngineError('InvalidState', `checkpoint symbol ${name} is not an instrument of this run`);
    const lastStepT = state.lastStepT as bigint;
    const eq = series.equity(lastStepT);
    if (eq.timeNs.length !== num('eqLen')) throw new EngineError('InvalidState', `equity series has ${eq.timeNs.length} points, the checkpoint ${num('eqLen')}`);
    const closed = series.trades(num('closedTrades'));
    if (closed.length !== num('closedTrades')) throw new EngineError('InvalidState', `trade series has ${closed.length} trades, the checkpoint ${num('closedTrades')}`);
    // all checks passed: the OMS restores (it validates its own part before changing), then the engine's fields
    this.oms.restore(state.oms as never);
    this.#bars = num('bars');
    this.#steps = num('steps');
    this.#lastStepT = lastStepT;
    this.#checkpointedStep = this.#steps;
    this.#cashF = num('cashF');
    this.#equityF = num('equityF');
    this.#grossF = num('grossF');
    this.#corrections = num('corrections');
    this.#lastReconciledStep = num('lastReconciledStep');
    this.#entries = num('entries');
    this.#nextTradeId = num('nextTradeId');
    this.#halted = (state.halted as string | null) ?? undefined;
    this.#kill.restore(state.killSwitch as never);
    this.#cooldowns.restore(state.cooldowns as Record<string, number>);
    this.#tracker.restore(state.orderStates as never);
    this.#escalated.clear();
    for (const id of (state.escalated as string[] | undefined) ?? []) this.#escalated.add(id);
    this.#working.clear();
    for (const w of state.working as WorkingOrder[]) this.#working.set(w.clientOrderId, { ...w });
    this.#closedTrades.length = 0;
    this.#closedTrades.push(...closed);
    this.#tradesPersisted = closed.length;
    const n = eq.timeNs.length;
    const cap = Math.max(GROW, 1 << Math.ceil(Math.log2(n + 1)));
    this.#eqTime = new BigInt64Array(cap);
    this.#eqValue = new Float64Array(cap);
    this.#eqExposure = new Float64Array(cap);
    for (let i = 0; i < n; i++) {
      this.#eqTime[i] = eq.timeNs[i] as bigint;
      this.#eqValue[i] = eq.equity[i] as number;
      this.#eqExposure[i] = eq.exposure[i] as number;
    }
    this.#eqLen = n;
    this.#eqLastT = n > 0 ? (eq.timeNs[n - 1] as bigint) : -1n;
    this.#eqPersisted = Math.max(0, n - 1);
    this.#held.clear();
    const extras = new Map<number, Record<string, unknown>>();
    for (const e of symbols.sparse) extras.set(e.i as number, e);
    let at = 0;
    for (let i = 0; i < symbols.names.length; i++) {
      const sym = symbols.names[i] as string;
      const st = this.#symbolState(sym);
      const o = i * SYMBOL_NUMS;
      const nums = symbols.nums;
      st.index = nums[o] as number;
      st.lastClose = nums[o + 1] as number;
      st.markedClose = nums[o + 2] as number;
      st.qtyF = nums[o + 3] as number;
      st.nextAnchorNs = symbols.anchors[i] as bigint;
      const len = nums[o + 4] as number;
      const v = extras.get(i) ?? {};
      st.entryOrder = (v.entryOrder as ClientOrderId | null | undefined) ?? undefined;
      st.exitOrder = (v.exitOrder as ClientOrderId | null | undefined) ?? undefined;
      st.legs = [...((v.legs as ClientOrderId[] | undefined) ?? [])];
      st.pendingExit = (v.pendingExit as string | null | undefined) ?? undefined;
      const esc = v.escalator as { reason: string; state: EscalationSnapshot } | null | undefined;
      st.escalator = undefined;
      st.escalatorReason = undefined;
      if (esc !== null && esc !== undefined) {
        st.escalatorReason = esc.reason;
        st.escalator = EntryEscalator.restore(esc.state, this.#escalatorDeps(st, esc.reason));
      }
      const t = v.trade as Record<string, unknown> | null | undefined;
      if (t === null || t === undefined) st.trade = undefined;
      else {
        const trade = new OpenTrade(t.id as number, sym, t.side as 'Long' | 'Short');
        trade.entryQty = Decimal.of(t.entryQty as string);
        trade.entryNotional = Decimal.of(t.entryNotional as string);
        trade.exitQty = Decimal.of(t.exitQty as string);
        trade.exitNotional = Decimal.of(t.exitNotional as string);
        trade.fees = Decimal.of(t.fees as string);
        trade.entryTimeNs = t.entryTimeNs as bigint;
        trade.exitTimeNs = (t.exitTimeNs as bigint | null) ?? undefined;
        trade.exitReason = (t.exitReason as string | null) ?? undefined;
        trade.takeProfitPct = (t.takeProfitPct as number | null) ?? undefined;
        trade.stopLossPct = (t.stopLossPct as number | null) ?? undefined;
        trade.entryPxF = t.entryPxF as number;
        trade.legsRegistered = t.legsRegistered === true;
        trade.exitAttempts = (t.exitAttempts as number | undefined) ?? 0;
        trade.entryAttempts = (t.entryAttempts as number | undefined) ?? 0;
        st.trade = trade;
      }
      st.indicators.restore({
        layout: symbols.layouts[i] as string,
        packed: symbols.packed.subarray(at, at + len),
        objects: (v.indicatorObjects as Record<string, unknown> | null | undefined) ?? {},
      });
      at += len;
      const strategies = v.strategies as { enabled: boolean; state: unknown }[] | null | undefined;
      st.ownRegs = -1;
      st.slots.forEach((slot, k) => {
        const saved = strategies?.[k];
        slot.enabled = saved?.enabled ?? true;
        if (saved !== undefined && saved.state !== null) slot.strategy.restore?.(saved.state);
      });
      if (st.qtyF !== 0) this.#held.add(st);
    }
    this.#resumed = true;
    this.#audit.append({ kind: 'resume', subject: 'engine', reason: `resumed from the checkpoint at bar ${this.#bars}`, event: { bars: String(this.#bars), tsNs: this.#lastStepT } });
  }

  /**
   * Compares local orders and positions with the venue's reports; the venue is the source of truth.
   * Orders the engine waits on that the venue has closed are closed here; an order the venue never saw
   * is closed as never sent (it was queried by its client order id, never assumed rejected). Venue flat
   * and engine holding: local state is cleaned up. The venue holding what the engine does not know:
   * logged loudly, then adopted or the engine halts (`engine.unknown_position`). Every correction is an
   * audit entry.
   */
  async reconcile(reason: string, options: ReconcileOptions = {}): Promise<ReconcileReport> {
    this.#lastReconciledStep = this.#steps;
    const corrections: string[] = [];
    const missingFills: ClientOrderId[] = [];
    const tsNs = this.#clock.now();
    const correct = (subject: string, text: string, event: Record<string, string>): void => {
      corrections.push(`${subject}: ${text}`);
      this.#corrections++;
      this.#audit.append({ kind: 'correction', subject, reason: text, event: { source: 'reconcile', trigger: reason, ...event } });
      this.#log.log('warn', 'reconcile-correction', { subject, text, tsNs });
    };
    // orders first: an order the venue finished while its events were lost
    const recent = [...this.#recentDone.values()];
    const recheck: WorkingOrder[] = [];
    for (const w of [...this.#working.values(), ...recent]) {
      const isWorking = this.#working.has(w.clientOrderId);
      const report = await this.#venue.orderReport(w.clientOrderId);
      if (report === undefined && !isWorking) continue;
      if (report === undefined) {
        correct(w.clientOrderId, 'the venue has no such order: it was never placed', { status: 'unknown' });
        this.#status(w.clientOrderId, 'Rejected', 'never reached the venue');
        this.#done(w.clientOrderId);
        continue;
      }
      // fills the engine never heard of (lost events): applied as one correcting fill for the difference,
      // priced so the order's filled notional matches the venue's average price
      const rec = this.oms.getOrder(w.clientOrderId);
      // only once the venue has closed the order: a fill event that is merely late would otherwise count twice
      const closedAtVenue = report.status === 'filled' || report.status === 'canceled' || report.status === 'expired' || report.status === 'rejected';
      if (closedAtVenue && rec !== undefined && rec.filledQty.lt(report.filledQty) && report.avgPx !== undefined && options.deferMissingFills === true) {
        missingFills.push(w.clientOrderId);
        if (!isWorking) recheck.push(w);
        continue;
      }
      if (closedAtVenue && rec !== undefined && rec.filledQty.lt(report.filledQty) && report.avgPx !== undefined) {
        const missing = report.filledQty.sub(rec.filledQty);
        const venueNotional = Decimal.of(report.avgPx).mul(report.filledQty);
        const px = venueNotional.sub(rec.filledNotional).div(missing, report.avgPx.precision, 'half-even');
        correct(w.clientOrderId, `venue filled ${report.filledQty.toString()}, the engine saw ${rec.filledQty.toString()}: applying the missing ${missing.toString()}`, { status: report.status });
        const final = true;
        this.onVenueEvent(
          Object.freeze({
            kind: 'filled',
            clientOrderId: w.clientOrderId,
            venueOrderId: report.venueOrderId,
            tradeId: `reconcile-${w.clientOrderId}-${report.filledQty.toString()}` as TradeId,
            symbol: report.symbol,
            side: report.side,
            lastQty: Quantity.of(missing),
            lastPx: Price.of(px),
            commission: Money.zero(this.#currency),
            liquiditySide: 'Taker',
            leavesQty: final ? Quantity.zero() : Quantity.of(report.quantity.sub(report.filledQty).abs()),
            tsEvent: tsNs,
            tsInit: tsNs,
          }),
        );
        if (!this.#working.has(w.clientOrderId)) continue;
      }
      if (!isWorking) {
        // seen closed here but still open there (a late cancel or fill is coming): check it again next time
        if (!closedAtVenue) recheck.push(w);
        continue;
      }
      if (report.status === 'filled' && this.#working.has(w.clientOrderId)) {
        // every fill seen but not the last event: nothing is working any more
        this.#done(w.clientOrderId);
        continue;
      }
      if (report.status === 'canceled' || report.status === 'rejected' || report.status === 'expired') {
        const omsKind = report.status === 'canceled' ? 'Cancelled' : report.status === 'rejected' ? 'Rejected' : 'Expired';
        correct(w.clientOrderId, `the venue reports the order ${report.status}`, { status: report.status });
        this.#status(w.clientOrderId, omsKind, `reconciled: ${report.status} at the venue`);
        this.#done(w.clientOrderId);
      }
    }
    // finished orders are checked once more only while the venue still has them open
    this.#recentDone.clear();
    for (const w of recheck) this.#recentDone.set(w.clientOrderId, w);
    // positions: the venue's are the truth
    const venuePositions = new Map<string, Decimal>();
    for (const p of await this.#venue.positionReports()) venuePositions.set(p.symbol, Decimal.of(p.signedQty));
    const balances = (await this.#venue.balanceReport()).balances;
    if (missingFills.length > 0 || (options.quiet !== undefined && !options.quiet())) {
      return { reason, tsNs, corrections, halted: this.#halted !== undefined, missingFills, skippedPositions: true };
    }
    const symbols = new Set<string>([...venuePositions.keys(), ...this.#symbols.keys()]);
    for (const symbol of [...symbols].sort()) {
      const venueQty = venuePositions.get(symbol) ?? Decimal.ZERO;
      const localQty = this.oms.portfolio.positionQuantity(symbol);
      if (venueQty.eq(localQty)) continue;
      const st = this.#symbols.get(symbol);
      // fills in flight: orders working, bracket legs live at the venue
      const pending = st !== undefined && (st.entryOrder !== undefined || st.exitOrder !== undefined || st.legs.length > 0);
      if (pending) continue; // fills in flight: the next reconciliation decides
      if (venueQty.isZero()) {
        correct(symbol, `venue is flat, engine held ${localQty.toString()}: local position closed`, { venueQty: '0', localQty: localQty.toString() });
        this.#forcePosition(symbol, venueQty, 'reconciled: venue flat');
      } else if (localQty.isZero() && this.config.engine.unknown_position === 'halt') {
        correct(symbol, `venue holds ${venueQty.toString()} the engine does not know: halting`, { venueQty: venueQty.toString(), localQty: '0' });
        this.halt(`unknown venue position ${venueQty.toString()} ${symbol}`);
      } else {
        correct(symbol, `venue holds ${venueQty.toString()}, engine ${localQty.toString()}: adopting the venue's`, { venueQty: venueQty.toString(), localQty: localQty.toString() });
        this.#forcePosition(symbol, venueQty, 'reconciled: adopted venue position');
      }
    }
    // cash: the venue's balance is the truth too (fees or moves the engine did not see)
    const venueCash = balances.get(this.#currency);
    if (venueCash !== undefined) {
      const local = this.oms.portfolio.cashBalance(this.#currency);
      const diff = venueCash.amount.sub(local);
      if (!diff.isZero() && this.#working.size === 0) {
        correct(this.#currency, `venue cash ${venueCash.amountString()}, engine ${local.toString()}: adopting the venue's`, { venueCash: venueCash.amountString(), localCash: local.toString() });
        if (diff.isPositive()) this.oms.portfolio.deposit(this.#currency, diff);
        else this.oms.portfolio.withdraw(this.#currency, diff.neg());
        this.#revalue();
      }
    }
    return { reason, tsNs, corrections, halted: this.#halted !== undefined, missingFills, skippedPositions: false };
  }

  /** Brings the local position to `target` with an audited correcting fill at the last close. */
  #forcePosition(symbol: string, target: Decimal, why: string): void {
    const local = this.oms.portfolio.positionQuantity(symbol);
    const delta = target.sub(local);
    if (delta.isZero()) return;
    const st = this.#symbols.get(symbol);
    const close = st?.lastClose;
    if (close === undefined || !Number.isFinite(close)) {
      this.halt(`cannot correct ${symbol}: no price seen`);
      return;
    }
    const px = Decimal.of(shortestString(close));
    this.oms.portfolio.applyFill({
      fillId: `reconcile-${this.#corrections}-${symbol}`,
      symbol,
      side: delta.isPositive() ? 'Buy' : 'Sell',
      price: px,
      quantity: delta.abs(),
      tsNs: this.#clock.now(),
    });
    if (st !== undefined) {
      st.qtyF = target.toNumber();
      if (st.qtyF !== 0) this.#held.add(st);
      else this.#held.delete(st);
      if (target.isZero() && st.trade !== undefined) {
        const trade = st.trade;
        trade.exitQty = trade.entryQty;
        trade.exitNotional = trade.exitNotional.add(px.mul(delta.abs()));
        trade.exitTimeNs = this.#clock.now();
        trade.exitReason = why;
        if (!trade.entryQty.isZero()) this.#closedTrades.push(trade.record());
        this.#endTrade(st, why);
      }
    }
    this.#revalue();
  }

  /** The symbol's trade is over: an entry escalation still working for it stops (it would buy for nothing). */
  #endTrade(st: SymbolState, why: string): void {
    st.trade = undefined;
    st.escalator?.abandon(`trade ended: ${why}`);
  }

  /** Symbols seen, in first-seen order. */
  symbols(): string[] {
    return [...this.#symbols.keys()];
  }

  /** Last close seen for a symbol. */
  lastClose(symbol: string): number | undefined {
    return this.#symbols.get(symbol)?.lastClose;
  }
}
