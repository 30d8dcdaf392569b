import { decodeCanonical, encodeCanonical } from './canonical.js';
import type { CanonicalValue } from './canonical.js';
import { auditEntryHash, GENESIS_HASH } from './entry.js';
import type { AuditEntry, AuditHead } from './entry.js';
import type { AuditRow } from './sqlite-sink.js';

/** How a chain fails verification. */
export type AuditProblem = 'changed' | 'removed' | 'reordered' | 'inserted' | 'truncated' | 'malformed';

/**
 * The outcome of `verifyAudit`. On failure, `seq` is the first seq of the chain that is not proven
 * intact (every entry with a lower seq is: it is in place, its hash matches its content and the links
 * hold), `index` the 0-based stored position where the problem shows, and `detail` a sentence naming it.
 */
export type AuditVerification =
  | { readonly ok: true; readonly count: number; readonly head: AuditHead }
  | { readonly ok: false; readonly seq: number; readonly index: number; readonly problem: AuditProblem; readonly detail: string };

interface Candidate {
  readonly entry?: AuditEntry;
  readonly seq?: number;
  readonly malformed?: string;
  /** why the stored form differs from what was written, although it still decodes */
  readonly altered?: string;
  /** the stored event text, once checked to be encodeCanonical(entry.event) */
  readonly eventText?: string;
}

const HEX64 = /^[0-9a-f]{64}$/;

function validSeq(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
}

function entryCandidate(e: AuditEntry): Candidate {
  const bad = (what: string): Candidate => ({ ...(validSeq(e.seq) ? { seq: e.seq } : {}), malformed: what });
  if (typeof e !== 'object' || e === null) return { malformed: 'not an object' };
  if (!validSeq(e.seq)) return bad(`seq ${String(e.seq)} is not a positive integer`);
  if (typeof e.tsNs !== 'bigint') return bad('tsNs is not a bigint');
  for (const k of ['kind', 'subject', 'reason'] as const) if (typeof e[k] !== 'string') return bad(`${k} is not a string`);
  for (const k of ['fromState', 'toState'] as const) if (e[k] !== undefined && typeof e[k] !== 'string') return bad(`${k} is not a string`);
  for (const k of ['prevHash', 'hash'] as const) if (typeof e[k] !== 'string' || !HEX64.test(e[k])) return bad(`${k} is not 64 lowercase hex digits`);
  if (e.event !== undefined) {
    try {
      encodeCanonical(e.event, 'event');
    } catch (err) {
      return bad(err instanceof Error ? err.message : String(err));
    }
  }
  return { entry: e, seq: e.seq };
}

function rowCandidate(r: AuditRow): Candidate {
  const seq = validSeq(r.seq) ? r.seq : undefined;
  const bad = (what: string): Candidate => ({ ...(seq === undefined ? {} : { seq }), malformed: what });
  if (seq === undefined) return bad(`seq ${String(r.seq)} is not a positive integer`);
  if (typeof r.ts_ns !== 'string' || !/^-?\d+$/.test(r.ts_ns)) return bad(`ts_ns ${JSON.stringify(r.ts_ns)} is not an integer in decimal`);
  const tsNs = BigInt(r.ts_ns);
  let altered: string | undefined = tsNs.toString() === r.ts_ns ? undefined : `ts_ns ${JSON.stringify(r.ts_ns)} is not in canonical form`;
  for (const k of ['kind', 'subject', 'reason'] as const) if (typeof r[k] !== 'string') return bad(`${k} is not text`);
  for (const k of ['from_state', 'to_state'] as const) if (r[k] !== null && typeof r[k] !== 'string') return bad(`${k} is neither text nor NULL`);
  for (const k of ['prev_hash', 'hash'] as const) if (typeof r[k] !== 'string' || !HEX64.test(r[k])) return bad(`${k} is not 64 lowercase hex digits`);
  let event: CanonicalValue | undefined;
  if (r.event_json !== null) {
    if (typeof r.event_json !== 'string') return bad('event_json is neither text nor NULL');
    try {
      event = decodeCanonical(r.event_json);
    } catch (err) {
      return bad(`event_json: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (altered === undefined && encodeCanonical(event) !== r.event_json) altered = 'event_json is not in canonical form';
  }
  const entry: AuditEntry = {
    seq,
    tsNs,
    kind: r.kind as string,
    subject: r.subject as string,
    ...(typeof r.from_state === 'string' ? { fromState: r.from_state } : {}),
    ...(typeof r.to_state === 'string' ? { toState: r.to_state } : {}),
    reason: r.reason as string,
    ...(event === undefined ? {} : { event }),
    prevHash: r.prev_hash as string,
    hash: r.hash as string,
  };
  return { entry, seq, ...(altered === undefined ? {} : { altered }), ...(event === undefined ? {} : { eventText: r.event_json as string }) };
}

/**
 * Verifies a hash chain in stored order and names the FIRST bad entry. How problems are told apart, at
 * the first stored position p (1-based) that is not sound:
 * - `malformed`: the entry is not well-typed (seq, 64-hex hashes, bigint time, encodable event);
 * - `changed`: its hash does not match its recomputed content; or a link breaks although both sides
 *   hash correctly (one side was changed and re-hashed: the side whose own successor or anchor
 *   still links to it is the intact one); or an anchor's hash differs although every link holds
 *   (the chain was re-hashed from the tampered entry on: then `seq` is the first seq after the last
 *   matching anchor, as nothing finer can be known);
 * - `removed`: seq p is missing from the table and a later seq stands in its place;
 * - `reordered`: seq p exists, but at another position, and a later unique seq stands here;
 * - `inserted`: a self-consistent entry whose seq duplicates another one (the forged twin is the one
 *   the next seq's prevHash and the anchors do not link to), lies beyond the anchored head, or claims
 *   a seq beyond the number of stored entries;
 * - `truncated`: every stored entry is sound but the anchor's head seq is higher.
 * Threat model: the chain alone proves order and content only against edits that leave hashes stale.
 * Someone who can write the store can re-hash everything after the entry they changed; that is caught
 * only through `anchor` (the head seq and hash, kept in `audit_anchor` and copied by the engine into
 * every checkpoint) and the optional older `checkpoints` (heads seen earlier), which bound where the
 * change lies. An anchor held in the same file as the chain protects against careless edits, not
 * against someone who rewrites both; keep a copy elsewhere for that.
 */
export function verifyAudit(entries: readonly AuditEntry[], anchor?: AuditHead, checkpoints: readonly AuditHead[] = []): AuditVerification {
  return verifyCandidates(entries.map(entryCandidate), anchor, checkpoints);
}

/** `verifyAudit` over rows of the `audit` table in stored (rowid) order; a non-canonical stored form counts as changed. */
export function verifyAuditRows(rows: readonly AuditRow[], anchor?: AuditHead, checkpoints: readonly AuditHead[] = []): AuditVerification {
  return verifyCandidates(rows.map(rowCandidate), anchor, checkpoints);
}

function contentProblem(c: Candidate, entry: AuditEntry): string | undefined {
  if (c.altered !== undefined) return c.altered;
  return auditEntryHash(entry, c.eventText) === entry.hash ? undefined : 'its stored hash does not match its content';
}

function verifyCandidates(cands: readonly Candidate[], anchor: AuditHead | undefined, checkpoints: readonly AuditHead[]): AuditVerification {
  const n = cands.length;
  const counts = new Map<number, number>();
  const firstIndex = new Map<number, number>();
  cands.forEach((c, i) => {
    if (c.seq === undefined) return;
    counts.set(c.seq, (counts.get(c.seq) ?? 0) + 1);
    if (!firstIndex.has(c.seq)) firstIndex.set(c.seq, i);
  });
  const anchored = new Map<number, string[]>();
  for (const a of anchor === undefined ? checkpoints : [...checkpoints, anchor]) anchored.set(a.seq, [...(anchored.get(a.seq) ?? []), a.hash]);
  const fail = (seq: number, index: number, problem: AuditProblem, detail: string): AuditVerification => ({ ok: false, seq, index, problem, detail });

  // what later evidence (the first stored seq e+1's prevHash, anchors at e) says seq e's hash should be
  const evidence = (e: number): string[] => {
    const out = [...(anchored.get(e) ?? [])];
    const j = firstIndex.get(e + 1);
    const next = j === undefined ? undefined : cands[j]?.entry;
    if (next !== undefined) out.push(next.prevHash);
    return out;
  };

  let prev = GENESIS_HASH;
  let proven = 0;
  for (let i = 0; i < n; i++) {
    const c = cands[i] as Candidate;
    const e = i + 1;
    if (anchor !== undefined && e > anchor.seq) {
      return fail(e, i, 'inserted', `the entry at position ${e} (claiming seq ${c.seq ?? '?'}) lies beyond the anchored head seq ${anchor.seq}`);
    }
    const x = c.entry;
    if (x === undefined || c.malformed !== undefined) return fail(e, i, 'malformed', `the entry at position ${e}: ${c.malformed ?? 'unreadable'}`);
    const mismatch = contentProblem(c, x);
    if (mismatch !== undefined) return fail(e, i, 'changed', `entry seq ${e}${x.seq === e ? '' : ` (now claiming seq ${x.seq})`}: ${mismatch}`);
    if (x.seq !== e) {
      if (x.seq < e || (counts.get(x.seq) ?? 0) > 1) return fail(e, i, 'inserted', `an entry claiming seq ${x.seq}, which another entry also has, stands where seq ${e} belongs`);
      if (anchor !== undefined && x.seq > anchor.seq) return fail(e, i, 'inserted', `an entry claiming seq ${x.seq}, beyond the anchored head seq ${anchor.seq}, stands where seq ${e} belongs`);
      if (!counts.has(e)) {
        let last = e;
        while (last + 1 < x.seq && !counts.has(last + 1)) last++;
        return fail(e, i, 'removed', `entr${last === e ? `y seq ${e} is` : `ies seq ${e}..${last} are`} missing: seq ${x.seq} follows seq ${e - 1}`);
      }
      if (x.seq > n) return fail(e, i, 'inserted', `an entry claiming seq ${x.seq}, beyond the ${n} stored entries, stands where seq ${e} belongs`);
      return fail(e, i, 'reordered', `seq ${x.seq} is stored at position ${e}, where seq ${e} belongs (seq ${e} is at position ${(firstIndex.get(e) ?? 0) + 1})`);
    }
    if (x.prevHash !== prev) {
      if ((counts.get(e) ?? 0) > 1) return fail(e, i, 'inserted', `a second entry with seq ${e} does not link to seq ${e - 1}`);
      if (i === 0) return fail(1, 0, 'changed', 'entry seq 1: its prevHash is not the genesis hash (seq 1 was changed and re-hashed)');
      const ev = evidence(e);
      if (ev.length > 0 && !ev.includes(x.hash)) {
        return fail(e, i, 'changed', `entry seq ${e}: it does not link to seq ${e - 1}, and what follows does not link to it: seq ${e} was changed and re-hashed`);
      }
      return fail(
        e - 1,
        i - 1,
        'changed',
        `entry seq ${e - 1}: its hash is not the one seq ${e} links to: seq ${e - 1} was changed and re-hashed` +
          (ev.length === 0 ? ` (or seq ${e}'s prevHash was; with no later entry and no anchor the two cannot be told apart)` : ''),
      );
    }
    if ((counts.get(e) ?? 0) > 1) {
      const ev = evidence(e);
      if (ev.length > 0 && !ev.includes(x.hash)) return fail(e, i, 'inserted', `a forged entry with seq ${e}: what follows links to the other entry with seq ${e}`);
    }
    const hashes = anchored.get(e);
    if (hashes !== undefined) {
      if (hashes.some((h) => h !== x.hash)) {
        const next = firstIndex.get(e + 1);
        const nextEntry = next === undefined ? undefined : cands[next]?.entry;
        if (nextEntry !== undefined && hashes.includes(nextEntry.prevHash)) {
          return fail(e, i, 'changed', `entry seq ${e}: its hash differs from the anchor kept for it, which seq ${e + 1} still links to: seq ${e} was changed and re-hashed`);
        }
        return fail(
          proven + 1,
          proven,
          'changed',
          `the chain links hold but the hash of seq ${e} differs from the anchor kept for it: entries were changed and the chain re-hashed, somewhere in seq ${proven + 1}..${e}`,
        );
      }
      proven = e;
    }
    prev = x.hash;
  }
  let top = 0;
  for (const s of anchored.keys()) top = Math.max(top, s);
  if (top > n) return fail(n + 1, n, 'truncated', `the chain ends at seq ${n} but the anchor${anchor !== undefined && anchor.seq === top ? '' : ' of a checkpoint'} says seq ${top}: entr${top === n + 1 ? `y seq ${n + 1} was` : `ies seq ${n + 1}..${top} were`} removed`);
  return { ok: true, count: n, head: { seq: n, hash: prev } };
}
