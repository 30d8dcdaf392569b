import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { BarStore } from '../../src/data/store.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'axon.js');
const SYMBOLS = 160;
const BARS = 420;
const T0 = 1_700_000_000_000_000_000n;
const MINUTE = 60_000_000_000n;

function axon(args: string[]): { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Holds on even symbols from bar 61 with bracket legs, exits at 250 and enters again at 300: orders change, then rest. */
const STRATEGY = `const strategy = {
  name: 'segment-book',
  description: 'test: a book of resting bracket legs that changes twice',
  params: {},
  create(_params: Record<string, unknown>, ctx: { symbol: string; indicators: { sma(n: number): unknown; ema(n: number): unknown } }) {
    ctx.indicators.sma(30);
    ctx.indicators.ema(20);
    const even = Number(ctx.symbol.slice(1)) % 2 === 0;
    return {
      onBar(bar: { index: number }) {
        if (!even) return undefined;
        if (bar.index === 61 || bar.index === 300) return { action: 'enter-long' as const, reason: 'book' };
        if (bar.index === 250) return { action: 'exit' as const, reason: 'turn' };
        return undefined;
      },
    };
  },
};
export default strategy;
`;

describe('axon backtest --resume of a run whose checkpoints hold segments', () => {
  let dir: string;
  let reference: string;
  let args: string[];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'axon-resume-seg-'));
    const store = new BarStore(join(dir, 'store'));
    const names: string[] = [];
    for (let j = 0; j < SYMBOLS; j++) {
      const symbol = `S${String(j).padStart(3, '0')}`;
      names.push(symbol);
      const rng = new Rng(`seg-${symbol}`);
      const c = { symbol, timeframe: '1m' as const, length: BARS, openTimeNs: new BigInt64Array(BARS), closeTimeNs: new BigInt64Array(BARS), open: new Float64Array(BARS), high: new Float64Array(BARS), low: new Float64Array(BARS), close: new Float64Array(BARS), volume: new Float64Array(BARS) };
      let px = 50 + j;
      for (let i = 0; i < BARS; i++) {
        const open = Math.round(px * 100) / 100;
        px *= 1 + (rng.next() - 0.5) * 0.004;
        const close = Math.round(px * 100) / 100;
        c.openTimeNs[i] = T0 + BigInt(i) * MINUTE;
        c.closeTimeNs[i] = T0 + BigInt(i + 1) * MINUTE;
        c.open[i] = open;
        c.close[i] = close;
        c.high[i] = Math.max(open, close) + 0.01;
        c.low[i] = Math.min(open, close) - 0.01;
        c.volume[i] = 10_000;
      }
      await store.write(c);
    }
    const cfg = join(dir, 'book.toml');
    writeFileSync(
      cfg,
      [
        '[run]',
        'cash = "100000000"',
        '[data]',
        `symbols = [${names.map((n) => `"${n}"`).join(', ')}]`,
        '[sizing]',
        'max_position_pct = 0.5',
        '[exits]',
        'take_profit_pct = 50',
        'stop_loss_pct = 50',
        'brackets = true',
        '[session]',
        'calendar = "none"',
        '[engine]',
        'warmup_bars = 55',
        'checkpoint_every = 40',
        '',
      ].join('\n'),
    );
    const strategy = join(dir, 'segment-book.ts');
    writeFileSync(strategy, STRATEGY);
    args = ['backtest', '--store', join(dir, 'store'), '--config', cfg, '--strategy', strategy, '--json'];
    reference = join(dir, 'ref');
    const r = axon([...args, '--out', reference]);
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stores the resting orders as segments, and a run killed at seeded bars resumes to the uninterrupted result', () => {
    // the OMS and venue states of 80 positions with 2 legs each are large enough to be segments
    const ref = new Database(join(reference, 'state.sqlite'), { readonly: true });
    try {
      expect(ref.prepare('SELECT count(*) FROM segments').pluck().get()).toBeGreaterThanOrEqual(2);
      expect(ref.prepare('SELECT count(DISTINCT checkpoint_id) FROM checkpoint_segments').pluck().get()).toBe(3);
    } finally {
      ref.close();
    }
    const summary = JSON.parse(readFileSync(join(reference, 'summary.json'), 'utf8')) as { trades: number };
    expect(summary.trades).toBeGreaterThanOrEqual(80);
    const rng = new Rng('resume-seg-kill-points');
    for (let round = 0; round < 2; round++) {
      const run = join(dir, `halt-${round}`);
      // after the entries of bar 61 and before the end (bars are counted over all symbols)
      const at = rng.int(70 * SYMBOLS, (BARS - 20) * SYMBOLS);
      const died = axon([...args, '--out', run, '--halt-after', String(at)]);
      expect(died.signal).toBe('SIGKILL');
      // the checkpoint it resumes from refers to segments
      const halted = new Database(join(run, 'state.sqlite'), { readonly: true });
      try {
        const last = halted.prepare('SELECT id FROM checkpoints ORDER BY id DESC LIMIT 1').pluck().get();
        expect(halted.prepare('SELECT count(*) FROM checkpoint_segments WHERE checkpoint_id = ?').pluck().get(last)).toBeGreaterThanOrEqual(1);
      } finally {
        halted.close();
      }
      const resumed = axon(['backtest', '--resume', run, '--json']);
      expect(resumed.code, resumed.stderr).toBe(0);
      for (const f of ['summary.json', 'trades.csv']) expect(readFileSync(join(run, f), 'utf8'), f).toBe(readFileSync(join(reference, f), 'utf8'));
      const v = axon(['audit', 'verify', run, '--json']);
      expect(v.code, v.stderr).toBe(0);
    }
  }, 180_000);
});
