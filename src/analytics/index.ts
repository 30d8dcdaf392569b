export * from './types.js';
export * from './errors.js';
export * from './equity.js';
export * from './drawdown.js';
export * from './returns.js';
export * from './stats.js';
