export * from './protocol.js';
export * from './errors.js';
export * from './credentials.js';
export * from './resilience.js';
export * from './mapping.js';
export * from './rest.js';
export * from './socket.js';
export * from './alpaca-venue.js';
