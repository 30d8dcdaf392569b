export * from './errors.js';
export * from './types.js';
export { daysFromCivil, civilFromDays, formatDate, parseDate, weekday, zoneOffsetMs, localToEpochMs, localDayOf } from './civil.js';
export { RuleCalendar, resolvePhaseConfig, type LocalHours } from './calendar.js';
export * from './xnys.js';
export * from './xshg.js';
export * from './always-open.js';
export * from './registry.js';
