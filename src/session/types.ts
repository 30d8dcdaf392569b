/** Phases of a trading day, as the engine gates on them. */
export const SessionPhase = {
  PRE_MARKET: 'PRE_MARKET',
  WARMUP: 'WARMUP',
  ACTIVE: 'ACTIVE',
  BREAK: 'BREAK',
  EOD_WARNING: 'EOD_WARNING',
  EOD_LIQUIDATION: 'EOD_LIQUIDATION',
  AFTER_HOURS: 'AFTER_HOURS',
  CLOSED: 'CLOSED',
} as const;

/** One of the {@link SessionPhase} values. */
export type SessionPhase = (typeof SessionPhase)[keyof typeof SessionPhase];

/** A pause inside a session, [startNs, endNs) epoch ns. */
export interface SessionBreak {
  readonly startNs: bigint;
  readonly endNs: bigint;
}

/** One trading session: regular hours [openNs, closeNs) epoch ns, its breaks and its extended hours. */
export interface Session {
  /** Local trading date `YYYY-MM-DD` in the calendar's time zone. */
  readonly date: string;
  readonly openNs: bigint;
  readonly closeNs: bigint;
  readonly breaks: readonly SessionBreak[];
  /** True when the session closes before the calendar's regular close. */
  readonly earlyClose: boolean;
  /** Start of pre-market (epoch ns), or null when the calendar has none. */
  readonly preMarketStartNs: bigint | null;
  /** End of after-hours (epoch ns), or null when the calendar has none. */
  readonly afterHoursEndNs: bigint | null;
}

/** How a session day is divided into phases; times in minutes, extended hours as local `HH:MM`. */
export interface PhaseConfig {
  /** WARMUP lasts this long after the open. */
  readonly warmupMinutes: number;
  /** EOD_WARNING starts this long before the close. */
  readonly eodWarningMinutes: number;
  /** EOD_LIQUIDATION starts this long before the close (<= eodWarningMinutes). */
  readonly eodLiquidationMinutes: number;
  /** Local start of PRE_MARKET, or null for none. */
  readonly preMarketStart: string | null;
  /** Local end of AFTER_HOURS, or null for none. */
  readonly afterHoursEnd: string | null;
}

/**
 * A venue's trading calendar. Intervals are half-open [start, end): at exactly the open the phase is
 * WARMUP (or ACTIVE), at exactly the close it is AFTER_HOURS (or CLOSED).
 */
export interface SessionCalendar {
  /** Registry id, e.g. `XNYS`. */
  readonly id: string;
  /** IANA time zone of the calendar's local dates and hours. */
  readonly timeZone: string;
  readonly phaseConfig: PhaseConfig;
  /** The session on a local date `YYYY-MM-DD`, or undefined on a non-trading day. @throws SessionError InvalidDate, OutOfRange */
  sessionOn(date: string): Session | undefined;
  /** The session whose [open, close) contains `ns` (breaks included), or undefined. @throws SessionError OutOfRange */
  sessionAt(ns: bigint): Session | undefined;
  /** True when the local date has a session. @throws SessionError InvalidDate, OutOfRange */
  isTradingDay(date: string): boolean;
  /** The first session that opens strictly after `ns`. @throws SessionError OutOfRange */
  nextSession(ns: bigint): Session;
  /** The phase at `ns` epoch ns; cheapest on a stream of increasing times. @throws SessionError OutOfRange */
  phaseAt(ns: bigint): SessionPhase;
}
