import { AxonError } from '../core/errors.js';

/** Stable error codes of the analytics module. */
export type AnalyticsErrorCode = 'InvalidEquity' | 'InvalidTrade' | 'InvalidOption';

/** Error raised by the analytics functions on malformed input; the message names the field and index. */
export class AnalyticsError extends AxonError<AnalyticsErrorCode> {
  override readonly name = 'AnalyticsError';
}
