export * from './errors.js';
export * from './canonical.js';
export * from './entry.js';
export * from './trail.js';
export * from './sqlite-sink.js';
export * from './verify.js';
export * from './run-dir.js';
