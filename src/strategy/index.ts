export * from './types.js';
export * from './sma-cross.js';
export * from './vwap-reversion.js';
export * from './registry.js';
