import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'axon.js');

function axon(args: string[], cwd = ROOT): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, AXON_STORE: '' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('axon backtest', () => {
  let dir: string;
  beforeAll(() => {
    if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    dir = mkdtempSync(join(tmpdir(), 'axon-bt-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reproduces the peer-parity result: final equity 164028.6204, 88 trades', () => {
    const out = join(dir, 'peer');
    const r = axon(['backtest', '--config', 'examples/peer-sma-cross.toml', '--data', 'data/spx_1d_2000_2020.csv', '--symbol', 'SPX', '--json', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(s.final_equity).toBe('164028.6204');
    expect(s.trades).toBe(88);
    expect(s.bars).toBe(5105);
    expect(typeof s.bars_per_second).toBe('number');
  });

  it('runs the default main job deterministically: byte-identical summary, trades, log and bars', () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    const ra = axon(['backtest', '--out', a, '--json']);
    const rb = axon(['backtest', '--out', b, '--json']);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    const s = JSON.parse(ra.stdout) as Record<string, unknown>;
    expect(s).toMatchObject({ strategy: 'vwap-reversion', symbols: ['SPY'], bars: 31757 });
    expect(s.trades as number).toBeGreaterThan(10);
    for (const f of ['summary.json', 'trades.csv', 'engine.log', 'config.toml', 'bars/SPY/2011-01-03.parquet', 'bars/SPY/2011-03-31.parquet', 'report.html']) {
      expect(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), f).toBe(true);
    }
    const summary = JSON.parse(readFileSync(join(a, 'summary.json'), 'utf8')) as Record<string, unknown>;
    expect(summary).not.toHaveProperty('bars_per_second');
    // no overnight holds: every closed trade opened and closed on one day, none left open
    const rows = readFileSync(join(a, 'trades.csv'), 'utf8').trim().split('\n').slice(1);
    expect(rows.length).toBe(s.trades);
    for (const row of rows) {
      const c = row.split(',');
      expect(c[6], row).not.toBe('');
      const day = (ns: string) => new Date(Number(BigInt(ns) / 1_000_000n)).toISOString().slice(0, 10);
      expect(day(c[4] as string)).toBe(day(c[6] as string));
    }
  });

  it('writes a report.html whose charts render in chromium', async () => {
    const run = join(dir, 'a');
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(pathToFileURL(join(run, 'report.html')).href);
      await page.waitForSelector('body[data-rendered="true"], body[data-render-error]', { timeout: 30_000 });
      expect(await page.locator('body').getAttribute('data-render-error')).toBeNull();
      // one symbol + equity + drawdown
      expect(await page.locator('body').getAttribute('data-chart-count')).toBe('3');
      const canvases = (await page.evaluate(`Array.from(document.querySelectorAll('canvas')).filter(function (c) { return c.width * c.height > 20000; }).length`)) as number;
      expect(canvases).toBeGreaterThanOrEqual(3);
      const text = await page.locator('body').innerText();
      for (const label of ['Sharpe', 'Sortino', 'drawdown', 'CAGR']) expect(text.toLowerCase()).toContain(label.toLowerCase());
      await page.screenshot({ path: join(dir, 'report.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('loads a user strategy from a .ts file', () => {
    const file = join(dir, 'my-strategy.ts');
    writeFileSync(
      file,
      `const strategy = {
  name: 'buy-after-ten',
  description: 'enters once after ten bars',
  params: { after: { type: 'number', integer: true, default: 10 } },
  create(params: Record<string, unknown>, ctx: { indicators: { sma(n: number): { value: number } } }) {
    const sma = ctx.indicators.sma(5);
    return { onBar(bar: { index: number; close: number }) { return bar.index === (params.after as number) && sma.value > 0 ? { action: 'enter-long' as const, reason: 'ten' } : undefined; } };
  },
};
export default strategy;
`,
    );
    const r = axon(['backtest', '--config', 'examples/peer-sma-cross.toml', '--data', 'data/spx_1d_2000_2020.csv', '--symbol', 'SPX', '--strategy', file, '--param', 'after=20', '--json', '--out', join(dir, 'user')]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ strategy: 'buy-after-ten', trades: 1 });
  });

  it('refuses a bad configuration with exit 2, listing every problem', () => {
    const cfg = join(dir, 'bad.toml');
    writeFileSync(cfg, '[sizing]\nmax_position_pct = 150\nbogus = 1\n[strategy]\nname = "sma-cross"\nparams = { fast = 0, nope = 3 }\n');
    const r = axon(['backtest', '--config', cfg, '--out', join(dir, 'bad')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\[ConfigInvalid\]/);
    expect(r.stderr).toContain('sizing.max_position_pct: must be <= 100');
    expect(r.stderr).toContain('sizing.bogus: unknown key');
    const r2 = axon(['backtest', '--config', 'examples/peer-sma-cross.toml', '--data', 'data/spx_1d_2000_2020.csv', '--param', 'fast=0', '--param', 'nope=3', '--out', join(dir, 'bad2')]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('fast: must be >= 1');
    expect(r2.stderr).toContain('nope: unknown key');
    const r3 = axon(['backtest', '--strategy', 'no-such-thing', '--out', join(dir, 'bad3')]);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/\[StrategyNotFound\]/);
  });
});
