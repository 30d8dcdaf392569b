export * from './errors.js';
export * from './config.js';
export * from './result.js';
export * from './circuit-breaker.js';
export * from './inputs.js';
export * from './engine.js';
