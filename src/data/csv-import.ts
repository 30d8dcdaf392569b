import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { barProblem, parseTimeframe, timeframeNs } from '../model/bar.js';
import type { Timeframe } from '../model/bar.js';
import { allocColumns } from './columns.js';
import type { BarColumns } from './columns.js';
import { DataError } from './errors.js';
import type { BarStore } from './store.js';
import { checkSymbol } from './store.js';
import { daysFromCivil, formatIsoUtc, ZoneResolver } from './time.js';

/** Whether a row's timestamp is the bar's open (`start`) or its close (`end`). */
export type BarTime = 'start' | 'end';

/** Options of parseBarsCsv. */
export interface CsvParseOptions {
  symbol: string;
  /** IANA zone of timestamps without a zone (default UTC) */
  tz?: string;
  /** default 'start' */
  barTime?: BarTime;
  /** inferred from the most common gap when absent; must agree with it when given */
  timeframe?: Timeframe;
  /** name used in messages (default 'input') */
  file?: string;
  /** at most this many problems are listed in an InvalidData error (default 20) */
  maxProblems?: number;
}

/** Options of importCsv. */
export interface ImportOptions extends Omit<CsvParseOptions, 'file'> {
  store: BarStore;
}

/** What an import wrote. */
export interface ImportResult {
  file: string;
  symbol: string;
  timeframe: Timeframe;
  bars: number;
  /** UTC dates of the day files written */
  days: string[];
  /** first and last bar open times, UTC ISO-8601 */
  first: string | undefined;
  last: string | undefined;
}

/** Parsed bars plus the 1-based file line number of each bar (for messages). */
export interface ParsedCsv {
  bars: BarColumns;
  lines: Int32Array;
}

const TIME_NAMES = new Set(['datetime', 'timestamp', 'date']);
const VALUE_NAMES = ['open', 'high', 'low', 'close', 'volume'] as const;
const TIMEFRAMES: Timeframe[] = ['1s', '1m', '5m', '15m', '30m', '1h', '1d'];
const INT64_MAX = 9_223_372_036_854_775_807n;
const UTC_ZONES = new Set(['UTC', 'Etc/UTC', 'Z', 'GMT', 'Etc/GMT']);

/** One problem found in an input row. */
export interface RowProblem {
  line: number;
  field: string;
  problem: string;
}

function fail(file: string, problems: RowProblem[], total: number): never {
  const shown = problems.map((p) => `  ${file}:${p.line} field ${p.field}: ${p.problem}`).join('\n');
  const more = total > problems.length ? `\n  ... and ${total - problems.length} more` : '';
  const head = problems[0] as RowProblem;
  throw new DataError(
    'InvalidData',
    `${file}: ${total} bad row${total === 1 ? '' : 's'}, nothing imported; first at row ${head.line}, field ${head.field}: ${head.problem}\n${shown}${more}`,
  );
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Checks `[+-]?digits[.digits]([eE][+-]?digits)?` over text[a, b). */
function isDecimal(s: string, a: number, b: number): boolean {
  let i = a;
  let c = s.charCodeAt(i);
  if (c === 43 || c === 45) i++;
  let digits = 0;
  while (i < b && isDigit(s.charCodeAt(i))) {
    i++;
    digits++;
  }
  if (i < b && s.charCodeAt(i) === 46) {
    i++;
    while (i < b && isDigit(s.charCodeAt(i))) {
      i++;
      digits++;
    }
  }
  if (digits === 0) return false;
  if (i < b) {
    c = s.charCodeAt(i);
    if (c !== 101 && c !== 69) return false;
    i++;
    c = s.charCodeAt(i);
    if (c === 43 || c === 45) i++;
    let e = 0;
    while (i < b && isDigit(s.charCodeAt(i))) {
      i++;
      e++;
    }
    if (e === 0) return false;
  }
  return i === b;
}

type StampKind = 'epoch' | 'date' | 'datetime';

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(y: number, m: number): number {
  if (m === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)) return 29;
  return MONTH_DAYS[m - 1] as number;
}

/** Result slots of parseIso (avoids an object per row). */
let isoLocalMs = 0;
let isoSubNs = 0;
let isoOffsetMin = Number.NaN;

function num(s: string, a: number, n: number): number {
  let v = 0;
  for (let i = a; i < a + n; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

/** Parses `YYYY-MM-DD[( |T)HH:MM[:SS[.f…]]][Z|±HH[:]MM]` in s[a, b); returns a problem or undefined. */
function parseIso(s: string, a: number, b: number): string | undefined {
  if (b - a < 10 || s.charCodeAt(a + 4) !== 45 || s.charCodeAt(a + 7) !== 45) return 'is not a date-time';
  const y = num(s, a, 4);
  const mo = num(s, a + 5, 2);
  const d = num(s, a + 8, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31) return 'is not a valid date';
  if (d > daysInMonth(y, mo)) return 'is not a valid date';
  let h = 0;
  let mi = 0;
  let sec = 0;
  let sub = 0;
  let i = a + 10;
  isoOffsetMin = Number.NaN;
  if (i < b) {
    const sep = s.charCodeAt(i);
    if (sep !== 84 && sep !== 32 && sep !== 116) return 'is not a date-time';
    if (b - i < 6 || s.charCodeAt(i + 3) !== 58) return 'is not a date-time';
    h = num(s, i + 1, 2);
    mi = num(s, i + 4, 2);
    i += 6;
    if (i < b && s.charCodeAt(i) === 58) {
      sec = num(s, i + 1, 2);
      i += 3;
      if (i < b && s.charCodeAt(i) === 46) {
        i++;
        let digits = 0;
        while (i < b && isDigit(s.charCodeAt(i))) {
          if (digits < 9) sub = sub * 10 + (s.charCodeAt(i) - 48);
          digits++;
          i++;
        }
        if (digits === 0 || digits > 9) return 'has a bad fractional second';
        for (let k = digits; k < 9; k++) sub *= 10;
      }
    }
    if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59) return 'has a time field out of range';
    if (i < b) {
      const z = s.charCodeAt(i);
      if ((z === 90 || z === 122) && i + 1 === b) isoOffsetMin = 0;
      else if (z === 43 || z === 45) {
        const oh = num(s, i + 1, 2);
        const rest = b - i - 3;
        const om = rest === 0 ? 0 : rest === 3 && s.charCodeAt(i + 3) === 58 ? num(s, i + 4, 2) : rest === 2 ? num(s, i + 3, 2) : -1;
        if (oh < 0 || om < 0 || oh > 23 || om > 59) return 'has a bad zone offset';
        isoOffsetMin = (z === 45 ? -1 : 1) * (oh * 60 + om);
      } else return 'has trailing characters';
    }
  }
  isoLocalMs = (daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) * 1000 + Math.floor(sub / 1_000_000);
  isoSubNs = sub % 1_000_000;
  return undefined;
}

/** Epoch unit by magnitude of the first value: |v| < 1e11 s, < 1e14 ms, < 1e17 µs, else ns. */
export function epochUnitNs(firstValue: bigint): bigint {
  const v = firstValue < 0n ? -firstValue : firstValue;
  if (v < 100_000_000_000n) return 1_000_000_000n;
  if (v < 100_000_000_000_000n) return 1_000_000n;
  if (v < 100_000_000_000_000_000n) return 1000n;
  return 1n;
}

function inferTimeframe(stamps: BigInt64Array, n: number): Timeframe | undefined {
  const counts = new Map<bigint, number>();
  for (let i = 1; i < n; i++) {
    const g = (stamps[i] as bigint) - (stamps[i - 1] as bigint);
    counts.set(g, (counts.get(g) ?? 0) + 1);
  }
  let best: bigint | undefined;
  let bestCount = 0;
  for (const [g, c] of counts) {
    if (c > bestCount || (c === bestCount && best !== undefined && g < best)) {
      best = g;
      bestCount = c;
    }
  }
  if (best === undefined) return undefined;
  return TIMEFRAMES.find((tf) => timeframeNs(tf) === best);
}

function describeGap(ns: bigint): string {
  return `${Number(ns) / 1e9} s`;
}

/**
 * Parses and validates OHLCV CSV text. Timestamps: ISO date-times (naive ones are in `tz`; in a DST
 * fold the earlier instant is used unless that would not come after the previous row, then the later;
 * a local time in a DST gap is a bad row), date-only (open at local midnight in `tz`, whatever
 * `barTime` says), or integer epoch seconds/ms/µs/ns (unit by the first value's magnitude, see
 * epochUnitNs). Every row is checked; any problem fails the whole parse.
 * @throws DataError InvalidData (bad rows, naming line and field), InvalidInput (header, timeframe, zone)
 */
export function parseBarsCsv(text: string, options: CsvParseOptions): ParsedCsv {
  const file = options.file ?? 'input';
  const barTime = options.barTime ?? 'start';
  if (barTime !== 'start' && barTime !== 'end') throw new DataError('InvalidInput', `bar time must be start or end, got ${JSON.stringify(barTime)}`);
  checkSymbol(options.symbol);
  const maxProblems = options.maxProblems ?? 20;
  const zone = options.tz === undefined || UTC_ZONES.has(options.tz) ? undefined : new ZoneResolver(options.tz);
  const len = text.length;
  let p = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 0;

  // header: first non-empty line
  let header: string[] | undefined;
  while (p < len && header === undefined) {
    let e = text.indexOf('\n', p);
    if (e < 0) e = len;
    line++;
    const raw = text.slice(p, e).replace(/\r$/, '');
    p = e + 1;
    if (raw.trim() === '') continue;
    header = raw.split(',').map((h) => h.trim().replace(/^"(.*)"$/, '$1').toLowerCase());
  }
  if (header === undefined) throw new DataError('InvalidData', `${file}: the file is empty (expected a header datetime,open,high,low,close,volume)`);
  const headerLine = line;
  const timeName = header[0] as string;
  if (!TIME_NAMES.has(timeName)) {
    const looksLikeData = header.length >= 6 && /^[\d-]/.test(timeName) && header.slice(1).every((h) => /^[-+.\d]/.test(h));
    throw new DataError(
      looksLikeData ? 'InvalidData' : 'InvalidInput',
      looksLikeData
        ? `${file}:${headerLine}: the header is missing; the first line must name the columns: datetime,open,high,low,close,volume`
        : `${file}:${headerLine}: the first column must be named datetime, timestamp or date, got ${JSON.stringify(timeName)}`,
    );
  }
  const colIndex = VALUE_NAMES.map((name) => header.indexOf(name));
  const missing = VALUE_NAMES.filter((_, k) => (colIndex[k] as number) < 0);
  if (missing.length > 0) throw new DataError('InvalidInput', `${file}:${headerLine}: the header lacks column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  const nCols = header.length;

  let cap = Math.max(16, Math.ceil(len / 48));
  let stamps = new BigInt64Array(cap);
  let isDateOnly = new Uint8Array(cap);
  let lines = new Int32Array(cap);
  let vals = VALUE_NAMES.map(() => new Float64Array(cap));
  let n = 0;
  const problems: RowProblem[] = [];
  let total = 0;
  const problem = (l: number, field: string, what: string): void => {
    total++;
    if (problems.length < maxProblems) problems.push({ line: l, field, problem: what });
  };
  const starts = new Int32Array(nCols + 1);
  const ends = new Int32Array(nCols + 1);
  let kind: StampKind | undefined;
  let epochUnit = 1n;
  let prevStamp: bigint | undefined;
  let prevUtcMs = Number.NEGATIVE_INFINITY;

  while (p < len) {
    let e = text.indexOf('\n', p);
    if (e < 0) e = len;
    line++;
    let lineEnd = e;
    if (lineEnd > p && text.charCodeAt(lineEnd - 1) === 13) lineEnd--;
    const lineStart = p;
    p = e + 1;
    if (lineEnd === lineStart) continue;
    // split on commas
    let f = 0;
    let a = lineStart;
    for (let i = lineStart; i <= lineEnd; i++) {
      if (i === lineEnd || text.charCodeAt(i) === 44) {
        if (f <= nCols) {
          let s0 = a;
          let s1 = i;
          while (s0 < s1 && text.charCodeAt(s0) === 32) s0++;
          while (s1 > s0 && text.charCodeAt(s1 - 1) === 32) s1--;
          starts[f] = s0;
          ends[f] = s1;
        }
        f++;
        a = i + 1;
      }
    }
    if (f !== nCols) {
      if (f === 1 && ends[0] === starts[0]) continue;
      problem(line, 'row', `has ${f} fields, the header has ${nCols}`);
      continue;
    }
    if (n === cap) {
      cap *= 2;
      const s2 = new BigInt64Array(cap);
      s2.set(stamps);
      stamps = s2;
      const d2 = new Uint8Array(cap);
      d2.set(isDateOnly);
      isDateOnly = d2;
      const l2 = new Int32Array(cap);
      l2.set(lines);
      lines = l2;
      vals = vals.map((v) => {
        const v2 = new Float64Array(cap);
        v2.set(v);
        return v2;
      });
    }
    let bad = false;
    // values
    for (let k = 0; k < 5; k++) {
      const c = colIndex[k] as number;
      const s0 = starts[c] as number;
      const s1 = ends[c] as number;
      if (s0 === s1) {
        problem(line, VALUE_NAMES[k] as string, 'is empty');
        bad = true;
      } else if (!isDecimal(text, s0, s1)) {
        problem(line, VALUE_NAMES[k] as string, `is not a number: ${JSON.stringify(text.slice(s0, s1))}`);
        bad = true;
      } else (vals[k] as Float64Array)[n] = Number(text.slice(s0, s1));
    }
    if (!bad) {
      const pr = barProblem(vals[0]![n]!, vals[1]![n]!, vals[2]![n]!, vals[3]![n]!, vals[4]![n]!);
      if (pr !== undefined) {
        problem(line, pr.slice(0, pr.indexOf(' ')), pr);
        bad = true;
      }
    }
    // timestamp
    const t0 = starts[0] as number;
    const t1 = ends[0] as number;
    let stamp: bigint | undefined;
    let dateOnly = false;
    if (kind === undefined) {
      if (t1 > t0 && /^-?\d+$/.test(text.slice(t0, t1))) kind = 'epoch';
      else kind = t1 - t0 === 10 ? 'date' : 'datetime';
    }
    if (kind === 'epoch') {
      const txt = text.slice(t0, t1);
      if (!/^-?\d{1,20}$/.test(txt)) problem(line, timeName, `is not an epoch integer like the first row: ${JSON.stringify(txt)}`);
      else {
        const v = BigInt(txt);
        if (prevStamp === undefined) epochUnit = epochUnitNs(v);
        const ns = v * epochUnit;
        if (ns > INT64_MAX || ns < -INT64_MAX) problem(line, timeName, `epoch value ${txt} is outside the representable range (int64 ns)`);
        else stamp = ns;
      }
    } else {
      const err = parseIso(text, t0, t1);
      if (err !== undefined) problem(line, timeName, `${JSON.stringify(text.slice(t0, t1))} ${err}`);
      else {
        dateOnly = t1 - t0 === 10;
        if ((kind === 'date') !== dateOnly) {
          problem(line, timeName, `${JSON.stringify(text.slice(t0, t1))} mixes date-only and date-time stamps`);
        } else {
          let utcMs: number;
          if (!Number.isNaN(isoOffsetMin)) utcMs = isoLocalMs - isoOffsetMin * 60_000;
          else if (zone === undefined) utcMs = isoLocalMs;
          else {
            const c = zone.localToUtcCandidates(isoLocalMs);
            if (c.length === 0) {
              utcMs = Number.NaN;
              problem(line, timeName, `${JSON.stringify(text.slice(t0, t1))} does not exist in ${zone.zone} (skipped by a DST change)`);
            } else utcMs = c.length === 2 && (c[0] as number) <= prevUtcMs ? (c[1] as number) : (c[0] as number);
          }
          if (!Number.isNaN(utcMs)) {
            prevUtcMs = utcMs;
            stamp = BigInt(utcMs) * 1_000_000n + BigInt(isoSubNs);
          }
        }
      }
    }
    if (stamp !== undefined) {
      if (prevStamp !== undefined && stamp <= prevStamp) {
        problem(line, timeName, stamp === prevStamp ? `duplicates the previous row's timestamp ${formatIsoUtc(stamp)}` : `${formatIsoUtc(stamp)} is out of order (before the previous row's ${formatIsoUtc(prevStamp)})`);
        bad = true;
      }
      prevStamp = stamp;
    } else bad = true;
    if (bad) continue;
    stamps[n] = stamp as bigint;
    isDateOnly[n] = dateOnly ? 1 : 0;
    lines[n] = line;
    n++;
  }
  if (total > 0) fail(file, problems, total);
  if (n === 0) throw new DataError('InvalidData', `${file}: no data rows after the header`);

  let timeframe = options.timeframe;
  const inferred = inferTimeframe(stamps, n);
  if (timeframe !== undefined) {
    parseTimeframe(timeframe);
    if (inferred !== undefined && inferred !== timeframe) {
      throw new DataError('InvalidInput', `${file}: timeframe ${timeframe} was given but the most common gap between rows says ${inferred}`);
    }
  } else if (inferred !== undefined) timeframe = inferred;
  else if (kind === 'date') timeframe = '1d';
  else {
    throw new DataError('InvalidInput', `${file}: cannot infer the timeframe from ${n === 1 ? 'a single row' : 'the gaps between rows'}; pass --timeframe`);
  }
  const tfNs = timeframeNs(timeframe);
  const bars = allocColumns(options.symbol, timeframe, n);
  const shift = barTime === 'end' ? tfNs : 0n;
  for (let i = 0; i < n; i++) {
    const open = isDateOnly[i] === 1 ? (stamps[i] as bigint) : (stamps[i] as bigint) - shift;
    bars.openTimeNs[i] = open;
    bars.closeTimeNs[i] = open + tfNs;
  }
  bars.open.set(vals[0]!.subarray(0, n));
  bars.high.set(vals[1]!.subarray(0, n));
  bars.low.set(vals[2]!.subarray(0, n));
  bars.close.set(vals[3]!.subarray(0, n));
  bars.volume.set(vals[4]!.subarray(0, n));
  if (timeframe !== '1d') {
    for (let i = 1; i < n; i++) {
      const gap = (bars.openTimeNs[i] as bigint) - (bars.openTimeNs[i - 1] as bigint);
      if (gap < tfNs) problem(lines[i] as number, timeName, `opens ${describeGap(gap)} after the previous bar, inside its ${timeframe} span`);
    }
    if (total > 0) fail(file, problems, total);
  }
  return { bars, lines: lines.subarray(0, n) };
}

/** Reads a file as text, gunzipping `.gz` (or gzip-magic) input. @throws DataError FileNotFound, InvalidData */
export function readTextFile(path: string): string {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new DataError('FileNotFound', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
  }
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf);
    } catch (e) {
      throw new DataError('InvalidData', `${path} is not a valid gzip file: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
  if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
  return buf.toString('latin1');
}

/**
 * Imports a CSV (or .csv.gz) file of one symbol's bars into the store: every row is validated, bars must
 * not overlap stored bars of the same UTC day, and all day files are committed together or not at all.
 * @throws DataError FileNotFound, InvalidData, InvalidInput, WriteFailed
 */
export async function importCsv(path: string, options: ImportOptions): Promise<ImportResult> {
  const text = readTextFile(path);
  const { bars, lines } = parseBarsCsv(text, { ...options, file: path });
  const store = options.store;
  const stored = store.timeframeOf(bars.symbol);
  if (stored !== undefined && stored !== bars.timeframe) {
    throw new DataError('InvalidInput', `${path}: ${bars.symbol} is stored as ${stored} bars, this file has ${bars.timeframe} bars`);
  }
  const problems: RowProblem[] = [];
  let total = 0;
  const maxProblems = options.maxProblems ?? 20;
  const planned = await store.planWrite(bars, {
    onOverlap: (i, date, last) => {
      total++;
      if (problems.length < maxProblems) {
        problems.push({
          line: lines[i] as number,
          field: 'datetime',
          problem: `bar opening ${formatIsoUtc(bars.openTimeNs[i] as bigint)} overlaps bars already in the store (${bars.symbol} ${date} has bars up to ${formatIsoUtc(last)})`,
        });
      }
    },
  });
  if (total > 0) fail(path, problems, total);
  await store.commit(planned);
  return {
    file: path,
    symbol: bars.symbol,
    timeframe: bars.timeframe,
    bars: bars.length,
    days: planned.map((f) => f.date),
    first: formatIsoUtc(bars.openTimeNs[0] as bigint),
    last: formatIsoUtc(bars.openTimeNs[bars.length - 1] as bigint),
  };
}
