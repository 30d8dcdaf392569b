export * from './errors.js';
export * from './models.js';
export * from './simulated-venue.js';
export * from './faulty-venue.js';
export { eventFromState, eventState, moneyState, type DecimalState, type MoneyState, type VenueEventState } from './state.js';
