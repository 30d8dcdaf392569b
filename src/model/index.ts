export * from './instrument.js';
export * from './bar.js';
