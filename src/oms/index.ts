export * from './errors.js';
export * from './status.js';
export * from './transitions.js';
export * from './order.js';
export * from './portfolio.js';
export * from './manager.js';
export type { OrderType } from '../model/order.js';
