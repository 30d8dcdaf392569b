export { startPaperServer, type PaperServer, type PaperServerOptions, type PushedBar } from './server.js';
export { PaperServerError, ApiError, type PaperServerErrorCode, type ApiErrorCode } from './errors.js';
export { parseFaultSpec, FaultInjector, NO_FAULTS, CHAOS_FAULTS, type FaultSpec } from './faults.js';
export { parseOrderBody, type ParsedOrder } from './order-request.js';
export { RateLimiter, type RateDecision } from './rate-limit.js';
export { PaperBroker, PAPER_VENUE_NAME, paperInstrument, type OrderMeta } from './broker.js';
export { PaperStateDb, PAPER_STATE_FORMAT } from './state-db.js';
