export * from './errors.js';
export * from './render.js';
export { escapeHtml, jsonForScript, formatTimeNs, formatDurationNs, formatPercent, formatNumber } from './html.js';
export { aggregateCandles, aggregateLine, chooseBucketWidth, bucketStart, nsToSeconds } from './downsample.js';
export type { CandleColumns, LineColumns } from './downsample.js';
