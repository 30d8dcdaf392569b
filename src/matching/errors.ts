import { AxonError } from '../core/errors.js';

/**
 * Stable codes of the backtest module: `Matching` (L1/L2 matching: order not found, invalid price,
 * quantity, side), `MatchingL3` (multi-asset: asset not registered, invalid cross-asset parameters),
 * `BuilderIncomplete` (a builder asked to build with a required part missing, hftbacktest's shape).
 */
export type BacktestErrorCode = 'Matching' | 'MatchingL3' | 'BuilderIncomplete';

/** Error of the matching engines and the event-driven backtest; `args` is `[code, "[Code] text"]`. */
export class BacktestError extends AxonError<BacktestErrorCode> {
  override readonly name = 'BacktestError';
}
