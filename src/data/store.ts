import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { barProblem } from '../model/bar.js';
import type { Timeframe } from '../model/bar.js';
import { commitFiles } from './atomic.js';
import type { BeforeRenameHook } from './atomic.js';
import { concatColumns, sliceColumns } from './columns.js';
import type { BarColumns, MergedBatch } from './columns.js';
import { DataError } from './errors.js';
import { barFileSummary, decodeBarsParquet, encodeBarsParquet } from './parquet.js';
import { DayMerge, newBatch, trimBatch } from './merge.js';
import { querySql } from './sql.js';
import type { SqlResult } from './sql.js';
import { civilFromDays, formatIsoUtc, utcDate, utcDayNumber, utcDayStartNs, DAY_NS } from './time.js';

const SYMBOL_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const DAY_FILE_RE = /^(\d{4}-\d{2}-\d{2})\.parquet$/;

/** Options of a BarStore. */
export interface BarStoreOptions {
  /** @internal test hook run before each rename of a commit (simulates crashes and failed renames) */
  beforeRename?: BeforeRenameHook;
  /**
   * fsync each file before its rename (default true). False keeps writes atomic against a process crash
   * but not against power loss: for copies whose source is elsewhere, e.g. a backtest's replayed bars.
   */
  fsync?: boolean;
}

/** A time range over bar open times in epoch ns: `fromNs` inclusive, `toNs` exclusive; open ends are unbounded. */
export interface TimeRange {
  fromNs?: bigint;
  toNs?: bigint;
}

/** Options of BarStore.replay. */
export interface ReplayOptions extends TimeRange {
  /** bars per yielded batch (default 8192) */
  batchSize?: number;
}

/** Options of BarStore.planWrite. */
export interface PlanOptions {
  /** report bars that overlap stored bars of their day instead of throwing AppendOnlyViolation */
  onOverlap?: (index: number, date: string, lastStoredNs: bigint) => void;
  /** names the input in messages (e.g. the CSV file being imported) */
  source?: string;
  /**
   * What is stored for the symbol, from a writer that owns its directory and has tracked every write
   * (the recorder): the plan then neither lists the directory nor reads the first day file for the
   * timeframe. Wrong knowledge can replace a day file, so only a sole writer may give it.
   */
  stored?: StoredDays;
}

/** The days stored for one symbol and their timeframe (undefined when there are none). */
export interface StoredDays {
  days: ReadonlySet<string>;
  timeframe: Timeframe | undefined;
}

/** A file the store is about to write: its final path and its bytes. */
export interface PlannedFile {
  path: string;
  bytes: Uint8Array;
  symbol: string;
  date: string;
  bars: number;
  /** whether a day file existed when the write was planned */
  replaces: boolean;
}

/** @throws DataError InvalidInput when `symbol` cannot be a store key (letters, digits, `.`, `_`, `-`). */
export function checkSymbol(symbol: string): void {
  if (!SYMBOL_RE.test(symbol)) {
    throw new DataError('InvalidInput', `symbol ${JSON.stringify(symbol)} must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
}

function lowerBound(times: BigInt64Array, n: number, t: bigint): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((times[mid] as bigint) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index in `[start, n)` whose time is >= `bound` (times ascending), galloping from `start`. */
function upperDayBound(times: BigInt64Array, start: number, n: number, bound: bigint): number {
  let lo = start;
  let step = 1;
  let hi = start + 1;
  while (hi < n && (times[hi] as bigint) < bound) {
    lo = hi;
    step *= 2;
    hi = start + step;
  }
  if (hi > n) hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((times[mid] as bigint) < bound) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The bar store: Parquet files `bars/<SYMBOL>/<YYYY-MM-DD>.parquet` under `dir`, one per symbol per UTC
 * date of the bar open time, append-only, each write atomic (temp file + fsync + rename).
 */
export class BarStore {
  readonly dir: string;
  readonly #beforeRename: BeforeRenameHook | undefined;
  readonly #fsync: boolean;

  constructor(dir: string, options: BarStoreOptions = {}) {
    this.dir = resolve(dir);
    this.#beforeRename = options.beforeRename;
    this.#fsync = options.fsync !== false;
  }

  /** Directory of a symbol's day files. */
  symbolDir(symbol: string): string {
    checkSymbol(symbol);
    return join(this.dir, 'bars', symbol);
  }

  /** Path of the file holding `symbol`'s bars opening on UTC `date` (`YYYY-MM-DD`). */
  dayFile(symbol: string, date: string): string {
    return join(this.symbolDir(symbol), `${date}.parquet`);
  }

  /** Symbols with at least one day file, sorted. */
  symbols(): string[] {
    const root = join(this.dir, 'bars');
    if (!existsSync(root)) return [];
    return readdirSync(root)
      .filter((s) => SYMBOL_RE.test(s) && statSync(join(root, s)).isDirectory() && this.days(s).length > 0)
      .sort();
  }

  /** UTC dates (`YYYY-MM-DD`) with a file for `symbol`, ascending. */
  days(symbol: string): string[] {
    const dir = this.symbolDir(symbol);
    if (!existsSync(dir)) return [];
    const out: string[] = [];
    for (const f of readdirSync(dir)) {
      const m = DAY_FILE_RE.exec(f);
      if (m !== null) out.push(m[1] as string);
    }
    return out.sort();
  }

  /** Timeframe recorded in `symbol`'s files, or undefined when the symbol has none. @throws DataError StoreCorrupt */
  timeframeOf(symbol: string): Timeframe | undefined {
    return this.#timeframeIn(symbol, this.days(symbol)[0]);
  }

  #timeframeIn(symbol: string, firstDay: string | undefined): Timeframe | undefined {
    if (firstDay === undefined) return undefined;
    const path = this.dayFile(symbol, firstDay);
    const tf = barFileSummary(readFileSync(path), path).timeframe;
    if (tf === undefined) throw new DataError('StoreCorrupt', `${path} has no timeframe metadata`);
    return tf as Timeframe;
  }

  /** Number of bars and last open time (epoch ns) in `symbol`'s file for `date`, or undefined when there is none. */
  daySummary(symbol: string, date: string): { rows: number; lastOpenTimeNs: bigint | undefined } | undefined {
    const path = this.dayFile(symbol, date);
    if (!existsSync(path)) return undefined;
    return barFileSummary(readFileSync(path), path);
  }

  /** Decodes one day file. @throws DataError FileNotFound, StoreCorrupt */
  async readDay(symbol: string, date: string): Promise<BarColumns> {
    const path = this.dayFile(symbol, date);
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      throw new DataError('FileNotFound', `no bars for ${symbol} on ${date} (${path})`, { cause: e });
    }
    const cols = await decodeBarsParquet(bytes, path, { symbol });
    if (cols.symbol !== symbol) throw new DataError('StoreCorrupt', `${path} holds bars of ${cols.symbol}, not ${symbol}`);
    return cols;
  }

  /**
   * Validates `cols` and plans the day files a write would produce (existing days are read and extended);
   * nothing is written. The symbol's directory is listed once; only days that already exist are read.
   * With `onOverlap`, each bar not after its day's stored bars is reported there (index into `cols`,
   * UTC date, last stored open time in ns) instead of throwing, and such days are left out of the plan:
   * the caller must not commit a plan that had overlaps.
   * @throws DataError InvalidInput, InvalidData, AppendOnlyViolation, StoreCorrupt
   */
  async planWrite(cols: BarColumns, options: PlanOptions = {}): Promise<PlannedFile[]> {
    checkSymbol(cols.symbol);
    const n = cols.length;
    if (!Number.isInteger(n) || n < 0) throw new DataError('InvalidInput', `length ${n} is not a bar count`);
    for (const k of ['openTimeNs', 'closeTimeNs', 'open', 'high', 'low', 'close', 'volume'] as const) {
      if (cols[k].length < n) throw new DataError('InvalidInput', `${cols.symbol}: column ${k} has ${cols[k].length} values, length says ${n}`);
    }
    const known = options.stored;
    const stored = known === undefined ? this.days(cols.symbol) : undefined;
    const existingTf = known === undefined ? this.#timeframeIn(cols.symbol, stored?.[0]) : known.timeframe;
    if (existingTf !== undefined && existingTf !== cols.timeframe) {
      throw new DataError(
        'InvalidInput',
        options.source === undefined
          ? `${cols.symbol} is stored as ${existingTf} bars; cannot write ${cols.timeframe} bars`
          : `${options.source}: ${cols.symbol} is stored as ${existingTf} bars, this file has ${cols.timeframe} bars`,
      );
    }
    const ot = cols.openTimeNs;
    const ct = cols.closeTimeNs;
    for (let i = 0; i < n; i++) {
      const t = ot[i] as bigint;
      if (i > 0 && t <= (ot[i - 1] as bigint)) {
        throw new DataError('InvalidData', `${cols.symbol} bar ${i} opens at ${formatIsoUtc(t)}, not after bar ${i - 1}; bars must be in strictly increasing open time`);
      }
      if ((ct[i] as bigint) <= t) throw new DataError('InvalidData', `${cols.symbol} bar ${i} at ${formatIsoUtc(t)} closes at or before it opens`);
      const problem = barProblem(cols.open[i] as number, cols.high[i] as number, cols.low[i] as number, cols.close[i] as number, cols.volume[i] as number);
      if (problem !== undefined) throw new DataError('InvalidData', `${cols.symbol} bar ${i} at ${formatIsoUtc(t)}: ${problem}`);
    }
    const existing: ReadonlySet<string> = known?.days ?? new Set(stored);
    const dir = join(this.dir, 'bars', cols.symbol);
    const planned: PlannedFile[] = [];
    let start = 0;
    while (start < n) {
      const day = utcDayNumber(ot[start] as bigint);
      const dayEnd = BigInt(day + 1) * DAY_NS;
      // bars are ordered: the day's end is usually near, so gallop before bisecting
      const end = upperDayBound(ot, start, n, dayEnd);
      const date = civilFromDays(day);
      let part = sliceColumns(cols, start, end);
      const path = join(dir, `${date}.parquet`);
      if (existing.has(date)) {
        const old = await this.readDay(cols.symbol, date);
        const last = old.openTimeNs[old.length - 1];
        if (last !== undefined && (part.openTimeNs[0] as bigint) <= last) {
          if (options.onOverlap === undefined) {
            throw new DataError(
              'AppendOnlyViolation',
              `${cols.symbol} ${date}: a bar at ${formatIsoUtc(part.openTimeNs[0] as bigint)} is not after the last stored bar at ${formatIsoUtc(last)} (the store is append-only)`,
            );
          }
          for (let i = start; i < end && (ot[i] as bigint) <= last; i++) options.onOverlap(i, date, last);
          start = end;
          continue;
        }
        part = concatColumns([old, part]);
      }
      planned.push({ path, bytes: encodeBarsParquet(part), symbol: cols.symbol, date, bars: end - start, replaces: existing.has(date) });
      start = end;
    }
    return planned;
  }

  /** Atomically writes planned files (all or nothing). @throws DataError WriteFailed */
  async commit(planned: readonly PlannedFile[]): Promise<void> {
    for (const symbol of new Set(planned.map((p) => p.symbol))) mkdirSync(this.symbolDir(symbol), { recursive: true });
    await commitFiles(planned, this.#beforeRename, { fsync: this.#fsync });
  }

  /**
   * Appends bars: each UTC day's new bars must open strictly after that day's stored bars; all day files
   * change together or not at all. Resolves to the number of day files written.
   * @throws DataError InvalidInput, InvalidData, AppendOnlyViolation, WriteFailed
   */
  async write(cols: BarColumns, options: PlanOptions = {}): Promise<number> {
    const planned = await this.planWrite(cols, options);
    await this.commit(planned);
    return planned.length;
  }

  #daysInRange(symbol: string, range: TimeRange): string[] {
    const from = range.fromNs === undefined ? undefined : utcDate(range.fromNs);
    const to = range.toNs === undefined ? undefined : utcDate(range.toNs - 1n);
    return this.days(symbol).filter((d) => (from === undefined || d >= from) && (to === undefined || d <= to));
  }

  async #readRange(symbol: string, date: string, range: TimeRange): Promise<BarColumns> {
    const cols = await this.readDay(symbol, date);
    const a = range.fromNs === undefined ? 0 : lowerBound(cols.openTimeNs, cols.length, range.fromNs);
    const b = range.toNs === undefined ? cols.length : lowerBound(cols.openTimeNs, cols.length, range.toNs);
    return a === 0 && b === cols.length ? cols : sliceColumns(cols, a, b);
  }

  /**
   * Streams `symbol`'s bars with open time in `[fromNs, toNs)`, one batch per stored day, in time order.
   * @throws DataError InvalidInput, StoreCorrupt
   */
  async *read(symbol: string, range: TimeRange = {}): AsyncIterable<BarColumns> {
    for (const date of this.#daysInRange(symbol, range)) {
      const cols = await this.#readRange(symbol, date, range);
      if (cols.length > 0) yield cols;
    }
  }

  /**
   * Replays many symbols as one stream ordered by open time (k-way merge); bars with equal open times
   * come in the order of `symbols`. Each yielded batch is freshly allocated.
   * @throws DataError InvalidInput for an empty, duplicated or unknown symbol list
   */
  async *replay(symbols: readonly string[], options: ReplayOptions = {}): AsyncIterable<MergedBatch> {
    const batchSize = options.batchSize ?? 8192;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new DataError('InvalidInput', `batchSize ${batchSize} must be a positive integer`);
    if (symbols.length === 0) throw new DataError('InvalidInput', 'replay needs at least one symbol');
    if (new Set(symbols).size !== symbols.length) throw new DataError('InvalidInput', `replay symbols contain duplicates: ${symbols.join(', ')}`);
    const syms = [...symbols];
    const k = syms.length;
    const timeframes: Timeframe[] = syms.map((s) => {
      const tf = this.timeframeOf(s);
      if (tf === undefined) throw new DataError('FileNotFound', `no bars for ${s} in ${this.dir}`);
      return tf;
    });
    const daySets = syms.map((s) => new Set(this.#daysInRange(s, options)));
    const allDays = [...new Set(daySets.flatMap((d) => [...d]))].sort();

    const merge = new DayMerge(k);
    let out = newBatch(syms, timeframes, batchSize);
    let fill = 0;
    const load = (date: string) => Promise.all(syms.map((s, j) => ((daySets[j] as Set<string>).has(date) ? this.#readRange(s, date, options) : undefined)));
    // the next day's files load while this day's bars are consumed
    let next = allDays.length > 0 ? load(allDays[0] as string) : undefined;
    for (let d = 0; d < allDays.length; d++) {
      const date = allDays[d] as string;
      const loaded = await (next as ReturnType<typeof load>);
      next = d + 1 < allDays.length ? load(allDays[d + 1] as string) : undefined;
      // a rejected prefetch is rethrown when awaited; keep it from being reported as unhandled meanwhile
      next?.catch(() => undefined);
      merge.start(loaded, utcDayStartNs(date));
      for (;;) {
        fill = merge.fill(out, fill);
        if (fill < batchSize) break;
        yield out;
        out = newBatch(syms, timeframes, batchSize);
        fill = 0;
      }
    }
    if (fill > 0) yield trimBatch(out, fill);
  }

  /** Runs SQL over the store with DuckDB; the view `bars` has one row per stored bar. @throws DataError QueryFailed */
  async sql(query: string): Promise<SqlResult> {
    return querySql(this, query);
  }
}
