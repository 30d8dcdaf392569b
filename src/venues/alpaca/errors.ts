import { AxonError } from '../../core/errors.js';

/** Stable error codes of the Alpaca adapter. */
export type AlpacaErrorCode =
  | 'MissingCredentials'
  | 'InvalidConfig'
  | 'NotConnected'
  | 'UnknownOutcome'
  | 'CircuitOpen'
  | 'RateLimited'
  | 'Unauthorized'
  | 'InsufficientBuyingPower'
  | 'OrderNotFound'
  | 'InvalidOrder'
  | 'DuplicateClientOrderId'
  | 'NotCancelable'
  | 'VenueUnavailable'
  | 'Timeout'
  | 'NetworkError'
  | 'InvalidResponse'
  | 'StreamError';

/**
 * Error raised by the Alpaca adapter. REST refusals carry Alpaca's own message; `status` is the HTTP
 * status when there was one. Messages never contain credentials.
 */
export class AlpacaError extends AxonError<AlpacaErrorCode> {
  override readonly name = 'AlpacaError';
  /** HTTP status of the answer that caused it, when there was one. */
  readonly status: number | undefined;

  constructor(code: AlpacaErrorCode, detail: string, options?: { cause?: unknown; status?: number }) {
    super(code, detail, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = options?.status;
  }
}

/** Codes that are Alpaca's definitive refusal of a request (it was not carried out). */
export const REFUSAL_CODES: ReadonlySet<AlpacaErrorCode> = new Set<AlpacaErrorCode>([
  'InsufficientBuyingPower',
  'OrderNotFound',
  'InvalidOrder',
  'DuplicateClientOrderId',
  'NotCancelable',
]);
