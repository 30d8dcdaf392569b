import type Database from 'better-sqlite3';
import type { TradeRecord } from '../../analytics/types.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS equity (
  time_ns INTEGER PRIMARY KEY,
  equity REAL NOT NULL,
  exposure REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS trades (
  id INTEGER PRIMARY KEY,
  record_json TEXT NOT NULL
);
`;

/**
 * The run's growing series, stored incrementally inside checkpoint transactions so a resumed run has the
 * whole equity curve and trade list without putting them in every checkpoint: `equity` (one row per bar
 * time) and `trades` (closed round trips as JSON, bigint times as strings).
 */
export class SeriesStore {
  readonly #db: Database.Database;
  readonly #putEquity: Database.Statement;
  readonly #putTrade: Database.Statement;

  constructor(db: Database.Database) {
    this.#db = db;
    db.exec(SCHEMA);
    this.#putEquity = db.prepare('INSERT OR REPLACE INTO equity (time_ns, equity, exposure) VALUES (?, ?, ?)');
    this.#putTrade = db.prepare('INSERT OR REPLACE INTO trades (id, record_json) VALUES (?, ?)');
  }

  appendEquity(timeNs: ArrayLike<bigint>, equity: ArrayLike<number>, exposure: ArrayLike<number>, from: number, to: number): void {
    for (let i = from; i < to; i++) this.#putEquity.run(timeNs[i] as bigint, equity[i] as number, exposure[i] as number);
  }

  appendTrades(trades: readonly TradeRecord[]): void {
    for (const t of trades) this.#putTrade.run(t.id, JSON.stringify(t, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)));
  }

  /** Equity points with time <= `untilNs`, in time order. */
  equity(untilNs: bigint): { timeNs: bigint[]; equity: number[]; exposure: number[] } {
    const rows = this.#db.prepare('SELECT time_ns, equity, exposure FROM equity WHERE time_ns <= ? ORDER BY time_ns').safeIntegers(true).all(untilNs) as { time_ns: bigint; equity: number; exposure: number }[];
    return { timeNs: rows.map((r) => r.time_ns), equity: rows.map((r) => Number(r.equity)), exposure: rows.map((r) => Number(r.exposure)) };
  }

  /** Closed trades with id in `ids`... all stored ones with id < `beforeId`, in id order. */
  trades(count: number): TradeRecord[] {
    const rows = this.#db.prepare('SELECT record_json FROM trades ORDER BY rowid LIMIT ?').all(count) as { record_json: string }[];
    return rows.map(
      (r) =>
        JSON.parse(r.record_json, (_k, v: unknown) => (typeof v === 'string' && /^-?\d+n$/.test(v) ? BigInt(v.slice(0, -1)) : v)) as TradeRecord,
    );
  }
}
