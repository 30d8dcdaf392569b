export * from './instrument.js';
export * from './bar.js';
export * from './order.js';
