import { randomUUID } from 'node:crypto';
import { Decimal, formatDecimal, type DecimalInput } from '../core/decimal.js';
import { LiveClock, type Clock } from '../core/clock.js';
import { frozenData } from '../core/frozen.js';
import type { Rng } from '../core/rng.js';
import { OmsError } from './errors.js';
import { limitOrder, marketOrder, notionalOrder, orderToDict, type OmsOrderType, type Order, type OrderDict, type Side } from './order.js';
import { Portfolio, type Position, type PortfolioOptions, type PortfolioState } from './portfolio.js';
import { cmp as compareRaw, divRaw, edgeDecimal, mulPrecision, mulRaw, up } from './raw.js';
import { ORDER_STATUS_KINDS, OrderStatus, type OrderStatusDict, type OrderStatusKind } from './status.js';
import { StateReader } from './state.js';
import { fillLedger, type LedgerFill, type LedgerRecord } from './ledger.js';
import { canTransition, transition, type OrderEventKind } from './transitions.js';

/** Options of an OrderManager. */
export interface OrderManagerOptions {
  /** Source of timestamps (epoch ns); default LiveClock. */
  clock?: Clock;
  /**
   * Order id generator; default crypto.randomUUID (use seededUuid for deterministic backtests).
   * Every id is checked against the known orders (a repeat is refused with InvalidTransition),
   * except that the built-in generators' ids (randomUUID, seededUuid: 122 random bits each) are
   * only checked against the active orders and the ones a restore brought back, so a manager using
   * them indexes its history for lookups lazily, on the first lookup that needs it.
   */
  idGenerator?: () => string;
  /** The portfolio fills update, or options for a new one (its clock defaults to this clock). */
  portfolio?: Portfolio | PortfolioOptions;
  /**
   * How many terminal orders the history keeps (the newest); older ones are forgotten by getOrder,
   * cancel and addFill, while historyCount still counts them. Default unlimited.
   */
  historyLimit?: number;
}

/** A fill pushed to the OMS; decimals as strings, safe integers or decimal objects. */
export interface OmsFill {
  orderId: string;
  /** The venue's execution id; a repeated id is ignored (idempotent). */
  fillId: string;
  /** Must match the order's symbol when given. */
  symbol?: string;
  /** Fill price, quote currency. */
  price: DecimalInput;
  /** Positive fill quantity. */
  quantity: DecimalInput;
  /** Fee in `feeCurrency` (default the quote currency); default 0. */
  fee?: DecimalInput;
  feeCurrency?: string;
  /** Fill time, epoch ns; default clock.now(). */
  tsNs?: bigint;
  /**
   * The venue says nothing is left of the order after this fill (leaves quantity 0): the order is
   * Filled even if the fills total less than its quantity (notional orders, venue-side reductions).
   */
  final?: boolean;
}

/** An order's full record, active or historical. */
export interface OrderRecord {
  readonly id: string;
  readonly order: Order;
  readonly status: OrderStatus;
  /** Filled quantity so far. */
  readonly filledQty: Decimal;
  /** Exact sum of fill price x quantity, quote currency. */
  readonly filledNotional: Decimal;
  /** Epoch ns. */
  readonly createdAt: bigint;
  /** Epoch ns. */
  readonly updatedAt: bigint;
}

/** Plain form of an OrderRecord. */
export interface OrderRecordDict {
  id: string;
  order: OrderDict;
  status: OrderStatusDict;
  filledQty: string;
  createdAt: string;
  updatedAt: string;
}

/** What snapshotBalance returns: exact cash strings and open positions. */
export interface BalanceSnapshot {
  cash: Record<string, string>;
  positions: Record<string, Position>;
}

interface OrderState {
  readonly id: string;
  readonly order: Order;
  kind: OrderStatusKind;
  /** The status object, built on first read after a change (a fill does not need one). */
  status: OrderStatus | undefined;
  /** Why the order was cancelled or rejected (kept across later fills). */
  reason: string | undefined;
  /** Filled quantity as (raw, precision). */
  fqR: bigint;
  fqP: number;
  /**
   * Exact sum of fill price x quantity as (raw, precision); fnP is -1 after a single fill, whose
   * notional is lastFillPrice x filled quantity (computed when read).
   */
  fnR: bigint;
  fnP: number;
  lastFillPrice: Decimal | undefined;
  /** Largest fill price precision, for printing the average price. */
  pxPrecision: number;
  fillCount: number;
  /** The ids of the fills it took, in the order applied (the first apart: most orders take one). */
  firstFill: string | undefined;
  moreFills: string[] | undefined;
  readonly createdAt: bigint;
  updatedAt: bigint;
  /** The last liveSnapshot record of this order (frozenData) and the fields it was taken from. */
  snap: OrderSnap | undefined;
}

interface OrderSnap {
  readonly record: OrderStateSnapshot;
  readonly kind: OrderStatusKind;
  readonly status: OrderStatus;
  readonly fqR: bigint;
  readonly fqP: number;
  readonly fnR: bigint;
  readonly fnP: number;
  readonly lastFillPrice: Decimal | undefined;
  readonly pxPrecision: number;
  readonly fillCount: number;
  readonly updatedAt: bigint;
}

/**
 * Generators whose ids never repeat in one sequence (version-4 UUIDs, 122 random bits: a repeat
 * within 2^40 orders has probability below 2^-42).
 */
const UNIQUE_IDS = new WeakSet<() => string>([randomUUID]);

// character codes of the 16 hex digits
const HEX_CODES = [48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102];

function h(w: number, shift: number): number {
  return HEX_CODES[(w >>> shift) & 15] as number;
}

/** A generator of RFC 4122 version-4-shaped UUIDs drawn from `rng`: deterministic for a given seed. */
export function seededUuid(rng: Rng): () => string {
  const next = (): string => {
    const a = rng.nextU32();
    const b = ((rng.nextU32() & 0xffff0fff) | 0x00004000) >>> 0;
    const c = ((rng.nextU32() & 0x3fffffff) | 0x80000000) >>> 0;
    const d = rng.nextU32();
    // one flat string from 36 codes: no intermediate strings
    return String.fromCharCode(
      h(a, 28), h(a, 24), h(a, 20), h(a, 16), h(a, 12), h(a, 8), h(a, 4), h(a, 0), 45,
      h(b, 28), h(b, 24), h(b, 20), h(b, 16), 45, h(b, 12), h(b, 8), h(b, 4), h(b, 0), 45,
      h(c, 28), h(c, 24), h(c, 20), h(c, 16), 45, h(c, 12), h(c, 8), h(c, 4), h(c, 0),
      h(d, 28), h(d, 24), h(d, 20), h(d, 16), h(d, 12), h(d, 8), h(d, 4), h(d, 0),
    );
  };
  UNIQUE_IDS.add(next);
  return next;
}

const STATUS_EVENT: Readonly<Partial<Record<OrderStatusKind, OrderEventKind>>> = {
  Acknowledged: 'acknowledge',
  Cancelled: 'cancel',
  Rejected: 'reject',
  Expired: 'expire',
};

/**
 * The order management system: order lifecycle through the one transition table, idempotency
 * keys, fill dedupe and the portfolio. A fill updates the order and the portfolio atomically.
 * Terminal orders leave the active set for the history.
 */
export class OrderManager {
  readonly portfolio: Portfolio;
  readonly #clock: Clock;
  readonly #newId: () => string;
  readonly #historyLimit: number;
  /**
   * Orders by id for the id-in-use check and finding terminal orders; active ones are looked up in
   * the (usually small, cache-warm) #active first. With a generator outside UNIQUE_IDS, or after a
   * restore that brought orders back, every order is entered on submit (eager). Otherwise (#lazy)
   * it holds the retained history up to #indexEnd only, and a lookup that misses enters the rest
   * first: a run that never looks up a terminal order never hashes its ids into a growing map.
   */
  #orders = new Map<string, OrderState>();
  #lazy: boolean;
  /** In #lazy mode, the #history position up to which entries are in #orders. */
  #indexEnd = 0;
  /** Non-terminal orders, in submission order. */
  #active = new Map<string, OrderState>();
  /** Retained terminal orders, oldest first, from index #historyHead on (a queue: no hashing per order). */
  #history: (OrderState | undefined)[] = [];
  #historyHead = 0;
  #historyTotal = 0;
  /** Every idempotency key used, with its rank in first-use order (liveSnapshot keeps that order). */
  #keys = new Map<string, number>();
  #keyRank = 0;
  /** This manager's token in its portfolio's fill ledger, which records the order that took each fill id. */
  readonly #tag = {};

  /** @throws OmsError SerializationError when historyLimit is not a non-negative integer */
  constructor(options: OrderManagerOptions = {}) {
    const limit = options.historyLimit;
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0) && limit !== Infinity) {
      throw new OmsError('SerializationError', `historyLimit must be a non-negative integer, got ${String(limit)}`);
    }
    this.#historyLimit = limit ?? Infinity;
    this.#clock = options.clock ?? new LiveClock();
    this.#newId = options.idGenerator ?? randomUUID;
    this.#lazy = UNIQUE_IDS.has(this.#newId);
    this.portfolio =
      options.portfolio instanceof Portfolio ? options.portfolio : new Portfolio({ clock: this.#clock, ...(options.portfolio ?? {}) });
  }

  /**
   * Adds cash to the portfolio.
   * @throws OmsError Portfolio on a non-positive amount, SerializationError on a bad decimal
   */
  deposit(currency: string, amount: DecimalInput): void {
    this.portfolio.deposit(currency, amount);
  }

  /**
   * Records a new order (status New) and returns its id (a UUID by default).
   * @throws OmsError DuplicateIdempotencyKey when its key was used before
   */
  submit(order: Order): string {
    const key = order.idempotencyKey;
    if (key !== undefined && this.#keys.has(key)) {
      throw new OmsError('DuplicateIdempotencyKey', `idempotency key ${JSON.stringify(key)} was already used`);
    }
    return this.#record(order);
  }

  #record(order: Order): string {
    this.#version++;
    const id = this.#newId();
    const now = this.#clock.now();
    const s: OrderState = {
      id,
      order,
      kind: 'New',
      status: NEW_STATUS,
      reason: undefined,
      fqR: 0n,
      fqP: 0,
      fnR: 0n,
      fnP: 0,
      lastFillPrice: undefined,
      pxPrecision: 0,
      fillCount: 0,
      firstFill: undefined,
      moreFills: undefined,
      snap: undefined,
      createdAt: now,
      updatedAt: now,
    };
    if (this.#lazy) {
      if (this.#active.has(id)) this.#idInUse(id);
    } else {
      // one insert into the big map instead of has + set: an unchanged size means the id was in use
      const orders = this.#orders;
      const known = orders.size;
      orders.set(id, s);
      if (orders.size === known) this.#idInUse(id);
    }
    this.#active.set(id, s);
    if (order.idempotencyKey !== undefined) this.#keys.set(order.idempotencyKey, this.#keyRank++);
    return id;
  }

  /** The id generator returned `id` while it is still known: puts the known order back and refuses. */
  #idInUse(id: string): never {
    if (!this.#lazy) {
      const old = this.#active.get(id) ?? this.#retained().find((o) => o.id === id);
      if (old !== undefined) this.#orders.set(id, old);
    }
    throw new OmsError('InvalidTransition', `id generator returned an id already in use: ${id}`);
  }

  /**
   * Submits several orders, all or none: every idempotency key is checked (against earlier orders
   * and within the batch) before any order is recorded.
   * @throws OmsError DuplicateIdempotencyKey naming the first repeated key
   */
  batchSubmit(orders: readonly Order[]): string[] {
    const seen = new Set<string>();
    for (const [i, o] of orders.entries()) {
      const key = o.idempotencyKey;
      if (key === undefined) continue;
      if (this.#keys.has(key) || seen.has(key)) {
        throw new OmsError('DuplicateIdempotencyKey', `batch order ${i}: idempotency key ${JSON.stringify(key)} was already used`);
      }
      seen.add(key);
    }
    return orders.map((o) => this.#record(o));
  }

  /** The known order with this id (active or retained), or undefined. */
  #lookup(id: string): OrderState | undefined {
    return this.#active.get(id) ?? this.#orders.get(id) ?? (this.#lazy && this.#indexEnd < this.#history.length ? this.#indexRest(id) : undefined);
  }

  /** #lazy mode: enters the retained history not yet in #orders, then looks `id` up there. */
  #indexRest(id: string): OrderState | undefined {
    const h = this.#history;
    const orders = this.#orders;
    for (let i = this.#indexEnd > this.#historyHead ? this.#indexEnd : this.#historyHead; i < h.length; i++) {
      const s = h[i] as OrderState;
      orders.set(s.id, s);
    }
    this.#indexEnd = h.length;
    return orders.get(id);
  }

  #find(id: string): OrderState {
    const s = this.#lookup(id);
    if (s === undefined) throw new OmsError('OrderNotFound', `order not found: ${id}`);
    return s;
  }

  #apply(s: OrderState, event: OrderEventKind): OrderStatusKind {
    if (TERMINAL_KIND[s.kind] && !canTransition(s.kind, event)) {
      throw new OmsError('AlreadyTerminal', `order ${s.id} is already ${s.kind}; cannot take event ${event}`);
    }
    return transition(s.kind, event);
  }

  #settle(s: OrderState, kind: OrderStatusKind, status: OrderStatus | undefined): void {
    s.kind = kind;
    s.status = status;
    s.updatedAt = this.#clock.now();
    if (TERMINAL_KIND[kind] && this.#active.delete(s.id)) {
      this.#history.push(s);
      this.#historyTotal++;
      if (this.#history.length - this.#historyHead > this.#historyLimit) this.#dropOldest();
    }
  }

  #dropOldest(): void {
    const h = this.#history;
    const old = h[this.#historyHead] as OrderState;
    h[this.#historyHead++] = undefined;
    this.#orders.delete(old.id);
    // compact once the dropped prefix is most of the array (amortised O(1) per order)
    if (this.#historyHead >= 1024 && this.#historyHead * 2 >= h.length) {
      this.#history = h.slice(this.#historyHead);
      this.#indexEnd = this.#indexEnd > this.#historyHead ? this.#indexEnd - this.#historyHead : 0;
      this.#historyHead = 0;
    }
  }

  /** Retained terminal orders, oldest first. */
  #retained(): OrderState[] {
    return this.#history.slice(this.#historyHead) as OrderState[];
  }

  /**
   * Cancels an order (a fill arriving afterwards is still applied: the venue decides).
   * @throws OmsError OrderNotFound, AlreadyTerminal
   */
  cancel(orderId: string, reason?: string): OrderStatus {
    this.#version++;
    const s = this.#find(orderId);
    const to = this.#apply(s, 'cancel');
    s.reason = reason;
    const status = statusOf(s, to);
    this.#settle(s, to, status);
    return status;
  }

  /**
   * Moves an order to `status` (Acknowledged, Cancelled, Rejected or Expired) through the
   * transition table. Fill statuses are refused: fills move cash and positions, so they come
   * through addFill.
   * @throws OmsError OrderNotFound, AlreadyTerminal, InvalidTransition
   */
  updateStatus(orderId: string, status: OrderStatus): OrderStatus {
    this.#version++;
    const s = this.#find(orderId);
    const event = STATUS_EVENT[status.kind];
    if (TERMINAL_KIND[s.kind] && (event === undefined || !canTransition(s.kind, event))) {
      throw new OmsError('AlreadyTerminal', `order ${s.id} is already ${s.kind}; cannot become ${status.kind}`);
    }
    if (event === undefined) {
      throw new OmsError(
        'InvalidTransition',
        status.kind === 'New'
          ? `order ${s.id} cannot go back to New from ${s.kind}`
          : `order ${s.id}: ${status.kind} comes from addFill (fills move cash and positions), not updateStatus`,
      );
    }
    const to = this.#apply(s, event);
    s.reason = status.reason;
    const next = statusOf(s, to);
    this.#settle(s, to, next);
    return next;
  }

  /**
   * Applies a fill to its order and the portfolio atomically (if the portfolio refuses it, the
   * order is unchanged too). Returns false when this fill id was already applied (idempotent).
   * @throws OmsError OrderNotFound, AlreadyTerminal, InvalidTransition (overfill), Portfolio,
   *   SerializationError
   */
  addFill(fill: OmsFill): boolean {
    this.#version++;
    const s = this.#lookup(fill.orderId);
    if (s === undefined) {
      // an order dropped from a limited history: a fill id it already took is a replay
      if (this.#ownerOf(fillLedger.find(this.portfolio, fill.fillId)) === fill.orderId) return false;
      throw new OmsError('OrderNotFound', `order not found: ${fill.orderId}`);
    }
    const fillId = fill.fillId;
    if (typeof fillId !== 'string' || fillId === '') throw new OmsError('SerializationError', 'fillId must be a non-empty string');
    const known = fillLedger.find(this.portfolio, fillId);
    const owner = this.#ownerOf(known);
    if (owner !== undefined && owner !== s.id) {
      throw new OmsError('Portfolio', `fill ${fillId} was already applied to order ${owner}, not ${s.id}`);
    }
    const order = s.order;
    if (fill.symbol !== undefined && fill.symbol !== order.symbol) {
      throw new OmsError('Portfolio', `fill ${fillId} is for ${fill.symbol} but order ${s.id} is for ${order.symbol}`);
    }
    const qty = edgeDecimal(fill.quantity, 'quantity of fill ', fillId);
    if (qty.raw <= 0n) throw new OmsError('Portfolio', `quantity of fill ${fillId} must be positive, got ${qty.toString()}`);
    if (owner !== undefined) {
      // same id on the same order: a replay (no-op) or a conflict, which the portfolio tells apart
      const dup = this.#prepare(fill, order, qty, known);
      if (dup === undefined) return false;
    }
    if (TERMINAL_KIND[s.kind] && !canTransition(s.kind, 'fill') && !canTransition(s.kind, 'partialFill')) {
      throw new OmsError('AlreadyTerminal', `order ${s.id} is already ${s.kind}; cannot take fill ${fillId}`);
    }
    const qP = qty.precision;
    const fqP = s.fqP > qP ? s.fqP : qP;
    // the first fill's quantity is the filled quantity as is (no new bigint)
    const fqR = s.fillCount === 0 ? up(qty.raw, qP, fqP) : up(s.fqR, s.fqP, fqP) + up(qty.raw, qP, fqP);
    const oq = order.quantity;
    const cmp =
      order.notional !== undefined
        ? fill.final === true
          ? 0
          : -1
        : fill.final === true
          ? Math.max(0, compareRaw(fqR, fqP, oq.raw, oq.precision))
          : compareRaw(fqR, fqP, oq.raw, oq.precision);
    if (cmp > 0) {
      throw new OmsError(
        'InvalidTransition',
        `fill ${fillId} of ${qty.toString()} overfills order ${s.id}: filled ${formatDecimal(s.fqR, s.fqP)} of ${oq.toString()}`,
      );
    }
    const to = this.#apply(s, cmp === 0 ? 'fill' : 'partialFill');
    const prepared = this.#prepare(fill, order, qty, known);
    if (prepared === undefined) return false;
    fillLedger.commit(this.portfolio, prepared, this.#tag, s.id);
    const px = prepared.price;
    if (s.fillCount === 0 && s.fnR === 0n && s.fnP === 0) {
      // a single fill's notional is price x quantity, computed when read (see notionalOf)
      s.fnP = -1;
    } else {
      // filled notional += price x quantity (Decimal.mul's precision and rounding)
      const a = notionalOf(s);
      const aR = a.raw;
      const aP = a.precision;
      const nP = mulPrecision(px.precision, qP);
      const nR = mulRaw(px.raw, px.precision, qty.raw, qP);
      const fnP = aP > nP ? aP : nP;
      s.fnR = up(aR, aP, fnP) + up(nR, nP, fnP);
      s.fnP = fnP;
    }
    s.fqR = fqR;
    s.fqP = fqP;
    s.lastFillPrice = px;
    if (px.precision > s.pxPrecision) s.pxPrecision = px.precision;
    if (s.fillCount++ === 0) s.firstFill = fillId;
    else (s.moreFills ??= []).push(fillId);
    this.#settle(s, to, undefined);
    return true;
  }

  /** The portfolio's prepareFill of `fill` on `order`, without a FillInput object (see ledger.ts). */
  #prepare(fill: OmsFill, order: Order, quantity: Decimal, known: LedgerRecord | undefined): LedgerFill | undefined {
    return fillLedger.prepare(this.portfolio, order.symbol, order.side, fill.price, quantity, fill.fee, fill.feeCurrency, fill.fillId, fill.tsNs, known);
  }

  /** The order of this manager that took an applied fill, from its ledger record. */
  #ownerOf(rec: LedgerRecord | undefined): string | undefined {
    return rec !== undefined && rec.ownerTag === this.#tag ? rec.owner : undefined;
  }

  /** The status of an active order; undefined once it is terminal (moved to history) or unknown. */
  getOrderStatus(orderId: string): OrderStatus | undefined {
    const s = this.#active.get(orderId);
    return s === undefined ? undefined : (s.status ??= statusOf(s, s.kind));
  }

  /** The record of an order, active or historical, or undefined. */
  getOrder(orderId: string): OrderRecord | undefined {
    const s = this.#lookup(orderId);
    return s === undefined ? undefined : toRecord(s);
  }

  /** Number of non-terminal orders. */
  activeCount(): number {
    return this.#active.size;
  }

  /** Number of orders that reached a terminal status (including any a historyLimit dropped). */
  historyCount(): number {
    return this.#historyTotal;
  }

  /** Active orders, in submission order. */
  activeOrders(): OrderRecord[] {
    return [...this.#active.values()].map(toRecord);
  }

  /** Cash and open positions: `snapshotBalance().cash.USDT === "70000.0"`. */
  snapshotBalance(): BalanceSnapshot {
    return { cash: this.portfolio.cash, positions: this.portfolio.positions };
  }

  /** Open positions by symbol. */
  snapshotPositions(): Record<string, Position> {
    return this.portfolio.positions;
  }

  /**
   * Everything needed to continue exactly, as plain data (decimals as exact strings, times as epoch-ns
   * bigints): the portfolio, active and retained historical orders, the terminal-order count, used
   * idempotency keys and which order took each fill id. The id generator is not part of it.
   */
  snapshot(): OrderManagerState {
    const { state, owned } = fillLedger.snapshot(this.portfolio, this.#tag);
    return {
      version: 1,
      portfolio: state,
      active: [...this.#active.values()].map(orderSnapshot),
      history: this.#retained().map(orderSnapshot),
      historyCount: this.#historyTotal,
      idempotencyKeys: [...this.#keys.keys()],
      fillOrders: owned,
    };
  }

  /**
   * What a checkpoint needs: snapshot() with only the active orders and the retained history, their
   * applied fills (portfolio fills and fillOrders) and their idempotency keys; fills and keys of
   * orders no longer retained are left out. Costs O(active + retained orders + their fills), not
   * O(every fill of the run). Restoring it forgets the dropped fill ids and keys, so a replay of a
   * fill older than the retained history is no longer recognised.
   *
   * The result is deep-frozen data (core's `frozenData`), and the same object is returned again while
   * neither this manager nor its portfolio has changed: a checkpoint encoder reuses its bytes.
   */
  liveSnapshot(): OrderManagerState {
    const pv = fillLedger.version(this.portfolio);
    const last = this.#lastLive;
    if (last !== undefined && last.version === this.#version && last.portfolioVersion === pv) return last.state;
    const state = frozenData(this.#liveSnapshot());
    this.#lastLive = { version: this.#version, portfolioVersion: pv, state };
    return state;
  }
  /**
   * Bumped on entry by every method that may change this manager's state (its portfolio has its own
   * counter), so a call that throws half way counts as a change too.
   */
  #version = 0;
  #lastLive: { readonly version: number; readonly portfolioVersion: number; readonly state: OrderManagerState } | undefined;

  #liveSnapshot(): OrderManagerState {
    const live = [...this.#active.values(), ...this.#retained()];
    const picks: { seq: number; fillId: string; orderId: string }[] = [];
    const keyRanks: number[] = [];
    const keyOf = new Map<number, string>();
    for (const s of live) {
      if (s.fillCount > 0) {
        this.#pick(s, s.firstFill, picks);
        if (s.moreFills !== undefined) for (const f of s.moreFills) this.#pick(s, f, picks);
      }
      const key = s.order.idempotencyKey;
      const rank = key === undefined ? undefined : this.#keys.get(key);
      if (rank !== undefined && !keyOf.has(rank)) {
        keyOf.set(rank, key as string);
        keyRanks.push(rank);
      }
    }
    picks.sort((a, b) => a.seq - b.seq);
    keyRanks.sort((a, b) => a - b);
    const n = picks.length;
    const fillIds = new Array<string>(n);
    const orderIds = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      const p = picks[i] as (typeof picks)[number];
      fillIds[i] = p.fillId;
      orderIds[i] = p.orderId;
    }
    const active: OrderStateSnapshot[] = [];
    for (const s of this.#active.values()) active.push(liveOrderSnapshot(s));
    return {
      version: 1,
      portfolio: fillLedger.snapshotWith(this.portfolio, fillIds),
      active,
      history: this.#retained().map(liveOrderSnapshot),
      historyCount: this.#historyTotal,
      idempotencyKeys: keyRanks.map((r) => keyOf.get(r) as string),
      fillOrders: { fillIds: fillIds.slice(), orderIds },
    };
  }

  /** Adds fill `fillId` of `s` to `picks` when the portfolio's ledger still records it as taken by `s`. */
  #pick(s: OrderState, fillId: string | undefined, picks: { seq: number; fillId: string; orderId: string }[]): void {
    if (fillId === undefined) return;
    const rec = fillLedger.find(this.portfolio, fillId);
    if (rec !== undefined && rec.ownerTag === this.#tag && rec.owner === s.id) picks.push({ seq: rec.seq, fillId, orderId: s.id });
  }

  /**
   * Replaces this manager's state (and its portfolio's) with `state` from snapshot(); the manager must
   * have been built with the same options. Everything is checked and built before anything is replaced,
   * so a refused state changes nothing. A history longer than this manager's historyLimit keeps its newest.
   * @throws OmsError RecoveryFailed naming what is wrong
   */
  restore(state: OrderManagerState): void {
    this.#version++;
    const r = new StateReader('OrderManager restore');
    const st = r.obj(state, 'state', MANAGER_KEYS);
    if (st.version !== 1) r.fail('state.version', `unsupported version ${JSON.stringify(st.version)}; expected 1`);
    const portfolio = this.portfolio.checkState(st.portfolio, 'state.portfolio', 'OrderManager restore');
    const keys = new Map<string, number>();
    for (const [i, k] of r.arr(st.idempotencyKeys, 'state.idempotencyKeys').entries()) {
      const key = r.str(k, `state.idempotencyKeys[${i}]`);
      if (keys.has(key)) r.fail(`state.idempotencyKeys[${i}]`, `idempotency key ${JSON.stringify(key)} appears twice`);
      keys.set(key, i);
    }
    const active = new Map<string, OrderState>();
    const history = new Map<string, OrderState>();
    const seen = new Set<string>();
    for (const [list, into, terminal] of [['active', active, false], ['history', history, true]] as const) {
      for (const [i, e] of r.arr(st[list], `state.${list}`).entries()) {
        const o = readOrder(r, e, `state.${list}[${i}]`);
        if (seen.has(o.id)) r.fail(`state.${list}[${i}].id`, `order ${o.id} appears twice`);
        if (TERMINAL_KIND[o.kind] !== terminal) {
          r.fail(`state.${list}[${i}].status.kind`, `a${terminal ? 'n active' : ' terminal'} status ${o.kind} in the ${terminal ? 'history' : 'active orders'}`);
        }
        const key = o.order.idempotencyKey;
        if (key !== undefined && !keys.has(key)) r.fail(`state.${list}[${i}].idempotencyKey`, `${JSON.stringify(key)} is not among state.idempotencyKeys`);
        seen.add(o.id);
        into.set(o.id, o);
      }
    }
    const historyTotal = r.int(st.historyCount, 'state.historyCount', history.size, Number.MAX_SAFE_INTEGER);
    const fo = r.obj(st.fillOrders, 'state.fillOrders', ['fillIds', 'orderIds']);
    const fillIds = r.arr(fo.fillIds, 'state.fillOrders.fillIds');
    const orderIds = r.arrOf(fo.orderIds, 'state.fillOrders.orderIds', fillIds.length);
    const applied = new Set((st.portfolio as PortfolioState).fills.ids);
    const fillOrder = new Map<string, string>();
    const owned = new Map<string, number>();
    for (let i = 0; i < fillIds.length; i++) {
      const f = r.str(fillIds[i], `state.fillOrders.fillIds[${i}]`);
      const o = r.str(orderIds[i], `state.fillOrders.orderIds[${i}]`);
      if (fillOrder.has(f)) r.fail(`state.fillOrders.fillIds[${i}]`, `fill id ${JSON.stringify(f)} appears twice`);
      if (!applied.has(f)) r.fail(`state.fillOrders.fillIds[${i}]`, `fill ${JSON.stringify(f)} is not among the portfolio's applied fills`);
      if (!seen.has(o) && historyTotal === history.size) r.fail(`state.fillOrders.orderIds[${i}]`, `order ${o} of fill ${JSON.stringify(f)} is unknown`);
      fillOrder.set(f, o);
      owned.set(o, (owned.get(o) ?? 0) + 1);
    }
    for (const s of [...active.values(), ...history.values()]) {
      const count = owned.get(s.id) ?? 0;
      if (count !== s.fillCount) r.fail('state.fillOrders', `order ${s.id} has fillCount ${s.fillCount} but ${count} fill ids`);
    }
    for (const id of history.keys()) {
      if (history.size <= this.#historyLimit) break;
      history.delete(id);
    }
    const orders = new Map<string, OrderState>(active);
    for (const [id, o] of history) orders.set(id, o);
    for (const [f, o] of fillOrder) {
      const s = orders.get(o);
      if (s === undefined) continue;
      if (s.firstFill === undefined) s.firstFill = f;
      else (s.moreFills ??= []).push(f);
    }
    this.portfolio.swapIn(portfolio);
    this.#orders = orders;
    this.#active = active;
    this.#history = [...history.values()];
    this.#historyHead = 0;
    // restored orders are all in #orders; ids from a restarted seeded generator are checked against them
    this.#lazy = orders.size === 0 && UNIQUE_IDS.has(this.#newId);
    this.#indexEnd = this.#history.length;
    this.#historyTotal = historyTotal;
    this.#keys = keys;
    this.#keyRank = keys.size;
    for (const [f, o] of fillOrder) fillLedger.setOwner(this.portfolio, f, this.#tag, o);
  }

  /** A plain, JSON-ready picture for display: active and retained historical orders, cash, positions. */
  toDict(): {
    active: OrderRecordDict[];
    history: OrderRecordDict[];
    portfolio: ReturnType<Portfolio['toDict']>;
  } {
    return {
      active: [...this.#active.values()].map(toDict),
      history: this.#retained().map(toDict),
      portfolio: this.portfolio.toDict(),
    };
  }
}

/** An order inside OrderManagerState; decimals as exact strings (their precision is part of the state). */
export interface OrderStateSnapshot {
  id: string;
  symbol: string;
  side: Side;
  orderType: OmsOrderType;
  /** Order quantity (the estimate for a notional order). */
  quantity: string;
  /** Limit price, quote currency, or null. */
  price: string | null;
  idempotencyKey: string | null;
  /** Quote amount of a notional order, or null. */
  notional: string | null;
  status: { kind: OrderStatusKind; filledQty: string | null; avgPrice: string | null; reason: string | null };
  filledQty: string;
  /** Exact sum of fill price x quantity, quote currency. */
  filledNotional: string;
  lastFillPrice: string | null;
  /** Largest fill price precision seen (digits of the printed average price). */
  pxPrecision: number;
  fillCount: number;
  /** Epoch ns. */
  createdAt: bigint;
  /** Epoch ns. */
  updatedAt: bigint;
}

/** Plain state of an OrderManager (snapshot / restore); no class instances, so a checkpoint codec can store it. */
export interface OrderManagerState {
  version: 1;
  portfolio: PortfolioState;
  /** Non-terminal orders in submission order. */
  active: OrderStateSnapshot[];
  /** Retained terminal orders, oldest first. */
  history: OrderStateSnapshot[];
  /** Orders that ever reached a terminal status. */
  historyCount: number;
  /** Every idempotency key used, in first-use order. */
  idempotencyKeys: string[];
  /** Which order took each applied fill id (column by column). */
  fillOrders: { fillIds: string[]; orderIds: string[] };
}

const MANAGER_KEYS = ['version', 'portfolio', 'active', 'history', 'historyCount', 'idempotencyKeys', 'fillOrders'] as const;
const ORDER_KEYS = [
  'id', 'symbol', 'side', 'orderType', 'quantity', 'price', 'idempotencyKey', 'notional', 'status',
  'filledQty', 'filledNotional', 'lastFillPrice', 'pxPrecision', 'fillCount', 'createdAt', 'updatedAt',
] as const;

function orderSnapshot(s: OrderState): OrderStateSnapshot {
  const o = s.order;
  const st = (s.status ??= statusOf(s, s.kind));
  return {
    id: s.id,
    symbol: o.symbol,
    side: o.side,
    orderType: o.orderType,
    quantity: o.quantity.toString(),
    price: o.price === undefined ? null : o.price.toString(),
    idempotencyKey: o.idempotencyKey ?? null,
    notional: o.notional === undefined ? null : o.notional.toString(),
    status: { kind: st.kind, filledQty: st.filledQty ?? null, avgPrice: st.avgPrice ?? null, reason: st.reason ?? null },
    filledQty: formatDecimal(s.fqR, s.fqP),
    filledNotional: s.fnP >= 0 ? formatDecimal(s.fnR, s.fnP) : notionalOf(s).toString(),
    lastFillPrice: s.lastFillPrice === undefined ? null : s.lastFillPrice.toString(),
    pxPrecision: s.pxPrecision,
    fillCount: s.fillCount,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}

/**
 * orderSnapshot(s), deep-frozen and reused while the order is unchanged (its fields compared one by one):
 * a resting or finished order costs a few comparisons per checkpoint, and the checkpoint encoder reuses
 * its bytes.
 */
function liveOrderSnapshot(s: OrderState): OrderStateSnapshot {
  const st = (s.status ??= statusOf(s, s.kind));
  const c = s.snap;
  if (
    c !== undefined &&
    c.kind === s.kind &&
    c.status === st &&
    c.fqR === s.fqR &&
    c.fqP === s.fqP &&
    c.fnR === s.fnR &&
    c.fnP === s.fnP &&
    c.lastFillPrice === s.lastFillPrice &&
    c.pxPrecision === s.pxPrecision &&
    c.fillCount === s.fillCount &&
    c.updatedAt === s.updatedAt
  ) {
    return c.record;
  }
  const record = frozenData(orderSnapshot(s));
  s.snap = { record, kind: s.kind, status: st, fqR: s.fqR, fqP: s.fqP, fnR: s.fnR, fnP: s.fnP, lastFillPrice: s.lastFillPrice, pxPrecision: s.pxPrecision, fillCount: s.fillCount, updatedAt: s.updatedAt };
  return record;
}

function readOrder(r: StateReader, v: unknown, path: string): OrderState {
  const o = r.obj(v, path, ORDER_KEYS);
  const id = r.str(o.id, `${path}.id`);
  const orderType = o.orderType;
  if (orderType !== 'Limit' && orderType !== 'Market') r.fail(`${path}.orderType`, `expected "Limit" or "Market", got ${JSON.stringify(orderType)}`);
  const price = r.optStr(o.price, `${path}.price`);
  const notional = r.optStr(o.notional, `${path}.notional`);
  if ((orderType === 'Limit') !== (price !== undefined)) r.fail(`${path}.price`, `a ${orderType} order ${orderType === 'Limit' ? 'needs' : 'has no'} a price`);
  if (notional !== undefined && orderType !== 'Market') r.fail(`${path}.notional`, 'only a market order can be notional');
  const symbol = r.str(o.symbol, `${path}.symbol`);
  const side = r.str(o.side, `${path}.side`);
  const quantity = r.str(o.quantity, `${path}.quantity`);
  const key = r.optStr(o.idempotencyKey, `${path}.idempotencyKey`);
  let order: Order;
  try {
    order =
      notional !== undefined
        ? notionalOrder(symbol, side, notional, quantity, key)
        : price !== undefined
          ? limitOrder(symbol, side, quantity, price, key)
          : marketOrder(symbol, side, quantity, key);
  } catch (e) {
    if (e instanceof OmsError) r.fail(path, e.detail);
    throw e;
  }
  const so = r.obj(o.status, `${path}.status`, ['kind', 'filledQty', 'avgPrice', 'reason']);
  const kind = so.kind;
  if (typeof kind !== 'string' || !(ORDER_STATUS_KINDS as readonly string[]).includes(kind)) {
    r.fail(`${path}.status.kind`, `expected one of ${ORDER_STATUS_KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
  }
  const sq = r.optStr(so.filledQty, `${path}.status.filledQty`);
  const sp = r.optStr(so.avgPrice, `${path}.status.avgPrice`);
  const reason = so.reason === null ? undefined : typeof so.reason === 'string' ? so.reason : r.fail(`${path}.status.reason`, 'expected a string or null');
  const [fqR, fqP] = r.dec(o.filledQty, `${path}.filledQty`);
  const [fnR, fnP] = r.dec(o.filledNotional, `${path}.filledNotional`);
  const last = r.optDec(o.lastFillPrice, `${path}.lastFillPrice`);
  const pxPrecision = r.int(o.pxPrecision, `${path}.pxPrecision`, 0, 30);
  const fillCount = r.int(o.fillCount, `${path}.fillCount`, 0, Number.MAX_SAFE_INTEGER);
  const createdAt = r.ns(o.createdAt, `${path}.createdAt`);
  const updatedAt = r.ns(o.updatedAt, `${path}.updatedAt`);
  if (fqR < 0n || fnR < 0n) r.fail(`${path}.filledQty`, 'filled quantity and notional cannot be negative');
  if ((fillCount === 0) !== (fqR === 0n) || (fillCount === 0) !== (last === undefined)) {
    r.fail(`${path}.fillCount`, `${fillCount} fills do not match filledQty ${formatDecimal(fqR, fqP)} and lastFillPrice ${last === undefined ? 'null' : formatDecimal(last[0], last[1])}`);
  }
  if (fillCount > 0 && (sq !== formatDecimal(fqR, fqP) || sp === undefined)) {
    r.fail(`${path}.status.filledQty`, `status of an order with fills must carry filledQty ${formatDecimal(fqR, fqP)} and an avgPrice`);
  }
  if (fillCount === 0 && (sq !== undefined || sp !== undefined)) r.fail(`${path}.status.filledQty`, 'status of an order without fills cannot carry filledQty or avgPrice');
  if (order.notional === undefined && compareRaw(fqR, fqP, order.quantity.raw, order.quantity.precision) > 0) {
    r.fail(`${path}.filledQty`, `filled ${formatDecimal(fqR, fqP)} exceeds the order quantity ${order.quantity.toString()}`);
  }
  const k = kind as OrderStatusKind;
  return {
    id,
    order,
    kind: k,
    status: k === 'New' && reason === undefined ? NEW_STATUS : k === 'Acknowledged' && reason === undefined && fillCount === 0 ? ACK_STATUS : new OrderStatus(k, sq, sp, reason),
    reason,
    fqR,
    fqP,
    fnR,
    fnP,
    lastFillPrice: last === undefined ? undefined : Decimal.fromRaw(last[0], last[1]),
    pxPrecision,
    fillCount,
    firstFill: undefined,
    moreFills: undefined,
    snap: undefined,
    createdAt,
    updatedAt,
  };
}

const NEW_STATUS = new OrderStatus('New');
const ACK_STATUS = new OrderStatus('Acknowledged');
const PLAIN_STATUS: Readonly<Record<OrderStatusKind, OrderStatus>> = {
  New: NEW_STATUS,
  Acknowledged: ACK_STATUS,
  PartiallyFilled: new OrderStatus('PartiallyFilled'),
  Filled: new OrderStatus('Filled'),
  Cancelled: new OrderStatus('Cancelled'),
  Rejected: new OrderStatus('Rejected'),
  Expired: new OrderStatus('Expired'),
};

// a plain lookup object: cheaper per call than the Set behind OrderStatus.isTerminal
const TERMINAL_KIND: Readonly<Record<OrderStatusKind, boolean>> = {
  New: false,
  Acknowledged: false,
  PartiallyFilled: false,
  Filled: true,
  Cancelled: true,
  Rejected: true,
  Expired: true,
};

/** Filled notional as (raw, precision), also for a single fill (price x quantity, as Decimal.mul). */
function notionalOf(s: OrderState): Decimal {
  if (s.fnP >= 0) return Decimal.fromRaw(s.fnR, s.fnP);
  const px = s.lastFillPrice as Decimal;
  return Decimal.fromRaw(mulRaw(px.raw, px.precision, s.fqR, s.fqP), mulPrecision(px.precision, s.fqP));
}

/** The status of `s` as `kind`, carrying its reason and, once filled, the filled quantity and average price. */
function statusOf(s: OrderState, kind: OrderStatusKind): OrderStatus {
  const reason = s.reason;
  if (s.fillCount === 0) {
    // statuses are immutable: one shared object per kind without fills or reason
    if (reason === undefined) return PLAIN_STATUS[kind];
    return new OrderStatus(kind, undefined, undefined, reason);
  }
  let avg: string;
  if (s.fillCount === 1 && s.lastFillPrice !== undefined) {
    avg = s.lastFillPrice.toString();
  } else {
    const n = notionalOf(s);
    const p = Math.min(30, s.pxPrecision + 8);
    avg = trim(divRaw(n.raw, n.precision, s.fqR, s.fqP, p), p, s.pxPrecision);
  }
  return new OrderStatus(kind, formatDecimal(s.fqR, s.fqP), avg, reason);
}

/** `raw` at `precision` as a string with trailing fraction zeros trimmed down to `minPrecision`. */
function trim(raw: bigint, precision: number, minPrecision: number): string {
  let p = precision;
  while (p > minPrecision && raw % 10n === 0n) {
    raw /= 10n;
    p--;
  }
  return formatDecimal(raw, p);
}

function toRecord(s: OrderState): OrderRecord {
  return Object.freeze({
    id: s.id,
    order: s.order,
    status: (s.status ??= statusOf(s, s.kind)),
    filledQty: Decimal.fromRaw(s.fqR, s.fqP),
    filledNotional: notionalOf(s),
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  });
}

function toDict(s: OrderState): OrderRecordDict {
  return {
    id: s.id,
    order: orderToDict(s.order),
    status: (s.status ??= statusOf(s, s.kind)).toDict(),
    filledQty: formatDecimal(s.fqR, s.fqP),
    createdAt: s.createdAt.toString(),
    updatedAt: s.updatedAt.toString(),
  };
}
