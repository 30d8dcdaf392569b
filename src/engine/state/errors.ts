import { AxonError } from '../../core/errors.js';

/** Stable error codes of the engine's state store. */
export type StateErrorCode =
  | 'CheckpointCorrupt'
  | 'CheckpointMissing'
  | 'ConfigMismatch'
  | 'SchemaMismatch'
  | 'DuplicateIntent'
  | 'IntentNotFound'
  | 'FillConflict'
  | 'InvalidState'
  | 'InvalidArgument'
  | 'StoreFailed';

/** Error raised by the state store (state.sqlite) and its checkpoint encoding. */
export class StateError extends AxonError<StateErrorCode> {
  override readonly name = 'StateError';
  /** CLI exit code: a store that cannot be used as it is, is bad input to the run (src/cli/main.ts maps it). */
  readonly exitCode = 2;
}
