import type { Command } from 'commander';

/** Adds every subcommand to the program; each command module registers itself here. */
export function registerCommands(_program: Command): void {}
