import type { Command } from 'commander';
import { BarStore, DataError, exportCsv, importCsv, parseIsoInstant } from '../../data/index.js';
import type { BarTime } from '../../data/index.js';
import { parseTimeframe } from '../../model/bar.js';

function storeDir(option: string | undefined): string {
  return option ?? process.env.AXON_STORE ?? './axon-data';
}

function writeStdout(chunk: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(chunk, (e) => (e ? reject(e) : resolve()));
  });
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** Registers `axon data import|export|ls|query`. */
export function registerDataCommand(program: Command): void {
  const data = program.command('data').description('bar store: import, export, list and query bars (Parquet, one file per symbol per UTC day)');

  data
    .command('import')
    .description('import a CSV (or .csv.gz) of OHLCV bars for one symbol; any bad row fails the whole import')
    .argument('<file>', 'CSV with header datetime|timestamp|date,open,high,low,close,volume')
    .requiredOption('--symbol <SYM>', 'symbol to store the bars under')
    .option('--tz <IANA>', 'zone of timestamps without an offset (default UTC)')
    .option('--bar-time <start|end>', 'whether each stamp is the bar open (start) or close (end)', 'start')
    .option('--timeframe <tf>', 'bar length, e.g. 1m or 1d (default: inferred from the most common gap)')
    .option('--store <dir>', 'store directory (default $AXON_STORE or ./axon-data)')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (file: string, opts: { symbol: string; tz?: string; barTime: string; timeframe?: string; store?: string; json?: boolean }) => {
      if (opts.barTime !== 'start' && opts.barTime !== 'end') throw new DataError('InvalidInput', `--bar-time must be start or end, got ${JSON.stringify(opts.barTime)}`);
      const store = new BarStore(storeDir(opts.store));
      const result = await importCsv(file, {
        symbol: opts.symbol,
        barTime: opts.barTime as BarTime,
        store,
        ...(opts.tz === undefined ? {} : { tz: opts.tz }),
        ...(opts.timeframe === undefined ? {} : { timeframe: parseTimeframe(opts.timeframe) }),
      });
      const summary = `imported ${result.bars} ${result.timeframe} bars of ${result.symbol} (${result.first} .. ${result.last}) into ${result.days.length} day files in ${store.dir}\n`;
      if (opts.json) {
        process.stderr.write(summary);
        await writeStdout(`${JSON.stringify({ ...result, store: store.dir })}\n`);
      } else process.stderr.write(summary);
    });

  data
    .command('export')
    .description('print a symbol\'s bars as CSV (datetime = bar open time, UTC ISO-8601)')
    .requiredOption('--symbol <SYM>', 'symbol to export')
    .option('--from <iso>', 'first bar open time to include (UTC unless an offset is given)')
    .option('--to <iso>', 'bars opening at or after this time are excluded')
    .option('--store <dir>', 'store directory (default $AXON_STORE or ./axon-data)')
    .action(async (opts: { symbol: string; from?: string; to?: string; store?: string }) => {
      const store = new BarStore(storeDir(opts.store));
      if (store.days(opts.symbol).length === 0) throw new DataError('FileNotFound', `no bars for ${opts.symbol} in ${store.dir}`);
      const range = {
        ...(opts.from === undefined ? {} : { fromNs: parseIsoInstant(opts.from, '--from') }),
        ...(opts.to === undefined ? {} : { toNs: parseIsoInstant(opts.to, '--to') }),
      };
      const n = await exportCsv(store, opts.symbol, range, writeStdout);
      process.stderr.write(`exported ${n} bars of ${opts.symbol}\n`);
    });

  data
    .command('ls')
    .description('list stored symbols with their timeframe, day count and bar count')
    .option('--store <dir>', 'store directory (default $AXON_STORE or ./axon-data)')
    .option('--json', 'print JSON on stdout')
    .action(async (opts: { store?: string; json?: boolean }) => {
      const store = new BarStore(storeDir(opts.store));
      const rows = store.symbols().map((symbol) => {
        const days = store.days(symbol);
        let bars = 0;
        for (const d of days) bars += store.daySummary(symbol, d)?.rows ?? 0;
        return { symbol, timeframe: store.timeframeOf(symbol), days: days.length, first: days[0], last: days.at(-1), bars };
      });
      if (opts.json) await writeStdout(`${JSON.stringify(rows)}\n`);
      else if (rows.length === 0) process.stderr.write(`no bars in ${store.dir}\n`);
      else {
        const lines = rows.map((r) => `${r.symbol}\t${r.timeframe}\t${r.bars} bars\t${r.days} days\t${r.first} .. ${r.last}`);
        await writeStdout(`${lines.join('\n')}\n`);
      }
    });

  data
    .command('query')
    .description('run SQL (DuckDB) over the store; the view `bars` has symbol, open_time, open, high, low, close, volume, open_time_ns, close_time_ns')
    .argument('<sql>', 'the query')
    .option('--store <dir>', 'store directory (default $AXON_STORE or ./axon-data)')
    .option('--json', 'print {columns, rows} as JSON on stdout')
    .action(async (sql: string, opts: { store?: string; json?: boolean }) => {
      const store = new BarStore(storeDir(opts.store));
      const result = await store.sql(sql);
      if (opts.json) await writeStdout(`${JSON.stringify(result)}\n`);
      else await writeStdout(`${[result.columns.join('\t'), ...result.rows.map((r) => r.map(cell).join('\t'))].join('\n')}\n`);
    });
}
