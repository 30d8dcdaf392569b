import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClock } from '../core/clock.js';
import { AuditTrail } from './trail.js';

const ROOT = path.join(import.meta.dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'axon.js');

function newestSource(): number {
  let t = 0;
  for (const d of [path.join(ROOT, 'src', 'compliance'), path.join(ROOT, 'src', 'cli')]) {
    for (const f of fs.readdirSync(d, { recursive: true, encoding: 'utf8' })) if (f.endsWith('.ts') && !f.endsWith('.test.ts')) t = Math.max(t, fs.statSync(path.join(d, f)).mtimeMs);
  }
  return t;
}

let tmp: string;
beforeAll(() => {
  const built = path.join(ROOT, 'dist', 'cli', 'commands', 'audit.js');
  if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < newestSource()) {
    // other modules' type errors still emit, so judge the build by its output file
    try {
      execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
    } catch {
      if (!fs.existsSync(built)) throw new Error('npm run build produced no dist/cli/commands/audit.js');
    }
  }
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'axon-audit-cli-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function axon(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: tmp, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A run directory whose state.sqlite holds a 6-entry chain written through AuditTrail. */
function makeRun(name: string): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  const db = new Database(path.join(dir, 'state.sqlite'));
  db.pragma('journal_mode = WAL');
  const clock = new TestClock(1_700_000_000_000_000_000n);
  const trail = AuditTrail.open(db, clock);
  for (let i = 1; i <= 6; i++) {
    clock.advance(2_000_000_000n);
    trail.append({ kind: 'transition', subject: `O-${i}`, fromState: 'SUBMITTED', toState: 'FILLED', reason: 'venue fill', event: { type: 'OrderFilled', qty: '10', tsEvent: clock.now() } });
  }
  db.close();
  return dir;
}

function sql(dir: string, statement: string): void {
  const db = new Database(path.join(dir, 'state.sqlite'));
  db.exec(statement);
  db.close();
}

describe('axon audit verify (built binary)', () => {
  it('exits 0 with a one-line summary on an intact chain, JSON on stdout with --json', () => {
    const dir = makeRun('intact');
    const r = axon(['audit', 'verify', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^audit chain of ${dir} intact: 6 entries, head seq 6 [0-9a-f]{64}, 0 checkpoint copies of the head agree\\n$`));
    const j = axon(['audit', 'verify', dir, '--json']);
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({ runDir: dir, ok: true, count: 6, head: { seq: 6 }, checkpoints: 0 });
  });

  it('exits 2 naming the first bad entry after UPDATE, DELETE or INSERT', () => {
    const cases: [string, string, number, string][] = [
      ['updated', "UPDATE audit SET to_state = 'CANCELED' WHERE seq = 3", 3, 'changed'],
      ['deleted', 'DELETE FROM audit WHERE seq = 2', 2, 'removed'],
      ['deleted-last', 'DELETE FROM audit WHERE seq = 6', 6, 'truncated'],
      ['inserted', "INSERT INTO audit SELECT 7, ts_ns, kind, subject, from_state, to_state, reason, event_json, hash, hash FROM audit WHERE seq = 6", 7, 'inserted'],
    ];
    for (const [name, statement, seq, problem] of cases) {
      const dir = makeRun(name);
      sql(dir, statement);
      const r = axon(['audit', 'verify', dir]);
      expect({ name, code: r.code }).toEqual({ name, code: 2 });
      expect(r.stderr).toContain(`axon: [AuditIntegrityFailed] audit chain of ${dir} is broken at seq ${seq} (${problem}): `);
      const j = axon(['audit', 'verify', dir, '--json']);
      expect(j.code).toBe(2);
      expect(JSON.parse(j.stdout)).toMatchObject({ ok: false, seq, problem });
    }
  });

  it('exits 2 with a clear error for a directory without state.sqlite', () => {
    const r = axon(['audit', 'verify', path.join(tmp, 'nope')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`axon: [AuditMissing] no state.sqlite in ${path.join(tmp, 'nope')}\n`);
  });
});
