import { AxonError } from '../core/errors.js';

/** Stable error codes of the data layer. */
export type DataErrorCode =
  | 'InvalidData'
  | 'InvalidInput'
  | 'FileNotFound'
  | 'StoreCorrupt'
  | 'AppendOnlyViolation'
  | 'WriteFailed'
  | 'QueryFailed';

/** Error raised by the bar store, CSV import/export, the recorder and SQL over the store. */
export class DataError extends AxonError<DataErrorCode> {
  override readonly name = 'DataError';

  /** CLI exit code: 2 for bad input (data, arguments, missing files, append-order, SQL), 1 otherwise. */
  get exitCode(): number {
    return this.code === 'StoreCorrupt' || this.code === 'WriteFailed' ? 1 : 2;
  }
}
