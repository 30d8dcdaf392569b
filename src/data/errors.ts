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
}
