import { AxonError } from '../../core/errors.js';

/** Stable error codes of the Alpaca paper venue server. */
export type PaperServerErrorCode = 'InvalidOption' | 'StateMismatch' | 'StateCorrupt' | 'InvalidBars' | 'Closed';

/**
 * Error raised by the paper venue server for bad options, a state file that does not fit the options,
 * bars it cannot show, and calls after close. REST clients never see it: they get Alpaca's `{code, message}`.
 */
export class PaperServerError extends AxonError<PaperServerErrorCode> {
  override readonly name = 'PaperServerError';
  /** Bad options and bad bars are input errors (CLI exit 2). */
  readonly exitCode: number;

  constructor(code: PaperServerErrorCode, detail: string, options?: { cause?: unknown }) {
    super(code, detail, options);
    this.exitCode = code === 'InvalidOption' || code === 'InvalidBars' || code === 'StateMismatch' ? 2 : 1;
  }
}

/** How a REST request failed, as Alpaca answers it (HTTP status and the body's `code`). */
export type ApiErrorCode = 'Unauthorized' | 'Forbidden' | 'NotFound' | 'MethodNotAllowed' | 'Unprocessable' | 'RateLimited' | 'Internal';

const STATUS: Record<ApiErrorCode, number> = {
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  Unprocessable: 422,
  RateLimited: 429,
  Internal: 500,
};

/** A REST request the server refuses; the HTTP layer turns it into `{code, message}` with `status`. */
export class ApiError extends AxonError<ApiErrorCode> {
  override readonly name = 'ApiError';
  readonly status: number;
  /** Alpaca's numeric error code (the body's `code`). */
  readonly alpacaCode: number;

  constructor(code: ApiErrorCode, detail: string) {
    super(code, detail);
    this.status = STATUS[code];
    this.alpacaCode = this.status * 100_000 + 10_000;
  }
}
