// compliance: the hash-chained audit trail. Append cost (canonical encoding + SHA-256 + anchor
// compare-and-set) against a naive chain (JSON.stringify + SHA-256, no key sort, no type tags) and
// against plain SQLite inserts of the same rows; verification against hashing every row once.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { TestClock } from '../../src/core/clock.js';
import { AuditTrail, GENESIS_HASH, MemoryAuditSink, readAuditAnchor, readAuditRows, verifyAuditRows } from '../../src/compliance/index.js';
import type { AuditFields } from '../../src/compliance/index.js';
import type { BenchResult, BenchSuite } from '../harness.js';
import { pair } from '../harness.js';

const STATES = ['PENDING', 'SUBMITTED', 'ACCEPTED', 'PARTIALLY_FILLED', 'FILLED'];

// what the engine appends per order transition: ids, times and amounts as strings (causeOfVenueEvent)
function fieldsAt(i: number): AuditFields {
  return {
    kind: 'transition',
    subject: `S1-${Math.floor(i / 4)}`,
    fromState: STATES[i % 4] as string,
    toState: STATES[(i % 4) + 1] as string,
    reason: 'venue event',
    event: {
      source: 'venue',
      kind: 'filled',
      tsEvent: (1_700_000_000_000_000_000n + BigInt(i) * 1_000_000n).toString(),
      venueOrderId: `V-${i}`,
      tradeId: `T-${i}`,
      lastQty: '10',
      lastPx: '101.25',
      leavesQty: '0',
    },
  };
}

function naiveChain(n: number): string {
  let prev = GENESIS_HASH;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const text = JSON.stringify({ seq: i + 1, tsNs: String(BigInt(i)), ...fieldsAt(i), prevHash: prev });
    prev = createHash('sha256').update(text).digest('hex');
    out.push(prev);
  }
  return prev;
}

const suite: BenchSuite = {
  name: 'audit',
  run(): BenchResult[] {
    const results: BenchResult[] = [];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'axon-bench-audit-'));
    try {
      const N = 5_000;
      const mem = pair(
        () => {
          const clock = new TestClock(1_700_000_000_000_000_000n);
          const trail = new AuditTrail(clock, new MemoryAuditSink());
          for (let i = 0; i < N; i++) trail.append(fieldsAt(i));
        },
        () => naiveChain(N),
        N,
      );
      results.push({ name: 'append, memory sink', unit: 'entries/s', median: mem.subject, runs: 7, peer: 'naive chain (JSON.stringify + sha256)', peerMedian: mem.peer, ratio: mem.ratio, note: `${N} transitions with an 8-field cause` });

      const open = (name: string): Database.Database => {
        const db = new Database(path.join(dir, name));
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = FULL');
        return db;
      };
      const subjectDb = open('subject.sqlite');
      const peerDb = open('peer.sqlite');
      peerDb.exec('CREATE TABLE audit (seq INTEGER PRIMARY KEY, ts_ns TEXT NOT NULL, kind TEXT NOT NULL, subject TEXT NOT NULL, from_state TEXT, to_state TEXT, reason TEXT NOT NULL, event_json TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)');
      const clock = new TestClock(1_700_000_000_000_000_000n);
      const trail = AuditTrail.open(subjectDb, clock);
      const peerInsert = peerDb.prepare('INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
      let peerSeq = 0;
      const peerRow = (i: number): void => {
        const f = fieldsAt(i);
        peerSeq++;
        peerInsert.run(peerSeq, String(clock.now()), f.kind, f.subject, f.fromState ?? null, f.toState ?? null, f.reason, JSON.stringify(f.event), GENESIS_HASH, GENESIS_HASH);
      };
      const BATCH = 1_000;
      const inTx = pair(
        () => {
          for (let b = 0; b < N / BATCH; b++) subjectDb.transaction(() => { for (let i = 0; i < BATCH; i++) trail.append(fieldsAt(b * BATCH + i)); })();
        },
        () => {
          for (let b = 0; b < N / BATCH; b++) peerDb.transaction(() => { for (let i = 0; i < BATCH; i++) peerRow(b * BATCH + i); })();
        },
        N,
        5,
        1,
      );
      results.push({ name: 'append, SQLite inside owner transactions', unit: 'entries/s', median: inTx.subject, runs: 5, peer: 'plain INSERT of the same rows (no hash, no anchor)', peerMedian: inTx.peer, ratio: inTx.ratio, note: `WAL, synchronous FULL, ${BATCH} appends per transaction` });

      const SOLO = 200;
      const solo = pair(
        () => {
          for (let i = 0; i < SOLO; i++) trail.append(fieldsAt(i));
        },
        () => {
          for (let i = 0; i < SOLO; i++) peerRow(i);
        },
        SOLO,
        5,
        1,
      );
      results.push({ name: 'append, SQLite one transaction each', unit: 'entries/s', median: solo.subject, runs: 5, peer: 'plain autocommit INSERT', peerMedian: solo.peer, ratio: solo.ratio, note: 'WAL, synchronous FULL: every append is a durable commit' });

      const rows = readAuditRows(subjectDb);
      const anchor = readAuditAnchor(subjectDb);
      const check = verifyAuditRows(rows, anchor);
      if (!check.ok) throw new Error(`bench chain does not verify: ${check.detail}`);
      const verify = pair(
        () => verifyAuditRows(rows, anchor),
        () => {
          let h = '';
          for (const r of rows) h = createHash('sha256').update(JSON.stringify(r)).digest('hex');
          return h;
        },
        rows.length,
        5,
        1,
      );
      results.push({ name: 'verify stored rows', unit: 'entries/s', median: verify.subject, runs: 5, peer: 'sha256 of each row as JSON (hashing alone)', peerMedian: verify.peer, ratio: verify.ratio, note: `${rows.length} rows: decode event_json, check canonical form, re-encode, hash, links` });
      subjectDb.close();
      peerDb.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    return results;
  },
};

export default suite;
