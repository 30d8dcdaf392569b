import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DepthBook } from './depth-book.js';
import { BacktestError } from './errors.js';
import { BUY, SELL } from './order-book.js';
import { parseUnits } from './scale.js';

/** Event kinds of a parsed capture. */
export const DEPTH_DIFF = 0;
/** A trade print. */
export const TRADE = 1;
/** A bookTicker (best bid/ask) update. */
export const BOOK_TICKER = 2;
/** A REST depth snapshot (`lastUpdateId`, bids, asks). */
export const SNAPSHOT = 3;

/**
 * A Binance websocket capture parsed once into columns, so a replay reads typed arrays only.
 * Per event, fields a..e hold: depth diff: U, u, first level, end level; trade: price ticks, lots,
 * buyer-is-maker (1/0), trade id; bookTicker: u, bid ticks, bid lots, ask ticks, ask lots;
 * snapshot: lastUpdateId, -, first level, end level. Levels are (side, ticks, lots) columns.
 */
export interface ParsedCapture {
  readonly count: number;
  /** Receive time of the first line, epoch ns. */
  readonly baseNs: bigint;
  readonly kind: Uint8Array;
  /** Receive time minus baseNs, ns (exact: a double holds integers below 2^53 ns, about 104 days). */
  readonly tNs: Float64Array;
  readonly a: Float64Array;
  readonly b: Float64Array;
  readonly c: Float64Array;
  readonly d: Float64Array;
  readonly e: Float64Array;
  readonly levelCount: number;
  readonly levelSide: Uint8Array;
  readonly levelTicks: Float64Array;
  readonly levelLots: Float64Array;
  /** Price tick and lot as decimal strings: ticks x tickSize = price, lots x lotSize = quantity. */
  readonly tickSize: string;
  readonly lotSize: string;
}

type Level = [string, string];
interface Raw {
  stream?: string;
  data?: { e?: string; U?: number; u?: number; b?: Level[] | string; a?: Level[] | string; B?: string; A?: string; p?: string; q?: string; m?: boolean; t?: number };
  lastUpdateId?: number;
  bids?: Level[];
  asks?: Level[];
}

/**
 * Parses a capture (`<receive ns> <json>` per line; depth@100ms diffs, trades, bookTicker, and REST
 * snapshots). Prices are kept as integer ticks of 10^-priceDigits and quantities as lots of
 * 10^-quantityDigits; a value with finer digits is refused.
 * @throws BacktestError Matching naming the line of any malformed record
 */
export function parseBinanceCapture(text: string, priceDigits = 2, quantityDigits = 8): ParsedCapture {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const n = lines.length;
  const kind = new Uint8Array(n);
  const tNs = new Float64Array(n);
  const cols = [new Float64Array(n), new Float64Array(n), new Float64Array(n), new Float64Array(n), new Float64Array(n)] as const;
  const [a, b, c, d, e] = cols;
  let cap = 1 << 16;
  let levelSide = new Uint8Array(cap);
  let levelTicks = new Float64Array(cap);
  let levelLots = new Float64Array(cap);
  let levelCount = 0;
  let baseNs = 0n;
  const fail = (i: number, why: string): never => {
    throw new BacktestError('Matching', `capture line ${i + 1}: ${why}`);
  };
  const price = (i: number, s: unknown): number => {
    const v = typeof s === 'string' ? parseUnits(s, priceDigits) : Number.NaN;
    return Number.isNaN(v) ? fail(i, `invalid price ${JSON.stringify(s)}`) : v;
  };
  const qty = (i: number, s: unknown): number => {
    const v = typeof s === 'string' ? parseUnits(s, quantityDigits) : Number.NaN;
    return Number.isNaN(v) ? fail(i, `invalid quantity ${JSON.stringify(s)}`) : v;
  };
  const levels = (i: number, side: 0 | 1, list: unknown): void => {
    if (!Array.isArray(list)) fail(i, 'levels are not an array');
    for (const lv of list as unknown[]) {
      if (!Array.isArray(lv) || lv.length < 2) fail(i, 'a level is not [price, quantity]');
      if (levelCount === cap) {
        cap *= 2;
        const s2 = new Uint8Array(cap);
        s2.set(levelSide);
        levelSide = s2;
        const t2 = new Float64Array(cap);
        t2.set(levelTicks);
        levelTicks = t2;
        const l2 = new Float64Array(cap);
        l2.set(levelLots);
        levelLots = l2;
      }
      const [p, q] = lv as [unknown, unknown];
      levelSide[levelCount] = side;
      levelTicks[levelCount] = price(i, p);
      levelLots[levelCount] = qty(i, q);
      levelCount++;
    }
  };
  for (let i = 0; i < n; i++) {
    const line = lines[i] as string;
    const sp = line.indexOf(' ');
    if (sp <= 0 || !/^\d+$/.test(line.slice(0, sp))) fail(i, 'expected "<receive ns> <json>"');
    const ns = BigInt(line.slice(0, sp));
    if (i === 0) baseNs = ns;
    const rel = Number(ns - baseNs);
    if (rel < 0) fail(i, 'receive time goes backwards');
    tNs[i] = rel;
    let raw: Raw;
    try {
      raw = JSON.parse(line.slice(sp + 1)) as Raw;
    } catch (err) {
      throw new BacktestError('Matching', `capture line ${i + 1}: invalid JSON`, { cause: err });
    }
    if (raw.lastUpdateId !== undefined) {
      kind[i] = SNAPSHOT;
      a[i] = raw.lastUpdateId;
      c[i] = levelCount;
      levels(i, BUY, raw.bids);
      levels(i, SELL, raw.asks);
      d[i] = levelCount;
      continue;
    }
    const data = raw.data;
    const stream = raw.stream ?? '';
    if (data === undefined) fail(i, 'no data');
    const x = data as NonNullable<Raw['data']>;
    if (stream.endsWith('@bookTicker')) {
      kind[i] = BOOK_TICKER;
      a[i] = typeof x.u === 'number' ? x.u : fail(i, 'bookTicker without u');
      b[i] = price(i, x.b);
      c[i] = qty(i, x.B);
      d[i] = price(i, x.a);
      e[i] = qty(i, x.A);
    } else if (x.e === 'depthUpdate') {
      kind[i] = DEPTH_DIFF;
      a[i] = typeof x.U === 'number' ? x.U : fail(i, 'depth diff without U');
      b[i] = typeof x.u === 'number' ? x.u : fail(i, 'depth diff without u');
      c[i] = levelCount;
      levels(i, BUY, x.b);
      levels(i, SELL, x.a);
      d[i] = levelCount;
    } else if (x.e === 'trade') {
      kind[i] = TRADE;
      a[i] = price(i, x.p);
      b[i] = qty(i, x.q);
      c[i] = x.m === true ? 1 : 0;
      d[i] = typeof x.t === 'number' ? x.t : 0;
    } else {
      fail(i, `unknown record (stream ${JSON.stringify(stream)})`);
    }
  }
  return {
    count: n,
    baseNs,
    kind,
    tNs,
    a,
    b,
    c,
    d,
    e,
    levelCount,
    levelSide,
    levelTicks,
    levelLots,
    tickSize: priceDigits === 0 ? '1' : `0.${'0'.repeat(priceDigits - 1)}1`,
    lotSize: quantityDigits === 0 ? '1' : `0.${'0'.repeat(quantityDigits - 1)}1`,
  };
}

/** Reads and parses a capture file, gunzipping `.gz`. @throws BacktestError Matching on malformed data */
export function readBinanceCapture(path: string, priceDigits = 2, quantityDigits = 8): ParsedCapture {
  const bytes = readFileSync(path);
  const text = (path.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
  return parseBinanceCapture(text, priceDigits, quantityDigits);
}

/** A break in the depth-diff sequence: the diff at `index` started at `gotU`, not `expectedU`. */
export interface SequenceGap {
  readonly index: number;
  readonly expectedU: number;
  readonly gotU: number;
}

/** Hooks a replay calls, in capture order; times are ns since the capture's first line. */
export interface ReplayListener {
  /** After a depth diff was applied to the synced book. */
  onDepth?(tNs: number, book: DepthBook, index: number): void;
  /** A trade print; `buyerIsMaker` means the aggressor sold. */
  onTrade?(tNs: number, priceTicks: number, lots: number, buyerIsMaker: boolean): void;
}

/** Replay options. */
export interface ReplayOptions {
  /** Start from the capture's REST snapshot (Binance's sync procedure); false starts from the first diff with an empty book. Default true. */
  readonly useSnapshot?: boolean;
  /** Compare the book with the bookTicker stream after every applied diff. Default true. */
  readonly validate?: boolean;
  readonly listener?: ReplayListener;
}

/** What a replay did and how well the rebuilt book agreed with the exchange's own best bid/ask. */
export interface ReplayReport {
  readonly events: number;
  readonly depthDiffsApplied: number;
  /** Diffs dropped because they were older than the snapshot (or came before sync). */
  readonly depthDiffsSkipped: number;
  readonly levelUpdates: number;
  readonly trades: number;
  readonly bookTickers: number;
  readonly synced: boolean;
  readonly gaps: readonly SequenceGap[];
  /** Comparisons made: applied diffs for which a bookTicker with update id <= the diff's u exists. */
  readonly checks: number;
  /** Checks where the book's best bid and best ask prices both equal the bookTicker's. */
  readonly priceAgreements: number;
  /** Checks where prices and the quantities at both touches agree. */
  readonly fullAgreements: number;
  readonly agreementRate: number;
  readonly book: DepthBook;
}

/**
 * Rebuilds the L2 book from a parsed capture. With the snapshot: diffs with u <= lastUpdateId are
 * dropped, the first applied diff must span lastUpdateId + 1, and each next diff must start at the
 * previous u + 1; a break is reported as a gap and the replay goes on. Validation pairs each applied
 * diff (book state as of update id u) with the latest bookTicker whose update id is <= u, which is
 * the exchange's best bid/ask at that same update id.
 */
export function replayBinance(cap: ParsedCapture, options: ReplayOptions = {}): ReplayReport {
  const useSnapshot = options.useSnapshot ?? true;
  const validate = options.validate ?? true;
  const listener = options.listener;
  const onDepth = listener?.onDepth;
  const onTrade = listener?.onTrade;
  const book = new DepthBook();
  const { kind, tNs, a, b, c, d, levelSide, levelTicks, levelLots } = cap;
  const gaps: SequenceGap[] = [];
  // bookTickers ordered by update id, for validation
  let tickers: number[] = [];
  if (validate) {
    for (let i = 0; i < cap.count; i++) if (kind[i] === BOOK_TICKER) tickers.push(i);
    tickers = tickers.sort((x, y) => (a[x] as number) - (a[y] as number));
  }
  let tp = -1;
  let checks = 0;
  let priceAgree = 0;
  let fullAgree = 0;
  let applied = 0;
  let skipped = 0;
  let levelUpdates = 0;
  let trades = 0;
  let bookTickers = 0;
  let synced = false;
  let lastU = -1;
  let snapshotId = -1;
  const pending: number[] = [];

  const apply = (i: number): void => {
    const U = a[i] as number;
    const u = b[i] as number;
    if (lastU === -1) {
      if (snapshotId >= 0 && !(U <= snapshotId + 1 && u >= snapshotId + 1)) gaps.push({ index: i, expectedU: snapshotId + 1, gotU: U });
    } else if (U !== lastU + 1) {
      gaps.push({ index: i, expectedU: lastU + 1, gotU: U });
    }
    lastU = u;
    const end = d[i] as number;
    for (let k = c[i] as number; k < end; k++) book.set(levelSide[k] as 0 | 1, levelTicks[k] as number, levelLots[k] as number);
    levelUpdates += end - (c[i] as number);
    applied++;
    if (validate) {
      while (tp + 1 < tickers.length && (a[tickers[tp + 1] as number] as number) <= u) tp++;
      if (tp >= 0) {
        const t = tickers[tp] as number;
        checks++;
        if (book.best(BUY) === b[t] && book.best(SELL) === d[t]) {
          priceAgree++;
          if (book.bestLots(BUY) === c[t] && book.bestLots(SELL) === cap.e[t]) fullAgree++;
        }
      }
    }
    if (onDepth !== undefined) onDepth(tNs[i] as number, book, i);
  };

  for (let i = 0; i < cap.count; i++) {
    const k = kind[i];
    if (k === DEPTH_DIFF) {
      if (synced) apply(i);
      else if (!useSnapshot) {
        synced = true;
        apply(i);
      } else pending.push(i);
    } else if (k === TRADE) {
      trades++;
      if (onTrade !== undefined) onTrade(tNs[i] as number, a[i] as number, b[i] as number, c[i] === 1);
    } else if (k === BOOK_TICKER) {
      bookTickers++;
    } else if (k === SNAPSHOT && useSnapshot && !synced) {
      book.clear();
      const end = d[i] as number;
      for (let j = c[i] as number; j < end; j++) book.set(levelSide[j] as 0 | 1, levelTicks[j] as number, levelLots[j] as number);
      snapshotId = a[i] as number;
      synced = true;
      for (const p of pending) {
        if ((b[p] as number) <= snapshotId) skipped++;
        else apply(p);
      }
      pending.length = 0;
    }
  }
  skipped += pending.length;
  return {
    events: cap.count,
    depthDiffsApplied: applied,
    depthDiffsSkipped: skipped,
    levelUpdates,
    trades,
    bookTickers,
    synced,
    gaps,
    checks,
    priceAgreements: priceAgree,
    fullAgreements: fullAgree,
    agreementRate: checks === 0 ? 0 : priceAgree / checks,
    book,
  };
}
