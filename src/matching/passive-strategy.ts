import { formatDecimal } from '../core/decimal.js';
import { Money } from '../core/money.js';
import { replayBinance, type ParsedCapture } from './binance.js';
import type { DepthBook } from './depth-book.js';
import { BacktestError } from './errors.js';
import type { LatencyModel, QueueModel, SimOrder } from './hft-models.js';
import { BUY, SELL, type SideCode } from './order-book.js';
import { parseUnits } from './scale.js';

/** Parameters of the passive quoting strategy. */
export interface PassiveStrategyOptions {
  readonly queueModel: QueueModel;
  readonly latency: LatencyModel;
  /** Size of each quote in base units (a multiple of the capture's lot). */
  readonly quantity: string;
  /** Largest absolute position in base units. */
  readonly maxPosition: string;
  /** Quote currency of the account (default "USDT"). */
  readonly currency?: string;
}

/** One fill of a simulated passive order; price in quote currency, quantity in base units. */
export interface PassiveFill {
  readonly tNs: number;
  readonly orderId: number;
  readonly side: 'Buy' | 'Sell';
  readonly price: string;
  readonly quantity: string;
}

/** Outcome of a passive strategy run; money exact in the quote currency. */
export interface PassiveStrategyResult {
  readonly ordersSent: number;
  readonly cancelsSent: number;
  /** Orders refused at the exchange because they would have crossed (post-only). */
  readonly postOnlyRejects: number;
  readonly fills: readonly PassiveFill[];
  /** Base units, signed. */
  readonly position: string;
  readonly cash: Money;
  /** Cash plus position at the final mid price (one more digit than the tick). */
  readonly pnl: Money;
}

interface Request {
  at: number;
  kind: 'new' | 'cancel';
  order: SimOrder;
}

/**
 * Replays a capture and quotes passively at the touch: one post-only bid at the best bid and one ask
 * at the best ask while the position allows, cancelled and re-sent when the touch moves away. Orders
 * and cancels reach the exchange after the latency model's entry delay; the strategy may act on a
 * side again only once the exchange's response has come back. Fills come from the queue model on
 * trades and depth changes at the order's price, and in full when a trade prints through the price
 * or the opposite touch crosses it. Cash is kept exactly in tick x lot units (bigint).
 * @throws BacktestError Matching when quantity or maxPosition is not a positive multiple of the lot
 */
export function runPassiveStrategy(cap: ParsedCapture, options: PassiveStrategyOptions): PassiveStrategyResult {
  const priceDigits = cap.tickSize.length > 1 ? cap.tickSize.length - 2 : 0;
  const qtyDigits = cap.lotSize.length > 1 ? cap.lotSize.length - 2 : 0;
  const qLots = parseUnits(options.quantity, qtyDigits);
  const maxLots = parseUnits(options.maxPosition, qtyDigits);
  if (!(qLots > 0)) throw new BacktestError('Matching', `invalid quantity: ${options.quantity} (a positive multiple of ${cap.lotSize})`);
  if (!(maxLots >= qLots)) throw new BacktestError('Matching', `invalid max position: ${options.maxPosition} (at least the quantity)`);
  const { queueModel: qm, latency } = options;
  const live: [SimOrder | null, SimOrder | null] = [null, null];
  const busyUntil: [number, number] = [0, 0];
  const pending: Request[] = [];
  const fills: PassiveFill[] = [];
  let position = 0;
  let cash = 0n;
  let nextId = 1;
  let sent = 0;
  let cancels = 0;
  let rejects = 0;
  let lastBook: DepthBook | undefined;

  const fill = (t: number, o: SimOrder, lots: number): void => {
    if (lots <= 0) return;
    o.lots -= lots;
    const notional = BigInt(o.priceTicks) * BigInt(lots);
    if (o.side === BUY) {
      position += lots;
      cash -= notional;
    } else {
      position -= lots;
      cash += notional;
    }
    fills.push({ tNs: t, orderId: o.id, side: o.side === BUY ? 'Buy' : 'Sell', price: formatDecimal(BigInt(o.priceTicks), priceDigits), quantity: formatDecimal(BigInt(lots), qtyDigits) });
    if (o.lots === 0) {
      live[o.side] = null;
      busyUntil[o.side] = t + latency.response(t);
    }
  };

  const exchange = (t: number, book: DepthBook | undefined): void => {
    while (pending.length > 0 && (pending[0] as Request).at <= t) {
      const r = pending.shift() as Request;
      const o = r.order;
      if (r.kind === 'cancel') {
        if (live[o.side] === o) live[o.side] = null;
        busyUntil[o.side] = r.at + latency.response(r.at);
        continue;
      }
      const opp = book === undefined ? Number.NaN : book.best(o.side === BUY ? SELL : BUY);
      if (!Number.isNaN(opp) && (o.side === BUY ? o.priceTicks >= opp : o.priceTicks <= opp)) {
        rejects++;
        busyUntil[o.side] = r.at + latency.response(r.at);
        continue;
      }
      qm.newOrder(o, book === undefined ? 0 : book.lotsAt(o.side, o.priceTicks));
      live[o.side] = o;
    }
  };

  const quote = (t: number, book: DepthBook): void => {
    for (const side of [BUY, SELL] as const) {
      if (t < busyUntil[side] || pending.some((r) => r.order.side === side)) continue;
      const best = book.best(side);
      if (Number.isNaN(best)) continue;
      const o = live[side];
      if (o !== null) {
        if (o.priceTicks !== best) {
          pending.push({ at: t + latency.entry(t), kind: 'cancel', order: o });
          cancels++;
        }
        continue;
      }
      const room = side === BUY ? maxLots - position : maxLots + position;
      if (room < qLots) continue;
      const order: SimOrder = { id: nextId++, side, priceTicks: best, lots: qLots, queueAhead: 0, levelLots: 0 };
      pending.push({ at: t + latency.entry(t), kind: 'new', order });
      sent++;
    }
    pending.sort((x, y) => x.at - y.at);
  };

  replayBinance(cap, {
    validate: false,
    listener: {
      onDepth(t, book) {
        lastBook = book;
        exchange(t, book);
        for (const side of [BUY, SELL] as const) {
          const o = live[side];
          if (o === null) continue;
          const opp = book.best(side === BUY ? SELL : BUY);
          if (!Number.isNaN(opp) && (side === BUY ? opp <= o.priceTicks : opp >= o.priceTicks)) {
            fill(t, o, o.lots);
            continue;
          }
          const next = book.lotsAt(side, o.priceTicks);
          if (next !== o.levelLots) qm.depth(o, o.levelLots, next);
          fill(t, o, qm.isFilled(o));
        }
        quote(t, book);
      },
      onTrade(t, priceTicks, lots, buyerIsMaker) {
        exchange(t, lastBook);
        // buyer is maker: the aggressor sold into bids
        const side: SideCode = buyerIsMaker ? BUY : SELL;
        const o = live[side];
        if (o === null) return;
        if (side === BUY ? priceTicks < o.priceTicks : priceTicks > o.priceTicks) fill(t, o, o.lots);
        else if (priceTicks === o.priceTicks) {
          qm.trade(o, lots);
          fill(t, o, qm.isFilled(o));
        }
      },
    },
  });

  const currency = options.currency ?? 'USDT';
  const precision = priceDigits + qtyDigits;
  let pnlRaw2 = cash * 2n;
  if (lastBook !== undefined && position !== 0) {
    // mid = (bid + ask) / 2 ticks: kept exact by doubling everything
    pnlRaw2 += BigInt(position) * BigInt(lastBook.best(BUY) + lastBook.best(SELL));
  }
  return {
    ordersSent: sent,
    cancelsSent: cancels,
    postOnlyRejects: rejects,
    fills,
    position: formatDecimal(BigInt(position), qtyDigits),
    cash: Money.fromRaw(cash, precision, currency),
    pnl: Money.fromRaw(pnlRaw2 * 5n, precision + 1, currency),
  };
}
