import { RuleCalendar, resolvePhaseConfig, type LocalHours } from './calendar.js';
import type { PhaseConfig } from './types.js';

/** 24/7 phase defaults: every instant ACTIVE (no warm-up, no EOD phases, no extended hours). */
export const ALWAYS_OPEN_PHASES: PhaseConfig = Object.freeze({
  warmupMinutes: 0,
  eodWarningMinutes: 0,
  eodLiquidationMinutes: 0,
  preMarketStart: null,
  afterHoursEnd: null,
});

const WHOLE_DAY: LocalHours = Object.freeze({ open: 0, close: 24 * 60, breaks: [], earlyClose: false });

/** Crypto 24/7: one session per UTC day [00:00, 24:00), every day a trading day; years 1970..2200. */
export class AlwaysOpenCalendar extends RuleCalendar {
  readonly id = '24/7';

  /** @throws SessionError InvalidConfig */
  constructor(phases: Partial<PhaseConfig> = {}) {
    super('UTC', resolvePhaseConfig('24/7', ALWAYS_OPEN_PHASES, phases), 1970, 2200);
  }

  protected hoursOn(): LocalHours {
    return WHOLE_DAY;
  }
}
