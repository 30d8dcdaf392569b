export * from './venue.js';
export * from './alpaca/index.js';
