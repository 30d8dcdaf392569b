import { existsSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { parseDecimal } from '../../core/decimal.js';
import { AxonError } from '../../core/errors.js';
import { LiveClock } from '../../core/clock.js';
import type { ClientOrderId, TradeId } from '../../core/ids.js';
import type { OrderType, Side } from '../../model/order.js';
import { createHash } from 'node:crypto';
import { decodeStateBinary, encodeStateBinaryView } from './binary.js';
import { StateError } from './errors.js';

/** Version of the state.sqlite schema this code reads and writes. */
export const STATE_SCHEMA_VERSION = 3;
/**
 * SQLite page cache of a state store, KiB: the last checkpoints' pages stay cached, so pruning the oldest
 * does not read its overflow chain back (the default 2 MiB holds under three checkpoints of 1,000 symbols;
 * measured 0.35 -> 0.2 ms for a 0.76 MB checkpoint's insert and prune).
 */
const STATE_CACHE_KIB = 16_384;

/** How many checkpoints are kept; older ones are deleted in the transaction that writes a new one. */
export const CHECKPOINTS_KEPT = 3;
/** Status an intent gets when none is given. */
export const INITIAL_INTENT_STATUS = 'PENDING';
/** SQLite page size of a new store, bytes. */
export const STATE_PAGE_SIZE = 16_384;
/** SQLite application_id of a state store ("AXst"), so another SQLite file is never taken for one. */
export const STATE_APPLICATION_ID = 0x41587374;

const SIDES: ReadonlySet<string> = new Set(['Buy', 'Sell']);
const ORDER_TYPES: ReadonlySet<string> = new Set(['Market', 'Limit', 'Stop', 'StopLimit']);
const TABLES = ['meta', 'intents', 'checkpoints', 'fills', 'segments', 'checkpoint_segments'] as const;

const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE intents (
  client_order_id TEXT PRIMARY KEY,
  symbol TEXT NOT NULL,
  side TEXT NOT NULL CHECK (side IN ('Buy', 'Sell')),
  type TEXT NOT NULL,
  quantity TEXT NOT NULL,
  notional TEXT,
  limit_price TEXT,
  purpose TEXT NOT NULL,
  reason TEXT NOT NULL,
  bar_index INTEGER NOT NULL,
  created_ns INTEGER NOT NULL,
  status TEXT NOT NULL,
  updated_ns INTEGER NOT NULL
);
CREATE INDEX intents_status ON intents (status);
CREATE TABLE checkpoints (
  id INTEGER PRIMARY KEY,
  bar_count INTEGER NOT NULL,
  ts_ns INTEGER NOT NULL,
  state_json BLOB NOT NULL,
  state_sha256 TEXT NOT NULL,
  audit_seq INTEGER,
  audit_hash TEXT
);
-- large unchanged parts of a checkpoint (an OMS or venue snapshot), stored once for every checkpoint
-- that refers to them (see SEGMENT_MIN_BYTES); a segment no kept checkpoint refers to is deleted
CREATE TABLE segments (
  sha256 TEXT PRIMARY KEY,
  bytes BLOB NOT NULL
);
CREATE TABLE checkpoint_segments (
  checkpoint_id INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  PRIMARY KEY (checkpoint_id, sha256)
) WITHOUT ROWID;
CREATE INDEX checkpoint_segments_sha ON checkpoint_segments (sha256);
CREATE TABLE fills (
  trade_id TEXT PRIMARY KEY,
  client_order_id TEXT NOT NULL,
  symbol TEXT NOT NULL,
  side TEXT NOT NULL CHECK (side IN ('Buy', 'Sell')),
  qty TEXT NOT NULL,
  px TEXT NOT NULL,
  fee TEXT NOT NULL,
  fee_currency TEXT NOT NULL,
  ts_ns INTEGER NOT NULL
);
CREATE INDEX fills_order ON fills (client_order_id);
`;

/** How to open a state store. */
export interface StateStoreOptions {
  /** configHash() of the run's resolved configuration; a store written under another one is refused. */
  readonly configHash: string;
  /** Create the file when it does not exist (a new run); false for a resume, where it must exist. */
  readonly create: boolean;
  /** Epoch ns recorded as created_ns in a new store; defaults to the wall clock (metadata only). */
  readonly createdNs?: bigint;
  /**
   * 'full' (default): every commit is synced, durable against power loss; live trading needs it.
   * 'process': WAL with synchronous = OFF, durable against a crash of this process (the OS keeps what
   * was written) but not against power loss or an OS crash, after which the store may be refused as
   * corrupt; for backtests, whose venue dies with the process and which can be run again. NORMAL
   * would add an fsync at every WAL checkpoint for no gain against a process crash (measured: 2.0 of
   * ~16 s of a 100-symbol backtest went to COMMIT with NORMAL, 0.45 s with OFF).
   */
  readonly durability?: 'full' | 'process';
}

/** An order intent, written before the order is sent; decimals are exact strings. */
export interface OrderIntent {
  /** Deterministic client order id, unique in the store. */
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly type: OrderType;
  /** Quantity, base units, decimal string. */
  readonly quantity: string;
  /** Notional, quote currency, decimal string (notional market orders). */
  readonly notional?: string;
  /** Limit price, quote currency, decimal string. */
  readonly limitPrice?: string;
  /** What the order is for, e.g. `entry`, `exit`, `take-profit`, `reprice`. */
  readonly purpose: string;
  /** Why it was sent (the signal or rule), free text. */
  readonly reason: string;
  /** Index of the bar the intent was made on. */
  readonly barIndex: number;
  /** Epoch ns the intent was made. */
  readonly createdNs: bigint;
  /** Initial status; INITIAL_INTENT_STATUS when absent. */
  readonly status?: string;
}

/** An intent as stored, with its current status. */
export interface IntentRecord extends OrderIntent {
  readonly clientOrderId: ClientOrderId;
  readonly status: string;
  /** Epoch ns of the last status change (createdNs until one). */
  readonly updatedNs: bigint;
}

/** Which intents to list; every given field must match. */
export interface IntentFilter {
  /** One status or any of several. */
  readonly status?: string | readonly string[];
  readonly symbol?: string;
  readonly purpose?: string;
}

/** A fill as stored; decimals are exact strings. */
export interface FillRecord {
  /** Venue execution id; a fill is stored once per trade id. */
  readonly tradeId: string;
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: Side;
  /** Filled quantity, base units. */
  readonly qty: string;
  /** Fill price, quote currency. */
  readonly px: string;
  /** Fee, in feeCurrency. */
  readonly fee: string;
  readonly feeCurrency: string;
  /** Venue time of the fill, epoch ns. */
  readonly tsNs: bigint;
}

/** Position of the audit trail a checkpoint was taken at. */
export interface AuditMark {
  /** Sequence number of the last audit entry covered. */
  readonly seq: number;
  /** Hash of that entry (hex). */
  readonly hash: string;
}

/** What writeCheckpoint stores. */
export interface CheckpointInput {
  /** Bars processed when the checkpoint was taken. */
  readonly barCount: number;
  /** Epoch ns of the checkpoint (the bar's time in a backtest). */
  readonly tsNs: bigint;
  /** Engine state: any JSON-like value, bigints and non-finite numbers allowed (see encodeState). */
  readonly state: unknown;
  readonly audit?: AuditMark;
}

/** Summary of a stored checkpoint, without its state. */
export interface CheckpointInfo {
  readonly id: number;
  readonly barCount: number;
  readonly tsNs: bigint;
  /** SHA-256 (hex) of the encoded state (state_json, which holds the SHA-256 of each segment it refers to). */
  readonly sha256: string;
  /** Size of the encoded state with the segments it refers to, bytes. */
  readonly size: number;
  readonly audit?: AuditMark;
}

/** A checkpoint loaded, verified against its SHA-256 and decoded. */
export interface Checkpoint extends CheckpointInfo {
  readonly state: unknown;
}

interface CheckpointRow {
  id: bigint;
  bar_count: bigint;
  ts_ns: bigint;
  state_json?: unknown;
  state_sha256: string;
  size?: bigint;
  audit_seq: bigint | null;
  audit_hash: string | null;
}

interface IntentRow {
  client_order_id: string;
  symbol: string;
  side: Side;
  type: OrderType;
  quantity: string;
  notional: string | null;
  limit_price: string | null;
  purpose: string;
  reason: string;
  bar_index: bigint;
  created_ns: bigint;
  status: string;
  updated_ns: bigint;
}

interface FillRow {
  trade_id: string;
  client_order_id: string;
  symbol: string;
  side: Side;
  qty: string;
  px: string;
  fee: string;
  fee_currency: string;
  ts_ns: bigint;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function sqliteCode(e: unknown): string | undefined {
  return e instanceof Database.SqliteError ? e.code : undefined;
}

function isCorruption(e: unknown): boolean {
  const code = sqliteCode(e);
  return code !== undefined && (code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB') || code === 'SQLITE_IOERR_SHORT_READ');
}

function wrap(e: unknown, what: string, path: string): AxonError {
  if (e instanceof AxonError) return e;
  if (isCorruption(e)) return new StateError('CheckpointCorrupt', `${path} is corrupt, truncated or not a state store (${what}: ${(e as Error).message})`, { cause: e });
  return new StateError('StoreFailed', `${path}: ${what} failed: ${(e as Error).message}`, { cause: e });
}

function text(name: string, v: unknown, where: string): string {
  if (typeof v !== 'string' || v === '') throw new StateError('InvalidArgument', `${where}: ${name} must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

function decimal(name: string, v: unknown, where: string): string {
  const s = text(name, v, where);
  try {
    parseDecimal(s);
  } catch {
    throw new StateError('InvalidArgument', `${where}: ${name} must be a decimal string, got ${JSON.stringify(s)}`);
  }
  return s;
}

function ns(name: string, v: unknown, where: string): bigint {
  if (typeof v !== 'bigint' || v < INT64_MIN || v > INT64_MAX) throw new StateError('InvalidArgument', `${where}: ${name} must be a bigint of epoch ns within int64, got ${String(v)}`);
  return v;
}

function count(name: string, v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new StateError('InvalidArgument', `${where}: ${name} must be a non-negative safe integer, got ${String(v)}`);
  return v;
}

function oneOf(name: string, v: unknown, allowed: ReadonlySet<string>, where: string): string {
  if (typeof v !== 'string' || !allowed.has(v)) throw new StateError('InvalidArgument', `${where}: ${name} must be one of ${[...allowed].join(', ')}, got ${JSON.stringify(v)}`);
  return v;
}

function intentFromRow(r: IntentRow): IntentRecord {
  return {
    clientOrderId: r.client_order_id as ClientOrderId,
    symbol: r.symbol,
    side: r.side,
    type: r.type,
    quantity: r.quantity,
    ...(r.notional === null ? {} : { notional: r.notional }),
    ...(r.limit_price === null ? {} : { limitPrice: r.limit_price }),
    purpose: r.purpose,
    reason: r.reason,
    barIndex: Number(r.bar_index),
    createdNs: r.created_ns,
    status: r.status,
    updatedNs: r.updated_ns,
  };
}

function fillFromRow(r: FillRow): FillRecord & { tradeId: TradeId } {
  return {
    tradeId: r.trade_id as TradeId,
    clientOrderId: r.client_order_id,
    symbol: r.symbol,
    side: r.side,
    qty: r.qty,
    px: r.px,
    fee: r.fee,
    feeCurrency: r.fee_currency,
    tsNs: r.ts_ns,
  };
}

function infoFromRow(r: CheckpointRow): CheckpointInfo {
  return {
    id: Number(r.id),
    barCount: Number(r.bar_count),
    tsNs: r.ts_ns,
    sha256: r.state_sha256,
    size: r.size !== undefined ? Number(r.size) : r.state_json instanceof Uint8Array ? r.state_json.length : 0,
    ...(r.audit_seq === null || r.audit_hash === null ? {} : { audit: { seq: Number(r.audit_seq), hash: r.audit_hash } }),
  };
}

/**
 * The engine's persistence in `<runDir>/state.sqlite`: order intents (written before an order is sent),
 * fills, and checkpoints of the engine state. WAL mode with `synchronous = FULL`: in WAL mode NORMAL
 * does not sync the log at commit, so a power loss or OS crash could lose an intent whose order was
 * already sent and a restart would send it again; FULL syncs at every commit, which makes
 * recordIntent durable when it returns. One connection, synchronous (better-sqlite3); `db` is shared
 * with the audit trail so both can write in one transaction.
 */
export class StateStore {
  /** The SQLite connection, for modules that keep their tables in the same file (the audit trail). */
  readonly db: Database.Database;
  /** Path of the state.sqlite file. */
  readonly path: string;
  /** Configuration hash the store was created under. */
  readonly configHash: string;
  /** Epoch ns the store was created. */
  readonly createdNs: bigint;

  readonly #insertIntent: Database.Statement;
  readonly #updateIntent: Database.Statement;
  readonly #insertFill: Database.Statement;
  readonly #getFill: Database.Statement;
  readonly #allFills: Database.Statement;
  readonly #insertCheckpoint: Database.Statement;
  readonly #pruneCheckpoints: Database.Statement;
  readonly #lastCheckpoint: Database.Statement;
  readonly #listCheckpoints: Database.Statement;
  readonly #intentQueries = new Map<string, Database.Statement>();
  readonly #writeCheckpointTx: (row: unknown[], segments: Map<string, Uint8Array>) => number;
  readonly #hasSegment: Database.Statement;
  readonly #getSegment: Database.Statement;
  readonly #putJournal: Database.Statement;
  readonly #dropJournal: Database.Statement;

  private constructor(db: Database.Database, path: string, configHash: string, createdNs: bigint) {
    this.db = db;
    this.path = path;
    this.configHash = configHash;
    this.createdNs = createdNs;
    this.#insertIntent = db.prepare(
      `INSERT INTO intents (client_order_id, symbol, side, type, quantity, notional, limit_price, purpose, reason, bar_index, created_ns, status, updated_ns)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#updateIntent = db.prepare('UPDATE intents SET status = ?, updated_ns = ? WHERE client_order_id = ?');
    this.#putJournal = db.prepare("INSERT INTO meta (key, value) VALUES ('journal', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    this.#dropJournal = db.prepare("DELETE FROM meta WHERE key = 'journal'");
    this.#insertFill = db.prepare(
      `INSERT INTO fills (trade_id, client_order_id, symbol, side, qty, px, fee, fee_currency, ts_ns)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (trade_id) DO NOTHING`,
    );
    this.#getFill = db.prepare('SELECT * FROM fills WHERE trade_id = ?').safeIntegers(true);
    this.#allFills = db.prepare('SELECT * FROM fills ORDER BY rowid').safeIntegers(true);
    this.#insertCheckpoint = db.prepare(
      'INSERT INTO checkpoints (bar_count, ts_ns, state_json, state_sha256, audit_seq, audit_hash) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.#pruneCheckpoints = db.prepare(`DELETE FROM checkpoints WHERE id NOT IN (SELECT id FROM checkpoints ORDER BY id DESC LIMIT ${CHECKPOINTS_KEPT})`);
    this.#lastCheckpoint = db.prepare('SELECT * FROM checkpoints ORDER BY id DESC LIMIT 1').safeIntegers(true);
    this.#listCheckpoints = db
      .prepare(
        `SELECT id, bar_count, ts_ns, state_sha256, length(state_json) + coalesce((SELECT sum(length(s.bytes)) FROM checkpoint_segments r JOIN segments s ON s.sha256 = r.sha256 WHERE r.checkpoint_id = checkpoints.id), 0) AS size, audit_seq, audit_hash
         FROM checkpoints ORDER BY id`,
      )
      .safeIntegers(true);
    this.#hasSegment = db.prepare('SELECT 1 FROM segments WHERE sha256 = ?').pluck();
    this.#getSegment = db.prepare('SELECT bytes FROM segments WHERE sha256 = ?').pluck();
    const insertSegment = db.prepare('INSERT INTO segments (sha256, bytes) VALUES (?, ?)');
    const insertRef = db.prepare('INSERT INTO checkpoint_segments (checkpoint_id, sha256) VALUES (?, ?)');
    const pruneRefs = db.prepare('DELETE FROM checkpoint_segments WHERE checkpoint_id NOT IN (SELECT id FROM checkpoints)');
    const pruneSegments = db.prepare('DELETE FROM segments WHERE sha256 NOT IN (SELECT sha256 FROM checkpoint_segments)');
    this.#writeCheckpointTx = db.transaction((row: unknown[], segments: Map<string, Uint8Array>) => {
      const id = Number(this.#insertCheckpoint.run(...row).lastInsertRowid);
      for (const [sha, bytes] of segments) {
        // an unchanged part is already stored: only the reference is written
        if (this.#hasSegment.get(sha) === undefined) insertSegment.run(sha, bytes);
        insertRef.run(id, sha);
      }
      if (this.#pruneCheckpoints.run().changes > 0) {
        pruneRefs.run();
        pruneSegments.run();
      }
      return id;
    });
  }

  /**
   * Opens (or with `create`, creates) the state store at `path` and checks that it is intact, is a
   * state store of this schema version, and was written under `options.configHash`.
   * @throws StateError CheckpointMissing (no file and not `create`), CheckpointCorrupt (not a state store,
   * truncated or damaged), SchemaMismatch, ConfigMismatch (naming both hashes), StoreFailed
   */
  static open(path: string, options: StateStoreOptions): StateStore {
    text('configHash', options.configHash, 'StateStore.open');
    if (!options.create && !existsSync(path)) {
      throw new StateError('CheckpointMissing', `no state store at ${path}; nothing to resume from`);
    }
    let db: Database.Database;
    try {
      db = new Database(path, { fileMustExist: !options.create });
    } catch (e) {
      throw wrap(e, 'open', path);
    }
    try {
      const createdNs = StateStore.#prepare(db, path, options);
      return new StateStore(db, path, options.configHash, createdNs);
    } catch (e) {
      db.close();
      throw wrap(e, 'open', path);
    }
  }

  static #prepare(db: Database.Database, path: string, options: StateStoreOptions): bigint {
    const problems = (db.pragma('quick_check(5)') as { quick_check: string }[]).map((r) => r.quick_check);
    if (problems.length !== 1 || problems[0] !== 'ok') {
      throw new StateError('CheckpointCorrupt', `${path} failed SQLite's integrity check: ${problems.join('; ')}`);
    }
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name);
    if (tables.length === 0) {
      if (!options.create) throw new StateError('CheckpointCorrupt', `${path} is an empty file, not a state store`);
      const createdNs = options.createdNs ?? new LiveClock().now();
      // a checkpoint is megabytes of overflow pages: 16 KiB pages write it about 3x faster than 4 KiB
      // (measured in bench/suites/checkpoint.ts) while an intent commit stays well under a millisecond
      db.pragma(`page_size = ${STATE_PAGE_SIZE}`);
      db.pragma('journal_mode = WAL');
      db.pragma(options.durability === 'process' ? 'synchronous = OFF' : 'synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.pragma(`cache_size = -${STATE_CACHE_KIB}`);
    // a checkpoint is written inside savepoints (the engine's transaction in the batched writes): their
    // sub-journal of the pages it reuses goes to memory, not a temp file (measured 0.77 -> 0.33 ms a checkpoint)
    db.pragma('temp_store = MEMORY');
      db.transaction(() => {
        db.pragma(`application_id = ${STATE_APPLICATION_ID}`);
        db.exec(SCHEMA);
        const put = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
        put.run('schema_version', String(STATE_SCHEMA_VERSION));
        put.run('config_hash', options.configHash);
        put.run('created_ns', createdNs.toString());
      })();
      return createdNs;
    }
    StateStore.#checkSize(db, path);
    const appId = db.pragma('application_id', { simple: true }) as number;
    const missing = TABLES.filter((t) => !tables.includes(t));
    if (appId !== STATE_APPLICATION_ID || missing.length > 0) {
      throw new StateError('CheckpointCorrupt', `${path} is an SQLite file but not an AXON state store${missing.length > 0 ? ` (no table ${missing.join(', ')})` : ''}`);
    }
    const meta = new Map((db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]));
    const version = meta.get('schema_version');
    if (version !== String(STATE_SCHEMA_VERSION)) {
      throw new StateError('SchemaMismatch', `${path} has state schema version ${version ?? '(none)'}; this build reads version ${STATE_SCHEMA_VERSION}`);
    }
    const stored = meta.get('config_hash');
    if (stored !== options.configHash) {
      throw new StateError(
        'ConfigMismatch',
        `${path} was written under configuration ${stored ?? '(none)'}, but this run's configuration is ${options.configHash}; resume with the run's own configuration`,
      );
    }
    const created = meta.get('created_ns');
    if (created === undefined || !/^-?\d+$/.test(created)) throw new StateError('CheckpointCorrupt', `${path}: meta created_ns is ${JSON.stringify(created)}`);
    db.pragma('journal_mode = WAL');
    db.pragma(options.durability === 'process' ? 'synchronous = OFF' : 'synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma(`cache_size = -${STATE_CACHE_KIB}`);
    // a checkpoint is written inside savepoints (the engine's transaction in the batched writes): their
    // sub-journal of the pages it reuses goes to memory, not a temp file (measured 0.77 -> 0.33 ms a checkpoint)
    db.pragma('temp_store = MEMORY');
    return BigInt(created);
  }

  static #checkSize(db: Database.Database, path: string): void {
    // quick_check does not read overflow pages, so a cut in the middle of checkpoint data passes it;
    // SQLite writes whole pages, and without a WAL holding newer pages the file covers every page
    const size = statSync(path).size;
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const pageCount = db.pragma('page_count', { simple: true }) as number;
    const wal = `${path}-wal`;
    const walEmpty = !existsSync(wal) || statSync(wal).size === 0;
    if (size % pageSize !== 0 || (walEmpty && size < pageCount * pageSize)) {
      throw new StateError('CheckpointCorrupt', `${path} is truncated: ${size} bytes, but it holds ${pageCount} pages of ${pageSize} bytes`);
    }
  }

  /**
   * Runs `fn` in one transaction (a savepoint when nested) and returns its result; if `fn` throws,
   * everything it wrote is rolled back.
   */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /**
   * Stores an intent before its order is sent; outside a transaction it is on disk when this returns.
   * @throws StateError DuplicateIntent for a client order id already stored, InvalidArgument for bad fields
   */
  recordIntent(intent: OrderIntent): IntentRecord {
    const where = `intent ${JSON.stringify(intent.clientOrderId)}`;
    const row = [
      text('clientOrderId', intent.clientOrderId, 'intent'),
      text('symbol', intent.symbol, where),
      oneOf('side', intent.side, SIDES, where),
      oneOf('type', intent.type, ORDER_TYPES, where),
      decimal('quantity', intent.quantity, where),
      intent.notional === undefined ? null : decimal('notional', intent.notional, where),
      intent.limitPrice === undefined ? null : decimal('limitPrice', intent.limitPrice, where),
      text('purpose', intent.purpose, where),
      typeof intent.reason === 'string' ? intent.reason : text('reason', intent.reason, where),
      count('barIndex', intent.barIndex, where),
      ns('createdNs', intent.createdNs, where),
      intent.status === undefined ? INITIAL_INTENT_STATUS : text('status', intent.status, where),
      intent.createdNs,
    ];
    try {
      this.#insertIntent.run(...row);
    } catch (e) {
      if (sqliteCode(e) === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new StateError('DuplicateIntent', `${where} is already stored; a client order id is never reused`, { cause: e });
      }
      throw wrap(e, `recording ${where}`, this.path);
    }
    return intentFromRow({
      client_order_id: row[0] as string,
      symbol: row[1] as string,
      side: row[2] as Side,
      type: row[3] as OrderType,
      quantity: row[4] as string,
      notional: row[5] as string | null,
      limit_price: row[6] as string | null,
      purpose: row[7] as string,
      reason: row[8] as string,
      bar_index: BigInt(row[9] as number),
      created_ns: row[10] as bigint,
      status: row[11] as string,
      updated_ns: row[12] as bigint,
    });
  }

  /**
   * Sets an intent's status at `tsNs` (epoch ns).
   * @throws StateError IntentNotFound for an unknown client order id, InvalidArgument for bad fields
   */
  setIntentStatus(clientOrderId: string, status: string, tsNs: bigint): void {
    const where = `intent ${JSON.stringify(clientOrderId)}`;
    const info = this.#run(this.#updateIntent, [text('status', status, where), ns('tsNs', tsNs, where), clientOrderId], `updating ${where}`);
    if (info.changes === 0) throw new StateError('IntentNotFound', `no ${where} in ${this.path}`);
  }

  /** Stored intents in the order they were recorded, optionally filtered by status, symbol or purpose. */
  intents(filter: IntentFilter = {}): IntentRecord[] {
    const clauses: string[] = [];
    const params: string[] = [];
    if (filter.status !== undefined) {
      const statuses = typeof filter.status === 'string' ? [filter.status] : [...filter.status];
      if (statuses.length === 0) return [];
      clauses.push(`status IN (${statuses.map(() => '?').join(', ')})`);
      params.push(...statuses);
    }
    if (filter.symbol !== undefined) {
      clauses.push('symbol = ?');
      params.push(filter.symbol);
    }
    if (filter.purpose !== undefined) {
      clauses.push('purpose = ?');
      params.push(filter.purpose);
    }
    const sql = `SELECT * FROM intents${clauses.length > 0 ? ` WHERE ${clauses.join(' AND ')}` : ''} ORDER BY rowid`;
    let stmt = this.#intentQueries.get(sql);
    if (stmt === undefined) {
      stmt = this.db.prepare(sql).safeIntegers(true);
      this.#intentQueries.set(sql, stmt);
    }
    return (stmt.all(...params) as IntentRow[]).map(intentFromRow);
  }

  /**
   * Stores a fill once per trade id: true when stored, false for a repeat of a stored fill (a duplicate
   * venue event); the repeat must carry the same order, symbol, side, qty, px and fee.
   * @throws StateError FillConflict when a repeat differs from the stored fill, InvalidArgument for bad fields
   */
  recordFill(fill: FillRecord): boolean {
    const where = `fill ${JSON.stringify(fill.tradeId)}`;
    const row = [
      text('tradeId', fill.tradeId, 'fill'),
      text('clientOrderId', fill.clientOrderId, where),
      text('symbol', fill.symbol, where),
      oneOf('side', fill.side, SIDES, where),
      decimal('qty', fill.qty, where),
      decimal('px', fill.px, where),
      decimal('fee', fill.fee, where),
      text('feeCurrency', fill.feeCurrency, where),
      ns('tsNs', fill.tsNs, where),
    ];
    if (this.#run(this.#insertFill, row, `recording ${where}`).changes === 1) return true;
    const stored = fillFromRow(this.#getFill.get(fill.tradeId) as FillRow);
    const differs = (['clientOrderId', 'symbol', 'side', 'qty', 'px', 'fee', 'feeCurrency'] as const).filter((k) => stored[k] !== fill[k]);
    if (differs.length > 0) {
      throw new StateError(
        'FillConflict',
        `${where} repeats a stored trade id with different ${differs.map((k) => `${k} (${JSON.stringify(stored[k])} stored, ${JSON.stringify(fill[k])} now)`).join(', ')}`,
      );
    }
    return false;
  }

  /** Stored fills in the order they were recorded. */
  fills(): FillRecord[] {
    return (this.#allFills.all() as FillRow[]).map(fillFromRow);
  }

  /**
   * Records the input of a task whose orders are about to leave before the checkpoint that covers them is
   * written (the live driver's bar tasks): a restart after a death in between replays it from the last
   * checkpoint, which rebuilds the same orders (same deterministic ids) instead of losing them. One entry at
   * a time; `clearJournal` (in the checkpoint's transaction) ends it.
   */
  writeJournal(entry: string): void {
    text('journal entry', entry, 'writeJournal');
    this.#run(this.#putJournal, [entry], 'writing the journal entry');
  }

  /** The journal entry left by a task that died before its checkpoint, or undefined. */
  readJournal(): string | undefined {
    return (this.db.prepare("SELECT value FROM meta WHERE key = 'journal'").get() as { value: string } | undefined)?.value;
  }

  clearJournal(): void {
    this.#run(this.#dropJournal, [], 'clearing the journal entry');
  }

  /** The fill recorded last, or undefined when none is. */
  lastFill(): FillRecord | undefined {
    const row = (this.#lastFill ??= this.db.prepare('SELECT * FROM fills ORDER BY rowid DESC LIMIT 1').safeIntegers(true)).get() as FillRow | undefined;
    return row === undefined ? undefined : fillFromRow(row);
  }

  #lastFill: Database.Statement | undefined;

  /**
   * Writes a checkpoint of `state` (encoded with encodeStateBinary, stored with its SHA-256) and deletes all
   * but the last CHECKPOINTS_KEPT, in one transaction; the state is encoded before anything is written.
   * @throws StateError InvalidState for a state value that cannot be stored, InvalidArgument for bad fields
   */
  writeCheckpoint(input: CheckpointInput): CheckpointInfo {
    const where = 'checkpoint';
    const barCount = count('barCount', input.barCount, where);
    const tsNs = ns('tsNs', input.tsNs, where);
    let auditSeq: number | null = null;
    let auditHash: string | null = null;
    if (input.audit !== undefined) {
      auditSeq = count('audit.seq', input.audit.seq, where);
      auditHash = text('audit.hash', input.audit.hash, where);
    }
    // a view of the encoder's reusable buffer: SQLite copies it when the statement binds it; the large
    // frozen parts go to segments, hashed once for as long as they are unchanged
    const segments = new Map<string, Uint8Array>();
    const blob = encodeStateBinaryView(input.state, (sha, bytes) => segments.set(sha, bytes));
    // the state's hash covers its segments through the SHA-256 of each in its references
    const sha256 = createHash('sha256').update(blob).digest('hex');
    let size = blob.length;
    for (const bytes of segments.values()) size += bytes.length;
    let id: number;
    try {
      id = this.#writeCheckpointTx([barCount, tsNs, blob, sha256, auditSeq, auditHash], segments);
    } catch (e) {
      throw wrap(e, `writing checkpoint at bar ${barCount}`, this.path);
    }
    return {
      id,
      barCount,
      tsNs,
      sha256,
      size,
      ...(auditSeq === null || auditHash === null ? {} : { audit: { seq: auditSeq, hash: auditHash } }),
    };
  }

  /**
   * The last checkpoint, verified against its SHA-256 and decoded, or undefined when none was written.
   * @throws StateError CheckpointCorrupt when its state does not match its SHA-256 or does not decode,
   * SchemaMismatch when it is in another version of the binary encoding
   */
  loadCheckpoint(): Checkpoint | undefined {
    let row: CheckpointRow | undefined;
    try {
      row = this.#lastCheckpoint.get() as CheckpointRow | undefined;
    } catch (e) {
      throw wrap(e, 'reading the last checkpoint', this.path);
    }
    if (row === undefined) return undefined;
    const blob = row.state_json;
    // a text value is not one this store wrote (it writes blobs); its bytes are still hashed, so a
    // changed checkpoint is reported as a hash mismatch
    const bytes = blob instanceof Uint8Array ? blob : typeof blob === 'string' ? Buffer.from(blob, 'utf8') : undefined;
    if (bytes === undefined) throw new StateError('CheckpointCorrupt', `${this.path}: checkpoint ${row.id} has no encoded state`);
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== row.state_sha256) {
      throw new StateError(
        'CheckpointCorrupt',
        `${this.path}: checkpoint ${row.id} (bar ${row.bar_count}) does not match its SHA-256 (stored ${row.state_sha256}, computed ${actual}); refusing to load it`,
      );
    }
    let state: unknown;
    const segmentBytes = new Map<string, number>();
    try {
      if (typeof blob === 'string') throw new StateError('CheckpointCorrupt', 'the state is text, not the binary encoding');
      const checkpointId = row.id;
      state = decodeStateBinary(bytes, (sha) => {
        let seg: unknown;
        try {
          seg = this.#getSegment.get(sha);
        } catch (e) {
          throw wrap(e, `reading segment ${sha} of checkpoint ${checkpointId}`, this.path);
        }
        if (!(seg instanceof Uint8Array)) return undefined;
        segmentBytes.set(sha, seg.length);
        return seg;
      });
    } catch (e) {
      if (e instanceof StateError) throw new StateError(e.code === 'SchemaMismatch' ? 'SchemaMismatch' : 'CheckpointCorrupt', `${this.path}: checkpoint ${row.id}: ${e.detail}`, { cause: e });
      throw e;
    }
    const info = infoFromRow(row);
    let size = info.size;
    for (const n of segmentBytes.values()) size += n;
    return { ...info, size, state };
  }

  /** Summaries of the stored checkpoints, oldest first. */
  listCheckpoints(): CheckpointInfo[] {
    return (this.#listCheckpoints.all() as CheckpointRow[]).map(infoFromRow);
  }

  /** Closes the connection (the WAL is folded into the file); further calls fail. A no-op when closed. */
  close(): void {
    if (this.db.open) this.db.close();
  }

  #run(stmt: Database.Statement, params: unknown[], what: string): Database.RunResult {
    try {
      return stmt.run(...params);
    } catch (e) {
      throw wrap(e, what, this.path);
    }
  }
}
