/** Stable error codes of the core layer. */
export type CoreErrorCode =
  | 'InvalidDecimal'
  | 'PrecisionExceeded'
  | 'CurrencyMismatch'
  | 'DivisionByZero'
  | 'NegativeQuantity'
  | 'Overflow'
  | 'InvalidIdentifier'
  | 'InvalidArgument'
  | 'InvalidInstrument'
  | 'InvalidBar'
  | 'ClockError';

/**
 * Base of every AXON error: a stable `code` from a closed set per module and the message `[Code] text`.
 * `args` mirrors the seed's `e.args`: `[code, message]`.
 */
export class AxonError<C extends string = string> extends Error {
  readonly code: C;
  readonly detail: string;
  override readonly name: string = 'AxonError';

  constructor(code: C, detail: string, options?: { cause?: unknown }) {
    super(`[${code}] ${detail}`, options);
    this.code = code;
    this.detail = detail;
  }

  /** The seed's `e.args`: the stable code, then the human-readable form. */
  get args(): readonly [C, string] {
    return [this.code, this.message];
  }
}

/** Error raised by the core value types and identifiers. */
export class CoreError extends AxonError<CoreErrorCode> {
  override readonly name = 'CoreError';
}

/** Result of a checked constructor: a value, or the error it would have thrown. */
export type Result<T, E extends Error = AxonError> = { ok: true; value: T } | { ok: false; error: E };

/** Runs `fn`, returning its value or the AxonError it threw as a Result; other errors propagate. */
export function attempt<T>(fn: () => T): Result<T> {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    if (e instanceof AxonError) return { ok: false, error: e };
    throw e;
  }
}
