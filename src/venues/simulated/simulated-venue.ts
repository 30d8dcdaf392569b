import { Price, Quantity, divRound, formatDecimal, pow10, type DecimalInput } from '../../core/decimal.js';
import { CoreError } from '../../core/errors.js';
import { Money } from '../../core/money.js';
import { frozenData, sameFrozenList } from '../../core/frozen.js';
import type { ClientOrderId, TradeId, VenueOrderId } from '../../core/ids.js';
import { barProblem, type Bar, type Timeframe } from '../../model/bar.js';
import type { Instrument } from '../../model/instrument.js';
import type {
  BalanceReport,
  LiquiditySide,
  ModifyRequest,
  OrderReport,
  OrderRequest,
  OrderType,
  PositionReport,
  Side,
  TimeInForce,
  VenueEvent,
} from '../../model/order.js';
import type { BarDrivenVenue, VenueCapabilities, VenueEventHandler } from '../venue.js';
import { EventOutbox } from './outbox.js';
import { SimulatedVenueError } from './errors.js';
import {
  barPrices,
  NextOpenMarketFill,
  NoCommission,
  NoSlippage,
  rawAt,
  stopTriggerPrice,
  zeroMoney,
  ThroughLimitFill,
  UnlimitedVolume,
  ZeroLatency,
  isStatefulModel,
  type BarPrices,
  type CommissionModel,
  type LatencyModel,
  type LimitFillModel,
  type OrderFills,
  type MarketFillModel,
  type SlippageModel,
  type StatefulModel,
  type VolumeModel,
} from './models.js';
import { invalidState, moneyState, StateReader, type MoneyState } from './state.js';

/** Cash accounts refuse buys beyond cash and any short sale; margin accounts allow both. */
export type AccountType = 'cash' | 'margin';

/** Everything a SimulatedVenue is built from (the builder checks that no part is missing). */
export interface SimulatedVenueConfig {
  readonly name: string;
  readonly instruments: readonly Instrument[];
  /** Starting cash, one Money per currency. */
  readonly startingBalances: readonly Money[];
  readonly accountType: AccountType;
  /** Whether quantities may have fraction digits (the instrument's lot size must allow them too). */
  readonly fractional: boolean;
  readonly marketFillModel: MarketFillModel;
  readonly limitFillModel: LimitFillModel;
  readonly volumeModel: VolumeModel;
  readonly slippageModel: SlippageModel;
  readonly commissionModel: CommissionModel;
  readonly latencyModel: LatencyModel;
  /** Trading-day key of an epoch-ns time, for expiring DAY orders (default: the UTC date). */
  readonly sessionDay: (tsNs: bigint) => string;
}

type Status = OrderReport['status'];

interface Book {
  readonly instrument: Instrument;
  readonly pp: number;
  readonly sp: number;
  readonly tick: bigint;
  readonly lot: bigint;
  readonly minQty: bigint;
  /** Orders not yet closed, in arrival (priority) order. */
  working: SimOrder[];
  lastBar: Bar | undefined;
  lastPrices: BarPrices | undefined;
  /** Signed position, raw at size precision. */
  position: bigint;
  /** Average entry price of the open position, raw at pp + AVG_EXTRA digits. */
  avgPx: bigint;
  /** Volume capacity left on `capacityBar`; undefined = no cap. */
  capacityLeft: bigint | undefined;
  capacityBar: Bar | undefined;
  /** The ids of `working` as liveSnapshot last gave them (frozenData), kept while the same orders work. */
  workingIds: readonly string[] | undefined;
}

interface SimOrder {
  readonly seq: number;
  /** Position in the venue's order list (submission order), for liveSnapshot's ordering. */
  readonly index: number;
  readonly clientOrderId: ClientOrderId;
  readonly venueOrderId: VenueOrderId;
  readonly symbol: string;
  readonly side: Side;
  readonly type: OrderType;
  readonly tif: TimeInForce;
  readonly book: Book | undefined;
  /** Precisions for reports (the instrument's, or the request's when the symbol is unknown). */
  readonly pp: number;
  readonly sp: number;
  qty: bigint;
  limit: bigint | undefined;
  stop: bigint | undefined;
  filled: bigint;
  /** Sum of price x quantity over fills, raw at pp + sp. */
  notional: bigint;
  commission: Money;
  status: Status;
  arrivalNs: bigint;
  triggered: boolean;
  readonly reduceOnly: boolean;
  readonly bracket: { readonly tp: bigint; readonly sl: bigint } | undefined;
  readonly parent: SimOrder | undefined;
  sibling: SimOrder | undefined;
  readonly day: string | undefined;
  tsLast: bigint;
  /** A notional order's budget (quote currency): its quantity is set at the first fill, floor(budget / price) to the lot. */
  readonly budget: Money | undefined;
  /** Cash a working buy reserves (cash accounts), cached for the open quantity and reference price it was computed at. */
  cost: Money | undefined;
  costQty: bigint;
  costFilled: bigint;
  costRef: bigint;
  /** The last liveSnapshot state of this order (frozenData) and the Money objects it was taken from. */
  snap: { readonly state: SimulatedOrderState; readonly commission: Money; readonly budget: Money | undefined } | undefined;
}

function emptyBook(inst: Instrument): Book {
  const sp = inst.sizePrecision;
  return {
    instrument: inst,
    pp: inst.pricePrecision,
    sp,
    tick: inst.tickSize.raw,
    lot: inst.lotSize.raw,
    minQty: rawAt(inst.minQuantity, sp) ?? inst.lotSize.raw,
    working: [],
    lastBar: undefined,
    lastPrices: undefined,
    position: 0n,
    avgPx: 0n,
    capacityLeft: undefined,
    capacityBar: undefined,
    workingIds: undefined,
  };
}

/** Format tag of SimulatedVenueState; a state with another tag is refused. */
export const SIMULATED_VENUE_STATE_FORMAT = 'axon-simulated-venue-state-1';

/** What a snapshot records of the venue's configuration, to refuse restoring it into a different venue. */
export interface SimulatedVenueConfigState {
  readonly name: string;
  readonly accountType: AccountType;
  readonly fractional: boolean;
  /** One line per instrument (id, tick, lot, minimums, currencies, precisions), in configuration order. */
  readonly instruments: readonly string[];
  readonly startingBalances: readonly MoneyState[];
  /** Each model's name and public parameters. */
  readonly models: Readonly<Record<ModelPart, string>>;
}

/** One order (working or closed) as plain data; prices and quantities are raw at `pp` / `sp`. */
export interface SimulatedOrderState {
  readonly seq: number;
  readonly clientOrderId: string;
  readonly venueOrderId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly type: OrderType;
  readonly tif: TimeInForce;
  readonly pp: number;
  readonly sp: number;
  readonly qty: bigint;
  readonly limit: bigint | undefined;
  readonly stop: bigint | undefined;
  readonly filled: bigint;
  /** Sum of price x quantity over fills, raw at pp + sp. */
  readonly notional: bigint;
  readonly commission: MoneyState;
  readonly status: Status;
  /** When the order is (or was) live at the venue, epoch ns. */
  readonly arrivalNs: bigint;
  readonly triggered: boolean;
  readonly reduceOnly: boolean;
  readonly bracket: { readonly tp: bigint; readonly sl: bigint } | undefined;
  /** Client order id of a bracket leg's entry. */
  readonly parent: string | undefined;
  /** Client order id of a bracket leg's OCO sibling. */
  readonly sibling: string | undefined;
  /** Session day of a DAY order. */
  readonly day: string | undefined;
  readonly tsLast: bigint;
  readonly budget: MoneyState | undefined;
}

/** One instrument's book as plain data. */
export interface SimulatedBookState {
  readonly symbol: string;
  /** Client order ids of the working orders, in priority order. */
  readonly working: readonly string[];
  readonly lastBar: Bar | undefined;
  /** Signed position, raw at the instrument's size precision. */
  readonly position: bigint;
  /** Average entry price, raw at price precision + 4. */
  readonly avgPx: bigint;
  /** Whether the volume capacity below was computed for `lastBar` (otherwise the next match recomputes it). */
  readonly capacityOnLastBar: boolean;
  /** Volume capacity left on `lastBar`, raw at size precision; undefined = no cap. */
  readonly capacityLeft: bigint | undefined;
}

/**
 * The books as columns, one entry per instrument in the venue's order (what liveSnapshot gives, for
 * checkpoints: 1,000 books as ~10 arrays instead of 2,000 objects; restore takes either form).
 * `prices` holds open, high, low, close, volume of each book's last bar (zeros without one); a book
 * without a last bar has undefined times and timeframe.
 */
export interface SimulatedBookColumns {
  readonly columns: 1;
  readonly symbols: readonly string[];
  readonly working: readonly (readonly string[])[];
  readonly timeframes: readonly (Timeframe | undefined)[];
  readonly openTimes: readonly (bigint | undefined)[];
  readonly closeTimes: readonly (bigint | undefined)[];
  readonly prices: readonly number[];
  readonly positions: readonly bigint[];
  readonly avgPxs: readonly bigint[];
  readonly capacityOnLastBar: readonly boolean[];
  readonly capacityLeft: readonly (bigint | undefined)[];
}

/** The rows of book columns, in the same order. @throws Error when the columns do not line up */
export function bookRows(c: SimulatedBookColumns): SimulatedBookState[] {
  const n = c.symbols.length;
  const cols = [c.working, c.timeframes, c.openTimes, c.closeTimes, c.positions, c.avgPxs, c.capacityOnLastBar, c.capacityLeft];
  if (!Array.isArray(c.symbols) || !Array.isArray(c.prices) || c.prices.length !== n * 5 || cols.some((col) => !Array.isArray(col) || col.length !== n)) {
    throw new Error(`book columns do not line up with ${String(n)} symbols`);
  }
  const rows: SimulatedBookState[] = [];
  for (let i = 0; i < n; i++) {
    const symbol = c.symbols[i] as string;
    const tf = c.timeframes[i];
    const p = i * 5;
    rows.push({
      symbol,
      working: c.working[i] as readonly string[],
      lastBar:
        tf === undefined
          ? undefined
          : {
              symbol,
              timeframe: tf,
              openTimeNs: c.openTimes[i] as bigint,
              closeTimeNs: c.closeTimes[i] as bigint,
              open: c.prices[p] as number,
              high: c.prices[p + 1] as number,
              low: c.prices[p + 2] as number,
              close: c.prices[p + 3] as number,
              volume: c.prices[p + 4] as number,
            },
      position: c.positions[i] as bigint,
      avgPx: c.avgPxs[i] as bigint,
      capacityOnLastBar: c.capacityOnLastBar[i] as boolean,
      capacityLeft: c.capacityLeft[i],
    });
  }
  return rows;
}

/** The columns of book rows (the inverse of bookRows). */
export function bookColumns(rows: readonly SimulatedBookState[]): SimulatedBookColumns {
  const prices: number[] = [];
  for (const b of rows) {
    const bar = b.lastBar;
    if (bar === undefined) prices.push(0, 0, 0, 0, 0);
    else prices.push(bar.open, bar.high, bar.low, bar.close, bar.volume);
  }
  return {
    columns: 1,
    symbols: rows.map((b) => b.symbol),
    working: rows.map((b) => b.working),
    timeframes: rows.map((b) => b.lastBar?.timeframe),
    openTimes: rows.map((b) => b.lastBar?.openTimeNs),
    closeTimes: rows.map((b) => b.lastBar?.closeTimeNs),
    prices,
    positions: rows.map((b) => b.position),
    avgPxs: rows.map((b) => b.avgPx),
    capacityOnLastBar: rows.map((b) => b.capacityOnLastBar),
    capacityLeft: rows.map((b) => b.capacityLeft),
  };
}

/**
 * Everything a SimulatedVenue needs to continue exactly where `snapshot` was taken: plain data (bigints,
 * strings, numbers, plain objects and arrays), for the engine's checkpoint codec.
 */
export interface SimulatedVenueState {
  readonly format: typeof SIMULATED_VENUE_STATE_FORMAT;
  readonly config: SimulatedVenueConfigState;
  /** Venue time, epoch ns. */
  readonly nowNs: bigint;
  readonly orderSeq: number;
  readonly tradeSeq: number;
  /** Cash per currency, in the venue's currency order. */
  readonly cash: readonly MoneyState[];
  readonly books: readonly SimulatedBookState[];
  /** Every order the venue has seen (from liveSnapshot: the working ones and those they link to), in submission order. */
  readonly orders: readonly SimulatedOrderState[];
  /** Client order ids of orders waiting for their arrival (latency), in arrival order. */
  readonly pending: readonly string[];
  /** Internal state of stateful models (a jitter latency's generator), by part. */
  readonly modelStates: Readonly<Partial<Record<ModelPart, unknown>>>;
}

/** liveSnapshot()'s state: a SimulatedVenueState with the books as columns; restore takes either. */
export type SimulatedVenueLiveState = Omit<SimulatedVenueState, 'books'> & { readonly books: SimulatedBookColumns };

/** The model parts of a SimulatedVenueConfig. */
export type ModelPart = 'marketFillModel' | 'limitFillModel' | 'volumeModel' | 'slippageModel' | 'commissionModel' | 'latencyModel';

const MODEL_PARTS: readonly ModelPart[] = ['marketFillModel', 'limitFillModel', 'volumeModel', 'slippageModel', 'commissionModel', 'latencyModel'];
const STATUSES: readonly Status[] = ['pending', 'open', 'partially-filled', 'filled', 'canceled', 'rejected', 'expired'];
const ORDER_KEYS: readonly (keyof SimulatedOrderState)[] = [
  'seq',
  'clientOrderId',
  'venueOrderId',
  'symbol',
  'side',
  'type',
  'tif',
  'pp',
  'sp',
  'qty',
  'limit',
  'stop',
  'filled',
  'notional',
  'commission',
  'status',
  'arrivalNs',
  'triggered',
  'reduceOnly',
  'bracket',
  'parent',
  'sibling',
  'day',
  'tsLast',
  'budget',
];
const TIMEFRAMES: readonly Timeframe[] = ['1s', '1m', '5m', '15m', '30m', '1h', '1d'];

/** A model's name and its public parameters (own enumerable fields), e.g. `bps{"bps":"5"}`. */
function modelKey(model: { readonly name: string }): string {
  const params: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(model)) if (k !== 'name' && typeof v !== 'function') params[k] = v;
  const json = JSON.stringify(params, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  return json === '{}' ? model.name : `${model.name}${json}`;
}

function instrumentKey(inst: Instrument): string {
  return [
    inst.id.toString(),
    inst.assetClass,
    `tick=${inst.tickSize.toString()}`,
    `lot=${inst.lotSize.toString()}`,
    `minQty=${inst.minQuantity.toString()}`,
    `minNotional=${inst.minNotional?.toString() ?? '-'}`,
    `${inst.baseCurrency}/${inst.quoteCurrency}`,
    `pp=${inst.pricePrecision}`,
    `sp=${inst.sizePrecision}`,
  ].join(' ');
}

function configState(config: SimulatedVenueConfig): SimulatedVenueConfigState {
  const models = {} as Record<ModelPart, string>;
  for (const part of MODEL_PARTS) models[part] = modelKey(config[part]);
  return {
    name: config.name,
    accountType: config.accountType,
    fractional: config.fractional,
    instruments: config.instruments.map(instrumentKey),
    startingBalances: config.startingBalances.map(moneyState),
    models,
  };
}

const AVG_EXTRA = 4;
// one settled promise for every call that completes synchronously (awaiting it is the same as awaiting a fresh one)
const DONE: Promise<void> = Promise.resolve();
const OPEN: ReadonlySet<Status> = new Set<Status>(['pending', 'open', 'partially-filled']);

function utcDay(tsNs: bigint): string {
  return new Date(Number(tsNs / 1_000_000n)).toISOString().slice(0, 10);
}

/**
 * A bar-driven simulated venue: the backtest's source of truth for orders, fills, positions and cash.
 *
 * Time is the bar stream's: `onBar` advances it to the bar's close time, and requests made while the
 * engine handles bar t happen at t's close. Events are delivered synchronously, in the order the venue
 * produced them, to every handler registered with `onEvent`, before `submit`/`modify`/`cancel`/`onBar`
 * return; a handler that calls the venue again gets that call's events after the current ones.
 *
 * Rules where the brief leaves room: validation and the cash check happen at submit (a rejected order
 * never goes live); latency delays when an order is live (its 'accepted' event carries the arrival time);
 * cancel and modify act at once; an order is eligible for a bar if it was live by the bar's open (market
 * orders under 'this-close': by its close); among orders of one symbol, the earlier arrival fills first;
 * when both legs of a bracket could fill on one bar, the stop-loss wins (the pessimistic reading).
 */
export class SimulatedVenue implements BarDrivenVenue {
  readonly name: string;
  readonly capabilities: VenueCapabilities;
  readonly config: SimulatedVenueConfig;
  readonly #books = new Map<string, Book>();
  readonly #orders = new Map<string, SimOrder>();
  readonly #orderList: SimOrder[] = [];
  readonly #cash = new Map<string, Money>();
  /** Orders not yet live (latency), in arrival order. */
  #pending: SimOrder[] = [];
  #handlers: VenueEventHandler[] = [];
  readonly #outbox = new EventOutbox(() => this.#handlers);
  #connected = false;
  #now = 0n;
  #seq = 0;
  #trades = 0;
  // models in own fields: the hot path reads them per order
  readonly #market: MarketFillModel;
  readonly #limitModel: LimitFillModel;
  readonly #volume: VolumeModel;
  readonly #slippage: SlippageModel;
  readonly #commission: CommissionModel;
  readonly #latency: LatencyModel;
  readonly #sessionDay: (tsNs: bigint) => string;
  readonly #cashAccount: boolean;
  readonly #fractional: boolean;
  #config: SimulatedVenueConfigState | undefined;
  readonly #sum: RawSum = { raw: 0n, precision: 0 };
  /** The instruments' symbols in code-unit order, for position reports (the set of books never changes). */
  readonly #symbolsSorted: readonly string[];

  /** Builds the venue from a complete configuration; prefer `SimulatedVenueBuilder` or `SimulatedVenue.defaults`. @throws SimulatedVenueError InvalidConfig */
  constructor(config: SimulatedVenueConfig) {
    this.config = config;
    this.name = config.name;
    this.#market = config.marketFillModel;
    this.#limitModel = config.limitFillModel;
    this.#volume = config.volumeModel;
    this.#slippage = config.slippageModel;
    this.#commission = config.commissionModel;
    this.#latency = config.latencyModel;
    this.#sessionDay = config.sessionDay;
    this.#cashAccount = config.accountType === 'cash';
    this.#fractional = config.fractional;
    this.capabilities = Object.freeze({
      brackets: true,
      oco: true,
      modify: true,
      fractional: config.fractional,
      shortSelling: config.accountType === 'margin',
    });
    for (const inst of config.instruments) {
      const symbol = inst.id.symbol;
      if (this.#books.has(symbol)) throw new SimulatedVenueError('InvalidConfig', `instrument ${symbol} is listed twice`);
      const sp = inst.sizePrecision;
      if (!config.fractional && sp > 0 && !inst.lotSize.isMultipleOf(1)) {
        throw new SimulatedVenueError('InvalidConfig', `${symbol} has fractional lot size ${inst.lotSize.toString()} but the venue is not fractional`);
      }
      this.#books.set(symbol, emptyBook(inst));
    }
    this.#symbolsSorted = [...this.#books.keys()].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    for (const m of config.startingBalances) {
      if (this.#cash.has(m.currency)) throw new SimulatedVenueError('InvalidConfig', `starting balance in ${m.currency} is given twice`);
      this.#cash.set(m.currency, m);
    }
    for (const inst of config.instruments) {
      if (!this.#cash.has(inst.quoteCurrency)) this.#cash.set(inst.quoteCurrency, Money.zero(inst.quoteCurrency));
    }
  }

  /**
   * A builder pre-filled with the defaults (next-open market fills, through limit fills, no volume cap,
   * no slippage, no commission, zero latency, a cash account, whole units).
   */
  static defaults(options: { instruments: readonly Instrument[]; startingBalances: readonly Money[]; name?: string }): SimulatedVenueBuilder {
    return new SimulatedVenueBuilder()
      .name(options.name ?? 'SIM')
      .instruments(options.instruments)
      .startingBalances(options.startingBalances)
      .accountType('cash')
      .fractional(false)
      .marketFillModel(new NextOpenMarketFill())
      .limitFillModel(new ThroughLimitFill())
      .volumeModel(new UnlimitedVolume())
      .slippageModel(new NoSlippage())
      .commissionModel(new NoCommission())
      .latencyModel(new ZeroLatency());
  }

  /** The venue's current time: the latest bar close it has seen, epoch ns. */
  get now(): bigint {
    return this.#now;
  }

  connect(): Promise<void> {
    this.#connected = true;
    return DONE;
  }

  disconnect(): Promise<void> {
    this.#connected = false;
    return DONE;
  }

  onEvent(handler: VenueEventHandler): () => void {
    this.#handlers = [...this.#handlers, handler];
    return () => {
      this.#handlers = this.#handlers.filter((h) => h !== handler);
    };
  }

  /**
   * Shows the venue a bar: advances its time to the bar's close and fills, triggers or expires the
   * symbol's working orders. Costs one map lookup when nothing is working.
   * @throws SimulatedVenueError UnknownInstrument | BarOutOfOrder
   */
  onBar(bar: Bar): void {
    const book = this.#books.get(bar.symbol);
    if (book === undefined) throw new SimulatedVenueError('UnknownInstrument', `bar for ${bar.symbol}, which is not one of this venue's instruments`);
    const last = book.lastBar;
    if (last !== undefined && bar.openTimeNs <= last.openTimeNs) {
      throw new SimulatedVenueError('BarOutOfOrder', `${bar.symbol} bar opening at ${bar.openTimeNs} ns does not follow the previous bar opening at ${last.openTimeNs} ns`);
    }
    book.lastBar = bar;
    book.lastPrices = undefined;
    if (bar.closeTimeNs > this.#now) this.#now = bar.closeTimeNs;
    if (this.#pending.length !== 0) this.#acceptArrived(bar.closeTimeNs);
    if (book.working.length !== 0) this.#matchBook(book, bar);
    if (this.#outbox.size !== 0) this.#outbox.flush();
  }

  submit(order: OrderRequest): Promise<void> {
    if (!this.#connected) return Promise.reject(notConnected('submit'));
    this.#submit(order);
    this.#outbox.flush();
    return DONE;
  }

  modify(request: ModifyRequest): Promise<void> {
    if (!this.#connected) return Promise.reject(notConnected('modify'));
    this.#modify(request);
    this.#outbox.flush();
    return DONE;
  }

  cancel(clientOrderId: ClientOrderId): Promise<void> {
    if (!this.#connected) return Promise.reject(notConnected('cancel'));
    this.#cancel(clientOrderId);
    this.#outbox.flush();
    return DONE;
  }

  orderReports(options?: { includeClosed?: boolean }): Promise<OrderReport[]> {
    const orders = options?.includeClosed === true ? this.#orderList : this.#workingOrders();
    return Promise.resolve(orders.map((o) => this.#report(o)));
  }

  /** The orders not yet closed, in submission order, from the books' working lists: O(instruments + working orders). */
  #workingOrders(): SimOrder[] {
    // every order not yet closed sits in its book's working list (closed ones may linger until the next prune)
    const out: SimOrder[] = [];
    for (const b of this.#books.values()) {
      const working = b.working;
      for (let i = 0; i < working.length; i++) {
        const o = working[i] as SimOrder;
        if (OPEN.has(o.status)) out.push(o);
      }
    }
    if (out.length > 1) out.sort(byIndex);
    return out;
  }

  orderReport(clientOrderId: ClientOrderId): Promise<OrderReport | undefined> {
    const o = this.#orders.get(clientOrderId);
    return Promise.resolve(o === undefined ? undefined : this.#report(o));
  }

  positionReports(): Promise<PositionReport[]> {
    const out: PositionReport[] = [];
    for (const symbol of this.#symbolsSorted) {
      const b = this.#books.get(symbol) as Book;
      if (b.position === 0n) continue;
      out.push(
        Object.freeze({
          symbol,
          signedQty: formatDecimal(b.position, b.sp),
          avgPx: Price.fromRaw(b.avgPx, b.pp + AVG_EXTRA),
        }),
      );
    }
    return Promise.resolve(out);
  }

  balanceReport(): Promise<BalanceReport> {
    return Promise.resolve(Object.freeze({ balances: new Map(this.#cash) }));
  }

  /**
   * Changes the position in `symbol` by the signed `delta` (e.g. '-5') without an order and without moving
   * cash (a transfer, corporate action or manual trade the engine did not cause), then emits
   * 'position-changed' with the new signed quantity. Added quantity is valued at `price` for the average
   * entry price, by default the close of the symbol's last bar.
   * @throws SimulatedVenueError UnknownInstrument; CoreError InvalidArgument when `delta` is zero or off the
   * lot size, or no price is known for added quantity
   */
  adjustPosition(symbol: string, delta: DecimalInput, options: { price?: DecimalInput } = {}): void {
    const b = this.#books.get(symbol);
    if (b === undefined) throw new SimulatedVenueError('UnknownInstrument', `cannot adjust the position in ${symbol}, which is not one of this venue's instruments`);
    const d = rawAt(delta, b.sp);
    if (d === undefined || d === 0n || d % b.lot !== 0n) {
      throw new CoreError('InvalidArgument', `position adjustment ${String(delta)} for ${symbol} must be a non-zero multiple of the lot size ${b.instrument.lotSize.toString()}`);
    }
    const before = b.position;
    const after = before + d;
    const adds = after !== 0n && (before === 0n || (before > 0n) !== (after > 0n) || (d > 0n) === (before > 0n));
    let px = 0n;
    if (adds) {
      const given = options.price === undefined ? undefined : rawAt(options.price, b.pp);
      if (options.price !== undefined && (given === undefined || given <= 0n)) {
        throw new CoreError('InvalidArgument', `adjustment price ${String(options.price)} for ${symbol} is not a positive price at ${b.pp} decimals`);
      }
      const last = b.lastBar === undefined ? undefined : this.#prices(b, b.lastBar).close;
      const chosen = given ?? last;
      if (chosen === undefined) throw new CoreError('InvalidArgument', `no price known for ${symbol} to value the added position: pass options.price or show the venue a bar first`);
      px = chosen;
    }
    this.#applyPosition(b, d, px);
    this.#emit({ kind: 'position-changed', symbol, signedQty: formatDecimal(b.position, b.sp), tsEvent: this.#now, tsInit: this.#now });
    this.#outbox.flush();
  }

  /**
   * The venue's complete state as plain data (see SimulatedVenueState), for a checkpoint. Not included:
   * the connection (the resuming caller connects), event handlers (they belong to the process), the
   * per-bar price cache (recomputed from the last bar) and `sessionDay` (a function; configure the same one).
   * @throws SimulatedVenueError Busy when called while events are being delivered
   */
  snapshot(): SimulatedVenueState {
    if (this.#outbox.busy) throw new SimulatedVenueError('Busy', 'cannot snapshot the simulated venue while it is delivering events; snapshot between calls');
    const list = this.#orderList;
    const orders: SimulatedOrderState[] = new Array<SimulatedOrderState>(list.length);
    for (let i = 0; i < list.length; i++) orders[i] = orderState(list[i] as SimOrder);
    return this.#state(orders, this.#bookRows());
  }

  /**
   * The state a checkpoint keeps: `snapshot()` with only the working orders (pending, open, partially
   * filled) and the orders they link to (a bracket leg's entry and OCO sibling), in submission order.
   * Costs O(instruments + working orders), not O(orders of the run). A venue restored from it continues
   * with the same events as this one, except that it no longer knows the closed orders it dropped (their
   * reports, and a cancel, modify or duplicate id naming one).
   * @throws SimulatedVenueError Busy when called while events are being delivered
   */
  liveSnapshot(): SimulatedVenueLiveState {
    if (this.#outbox.busy) throw new SimulatedVenueError('Busy', 'cannot snapshot the simulated venue while it is delivering events; snapshot between calls');
    // while no order was created, changed or closed since, the same kept orders, without reading them
    if (this.#liveOrders === undefined || this.#liveOrdersAt !== this.#liveVersion) {
      // the same frozen list while no kept order changed: a checkpoint stores it once
      this.#liveOrders = sameFrozenList(this.#liveOrders, this.#keptOrderStates());
      this.#liveOrdersAt = this.#liveVersion;
    }
    return this.#state(this.#liveOrders as SimulatedOrderState[], this.#bookColumns());
  }

  /** The working orders and the orders they link to, in submission order, as liveOrderState records. */
  #keptOrderStates(): SimulatedOrderState[] {
    const keep = this.#workingOrders();
    const n = keep.length;
    if (n !== 0) {
      const kept = new Set<SimOrder>(keep);
      for (let i = 0; i < n; i++) {
        const o = keep[i] as SimOrder;
        if (o.parent !== undefined && !kept.has(o.parent)) {
          kept.add(o.parent);
          keep.push(o.parent);
        }
        if (o.sibling !== undefined && !kept.has(o.sibling)) {
          kept.add(o.sibling);
          keep.push(o.sibling);
        }
      }
      if (keep.length !== n) keep.sort(byIndex);
    }
    const orders: SimulatedOrderState[] = new Array<SimulatedOrderState>(keep.length);
    for (let i = 0; i < keep.length; i++) orders[i] = liveOrderState(keep[i] as SimOrder);
    return orders;
  }
  #liveOrders: readonly SimulatedOrderState[] | undefined;
  /**
   * Bumped wherever an order is created, changes (status, quantities, prices, trigger, sibling, times)
   * or leaves a working or pending list, wherever a position changes, and by restore: #liveOrders (and
   * the order-derived book columns) are current while #liveOrdersAt (#bookColsAt) equals it.
   */
  #liveVersion = 0;
  #liveOrdersAt = -1;

  /**
   * The books as columns for liveSnapshot; the columns that rarely change (symbols, working ids,
   * positions, capacities) stay the last call's frozen lists while their elements are the same.
   */
  #bookColumns(): SimulatedBookColumns {
    const c = this.#liveBookCols;
    const n = this.#books.size;
    // the working lists, positions and prices paid change only with orders and positions: while none
    // changed, the last columns, without reading them again
    const reuse = c !== undefined && this.#bookColsAt === this.#liveVersion;
    const symbols = new Array<string>(n);
    const working = new Array<readonly string[]>(n);
    const positions = new Array<bigint>(n);
    const avgPxs = new Array<bigint>(n);
    const timeframes = new Array<Timeframe | undefined>(n);
    const openTimes = new Array<bigint | undefined>(n);
    const closeTimes = new Array<bigint | undefined>(n);
    const prices = new Array<number>(n * 5);
    const onLast = new Array<boolean>(n);
    const left = new Array<bigint | undefined>(n);
    let i = 0;
    for (const [symbol, b] of this.#books) {
      if (!reuse) {
        symbols[i] = symbol;
        const w = b.working;
        let ids = b.workingIds;
        let same = ids !== undefined && ids.length === w.length;
        for (let j = 0; same && j < w.length; j++) same = (ids as readonly string[])[j] === (w[j] as SimOrder).clientOrderId;
        if (!same) ids = b.workingIds = frozenData(w.map((o) => o.clientOrderId));
        working[i] = ids as readonly string[];
        positions[i] = b.position;
        avgPxs[i] = b.avgPx;
      }
      const bar = b.lastBar;
      const p = i * 5;
      if (bar === undefined) {
        prices[p] = prices[p + 1] = prices[p + 2] = prices[p + 3] = prices[p + 4] = 0;
      } else {
        timeframes[i] = bar.timeframe;
        openTimes[i] = bar.openTimeNs;
        closeTimes[i] = bar.closeTimeNs;
        prices[p] = bar.open;
        prices[p + 1] = bar.high;
        prices[p + 2] = bar.low;
        prices[p + 3] = bar.close;
        prices[p + 4] = bar.volume;
      }
      const capOnLast = bar !== undefined && b.capacityBar === bar;
      onLast[i] = capOnLast;
      left[i] = capOnLast ? b.capacityLeft : undefined;
      i++;
    }
    this.#bookColsAt = this.#liveVersion;
    const cols: SimulatedBookColumns = {
      columns: 1,
      symbols: reuse ? c.symbols : sameFrozenList(c?.symbols, symbols),
      working: reuse ? c.working : sameFrozenList(c?.working, working),
      timeframes: sameFrozenList(c?.timeframes, timeframes),
      openTimes,
      closeTimes,
      prices,
      positions: reuse ? c.positions : sameFrozenList(c?.positions, positions),
      avgPxs: reuse ? c.avgPxs : sameFrozenList(c?.avgPxs, avgPxs),
      capacityOnLastBar: sameFrozenList(c?.capacityOnLastBar, onLast),
      capacityLeft: sameFrozenList(c?.capacityLeft, left),
    };
    this.#liveBookCols = cols;
    return cols;
  }
  #bookColsAt = -1;
  #liveBookCols: SimulatedBookColumns | undefined;

  /** The venue's state around `orders` and `books` (rows for snapshot, columns for liveSnapshot). */
  #state<B>(orders: SimulatedOrderState[], books: B): Omit<SimulatedVenueState, 'books'> & { readonly books: B } {
    const modelStates: Partial<Record<ModelPart, unknown>> = {};
    for (const part of MODEL_PARTS) {
      const m = this.config[part];
      if (isStatefulModel(m)) modelStates[part] = m.snapshotState();
    }
    return {
      format: SIMULATED_VENUE_STATE_FORMAT,
      config: this.#configState(),
      nowNs: this.#now,
      orderSeq: this.#seq,
      tradeSeq: this.#trades,
      cash: [...this.#cash.values()].map(moneyState),
      books,
      orders,
      pending: this.#pending.map((o) => o.clientOrderId),
      modelStates,
    };
  }

  #bookRows(): SimulatedBookState[] {
    const books: SimulatedBookState[] = [];
    for (const [symbol, b] of this.#books) {
      const onLast = b.lastBar !== undefined && b.capacityBar === b.lastBar;
      books.push({
        symbol,
        working: b.working.map((o) => o.clientOrderId),
        lastBar: b.lastBar === undefined ? undefined : barState(b.lastBar),
        position: b.position,
        avgPx: b.avgPx,
        capacityOnLastBar: onLast,
        capacityLeft: onLast ? b.capacityLeft : undefined,
      });
    }
    return books;
  }

  /** The configuration's state, built once: the configuration and its models are immutable. */
  #configState(): SimulatedVenueConfigState {
    // frozenData: the checkpoint encoder embeds its bytes once instead of walking it every time
    this.#config ??= frozenData(configState(this.config));
    return this.#config;
  }

  /**
   * Replaces this venue's state with `state` from `snapshot` (after a round trip through the checkpoint
   * codec). The venue must be built from the same configuration: same name, account type, fractional
   * flag, instruments, starting balances and models (names and parameters). Everything is checked
   * before anything changes; event handlers and the connection stay as they are.
   * @throws SimulatedVenueError StateMismatch for a state from a differently configured venue |
   * InvalidState for a malformed state | Busy while events are being delivered
   */
  restore(state: SimulatedVenueState | SimulatedVenueLiveState): void {
    if (this.#outbox.busy) throw new SimulatedVenueError('Busy', 'cannot restore the simulated venue while it is delivering events');
    const root = new StateReader('simulated venue state');
    const r = root.record(state, ['format', 'config', 'nowNs', 'orderSeq', 'tradeSeq', 'cash', 'books', 'orders', 'pending', 'modelStates']);
    if (r.format !== SIMULATED_VENUE_STATE_FORMAT) {
      invalidState(root.where, `format is ${JSON.stringify(r.format)}, expected ${JSON.stringify(SIMULATED_VENUE_STATE_FORMAT)}`);
    }
    this.#checkConfig(r.config, root.at('config'));
    const nowNs = root.at('nowNs').bigint(r.nowNs);
    const orderSeq = root.at('orderSeq').int(r.orderSeq);
    const tradeSeq = root.at('tradeSeq').int(r.tradeSeq);

    const cashRead = root.at('cash');
    const cashItems = cashRead.array(r.cash).map((m, i) => cashRead.at(i).money(m));
    const currencies = [...this.#cash.keys()];
    const got = cashItems.map((m) => m.currency);
    if (got.join(',') !== currencies.join(',')) invalidState(cashRead.where, `currencies ${got.join(', ')} do not match this venue's ${currencies.join(', ')}`);

    const books = new Map<string, Book>();
    for (const inst of this.config.instruments) books.set(inst.id.symbol, emptyBook(inst));
    const orders = new Map<string, SimOrder>();
    const orderList: SimOrder[] = [];
    const links: { o: SimOrder; sibling: string | undefined; read: StateReader }[] = [];
    const ordersRead = root.at('orders');
    const seqs = new Set<number>();
    ordersRead.array(r.orders).forEach((item, i) => {
      const read = ordersRead.at(i);
      const o = this.#orderFromState(item, read, books, orders, orderSeq, i);
      if (orders.has(o.clientOrderId)) invalidState(read.where, `duplicate clientOrderId ${o.clientOrderId}`);
      if (seqs.has(o.seq)) invalidState(read.where, `duplicate seq ${o.seq}`);
      seqs.add(o.seq);
      orders.set(o.clientOrderId, o);
      orderList.push(o);
      links.push({ o, sibling: (item as Record<string, unknown>).sibling as string | undefined, read });
    });
    for (const { o, sibling, read } of links) {
      if (sibling === undefined) continue;
      const sib = orders.get(sibling);
      if (sib === undefined || sib === o || sib.symbol !== o.symbol) invalidState(read.at('sibling').where, `${sibling} is not another order of ${o.symbol}`);
      o.sibling = sib;
    }

    const booksRead = root.at('books');
    let bookItems: readonly unknown[];
    if (typeof r.books === 'object' && r.books !== null && !Array.isArray(r.books) && (r.books as { columns?: unknown }).columns === 1) {
      const cols = booksRead.record(r.books, ['columns', 'symbols', 'working', 'timeframes', 'openTimes', 'closeTimes', 'prices', 'positions', 'avgPxs', 'capacityOnLastBar', 'capacityLeft']);
      try {
        bookItems = bookRows(cols as unknown as SimulatedBookColumns);
      } catch (e) {
        invalidState(booksRead.where, (e as Error).message);
      }
    } else bookItems = booksRead.array(r.books);
    if (bookItems.length !== books.size) invalidState(booksRead.where, `${bookItems.length} books, this venue has ${books.size}`);
    bookItems.forEach((item, i) => {
      const read = booksRead.at(i);
      const br = read.record(item, ['symbol', 'working', 'lastBar', 'position', 'avgPx', 'capacityOnLastBar', 'capacityLeft']);
      const symbol = read.at('symbol').string(br.symbol);
      const b = books.get(symbol);
      if (b === undefined) invalidState(read.at('symbol').where, `${symbol} is not one of this venue's instruments`);
      const workRead = read.at('working');
      b.working = workRead.array(br.working).map((id, j) => {
        const o = orders.get(workRead.at(j).string(id));
        if (o === undefined || o.book !== b) invalidState(workRead.at(j).where, `${String(id)} is not an order of ${symbol}`);
        return o;
      });
      b.lastBar = br.lastBar === undefined ? undefined : barFromState(br.lastBar, read.at('lastBar'), symbol);
      b.position = read.at('position').bigint(br.position);
      b.avgPx = read.at('avgPx').bigint(br.avgPx);
      const onLast = read.at('capacityOnLastBar').boolean(br.capacityOnLastBar);
      const left = read.at('capacityLeft').optBigint(br.capacityLeft);
      if (onLast && b.lastBar === undefined) invalidState(read.at('capacityOnLastBar').where, 'true without a last bar');
      if (!onLast && left !== undefined) invalidState(read.at('capacityLeft').where, 'set although capacityOnLastBar is false');
      if (onLast) {
        b.capacityBar = b.lastBar;
        b.capacityLeft = left;
      }
    });

    const pendRead = root.at('pending');
    const pending = pendRead.array(r.pending).map((id, j) => {
      const o = orders.get(pendRead.at(j).string(id));
      if (o === undefined) invalidState(pendRead.at(j).where, `unknown order ${String(id)}`);
      return o;
    });

    const msRead = root.at('modelStates');
    const ms = msRead.record(r.modelStates, MODEL_PARTS);
    const stateful = MODEL_PARTS.filter((part) => isStatefulModel(this.config[part]));
    for (const part of MODEL_PARTS) {
      if (stateful.includes(part) !== Object.hasOwn(ms, part)) {
        invalidState(msRead.at(part).where, stateful.includes(part) ? 'missing for a stateful model' : 'given for a model without state');
      }
    }
    const undo: (() => void)[] = [];
    try {
      for (const part of stateful) {
        const m = this.config[part] as unknown as StatefulModel;
        const before = m.snapshotState();
        msRead.at(part).wrap(() => m.restoreState(ms[part]));
        undo.push(() => m.restoreState(before));
      }
    } catch (e) {
      for (const u of undo.reverse()) u();
      throw e;
    }

    for (const [symbol, b] of books) this.#books.set(symbol, b);
    this.#liveVersion++;
    this.#orders.clear();
    for (const [id, o] of orders) this.#orders.set(id, o);
    this.#orderList.length = 0;
    this.#orderList.push(...orderList);
    this.#cash.clear();
    for (const m of cashItems) this.#cash.set(m.currency, m);
    this.#pending = pending;
    this.#now = nowNs;
    this.#seq = orderSeq;
    this.#trades = tradeSeq;
  }

  #checkConfig(v: unknown, read: StateReader): void {
    const c = read.record(v, ['name', 'accountType', 'fractional', 'instruments', 'startingBalances', 'models']);
    const mine = this.#configState();
    const mismatch = (what: string, theirs: unknown, ours: unknown): never => {
      throw new SimulatedVenueError(
        'StateMismatch',
        `the snapshot is from a differently configured venue: ${what} was ${JSON.stringify(theirs, bigintText)}, this venue has ${JSON.stringify(ours, bigintText)}`,
      );
    };
    if (c.name !== mine.name) mismatch('name', c.name, mine.name);
    if (c.accountType !== mine.accountType) mismatch('accountType', c.accountType, mine.accountType);
    if (c.fractional !== mine.fractional) mismatch('fractional', c.fractional, mine.fractional);
    const insts = read.at('instruments').array(c.instruments);
    if (insts.join('\n') !== mine.instruments.join('\n')) mismatch('instruments', insts, mine.instruments);
    const balRead = read.at('startingBalances');
    const bals = balRead.array(c.startingBalances).map((m, i) => balRead.at(i).money(m).toString());
    const myBals = this.config.startingBalances.map((m) => m.toString());
    if (bals.join(',') !== myBals.join(',')) mismatch('startingBalances', bals, myBals);
    const models = read.at('models').record(c.models, MODEL_PARTS);
    for (const part of MODEL_PARTS) if (models[part] !== mine.models[part]) mismatch(part, models[part], mine.models[part]);
  }

  #orderFromState(
    v: unknown,
    read: StateReader,
    books: ReadonlyMap<string, Book>,
    orders: ReadonlyMap<string, SimOrder>,
    orderSeq: number,
    index: number,
  ): SimOrder {
    const r = read.record(v, ORDER_KEYS);
    const f = (k: keyof SimulatedOrderState): StateReader => read.at(k);
    const symbol = f('symbol').string(r.symbol);
    const status = f('status').oneOf(r.status, STATUSES);
    const book = books.get(symbol);
    if (book === undefined && status !== 'rejected') invalidState(f('status').where, `${status} order for ${symbol}, which is not one of this venue's instruments`);
    const seq = f('seq').int(r.seq, 1);
    if (seq > orderSeq) invalidState(f('seq').where, `${seq} exceeds orderSeq ${orderSeq}`);
    let parent: SimOrder | undefined;
    if (r.parent !== undefined) {
      const pid = f('parent').string(r.parent);
      parent = orders.get(pid);
      if (parent === undefined || parent.symbol !== symbol) invalidState(f('parent').where, `${pid} is not an earlier order of ${symbol}`);
    }
    let bracket: { tp: bigint; sl: bigint } | undefined;
    if (r.bracket !== undefined) {
      const br = f('bracket').record(r.bracket, ['tp', 'sl']);
      bracket = { tp: f('bracket').at('tp').bigint(br.tp), sl: f('bracket').at('sl').bigint(br.sl) };
    }
    if (r.sibling !== undefined) f('sibling').string(r.sibling);
    const pp = f('pp').precision(r.pp);
    const sp = f('sp').precision(r.sp);
    if (book !== undefined && (pp !== book.pp || sp !== book.sp)) invalidState(read.where, `precisions ${pp}/${sp} differ from ${symbol}'s ${book.pp}/${book.sp}`);
    return {
      seq,
      index,
      clientOrderId: f('clientOrderId').string(r.clientOrderId) as ClientOrderId,
      venueOrderId: f('venueOrderId').string(r.venueOrderId) as VenueOrderId,
      symbol,
      side: f('side').oneOf(r.side, ['Buy', 'Sell']),
      type: f('type').oneOf(r.type, ['Market', 'Limit', 'Stop', 'StopLimit']),
      tif: f('tif').oneOf(r.tif, ['GTC', 'IOC', 'FOK', 'DAY']),
      book,
      pp,
      sp,
      qty: f('qty').bigint(r.qty),
      limit: f('limit').optBigint(r.limit),
      stop: f('stop').optBigint(r.stop),
      filled: f('filled').bigint(r.filled),
      notional: f('notional').bigint(r.notional),
      commission: f('commission').money(r.commission),
      status,
      arrivalNs: f('arrivalNs').bigint(r.arrivalNs),
      triggered: f('triggered').boolean(r.triggered),
      reduceOnly: f('reduceOnly').boolean(r.reduceOnly),
      bracket,
      parent,
      sibling: undefined,
      day: f('day').optString(r.day),
      tsLast: f('tsLast').bigint(r.tsLast),
      budget: f('budget').optMoney(r.budget),
      cost: undefined,
      costQty: 0n,
      costFilled: 0n,
      costRef: 0n,
      snap: undefined,
    };
  }

  #report(o: SimOrder): OrderReport {
    return Object.freeze({
      clientOrderId: o.clientOrderId,
      venueOrderId: o.venueOrderId,
      symbol: o.symbol,
      side: o.side,
      type: o.type,
      quantity: Quantity.fromRaw(o.qty, o.sp),
      filledQty: Quantity.fromRaw(o.filled, o.sp),
      avgPx: o.filled === 0n ? undefined : Price.fromRaw(divRound(o.notional * pow10(AVG_EXTRA), o.filled, 'half-even'), o.pp + AVG_EXTRA),
      limitPrice: o.limit === undefined ? undefined : Price.fromRaw(o.limit, o.pp),
      stopPrice: o.stop === undefined ? undefined : Price.fromRaw(o.stop, o.pp),
      status: o.status,
      parentClientOrderId: o.parent?.clientOrderId,
      tsLast: o.tsLast,
    });
  }

  // ---- events

  #emit(event: VenueEvent): void {
    this.#outbox.push(Object.freeze(event));
  }

  #reject(id: ClientOrderId, reason: string): void {
    this.#emit({ kind: 'rejected', clientOrderId: id, reason, tsEvent: this.#now, tsInit: this.#now });
  }

  // ---- submit

  #submit(req: OrderRequest): void {
    const id = req.clientOrderId;
    if (this.#orders.has(id)) {
      this.#reject(id, `duplicate clientOrderId ${id}: an order with this id was already submitted`);
      return;
    }
    const book = this.#books.get(req.symbol);
    const pp = book?.pp ?? Math.max(req.limitPrice?.precision ?? 0, req.stopPrice?.precision ?? 0);
    const sp = book?.sp ?? req.quantity.precision;
    const qty = book === undefined ? req.quantity.raw * pow10(sp - req.quantity.precision) : rawAt(req.quantity, sp);
    const limit = req.limitPrice === undefined ? undefined : rawAt(req.limitPrice, pp);
    const stop = req.stopPrice === undefined ? undefined : rawAt(req.stopPrice, pp);
    const tp = req.bracket === undefined ? undefined : rawAt(req.bracket.takeProfit, pp);
    const sl = req.bracket === undefined ? undefined : rawAt(req.bracket.stopLoss, pp);
    const latency = this.#latency.entryNs(req);
    const o: SimOrder = {
      seq: ++this.#seq,
      index: this.#orderList.length,
      clientOrderId: id,
      venueOrderId: `${this.name}-${this.#seq}` as VenueOrderId,
      symbol: req.symbol,
      side: req.side,
      type: req.type,
      tif: req.timeInForce,
      book,
      pp,
      sp,
      qty: qty ?? req.quantity.raw,
      limit: limit ?? req.limitPrice?.raw,
      stop: stop ?? req.stopPrice?.raw,
      filled: 0n,
      notional: 0n,
      commission: zeroMoney(book?.instrument.quoteCurrency ?? 'USD'),
      status: 'rejected',
      arrivalNs: this.#now + latency,
      triggered: false,
      reduceOnly: req.reduceOnly === true,
      bracket: tp !== undefined && sl !== undefined ? { tp, sl } : undefined,
      parent: undefined,
      sibling: undefined,
      day: req.timeInForce === 'DAY' ? this.#sessionDay(this.#now) : undefined,
      tsLast: this.#now,
      budget: req.notional,
      cost: undefined,
      costQty: 0n,
      costFilled: 0n,
      costRef: 0n,
      snap: undefined,
    };
    this.#liveVersion++;
    this.#orders.set(id, o);
    this.#orderList.push(o);
    const problem =
      book === undefined
        ? `unknown symbol ${req.symbol}: not one of this venue's instruments`
        : this.#validate(req, o, book, { qty, limit, stop, tp, sl });
    if (problem !== undefined) {
      this.#reject(id, problem);
      return;
    }
    const b = book as Book;
    o.status = 'pending';
    b.working.push(o);
    if (o.arrivalNs <= this.#now) {
      this.#accept(o, this.#now);
      const bar = b.lastBar;
      // only market orders under 'this-close' can be eligible for the bar being handled
      if (bar !== undefined && o.type === 'Market' && this.#market.eligibleAt(bar) >= o.arrivalNs) {
        this.#matchBook(b, bar, o);
      }
    } else {
      this.#insertPending(o);
    }
  }

  #validate(
    req: OrderRequest,
    o: SimOrder,
    b: Book,
    raw: { qty: bigint | undefined; limit: bigint | undefined; stop: bigint | undefined; tp: bigint | undefined; sl: bigint | undefined },
  ): string | undefined {
    const sym = req.symbol;
    const inst = b.instrument;
    if (req.notional !== undefined) return this.#notionalProblem(req, o, b);
    if (raw.qty === undefined || raw.qty % b.lot !== 0n) return `quantity ${req.quantity.toString()} is not a multiple of ${sym}'s lot size ${inst.lotSize.toString()}`;
    if (raw.qty <= 0n) return `quantity must be positive, got ${req.quantity.toString()}`;
    if (!this.#fractional && raw.qty % pow10(b.sp) !== 0n) return `fractional quantity ${req.quantity.toString()} is not allowed on this venue`;
    if (raw.qty < b.minQty) return `quantity ${req.quantity.toString()} is below ${sym}'s minimum ${inst.minQuantity.toString()}`;
    const needsLimit = req.type === 'Limit' || req.type === 'StopLimit';
    const needsStop = req.type === 'Stop' || req.type === 'StopLimit';
    if (needsLimit && req.limitPrice === undefined) return `${req.type} order needs a limitPrice`;
    if (!needsLimit && req.limitPrice !== undefined) return `${req.type} order cannot have a limitPrice`;
    if (needsStop && req.stopPrice === undefined) return `${req.type} order needs a stopPrice`;
    if (!needsStop && req.stopPrice !== undefined) return `${req.type} order cannot have a stopPrice`;
    const priceProblem =
      tickProblem('limitPrice', req.limitPrice, raw.limit, b) ??
      tickProblem('stopPrice', req.stopPrice, raw.stop, b) ??
      tickProblem('takeProfit', req.bracket?.takeProfit, raw.tp, b) ??
      tickProblem('stopLoss', req.bracket?.stopLoss, raw.sl, b);
    if (priceProblem !== undefined) return priceProblem;
    if (needsStop && (req.timeInForce === 'FOK' || req.timeInForce === 'IOC')) {
      return `${req.timeInForce} is not supported for ${req.type} orders`;
    }
    if (req.bracket !== undefined) {
      const { tp, sl } = raw as { tp: bigint; sl: bigint };
      if (req.reduceOnly === true) return 'a reduce-only order cannot carry a bracket';
      if (req.side === 'Buy' ? tp <= sl : tp >= sl) {
        return `bracket takeProfit ${req.bracket.takeProfit.toString()} must be ${req.side === 'Buy' ? 'above' : 'below'} stopLoss ${req.bracket.stopLoss.toString()} for a ${req.side}`;
      }
      if (raw.limit !== undefined && (req.side === 'Buy' ? !(sl < raw.limit && raw.limit < tp) : !(tp < raw.limit && raw.limit < sl))) {
        return `bracket legs must lie on either side of the entry limit ${req.limitPrice?.toString() ?? ''}`;
      }
    }
    // the last close is converted only for the checks that use it
    const needsRef = inst.minNotional !== undefined || (this.#cashAccount && req.side === 'Buy');
    const ref = raw.limit ?? raw.stop ?? (!needsRef || b.lastBar === undefined ? undefined : this.#prices(b, b.lastBar).close);
    if (inst.minNotional !== undefined && ref !== undefined) {
      const notional = Money.fromRaw(ref * raw.qty, b.pp + b.sp, inst.quoteCurrency);
      if (notional.lt(inst.minNotional)) return `notional ${notional.toString()} is below ${sym}'s minimum ${inst.minNotional.toString()}`;
    }
    if (req.reduceOnly === true) {
      const reducing = req.side === 'Buy' ? -b.position : b.position;
      if (reducing <= 0n) return `reduce-only ${req.side} would not reduce the ${sym} position ${formatDecimal(b.position, b.sp)}`;
      if (raw.qty > reducing) return `reduce-only quantity ${req.quantity.toString()} exceeds the ${sym} position ${formatDecimal(b.position, b.sp)}`;
    }
    if (this.#cashAccount) return this.#cashProblem(req, o, b, raw.qty, ref);
    return undefined;
  }

  #notionalProblem(req: OrderRequest, o: SimOrder, b: Book): string | undefined {
    const n = req.notional as Money;
    if (req.type !== 'Market') return `a notional order must be a market order, got ${req.type}`;
    if (req.bracket !== undefined || req.reduceOnly === true) return 'a notional order cannot carry a bracket or be reduce-only';
    if (!n.isPositive()) return `notional must be positive, got ${n.toString()}`;
    if (n.currency !== b.instrument.quoteCurrency) return `notional ${n.toString()} is not in ${req.symbol}'s quote currency ${b.instrument.quoteCurrency}`;
    if (!this.#cashAccount) return undefined;
    if (req.side === 'Sell') return 'notional sells are not supported on a cash account';
    const sum = this.#reserved(n.currency, o, true);
    const cash = this.#cash.get(n.currency) ?? zeroMoney(n.currency);
    if (!exceeds(n, cash, sum)) return undefined;
    const reserved = Money.fromRaw(sum.raw, sum.precision, n.currency);
    const free = cash.sub(reserved);
    return `insufficient cash on a cash account: notional ${n.toString()} but ${free.toString()} is available (cash ${cash.toString()}, ${reserved.toString()} reserved by open buys)`;
  }

  #cashProblem(req: OrderRequest, o: SimOrder, b: Book, qty: bigint, ref: bigint | undefined): string | undefined {
    const sym = req.symbol;
    if (req.side === 'Sell') {
      let committed = 0n;
      const groups = new Set<SimOrder>();
      for (const w of b.working) {
        if (w === o || w.side !== 'Sell') continue;
        if (w.parent === undefined) committed += w.qty - w.filled;
        else if (!groups.has(w.parent)) {
          groups.add(w.parent);
          committed += w.qty - w.filled;
        }
      }
      const free = b.position - committed;
      if (qty > free) {
        return `short selling is not allowed on a cash account: selling ${req.quantity.toString()} ${sym} but only ${formatDecimal(free < 0n ? 0n : free, b.sp)} is held and not already committed to open sells`;
      }
      return undefined;
    }
    const cur = b.instrument.quoteCurrency;
    if (ref === undefined) return `cash account: no price known yet for ${sym} to check the cost of a ${req.type} buy`;
    const unslipped = ref;
    if (o.type === 'Market') ref = this.#slippage.apply('Buy', ref, b.instrument);
    const cost = this.#buyCost(b, qty, ref);
    // the same cost is what this order reserves once working, while its price reference stays the same
    if (ref === unslipped) {
      o.cost = cost;
      o.costQty = qty;
      o.costFilled = 0n;
      o.costRef = ref;
    }
    const sum = this.#reserved(cur, o, false);
    const cash = this.#cash.get(cur) ?? zeroMoney(cur);
    if (exceeds(cost, cash, sum)) {
      const reserved = Money.fromRaw(sum.raw, sum.precision, cur);
      const free = cash.sub(reserved);
      return `insufficient cash on a cash account: buying ${req.quantity.toString()} ${sym} needs about ${cost.toString()} but ${free.toString()} is available (cash ${cash.toString()}, ${reserved.toString()} reserved by open buys)`;
    }
    return undefined;
  }

  /**
   * Cash reserved by the working buys in `cur` other than `except`: each one's cost at its limit, stop or
   * last close (with `budgets`, an unfilled notional order's budget), summed exactly at the largest
   * precision, which is what adding them one by one to a zero Money gives. The result is a reused scratch value.
   */
  #reserved(cur: string, except: SimOrder, budgets: boolean): RawSum {
    let raw = 0n;
    let p = 0;
    for (const ob of this.#books.values()) {
      const working = ob.working;
      if (working.length === 0 || ob.instrument.quoteCurrency !== cur) continue;
      for (let i = 0; i < working.length; i++) {
        const w = working[i] as SimOrder;
        if (w === except || w.side !== 'Buy') continue;
        const m = budgets && w.budget !== undefined && w.filled === 0n ? w.budget : this.#reservedCost(ob, w);
        const mp = m.precision;
        if (mp === p) raw += m.raw;
        else if (mp > p) {
          raw = raw * pow10(mp - p) + m.raw;
          p = mp;
        } else raw += m.raw * pow10(p - mp);
      }
    }
    const sum = this.#sum;
    sum.raw = raw;
    sum.precision = p;
    return sum;
  }

  /** A working buy's cost for its open quantity at its reference price, recomputed only when either changed (the commission model is a pure function). */
  #reservedCost(b: Book, w: SimOrder): Money {
    const ref = w.limit ?? w.stop ?? (b.lastBar === undefined ? 0n : this.#prices(b, b.lastBar).close);
    if (w.cost === undefined || w.costQty !== w.qty || w.costFilled !== w.filled || w.costRef !== ref) {
      w.cost = this.#buyCost(b, w.qty - w.filled, ref);
      w.costQty = w.qty;
      w.costFilled = w.filled;
      w.costRef = ref;
    }
    return w.cost;
  }

  #buyCost(b: Book, qty: bigint, px: bigint): Money {
    const notional = Money.fromRaw(px * qty, b.pp + b.sp, b.instrument.quoteCurrency);
    const fee = this.#commission.orderTotal(new FillsView(b.instrument, qty, b.sp, notional.raw, notional.precision, notional));
    return notional.add(fee);
  }

  #insertPending(o: SimOrder): void {
    let i = this.#pending.length;
    while (i > 0 && (this.#pending[i - 1] as SimOrder).arrivalNs > o.arrivalNs) i--;
    this.#liveVersion++;
    this.#pending.splice(i, 0, o);
  }

  #accept(o: SimOrder, ts: bigint): void {
    this.#liveVersion++;
    o.status = 'open';
    o.tsLast = ts;
    this.#emit({ kind: 'accepted', clientOrderId: o.clientOrderId, venueOrderId: o.venueOrderId, tsEvent: ts, tsInit: ts });
  }

  #acceptArrived(until: bigint): void {
    let n = 0;
    for (const o of this.#pending) {
      if (o.arrivalNs > until) break;
      n++;
      if (o.status === 'pending') this.#accept(o, o.arrivalNs);
    }
    this.#liveVersion++;
    if (n > 0) this.#pending = this.#pending.slice(n);
  }

  // ---- matching

  #prices(b: Book, bar: Bar): BarPrices {
    if (b.lastBar === bar && b.lastPrices !== undefined) return b.lastPrices;
    const p = barPrices(bar, b.pp);
    if (b.lastBar === bar) b.lastPrices = p;
    return p;
  }

  /** Matches the book's working orders (or only `only`) against `bar`, then drops closed orders. */
  #matchBook(b: Book, bar: Bar, only?: SimOrder): void {
    const prices = this.#prices(b, bar);
    if (b.capacityBar !== bar) {
      b.capacityBar = bar;
      b.capacityLeft = this.#volume.capacity(bar, b.instrument);
    }
    if (only !== undefined) {
      this.#matchOrder(b, only, bar, prices);
    } else {
      // a loop by index: bracket legs activated by a fill are appended and may fill on the same bar
      for (let i = 0; i < b.working.length; i++) {
        const o = b.working[i] as SimOrder;
        if (o.status !== 'open' && o.status !== 'partially-filled') continue;
        if (o.day !== undefined && this.#sessionDay(bar.openTimeNs) !== o.day) {
          this.#close(o, 'expired', bar.openTimeNs, '');
          continue;
        }
        this.#matchOrder(b, o, bar, prices);
      }
    }
    compactWorking(b.working);
  }

  #matchOrder(b: Book, o: SimOrder, bar: Bar, p: BarPrices): void {
    const mk = this.#market;
    let px: bigint | undefined;
    let ts = bar.closeTimeNs;
    let liquidity: LiquiditySide = 'Taker';
    if (o.type === 'Market' || (o.type === 'Stop' && o.triggered)) {
      if (mk.eligibleAt(bar) < o.arrivalNs) return;
      px = this.#slippage.apply(o.side, mk.price(p), b.instrument);
      if (mk.atOpen) ts = bar.openTimeNs;
    } else {
      if (bar.openTimeNs < o.arrivalNs) return;
      if ((o.type === 'Stop' || o.type === 'StopLimit') && !o.triggered) {
        const trigger = stopTriggerPrice(o.side, o.stop as bigint, p);
        if (trigger !== undefined) {
          this.#liveVersion++;
          o.triggered = true;
          o.tsLast = trigger === p.open ? bar.openTimeNs : bar.closeTimeNs;
          ts = o.tsLast;
          if (o.type === 'Stop') {
            px = this.#slippage.apply(o.side, trigger, b.instrument);
          } else if (o.side === 'Buy' ? trigger <= (o.limit as bigint) : trigger >= (o.limit as bigint)) {
            px = trigger;
          }
        }
      } else {
        px = this.#limitModel.fillPrice(o.side, o.limit as bigint, p);
        if (px !== undefined) {
          if (px === o.limit) liquidity = 'Maker';
          else ts = bar.openTimeNs;
        }
      }
    }
    if (px !== undefined) this.#fill(b, o, px, ts, liquidity);
    if ((o.tif === 'IOC' || o.tif === 'FOK') && OPEN.has(o.status)) {
      this.#close(o, 'canceled', bar.closeTimeNs, `${o.tif} order not filled${o.filled > 0n ? ' completely' : ''} on its first eligible bar`);
    }
  }

  #fill(b: Book, o: SimOrder, px: bigint, ts: bigint, liquidity: LiquiditySide): void {
    if (o.budget !== undefined && o.filled === 0n) {
      // value = qty * px: qtyRaw(sp) = budget * 10^(pp + sp - budgetPrecision) / px, floored to the lot
      const shift = b.pp + b.sp - o.budget.precision;
      const num = shift >= 0 ? o.budget.raw * pow10(shift) : o.budget.raw / pow10(-shift);
      const units = px > 0n ? num / px : 0n;
      this.#liveVersion++;
      o.qty = units - (units % b.lot);
      if (o.qty <= 0n || o.qty < b.minQty) {
        this.#close(o, 'canceled', ts, `notional ${o.budget.toString()} buys less than the minimum quantity of ${o.symbol} at ${formatDecimal(px, b.pp)}`);
        return;
      }
    }
    let qty = o.qty - o.filled;
    if (b.capacityLeft !== undefined && b.capacityLeft < qty) qty = b.capacityLeft;
    if (o.tif === 'FOK' && qty < o.qty - o.filled) return;
    if (qty <= 0n) return;
    const inst = b.instrument;
    const cur = inst.quoteCurrency;
    let trimmed = false;
    if (o.reduceOnly) {
      const reducible = o.side === 'Buy' ? -b.position : b.position;
      if (reducible <= 0n) {
        this.#close(o, 'canceled', ts, 'reduce-only order: the position it would reduce is gone');
        return;
      }
      if (qty > reducible) {
        qty = reducible;
        trimmed = true;
      }
    }
    const filled = o.filled + qty;
    const notional = o.notional + px * qty;
    const total = this.#commission.orderTotal(new FillsView(inst, filled, b.sp, notional, b.pp + b.sp));
    const commission = total.sub(o.commission);
    const cash = this.#cash.get(cur) ?? zeroMoney(cur);
    // cash -/+ value - commission at the largest of their precisions, as the Money operations would give
    const vp = b.pp + b.sp;
    const cp = Math.max(cash.precision, vp, commission.precision);
    const valueRaw = px * qty * pow10(cp - vp);
    const cashRaw = cash.raw * pow10(cp - cash.precision) + (o.side === 'Buy' ? -valueRaw : valueRaw) - commission.raw * pow10(cp - commission.precision);
    if (this.#cashAccount) {
      if (o.side === 'Buy' && cashRaw < 0n) {
        const value = Money.fromRaw(px * qty, vp, cur);
        this.#close(o, 'canceled', ts, `insufficient cash on a cash account: filling ${formatDecimal(qty, b.sp)} ${o.symbol} at ${formatDecimal(px, b.pp)} needs ${value.add(commission).toString()}, cash is ${cash.toString()}`);
        return;
      }
      if (o.side === 'Sell' && qty > b.position) {
        this.#close(o, 'canceled', ts, `short selling is not allowed on a cash account: selling ${formatDecimal(qty, b.sp)} ${o.symbol} with ${formatDecimal(b.position, b.sp)} held`);
        return;
      }
    }
    this.#liveVersion++;
    o.filled = filled;
    o.notional = notional;
    o.commission = total;
    o.status = filled === o.qty ? 'filled' : 'partially-filled';
    o.tsLast = ts;
    this.#cash.set(cur, Money.fromRaw(cashRaw, cp, cur));
    if (b.capacityLeft !== undefined) b.capacityLeft -= qty;
    this.#applyPosition(b, o.side === 'Buy' ? qty : -qty, px);
    this.#emit({
      kind: 'filled',
      clientOrderId: o.clientOrderId,
      venueOrderId: o.venueOrderId,
      tradeId: `${this.name}-T${++this.#trades}` as TradeId,
      symbol: o.symbol,
      side: o.side,
      lastQty: Quantity.fromRaw(qty, b.sp),
      lastPx: Price.fromRaw(px, b.pp),
      commission,
      liquiditySide: liquidity,
      leavesQty: Quantity.fromRaw(o.qty - filled, b.sp),
      tsEvent: ts,
      tsInit: ts,
    });
    if (o.parent !== undefined) this.#legFilled(o, ts);
    else if (o.status === 'filled' && o.bracket !== undefined) this.#activateLegs(b, o, ts);
    if (trimmed) this.#close(o, 'canceled', ts, 'reduce-only order: the remainder exceeds the position');
  }

  #applyPosition(b: Book, delta: bigint, px: bigint): void {
    // the book columns of liveSnapshot read positions again after a change (see #bookColumns)
    this.#liveVersion++;
    const before = b.position;
    const after = before + delta;
    const scaled = px * pow10(AVG_EXTRA);
    if (after === 0n) b.avgPx = 0n;
    else if (before === 0n || (before > 0n) !== (after > 0n)) b.avgPx = scaled;
    else if ((delta > 0n) === (before > 0n)) {
      const a = before < 0n ? -before : before;
      const d = delta < 0n ? -delta : delta;
      b.avgPx = divRound(a * b.avgPx + d * scaled, a + d, 'half-even');
    }
    b.position = after;
  }

  #activateLegs(b: Book, entry: SimOrder, ts: bigint): void {
    const { tp, sl } = entry.bracket as { tp: bigint; sl: bigint };
    const side: Side = entry.side === 'Buy' ? 'Sell' : 'Buy';
    // the stop-loss leg is created first so that it has priority when both could fill on one bar
    const stopLeg = this.#makeLeg(b, entry, `${entry.clientOrderId}-sl`, side, 'Stop', undefined, sl, ts);
    const takeLeg = this.#makeLeg(b, entry, `${entry.clientOrderId}-tp`, side, 'Limit', tp, undefined, ts);
    if (stopLeg === undefined || takeLeg === undefined) {
      if (stopLeg !== undefined) this.#close(stopLeg, 'canceled', ts, 'OCO sibling could not be created');
      if (takeLeg !== undefined) this.#close(takeLeg, 'canceled', ts, 'OCO sibling could not be created');
      return;
    }
    this.#liveVersion++;
    stopLeg.sibling = takeLeg;
    takeLeg.sibling = stopLeg;
  }

  #makeLeg(
    b: Book,
    entry: SimOrder,
    id: string,
    side: Side,
    type: OrderType,
    limit: bigint | undefined,
    stop: bigint | undefined,
    ts: bigint,
  ): SimOrder | undefined {
    const cid = id as ClientOrderId;
    if (this.#orders.has(cid)) {
      this.#emit({ kind: 'rejected', clientOrderId: cid, reason: `duplicate clientOrderId ${cid} for a bracket leg of ${entry.clientOrderId}`, tsEvent: ts, tsInit: ts });
      return undefined;
    }
    const seq = ++this.#seq;
    const o: SimOrder = {
      seq,
      index: this.#orderList.length,
      clientOrderId: cid,
      venueOrderId: `${this.name}-${seq}` as VenueOrderId,
      symbol: entry.symbol,
      side,
      type,
      tif: 'GTC',
      book: b,
      pp: b.pp,
      sp: b.sp,
      qty: entry.filled,
      limit,
      stop,
      filled: 0n,
      notional: 0n,
      commission: zeroMoney(b.instrument.quoteCurrency),
      status: 'pending',
      arrivalNs: ts,
      triggered: false,
      reduceOnly: false,
      bracket: undefined,
      parent: entry,
      sibling: undefined,
      day: undefined,
      tsLast: ts,
      budget: undefined,
      cost: undefined,
      costQty: 0n,
      costFilled: 0n,
      costRef: 0n,
      snap: undefined,
    };
    this.#liveVersion++;
    this.#orders.set(cid, o);
    this.#orderList.push(o);
    b.working.push(o);
    this.#accept(o, ts);
    return o;
  }

  #legFilled(leg: SimOrder, ts: bigint): void {
    const sib = leg.sibling;
    if (sib === undefined || !OPEN.has(sib.status)) return;
    const remaining = leg.qty - leg.filled;
    if (remaining === 0n) {
      this.#close(sib, 'canceled', ts, `OCO: sibling ${leg.clientOrderId} filled`);
      return;
    }
    // a partial fill of one leg shrinks the other to the same open quantity (one-updates-other)
    this.#liveVersion++;
    sib.qty = sib.filled + remaining;
    sib.tsLast = ts;
    this.#emitModified(sib, ts);
  }

  #emitModified(o: SimOrder, ts: bigint): void {
    this.#emit({
      kind: 'modified',
      clientOrderId: o.clientOrderId,
      venueOrderId: o.venueOrderId,
      quantity: Quantity.fromRaw(o.qty, o.sp),
      limitPrice: o.limit === undefined ? undefined : Price.fromRaw(o.limit, o.pp),
      stopPrice: o.stop === undefined ? undefined : Price.fromRaw(o.stop, o.pp),
      tsEvent: ts,
      tsInit: ts,
    });
  }

  #close(o: SimOrder, status: 'canceled' | 'expired', ts: bigint, reason: string): void {
    this.#liveVersion++;
    o.status = status;
    o.tsLast = ts;
    if (status === 'expired') {
      this.#emit({ kind: 'expired', clientOrderId: o.clientOrderId, venueOrderId: o.venueOrderId, tsEvent: ts, tsInit: ts });
    } else {
      this.#emit({ kind: 'canceled', clientOrderId: o.clientOrderId, venueOrderId: o.venueOrderId, reason, tsEvent: ts, tsInit: ts });
    }
  }

  // ---- cancel and modify

  #cancel(id: ClientOrderId): void {
    const now = this.#now;
    const o = this.#orders.get(id);
    if (o === undefined || !OPEN.has(o.status)) {
      const reason = o === undefined ? `unknown order ${id}` : `order ${id} is already ${o.status}`;
      this.#emit({ kind: 'cancel-rejected', clientOrderId: id, reason, tsEvent: now, tsInit: now });
      return;
    }
    this.#close(o, 'canceled', now, 'canceled by request');
    const sib = o.sibling;
    if (sib !== undefined && OPEN.has(sib.status)) this.#close(sib, 'canceled', now, `OCO group canceled with ${id}`);
    this.#prune(o.book as Book);
  }

  #prune(b: Book): void {
    compactWorking(b.working);
    this.#liveVersion++;
    if (this.#pending.length !== 0) this.#pending = this.#pending.filter((w) => w.status === 'pending');
  }

  #modify(req: ModifyRequest): void {
    const now = this.#now;
    const id = req.clientOrderId;
    const o = this.#orders.get(id);
    const refuse = (why: string): void => {
      this.#emit({ kind: 'cancel-rejected', clientOrderId: id, reason: `modify rejected: ${why}`, tsEvent: now, tsInit: now });
    };
    if (o === undefined) return refuse(`unknown order ${id}`);
    if (!OPEN.has(o.status)) return refuse(`order ${id} is already ${o.status}`);
    const b = o.book as Book;
    let qty = o.qty;
    let limit = o.limit;
    let stop = o.stop;
    if (req.quantity !== undefined) {
      const q = rawAt(req.quantity, b.sp);
      if (q === undefined || q % b.lot !== 0n) return refuse(`quantity ${req.quantity.toString()} is not a multiple of the lot size ${b.instrument.lotSize.toString()}`);
      if (!this.#fractional && q % pow10(b.sp) !== 0n) return refuse(`fractional quantity ${req.quantity.toString()} is not allowed on this venue`);
      if (q <= o.filled) return refuse(`quantity ${req.quantity.toString()} must exceed the filled ${formatDecimal(o.filled, b.sp)}`);
      if (q < b.minQty) return refuse(`quantity ${req.quantity.toString()} is below the minimum ${b.instrument.minQuantity.toString()}`);
      qty = q;
    }
    if (req.limitPrice !== undefined) {
      if (o.type !== 'Limit' && o.type !== 'StopLimit') return refuse(`a ${o.type} order has no limit price`);
      const l = rawAt(req.limitPrice, b.pp);
      if (l === undefined || l % b.tick !== 0n || l <= 0n) return refuse(`limitPrice ${req.limitPrice.toString()} is not a positive price on the tick size ${b.instrument.tickSize.toString()}`);
      limit = l;
    }
    if (req.stopPrice !== undefined) {
      if (o.type !== 'Stop' && o.type !== 'StopLimit') return refuse(`a ${o.type} order has no stop price`);
      if (o.triggered) return refuse(`stop of ${id} has already triggered`);
      const s = rawAt(req.stopPrice, b.pp);
      if (s === undefined || s % b.tick !== 0n || s <= 0n) return refuse(`stopPrice ${req.stopPrice.toString()} is not a positive price on the tick size ${b.instrument.tickSize.toString()}`);
      stop = s;
    }
    this.#liveVersion++;
    o.qty = qty;
    o.limit = limit;
    o.stop = stop;
    o.tsLast = now;
    this.#emitModified(o, now);
  }
}

/** What a commission model sees of an order's fills, its decimals built only when the model reads them. */
class FillsView implements OrderFills {
  readonly instrument: Instrument;
  readonly #qty: bigint;
  readonly #sp: number;
  readonly #notional: bigint;
  readonly #np: number;
  #filledQty: Quantity | undefined;
  #filledNotional: Money | undefined;

  constructor(instrument: Instrument, qty: bigint, sp: number, notional: bigint, np: number, money?: Money) {
    this.instrument = instrument;
    this.#qty = qty;
    this.#sp = sp;
    this.#notional = notional;
    this.#np = np;
    this.#filledNotional = money;
  }

  get filledQty(): Quantity {
    this.#filledQty ??= Quantity.fromRaw(this.#qty, this.#sp);
    return this.#filledQty;
  }

  get filledNotional(): Money {
    this.#filledNotional ??= Money.fromRaw(this.#notional, this.#np, this.instrument.quoteCurrency);
    return this.#filledNotional;
  }
}

/** An exact amount as a scaled integer (a scratch value, not kept). */
interface RawSum {
  raw: bigint;
  precision: number;
}

/** Whether `amount` > `cash` - `reserved`, exactly (what `amount.gt(cash.sub(reserved))` answers, without the Money values). */
function exceeds(amount: Money, cash: Money, reserved: RawSum): boolean {
  const p = Math.max(amount.precision, cash.precision, reserved.precision);
  const a = amount.raw * pow10(p - amount.precision);
  const c = cash.raw * pow10(p - cash.precision);
  const r = reserved.raw * pow10(p - reserved.precision);
  return a + r > c;
}

/** Drops closed orders from a working list in place, keeping the order of the rest. */
function compactWorking(working: SimOrder[]): void {
  let j = 0;
  for (let i = 0; i < working.length; i++) {
    const o = working[i] as SimOrder;
    if (OPEN.has(o.status)) working[j++] = o;
  }
  working.length = j;
}

function tickProblem(what: string, value: Price | undefined, r: bigint | undefined, b: Book): string | undefined {
  if (value === undefined) return undefined;
  if (r === undefined || r % b.tick !== 0n) return `${what} ${value.toString()} is not on ${b.instrument.id.symbol}'s tick size ${b.instrument.tickSize.toString()}`;
  if (r <= 0n) return `${what} must be positive, got ${value.toString()}`;
  return undefined;
}

function orderState(o: SimOrder): SimulatedOrderState {
  return {
    seq: o.seq,
    clientOrderId: o.clientOrderId,
    venueOrderId: o.venueOrderId,
    symbol: o.symbol,
    side: o.side,
    type: o.type,
    tif: o.tif,
    pp: o.pp,
    sp: o.sp,
    qty: o.qty,
    limit: o.limit,
    stop: o.stop,
    filled: o.filled,
    notional: o.notional,
    commission: moneyState(o.commission),
    status: o.status,
    arrivalNs: o.arrivalNs,
    triggered: o.triggered,
    reduceOnly: o.reduceOnly,
    bracket: o.bracket === undefined ? undefined : { tp: o.bracket.tp, sl: o.bracket.sl },
    parent: o.parent?.clientOrderId,
    sibling: o.sibling?.clientOrderId,
    day: o.day,
    tsLast: o.tsLast,
    budget: o.budget === undefined ? undefined : moneyState(o.budget),
  };
}

/**
 * orderState(o), deep-frozen and reused while the order is unchanged (compared field by field: an order
 * resting between checkpoints costs a dozen comparisons, and the checkpoint encoder reuses its bytes).
 */
function liveOrderState(o: SimOrder): SimulatedOrderState {
  const c = o.snap;
  if (c !== undefined) {
    const s = c.state;
    if (
      s.qty === o.qty &&
      s.limit === o.limit &&
      s.stop === o.stop &&
      s.filled === o.filled &&
      s.notional === o.notional &&
      c.commission === o.commission &&
      s.status === o.status &&
      s.arrivalNs === o.arrivalNs &&
      s.triggered === o.triggered &&
      s.sibling === o.sibling?.clientOrderId &&
      s.tsLast === o.tsLast &&
      c.budget === o.budget
    ) {
      return s;
    }
  }
  const state = frozenData(orderState(o));
  o.snap = { state, commission: o.commission, budget: o.budget };
  return state;
}

function byIndex(a: SimOrder, b: SimOrder): number {
  return a.index - b.index;
}


function bigintText(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

function barState(b: Bar): Bar {
  return {
    symbol: b.symbol,
    timeframe: b.timeframe,
    openTimeNs: b.openTimeNs,
    closeTimeNs: b.closeTimeNs,
    open: b.open,
    high: b.high,
    low: b.low,
    close: b.close,
    volume: b.volume,
  };
}

function barFromState(v: unknown, read: StateReader, symbol: string): Bar {
  const r = read.record(v, ['symbol', 'timeframe', 'openTimeNs', 'closeTimeNs', 'open', 'high', 'low', 'close', 'volume']);
  if (r.symbol !== symbol) invalidState(read.at('symbol').where, `${JSON.stringify(r.symbol)} is not the book's symbol ${symbol}`);
  const bar: Bar = {
    symbol,
    timeframe: read.at('timeframe').oneOf(r.timeframe, TIMEFRAMES),
    openTimeNs: read.at('openTimeNs').bigint(r.openTimeNs),
    closeTimeNs: read.at('closeTimeNs').bigint(r.closeTimeNs),
    open: read.at('open').finite(r.open),
    high: read.at('high').finite(r.high),
    low: read.at('low').finite(r.low),
    close: read.at('close').finite(r.close),
    volume: read.at('volume').finite(r.volume),
  };
  const problem = barProblem(bar.open, bar.high, bar.low, bar.close, bar.volume);
  if (problem !== undefined) invalidState(read.where, problem);
  return Object.freeze(bar);
}

function notConnected(what: string): SimulatedVenueError {
  return new SimulatedVenueError('NotConnected', `cannot ${what}: the simulated venue is not connected (call connect() first)`);
}

type Part = Exclude<keyof SimulatedVenueConfig, 'sessionDay'>;
const REQUIRED: readonly Part[] = [
  'name',
  'instruments',
  'startingBalances',
  'accountType',
  'fractional',
  'marketFillModel',
  'limitFillModel',
  'volumeModel',
  'slippageModel',
  'commissionModel',
  'latencyModel',
];

/** Assembles a SimulatedVenue part by part; `build` refuses while a required part is missing. */
export class SimulatedVenueBuilder {
  readonly #parts: { -readonly [K in keyof SimulatedVenueConfig]?: SimulatedVenueConfig[K] } = {};

  name(name: string): this {
    this.#parts.name = name;
    return this;
  }
  instruments(instruments: readonly Instrument[]): this {
    this.#parts.instruments = [...instruments];
    return this;
  }
  /** Starting cash, one Money per currency. */
  startingBalances(balances: readonly Money[]): this {
    this.#parts.startingBalances = [...balances];
    return this;
  }
  accountType(type: AccountType): this {
    this.#parts.accountType = type;
    return this;
  }
  fractional(allowed: boolean): this {
    this.#parts.fractional = allowed;
    return this;
  }
  marketFillModel(model: MarketFillModel): this {
    this.#parts.marketFillModel = model;
    return this;
  }
  limitFillModel(model: LimitFillModel): this {
    this.#parts.limitFillModel = model;
    return this;
  }
  volumeModel(model: VolumeModel): this {
    this.#parts.volumeModel = model;
    return this;
  }
  slippageModel(model: SlippageModel): this {
    this.#parts.slippageModel = model;
    return this;
  }
  commissionModel(model: CommissionModel): this {
    this.#parts.commissionModel = model;
    return this;
  }
  latencyModel(model: LatencyModel): this {
    this.#parts.latencyModel = model;
    return this;
  }
  /** Trading-day key for DAY expiry (optional; default the UTC date). */
  sessionDay(fn: (tsNs: bigint) => string): this {
    this.#parts.sessionDay = fn;
    return this;
  }

  /** @throws SimulatedVenueError BuilderIncomplete naming every missing part | InvalidConfig */
  build(): SimulatedVenue {
    const missing = REQUIRED.filter((k) => this.#parts[k] === undefined);
    if (missing.length > 0) {
      throw new SimulatedVenueError('BuilderIncomplete', `cannot build the simulated venue: missing ${missing.join(', ')}`);
    }
    const p = this.#parts as SimulatedVenueConfig;
    return new SimulatedVenue(
      Object.freeze({
        name: p.name,
        instruments: p.instruments,
        startingBalances: p.startingBalances,
        accountType: p.accountType,
        fractional: p.fractional,
        marketFillModel: p.marketFillModel,
        limitFillModel: p.limitFillModel,
        volumeModel: p.volumeModel,
        slippageModel: p.slippageModel,
        commissionModel: p.commissionModel,
        latencyModel: p.latencyModel,
        sessionDay: this.#parts.sessionDay ?? utcDay,
      }),
    );
  }
}
