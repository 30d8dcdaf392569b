import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ComplianceError } from './errors.js';
import { readAuditAnchor, readAuditRows } from './sqlite-sink.js';
import { verifyAuditRows } from './verify.js';
import type { AuditVerification } from './verify.js';

/**
 * Verifies the audit chain of a run directory: opens `<runDir>/state.sqlite` read-only, reads `audit`
 * in rowid order and checks it against the head kept in `audit_anchor`.
 * @throws ComplianceError AuditMissing when the file or the audit tables are missing or unreadable,
 *   AuditIntegrityFailed when `audit_anchor` has no well-formed row (the chain cannot be trusted without it)
 */
export function verifyRunDir(runDir: string): AuditVerification {
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
    return verifyAuditRows(readAuditRows(db), anchor);
  } finally {
    db.close();
  }
}
