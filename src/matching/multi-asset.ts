import { Decimal, type DecimalInput } from '../core/decimal.js';
import type { Side } from '../model/order.js';
import { L2MatchingEngine, sideCode, type ModifyChanges } from './engines.js';
import { BacktestError } from './errors.js';
import { BUY, SELL } from './order-book.js';
import { checkOrder, checkOrderId, parseSide, type FillReport, type OrderSpec, type SideInput, type SubmitResult } from './orders.js';

/** Tick and lot size of a registered asset. */
export interface AssetSpec {
  readonly tickSize?: DecimalInput;
  readonly lotSize?: DecimalInput;
}

/** A dark-pool order: no price (it trades at the lit midpoint), never displayed before it trades. */
export interface DarkOrder {
  readonly id: number;
  readonly symbol: string;
  readonly side: SideInput;
  /** Base units. */
  readonly quantity: DecimalInput;
  /** Smallest fill it accepts, base units (default one lot). */
  readonly minQuantity?: DecimalInput;
}

/** A cross rate and its two legs: price(cross) should equal price(numerator) / price(denominator). */
export interface CrossPair {
  /** e.g. "ETH-BTC". */
  readonly cross: string;
  /** e.g. "ETH-USDT". */
  readonly numerator: string;
  /** e.g. "BTC-USDT". */
  readonly denominator: string;
}

/** The outcome of one periodic batch auction. */
export interface AuctionResult {
  readonly symbol: string;
  /** Uncrossing price in quote currency, or undefined when nothing could trade. */
  readonly clearingPrice: string | undefined;
  /** Base units executed on each side. */
  readonly matchedQuantity: string;
  /** Unexecuted executable interest at the clearing price (|demand - supply|), base units. */
  readonly imbalance: string;
  readonly imbalanceSide: Side | undefined;
  readonly fills: readonly FillReport[];
  /** GTC auction orders (or remainders) kept for the next auction. */
  readonly carriedOver: number;
}

/** A cross rate out of line with its legs by more than the threshold. */
export interface ArbitrageOpportunity {
  readonly pair: CrossPair;
  /** `buy_cross`: buy the cross at its ask, sell the numerator, buy the denominator; `sell_cross` the reverse. */
  readonly direction: 'buy_cross' | 'sell_cross';
  /** The cross's executable price (ask or bid), exact. */
  readonly crossPrice: string;
  /** The legs' executable implied cross price (a float ratio). */
  readonly impliedPrice: number;
  /** Gross edge in basis points before fees. */
  readonly edgeBps: number;
}

interface DarkEntry {
  id: number;
  side: 0 | 1;
  lots: number;
  minLots: number;
}

interface AuctionEntry {
  id: number;
  side: 0 | 1;
  ticks: number;
  lots: number;
  seq: number;
  keep: boolean;
}

interface Asset {
  engine: L2MatchingEngine;
  dark: DarkEntry[];
  auction: AuctionEntry[];
}

/**
 * Several L2 books routed by symbol, with a dark pool per symbol (midpoint matching, no pre-trade
 * display), periodic batch auctions and cross-rate arbitrage detection (the seed's
 * `MultiAssetMatchingEngine`). Order ids are unique across all symbols and venues of the engine.
 */
export class MultiAssetMatchingEngine {
  readonly #assets = new Map<string, Asset>();
  readonly #orderSymbol = new Map<number, string>();
  readonly #pairs: CrossPair[] = [];
  #seq = 0;
  #fillId = 1;

  /** Adds a symbol with its own book. @throws BacktestError MatchingL3 when already registered, Matching on bad sizes */
  registerAsset(symbol: string, spec: AssetSpec = {}): void {
    if (typeof symbol !== 'string' || symbol.length === 0) throw new BacktestError('MatchingL3', `invalid asset symbol: ${String(symbol)}`);
    if (this.#assets.has(symbol)) throw new BacktestError('MatchingL3', `asset already registered: ${symbol}`);
    const opts: { symbol: string; tickSize?: DecimalInput; lotSize?: DecimalInput } = { symbol };
    if (spec.tickSize !== undefined) opts.tickSize = spec.tickSize;
    if (spec.lotSize !== undefined) opts.lotSize = spec.lotSize;
    this.#assets.set(symbol, { engine: new L2MatchingEngine(opts), dark: [], auction: [] });
  }

  /** Registered symbols in registration order. */
  assets(): string[] {
    return [...this.#assets.keys()];
  }

  /** The lit book of a symbol. @throws BacktestError MatchingL3 "asset not registered: X" */
  engine(symbol: string): L2MatchingEngine {
    return this.#asset(symbol).engine;
  }

  #asset(symbol: string): Asset {
    const a = this.#assets.get(symbol);
    if (a === undefined) throw new BacktestError('MatchingL3', `asset not registered: ${symbol}`);
    return a;
  }

  #claimId(id: number, symbol: string): void {
    if (this.#orderSymbol.has(id)) throw new BacktestError('Matching', `duplicate order id: ${id}`);
    this.#orderSymbol.set(id, symbol);
  }

  /** Routes an order to its symbol's lit book. @throws BacktestError MatchingL3 on an unknown symbol, Matching on a bad order */
  submit(order: OrderSpec): SubmitResult {
    checkOrder(order);
    const a = this.#asset(order.symbol);
    if (this.#orderSymbol.has(order.id)) throw new BacktestError('Matching', `duplicate order id: ${order.id}`);
    const r = a.engine.submit(order);
    this.#orderSymbol.set(order.id, order.symbol);
    return r;
  }

  /** Cancels a lit, dark or auction order by id; returns its remaining quantity. @throws BacktestError Matching "order not found: id" */
  cancel(orderId: number): string {
    checkOrderId(orderId);
    const symbol = this.#orderSymbol.get(orderId);
    if (symbol === undefined) throw new BacktestError('Matching', `order not found: ${orderId}`);
    const a = this.#asset(symbol);
    for (const list of [a.dark, a.auction]) {
      const i = list.findIndex((o) => o.id === orderId);
      if (i >= 0) {
        const [o] = list.splice(i, 1);
        return a.engine.scale.lotsToString((o as DarkEntry).lots);
      }
    }
    return a.engine.cancel(orderId);
  }

  /** Modifies a lit order (L2 rules). @throws BacktestError Matching "order not found: id" */
  modify(orderId: number, changes: ModifyChanges): SubmitResult {
    const symbol = this.#orderSymbol.get(orderId);
    if (symbol === undefined) throw new BacktestError('Matching', `order not found: ${orderId}`);
    return this.#asset(symbol).engine.modify(orderId, changes);
  }

  /** Midpoint of the lit touch in quote currency (exact, one more digit than the tick), or undefined on a one-sided book. */
  midpoint(symbol: string): string | undefined {
    const [mid] = this.#mid(this.#asset(symbol));
    return mid;
  }

  #mid(a: Asset): [string | undefined, number] {
    const bid = a.engine.book.best(BUY);
    const ask = a.engine.book.best(SELL);
    if (Number.isNaN(bid) || Number.isNaN(ask)) return [undefined, Number.NaN];
    const s = a.engine.scale;
    const mid = Decimal.of(s.ticksToString(bid)).add(s.ticksToString(ask)).div(2, s.pricePrecision + 1);
    return [mid.toString(), (bid + ask) / 2];
  }

  /**
   * Sends an order to the symbol's dark pool: it trades at the lit midpoint against opposite dark
   * orders in time priority (each fill at least both sides' minimum), and the rest waits unseen.
   * With no two-sided lit quote there is no midpoint and the order only rests.
   * @throws BacktestError MatchingL3 on an unknown symbol, Matching on a bad order
   */
  submitDark(order: DarkOrder): SubmitResult {
    checkOrderId(order.id);
    const a = this.#asset(order.symbol);
    const s = a.engine.scale;
    const side = sideCode(parseSide(order.side));
    const lots = s.quantityToLots(order.quantity);
    const minLots = order.minQuantity === undefined ? 1 : s.quantityToLots(order.minQuantity);
    if (minLots > lots) throw new BacktestError('Matching', `dark order ${order.id}: minimum quantity above quantity`);
    this.#claimId(order.id, order.symbol);
    const taker: DarkEntry = { id: order.id, side, lots, minLots };
    const fills = this.#crossDark(a, taker);
    a.dark = a.dark.filter((o) => o.lots > 0);
    if (taker.lots > 0) a.dark.push(taker);
    return { isFilled: taker.lots === 0, isPartiallyFilled: taker.lots > 0 && taker.lots < lots, remainingQuantity: s.lotsToString(taker.lots), fills };
  }

  /** Re-runs dark matching for resting dark orders (after the lit midpoint appears or moves); returns the fills. */
  matchDark(symbol: string): FillReport[] {
    const a = this.#asset(symbol);
    const out: FillReport[] = [];
    for (const o of a.dark) if (o.lots > 0) out.push(...this.#crossDark(a, o));
    a.dark = a.dark.filter((o) => o.lots > 0);
    return out;
  }

  #crossDark(a: Asset, taker: DarkEntry): FillReport[] {
    const [mid] = this.#mid(a);
    const fills: FillReport[] = [];
    if (mid === undefined) return fills;
    const s = a.engine.scale;
    for (const maker of a.dark) {
      if (taker.lots === 0) break;
      if (maker.side === taker.side || maker.lots === 0) continue;
      const q = Math.min(maker.lots, taker.lots);
      if (q < maker.minLots || q < taker.minLots) continue;
      maker.lots -= q;
      taker.lots -= q;
      fills.push({ fillId: this.#fillId++, takerOrderId: taker.id, makerOrderId: maker.id, price: mid, quantity: s.lotsToString(q), takerSide: taker.side === BUY ? 'BUY' : 'SELL' });
    }
    return fills;
  }

  /**
   * Queues a limit or market order for the symbol's next batch auction (not matched on arrival).
   * GTC remainders carry over to later auctions; IOC and market orders expire after one.
   * @throws BacktestError MatchingL3 on an unknown symbol or a FOK order
   */
  submitAuction(order: OrderSpec): void {
    checkOrder(order);
    const a = this.#asset(order.symbol);
    if (order.tif === 'FOK') throw new BacktestError('MatchingL3', `auction order ${order.id}: FOK is not supported in batch auctions`);
    const s = a.engine.scale;
    const side = sideCode(parseSide(order.side));
    const ticks = order.type === 'Market' ? (side === BUY ? Infinity : -Infinity) : s.priceToTicks(order.price as string);
    const lots = s.quantityToLots(order.quantity);
    this.#claimId(order.id, order.symbol);
    a.auction.push({ id: order.id, side, ticks, lots, seq: this.#seq++, keep: order.type === 'Limit' && order.tif === 'GTC' });
  }

  /**
   * Runs one batch auction. The uncrossing price is chosen among the limit prices present by:
   * (1) maximum executable volume, (2) minimum imbalance |demand - supply|, (3) closest to
   * `referencePrice` when given, (4) the lower price. Executable orders fill in price-time priority
   * (better price first, then arrival), all at the one clearing price; in each fill the later order is
   * the taker. With only market orders present there is no price and nothing trades.
   * @throws BacktestError MatchingL3 on an unknown symbol, Matching on a bad reference price
   */
  runAuction(symbol: string, referencePrice?: DecimalInput): AuctionResult {
    const a = this.#asset(symbol);
    const s = a.engine.scale;
    const ref = referencePrice === undefined ? Number.NaN : s.priceToTicks(referencePrice);
    const buys = a.auction.filter((o) => o.side === BUY).sort((x, y) => y.ticks - x.ticks || x.seq - y.seq);
    const sells = a.auction.filter((o) => o.side === SELL).sort((x, y) => x.ticks - y.ticks || x.seq - y.seq);
    const prices = [...new Set(a.auction.filter((o) => Number.isFinite(o.ticks)).map((o) => o.ticks))].sort((x, y) => x - y);
    let best = Number.NaN;
    let bestExec = 0;
    let bestImb = 0;
    let bestDemand = 0;
    let bestSupply = 0;
    for (const p of prices) {
      let demand = 0;
      let supply = 0;
      for (const b of buys) if (b.ticks >= p) demand += b.lots;
      for (const o of sells) if (o.ticks <= p) supply += o.lots;
      const exec = Math.min(demand, supply);
      const imb = Math.abs(demand - supply);
      if (exec === 0) continue;
      const better =
        Number.isNaN(best) ||
        exec > bestExec ||
        (exec === bestExec && (imb < bestImb || (imb === bestImb && !Number.isNaN(ref) && Math.abs(p - ref) < Math.abs(best - ref))));
      if (better) {
        best = p;
        bestExec = exec;
        bestImb = imb;
        bestDemand = demand;
        bestSupply = supply;
      }
    }
    const fills: FillReport[] = [];
    if (!Number.isNaN(best)) {
      const price = s.ticksToString(best);
      let need = bestExec;
      const eligibleBuys = buys.filter((b) => b.ticks >= best);
      const eligibleSells = sells.filter((o) => o.ticks <= best);
      let i = 0;
      let j = 0;
      while (need > 0) {
        const b = eligibleBuys[i] as AuctionEntry;
        const o = eligibleSells[j] as AuctionEntry;
        const q = Math.min(b.lots, o.lots, need);
        const takerIsBuy = b.seq > o.seq;
        fills.push({ fillId: this.#fillId++, takerOrderId: takerIsBuy ? b.id : o.id, makerOrderId: takerIsBuy ? o.id : b.id, price, quantity: s.lotsToString(q), takerSide: takerIsBuy ? 'BUY' : 'SELL' });
        b.lots -= q;
        o.lots -= q;
        need -= q;
        if (b.lots === 0) i++;
        if (o.lots === 0) j++;
      }
    }
    for (const o of a.auction) if (o.lots === 0 || !o.keep) this.#orderSymbol.delete(o.id);
    a.auction = a.auction.filter((o) => o.lots > 0 && o.keep);
    return {
      symbol,
      clearingPrice: Number.isNaN(best) ? undefined : s.ticksToString(best),
      matchedQuantity: s.lotsToString(bestExec),
      imbalance: s.lotsToString(bestImb),
      imbalanceSide: bestDemand > bestSupply ? 'Buy' : bestSupply > bestDemand ? 'Sell' : undefined,
      fills,
      carriedOver: a.auction.length,
    };
  }

  /** Watches a cross rate against its legs. @throws BacktestError MatchingL3 "invalid cross-asset params: ..." */
  registerCrossPair(pair: CrossPair): void {
    const names = [pair.cross, pair.numerator, pair.denominator];
    if (new Set(names).size !== 3) throw new BacktestError('MatchingL3', `invalid cross-asset params: ${names.join(', ')} must be three different symbols`);
    for (const n of names) if (!this.#assets.has(n)) throw new BacktestError('MatchingL3', `invalid cross-asset params: asset not registered: ${n}`);
    this.#pairs.push({ ...pair });
  }

  /**
   * Cross rates whose executable price beats the legs' executable implied price by more than
   * `minEdgeBps`: buy_cross when ask(cross) < bid(numerator) / ask(denominator), sell_cross when
   * bid(cross) > ask(numerator) / bid(denominator). Books lacking a side are skipped.
   */
  detectArbitrage(minEdgeBps = 0): ArbitrageOpportunity[] {
    const out: ArbitrageOpportunity[] = [];
    const touch = (symbol: string): [number, number, string | undefined, string | undefined] => {
      const e = this.engine(symbol);
      const bid = e.bestBid();
      const ask = e.bestAsk();
      return [bid === undefined ? Number.NaN : Number(bid), ask === undefined ? Number.NaN : Number(ask), bid, ask];
    };
    for (const pair of this.#pairs) {
      const [cBid, cAsk, cBidText, cAskText] = touch(pair.cross);
      const [nBid, nAsk] = touch(pair.numerator);
      const [dBid, dAsk] = touch(pair.denominator);
      const impliedBid = nBid / dAsk;
      const impliedAsk = nAsk / dBid;
      if (Number.isFinite(cAsk) && Number.isFinite(impliedBid)) {
        const edge = (impliedBid / cAsk - 1) * 1e4;
        if (edge > minEdgeBps) out.push({ pair, direction: 'buy_cross', crossPrice: cAskText as string, impliedPrice: impliedBid, edgeBps: edge });
      }
      if (Number.isFinite(cBid) && Number.isFinite(impliedAsk)) {
        const edge = (cBid / impliedAsk - 1) * 1e4;
        if (edge > minEdgeBps) out.push({ pair, direction: 'sell_cross', crossPrice: cBidText as string, impliedPrice: impliedAsk, edgeBps: edge });
      }
    }
    return out;
  }
}
