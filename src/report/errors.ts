import { AxonError } from '../core/errors.js';

/** Stable error codes of the report module. */
export type ReportErrorCode = 'InvalidReportInput' | 'ChartLibraryMissing' | 'ReportWriteFailed';

/** Error raised while rendering or writing a report; the message names the input field and index. */
export class ReportError extends AxonError<ReportErrorCode> {
  override readonly name = 'ReportError';
}
