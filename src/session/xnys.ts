import { civilFromDays, daysFromCivil, easterSunday, nthWeekday, parseDate, weekday } from './civil.js';
import { RuleCalendar, resolvePhaseConfig, type LocalHours } from './calendar.js';
import type { PhaseConfig } from './types.js';

/** NYSE phase defaults: warm-up 15 min, EOD warning 30 min, liquidation 1 min, extended hours 04:00-20:00. */
export const XNYS_PHASES: PhaseConfig = Object.freeze({
  warmupMinutes: 15,
  eodWarningMinutes: 30,
  eodLiquidationMinutes: 1,
  preMarketStart: '04:00',
  afterHoursEnd: '20:00',
});

/** Unscheduled full-day closures since 1990 (weather, national days of mourning, 9/11). */
export const XNYS_SPECIAL_CLOSURES: readonly string[] = Object.freeze([
  '1994-04-27', // Nixon funeral
  '2001-09-11',
  '2001-09-12',
  '2001-09-13',
  '2001-09-14', // September 11
  '2004-06-11', // Reagan funeral
  '2007-01-02', // Ford funeral
  '2012-10-29',
  '2012-10-30', // Hurricane Sandy
  '2018-12-05', // G. H. W. Bush funeral
  '2025-01-09', // Carter funeral
]);

/** Unscheduled 13:00 closes since 1990 that no rule covers. */
const SPECIAL_EARLY_CLOSES = new Set(['1997-12-26', '1999-12-31', '2003-12-26'].map(parseDate));
const SPECIAL_CLOSURES = new Set(XNYS_SPECIAL_CLOSURES.map(parseDate));

const OPEN = 9 * 60 + 30;
const CLOSE = 16 * 60;
const ONE_PM = 13 * 60;
const TWO_PM = 14 * 60;

/** Saturday holidays move to Friday, Sunday ones to Monday. */
function observed(days: number): number {
  const wd = weekday(days);
  return wd === 6 ? days - 1 : wd === 0 ? days + 1 : days;
}

/** NYSE full-day holidays of a year by rule (1990 onwards), plus the special closures. */
export function xnysHolidays(year: number): Set<number> {
  const h = new Set<number>();
  const ny = daysFromCivil(year, 1, 1);
  // New Year's Day on a Saturday is not moved to the Friday before (NYSE rule 7.2)
  if (weekday(ny) !== 6) h.add(observed(ny));
  if (year >= 1998) h.add(nthWeekday(year, 1, 1, 3));
  h.add(nthWeekday(year, 2, 1, 3));
  h.add(easterSunday(year) - 2);
  h.add(nthWeekday(year, 5, 1, -1));
  if (year >= 2022) h.add(observed(daysFromCivil(year, 6, 19)));
  h.add(observed(daysFromCivil(year, 7, 4)));
  h.add(nthWeekday(year, 9, 1, 1));
  h.add(nthWeekday(year, 11, 4, 4));
  h.add(observed(daysFromCivil(year, 12, 25)));
  for (const d of SPECIAL_CLOSURES) h.add(d);
  return h;
}

/** 13:00 (14:00 before 1993) early closes by rule; `days` is a known trading day. */
function earlyClose(year: number, days: number): number | undefined {
  if (SPECIAL_EARLY_CLOSES.has(days)) return ONE_PM;
  const wd = weekday(days);
  const july3 = daysFromCivil(year, 7, 3);
  // July 3 on Mon/Tue/Thu since 1995, on Wednesday too since 2013; Friday July 5 after a Thursday July 4 in 1995-2012
  if (days === july3 && year >= 1995 && (wd === 1 || wd === 2 || wd === 4 || (wd === 3 && year >= 2013))) return ONE_PM;
  if (days === july3 + 2 && wd === 5 && year >= 1995 && year <= 2012) return ONE_PM;
  if (days === nthWeekday(year, 11, 4, 4) + 1 && year >= 1992) return year >= 1993 ? ONE_PM : TWO_PM;
  if (days === daysFromCivil(year, 12, 24) && wd >= 1 && wd <= 4) return year >= 1993 ? ONE_PM : TWO_PM;
  return undefined;
}

/**
 * New York Stock Exchange: 09:30-16:00 America/New_York, holidays by rule (observed dates, Good
 * Friday, MLK from 1998, Juneteenth from 2022), special closures and early closes; correct from 1990
 * (checked against exchange_calendars and pandas_market_calendars); closures announced after
 * 2025-01-09 are not known. Known years 1990..2099.
 */
export class XnysCalendar extends RuleCalendar {
  readonly id = 'XNYS';
  readonly #holidays = new Map<number, Set<number>>();

  /** @throws SessionError InvalidConfig */
  constructor(phases: Partial<PhaseConfig> = {}) {
    super('America/New_York', resolvePhaseConfig('XNYS', XNYS_PHASES, phases), 1990, 2099);
  }

  protected hoursOn(days: number): LocalHours | undefined {
    const wd = weekday(days);
    if (wd === 0 || wd === 6) return undefined;
    const year = civilFromDays(days)[0];
    let hol = this.#holidays.get(year);
    if (hol === undefined) {
      hol = xnysHolidays(year);
      this.#holidays.set(year, hol);
    }
    if (hol.has(days)) return undefined;
    const early = earlyClose(year, days);
    return { open: OPEN, close: early ?? CLOSE, breaks: [], earlyClose: early !== undefined };
  }
}
