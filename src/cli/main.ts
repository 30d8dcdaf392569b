import { Command, CommanderError } from 'commander';
import { AxonError } from '../core/errors.js';
import { registerCommands } from './commands/index.js';

/** Error codes that mean bad usage, configuration or input (exit 2); every other failure exits 1. */
const INPUT_CODES = new Set([
  'InvalidDecimal',
  'PrecisionExceeded',
  'InvalidIdentifier',
  'InvalidArgument',
  'InvalidInstrument',
  'InvalidBar',
  'InvalidInput',
  'InvalidData',
  'FileNotFound',
  'ConfigInvalid',
  'MissingCredentials',
]);

/** Exit code for an error thrown by a command. */
export function exitCodeFor(e: unknown): number {
  if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
  if (e instanceof AxonError) return INPUT_CODES.has(e.code) || (e as { exitCode?: number }).exitCode === 2 ? 2 : 1;
  return 1;
}

/** Runs the `axon` command line; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('axon')
    .description('AXON: trading engine and quant toolkit')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });
  registerCommands(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    const code = exitCodeFor(e);
    if (!(e instanceof CommanderError)) {
      process.stderr.write(`axon: ${e instanceof Error ? e.message : String(e)}\n`);
      if (code === 1 && e instanceof Error && !(e instanceof AxonError) && e.stack) process.stderr.write(`${e.stack}\n`);
    }
    return code;
  }
}
