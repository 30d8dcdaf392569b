import { civilFromDays, formatDate, localDayOf, localToEpochMs, parseDate } from './civil.js';
import { SessionError } from './errors.js';
import { SessionPhase, type PhaseConfig, type Session, type SessionBreak, type SessionCalendar } from './types.js';

/** Regular hours of one local day, in minutes after local midnight. */
export interface LocalHours {
  readonly open: number;
  readonly close: number;
  /** [start, end) minute pairs inside [open, close). */
  readonly breaks: readonly (readonly [number, number])[];
  readonly earlyClose: boolean;
}

const PHASE_KEYS = ['warmupMinutes', 'eodWarningMinutes', 'eodLiquidationMinutes', 'preMarketStart', 'afterHoursEnd'] as const;

/** Minutes after midnight of a local `HH:MM` (00:00..24:00), or undefined when malformed. */
export function parseHhMm(text: string): number | undefined {
  const m = /^(\d{2}):(\d{2})$/.exec(text);
  if (m === null) return undefined;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (min > 59 || h > 24 || (h === 24 && min !== 0)) return undefined;
  return h * 60 + min;
}

/**
 * Merges overrides into a calendar's default phase config, reporting every problem at once.
 * @throws SessionError InvalidConfig
 */
export function resolvePhaseConfig(id: string, defaults: PhaseConfig, overrides: Partial<PhaseConfig> = {}): PhaseConfig {
  const problems: string[] = [];
  if (typeof overrides !== 'object' || overrides === null) throw new SessionError('InvalidConfig', `${id}: phase config must be an object`);
  for (const k of Object.keys(overrides)) {
    if (!(PHASE_KEYS as readonly string[]).includes(k)) problems.push(`unknown key ${JSON.stringify(k)} (known: ${PHASE_KEYS.join(', ')})`);
  }
  const c = { ...defaults, ...overrides };
  for (const k of ['warmupMinutes', 'eodWarningMinutes', 'eodLiquidationMinutes'] as const) {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 1440) problems.push(`${k} must be an integer number of minutes in [0, 1440], got ${JSON.stringify(v)}`);
  }
  if (c.eodLiquidationMinutes > c.eodWarningMinutes) problems.push(`eodLiquidationMinutes ${c.eodLiquidationMinutes} must not exceed eodWarningMinutes ${c.eodWarningMinutes}`);
  for (const k of ['preMarketStart', 'afterHoursEnd'] as const) {
    const v = c[k];
    if (v !== null && (typeof v !== 'string' || parseHhMm(v) === undefined)) problems.push(`${k} must be a local time HH:MM or null, got ${JSON.stringify(v)}`);
  }
  if (problems.length > 0) throw new SessionError('InvalidConfig', `${id} phase config: ${problems.join('; ')}`);
  return Object.freeze(c);
}

const MS = 1_000_000n;

/**
 * A calendar built from a per-day rule (`hoursOn`) in one time zone: caches sessions per day and the
 * current day's phase boundaries, so `phaseAt` on increasing times is two bigint comparisons per call.
 * Sessions must lie within one local day.
 */
export abstract class RuleCalendar implements SessionCalendar {
  abstract readonly id: string;
  readonly timeZone: string;
  readonly phaseConfig: PhaseConfig;
  readonly firstYear: number;
  readonly lastYear: number;
  readonly #sessions = new Map<number, Session | null>();
  readonly #preMinutes: number | null;
  readonly #afterMinutes: number | null;
  #dayStart = 0n;
  #dayEnd = 0n;
  #bounds: bigint[] = [];
  #phases: SessionPhase[] = [];
  #segLo = 0n;
  #segHi = 0n;
  #segPhase: SessionPhase = SessionPhase.CLOSED;

  protected constructor(timeZone: string, phaseConfig: PhaseConfig, firstYear: number, lastYear: number) {
    this.timeZone = timeZone;
    this.phaseConfig = phaseConfig;
    this.firstYear = firstYear;
    this.lastYear = lastYear;
    this.#preMinutes = phaseConfig.preMarketStart === null ? null : (parseHhMm(phaseConfig.preMarketStart) as number);
    this.#afterMinutes = phaseConfig.afterHoursEnd === null ? null : (parseHhMm(phaseConfig.afterHoursEnd) as number);
  }

  /** Regular hours of a local day (day count since 1970-01-01), or undefined when it has no session. */
  protected abstract hoursOn(days: number): LocalHours | undefined;

  sessionOn(date: string): Session | undefined {
    return this.sessionForDay(parseDate(date));
  }

  isTradingDay(date: string): boolean {
    return this.sessionForDay(parseDate(date)) !== undefined;
  }

  sessionAt(ns: bigint): Session | undefined {
    const s = this.sessionForDay(this.#localDay(ns));
    return s !== undefined && ns >= s.openNs && ns < s.closeNs ? s : undefined;
  }

  nextSession(ns: bigint): Session {
    const start = this.#localDay(ns);
    for (let d = start; d <= start + 370; d++) {
      const s = this.sessionForDay(d);
      if (s !== undefined && s.openNs > ns) return s;
    }
    throw new SessionError('OutOfRange', `${this.id}: no session within a year after ${ns}`);
  }

  phaseAt(ns: bigint): SessionPhase {
    if (ns >= this.#segLo && ns < this.#segHi) return this.#segPhase;
    if (ns < this.#dayStart || ns >= this.#dayEnd) this.#buildDay(this.#localDay(ns));
    const b = this.#bounds;
    let i = 0;
    while (i + 1 < b.length && (b[i + 1] as bigint) <= ns) i++;
    this.#segLo = b[i] as bigint;
    this.#segHi = i + 1 < b.length ? (b[i + 1] as bigint) : this.#dayEnd;
    this.#segPhase = this.#phases[i] as SessionPhase;
    return this.#segPhase;
  }

  /** The session of a local day count, or undefined on a non-trading day. @throws SessionError OutOfRange */
  sessionForDay(days: number): Session | undefined {
    const hit = this.#sessions.get(days);
    if (hit !== undefined) return hit ?? undefined;
    const year = civilFromDays(days)[0];
    if (year < this.firstYear || year > this.lastYear) {
      throw new SessionError('OutOfRange', `${this.id}: ${formatDate(days)} is outside the calendar's known years ${this.firstYear}..${this.lastYear}`);
    }
    const h = this.hoursOn(days);
    const at = (minutes: number): bigint => BigInt(localToEpochMs(this.timeZone, days, minutes)) * MS;
    const s: Session | null =
      h === undefined
        ? null
        : Object.freeze({
            date: formatDate(days),
            openNs: at(h.open),
            closeNs: at(h.close),
            breaks: Object.freeze(h.breaks.map(([a, b]): SessionBreak => Object.freeze({ startNs: at(a), endNs: at(b) }))),
            earlyClose: h.earlyClose,
            preMarketStartNs: this.#preMinutes === null ? null : at(Math.min(this.#preMinutes, h.open)),
            afterHoursEndNs: this.#afterMinutes === null ? null : at(Math.max(this.#afterMinutes, h.close)),
          });
    this.#sessions.set(days, s);
    return s ?? undefined;
  }

  #localDay(ns: bigint): number {
    const ms = Number(ns / MS) - (ns < 0n && ns % MS !== 0n ? 1 : 0);
    return localDayOf(this.timeZone, ms);
  }

  #buildDay(days: number): void {
    const dayStart = BigInt(localToEpochMs(this.timeZone, days, 0)) * MS;
    const dayEnd = BigInt(localToEpochMs(this.timeZone, days + 1, 0)) * MS;
    const s = this.sessionForDay(days);
    const points = [dayStart];
    if (s !== undefined) {
      const cfg = this.phaseConfig;
      const min = 60_000_000_000n;
      points.push(s.openNs, s.closeNs, s.openNs + BigInt(cfg.warmupMinutes) * min, s.closeNs - BigInt(cfg.eodWarningMinutes) * min, s.closeNs - BigInt(cfg.eodLiquidationMinutes) * min);
      if (s.preMarketStartNs !== null) points.push(s.preMarketStartNs);
      if (s.afterHoursEndNs !== null) points.push(s.afterHoursEndNs);
      for (const br of s.breaks) points.push(br.startNs, br.endNs);
    }
    const sorted = [...new Set(points.filter((p) => p >= dayStart && p < dayEnd))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const bounds: bigint[] = [];
    const phases: SessionPhase[] = [];
    for (const p of sorted) {
      const ph = this.#classify(p, s);
      if (phases.length > 0 && phases[phases.length - 1] === ph) continue;
      bounds.push(p);
      phases.push(ph);
    }
    this.#dayStart = dayStart;
    this.#dayEnd = dayEnd;
    this.#bounds = bounds;
    this.#phases = phases;
    this.#segLo = this.#segHi = 0n;
  }

  #classify(t: bigint, s: Session | undefined): SessionPhase {
    if (s === undefined) return SessionPhase.CLOSED;
    if (t < s.openNs) return s.preMarketStartNs !== null && t >= s.preMarketStartNs ? SessionPhase.PRE_MARKET : SessionPhase.CLOSED;
    if (t >= s.closeNs) return s.afterHoursEndNs !== null && t < s.afterHoursEndNs ? SessionPhase.AFTER_HOURS : SessionPhase.CLOSED;
    for (const b of s.breaks) if (t >= b.startNs && t < b.endNs) return SessionPhase.BREAK;
    const min = 60_000_000_000n;
    const cfg = this.phaseConfig;
    if (t >= s.closeNs - BigInt(cfg.eodLiquidationMinutes) * min) return SessionPhase.EOD_LIQUIDATION;
    if (t >= s.closeNs - BigInt(cfg.eodWarningMinutes) * min) return SessionPhase.EOD_WARNING;
    if (t < s.openNs + BigInt(cfg.warmupMinutes) * min) return SessionPhase.WARMUP;
    return SessionPhase.ACTIVE;
  }
}
