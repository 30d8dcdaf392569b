// axon-quant/backtest: matching engines and the event-driven backtest (the seed's axon_quant.backtest)
export * from './errors.js';
export * from './scale.js';
export * from './orders.js';
export { BUY, SELL, OrderBook, FillBuffer, type SideCode, type TifCode, type QueueLocation } from './order-book.js';
export * from './engines.js';
export * from './impact.js';
export * from './multi-asset.js';
export * from './backtest-engine.js';
export * from './depth-book.js';
export * from './binance.js';
export * from './hft-models.js';
export * from './passive-strategy.js';
