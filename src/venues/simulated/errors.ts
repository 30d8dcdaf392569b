import { AxonError } from '../../core/errors.js';

/** Stable error codes of the simulated venue. */
export type SimulatedVenueErrorCode =
  | 'BuilderIncomplete'
  | 'InvalidConfig'
  | 'NotConnected'
  | 'UnknownInstrument'
  | 'BarOutOfOrder'
  | 'StateMismatch'
  | 'InvalidState'
  | 'Busy';

/**
 * Error raised by the simulated venue and its builder (programming or configuration errors; order outcomes are events).
 * Snapshots: `StateMismatch` when a state was taken from a differently configured venue, `InvalidState` when it is
 * malformed, `Busy` when snapshot or restore is called while events are being delivered.
 */
export class SimulatedVenueError extends AxonError<SimulatedVenueErrorCode> {
  override readonly name = 'SimulatedVenueError';
}
