export * from './errors.js';
export * from './codec.js';
export * from './store.js';
export * from './series.js';
export * from './binary.js';
