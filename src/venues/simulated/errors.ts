import { AxonError } from '../../core/errors.js';

/** Stable error codes of the simulated venue. */
export type SimulatedVenueErrorCode =
  | 'BuilderIncomplete'
  | 'InvalidConfig'
  | 'NotConnected'
  | 'UnknownInstrument'
  | 'BarOutOfOrder';

/** Error raised by the simulated venue and its builder (programming or configuration errors; order outcomes are events). */
export class SimulatedVenueError extends AxonError<SimulatedVenueErrorCode> {
  override readonly name = 'SimulatedVenueError';
}
