import { AlwaysOpenCalendar } from './always-open.js';
import { SessionError } from './errors.js';
import type { PhaseConfig, SessionCalendar } from './types.js';
import { XnysCalendar } from './xnys.js';
import { XshgCalendar } from './xshg.js';

const FACTORIES: Record<string, (phases: Partial<PhaseConfig>) => SessionCalendar> = {
  XNYS: (p) => new XnysCalendar(p),
  NYSE: (p) => new XnysCalendar(p),
  XSHG: (p) => new XshgCalendar(p),
  SSE: (p) => new XshgCalendar(p),
  '24/7': (p) => new AlwaysOpenCalendar(p),
  CRYPTO: (p) => new AlwaysOpenCalendar(p),
};

/** Ids `calendarFor` accepts (case-insensitive). */
export const CALENDAR_IDS: readonly string[] = Object.freeze(Object.keys(FACTORIES));

/**
 * A new calendar by id (`XNYS`/`NYSE`, `XSHG`/`SSE`, `24/7`/`CRYPTO`) with optional phase overrides.
 * @throws SessionError UnknownCalendar, InvalidConfig
 */
export function calendarFor(id: string, phases: Partial<PhaseConfig> = {}): SessionCalendar {
  const make = typeof id === 'string' ? FACTORIES[id.toUpperCase()] : undefined;
  if (make === undefined) throw new SessionError('UnknownCalendar', `unknown calendar ${JSON.stringify(id)} (known: ${CALENDAR_IDS.join(', ')})`);
  return make(phases);
}
