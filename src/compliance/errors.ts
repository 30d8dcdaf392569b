import { AxonError } from '../core/errors.js';

/** Stable error codes of the compliance module: the seed's `ComplianceError` table plus the audit trail's own. */
export type ComplianceErrorCode =
  | 'InvalidTradeData'
  | 'ConcentrationLimitBreached'
  | 'LargeTradeThresholdExceeded'
  | 'AuditIntegrityFailed'
  | 'AuditMissing'
  | 'AuditConflict'
  | 'InvalidAuditEntry'
  | 'StorageError'
  | 'SerializationError'
  | 'ReportError'
  | 'RegulatorFormatError'
  | 'ConfigError';

// bad or tampered input (a run directory, a stored chain, a config): the CLI exits 2 for these
const INPUT_CODES: ReadonlySet<ComplianceErrorCode> = new Set<ComplianceErrorCode>(['InvalidTradeData', 'AuditIntegrityFailed', 'AuditMissing', 'ConfigError']);

/** Error raised by the compliance module; `exitCode` is 2 for bad or tampered input, 1 otherwise. */
export class ComplianceError extends AxonError<ComplianceErrorCode> {
  override readonly name = 'ComplianceError';
  readonly exitCode: 1 | 2;

  constructor(code: ComplianceErrorCode, detail: string, options?: { cause?: unknown }) {
    super(code, detail, options);
    this.exitCode = INPUT_CODES.has(code) ? 2 : 1;
  }
}
