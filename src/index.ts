export * from './core/index.js';
export * from './model/index.js';
