import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ComplianceError } from './errors.js';
import { readAuditAnchor, readAuditRows } from './sqlite-sink.js';
import { verifyAuditRows } from './verify.js';
import type { AuditVerification } from './verify.js';
import type { AuditHead } from './entry.js';

/** `verifyAudit`'s result for a run directory, plus how many checkpoint copies of the head were checked too. */
export type RunDirVerification = AuditVerification & { readonly checkpoints: number };

/**
 * The audit heads the engine copied into its checkpoints (`checkpoints.audit_seq`, `audit_hash` in the same
 * file), when that table has those columns; rows without a well-formed copy are skipped.
 */
export function readCheckpointAnchors(db: Database.Database): AuditHead[] {
  const columns = new Set((db.prepare("SELECT name FROM pragma_table_info('checkpoints')").all() as { name: string }[]).map((r) => r.name));
  if (!columns.has('audit_seq') || !columns.has('audit_hash')) return [];
  const rows = db.prepare('SELECT audit_seq AS seq, audit_hash AS hash FROM checkpoints WHERE audit_seq IS NOT NULL AND audit_hash IS NOT NULL ORDER BY audit_seq').all() as { seq: unknown; hash: unknown }[];
  const out: AuditHead[] = [];
  for (const r of rows) if (typeof r.seq === 'number' && Number.isSafeInteger(r.seq) && r.seq >= 1 && typeof r.hash === 'string') out.push({ seq: r.seq, hash: r.hash });
  return out;
}

/**
 * Verifies the audit chain of a run directory: opens `<runDir>/state.sqlite` read-only, reads `audit`
 * in rowid order and checks it against the head kept in `audit_anchor` and the copies of earlier heads
 * kept in the engine's checkpoints (which narrow where a re-hashed change lies).
 * @throws ComplianceError AuditMissing when the file or the audit tables are missing or unreadable,
 *   AuditIntegrityFailed when `audit_anchor` has no well-formed row (the chain cannot be trusted without it)
 */
export function verifyRunDir(runDir: string): RunDirVerification {
  const path = join(runDir, 'state.sqlite');
  if (!existsSync(path)) throw new ComplianceError('AuditMissing', `no state.sqlite in ${runDir}`);
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new ComplianceError('AuditMissing', `cannot open ${path}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  try {
    let tables: Set<string>;
    try {
      tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name));
    } catch (e) {
      throw new ComplianceError('AuditMissing', `${path} is not a readable SQLite database: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    for (const t of ['audit', 'audit_anchor']) if (!tables.has(t)) throw new ComplianceError('AuditMissing', `${path} has no ${t} table`);
    const anchor = readAuditAnchor(db);
    if (anchor === undefined) throw new ComplianceError('AuditIntegrityFailed', `${path}: audit_anchor has no well-formed row, so the chain's head cannot be checked`);
    const checkpoints = readCheckpointAnchors(db);
    return { ...verifyAuditRows(readAuditRows(db), anchor, checkpoints), checkpoints: checkpoints.length };
  } finally {
    db.close();
  }
}
