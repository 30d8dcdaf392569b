import { Option, type Command } from 'commander';
import { startPaperServer, PaperServerError, type PaperServerOptions } from '../../server/alpaca-paper/index.js';
import { ENV_KEY_ID, ENV_SECRET_KEY } from '../../venues/alpaca/protocol.js';

interface ServeFlags {
  protocol: string;
  host: string;
  port: string;
  data?: string;
  symbols?: string;
  from?: string;
  to?: string;
  speed: string;
  faults?: string;
  seed: string;
  state: string;
  cash: string;
  fractional: boolean;
  admin: boolean;
  rateLimit?: string;
}

function integer(text: string, what: string): number {
  if (!/^-?\d+$/.test(text)) throw new PaperServerError('InvalidOption', `${what} must be an integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** Turns `axon venue serve` flags and the key environment variables into server options. @throws PaperServerError InvalidOption */
export function serveOptions(flags: ServeFlags, env: NodeJS.ProcessEnv): PaperServerOptions {
  if (flags.protocol !== 'alpaca') throw new PaperServerError('InvalidOption', `--protocol ${JSON.stringify(flags.protocol)} is not supported (alpaca is)`);
  const keyId = env[ENV_KEY_ID];
  const secretKey = env[ENV_SECRET_KEY];
  if (keyId === undefined || keyId === '' || secretKey === undefined || secretKey === '') {
    throw new PaperServerError('InvalidOption', `set ${ENV_KEY_ID} and ${ENV_SECRET_KEY}: the paper venue accepts only the keys given there`);
  }
  if (!/^\d+(\.\d+)?$/.test(flags.speed)) throw new PaperServerError('InvalidOption', `--speed must be a number >= 0, got ${JSON.stringify(flags.speed)}`);
  return {
    host: flags.host,
    port: integer(flags.port, '--port'),
    stateFile: flags.state,
    ...(flags.data === undefined ? {} : { store: flags.data }),
    ...(flags.symbols === undefined ? {} : { symbols: flags.symbols.split(',').map((s) => s.trim()).filter((s) => s !== '') }),
    ...(flags.from === undefined ? {} : { from: flags.from }),
    ...(flags.to === undefined ? {} : { to: flags.to }),
    speed: Number(flags.speed),
    ...(flags.faults === undefined ? {} : { faults: flags.faults }),
    seed: integer(flags.seed, '--seed'),
    keyId,
    secretKey,
    startingCash: flags.cash,
    fractional: flags.fractional,
    admin: flags.admin,
    ...(flags.rateLimit === undefined ? {} : { rateLimitPerMin: integer(flags.rateLimit, '--rate-limit') }),
  };
}

/** Registers `axon venue serve`. */
export function registerVenueCommand(program: Command): void {
  const venue = program.command('venue').description('venues AXON can run itself');
  venue
    .command('serve')
    .description('run the paper venue server (Alpaca protocol: REST, trading stream, market data stream) on replayed bars; prints {"url","trading_stream","data_stream"} once listening')
    .addOption(new Option('--protocol <name>', 'wire protocol').choices(['alpaca']).default('alpaca'))
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port (0 = ephemeral)', '0')
    .option('--data <store>', 'bar store directory to replay')
    .option('--symbols <list>', 'comma-separated symbols (default: every symbol in the store)')
    .option('--from <iso>', 'replay bars opening at or after this instant')
    .option('--to <iso>', 'replay bars opening before this instant')
    .option('--speed <x>', 'market seconds per wall second (0 = advance only through POST /admin/step)', '0')
    .option('--faults <spec>', 'seeded faults, e.g. chaos or drop=0.05,delay_ms=200,r429=0.05,r5xx_placed=0.05,ack_after_fill=0.1,disconnect=0.01')
    .option('--seed <n>', 'fault seed', '1')
    .option('--state <file>', 'SQLite state file (the server continues from it after a restart)', 'paper-venue.sqlite')
    .option('--cash <usd>', 'starting cash of a new state file', '100000')
    .option('--no-fractional', 'whole shares only')
    .option('--no-admin', 'disable the /admin/* endpoints')
    .option('--rate-limit <n>', 'REST requests per minute per key (default 200)')
    .action(async (flags: ServeFlags) => {
      const server = await startPaperServer({
        ...serveOptions(flags, process.env),
        onError: (e) => process.stderr.write(`axon venue serve: replay stopped: ${e instanceof Error ? e.message : String(e)}\n`),
      });
      process.stdout.write(`${JSON.stringify({ url: server.url, trading_stream: server.tradingStreamUrl, data_stream: server.dataStreamUrl })}\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await server.close();
    });
}
