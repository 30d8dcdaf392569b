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

/** Exact powers of ten as float64 (10^22 is the largest). */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * @internal exported for tests. Parses `[+-]?digits[.digits]([eE][+-]?digits)?` in s[a, b) as JavaScript's Number() would, or NaN
 * when the text does not match. Fast path (Clinger): at most 2^53 - 1 as an integer mantissa and a
 * decimal exponent within ±22 are both exact, and one IEEE multiply or divide rounds correctly.
 */
export function parseDecimal(s: string, a: number, b: number): number {
  let i = a;
  let c = s.charCodeAt(i);
  const neg = c === 45;
  if (neg || c === 43) i++;
  let m = 0;
  let digits = 0;
  while (i < b) {
    c = s.charCodeAt(i);
    if (c < 48 || c > 57) break;
    m = m * 10 + (c - 48);
    digits++;
    i++;
  }
  let scale = 0;
  if (i < b && c === 46) {
    i++;
    while (i < b) {
      c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      m = m * 10 + (c - 48);
      digits++;
      scale++;
      i++;
    }
  }
  if (digits === 0) return Number.NaN;
  let exp = 0;
  if (i < b) {
    if (c !== 101 && c !== 69) return Number.NaN;
    i++;
    c = s.charCodeAt(i);
    const eneg = c === 45;
    if (i < b && (eneg || c === 43)) i++;
    let ed = 0;
    while (i < b) {
      c = s.charCodeAt(i);
      if (c < 48 || c > 57) return Number.NaN;
      if (exp < 100_000) exp = exp * 10 + (c - 48);
      ed++;
      i++;
    }
    if (ed === 0) return Number.NaN;
    if (eneg) exp = -exp;
  }
  // m grows monotonically: a final value below 2^53 means every step was exact
  const e10 = exp - scale;
  if (m <= Number.MAX_SAFE_INTEGER && e10 >= -22 && e10 <= 22) {
    const r = e10 < 0 ? m / (POW10[-e10] as number) : m * (POW10[e10] as number);
    return neg ? -r : r;
  }
  return Number(s.slice(a, b));
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

function inferTimeframe(ms: Float64Array, sub: Int32Array, n: number): Timeframe | undefined {
  const counts = new Map<number, number>();
  for (let i = 1; i < n; i++) {
    // exact below 2^53 ns; larger gaps are no timeframe and only need to count as such
    const g = ((ms[i] as number) - (ms[i - 1] as number)) * 1e6 + ((sub[i] as number) - (sub[i - 1] as number));
    counts.set(g, (counts.get(g) ?? 0) + 1);
  }
  let best: number | undefined;
  let bestCount = 0;
  for (const [g, c] of counts) {
    if (c > bestCount || (c === bestCount && best !== undefined && g < best)) {
      best = g;
      bestCount = c;
    }
  }
  if (best === undefined) return undefined;
  return TIMEFRAMES.find((tf) => Number(timeframeNs(tf)) === best);
}

function describeGap(ns: number): string {
  return `${ns / 1e9} s`;
}

const MS_SAFE_MIN = -9_223_372_036_854;
const MS_SAFE_MAX = 9_223_372_036_853;

/** Epoch ns of (ms, sub-ms ns) as a bigint (messages and edge checks only). */
function nsOf(ms: number, sub: number): bigint {
  return BigInt(ms) * 1_000_000n + BigInt(sub);
}

/** Whether ms * 1e6 + sub fits the int64 ns range used by the store (symmetric, like epoch input). */
function nsInRange(ms: number, sub: number): boolean {
  if (ms >= MS_SAFE_MIN && ms <= MS_SAFE_MAX) return true;
  if (!Number.isSafeInteger(ms)) return false;
  const ns = nsOf(ms, sub);
  return ns <= INT64_MAX && ns >= -INT64_MAX;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const TWO32 = 4294967296;

/**
 * Writes (ms[i] + addMs) * 1e6 + sub[i] into `out` through its int32 halves: exact integer float64
 * arithmetic (every partial product stays below 2^53), no bigint per value. Values must be in range.
 */
function setNs(out: BigInt64Array, ms: Float64Array, sub: Int32Array, addMs: number, n: number): void {
  if (!LITTLE_ENDIAN) {
    for (let i = 0; i < n; i++) out[i] = nsOf((ms[i] as number) + addMs, sub[i] as number);
    return;
  }
  const halves = new Int32Array(out.buffer, out.byteOffset, 2 * n);
  for (let i = 0; i < n; i++) {
    const m = (ms[i] as number) + addMs;
    const hi = Math.floor(m / TWO32);
    const low = (m - hi * TWO32) * 1e6 + (sub[i] as number);
    const carry = Math.floor(low / TWO32);
    halves[2 * i] = low - carry * TWO32;
    halves[2 * i + 1] = hi * 1e6 + carry;
  }
}

function grownF64(a: Float64Array<ArrayBuffer>, cap: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(cap);
  b.set(a);
  return b;
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
  // stamps as epoch ms (integral float64) plus the sub-ms ns: the scan never allocates a bigint
  let stampMs = new Float64Array(cap);
  let stampSub = new Int32Array(cap);
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
  const c0 = colIndex[0] as number;
  const c1 = colIndex[1] as number;
  const c2 = colIndex[2] as number;
  const c3 = colIndex[3] as number;
  const c4 = colIndex[4] as number;
  let kind: StampKind | undefined;
  let epochUnit = 1n;
  let hasPrev = false;
  let prevMs = 0;
  let prevSub = 0;
  let prevUtcMs = Number.NEGATIVE_INFINITY;
  // next comma at or after the scan position (len when there is none): keeps the field split linear
  let nextComma = -1;

  while (p < len) {
    let e = text.indexOf('\n', p);
    if (e < 0) e = len;
    line++;
    let lineEnd = e;
    if (lineEnd > p && text.charCodeAt(lineEnd - 1) === 13) lineEnd--;
    const lineStart = p;
    p = e + 1;
    if (lineEnd === lineStart) continue;
    let f = 0;
    let a = lineStart;
    for (;;) {
      if (nextComma < a) {
        nextComma = text.indexOf(',', a);
        if (nextComma < 0) nextComma = len;
      }
      const fieldEnd = nextComma < lineEnd ? nextComma : lineEnd;
      if (f <= nCols) {
        let s0 = a;
        let s1 = fieldEnd;
        while (s0 < s1 && text.charCodeAt(s0) === 32) s0++;
        while (s1 > s0 && text.charCodeAt(s1 - 1) === 32) s1--;
        starts[f] = s0;
        ends[f] = s1;
      }
      f++;
      if (fieldEnd === lineEnd) break;
      a = fieldEnd + 1;
    }
    if (f !== nCols) {
      if (f === 1 && ends[0] === starts[0]) continue;
      problem(line, 'row', `has ${f} fields, the header has ${nCols}`);
      continue;
    }
    if (n === cap) {
      cap *= 2;
      stampMs = grownF64(stampMs, cap);
      const s2 = new Int32Array(cap);
      s2.set(stampSub);
      stampSub = s2;
      const d2 = new Uint8Array(cap);
      d2.set(isDateOnly);
      isDateOnly = d2;
      const l2 = new Int32Array(cap);
      l2.set(lines);
      lines = l2;
      vals = vals.map((v) => grownF64(v, cap));
    }
    let bad = false;
    const o = parseDecimal(text, starts[c0] as number, ends[c0] as number);
    const h = parseDecimal(text, starts[c1] as number, ends[c1] as number);
    const l = parseDecimal(text, starts[c2] as number, ends[c2] as number);
    const c = parseDecimal(text, starts[c3] as number, ends[c3] as number);
    const v = parseDecimal(text, starts[c4] as number, ends[c4] as number);
    // valid syntax never parses to NaN (1e999 is Infinity, caught by barProblem)
    if (Number.isNaN(o) || Number.isNaN(h) || Number.isNaN(l) || Number.isNaN(c) || Number.isNaN(v)) {
      for (let k = 0; k < 5; k++) {
        const col = colIndex[k] as number;
        const s0 = starts[col] as number;
        const s1 = ends[col] as number;
        if (s0 === s1) problem(line, VALUE_NAMES[k] as string, 'is empty');
        else if (Number.isNaN(parseDecimal(text, s0, s1))) problem(line, VALUE_NAMES[k] as string, `is not a number: ${JSON.stringify(text.slice(s0, s1))}`);
      }
      bad = true;
    } else {
      (vals[0] as Float64Array)[n] = o;
      (vals[1] as Float64Array)[n] = h;
      (vals[2] as Float64Array)[n] = l;
      (vals[3] as Float64Array)[n] = c;
      (vals[4] as Float64Array)[n] = v;
      const pr = barProblem(o, h, l, c, v);
      if (pr !== undefined) {
        problem(line, pr.slice(0, pr.indexOf(' ')), pr);
        bad = true;
      }
    }
    // timestamp
    const t0 = starts[0] as number;
    const t1 = ends[0] as number;
    let ok = false;
    let ms = 0;
    let sub = 0;
    let dateOnly = false;
    if (kind === undefined) {
      if (t1 > t0 && /^-?\d+$/.test(text.slice(t0, t1))) kind = 'epoch';
      else kind = t1 - t0 === 10 ? 'date' : 'datetime';
    }
    if (kind === 'epoch') {
      const txt = text.slice(t0, t1);
      if (!/^-?\d{1,20}$/.test(txt)) problem(line, timeName, `is not an epoch integer like the first row: ${JSON.stringify(txt)}`);
      else {
        const raw = BigInt(txt);
        if (!hasPrev) epochUnit = epochUnitNs(raw);
        const ns = raw * epochUnit;
        if (ns > INT64_MAX || ns < -INT64_MAX) problem(line, timeName, `epoch value ${txt} is outside the representable range (int64 ns)`);
        else {
          let q = ns / 1_000_000n;
          if (ns < 0n && q * 1_000_000n !== ns) q -= 1n;
          ms = Number(q);
          sub = Number(ns - q * 1_000_000n);
          ok = true;
        }
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
            const cand = zone.localToUtcCandidates(isoLocalMs);
            if (cand.length === 0) {
              utcMs = Number.NaN;
              problem(line, timeName, `${JSON.stringify(text.slice(t0, t1))} does not exist in ${zone.zone} (skipped by a DST change)`);
            } else utcMs = cand.length === 2 && (cand[0] as number) <= prevUtcMs ? (cand[1] as number) : (cand[0] as number);
          }
          if (!Number.isNaN(utcMs)) {
            prevUtcMs = utcMs;
            if (!nsInRange(utcMs, isoSubNs)) problem(line, timeName, `${JSON.stringify(text.slice(t0, t1))} is outside the representable range (int64 ns: years 1677-2262)`);
            else {
              ms = utcMs;
              sub = isoSubNs;
              ok = true;
            }
          }
        }
      }
    }
    if (ok) {
      if (hasPrev && (ms < prevMs || (ms === prevMs && sub <= prevSub))) {
        const stamp = nsOf(ms, sub);
        const prevStamp = nsOf(prevMs, prevSub);
        problem(line, timeName, stamp === prevStamp ? `duplicates the previous row's timestamp ${formatIsoUtc(stamp)}` : `${formatIsoUtc(stamp)} is out of order (before the previous row's ${formatIsoUtc(prevStamp)})`);
        bad = true;
      }
      hasPrev = true;
      prevMs = ms;
      prevSub = sub;
    } else bad = true;
    if (bad) continue;
    stampMs[n] = ms;
    stampSub[n] = sub;
    isDateOnly[n] = dateOnly ? 1 : 0;
    lines[n] = line;
    n++;
  }
  if (total > 0) fail(file, problems, total);
  if (n === 0) throw new DataError('InvalidData', `${file}: no data rows after the header`);

  let timeframe = options.timeframe;
  const inferred = inferTimeframe(stampMs, stampSub, n);
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
  // every timeframe is a whole number of ms
  const tfMs = Number(timeframeNs(timeframe) / 1_000_000n);
  const bars = allocColumns(options.symbol, timeframe, n);
  const shiftMs = barTime === 'end' ? tfMs : 0;
  const openMs = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const om = isDateOnly[i] === 1 ? (stampMs[i] as number) : (stampMs[i] as number) - shiftMs;
    openMs[i] = om;
    const s = stampSub[i] as number;
    if (!nsInRange(om, s) || !nsInRange(om + tfMs, s)) problem(lines[i] as number, timeName, `a bar opening at ${om} ms since the epoch (${timeframe}) is outside the representable range (int64 ns)`);
  }
  if (total > 0) fail(file, problems, total);
  setNs(bars.openTimeNs, openMs, stampSub, 0, n);
  setNs(bars.closeTimeNs, openMs, stampSub, tfMs, n);
  bars.open.set((vals[0] as Float64Array).subarray(0, n));
  bars.high.set((vals[1] as Float64Array).subarray(0, n));
  bars.low.set((vals[2] as Float64Array).subarray(0, n));
  bars.close.set((vals[3] as Float64Array).subarray(0, n));
  bars.volume.set((vals[4] as Float64Array).subarray(0, n));
  if (timeframe !== '1d') {
    const tfNsNum = tfMs * 1e6;
    for (let i = 1; i < n; i++) {
      // exact while the gap is below 2^53 ns (104 days), far above any timeframe
      const gap = ((openMs[i] as number) - (openMs[i - 1] as number)) * 1e6 + ((stampSub[i] as number) - (stampSub[i - 1] as number));
      if (gap < tfNsNum) problem(lines[i] as number, timeName, `opens ${describeGap(gap)} after the previous bar, inside its ${timeframe} span`);
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
  const problems: RowProblem[] = [];
  let total = 0;
  const maxProblems = options.maxProblems ?? 20;
  const planned = await store.planWrite(bars, {
    source: path,
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
