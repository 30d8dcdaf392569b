import { Ema, type EmaState } from './ema.js';
import { checkFinite, checkPeriod, enc, IndicatorError, StateReader } from './errors.js';
import type { StreamingIndicator } from './types.js';

/** Snapshot of a {@link Macd}. */
export interface MacdState {
  kind: 'macd';
  fastPeriod: number;
  slowPeriod: number;
  signalPeriod: number;
  count: number;
  fast: EmaState;
  slow: EmaState;
  signal: EmaState;
  macd: number | null;
}

/**
 * MACD as TA-Lib aligns it: slow EMA seeded with the mean of the first `slowPeriod` inputs, fast EMA
 * seeded with the mean of the `fastPeriod` inputs ending at the same bar, signal = EMA(signalPeriod)
 * of the MACD line; all three outputs appear together after slowPeriod + signalPeriod - 1 inputs.
 * `value` and `update` return the MACD line.
 */
export class Macd implements StreamingIndicator<MacdState> {
  readonly fastPeriod: number;
  readonly slowPeriod: number;
  readonly signalPeriod: number;
  readonly #fast: Ema;
  readonly #slow: Ema;
  readonly #signal: Ema;
  #count = 0;
  #macd = Number.NaN;
  #histogram = Number.NaN;

  /** @throws IndicatorError InvalidParameter when a period is bad or fast >= slow */
  constructor(fastPeriod = 12, slowPeriod = 26, signalPeriod = 9) {
    this.fastPeriod = checkPeriod('Macd fast', fastPeriod, 2);
    this.slowPeriod = checkPeriod('Macd slow', slowPeriod, 2);
    this.signalPeriod = checkPeriod('Macd signal', signalPeriod, 1);
    if (fastPeriod >= slowPeriod) throw new IndicatorError('InvalidParameter', `Macd: fast period ${fastPeriod} must be below slow period ${slowPeriod}`);
    this.#fast = new Ema(fastPeriod);
    this.#slow = new Ema(slowPeriod);
    this.#signal = new Ema(signalPeriod);
  }

  /** Adds one input and returns the MACD line (NaN until ready). @throws IndicatorError InvalidInput */
  update(x: number): number {
    checkFinite('Macd', 'input', x);
    this.#count++;
    if (this.#count > this.slowPeriod - this.fastPeriod) this.#fast.update(x);
    const slow = this.#slow.update(x);
    if (this.#count < this.slowPeriod) return Number.NaN;
    const line = this.#fast.value - slow;
    const signal = this.#signal.update(line);
    if (!this.#signal.isReady) return Number.NaN;
    this.#macd = line;
    this.#histogram = line - signal;
    return line;
  }

  get value(): number {
    return this.#macd;
  }

  /** The MACD line (fast EMA - slow EMA). */
  get macd(): number {
    return this.#macd;
  }

  /** The signal line (EMA of the MACD line). */
  get signal(): number {
    return this.isReady ? this.#signal.value : Number.NaN;
  }

  /** MACD - signal. */
  get histogram(): number {
    return this.#histogram;
  }

  get isReady(): boolean {
    return this.#count >= this.slowPeriod + this.signalPeriod - 1;
  }

  get count(): number {
    return this.#count;
  }

  reset(): void {
    this.#fast.reset();
    this.#slow.reset();
    this.#signal.reset();
    this.#count = 0;
    this.#macd = this.#histogram = Number.NaN;
  }

  snapshot(): MacdState {
    return {
      kind: 'macd',
      fastPeriod: this.fastPeriod,
      slowPeriod: this.slowPeriod,
      signalPeriod: this.signalPeriod,
      count: this.#count,
      fast: this.#fast.snapshot(),
      slow: this.#slow.snapshot(),
      signal: this.#signal.snapshot(),
      macd: enc(this.#macd),
    };
  }

  restore(state: MacdState): void {
    const r = new StateReader('Macd', state, 'macd');
    r.same('fastPeriod', this.fastPeriod);
    r.same('slowPeriod', this.slowPeriod);
    r.same('signalPeriod', this.signalPeriod);
    const count = r.int('count');
    const ready = count >= this.slowPeriod + this.signalPeriod - 1;
    const macd = r.num('macd', !ready);
    // restore into scratch copies first so a bad nested state leaves this one untouched
    const fast = new Ema(this.fastPeriod);
    const slow = new Ema(this.slowPeriod);
    const signal = new Ema(this.signalPeriod);
    fast.restore(r.obj('fast') as EmaState);
    slow.restore(r.obj('slow') as EmaState);
    signal.restore(r.obj('signal') as EmaState);
    this.#fast.restore(fast.snapshot());
    this.#slow.restore(slow.snapshot());
    this.#signal.restore(signal.snapshot());
    this.#count = count;
    this.#macd = ready ? macd : Number.NaN;
    this.#histogram = ready ? macd - signal.value : Number.NaN;
  }
}
