export * from './config.js';
export * from './engine.js';
export * from './backtest.js';
export * from './live.js';
export * from './run-files.js';
export * from './logger.js';
export * from './symbol-indicators.js';
export * from './state/index.js';
