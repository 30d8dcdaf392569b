/**
 * Per-symbol re-entry cooldown after a stop loss, counted in that symbol's bars, so a stopped-out
 * symbol cannot thrash back in.
 */
export class Cooldowns {
  readonly #bars: number;
  readonly #until = new Map<string, number>();

  constructor(barsAfterStop: number) {
    this.#bars = barsAfterStop;
  }

  /** Records a stop-loss exit on `symbol` at its bar number `barIndex`. */
  onStopLoss(symbol: string, barIndex: number): void {
    if (this.#bars > 0) this.#until.set(symbol, barIndex + this.#bars);
  }

  /** True while `symbol` may not re-enter at its bar number `barIndex`. */
  isCooling(symbol: string, barIndex: number): boolean {
    const until = this.#until.get(symbol);
    if (until === undefined) return false;
    if (barIndex > until) {
      this.#until.delete(symbol);
      return false;
    }
    return true;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.#until.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  restore(state: Record<string, number>): void {
    this.#until.clear();
    for (const [k, v] of Object.entries(state)) this.#until.set(k, v);
  }
}
