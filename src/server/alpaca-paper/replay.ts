import type { MergedBatch } from '../../data/columns.js';
import type { BarStore } from '../../data/store.js';
import type { Bar } from '../../model/bar.js';

/**
 * The store replay of the paper server, one bar time at a time: `next` resolves with every bar (of all
 * replayed symbols) that opens at the next open time, or undefined at the end.
 */
export class BarTimeReplay {
  readonly #iterator: AsyncIterator<MergedBatch>;
  #batch: MergedBatch | undefined;
  #index = 0;
  #ended = false;

  constructor(store: BarStore, symbols: readonly string[], range: { fromNs?: bigint; toNs?: bigint }) {
    this.#iterator = store.replay(symbols, { ...range, batchSize: 4096 })[Symbol.asyncIterator]();
  }

  async #peek(): Promise<boolean> {
    while (this.#batch === undefined || this.#index >= this.#batch.length) {
      if (this.#ended) return false;
      const r = await this.#iterator.next();
      if (r.done === true) {
        this.#ended = true;
        this.#batch = undefined;
        return false;
      }
      this.#batch = r.value;
      this.#index = 0;
    }
    return true;
  }

  /** Open time of the next bar time (epoch ns), or undefined when the replay is over. @throws DataError when the store cannot be read */
  async peekOpenNs(): Promise<bigint | undefined> {
    if (!(await this.#peek())) return undefined;
    return (this.#batch as MergedBatch).openTimeNs[this.#index] as bigint;
  }

  /** The bars of the next bar time, or undefined when the replay is over. @throws DataError when the store cannot be read */
  async next(): Promise<Bar[] | undefined> {
    if (!(await this.#peek())) return undefined;
    const out: Bar[] = [];
    const first = (this.#batch as MergedBatch).openTimeNs[this.#index] as bigint;
    while (await this.#peek()) {
      const b = this.#batch as MergedBatch;
      const i = this.#index;
      if ((b.openTimeNs[i] as bigint) !== first) break;
      const s = b.symbolIndex[i] as number;
      out.push(
        Object.freeze({
          symbol: b.symbols[s] as string,
          timeframe: b.timeframes[s] as Bar['timeframe'],
          openTimeNs: first,
          closeTimeNs: b.closeTimeNs[i] as bigint,
          open: b.open[i] as number,
          high: b.high[i] as number,
          low: b.low[i] as number,
          close: b.close[i] as number,
          volume: b.volume[i] as number,
        }),
      );
      this.#index++;
    }
    return out;
  }

  /** Stops reading the store. */
  async close(): Promise<void> {
    this.#ended = true;
    await this.#iterator.return?.();
  }
}
