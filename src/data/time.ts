import { DataError } from './errors.js';

/** One UTC day in ns. */
export const DAY_NS = 86_400_000_000_000n;
const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of a civil date (proleptic Gregorian, Howard Hinnant's algorithm). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

/** `YYYY-MM-DD` of a day number since the epoch. */
export function civilFromDays(days: number): string {
  const d = new Date(days * DAY_MS);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
}

/** Floor division of epoch ns into UTC day number. */
export function utcDayNumber(ns: bigint): number {
  let q = ns / DAY_NS;
  if (ns < 0n && q * DAY_NS !== ns) q -= 1n;
  return Number(q);
}

/** UTC date `YYYY-MM-DD` of an instant in epoch ns (the bar store files bars by the UTC date of their open time). */
export function utcDate(ns: bigint): string {
  return civilFromDays(utcDayNumber(ns));
}

/** Epoch ns of 00:00 UTC on a `YYYY-MM-DD` date. */
export function utcDayStartNs(date: string): bigint {
  const y = Number(date.slice(0, 4));
  const m = Number(date.slice(5, 7));
  const d = Number(date.slice(8, 10));
  return BigInt(daysFromCivil(y, m, d)) * DAY_NS;
}

/**
 * Epoch ns as UTC ISO-8601 `YYYY-MM-DDTHH:MM:SSZ`; a sub-second part is printed only when non-zero,
 * with 3, 6 or 9 digits (the fewest that are exact).
 */
export function formatIsoUtc(ns: bigint): string {
  const day = utcDayNumber(ns);
  let rem = ns - BigInt(day) * DAY_NS;
  const sub = Number(rem % 1_000_000_000n);
  rem /= 1_000_000_000n;
  const secs = Number(rem);
  const hh = Math.floor(secs / 3600);
  const mm = Math.floor((secs % 3600) / 60);
  const ss = secs % 60;
  let frac = '';
  if (sub !== 0) {
    const digits = pad(sub, 9);
    frac = `.${sub % 1_000_000 === 0 ? digits.slice(0, 3) : sub % 1000 === 0 ? digits.slice(0, 6) : digits}`;
  }
  return `${civilFromDays(day)}T${pad(hh, 2)}:${pad(mm, 2)}:${pad(ss, 2)}${frac}Z`;
}

/**
 * Parses an ISO-8601 instant (`YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.fff…]]`, space or T, optional `Z` or
 * `±HH:MM`) to epoch ns; a value without zone is UTC. For CLI options like `--from`.
 * @throws DataError InvalidInput
 */
export function parseIsoInstant(text: string, what = 'time'): bigint {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(text.trim());
  if (m === null) throw new DataError('InvalidInput', `${what} ${JSON.stringify(text)} is not an ISO-8601 date or date-time`);
  const [, y, mo, d, hh = '0', mi = '0', ss = '0', frac = '', zone] = m;
  const mon = Number(mo);
  const day = Number(d);
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || Number(hh) > 23 || Number(mi) > 59 || Number(ss) > 59) {
    throw new DataError('InvalidInput', `${what} ${JSON.stringify(text)} has a field out of range`);
  }
  let offsetMin = 0;
  if (zone !== undefined && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    offsetMin = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
  }
  const secs = daysFromCivil(Number(y), mon, day) * 86400 + Number(hh) * 3600 + Number(mi) * 60 + Number(ss) - offsetMin * 60;
  return BigInt(secs) * 1_000_000_000n + BigInt(frac.padEnd(9, '0') || '0');
}

/**
 * Resolves the UTC offset of an IANA zone through Intl (DST-correct), cached per local day: a day whose
 * midnight and next midnight have the same offset is taken to have no transition inside it.
 */
export class ZoneResolver {
  readonly zone: string;
  readonly #fmt: Intl.DateTimeFormat;
  readonly #dayCache = new Map<number, number>();

  /** @throws DataError InvalidInput for an unknown zone */
  constructor(zone: string) {
    this.zone = zone;
    try {
      this.#fmt = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
        era: 'short',
      });
    } catch (e) {
      throw new DataError('InvalidInput', `unknown time zone ${JSON.stringify(zone)} (use an IANA name like America/New_York)`, { cause: e });
    }
  }

  /** Offset local - UTC in ms at a UTC instant given in epoch ms. */
  offsetAtUtcMs(utcMs: number): number {
    const parts = this.#fmt.formatToParts(new Date(utcMs));
    let y = 0;
    let mo = 0;
    let d = 0;
    let h = 0;
    let mi = 0;
    let s = 0;
    let bc = false;
    for (const p of parts) {
      switch (p.type) {
        case 'year':
          y = Number(p.value);
          break;
        case 'month':
          mo = Number(p.value);
          break;
        case 'day':
          d = Number(p.value);
          break;
        case 'hour':
          h = Number(p.value);
          break;
        case 'minute':
          mi = Number(p.value);
          break;
        case 'second':
          s = Number(p.value);
          break;
        case 'era':
          bc = p.value.startsWith('B');
          break;
        default:
      }
    }
    if (bc) y = 1 - y;
    const localMs = (daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * 1000;
    return localMs - (utcMs - (((utcMs % 1000) + 1000) % 1000));
  }

  /**
   * UTC candidates (epoch ms) for a local wall time in epoch-ms form: one normally, two in a fold
   * (earlier first), none in a gap.
   */
  localToUtcCandidates(localMs: number): number[] {
    const dayNum = Math.floor(localMs / DAY_MS);
    let cached = this.#dayCache.get(dayNum);
    if (cached === undefined) {
      const a = this.#offsetForLocal(dayNum * DAY_MS);
      const b = this.#offsetForLocal((dayNum + 1) * DAY_MS);
      cached = a === b ? a : Number.NaN;
      if (this.#dayCache.size > 100_000) this.#dayCache.clear();
      this.#dayCache.set(dayNum, cached);
    }
    if (!Number.isNaN(cached)) return [localMs - cached];
    const out: number[] = [];
    const offsets = new Set<number>();
    for (const probe of [localMs - 2 * DAY_MS, localMs, localMs + 2 * DAY_MS]) offsets.add(this.offsetAtUtcMs(probe));
    for (const off of offsets) {
      const utc = localMs - off;
      if (this.offsetAtUtcMs(utc) === off) out.push(utc);
    }
    return [...new Set(out)].sort((x, y) => x - y);
  }

  #offsetForLocal(localMs: number): number {
    const guess = this.offsetAtUtcMs(localMs);
    return this.offsetAtUtcMs(localMs - guess);
  }
}
