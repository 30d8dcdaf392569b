// child process of the engine bench's memory case: one backtest over a store, then prints peak RSS (bytes)
import { resolveConfig } from '../../src/engine/config.js';
import { runBacktest } from '../../src/engine/backtest.js';
import { smaCross } from '../../src/strategy/sma-cross.js';

const [storeDir, runDir, symbolList] = process.argv.slice(2) as [string, string, string];
const config = resolveConfig({
  data: { store: storeDir, symbols: symbolList.split(',') },
  strategy: { name: 'sma-cross', params: { fast: 10, slow: 30 } },
  sizing: { max_position_pct: 0.3 },
});
const r = await runBacktest({ config, strategy: smaCross, runDir });
process.stdout.write(`${JSON.stringify({ bars: r.bars, seconds: r.seconds, maxRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`);
