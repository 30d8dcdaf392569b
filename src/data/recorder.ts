import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { barProblem, parseTimeframe } from '../model/bar.js';
import type { Timeframe } from '../model/bar.js';
import { allocColumns, sliceColumns } from './columns.js';
import type { BarColumns } from './columns.js';
import { DataError } from './errors.js';
import { checkSymbol } from './store.js';
import type { BarStore, PlannedFile } from './store.js';
import { DAY_NS, formatIsoUtc, utcDate } from './time.js';

/** Options of a BarRecorder. */
export interface BarRecorderOptions {
  /**
   * Append each bar to a per-symbol, per-day journal (`journal/<SYMBOL>/<YYYY-MM-DD>.<seq>.journal`) before
   * buffering it, so a process crash loses at most the bar being written (no fsync per bar: power loss
   * can lose what the OS had not written yet).
   */
  journal?: boolean;
  /**
   * Write sealed days with non-blocking file I/O (temp file, fsync when `fsync`, rename: still atomic)
   * instead of the store's synchronous commit, so file creation runs beside the caller's loop; days of
   * one symbol still land in order, different symbols' concurrently. Give the store's own fsync setting.
   */
  asyncWrites?: { fsync: boolean };
}

interface SymbolState {
  symbol: string;
  timeframe: Timeframe;
  dayStart: bigint;
  dayEnd: bigint;
  date: string;
  cols: BarColumns;
  n: number;
  last: bigint | undefined;
  fd: number | undefined;
  journalPath: string | undefined;
  /** the last write queued for this symbol (async writes: a symbol's days land in order) */
  writing: Promise<void>;
  /**
   * The symbol's stored days and timeframe: listed once when the symbol is first recorded, then kept
   * up to date by this recorder's own writes (it is the directory's only writer while it runs), so a
   * sealed day is planned without listing the directory or reading its first file again.
   */
  stored: { days: Set<string>; timeframe: Timeframe | undefined };
  /** a sealed day's buffers, handed back once its bytes are encoded: the next day fills them (no allocation per day) */
  spare: BarColumns | undefined;
}

const JOURNAL_MAGIC = 'axon-journal 1';

function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

function grow(cols: BarColumns, cap: number): BarColumns {
  const out = allocColumns(cols.symbol, cols.timeframe, cap);
  out.openTimeNs.set(cols.openTimeNs);
  out.closeTimeNs.set(cols.closeTimeNs);
  out.open.set(cols.open);
  out.high.set(cols.high);
  out.low.set(cols.low);
  out.close.set(cols.close);
  out.volume.set(cols.volume);
  return out;
}

/**
 * Stores raw bars as they arrive: `append` copies into typed-array buffers (optionally journaling each
 * bar first); full days are written to the store when a symbol's bars move to the next UTC day, and
 * everything buffered on `flush()`. Append-only: bars of a symbol must arrive in increasing open time.
 */
export class BarRecorder {
  readonly store: BarStore;
  readonly journal: boolean;
  readonly #async: { fsync: boolean } | undefined;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #states = new Map<string, SymbolState>();
  #lastState: SymbolState | undefined;
  #pending: Promise<void> = Promise.resolve();
  #unwritten = 0;

  /** Bars sealed into day files but not yet written (a caller that outruns the disk waits with `settle`). */
  get backlog(): number {
    return this.#unwritten;
  }

  /** Resolves once every sealed day is written; the error of a failed write is raised by the next append or flush. */
  async settle(): Promise<void> {
    await this.#pending;
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
  }
  #failure: unknown;

  constructor(store: BarStore, options: BarRecorderOptions = {}) {
    this.store = store;
    this.journal = options.journal ?? false;
    this.#async = options.asyncWrites;
  }

  /** Directory of the journals. */
  get journalDir(): string {
    return join(this.store.dir, 'journal');
  }

  /**
   * Records one bar (times in epoch ns, prices in quote currency).
   * @throws DataError InvalidData for an invalid or out-of-order bar, InvalidInput for a bad symbol or a changed timeframe
   */
  append(symbol: string, timeframe: Timeframe, openTimeNs: bigint, closeTimeNs: bigint, open: number, high: number, low: number, close: number, volume: number): void {
    if (this.#failure !== undefined) this.#rethrow();
    let st = this.#lastState;
    if (st === undefined || st.symbol !== symbol) {
      st = this.#states.get(symbol);
      if (st === undefined) st = this.#newState(symbol, timeframe, openTimeNs);
      this.#lastState = st;
    }
    if (st.timeframe !== timeframe) throw new DataError('InvalidInput', `${symbol} is recorded as ${st.timeframe} bars, got a ${timeframe} bar`);
    if (st.last !== undefined && openTimeNs <= st.last) {
      throw new DataError('InvalidData', `${symbol} bar at ${formatIsoUtc(openTimeNs)} is not after the previous bar at ${formatIsoUtc(st.last)}`);
    }
    if (closeTimeNs <= openTimeNs) throw new DataError('InvalidData', `${symbol} bar at ${formatIsoUtc(openTimeNs)} closes at or before it opens`);
    const problem = barProblem(open, high, low, close, volume);
    if (problem !== undefined) throw new DataError('InvalidData', `${symbol} bar at ${formatIsoUtc(openTimeNs)}: ${problem}`);
    if (openTimeNs >= st.dayEnd || openTimeNs < st.dayStart) this.#rollDay(st, openTimeNs);
    if (this.journal) {
      if (st.fd === undefined) st.fd = this.#openJournal(st);
      const body = `${openTimeNs} ${closeTimeNs} ${open} ${high} ${low} ${close} ${volume}`;
      writeSync(st.fd, `${body} ${fnv1a(body)}\n`);
    }
    let cols = st.cols;
    const i = st.n;
    if (i === cols.length) cols = st.cols = grow(cols, cols.length * 2);
    cols.openTimeNs[i] = openTimeNs;
    cols.closeTimeNs[i] = closeTimeNs;
    cols.open[i] = open;
    cols.high[i] = high;
    cols.low[i] = low;
    cols.close[i] = close;
    cols.volume[i] = volume;
    st.n = i + 1;
    st.last = openTimeNs;
  }

  /** Writes every buffered bar to the store (and removes the journals); resolves to the bars written. @throws DataError */
  async flush(): Promise<number> {
    let written = 0;
    for (const st of this.#states.values()) written += this.#seal(st);
    await this.settle();
    if (this.#failure !== undefined) this.#rethrow();
    return written + this.#sealedSinceFlush.splice(0).reduce((a, b) => a + b, 0);
  }

  /** Flushes and closes journal files. @throws DataError */
  async close(): Promise<void> {
    await this.flush();
    for (const st of this.#states.values()) {
      if (st.fd !== undefined) closeSync(st.fd);
      st.fd = undefined;
    }
  }

  /**
   * Turns journals left by a crash into Parquet: a torn last line is ignored, bars already in the store
   * (a crash after the Parquet rename) are skipped; resolves to the bars recovered. Call before appending.
   * @throws DataError StoreCorrupt for a damaged journal line that is not the last
   */
  async recover(): Promise<number> {
    const root = this.journalDir;
    if (!existsSync(root)) return 0;
    let recovered = 0;
    for (const symbol of readdirSync(root).sort()) {
      const dir = join(root, symbol);
      for (const name of readdirSync(dir).sort()) {
        if (!/^\d{4}-\d{2}-\d{2}\.\d+\.journal$/.test(name)) continue;
        const path = join(dir, name);
        const cols = parseJournal(path, symbol);
        const summary = this.store.daySummary(symbol, name.slice(0, 10));
        let start = 0;
        if (summary?.lastOpenTimeNs !== undefined) while (start < cols.length && (cols.openTimeNs[start] as bigint) <= summary.lastOpenTimeNs) start++;
        if (start < cols.length) {
          await this.store.write(sliceColumns(cols, start, cols.length));
          recovered += cols.length - start;
        }
        unlinkSync(path);
      }
    }
    return recovered;
  }

  readonly #sealedSinceFlush: number[] = [];
  #journalSeq = 0;

  #newState(symbol: string, timeframe: Timeframe, openTimeNs: bigint): SymbolState {
    checkSymbol(symbol);
    parseTimeframe(timeframe);
    const storedTimeframe = this.store.timeframeOf(symbol);
    if (storedTimeframe !== undefined && storedTimeframe !== timeframe) {
      throw new DataError('InvalidInput', `${symbol} is stored as ${storedTimeframe} bars; cannot record ${timeframe} bars`);
    }
    const st: SymbolState = {
      symbol,
      timeframe,
      dayStart: 0n,
      dayEnd: 0n,
      date: '',
      cols: allocColumns(symbol, timeframe, 1024),
      n: 0,
      last: undefined,
      fd: undefined,
      journalPath: undefined,
      writing: Promise.resolve(),
      stored: { days: new Set(this.store.days(symbol)), timeframe: storedTimeframe },
      spare: undefined,
    };
    this.#setDay(st, openTimeNs);
    this.#states.set(symbol, st);
    return st;
  }

  #setDay(st: SymbolState, openTimeNs: bigint): void {
    st.date = utcDate(openTimeNs);
    const start = (openTimeNs / DAY_NS) * DAY_NS;
    st.dayStart = openTimeNs < 0n && start !== openTimeNs ? start - DAY_NS : start;
    st.dayEnd = st.dayStart + DAY_NS;
  }

  #rollDay(st: SymbolState, openTimeNs: bigint): void {
    this.#sealedSinceFlush.push(this.#seal(st));
    this.#setDay(st, openTimeNs);
  }

  /** Queues the buffered bars of `st` for writing; returns how many. */
  #seal(st: SymbolState): number {
    const n = st.n;
    const fd = st.fd;
    st.fd = undefined;
    const journal = st.journalPath;
    st.journalPath = undefined;
    if (fd !== undefined) closeSync(fd);
    if (n === 0) {
      if (journal !== undefined) unlinkSync(journal);
      return 0;
    }
    const full = st.cols;
    const cols = sliceColumns(full, 0, n);
    st.cols = st.spare ?? allocColumns(st.symbol, st.timeframe, Math.max(1024, n));
    st.spare = undefined;
    st.n = 0;
    this.#unwritten += n;
    if (this.#async !== undefined) {
      this.#queueAsync(st, full, cols, n, journal);
      return n;
    }
    this.#pending = this.#pending.then(async () => {
      if (this.#failure !== undefined) return;
      try {
        const planned = await this.store.planWrite(cols, { stored: st.stored });
        st.spare = full; // encoded: the plan holds its own bytes
        await this.store.commit(planned);
        this.#wrote(st, planned, cols.timeframe);
        this.#unwritten -= n;
        if (journal !== undefined) unlinkSync(journal);
      } catch (e) {
        this.#failure = e;
      }
    });
    return n;
  }

  /**
   * Plans the day on the caller's thread once the symbol's previous day is written (planning reads the
   * symbol's directory), then writes it off-thread. A plan that replaces or spans files takes the store's
   * own all-or-nothing commit.
   */
  #queueAsync(st: SymbolState, full: BarColumns, cols: BarColumns, n: number, journal: string | undefined): void {
    const job = st.writing.then(async () => {
      if (this.#failure !== undefined) return;
      try {
        const planned = await this.store.planWrite(cols, { stored: st.stored });
        st.spare = full; // encoded: the plan holds its own bytes
        const one = planned[0];
        if (planned.length === 1 && one !== undefined && !one.replaces) await this.#writeNew(one, this.#async?.fsync === true);
        else await this.store.commit(planned);
        this.#wrote(st, planned, cols.timeframe);
        this.#unwritten -= n;
        if (journal !== undefined) await unlink(journal);
      } catch (e) {
        this.#failure ??= e;
      }
    });
    st.writing = job;
    this.#inFlight.add(job);
    void job.then(() => this.#inFlight.delete(job));
  }

  /** Records a landed write in the symbol's known stored days. */
  #wrote(st: SymbolState, planned: readonly PlannedFile[], timeframe: Timeframe): void {
    for (const f of planned) st.stored.days.add(f.date);
    if (planned.length > 0) st.stored.timeframe = timeframe;
  }

  #dirsMade = new Set<string>();

  /** A new day file: temp file in its directory (named as the store names its temps), optional fsync, rename. */
  async #writeNew(f: PlannedFile, fsync: boolean): Promise<void> {
    const dir = dirname(f.path);
    if (!this.#dirsMade.has(dir)) {
      mkdirSync(dir, { recursive: true });
      this.#dirsMade.add(dir);
    }
    this.#tempSeq += 1;
    const temp = join(dir, `.${basename(f.path)}.rec-${process.pid}-${this.#tempSeq}`);
    try {
      const fh = await open(temp, 'wx');
      try {
        await fh.writeFile(f.bytes);
        if (fsync) await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(temp, f.path);
    } catch (e) {
      await unlink(temp).catch(() => undefined);
      throw new DataError('WriteFailed', `could not write ${f.path}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    if (fsync) {
      const dh = await open(dir, 'r').catch(() => undefined);
      if (dh !== undefined) await dh.sync().catch(() => undefined).finally(() => dh.close());
    }
  }
  #tempSeq = 0;

  #openJournal(st: SymbolState): number {
    const dir = join(this.journalDir, st.symbol);
    mkdirSync(dir, { recursive: true });
    // a new file per sealed segment: a flush may still be writing (and then removing) the previous one
    let path: string;
    do {
      this.#journalSeq += 1;
      path = join(dir, `${st.date}.${String(this.#journalSeq).padStart(6, '0')}.journal`);
    } while (existsSync(path));
    const fd = openSync(path, 'wx');
    writeSync(fd, `${JOURNAL_MAGIC} ${st.symbol} ${st.timeframe}\n`);
    st.journalPath = path;
    return fd;
  }

  #rethrow(): never {
    const e = this.#failure;
    this.#failure = undefined;
    if (e instanceof DataError) throw e;
    throw new DataError('WriteFailed', `recording failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/** Reads a journal; a last line without its newline or checksum (torn by a crash) is ignored. @throws DataError StoreCorrupt */
export function parseJournal(path: string, symbol: string): BarColumns {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const head = lines[0] ?? '';
  const [magic1, magic2, sym, tf] = head.split(' ');
  if (`${magic1} ${magic2}` !== JOURNAL_MAGIC || sym !== symbol || tf === undefined || lines.length < 2) {
    if (lines.length === 1) return allocColumns(symbol, '1m', 0);
    throw new DataError('StoreCorrupt', `${path}:1: not a bar journal of ${symbol} (header ${JSON.stringify(head)})`);
  }
  const timeframe = parseTimeframe(tf);
  // the element after the last '\n' is '' for a complete file, or a torn line
  const body = lines.slice(1, -1);
  const cols = allocColumns(symbol, timeframe, body.length);
  let n = 0;
  body.forEach((line, k) => {
    const parts = line.split(' ');
    const sum = parts.pop();
    const content = parts.join(' ');
    if (parts.length !== 7 || sum !== fnv1a(content)) {
      throw new DataError('StoreCorrupt', `${path}:${k + 2}: damaged journal line ${JSON.stringify(line.slice(0, 80))}`);
    }
    cols.openTimeNs[n] = BigInt(parts[0] as string);
    cols.closeTimeNs[n] = BigInt(parts[1] as string);
    cols.open[n] = Number(parts[2]);
    cols.high[n] = Number(parts[3]);
    cols.low[n] = Number(parts[4]);
    cols.close[n] = Number(parts[5]);
    cols.volume[n] = Number(parts[6]);
    n++;
  });
  return sliceColumns(cols, 0, n);
}
