import { parseDate, weekday } from './civil.js';
import { RuleCalendar, resolvePhaseConfig, type LocalHours } from './calendar.js';
import type { PhaseConfig } from './types.js';

/** Shanghai phase defaults: warm-up 15 min, EOD warning 30 min, liquidation 1 min, no extended hours. */
export const XSHG_PHASES: PhaseConfig = Object.freeze({
  warmupMinutes: 15,
  eodWarningMinutes: 30,
  eodLiquidationMinutes: 1,
  preMarketStart: null,
  afterHoursEnd: null,
});

/** SSE weekday closures of 2024 (the exchange's published holiday notice). */
export const XSHG_HOLIDAYS_2024: readonly string[] = Object.freeze([
  '2024-01-01', // New Year
  '2024-02-09',
  '2024-02-12',
  '2024-02-13',
  '2024-02-14',
  '2024-02-15',
  '2024-02-16', // Spring Festival
  '2024-04-04',
  '2024-04-05', // Qingming
  '2024-05-01',
  '2024-05-02',
  '2024-05-03', // Labour Day
  '2024-06-10', // Dragon Boat
  '2024-09-16',
  '2024-09-17', // Mid-Autumn
  '2024-10-01',
  '2024-10-02',
  '2024-10-03',
  '2024-10-04',
  '2024-10-07', // National Day
]);

const HOLIDAYS = new Set(XSHG_HOLIDAYS_2024.map(parseDate));

/**
 * Shanghai Stock Exchange: 09:30-11:30 and 13:00-15:00 Asia/Shanghai with the lunch as a BREAK,
 * weekends closed. Only the 2024 holiday list is bundled, so the calendar refuses other years.
 */
export class XshgCalendar extends RuleCalendar {
  readonly id = 'XSHG';

  /** @throws SessionError InvalidConfig */
  constructor(phases: Partial<PhaseConfig> = {}) {
    super('Asia/Shanghai', resolvePhaseConfig('XSHG', XSHG_PHASES, phases), 2024, 2024);
  }

  protected hoursOn(days: number): LocalHours | undefined {
    const wd = weekday(days);
    if (wd === 0 || wd === 6 || HOLIDAYS.has(days)) return undefined;
    return { open: 9 * 60 + 30, close: 15 * 60, breaks: [[11 * 60 + 30, 13 * 60]], earlyClose: false };
  }
}
