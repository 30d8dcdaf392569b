export * from './errors.js';
export * from './columns.js';
export { encodeBarsParquet, decodeBarsParquet, barFileSummary } from './parquet.js';
export { BarStore, checkSymbol } from './store.js';
export type { BarStoreOptions, TimeRange, ReplayOptions, PlannedFile } from './store.js';
export type { SqlResult } from './sql.js';
export { ZoneResolver, formatIsoUtc, parseIsoInstant, utcDate, utcDayStartNs } from './time.js';
