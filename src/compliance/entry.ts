import { encodeCanonical, PreEncoded, sha256Hex } from './canonical.js';
import type { CanonicalValue } from './canonical.js';
import { ComplianceError } from './errors.js';

/** `prevHash` of the first entry of every chain: 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/** What an audit entry records; the listed kinds are the engine's, any other string is allowed. */
export type AuditKind = 'transition' | 'intent' | 'fill' | 'correction' | 'reconcile' | 'halt' | (string & {});

/** The head of a chain (or an anchor copied from it): last seq (0 when empty) and its hash (GENESIS_HASH when empty). */
export interface AuditHead {
  readonly seq: number;
  readonly hash: string;
}

/** What a caller supplies to `AuditTrail.append`; seq, time and hashes are added by the trail. */
export interface AuditFields {
  readonly kind: AuditKind;
  /** what the entry is about: a client order id, a symbol, 'engine', ... */
  readonly subject: string;
  readonly fromState?: string;
  readonly toState?: string;
  readonly reason: string;
  /** the venue event or other cause; anything `encodeCanonical` accepts (bigints, Price via toJSON) */
  readonly event?: unknown;
}

/** One frozen entry of the hash-chained audit trail. */
export interface AuditEntry {
  /** 1, 2, 3, ... without gaps */
  readonly seq: number;
  /** when it was appended, UNIX epoch ns from the engine's Clock */
  readonly tsNs: bigint;
  readonly kind: AuditKind;
  readonly subject: string;
  readonly fromState?: string;
  readonly toState?: string;
  readonly reason: string;
  /** the cause in its canonical (plain, frozen) form, exactly as stored */
  readonly event?: CanonicalValue;
  /** hash of the previous entry, GENESIS_HASH for seq 1 */
  readonly prevHash: string;
  /** sha256Hex(auditEntryCanonical(this entry without hash)) */
  readonly hash: string;
}

function str(v: unknown): boolean {
  return typeof v === 'string';
}

function optStr(v: unknown): boolean {
  return v === undefined || typeof v === 'string';
}

/**
 * The canonical text an entry's hash is computed over: `encodeCanonical` of the object
 * `{seq, tsNs, kind, subject, fromState?, toState?, reason, event?, prevHash}` (absent optional fields omitted).
 * `eventText`, when given, must be `encodeCanonical(entry.event)` (saves encoding the event twice).
 * @throws ComplianceError SerializationError when the event has no canonical encoding
 */
export function auditEntryCanonical(entry: Omit<AuditEntry, 'hash'>, eventText?: string): string {
  // encodeCanonical of that object, written out: its keys in sorted order, absent ones left out (same bytes)
  const event = entry.event === undefined ? undefined : (eventText ?? encodeCanonical(entry.event, 'entry.event'));
  if (!Number.isFinite(entry.seq) || typeof entry.tsNs !== 'bigint' || !str(entry.kind) || !str(entry.subject) || !str(entry.reason) || !str(entry.prevHash) || !optStr(entry.fromState) || !optStr(entry.toState)) {
    return encodeCanonical(
      {
        seq: entry.seq,
        tsNs: entry.tsNs,
        kind: entry.kind,
        subject: entry.subject,
        fromState: entry.fromState,
        toState: entry.toState,
        reason: entry.reason,
        event: event === undefined ? undefined : new PreEncoded(event),
        prevHash: entry.prevHash,
      },
      'entry',
    );
  }
  let out = event === undefined ? '{' : `{"event":${event},`;
  if (entry.fromState !== undefined) out += `"fromState":${JSON.stringify(entry.fromState)},`;
  out += `"kind":${JSON.stringify(entry.kind)},"prevHash":${JSON.stringify(entry.prevHash)},"reason":${JSON.stringify(entry.reason)},"seq":${JSON.stringify(entry.seq)},"subject":${JSON.stringify(entry.subject)},`;
  if (entry.toState !== undefined) out += `"toState":${JSON.stringify(entry.toState)},`;
  return `${out}"tsNs":${entry.tsNs.toString()}n}`;
}

/**
 * The hash an entry must carry: SHA-256 hex of its canonical text (`eventText` as for auditEntryCanonical).
 * @throws ComplianceError SerializationError when the event has no canonical encoding
 */
export function auditEntryHash(entry: Omit<AuditEntry, 'hash'>, eventText?: string): string {
  return sha256Hex(auditEntryCanonical(entry, eventText));
}

/** Where a trail's entries go; `append` must persist the entry and advance the stored head atomically. */
export interface AuditSink {
  /** The stored head: `{seq: 0, hash: GENESIS_HASH}` when empty. */
  head(): AuditHead;
  /**
   * Stores an entry that extends the stored head; `eventText` is `encodeCanonical(entry.event)` when it has one.
   * @throws ComplianceError AuditConflict when the stored head is not `{entry.seq - 1, entry.prevHash}` (nothing is written)
   */
  append(entry: AuditEntry, eventText?: string): void;
  /** Stores entries a sink holds back (a deferring sink); absent or a no-op for one that stores at once. */
  flush?(): void;
  /** Drops entries a sink holds back, after its owner rolled back the transaction they were meant for. */
  discard?(): void;
}

/** An in-memory sink (tests, dry runs); `entries()` and `anchor()` feed `verifyAudit`. */
export class MemoryAuditSink implements AuditSink {
  #entries: AuditEntry[] = [];

  head(): AuditHead {
    const last = this.#entries.at(-1);
    return last === undefined ? { seq: 0, hash: GENESIS_HASH } : { seq: last.seq, hash: last.hash };
  }

  append(entry: AuditEntry): void {
    const head = this.head();
    if (entry.seq !== head.seq + 1 || entry.prevHash !== head.hash) {
      throw new ComplianceError('AuditConflict', `audit entry seq ${entry.seq} does not extend the stored head (seq ${head.seq})`);
    }
    this.#entries.push(entry);
  }

  /** A copy of the stored entries in append order. */
  entries(): AuditEntry[] {
    return [...this.#entries];
  }

  /** The head as an anchor for `verifyAudit`. */
  anchor(): AuditHead {
    return this.head();
  }
}

