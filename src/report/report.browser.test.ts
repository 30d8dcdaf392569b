import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVIL_SYMBOL, sampleInput } from '../../test/report/fixture.js';
import { computeStats } from '../analytics/stats.js';
import { writeReport } from './index.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('report.html in Debian chromium', () => {
  let dir: string;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`chromium is not installed at ${CHROMIUM}: the report test needs a real browser (apt-get install -y chromium)`);
    }
    dir = mkdtempSync(join(tmpdir(), 'axon-report-'));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('renders every chart, the stats and the trades, with no errors and no network', async () => {
    const input = sampleInput();
    const file = join(dir, 'report.html');
    writeReport(file, input);
    const url = pathToFileURL(file).href;

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const pageErrors: string[] = [];
    const consoleErrors: string[] = [];
    const requests: string[] = [];
    const dialogs: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('request', (r) => requests.push(r.url()));
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });

    await page.goto(url);
    const body = page.locator('body');
    await page.waitForSelector('body[data-rendered="true"], body[data-render-error]', { timeout: 20_000 });
    expect(await body.getAttribute('data-render-error')).toBeNull();
    expect(await body.getAttribute('data-rendered')).toBe('true');

    // 2 symbols + equity + drawdown
    expect(await body.getAttribute('data-chart-count')).toBe('4');
    expect(await page.evaluate('window.axonReport.chartCount')).toBe(4);
    for (const id of ['candles-0', 'candles-1', 'equity-chart', 'drawdown-chart']) {
      const canvases = page.locator(`#${id} canvas`);
      expect(await canvases.count(), id).toBeGreaterThan(0);
      const sizes = (await page.evaluate(
        `Array.from(document.querySelectorAll('#${id} canvas')).map(function (c) { return [c.width, c.height]; })`,
      )) as [number, number][];
      const biggest = sizes.reduce((m, [w, h]) => Math.max(m, w * h), 0);
      expect(biggest, `${id} has a drawn canvas`).toBeGreaterThan(200 * 100);
    }
    // the candles actually got painted: the main pane canvas is not one flat colour
    const distinct = (await page.evaluate(`(function () {
      var best = null;
      document.querySelectorAll('#candles-0 canvas').forEach(function (c) { if (!best || c.width * c.height > best.width * best.height) best = c; });
      var d = best.getContext('2d').getImageData(0, 0, best.width, best.height).data;
      var seen = {};
      for (var i = 0; i < d.length; i += 4 * 97) seen[d[i] + ',' + d[i + 1] + ',' + d[i + 2]] = 1;
      return Object.keys(seen).length;
    })()`)) as number;
    expect(distinct).toBeGreaterThan(3);

    const stat = async (key: string): Promise<string> => (await page.locator(`tr[data-stat="${key}"] td`).textContent()) ?? '';
    const s = input.stats;
    expect(await stat('totalReturn')).toBe(`${(s.totalReturn * 100).toFixed(2)} %`);
    expect(await stat('sharpe')).toBe(s.sharpe.toFixed(2));
    expect(await stat('maxDrawdown')).toBe(`${(s.maxDrawdown * 100).toFixed(2)} %`);
    expect(await stat('trades')).toBe(String(input.trades.length));
    expect(await stat('profitFactor')).toBe(s.profitFactor.toFixed(2));
    for (const key of ['cagr', 'sortino', 'winRate', 'exposure']) expect(await stat(key)).toMatch(/^-?\d+\.\d\d( %)?$/);

    // hostile names arrive as text, never as markup
    expect(await page.locator('h2', { hasText: EVIL_SYMBOL }).count()).toBe(1);
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.title()).toBe(input.title);
    expect(await page.locator('#meta td', { hasText: 'fast=10 slow=30 <b>bold</b>' }).count()).toBe(1);
    expect(await page.locator('#trades tr').count()).toBe(input.trades.length + 1);

    expect(pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
    expect(dialogs).toEqual([]);
    expect(requests).toEqual([url]);

    const shot = join(dir, 'report.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    // lets a developer look at the screenshot; the temp dir is removed after the test
    if (process.env.AXON_KEEP_SCREENSHOT) copyFileSync(shot, process.env.AXON_KEEP_SCREENSHOT);
    await page.close();
  });

  it('renders the edge cases: a symbol without bars, a one-point equity curve, no trades', async () => {
    const t = 1_709_562_600_000_000_000n;
    const equity = [{ timeNs: t, equity: 1000, exposure: 0 }];
    const file = join(dir, 'edge.html');
    writeReport(file, {
      title: 'edge',
      meta: {},
      stats: computeStats(equity, []),
      equity,
      trades: [],
      candles: [
        { symbol: 'EMPTY', timeNs: [], open: [], high: [], low: [], close: [] },
        { symbol: 'ONE', timeNs: [t], open: [1], high: [2], low: [0.5], close: [1.5] },
      ],
    });
    const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector('body[data-rendered="true"], body[data-render-error]', { timeout: 20_000 });
    expect(await page.locator('body').getAttribute('data-render-error')).toBeNull();
    expect(await page.locator('body').getAttribute('data-chart-count')).toBe('4');
    expect(await page.locator('tr[data-stat="sharpe"] td').textContent()).toBe('n/a');
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});

