import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import { ConfigError } from '../../core/schema.js';
import { loadConfigFile, mergeConfig, parseTomlText, resolveConfig, type EngineConfig } from '../../engine/config.js';
import { runBacktest, type BacktestResult } from '../../engine/backtest.js';
import { StrategyRegistry } from '../../strategy/registry.js';
import { writeReport } from '../../report/render.js';
import { readFileSync } from 'node:fs';

const here = dirname(fileURLToPath(import.meta.url));
/** The package root (dist/cli/commands -> root). */
export const PACKAGE_ROOT = resolve(here, '..', '..', '..');
/** The bundled SPY minute bars: UTC stamps at the bar end, Jan + Mar 2011. */
export const BUNDLED_SPY = join(PACKAGE_ROOT, 'data', 'spy_1m_2011-01+03_utc.csv.gz');

interface BacktestFlags {
  data?: string[];
  store?: string;
  symbol?: string[];
  strategy?: string;
  param?: string[];
  config?: string;
  from?: string;
  to?: string;
  cash?: string;
  seed?: string;
  out?: string;
  json?: boolean;
  progress?: boolean;
  resume?: string;
  haltAfter?: string;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function parseParam(text: string): [string, unknown] {
  const i = text.indexOf('=');
  if (i <= 0) throw new ConfigError([{ path: '--param', message: `expected key=value, got ${JSON.stringify(text)}` }]);
  const key = text.slice(0, i);
  const raw = text.slice(i + 1);
  if (raw === 'true' || raw === 'false') return [key, raw === 'true'];
  if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(raw)) return [key, Number(raw)];
  return [key, raw];
}

/** Builds the resolved config: schema defaults, then the TOML file, then flags; with no data at all, the bundled SPY minutes. */
export function configFromFlags(flags: BacktestFlags): EngineConfig {
  let base: Record<string, unknown> = {};
  if (flags.config !== undefined) {
    // validate the file alone first so its own problems are reported against it
    loadConfigFile(flags.config);
    base = parseTomlText(readFileSync(flags.config, 'utf8'), flags.config);
  }
  const over: Record<string, unknown> = {};
  const data: Record<string, unknown> = {};
  if (flags.data !== undefined) data.files = flags.data.map((f) => resolve(f));
  if (flags.store !== undefined) data.store = flags.store;
  if (flags.symbol !== undefined) data.symbols = flags.symbol;
  if (flags.from !== undefined) data.from = flags.from;
  if (flags.to !== undefined) data.to = flags.to;
  if (Object.keys(data).length > 0) over.data = data;
  const strategy: Record<string, unknown> = {};
  if (flags.strategy !== undefined) strategy.name = flags.strategy;
  if (flags.param !== undefined) strategy.params = Object.fromEntries(flags.param.map(parseParam));
  if (Object.keys(strategy).length > 0) over.strategy = strategy;
  const run: Record<string, unknown> = {};
  if (flags.cash !== undefined) run.cash = flags.cash;
  if (flags.seed !== undefined) run.seed = Number(flags.seed);
  if (Object.keys(run).length > 0) over.run = run;
  const baseStrategy = base.strategy as Record<string, unknown> | undefined;
  if (flags.strategy !== undefined && baseStrategy !== undefined && baseStrategy.name !== flags.strategy) {
    // another strategy's parameters do not carry over
    base = { ...base, strategy: { ...baseStrategy, params: {} } };
  }
  const merged = mergeConfig(base, over);
  const d = (merged.data ?? {}) as Record<string, unknown>;
  const hasData = (Array.isArray(d.files) && d.files.length > 0) || d.store !== undefined;
  if (!hasData) {
    merged.data = { ...d, files: [BUNDLED_SPY], symbols: ['SPY'], tz: 'UTC', bar_time: 'end', timeframe: '1m' };
  } else if (Array.isArray(d.files) && flags.config !== undefined && flags.data === undefined) {
    // relative paths in a config file are relative to the file
    merged.data = { ...d, files: (d.files as string[]).map((f) => resolve(dirname(flags.config as string), f)) };
  }
  return resolveConfig(merged, flags.config ?? 'command line');
}

function runId(config: EngineConfig): string {
  const hash = createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 8);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  return `${stamp}-${config.strategy.name.replace(/[^A-Za-z0-9_-]/g, '_')}-${hash}`;
}

function fmt(x: unknown, pct = false): string {
  if (typeof x !== 'number') return x === null || x === undefined ? '-' : String(x);
  return pct ? `${(x * 100).toFixed(2)}%` : x.toFixed(3);
}

function progressBar(enabled: boolean): ((done: number, total: number) => void) | undefined {
  if (!enabled) return undefined;
  let last = -1;
  return (done, total) => {
    const pct = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 0;
    if (pct === last) return;
    last = pct;
    const width = 30;
    const filled = Math.round((pct / 100) * width);
    process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct}% ${done}/${total} bars`);
    if (pct === 100) process.stderr.write('\n');
  };
}

function printTable(result: BacktestResult, bps: number): void {
  const s = result.summary;
  const rows: [string, string][] = [
    ['run', result.runDir],
    ['strategy', `${String(s.strategy)} ${JSON.stringify(s.params)}`],
    ['symbols', (s.symbols as string[]).join(', ')],
    ['bars', String(s.bars)],
    ['trades', String(s.trades)],
    ['final equity', String(s.final_equity)],
    ['total return', fmt(s.total_return, true)],
    ['CAGR', fmt(s.cagr, true)],
    ['Sharpe', fmt(s.sharpe)],
    ['Sortino', fmt(s.sortino)],
    ['max drawdown', fmt(s.max_drawdown, true)],
    ['win rate', fmt(s.win_rate, true)],
    ['profit factor', fmt(s.profit_factor)],
    ['exposure', fmt(s.exposure, true)],
    ['bars/s', Math.round(bps).toLocaleString('en-US')],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write(`${rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n')}\n`);
}

/** Registers `axon backtest`. */
export function registerBacktestCommand(program: Command): void {
  program
    .command('backtest')
    .description('run a strategy over bars through the engine and the simulated venue; writes runs/<id>/ (config, bars, summary, trades, report.html)')
    .option('--data <csv>', 'CSV file of bars (repeatable); the symbol is --symbol or the file name', collect)
    .option('--store <dir>', 'replay a bar store instead of CSV files')
    .option('--symbol <SYM>', 'symbol (repeatable; one per --data file, or the store symbols to replay)', collect)
    .option('--strategy <name|path>', 'built-in strategy (sma-cross, vwap-reversion) or a .js/.ts file')
    .option('--param <k=v>', 'strategy parameter (repeatable)', collect)
    .option('--config <toml>', 'configuration file (see examples/)')
    .option('--from <iso>', 'first bar open time (UTC unless an offset is given)')
    .option('--to <iso>', 'bars opening at or after this time are excluded')
    .option('--cash <n>', 'starting cash, quote currency')
    .option('--seed <n>', 'random seed')
    .option('--out <dir>', 'run directory (default runs/<id>)')
    .option('--json', 'print the summary as JSON on stdout')
    .option('--no-progress', 'no progress bar')
    .option('--resume <run dir>', 'continue a run whose process died, from its last checkpoint (other options are ignored)')
    .addOption(new Option('--halt-after <bars>', 'test hook: die abruptly (SIGKILL) after this many bars').hideHelp())
    .action(async (flags: BacktestFlags) => {
      let config: EngineConfig;
      let runDir: string;
      if (flags.resume !== undefined) {
        runDir = resolve(flags.resume);
        const file = join(runDir, 'config.toml');
        if (!existsSync(file)) throw new ConfigError([{ path: '--resume', message: `${runDir} is not a run directory (no config.toml)` }]);
        config = loadConfigFile(file);
      } else {
        config = configFromFlags(flags);
        runDir = resolve(flags.out ?? join('runs', runId(config)));
        if (flags.out === undefined && existsSync(runDir)) throw new ConfigError([{ path: '--out', message: `${runDir} exists` }]);
      }
      const registry = new StrategyRegistry();
      const strategy = await registry.resolve(config.strategy.name);
      const haltAfter = flags.haltAfter === undefined ? undefined : Number(flags.haltAfter);
      const result = await runBacktest({
        config,
        strategy,
        runDir,
        ...(flags.resume === undefined ? {} : { resume: true }),
        ...(haltAfter === undefined ? {} : { haltAfter }),
        ...(progressBar(flags.progress !== false && process.stderr.isTTY === true) === undefined ? {} : { onProgress: progressBar(true) as (d: number, t: number) => void }),
      });
      const bps = result.seconds > 0 ? result.bars / result.seconds : 0;
      writeReport(join(runDir, 'report.html'), {
        title: `AXON backtest: ${strategy.name} on ${(result.summary.symbols as string[]).join(', ')}`,
        meta: {
          strategy: strategy.name,
          params: JSON.stringify(config.strategy.params),
          symbols: (result.summary.symbols as string[]).join(', '),
          bars: String(result.bars),
          seed: String(config.run.seed),
          'starting cash': `${config.run.cash} ${config.run.currency}`,
          'final equity': `${String(result.summary.final_equity)} ${config.run.currency}`,
        },
        stats: result.stats,
        equity: result.equity,
        trades: result.trades,
        candles: result.candles,
      });
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ ...result.summary, bars_per_second: Math.round(bps), run_dir: runDir })}\n`);
      } else {
        printTable(result, bps);
      }
    });
}
