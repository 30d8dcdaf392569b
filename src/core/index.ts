export * from './errors.js';
export * from './decimal.js';
export * from './money.js';
export * from './ids.js';
export * from './clock.js';
export * from './rng.js';
export * from './schema.js';
export { frozenData, isFrozenData } from './frozen.js';
