/**
 * What every streaming indicator offers besides its own `update(...)`: the last value (NaN until
 * ready), readiness, the number of updates seen, reset, and a JSON-serializable snapshot.
 */
export interface StreamingIndicator<S> {
  /** The latest output; NaN until the indicator is ready. */
  readonly value: number;
  /** True once enough inputs were seen for `value` to be defined. */
  readonly isReady: boolean;
  /** Number of updates since construction or the last reset. */
  readonly count: number;
  /** Forgets every input, as if newly constructed. */
  reset(): void;
  /** A plain JSON-serializable copy of the full state (ring buffers included). */
  snapshot(): S;
  /** Replaces the state with a snapshot taken from an indicator of the same parameters. @throws IndicatorError InvalidState */
  restore(state: S): void;
}
