import type { SideCode } from './order-book.js';

/** One simulated passive order at the exchange, in ticks and lots; the queue model owns `queueAhead`. */
export interface SimOrder {
  readonly id: number;
  readonly side: SideCode;
  readonly priceTicks: number;
  /** Lots not yet filled. */
  lots: number;
  /** Lots estimated ahead of this order at its price. */
  queueAhead: number;
  /** Level quantity at its price as last seen by the model. */
  levelLots: number;
}

/**
 * Where a passive order stands in its price level's queue (hftbacktest's `QueueModel`): the market
 * data is aggregated and never contains our own simulated order, so the model estimates the queue.
 */
export interface QueueModel {
  /** The order became active at a level holding `levelLots`. */
  newOrder(order: SimOrder, levelLots: number): void;
  /** A trade of `lots` printed at the order's price against its side. */
  trade(order: SimOrder, lots: number): void;
  /** The level at the order's price changed from `prevLots` to `nextLots`. */
  depth(order: SimOrder, prevLots: number, nextLots: number): void;
  /** Lots filled now (0 when none); the model updates its own state. */
  isFilled(order: SimOrder): number;
}

/** Latency of order entry and of the exchange's response, ns (hftbacktest's `LatencyModel`). */
export interface LatencyModel {
  /** Local send at `tNs` reaches the exchange after this many ns. */
  entry(tNs: number): number;
  /** The exchange's response at `tNs` reaches us after this many ns. */
  response(tNs: number): number;
}

/**
 * The conservative queue: we start behind everything resting; only trades at our price move us
 * forward, and cancels move us only when the level shrinks below our estimated place.
 */
export class RiskAverseQueueModel implements QueueModel {
  newOrder(order: SimOrder, levelLots: number): void {
    order.queueAhead = levelLots;
    order.levelLots = levelLots;
  }
  trade(order: SimOrder, lots: number): void {
    order.queueAhead -= lots;
  }
  depth(order: SimOrder, _prevLots: number, nextLots: number): void {
    order.levelLots = nextLots;
    if (order.queueAhead > nextLots) order.queueAhead = nextLots;
  }
  isFilled(order: SimOrder): number {
    if (order.queueAhead >= 0) return 0;
    const filled = Math.min(-order.queueAhead, order.lots);
    order.queueAhead = 0;
    return filled;
  }
}

/**
 * A probabilistic queue: a decrease of the level is split between the front and the back of our
 * place with probability front^n / (front^n + back^n) (hftbacktest's power-probability queue), so
 * cancels ahead of us also move us forward. Trades and fills as the risk-averse model.
 */
export class PowerProbQueueModel extends RiskAverseQueueModel {
  readonly #n: number;

  /** `power` n of the split (default 3). */
  constructor(power = 3) {
    super();
    this.#n = power;
  }

  override depth(order: SimOrder, prevLots: number, nextLots: number): void {
    order.levelLots = nextLots;
    const drop = prevLots - nextLots;
    if (drop > 0 && order.queueAhead > 0) {
      const front = order.queueAhead;
      const back = Math.max(prevLots - front, 0);
      const fp = Math.pow(front, this.#n);
      const p = fp / (fp + Math.pow(back, this.#n));
      order.queueAhead = Math.max(0, front - Math.round(drop * p));
    }
    if (order.queueAhead > nextLots) order.queueAhead = nextLots;
  }
}

/** The same latency every time, ns. */
export class ConstantLatency implements LatencyModel {
  readonly #entry: number;
  readonly #response: number;

  /** Entry and response latency in ns. */
  constructor(entryNs: number, responseNs: number) {
    this.#entry = entryNs;
    this.#response = responseNs;
  }
  entry(): number {
    return this.#entry;
  }
  response(): number {
    return this.#response;
  }
}
