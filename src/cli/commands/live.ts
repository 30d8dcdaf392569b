import { resolve } from 'node:path';
import type { Command } from 'commander';
import { LiveClock } from '../../core/clock.js';
import { AxonError } from '../../core/errors.js';
import { runLive, type BarFeed } from '../../engine/live.js';
import { StrategyRegistry } from '../../strategy/registry.js';
import {
  ALPACA_PAPER_BASE_URL,
  DATA_STREAM_PATH,
  ENV_BASE_URL,
  ENV_DATA_STREAM_URL,
  ENV_DATA_URL,
  ENV_STREAM_URL,
} from '../../venues/alpaca/protocol.js';
import { alpacaCredentialsFromEnv } from '../../venues/alpaca/credentials.js';
import { AlpacaVenue } from '../../venues/alpaca/alpaca-venue.js';
import { AlpacaBarFeed } from '../../venues/alpaca/bar-feed.js';
import { configFromFlags } from './backtest.js';

/** Error codes of `axon live` before it trades. */
export type LiveCommandErrorCode = 'LiveTradingRefused' | 'InvalidArgument';

export class LiveCommandError extends AxonError<LiveCommandErrorCode> {
  override readonly name = 'LiveCommandError';
  readonly exitCode = 2;
}

interface LiveFlags {
  venue: string;
  paper?: boolean;
  config?: string;
  symbol?: string[];
  strategy?: string;
  param?: string[];
  out?: string;
  iUnderstandLiveTrading?: boolean;
  startFlat?: boolean;
  durability?: string;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * Whether a trading base URL is a paper venue: Alpaca's paper endpoint, or a server on this machine
 * (the paper venue `axon venue serve` runs). Anything else may move real money.
 */
export function isPaperUrl(baseUrl: string): boolean {
  let u: URL;
  try {
    u = new URL(baseUrl);
  } catch {
    return false;
  }
  return u.hostname === new URL(ALPACA_PAPER_BASE_URL).hostname || LOOPBACK.has(u.hostname);
}

/** The URLs `axon live` uses: from the environment, else derived from the base URL (loopback: one server for all). */
export function liveUrls(env: NodeJS.ProcessEnv): { baseUrl: string; tradingStreamUrl: string | undefined; dataStreamUrl: string; dataUrl: string } {
  const baseUrl = env[ENV_BASE_URL] ?? ALPACA_PAPER_BASE_URL;
  const u = new URL(baseUrl);
  const local = LOOPBACK.has(u.hostname);
  const wsOrigin = `${u.protocol === 'https:' ? 'wss:' : 'ws:'}//${u.host}`;
  return {
    baseUrl,
    tradingStreamUrl: env[ENV_STREAM_URL],
    dataStreamUrl: env[ENV_DATA_STREAM_URL] ?? (local ? `${wsOrigin}${DATA_STREAM_PATH}` : `wss://stream.data.alpaca.markets${DATA_STREAM_PATH}`),
    dataUrl: env[ENV_DATA_URL] ?? (local ? baseUrl : 'https://data.alpaca.markets'),
  };
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `axon live`: the live runner (same pipeline as a backtest) against Alpaca or the paper venue server. */
export function registerLiveCommand(program: Command): void {
  program
    .command('live')
    .description('trade live: load the checkpoint, reconcile with the venue, then consume bars from its stream (Ctrl-C stops cleanly)')
    .requiredOption('--venue <name>', 'venue protocol (alpaca)')
    .option('--paper', 'require a paper venue (Alpaca paper or a server on this machine)')
    .option('--config <toml>', 'engine configuration (TOML)')
    .option('--symbol <SYM>', 'symbol to trade (repeatable; default data.symbols of the config)', collect)
    .option('--strategy <name|path>', 'built-in strategy or a .js/.ts file')
    .option('--param <k=v>', 'strategy parameter (repeatable)', collect)
    .option('--out <dir>', 'run directory, reused across restarts (state.sqlite, engine.log, summary.json)', 'runs/live')
    .option('--start-flat', 'when state.sqlite is unusable: move it aside and start flat after reconciling, instead of refusing')
    .option('--durability <full|process>', 'state durability (full: every commit synced)', 'full')
    .option('--i-understand-live-trading', 'allow a venue URL that is not paper: real orders, real money')
    .action(async (flags: LiveFlags) => {
      if (flags.venue !== 'alpaca') throw new LiveCommandError('InvalidArgument', `--venue ${flags.venue}: only alpaca is supported`);
      if (flags.durability !== 'full' && flags.durability !== 'process') throw new LiveCommandError('InvalidArgument', `--durability must be full or process, got ${flags.durability}`);
      const urls = liveUrls(process.env);
      const paper = isPaperUrl(urls.baseUrl);
      if (!paper && (flags.paper === true || flags.iUnderstandLiveTrading !== true)) {
        throw new LiveCommandError(
          'LiveTradingRefused',
          flags.paper === true
            ? `--paper was given but ${ENV_BASE_URL}=${urls.baseUrl} is not a paper venue`
            : `${ENV_BASE_URL}=${urls.baseUrl} is not a paper venue: refusing to trade real money without --i-understand-live-trading`,
        );
      }
      const config = configFromFlags({
        ...(flags.config === undefined ? {} : { config: flags.config }),
        ...(flags.symbol === undefined ? {} : { symbol: flags.symbol }),
        ...(flags.strategy === undefined ? {} : { strategy: flags.strategy }),
        ...(flags.param === undefined ? {} : { param: flags.param }),
      });
      const strategy = await new StrategyRegistry().resolve(config.strategy.name);
      const credentials = alpacaCredentialsFromEnv();
      const clock = new LiveClock();
      const echo = (line: string): void => void process.stderr.write(`${line}\n`);
      const venue = new AlpacaVenue({
        baseUrl: urls.baseUrl,
        ...(urls.tradingStreamUrl === undefined ? {} : { tradingStreamUrl: urls.tradingStreamUrl }),
        credentials,
        clock,
        seed: config.run.seed,
        currency: config.run.currency,
      });
      const alpacaFeed = new AlpacaBarFeed({ dataStreamUrl: urls.dataStreamUrl, dataUrl: urls.dataUrl, credentials, clock, seed: config.run.seed });
      // the bars of one stream message (one minute of every symbol) reach the engine as one arrival
      const feed: BarFeed = alpacaFeed;
      const stop = new AbortController();
      const onSignal = (sig: string): void => {
        process.stderr.write(`axon live: ${sig}, stopping\n`);
        stop.abort();
      };
      process.once('SIGINT', () => onSignal('SIGINT'));
      process.once('SIGTERM', () => onSignal('SIGTERM'));
      const runDir = resolve(flags.out ?? 'runs/live');
      const killAfterIntents = process.env.AXON_LIVE_KILL_AFTER_INTENTS === undefined ? undefined : Number(process.env.AXON_LIVE_KILL_AFTER_INTENTS);
      const killAfterSend = process.env.AXON_LIVE_KILL_AFTER_SEND === undefined ? undefined : Number(process.env.AXON_LIVE_KILL_AFTER_SEND);
      let sends = 0;
      let intents = 0;
      const result = await runLive({
        config,
        strategy,
        runDir,
        venue,
        feed,
        clock,
        signal: stop.signal,
        durability: flags.durability,
        onBadCheckpoint: flags.startFlat === true ? 'start-flat' : 'refuse',
        echo,
        // test hook (undocumented): die after the n-th commit that made orders, before the venue hears of them
        ...(killAfterIntents === undefined
          ? {}
          : {
              afterCommit: () => {
                if (++intents >= killAfterIntents) process.kill(process.pid, 'SIGKILL');
              },
            }),
        // test hook (undocumented): die after the n-th bar task's orders went out, before its checkpoint
        ...(killAfterSend === undefined
          ? {}
          : {
              afterSend: () => {
                if (++sends >= killAfterSend) process.kill(process.pid, 'SIGKILL');
              },
            }),
        onReady: (info) => process.stdout.write(`${JSON.stringify({ event: 'ready', run_dir: runDir, venue: urls.baseUrl, paper, resumed: info.resumed, start: info.start, corrections: info.corrections.length })}\n`),
      });
      process.stdout.write(`${JSON.stringify({ event: 'stopped', ...result.summary })}\n`);
    });
}
