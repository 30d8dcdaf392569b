import type { Command } from 'commander';
import { registerDataCommand } from './data.js';
import { registerBacktestCommand } from './backtest.js';
import { registerAuditCommand } from './audit.js';
import { registerVenueCommand } from './venue.js';
import { registerLiveCommand } from './live.js';

/** Adds every subcommand to the program; each command module registers itself here. */
export function registerCommands(_program: Command): void {
  registerDataCommand(_program);
  registerBacktestCommand(_program);
  registerAuditCommand(_program);
  registerVenueCommand(_program);
  registerLiveCommand(_program);
}
