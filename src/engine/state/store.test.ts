import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configHash } from './codec.js';
import { StateError } from './errors.js';
import { encodeStateBinary } from './binary.js';
import { frozenData } from '../../core/frozen.js';
import { CHECKPOINTS_KEPT, STATE_SCHEMA_VERSION, StateStore, type FillRecord, type OrderIntent } from './store.js';

let dir: string;
let file: string;
const HASH = configHash({ strategy: 'sma-cross', symbols: ['SPY'] });
const open: StateStore[] = [];

function openStore(options: Partial<{ configHash: string; create: boolean }> = {}): StateStore {
  const s = StateStore.open(file, { configHash: HASH, create: true, createdNs: 1_700_000_000_000_000_000n, ...options });
  open.push(s);
  return s;
}

function intent(id: string, over: Partial<OrderIntent> = {}): OrderIntent {
  return {
    clientOrderId: id,
    symbol: 'SPY',
    side: 'Buy',
    type: 'Limit',
    quantity: '10',
    limitPrice: '451.25',
    purpose: 'entry',
    reason: 'sma cross up',
    barIndex: 42,
    createdNs: 1_700_000_000_123_456_789n,
    ...over,
  };
}

function fill(tradeId: string, over: Partial<FillRecord> = {}): FillRecord {
  return { tradeId, clientOrderId: 'O-1', symbol: 'SPY', side: 'Buy', qty: '4', px: '451.20', fee: '0.05', feeCurrency: 'USD', tsNs: 1_700_000_000_200_000_000n, ...over };
}

function stateFor(bar: number): unknown {
  return {
    bar,
    lastNs: 1_700_000_000_000_000_000n + BigInt(bar) * 60_000_000_000n,
    positions: { SPY: { qty: '10', avgPx: '451.2', realized: '-1.25' } },
    indicators: { sma: { window: Array.from({ length: 30 }, (_, i) => 450 + Math.sin(bar + i)), value: Number.NaN } },
    killSwitch: false,
    cooldown: undefined,
  };
}

function stateErrorOf(fn: () => unknown): StateError {
  try {
    fn();
  } catch (e) {
    if (e instanceof StateError) return e;
    throw e;
  }
  throw new Error('expected a StateError');
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'axon-state-'));
  file = join(dir, 'state.sqlite');
});

afterEach(() => {
  for (const s of open.splice(0)) s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('StateStore: opening', () => {
  it('creates a WAL store with synchronous FULL and foreign keys, and reopens it', () => {
    const s = openStore();
    expect(s.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(s.db.pragma('synchronous', { simple: true })).toBe(2);
    expect(s.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(s.db.pragma('page_size', { simple: true })).toBe(16_384);
    expect(s.createdNs).toBe(1_700_000_000_000_000_000n);
    s.close();
    const again = openStore({ create: false });
    expect(again.configHash).toBe(HASH);
    expect(again.createdNs).toBe(1_700_000_000_000_000_000n);
    expect(again.db.pragma('synchronous', { simple: true })).toBe(2);
    expect(again.loadCheckpoint()).toBeUndefined();
  });

  it('refuses a missing store for a resume without creating one', () => {
    const e = stateErrorOf(() => openStore({ create: false }));
    expect(e.code).toBe('CheckpointMissing');
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe(`[CheckpointMissing] no state store at ${file}; nothing to resume from`);
    expect(existsSync(file)).toBe(false);
  });

  it('refuses a store written under another configuration, naming both hashes', () => {
    openStore().close();
    const other = configHash({ strategy: 'sma-cross', symbols: ['QQQ'] });
    const e = stateErrorOf(() => openStore({ create: false, configHash: other }));
    expect(e.code).toBe('ConfigMismatch');
    expect(e.message).toContain(HASH);
    expect(e.message).toContain(other);
    expect(stateErrorOf(() => openStore({ create: true, configHash: other })).code).toBe('ConfigMismatch');
  });

  it('refuses another schema version', () => {
    openStore().close();
    const raw = new Database(file);
    raw.prepare("UPDATE meta SET value = '99' WHERE key = 'schema_version'").run();
    raw.close();
    const e = stateErrorOf(() => openStore({ create: false }));
    expect(e.code).toBe('SchemaMismatch');
    expect(e.message).toContain(`schema version 99; this build reads version ${STATE_SCHEMA_VERSION}`);
  });

  it('refuses files that are not state stores: text, an empty file, another SQLite database', () => {
    writeFileSync(file, 'symbol,price\nSPY,1\n'.repeat(200));
    expect(stateErrorOf(() => openStore({ create: false })).code).toBe('CheckpointCorrupt');
    expect(stateErrorOf(() => openStore({ create: true })).code).toBe('CheckpointCorrupt');
    writeFileSync(file, '');
    expect(stateErrorOf(() => openStore({ create: false })).message).toMatch(/empty file, not a state store/);
    rmSync(file);
    const other = new Database(file);
    other.exec('CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)');
    other.close();
    const e = stateErrorOf(() => openStore({ create: true }));
    expect(e.code).toBe('CheckpointCorrupt');
    expect(e.message).toMatch(/not an AXON state store/);
  });

  it('refuses a truncated file (CheckpointCorrupt), whatever the cut', () => {
    const s = openStore();
    for (let i = 0; i < 40; i++) s.recordIntent(intent(`O-${i}`, { reason: 'x'.repeat(500) }));
    for (let bar = 100; bar <= 300; bar += 100) s.writeCheckpoint({ barCount: bar, tsNs: BigInt(bar), state: { pad: 'p'.repeat(20_000), ...(stateFor(bar) as object) } });
    s.close();
    expect(existsSync(`${file}-wal`)).toBe(false);
    const whole = readFileSync(file);
    const size = statSync(file).size;
    expect(size).toBeGreaterThan(40_000);
    for (const cut of [Math.floor(size / 2), size - 4096, size - 16_384, size - 1, 16_384, 4096, 60]) {
      writeFileSync(file, whole);
      truncateSync(file, cut);
      const e = stateErrorOf(() => openStore({ create: false }));
      expect(e.code, `cut at ${cut}`).toBe('CheckpointCorrupt');
    }
    writeFileSync(file, whole);
    expect(openStore({ create: false }).loadCheckpoint()?.barCount).toBe(300);
  });
});

describe('StateStore: intents', () => {
  it('stores intents durably with exact decimals and epoch-ns bigints', () => {
    const s = openStore();
    const rec = s.recordIntent(intent('O-1'));
    expect(rec.status).toBe('PENDING');
    expect(rec.updatedNs).toBe(1_700_000_000_123_456_789n);
    const { limitPrice: _limit, ...market } = intent('O-2');
    s.recordIntent({ ...market, type: 'Market', notional: '1000.00', side: 'Sell', purpose: 'exit', status: 'SUBMITTED' });
    s.close();
    const again = openStore({ create: false });
    const all = again.intents();
    expect(all.map((r) => r.clientOrderId)).toEqual(['O-1', 'O-2']);
    expect(all[0]).toStrictEqual({ ...intent('O-1'), status: 'PENDING', updatedNs: 1_700_000_000_123_456_789n });
    expect(all[1]).toMatchObject({ type: 'Market', notional: '1000.00', side: 'Sell', status: 'SUBMITTED' });
    expect(all[1] && 'limitPrice' in all[1]).toBe(false);
  });

  it('refuses a duplicate client order id and keeps the first intent unchanged', () => {
    const s = openStore();
    s.recordIntent(intent('O-1'));
    const e = stateErrorOf(() => s.recordIntent(intent('O-1', { quantity: '99' })));
    expect(e.code).toBe('DuplicateIntent');
    expect(e.message).toBe('[DuplicateIntent] intent "O-1" is already stored; a client order id is never reused');
    expect(s.intents().map((r) => r.quantity)).toEqual(['10']);
  });

  it('refuses bad intent fields and writes nothing', () => {
    const s = openStore();
    const bad: [Partial<OrderIntent>, RegExp][] = [
      [{ quantity: '1O' }, /quantity must be a decimal string, got "1O"/],
      [{ side: 'Long' as 'Buy' }, /side must be one of Buy, Sell/],
      [{ type: 'Iceberg' as 'Limit' }, /type must be one of/],
      [{ barIndex: -1 }, /barIndex must be a non-negative safe integer/],
      [{ createdNs: 5 as unknown as bigint }, /createdNs must be a bigint/],
      [{ symbol: '' }, /symbol must be a non-empty string/],
      [{ limitPrice: 'abc' }, /limitPrice must be a decimal string/],
    ];
    for (const [over, message] of bad) {
      const e = stateErrorOf(() => s.recordIntent(intent('O-bad', over)));
      expect(e.code).toBe('InvalidArgument');
      expect(e.message).toMatch(message);
    }
    expect(s.intents()).toEqual([]);
  });

  it('updates status and filters by status, symbol and purpose', () => {
    const s = openStore();
    s.recordIntent(intent('O-1'));
    s.recordIntent(intent('O-2', { symbol: 'QQQ' }));
    s.recordIntent(intent('O-3', { purpose: 'exit' }));
    s.setIntentStatus('O-1', 'FILLED', 1_700_000_000_900_000_000n);
    s.setIntentStatus('O-3', 'CANCELED', 1_700_000_000_950_000_000n);
    expect(s.intents({ status: 'FILLED' })).toMatchObject([{ clientOrderId: 'O-1', updatedNs: 1_700_000_000_900_000_000n }]);
    expect(s.intents({ status: ['FILLED', 'CANCELED'] }).map((r) => r.clientOrderId)).toEqual(['O-1', 'O-3']);
    expect(s.intents({ status: [] })).toEqual([]);
    expect(s.intents({ symbol: 'QQQ' }).map((r) => r.clientOrderId)).toEqual(['O-2']);
    expect(s.intents({ purpose: 'entry', status: 'PENDING' }).map((r) => r.clientOrderId)).toEqual(['O-2']);
    const e = stateErrorOf(() => s.setIntentStatus('O-9', 'FILLED', 1n));
    expect(e.code).toBe('IntentNotFound');
    expect(e.message).toContain('"O-9"');
  });
});

describe('StateStore: fills', () => {
  it('stores a fill once per trade id and refuses a conflicting repeat', () => {
    const s = openStore();
    expect(s.recordFill(fill('T-1'))).toBe(true);
    expect(s.recordFill(fill('T-2', { qty: '6' }))).toBe(true);
    expect(s.recordFill(fill('T-1'))).toBe(false);
    expect(s.recordFill(fill('T-1', { tsNs: 1_700_000_000_300_000_000n }))).toBe(false);
    const e = stateErrorOf(() => s.recordFill(fill('T-1', { qty: '5', px: '451.30' })));
    expect(e.code).toBe('FillConflict');
    expect(e.message).toMatch(/qty \("4" stored, "5" now\), px \("451.20" stored, "451.30" now\)/);
    expect(s.fills()).toStrictEqual([fill('T-1'), fill('T-2', { qty: '6' })]);
    expect(stateErrorOf(() => s.recordFill(fill('T-3', { fee: 'free' }))).code).toBe('InvalidArgument');
  });
});

describe('StateStore: checkpoints', () => {
  it('round-trips state with bigints, NaN, undefined and packed windows, with the audit mark', () => {
    const s = openStore();
    const state = stateFor(100);
    const info = s.writeCheckpoint({ barCount: 100, tsNs: 1_700_000_006_000_000_000n, state, audit: { seq: 17, hash: 'ab'.repeat(32) } });
    expect(info.barCount).toBe(100);
    s.close();
    const again = openStore({ create: false });
    const cp = again.loadCheckpoint();
    expect(cp).toBeDefined();
    expect(cp?.state).toStrictEqual(state);
    expect(cp).toMatchObject({ id: info.id, barCount: 100, tsNs: 1_700_000_006_000_000_000n, sha256: info.sha256, size: info.size, audit: { seq: 17, hash: 'ab'.repeat(32) } });
  });

  it(`keeps the last ${CHECKPOINTS_KEPT} checkpoints and loads the newest`, () => {
    const s = openStore();
    for (let bar = 100; bar <= 700; bar += 100) s.writeCheckpoint({ barCount: bar, tsNs: BigInt(bar), state: stateFor(bar) });
    expect(s.listCheckpoints().map((c) => c.barCount)).toEqual([500, 600, 700]);
    expect(s.loadCheckpoint()?.state).toStrictEqual(stateFor(700));
    expect(s.listCheckpoints()[0]?.audit).toBeUndefined();
  });

  it('stores a large unchanged frozen part once for every checkpoint that holds it, and deletes it with the last of them', () => {
    const s = openStore();
    const book = (tag: string): object => frozenData({ tag, orders: Array.from({ length: 2000 }, (_, i) => ({ id: `${tag}-order-${i}`, qty: String(i * 3), px: 100 + i / 8 })) });
    const segments = (): number => s.db.prepare('SELECT count(*) FROM segments').pluck().get() as number;
    const a = book('a');
    const infos = [100, 200, 300].map((bar) => s.writeCheckpoint({ barCount: bar, tsNs: BigInt(bar), state: { ...(stateFor(bar) as object), book: a } }));
    expect(segments()).toBe(1);
    // the size counts the segment; the checkpoint row itself is small
    const rowBytes = s.db.prepare('SELECT length(state_json) FROM checkpoints WHERE bar_count = 300').pluck().get() as number;
    expect(infos[2]?.size).toBeGreaterThan(rowBytes + 30_000);
    expect(s.listCheckpoints().map((c) => c.size)).toEqual(infos.map((i) => i.size));
    const loaded = s.loadCheckpoint();
    expect(loaded?.state).toStrictEqual({ ...(stateFor(300) as object), book: a });
    expect(loaded?.size).toBe(infos[2]?.size);
    // a new part: both stored while a kept checkpoint refers to the old one, then the old one goes
    const b = book('b');
    for (const bar of [400, 500]) s.writeCheckpoint({ barCount: bar, tsNs: BigInt(bar), state: { ...(stateFor(bar) as object), book: b } });
    expect(segments()).toBe(2);
    s.writeCheckpoint({ barCount: 600, tsNs: 600n, state: { ...(stateFor(600) as object), book: b } });
    expect(segments()).toBe(1);
    expect(s.db.prepare('SELECT count(DISTINCT sha256) FROM checkpoint_segments').pluck().get()).toBe(1);
    // a checkpoint that rolls back leaves no segment behind
    expect(() =>
      s.transaction(() => {
        s.writeCheckpoint({ barCount: 700, tsNs: 700n, state: { ...(stateFor(700) as object), book: book('c') } });
        throw new Error('died before commit');
      }),
    ).toThrow('died before commit');
    expect(segments()).toBe(1);
    expect(s.loadCheckpoint()?.state).toStrictEqual({ ...(stateFor(600) as object), book: b });
  });

  it('refuses a checkpoint whose segment was changed or deleted (CheckpointCorrupt naming it)', () => {
    const s = openStore();
    const part = frozenData({ orders: Array.from({ length: 2000 }, (_, i) => ({ id: `order-${i}`, qty: String(i), px: i / 3 })) });
    s.writeCheckpoint({ barCount: 100, tsNs: 100n, state: { bar: 100, part } });
    const [sha, bytes] = s.db.prepare('SELECT sha256, bytes FROM segments').raw().get() as [string, Buffer];
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
    s.db.prepare('UPDATE segments SET bytes = ?').run(bytes);
    const changed = stateErrorOf(() => s.loadCheckpoint());
    expect(changed.code).toBe('CheckpointCorrupt');
    expect(changed.message).toContain(`segment ${sha} does not match its SHA-256`);
    s.db.prepare('DELETE FROM segments').run();
    const missing = stateErrorOf(() => s.loadCheckpoint());
    expect(missing.code).toBe('CheckpointCorrupt');
    expect(missing.message).toMatch(new RegExp(`checkpoint \\d+: binary checkpoint state: segment ${sha} is not stored`));
  });

  it('refuses a state it cannot store and writes nothing', () => {
    const s = openStore();
    s.writeCheckpoint({ barCount: 100, tsNs: 100n, state: stateFor(100) });
    const e = stateErrorOf(() => s.writeCheckpoint({ barCount: 200, tsNs: 200n, state: { orders: new Map() } }));
    expect(e.code).toBe('InvalidState');
    expect(s.listCheckpoints().map((c) => c.barCount)).toEqual([100]);
  });

  it('refuses a checkpoint whose encoded state was changed by one byte (CheckpointCorrupt), never half-loading it', () => {
    const s = openStore();
    s.writeCheckpoint({ barCount: 100, tsNs: 100n, state: stateFor(100) });
    s.writeCheckpoint({ barCount: 200, tsNs: 200n, state: stateFor(200) });
    const blob = s.db.prepare('SELECT state_json FROM checkpoints WHERE bar_count = 200').pluck().get() as Buffer;
    // the last byte of a window double: still a valid encoding of a valid state, only the hash can tell
    const window = blob.indexOf(Buffer.from(new Float64Array([450 + Math.sin(200)]).buffer));
    expect(window).toBeGreaterThan(0);
    blob[window] = (blob[window] as number) ^ 1;
    const changed = s.db.prepare('UPDATE checkpoints SET state_json = ? WHERE bar_count = 200').run(blob);
    expect(changed.changes).toBe(1);
    const e = stateErrorOf(() => s.loadCheckpoint());
    expect(e.code).toBe('CheckpointCorrupt');
    expect(e.message).toMatch(/checkpoint \d+ \(bar 200\) does not match its SHA-256/);
    s.close();
    expect(stateErrorOf(() => openStore({ create: false }).loadCheckpoint()).code).toBe('CheckpointCorrupt');
  });

  it('refuses a checkpoint whose hash matches but whose encoding is cut, text or of another version', () => {
    const s = openStore();
    const put = (value: Buffer | string): StateError => {
      const hash = createHash('sha256').update(value).digest('hex');
      s.db.prepare('INSERT INTO checkpoints (bar_count, ts_ns, state_json, state_sha256) VALUES (1, 1, ?, ?)').run(value, hash);
      return stateErrorOf(() => s.loadCheckpoint());
    };
    const whole = encodeStateBinary(stateFor(1));
    const cut = put(whole.subarray(0, whole.length - 8));
    expect(cut.code).toBe('CheckpointCorrupt');
    expect(cut.message).toMatch(/checkpoint \d+: binary checkpoint state: \d+ bytes, but its header describes \d+/);
    const text = put('{"bar":1}');
    expect(text.code).toBe('CheckpointCorrupt');
    expect(text.message).toMatch(/the state is text, not the binary encoding/);
    const version = Buffer.from(whole);
    version.writeUInt16LE(9, 4);
    const e = put(version);
    expect(e.code).toBe('SchemaMismatch');
    expect(e.message).toMatch(/format version 9; this build reads versions 1 to 3/);
  });
});

describe('StateStore: transactions and the shared connection', () => {
  it('rolls back everything written in a failed transaction; nested ones are savepoints', () => {
    const s = openStore();
    expect(() =>
      s.transaction(() => {
        s.recordIntent(intent('O-1'));
        s.writeCheckpoint({ barCount: 1, tsNs: 1n, state: {} });
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(s.intents()).toEqual([]);
    expect(s.loadCheckpoint()).toBeUndefined();
    const result = s.transaction(() => {
      s.recordIntent(intent('O-2'));
      expect(() =>
        s.transaction(() => {
          s.recordIntent(intent('O-3'));
          throw new Error('inner');
        }),
      ).toThrow('inner');
      return 'done';
    });
    expect(result).toBe('done');
    expect(s.intents().map((r) => r.clientOrderId)).toEqual(['O-2']);
  });

  it('lets another module keep its tables in the same file and commit with the store', () => {
    const s = openStore();
    s.db.exec('CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY, entry TEXT NOT NULL)');
    const append = s.db.prepare('INSERT INTO audit (entry) VALUES (?)');
    s.transaction(() => {
      s.recordIntent(intent('O-1'));
      append.run('intent O-1');
    });
    expect(() =>
      s.transaction(() => {
        s.recordIntent(intent('O-2'));
        append.run(null);
      }),
    ).toThrow();
    expect(s.intents().map((r) => r.clientOrderId)).toEqual(['O-1']);
    s.close();
    const again = openStore({ create: false });
    expect(again.db.prepare('SELECT entry FROM audit').pluck().all()).toEqual(['intent O-1']);
  });
});
