import Database from 'better-sqlite3';
import type { RngState } from '../../core/rng.js';
import { decodeState, encodeState } from '../../engine/state/codec.js';
import type { SimulatedVenueState } from '../../venues/simulated/simulated-venue.js';
import type { AlpacaFillActivity, HistoricalBar } from '../../venues/alpaca/protocol.js';
import type { BrokerScalars, FillRow, OrderMeta } from './broker.js';
import { PaperServerError } from './errors.js';

/** Format tag of the paper server's state file; another tag is refused. */
export const PAPER_STATE_FORMAT = 'axon-alpaca-paper-state-1';

/** Where the store replay stands: the open time of the last bar time shown (epoch ns) and how many bars were shown. */
export interface ReplayCursor {
  readonly lastOpenNs: bigint | undefined;
  readonly barsShown: number;
  readonly done: boolean;
}

/** A bar as the state file keeps it (every bar shown, for `GET /v2/stocks/bars`). */
export interface StoredBar {
  readonly symbol: string;
  readonly timeMs: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

/** Everything one commit writes, in one transaction. */
export interface Commit {
  readonly scalars: BrokerScalars;
  readonly venue: SimulatedVenueState;
  readonly orders: readonly OrderMeta[];
  readonly fills: readonly FillRow[];
  readonly bars: readonly StoredBar[];
  readonly replay: ReplayCursor;
  readonly faults: { readonly seed: number; readonly rng: RngState };
}

/** What a state file holds when the server starts from it. */
export interface LoadedState {
  readonly scalars: BrokerScalars;
  readonly venue: SimulatedVenueState;
  readonly orders: OrderMeta[];
  readonly replay: ReplayCursor;
  readonly faults: { readonly seed: number; readonly rng: RngState };
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS fills (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, time_ms INTEGER NOT NULL, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS submissions (seq INTEGER PRIMARY KEY, client_order_id TEXT, outcome TEXT NOT NULL, time_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS bars (symbol TEXT NOT NULL, t_ms INTEGER NOT NULL, o REAL NOT NULL, h REAL NOT NULL, l REAL NOT NULL, c REAL NOT NULL, v REAL NOT NULL, PRIMARY KEY (symbol, t_ms));
`;

/**
 * The paper server's SQLite state file (WAL, synchronous FULL): the venue snapshot and broker scalars
 * as checkpoint JSON, orders and fill activities row by row, every shown bar, the replay cursor and the
 * fault generator. `commit` writes one state change in one transaction, so a SIGKILL leaves either the
 * state before it or after it.
 */
export class PaperStateDb {
  readonly path: string;
  readonly #db: Database.Database;
  readonly #put: Database.Statement;
  readonly #putOrder: Database.Statement;
  readonly #putFill: Database.Statement;
  readonly #putBar: Database.Statement;
  readonly #commit: (c: Commit) => void;
  #orderSeq = 0;

  /** Opens (or creates) the state file. @throws PaperServerError StateCorrupt when it is not a paper server state file */
  constructor(path: string) {
    this.path = path;
    this.#db = new Database(path);
    try {
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('synchronous = FULL');
      this.#db.exec(SCHEMA);
      const format = this.#get('format');
      if (format === undefined) this.#db.prepare('INSERT INTO kv (key, value) VALUES (?, ?)').run('format', PAPER_STATE_FORMAT);
      else if (format !== PAPER_STATE_FORMAT) throw new PaperServerError('StateCorrupt', `${path} is not a paper server state file (format ${JSON.stringify(format)}, expected ${PAPER_STATE_FORMAT})`);
    } catch (e) {
      this.#db.close();
      if (e instanceof PaperServerError) throw e;
      throw new PaperServerError('StateCorrupt', `cannot open the paper server state file ${path}: ${(e as Error).message}`, { cause: e });
    }
    this.#orderSeq = (this.#db.prepare('SELECT COALESCE(MAX(seq), 0) AS n FROM orders').get() as { n: number }).n;
    this.#put = this.#db.prepare('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
    this.#putOrder = this.#db.prepare('INSERT INTO orders (id, seq, json) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET json = excluded.json');
    this.#putFill = this.#db.prepare('INSERT INTO fills (seq, id, time_ms, json) VALUES (?, ?, ?, ?)');
    this.#putBar = this.#db.prepare('INSERT OR REPLACE INTO bars (symbol, t_ms, o, h, l, c, v) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.#commit = this.#db.transaction((c: Commit) => {
      this.#put.run('broker', encodeState(c.scalars));
      this.#put.run('venue', encodeState(c.venue));
      this.#put.run('replay', encodeState(c.replay));
      this.#put.run('faults', encodeState(c.faults));
      for (const o of c.orders) this.#putOrder.run(o.id, ++this.#orderSeq, encodeState(o));
      for (const f of c.fills) this.#putFill.run(f.seq, f.activity.id, f.timeMs, JSON.stringify(f.activity));
      for (const b of c.bars) this.#putBar.run(b.symbol, b.timeMs, b.open, b.high, b.low, b.close, b.volume);
    });
  }

  #get(key: string): string | undefined {
    const row = this.#db.prepare('SELECT value FROM kv WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  /** The saved state, or undefined for a new file. @throws StateError CheckpointCorrupt for unreadable JSON */
  load(): LoadedState | undefined {
    const broker = this.#get('broker');
    const venue = this.#get('venue');
    if (broker === undefined || venue === undefined) return undefined;
    const rows = this.#db.prepare('SELECT json FROM orders ORDER BY rowid').all() as { json: string }[];
    return {
      scalars: decodeState(broker) as BrokerScalars,
      venue: decodeState(venue) as SimulatedVenueState,
      orders: rows.map((r) => decodeState(r.json) as OrderMeta),
      replay: decodeState(this.#get('replay') ?? encodeState({ lastOpenNs: undefined, barsShown: 0, done: false })) as ReplayCursor,
      faults: decodeState(this.#get('faults') ?? 'null') as LoadedState['faults'],
    };
  }

  /**
   * Logs one `POST /v2/orders` as it arrived (client order id or null, and how it ended: `placed`, or the
   * refusal's code): an audit of what clients sent, e.g. to prove no client order id was sent twice.
   */
  logSubmission(clientOrderId: string | undefined, outcome: string, timeMs: number): void {
    (this.#logSubmission ??= this.#db.prepare('INSERT INTO submissions (client_order_id, outcome, time_ms) VALUES (?, ?, ?)')).run(clientOrderId ?? null, outcome, timeMs);
  }

  #logSubmission: Database.Statement | undefined;

  /** Every logged `POST /v2/orders`, in arrival order. */
  submissions(): { clientOrderId: string | null; outcome: string; timeMs: number }[] {
    return (this.#db.prepare('SELECT client_order_id AS clientOrderId, outcome, time_ms AS timeMs FROM submissions ORDER BY seq').all() as { clientOrderId: string | null; outcome: string; timeMs: number }[]);
  }

  /** Writes one state change atomically (durable when it returns). */
  commit(c: Commit): void {
    this.#commit(c);
  }

  /** Fill activities in log order after `afterSeq` (asc) or before `beforeSeq` (desc), at most `limit`, from `fromMs` on. */
  fills(q: { direction: 'asc' | 'desc'; afterSeq?: number; beforeSeq?: number; fromMs?: number; untilMs?: number; limit: number }): AlpacaFillActivity[] {
    const where: string[] = [];
    const args: number[] = [];
    if (q.afterSeq !== undefined) {
      where.push('seq > ?');
      args.push(q.afterSeq);
    }
    if (q.beforeSeq !== undefined) {
      where.push('seq < ?');
      args.push(q.beforeSeq);
    }
    if (q.fromMs !== undefined) {
      where.push('time_ms > ?');
      args.push(q.fromMs);
    }
    if (q.untilMs !== undefined) {
      where.push('time_ms < ?');
      args.push(q.untilMs);
    }
    const sql = `SELECT json FROM fills ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq ${q.direction === 'asc' ? 'ASC' : 'DESC'} LIMIT ?`;
    const rows = this.#db.prepare(sql).all(...args, q.limit) as { json: string }[];
    return rows.map((r) => JSON.parse(r.json) as AlpacaFillActivity);
  }

  /** The log position of a fill activity id, or undefined. */
  fillSeq(id: string): number | undefined {
    const row = this.#db.prepare('SELECT seq FROM fills WHERE id = ?').get(id) as { seq: number } | undefined;
    return row?.seq;
  }

  /** Shown bars of `symbols` with start time in [startMs, endMs], by symbol then time, from (symbol, afterMs) on. */
  bars(symbols: readonly string[], startMs: number, endMs: number, limit: number, after?: { symbol: string; timeMs: number }): (HistoricalBar & { S: string })[] {
    const marks = symbols.map(() => '?').join(', ');
    const page = after === undefined ? '' : 'AND (symbol > ? OR (symbol = ? AND t_ms > ?))';
    const args: (string | number)[] = [...symbols, startMs, endMs];
    if (after !== undefined) args.push(after.symbol, after.symbol, after.timeMs);
    const rows = this.#db
      .prepare(`SELECT symbol, t_ms, o, h, l, c, v FROM bars WHERE symbol IN (${marks}) AND t_ms >= ? AND t_ms <= ? ${page} ORDER BY symbol, t_ms LIMIT ?`)
      .all(...args, limit) as { symbol: string; t_ms: number; o: number; h: number; l: number; c: number; v: number }[];
    return rows.map((r) => ({ S: r.symbol, t: new Date(r.t_ms).toISOString().replace('.000Z', 'Z'), o: r.o, h: r.h, l: r.l, c: r.c, v: r.v }));
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
