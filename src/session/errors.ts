import { AxonError } from '../core/errors.js';

/** Stable error codes of the session module. */
export type SessionErrorCode = 'UnknownCalendar' | 'InvalidDate' | 'InvalidConfig' | 'OutOfRange';

/** Error raised by session calendars: unknown calendar, bad date or config, a date outside the calendar's known years. */
export class SessionError extends AxonError<SessionErrorCode> {
  override readonly name = 'SessionError';
}
