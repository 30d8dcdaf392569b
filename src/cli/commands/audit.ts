import type { Command } from 'commander';
import { ComplianceError, verifyRunDir } from '../../compliance/index.js';

function writeStdout(chunk: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(chunk, (e) => (e ? reject(e) : resolve()));
  });
}

/** Registers `axon audit verify`. */
export function registerAuditCommand(program: Command): void {
  const audit = program.command('audit').description('the hash-chained audit trail of a run');

  audit
    .command('verify')
    .description('check that no audit entry of a run was changed, removed, reordered or inserted (exit 0 intact, 2 broken)')
    .argument('<run-dir>', 'run directory holding state.sqlite')
    .option('--json', 'print the verification result as JSON on stdout')
    .action(async (runDir: string, opts: { json?: boolean }) => {
      const result = verifyRunDir(runDir);
      if (opts.json) await writeStdout(`${JSON.stringify({ runDir, ...result })}\n`);
      if (!result.ok) throw new ComplianceError('AuditIntegrityFailed', `audit chain of ${runDir} is broken at seq ${result.seq} (${result.problem}): ${result.detail}`);
      process.stderr.write(`audit chain of ${runDir} intact: ${result.count} entries, head seq ${result.head.seq} ${result.head.hash}, ${result.checkpoints} checkpoint copies of the head agree\n`);
    });
}
