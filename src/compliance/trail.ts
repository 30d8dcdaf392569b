import type Database from 'better-sqlite3';
import type { Clock } from '../core/clock.js';
import { canonicalize } from './canonical.js';
import type { CanonicalValue } from './canonical.js';
import { auditEntryHash, MemoryAuditSink } from './entry.js';
import type { AuditEntry, AuditFields, AuditHead, AuditSink } from './entry.js';
import { ComplianceError } from './errors.js';
import { SqliteAuditSink } from './sqlite-sink.js';
import type { SqliteAuditSinkOptions } from './sqlite-sink.js';

function bad(what: string): never {
  throw new ComplianceError('InvalidAuditEntry', `audit entry: ${what}`);
}

function checkFields(fields: AuditFields): void {
  if (typeof fields.kind !== 'string' || fields.kind === '') bad(`kind must be a non-empty string, got ${JSON.stringify(fields.kind)}`);
  if (typeof fields.subject !== 'string') bad(`subject must be a string, got ${typeof fields.subject}`);
  if (typeof fields.reason !== 'string') bad(`reason must be a string, got ${typeof fields.reason}`);
  if (fields.fromState !== undefined && typeof fields.fromState !== 'string') bad(`fromState must be a string, got ${typeof fields.fromState}`);
  if (fields.toState !== undefined && typeof fields.toState !== 'string') bad(`toState must be a string, got ${typeof fields.toState}`);
}

/**
 * The append-only, hash-chained audit trail: each entry carries the SHA-256 of the previous one.
 * It continues from the sink's stored head, so after a restart the chain goes on unbroken.
 */
export class AuditTrail {
  readonly #clock: Clock;
  readonly #sink: AuditSink;
  #head: AuditHead;

  constructor(clock: Clock, sink: AuditSink = new MemoryAuditSink()) {
    this.#clock = clock;
    this.#sink = sink;
    this.#head = sink.head();
  }

  /**
   * A trail stored in `db` (tables `audit` and `audit_anchor`, created when missing) that resumes from the stored head.
   * @throws ComplianceError AuditIntegrityFailed when the stored head and the last stored entry disagree
   */
  static open(db: Database.Database, clock: Clock, options: SqliteAuditSinkOptions = {}): AuditTrail {
    return new AuditTrail(clock, new SqliteAuditSink(db, options));
  }

  /**
   * Builds the next entry (time from the Clock), stores it through the sink and returns it frozen.
   * Nothing is stored and the head does not move when it throws.
   * @throws ComplianceError InvalidAuditEntry for a bad field, SerializationError for an event with no
   *   canonical encoding, AuditConflict when the sink's head moved under the trail (call `reload`)
   */
  append(fields: AuditFields): AuditEntry {
    checkFields(fields);
    let event: CanonicalValue | undefined;
    let eventText: string | undefined;
    if (fields.event !== undefined) {
      const c = canonicalize(fields.event, 'event');
      event = c.value;
      eventText = c.text;
    }
    const body: Omit<AuditEntry, 'hash'> = {
      seq: this.#head.seq + 1,
      tsNs: this.#clock.now(),
      kind: fields.kind,
      subject: fields.subject,
      ...(fields.fromState === undefined ? {} : { fromState: fields.fromState }),
      ...(fields.toState === undefined ? {} : { toState: fields.toState }),
      reason: fields.reason,
      ...(event === undefined ? {} : { event }),
      prevHash: this.#head.hash,
    };
    const entry: AuditEntry = Object.freeze({ ...body, hash: auditEntryHash(body, eventText) });
    this.#sink.append(entry, eventText);
    this.#head = { seq: entry.seq, hash: entry.hash };
    return entry;
  }

  /** Seq and hash of the last entry (`{0, GENESIS_HASH}` when empty): the anchor to copy into checkpoints. */
  head(): AuditHead {
    return this.#head;
  }

  /** Number of entries in the chain, including those appended before a restart. */
  get size(): number {
    return this.#head.seq;
  }

  /** Stores what a deferring sink holds (see SqliteAuditSinkOptions.deferWrites); call it before the owner commits. */
  flush(): void {
    this.#sink.flush?.();
  }

  /** Re-reads the head from the sink, e.g. after the sink's owner rolled back a transaction that held appends (held entries are dropped). */
  reload(): void {
    this.#sink.discard?.();
    this.#head = this.#sink.head();
  }
}
