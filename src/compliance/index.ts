export * from './errors.js';
export { canonicalize, decodeCanonical, encodeCanonical, sha256Hex, toCanonicalValue } from './canonical.js';
export type { CanonicalValue } from './canonical.js';
export * from './entry.js';
export * from './trail.js';
export * from './sqlite-sink.js';
export * from './verify.js';
export * from './run-dir.js';
