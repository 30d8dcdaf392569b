import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashTree, tempDir } from './util.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'axon.js');
const SPY = join(ROOT, 'data', 'spy_1m_2011-01+03_utc.csv.gz');

function newestSource(): number {
  const dirs = [join(ROOT, 'src', 'data'), join(ROOT, 'src', 'cli')];
  let t = 0;
  for (const d of dirs) for (const f of readdirSync(d, { recursive: true, encoding: 'utf8' })) if (f.endsWith('.ts')) t = Math.max(t, statSync(join(d, f)).mtimeMs);
  return t;
}

function axon(args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: tmp.dir, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

let tmp: { dir: string; cleanup: () => void };
beforeAll(() => {
  const built = join(ROOT, 'dist', 'cli', 'commands', 'data.js');
  if (!existsSync(built) || statSync(built).mtimeMs < newestSource()) {
    // npm run build; other modules' type errors still emit, so judge by the output file
    try {
      execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
    } catch {
      if (!existsSync(built)) throw new Error('npm run build produced no dist/cli/commands/data.js');
    }
  }
  tmp = tempDir('axon-cli-');
});
afterAll(() => tmp.cleanup());

describe('axon data (built binary)', () => {
  it('imports, lists, exports and queries; --json goes to stdout, messages to stderr', () => {
    const imp = axon(['data', 'import', SPY, '--symbol', 'SPY', '--bar-time', 'end', '--json']);
    expect(imp.stderr).toContain('imported 31757 1m bars of SPY');
    expect(imp.code).toBe(0);
    const result = JSON.parse(imp.stdout) as { bars: number; days: string[]; store: string };
    expect(result.bars).toBe(31757);
    expect(result.days).toHaveLength(50);
    expect(result.store).toBe(join(tmp.dir, 'axon-data'));

    const ls = axon(['data', 'ls', '--json']);
    expect(ls.code).toBe(0);
    expect(JSON.parse(ls.stdout)).toEqual([{ symbol: 'SPY', timeframe: '1m', days: 50, first: '2011-01-03', last: '2011-03-31', bars: 31757 }]);

    const ex = axon(['data', 'export', '--symbol', 'SPY', '--from', '2011-03-14T13:30:00Z', '--to', '2011-03-14T13:33:00Z']);
    expect(ex.code).toBe(0);
    // source rows (bar END stamps): 2011-03-14 13:31:00,129.99,130.1,129.95,130.03,1197395 and the next two
    expect(ex.stdout).toBe(
      [
        'datetime,open,high,low,close,volume',
        '2011-03-14T13:30:00Z,129.99,130.1,129.95,130.03,1197395',
        '2011-03-14T13:31:00Z,130.03,130.05,129.97,130.02,1124621',
        '2011-03-14T13:32:00Z,130.02,130.16,130.01,130.15,1098132',
        '',
      ].join('\n'),
    );

    const q = axon(['data', 'query', "select count(*) as n, max(high) as hi from bars where symbol = 'SPY'", '--json']);
    expect(q.code).toBe(0);
    expect(JSON.parse(q.stdout)).toEqual({ columns: ['n', 'hi'], rows: [['31757', expect.any(Number)]] });
    const qt = axon(['data', 'query', 'select symbol, count(*) as n from bars group by symbol']);
    expect(qt.stdout).toBe('symbol\tn\nSPY\t31757\n');
  });

  it('full export reproduces the source file values (open = end stamp - 1m)', () => {
    const ex = axon(['data', 'export', '--symbol', 'SPY']);
    expect(ex.code).toBe(0);
    const lines = ex.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(31758);
    expect(lines[1]).toBe('2011-01-03T09:00:00Z,126.35,126.39,126.35,126.39,1579');
  });

  it('a bad file exits 2 naming row and field, and leaves every store file byte-identical', () => {
    const before = hashTree(join(tmp.dir, 'axon-data'));
    expect(Object.keys(before).length).toBe(50);
    const bad = join(tmp.dir, 'bad.csv');
    writeFileSync(bad, 'datetime,open,high,low,close,volume\n2011-04-01 14:30:00,10,11,9,10,5\n2011-04-01 14:31:00,10,11,9,10,-5\n');
    const r = axon(['data', 'import', bad, '--symbol', 'SPY', '--json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('[InvalidData]');
    expect(r.stderr).toContain(`${bad}: 1 bad row`);
    expect(r.stderr).toContain('row 3, field volume: volume must be >= 0, got -5');
    expect(hashTree(join(tmp.dir, 'axon-data'))).toEqual(before);

    const overlap = axon(['data', 'import', SPY, '--symbol', 'SPY', '--bar-time', 'end']);
    expect(overlap.code).toBe(2);
    expect(overlap.stderr).toContain('row 2, field datetime: bar opening 2011-01-03T09:00:00Z overlaps bars already in the store');
    expect(hashTree(join(tmp.dir, 'axon-data'))).toEqual(before);
  });

  it('usage errors exit 2; AXON_STORE picks the store', () => {
    expect(axon(['data', 'import', SPY]).code).toBe(2); // missing --symbol
    expect(axon(['data', 'import', SPY, '--symbol', 'SPY', '--bar-time', 'middle']).stderr).toContain('--bar-time must be start or end');
    expect(axon(['data', 'export', '--symbol', 'NOPE']).code).toBe(2);
    expect(axon(['data', 'query', 'select nope']).code).toBe(2);
    const other = join(tmp.dir, 'other');
    const ls = axon(['data', 'ls', '--json'], { AXON_STORE: other });
    expect(ls.stdout).toBe('[]\n');
  });
});
