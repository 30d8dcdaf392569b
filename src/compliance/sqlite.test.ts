import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestClock } from '../core/clock.js';
import { Price } from '../core/decimal.js';
import { auditEntryHash, GENESIS_HASH } from './entry.js';
import type { AuditEntry } from './entry.js';
import { ComplianceError } from './errors.js';
import { readAuditAnchor, readAuditRows } from './sqlite-sink.js';
import { AuditTrail } from './trail.js';
import { verifyAuditRows } from './verify.js';
import { verifyRunDir } from './run-dir.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'axon-audit-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function dbPath(): string {
  return path.join(dir, 'state.sqlite');
}

/** A run's state.sqlite in WAL mode with `n` order transitions appended. */
function writeRun(n: number): AuditEntry[] {
  const db = new Database(dbPath());
  db.pragma('journal_mode = WAL');
  const clock = new TestClock(1_700_000_000_000_000_000n);
  const trail = AuditTrail.open(db, clock);
  const out: AuditEntry[] = [];
  for (let i = 1; i <= n; i++) {
    clock.advance(1_000_000n);
    out.push(
      trail.append({
        kind: i % 3 === 0 ? 'fill' : 'transition',
        subject: `O-${Math.ceil(i / 3)}`,
        fromState: 'SUBMITTED',
        toState: i % 3 === 0 ? 'FILLED' : 'ACCEPTED',
        reason: `step ${i}`,
        ...(i % 2 === 0 ? { event: { type: 'OrderFilled', px: Price.of('100.25'), tsEvent: clock.now(), note: 'é"\n' } } : {}),
      }),
    );
  }
  db.close();
  return out;
}

function tamper(sql: string, ...params: unknown[]): void {
  const db = new Database(dbPath());
  db.prepare(sql).run(...params);
  db.close();
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof ComplianceError) return e.code;
    throw e;
  }
  return undefined;
}

describe('SqliteAuditSink', () => {
  it('stores entries that read back identical and verify, and resumes the chain after a restart', () => {
    const first = writeRun(5);
    const db = new Database(dbPath());
    const trail = AuditTrail.open(db, new TestClock(1_800_000_000_000_000_000n));
    expect(trail.size).toBe(5);
    expect(trail.head()).toEqual({ seq: 5, hash: (first[4] as AuditEntry).hash });
    const sixth = trail.append({ kind: 'reconcile', subject: 'SPY', reason: 'startup reconciliation', event: { venueQty: '0', localQty: '10' } });
    expect(sixth).toMatchObject({ seq: 6, prevHash: (first[4] as AuditEntry).hash });
    const rows = readAuditRows(db);
    expect(rows).toHaveLength(6);
    expect(rows[1]).toMatchObject({ seq: 2, ts_ns: String((first[1] as AuditEntry).tsNs), event_json: expect.stringContaining('"px":"100.25"') });
    expect(readAuditAnchor(db)).toEqual({ seq: 6, hash: sixth.hash });
    expect(verifyAuditRows(rows, readAuditAnchor(db))).toEqual({ ok: true, count: 6, head: { seq: 6, hash: sixth.hash } });
    // a reader while the writer still has the WAL database open
    expect(verifyRunDir(dir)).toMatchObject({ ok: true, count: 6 });
    db.close();
    expect(verifyRunDir(dir)).toEqual({ ok: true, count: 6, head: { seq: 6, hash: sixth.hash }, checkpoints: 0 });
  });

  it('writes inside the owner transaction, so a rollback drops the entries; reload re-syncs the trail', () => {
    const db = new Database(dbPath());
    const trail = AuditTrail.open(db, new TestClock());
    trail.append({ kind: 'intent', subject: 'O-1', reason: 'kept' });
    const checkpoint = db.transaction(() => {
      trail.append({ kind: 'intent', subject: 'O-2', reason: 'rolled back' });
      expect(db.inTransaction).toBe(true);
      throw new Error('checkpoint failed');
    });
    expect(() => checkpoint()).toThrow('checkpoint failed');
    expect(readAuditRows(db)).toHaveLength(1);
    expect(() => trail.append({ kind: 'intent', subject: 'O-3', reason: 'stale head' })).toThrow(/AuditConflict/);
    trail.reload();
    expect(trail.append({ kind: 'intent', subject: 'O-3', reason: 'after reload' }).seq).toBe(2);
    expect(verifyAuditRows(readAuditRows(db), readAuditAnchor(db))).toMatchObject({ ok: true, count: 2 });
    db.close();
  });

  it('with deferWrites holds entries inside the owner transaction until flush, and stores the same rows', () => {
    const fields = (i: number) => ({ kind: 'transition', subject: `O-${i}`, fromState: 'SUBMITTED', toState: 'FILLED', reason: `r${i}`, ...(i % 2 === 0 ? { event: { px: Price.of('1.5'), n: i } } : {}) });
    const plainDb = new Database(path.join(dir, 'plain.sqlite'));
    const plain = AuditTrail.open(plainDb, new TestClock(5n));
    const db = new Database(dbPath());
    const trail = AuditTrail.open(db, new TestClock(5n), { deferWrites: true });
    // outside a transaction an append is stored at once
    plain.append(fields(0));
    trail.append(fields(0));
    expect(readAuditRows(db)).toHaveLength(1);
    db.exec('BEGIN');
    for (let i = 1; i <= 70; i++) {
      plain.append(fields(i));
      trail.append(fields(i));
    }
    // held: neither rows nor anchor moved, while the trail's head did
    expect(readAuditRows(db)).toHaveLength(1);
    expect(readAuditAnchor(db)?.seq).toBe(1);
    expect(trail.head().seq).toBe(71);
    trail.flush(); // 2 inserts of 32 rows and 6 single ones
    db.exec('COMMIT');
    expect(readAuditRows(db)).toEqual(readAuditRows(plainDb));
    expect(readAuditAnchor(db)).toEqual(readAuditAnchor(plainDb));
    expect(verifyAuditRows(readAuditRows(db), readAuditAnchor(db))).toMatchObject({ ok: true, count: 71 });

    // a rollback drops what was held; reload re-syncs
    db.exec('BEGIN');
    trail.append(fields(99));
    db.exec('ROLLBACK');
    trail.reload();
    expect(trail.head().seq).toBe(71);
    // another writer moved the head: flush refuses and writes nothing
    db.exec('BEGIN');
    trail.append(fields(72));
    AuditTrail.open(db, new TestClock(9n)).append(fields(100));
    expect(() => trail.flush()).toThrow(/AuditConflict/);
    db.exec('COMMIT');
    expect(readAuditRows(db)).toHaveLength(72);
    expect(verifyAuditRows(readAuditRows(db), readAuditAnchor(db))).toMatchObject({ ok: true, count: 72 });
    plainDb.close();
    db.close();
  });

  it('refuses to open when the anchor and the last entry disagree', () => {
    writeRun(3);
    tamper('DELETE FROM audit WHERE seq = 3');
    const db = new Database(dbPath());
    expect(() => AuditTrail.open(db, new TestClock())).toThrow(/\[AuditIntegrityFailed\] audit_anchor \(seq 3\) disagrees with the last stored audit entry \(seq 2\)/);
    db.exec('DELETE FROM audit_anchor');
    expect(codeOf(() => AuditTrail.open(db, new TestClock()))).toBe('AuditIntegrityFailed');
    db.close();
  });

  it('is a StorageError to open a trail on a read-only database without the tables', () => {
    new Database(dbPath()).close();
    const db = new Database(dbPath(), { readonly: true });
    expect(() => AuditTrail.open(db, new TestClock())).toThrow(/\[StorageError\] cannot create the audit tables in .*state\.sqlite: attempt to write a readonly database/);
    db.close();
  });

  it('creates an empty chain anchored at genesis', () => {
    const db = new Database(dbPath());
    const trail = AuditTrail.open(db, new TestClock());
    expect(trail.head()).toEqual({ seq: 0, hash: GENESIS_HASH });
    db.close();
    expect(verifyRunDir(dir)).toEqual({ ok: true, count: 0, head: { seq: 0, hash: GENESIS_HASH }, checkpoints: 0 });
  });
});

describe('verifyRunDir against SQL tampering', () => {
  it('names the first bad entry for UPDATE, DELETE and INSERT', () => {
    const entries = writeRun(8);
    const cases: [string, () => void, object][] = [
      ['UPDATE reason', () => tamper("UPDATE audit SET reason = 'nothing happened' WHERE seq = 4"), { seq: 4, problem: 'changed' }],
      ['UPDATE hash to stay consistent', () => {
        const e = { ...(entries[3] as AuditEntry), reason: 'nothing happened' };
        tamper("UPDATE audit SET reason = 'nothing happened', hash = ? WHERE seq = 4", auditEntryHash(e));
      }, { seq: 4, problem: 'changed' }],
      ['UPDATE ts_ns with a leading zero', () => tamper("UPDATE audit SET ts_ns = '0' || ts_ns WHERE seq = 2"), { seq: 2, problem: 'changed' }],
      ['UPDATE event_json with spacing', () => tamper("UPDATE audit SET event_json = ' ' || event_json WHERE seq = 6"), { seq: 6, problem: 'changed' }],
      ['UPDATE event_json to junk', () => tamper("UPDATE audit SET event_json = '{' WHERE seq = 6"), { seq: 6, problem: 'malformed' }],
      ['DELETE a middle entry', () => tamper('DELETE FROM audit WHERE seq = 5'), { seq: 5, problem: 'removed' }],
      ['DELETE the last entry', () => tamper('DELETE FROM audit WHERE seq = 8'), { seq: 8, problem: 'truncated' }],
      ['INSERT a forged entry at the end', () => {
        const last = entries[7] as AuditEntry;
        const body = { seq: 9, tsNs: last.tsNs + 1n, kind: 'fill', subject: 'O-9', reason: 'forged', prevHash: last.hash };
        tamper(
          'INSERT INTO audit (seq, ts_ns, kind, subject, reason, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)',
          9, String(body.tsNs), body.kind, body.subject, body.reason, body.prevHash, auditEntryHash(body),
        );
      }, { seq: 9, problem: 'inserted' }],
      ['DELETE and re-INSERT a changed entry', () => {
        const db = new Database(dbPath());
        const row = db.prepare('SELECT * FROM audit WHERE seq = 3').get() as Record<string, unknown>;
        db.prepare('DELETE FROM audit WHERE seq = 3').run();
        db.prepare('INSERT INTO audit (seq, ts_ns, kind, subject, from_state, to_state, reason, event_json, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
          3, row.ts_ns, row.kind, row.subject, row.from_state, 'CANCELED', row.reason, row.event_json, row.prev_hash, row.hash,
        );
        db.close();
      }, { seq: 3, problem: 'changed' }],
    ];
    const pristine = fs.readFileSync(dbPath());
    for (const [name, act, expected] of cases) {
      fs.writeFileSync(dbPath(), pristine);
      act();
      expect({ name, ...verifyRunDir(dir) }).toMatchObject({ name, ok: false, ...expected });
    }
  });

  it('catches a re-hashed table through the anchor, and not when the anchor is rewritten too', () => {
    const entries = writeRun(4);
    const db = new Database(dbPath());
    let prev = (entries[1] as AuditEntry).hash;
    for (const e of entries.slice(2)) {
      const forged = { ...e, reason: `${e.reason} (edited)`, prevHash: prev };
      const hash = auditEntryHash(forged);
      db.prepare('UPDATE audit SET reason = ?, prev_hash = ?, hash = ? WHERE seq = ?').run(forged.reason, prev, hash, e.seq);
      prev = hash;
    }
    db.close();
    expect(verifyRunDir(dir)).toMatchObject({ ok: false, seq: 1, problem: 'changed', detail: expect.stringMatching(/re-hashed, somewhere in seq 1\.\.4/) });
    tamper('UPDATE audit_anchor SET hash = ? WHERE id = 1', prev);
    // the documented limit: an anchor kept in the same file is rewritten as easily as the chain
    expect(verifyRunDir(dir)).toMatchObject({ ok: true, count: 4 });
    // ... unless a copy survives elsewhere: here the engine's checkpoint taken at seq 2 (the change is in 3..4)
    tamper('CREATE TABLE checkpoints (id INTEGER PRIMARY KEY, bar_count INTEGER NOT NULL, audit_seq INTEGER, audit_hash TEXT)');
    tamper('INSERT INTO checkpoints (bar_count, audit_seq, audit_hash) VALUES (100, NULL, NULL), (200, 2, ?), (300, 4, ?)', (entries[1] as AuditEntry).hash, (entries[3] as AuditEntry).hash);
    expect(verifyRunDir(dir)).toMatchObject({ ok: false, seq: 3, index: 2, problem: 'changed', checkpoints: 2, detail: expect.stringMatching(/somewhere in seq 3\.\.4/) });
  });

  it('is a clear error when the file, the tables or the anchor row are missing', () => {
    expect(() => verifyRunDir(dir)).toThrow(`[AuditMissing] no state.sqlite in ${dir}`);
    fs.writeFileSync(dbPath(), 'not a database, just text that is long enough to have a header ........................................');
    expect(codeOf(() => verifyRunDir(dir))).toBe('AuditMissing');
    fs.rmSync(dbPath());
    const db = new Database(dbPath());
    db.exec('CREATE TABLE audit (seq INTEGER PRIMARY KEY)');
    db.close();
    expect(() => verifyRunDir(dir)).toThrow(/\[AuditMissing\] .*state\.sqlite has no audit_anchor table/);
    fs.rmSync(dbPath());
    writeRun(2);
    tamper('DELETE FROM audit_anchor');
    expect(() => verifyRunDir(dir)).toThrow(/\[AuditIntegrityFailed\] .*audit_anchor has no well-formed row/);
    expect(new ComplianceError('AuditMissing', 'x').exitCode).toBe(2);
  });
});
