import type Database from 'better-sqlite3';
import { encodeCanonical } from './canonical.js';
import { GENESIS_HASH } from './entry.js';
import type { AuditEntry, AuditHead, AuditSink } from './entry.js';
import { ComplianceError } from './errors.js';

/** One row of the `audit` table as SQLite returns it. */
export interface AuditRow {
  seq: unknown;
  ts_ns: unknown;
  kind: unknown;
  subject: unknown;
  from_state: unknown;
  to_state: unknown;
  reason: unknown;
  event_json: unknown;
  prev_hash: unknown;
  hash: unknown;
}

/** DDL of the audit tables; `audit_anchor` holds the head in one row (id = 1) that moves with every append. */
export const AUDIT_SCHEMA = `
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY,
  ts_ns TEXT NOT NULL,
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,
  from_state TEXT,
  to_state TEXT,
  reason TEXT NOT NULL,
  event_json TEXT,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_anchor (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL
);
`;

/** Columns in the order `readAuditRows` selects them. */
export const AUDIT_COLUMNS = 'seq, ts_ns, kind, subject, from_state, to_state, reason, event_json, prev_hash, hash';

/** Every row of `audit` in physical (rowid) order, which is what verification must look at. */
export function readAuditRows(db: Database.Database): AuditRow[] {
  return db.prepare(`SELECT ${AUDIT_COLUMNS} FROM audit ORDER BY rowid`).all() as AuditRow[];
}

/** The `audit_anchor` row, or undefined when it is missing or not a well-formed head. */
export function readAuditAnchor(db: Database.Database): AuditHead | undefined {
  const row = db.prepare('SELECT seq, hash FROM audit_anchor WHERE id = 1').get() as { seq: unknown; hash: unknown } | undefined;
  if (row === undefined || typeof row.seq !== 'number' || !Number.isSafeInteger(row.seq) || row.seq < 0 || typeof row.hash !== 'string') return undefined;
  return { seq: row.seq, hash: row.hash };
}

/** Options of a SqliteAuditSink. */
export interface SqliteAuditSinkOptions {
  /**
   * Inside the owner's open transaction, hold appended entries in memory until `flush()`, which inserts them
   * with multi-row statements and moves the anchor once (an append outside a transaction is stored at once,
   * with anything held). For an owner that batches its writes in long transactions and flushes before every
   * commit (the engine's backtest, whose writes between two checkpoints are one transaction anyway): what was
   * not flushed is not in the commit. `discard()` drops what is held (after the owner rolled back).
   */
  readonly deferWrites?: boolean;
}

/** Rows a multi-row insert writes at once when flushing deferred entries. */
const FLUSH_ROWS = 32;

/**
 * Stores a trail in a better-sqlite3 database (the run's state.sqlite). Each append is one insert plus a
 * compare-and-set of the anchor: inside the owner's open transaction when there is one, else in its own
 * (or, with `deferWrites`, held until `flush()`). Journal mode and synchronous level are the database owner's choice.
 */
export class SqliteAuditSink implements AuditSink {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement;
  readonly #advance: Database.Statement;
  readonly #rewind: Database.Statement;
  readonly #appendInOwnTransaction: (entry: AuditEntry, eventText: string | undefined) => void;
  readonly #defer: boolean;
  /** With deferWrites: rows not yet inserted (AUDIT_COLUMNS order), and the head they lead to. */
  #pending: unknown[][] = [];
  #pendingHead: AuditHead | undefined;
  #insertMany: Database.Statement | undefined;
  readonly #flushInOwnTransaction: () => void;

  /**
   * Creates the tables when missing and checks that the stored head matches the last stored entry.
   * @throws ComplianceError StorageError when the tables cannot be created (a read-only database), AuditIntegrityFailed when the anchor is missing, malformed or disagrees with the last entry
   */
  constructor(db: Database.Database, options: SqliteAuditSinkOptions = {}) {
    this.#db = db;
    this.#defer = options.deferWrites === true;
    const create = (): void => {
      db.exec(AUDIT_SCHEMA);
      db.prepare('INSERT OR IGNORE INTO audit_anchor (id, seq, hash) SELECT 1, 0, ? WHERE NOT EXISTS (SELECT 1 FROM audit)').run(GENESIS_HASH);
    };
    try {
      if (db.inTransaction) create();
      else db.transaction(create)();
    } catch (e) {
      throw new ComplianceError('StorageError', `cannot create the audit tables in ${db.name}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    const anchor = readAuditAnchor(db);
    const last = db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: unknown } | undefined;
    if (anchor === undefined) throw new ComplianceError('AuditIntegrityFailed', 'audit_anchor has no well-formed row although the audit table has entries');
    const lastSeq = last?.seq ?? 0;
    const lastHash = last === undefined ? GENESIS_HASH : last.hash;
    if (anchor.seq !== lastSeq || anchor.hash !== lastHash) {
      throw new ComplianceError('AuditIntegrityFailed', `audit_anchor (seq ${anchor.seq}) disagrees with the last stored audit entry (seq ${lastSeq}); run axon audit verify`);
    }
    this.#insert = db.prepare(`INSERT INTO audit (${AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.#advance = db.prepare('UPDATE audit_anchor SET seq = ?, hash = ? WHERE id = 1 AND seq = ? AND hash = ?');
    this.#rewind = db.prepare('UPDATE audit_anchor SET seq = ?, hash = ? WHERE id = 1');
    this.#appendInOwnTransaction = db.transaction((entry: AuditEntry, eventText: string | undefined) => this.#write(entry, eventText));
    this.#flushInOwnTransaction = db.transaction(() => this.#flushPending());
  }

  head(): AuditHead {
    if (this.#pendingHead !== undefined) return this.#pendingHead;
    const anchor = readAuditAnchor(this.#db);
    if (anchor === undefined) throw new ComplianceError('AuditIntegrityFailed', 'audit_anchor has no well-formed row');
    return anchor;
  }

  append(entry: AuditEntry, eventText?: string): void {
    if (this.#defer) {
      const head = this.head();
      if (entry.seq !== head.seq + 1 || entry.prevHash !== head.hash) {
        throw new ComplianceError('AuditConflict', `audit entry seq ${entry.seq} does not extend the stored head (seq ${head.seq})`);
      }
      this.#pending.push(rowOf(entry, eventText));
      this.#pendingHead = { seq: entry.seq, hash: entry.hash };
      // held only inside the owner's transaction; on its own an entry is stored at once, as without deferWrites
      if (!this.#db.inTransaction) this.#flushInOwnTransaction();
      return;
    }
    if (this.#db.inTransaction) this.#write(entry, eventText);
    else this.#appendInOwnTransaction(entry, eventText);
  }

  /**
   * With deferWrites, inserts the held entries and moves the anchor to the last of them (in the owner's open
   * transaction, else in its own); nothing is held afterwards. A no-op without deferWrites or when nothing is held.
   * @throws ComplianceError AuditConflict when the stored head moved (nothing is written; the entries are
   *   dropped, call the trail's `reload`), StorageError when the rows cannot be stored (the anchor is put back)
   */
  flush(): void {
    if (this.#pending.length === 0) return;
    if (this.#db.inTransaction) this.#flushPending();
    else this.#flushInOwnTransaction();
  }

  /** Drops the entries held by deferWrites (the owner rolled back the transaction they were meant for). */
  discard(): void {
    this.#pending = [];
    this.#pendingHead = undefined;
  }

  #flushPending(): void {
    const rows = this.#pending;
    const first = rows[0] as unknown[];
    const last = rows[rows.length - 1] as unknown[];
    // seq at index 0, prev_hash at 8, hash at 9 (AUDIT_COLUMNS)
    const firstSeq = first[0] as number;
    const moved = this.#advance.run(last[0], last[9], firstSeq - 1, first[8]);
    if (moved.changes !== 1) {
      this.discard();
      throw new ComplianceError('AuditConflict', `audit entries from seq ${firstSeq} do not extend the stored head (seq ${readAuditAnchor(this.#db)?.seq ?? '?'})`);
    }
    try {
      let i = 0;
      if (rows.length >= FLUSH_ROWS) {
        const many = (this.#insertMany ??= this.#db.prepare(`INSERT INTO audit (${AUDIT_COLUMNS}) VALUES ${Array.from({ length: FLUSH_ROWS }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`));
        const params: unknown[] = new Array<unknown>(FLUSH_ROWS * 10);
        for (; i + FLUSH_ROWS <= rows.length; i += FLUSH_ROWS) {
          for (let r = 0; r < FLUSH_ROWS; r++) {
            const row = rows[i + r] as unknown[];
            for (let c = 0; c < 10; c++) params[r * 10 + c] = row[c];
          }
          many.run(params);
        }
      }
      for (; i < rows.length; i++) this.#insert.run(rows[i] as unknown[]);
    } catch (e) {
      this.#rewind.run(firstSeq - 1, first[8]);
      this.discard();
      throw new ComplianceError('StorageError', `audit entries seq ${firstSeq}..${String(last[0])} could not be stored: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    this.discard();
  }

  #write(entry: AuditEntry, eventText: string | undefined): void {
    const moved = this.#advance.run(entry.seq, entry.hash, entry.seq - 1, entry.prevHash);
    if (moved.changes !== 1) {
      throw new ComplianceError('AuditConflict', `audit entry seq ${entry.seq} does not extend the stored head (seq ${this.head().seq})`);
    }
    try {
      this.#insert.run(rowOf(entry, eventText));
    } catch (e) {
      // inside the owner's transaction nothing rolls this back for us: put the anchor back by hand
      this.#rewind.run(entry.seq - 1, entry.prevHash);
      throw new ComplianceError('StorageError', `audit entry seq ${entry.seq} could not be stored: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
}

/** An entry as the `audit` row's values, in AUDIT_COLUMNS order. */
function rowOf(entry: AuditEntry, eventText: string | undefined): unknown[] {
  return [
    entry.seq,
    entry.tsNs.toString(),
    entry.kind,
    entry.subject,
    entry.fromState ?? null,
    entry.toState ?? null,
    entry.reason,
    entry.event === undefined ? null : (eventText ?? encodeCanonical(entry.event, 'event')),
    entry.prevHash,
    entry.hash,
  ];
}
