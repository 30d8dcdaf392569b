import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'axon.js');
const TOTAL_BARS = 31_757;

function axon(args: string[]): { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

function sameRun(a: string, b: string): void {
  for (const f of ['summary.json', 'trades.csv']) expect(readFileSync(join(b, f), 'utf8'), f).toBe(readFileSync(join(a, f), 'utf8'));
  const days = readdirSync(join(a, 'bars', 'SPY'));
  expect(readdirSync(join(b, 'bars', 'SPY'))).toEqual(days);
  for (const d of days) expect(readFileSync(join(b, 'bars', 'SPY', d)).equals(readFileSync(join(a, 'bars', 'SPY', d))), d).toBe(true);
  const v = axon(['audit', 'verify', b, '--json']);
  expect(v.code, v.stderr).toBe(0);
}

function intentIds(run: string): string[] {
  const db = new Database(join(run, 'state.sqlite'), { readonly: true });
  try {
    return (db.prepare('SELECT client_order_id FROM intents ORDER BY rowid').all() as { client_order_id: string }[]).map((r) => r.client_order_id);
  } finally {
    db.close();
  }
}

describe('axon backtest --resume after the process dies', () => {
  let dir: string;
  let reference: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'axon-resume-'));
    reference = join(dir, 'ref');
    const r = axon(['backtest', '--out', reference, '--json']);
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the uninterrupted result after deaths at seeded random bars (including a second death during the resumed run)', () => {
    const rng = new Rng('resume-kill-points');
    for (let round = 0; round < 3; round++) {
      const run = join(dir, `halt-${round}`);
      const first = rng.int(2_000, TOTAL_BARS - 2_000);
      const died = axon(['backtest', '--out', run, '--json', '--halt-after', String(first)]);
      expect(died.signal).toBe('SIGKILL');
      expect(existsSync(join(run, 'summary.json'))).toBe(false);
      if (round === 2) {
        // die again while resuming, later on
        const again = axon(['backtest', '--resume', run, '--json', '--halt-after', String(first + rng.int(500, 1_500))]);
        expect(again.signal).toBe('SIGKILL');
      }
      const resumed = axon(['backtest', '--resume', run, '--json']);
      expect(resumed.code, resumed.stderr).toBe(0);
      sameRun(reference, run);
      // no order intent is ever recorded twice: each deterministic id appears once
      const ids = intentIds(run);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual(intentIds(reference));
    }
  });

  it('gives the uninterrupted result after a real SIGKILL from outside', async () => {
    const run = join(dir, 'sigkill');
    const child = spawn(process.execPath, [BIN, 'backtest', '--out', run, '--json'], { cwd: ROOT, stdio: 'ignore' });
    // wait until it has written a few checkpoints, then kill it from outside
    const deadline = Date.now() + 60_000;
    for (;;) {
      await new Promise((r) => setTimeout(r, 50));
      const db = existsSync(join(run, 'state.sqlite')) ? join(run, 'state.sqlite') : undefined;
      if (db !== undefined) {
        try {
          const d = new Database(db, { readonly: true });
          const n = (d.prepare('SELECT count(*) AS n FROM checkpoints').get() as { n: number }).n;
          d.close();
          if (n >= 2) break;
        } catch {
          // the file is being created
        }
      }
      if (Date.now() > deadline) throw new Error('the backtest wrote no checkpoint in 60 s');
    }
    child.kill('SIGKILL');
    const code = await new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, s) => r(s)));
    if (code === 'SIGKILL') {
      const resumed = axon(['backtest', '--resume', run, '--json']);
      expect(resumed.code, resumed.stderr).toBe(0);
    }
    // either it was killed mid-run and resumed, or it had already finished: the result is the same
    sameRun(reference, run);
  });

  it('refuses a missing, truncated or foreign checkpoint with a clear error and exit 2', () => {
    const none = axon(['backtest', '--resume', join(dir, 'nope'), '--json']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/not a run directory/);
    const run = join(dir, 'halt-0');
    const db = new Database(join(run, 'state.sqlite'));
    db.prepare("UPDATE checkpoints SET state_json = state_json || ' ' WHERE id = (SELECT max(id) FROM checkpoints)").run();
    db.close();
    const bad = axon(['backtest', '--resume', run, '--json']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/\[CheckpointCorrupt\]/);
  });
});
