import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TestClock } from '../core/clock.js';
import { Price, Quantity } from '../core/decimal.js';
import type { CanonicalValue } from './canonical.js';
import { auditEntryHash, GENESIS_HASH, MemoryAuditSink } from './entry.js';
import type { AuditEntry, AuditFields, AuditHead } from './entry.js';
import { ComplianceError } from './errors.js';
import { AuditTrail } from './trail.js';
import { verifyAudit } from './verify.js';

const eventValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
    fc.string({ maxLength: 8 }),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 5 }), tie('value'), { maxKeys: 3 }),
  ),
})).value as fc.Arbitrary<CanonicalValue>;

const fieldsArb: fc.Arbitrary<AuditFields> = fc.record(
  {
    kind: fc.oneof(fc.constantFrom('transition', 'intent', 'fill', 'correction', 'reconcile', 'halt'), fc.string({ minLength: 1, maxLength: 6 })),
    subject: fc.string({ maxLength: 8 }),
    fromState: fc.constantFrom('PENDING', 'SUBMITTED', 'ACCEPTED', 'PARTIALLY_FILLED'),
    toState: fc.constantFrom('SUBMITTED', 'ACCEPTED', 'FILLED', 'CANCELED', 'REJECTED'),
    reason: fc.string({ maxLength: 10 }),
    event: eventValue,
  },
  { requiredKeys: ['kind', 'subject', 'reason'] },
);

interface Chain {
  entries: AuditEntry[];
  anchor: AuditHead;
}

function buildChain(fields: readonly AuditFields[], steps: readonly number[]): Chain {
  const clock = new TestClock(1_700_000_000_000_000_000n);
  const sink = new MemoryAuditSink();
  const trail = new AuditTrail(clock, sink);
  fields.forEach((f, i) => {
    clock.advanceTo(clock.now() + BigInt(steps[i] ?? 0));
    trail.append(f);
  });
  return { entries: sink.entries(), anchor: sink.anchor() };
}

const chainArb = fc
  .array(fieldsArb, { minLength: 1, maxLength: 10 })
  .chain((fields) => fc.tuple(fc.constant(fields), fc.array(fc.nat(1_000_000), { minLength: fields.length, maxLength: fields.length })))
  .map(([fields, steps]) => buildChain(fields, steps));

type Field = 'seq' | 'tsNs' | 'kind' | 'subject' | 'fromState' | 'toState' | 'reason' | 'event' | 'prevHash' | 'hash';
const CONTENT_FIELDS: Field[] = ['tsNs', 'kind', 'subject', 'fromState', 'toState', 'reason', 'event'];

function flipHex(h: string): string {
  return (h[0] === '0' ? '1' : '0') + h.slice(1);
}

function mutate(e: AuditEntry, field: Field, n: number): AuditEntry {
  switch (field) {
    case 'seq':
      return { ...e, seq: e.seq + n + 3 };
    case 'tsNs':
      return { ...e, tsNs: e.tsNs + 1n };
    case 'kind':
    case 'subject':
    case 'reason':
      return { ...e, [field]: `${e[field]}!` };
    case 'fromState':
    case 'toState':
      return { ...e, [field]: `${e[field] ?? ''}!` };
    case 'event':
      return { ...e, event: { tampered: e.event ?? null } };
    case 'prevHash':
    case 'hash':
      return { ...e, [field]: flipHex(e[field]) };
  }
}

function rehash(e: AuditEntry): AuditEntry {
  return { ...e, hash: auditEntryHash(e) };
}

/** 1 + the highest anchored seq below `k` (0 when none): where a re-hashed change can first be. */
function boundBelow(k: number, anchors: readonly AuditHead[]): number {
  let best = 0;
  for (const a of anchors) if (a.seq < k) best = Math.max(best, a.seq);
  return best + 1;
}

const withCheckpoints = (c: Chain) => fc.tuple(fc.constant(c), fc.subarray(c.entries.map((e) => ({ seq: e.seq, hash: e.hash }))));

describe('AuditTrail', () => {
  it('chains entries from genesis with Clock time, frozen, with the event in canonical form', () => {
    const clock = new TestClock(5_000n);
    const trail = new AuditTrail(clock);
    expect(trail.head()).toEqual({ seq: 0, hash: GENESIS_HASH });
    const a = trail.append({ kind: 'intent', subject: 'O-1', reason: 'entry signal', event: { px: Price.of('10.25'), qty: Quantity.of('3'), ts: 7n, skip: undefined } });
    clock.advanceTo(6_000n);
    const b = trail.append({ kind: 'transition', subject: 'O-1', fromState: 'PENDING', toState: 'SUBMITTED', reason: 'sent' });
    expect(a).toMatchObject({ seq: 1, tsNs: 5_000n, prevHash: GENESIS_HASH, event: { px: '10.25', qty: '3', ts: 7n } });
    expect('skip' in (a.event as object)).toBe(false);
    expect(b).toMatchObject({ seq: 2, tsNs: 6_000n, prevHash: a.hash, fromState: 'PENDING', toState: 'SUBMITTED' });
    expect(b.hash).toBe(auditEntryHash(b));
    expect(Object.isFrozen(a) && Object.isFrozen(a.event)).toBe(true);
    expect(trail.head()).toEqual({ seq: 2, hash: b.hash });
    expect(trail.size).toBe(2);
  });

  it('refuses bad fields and unencodable events without storing anything', () => {
    const sink = new MemoryAuditSink();
    const trail = new AuditTrail(new TestClock(), sink);
    trail.append({ kind: 'halt', subject: 'engine', reason: 'kill switch' });
    const head = trail.head();
    const codes: string[] = [];
    for (const f of [
      { kind: '', subject: 'x', reason: 'r' },
      { kind: 'fill', subject: 3 as unknown as string, reason: 'r' },
      { kind: 'fill', subject: 'x', reason: 'r', toState: 1 as unknown as string },
      { kind: 'fill', subject: 'x', reason: 'r', event: { qty: Number.NaN } },
      { kind: 'fill', subject: 'x', reason: 'r', event: new Map() },
    ]) {
      try {
        trail.append(f);
      } catch (e) {
        if (e instanceof ComplianceError) codes.push(e.code);
        else throw e;
      }
    }
    expect(codes).toEqual(['InvalidAuditEntry', 'InvalidAuditEntry', 'InvalidAuditEntry', 'SerializationError', 'SerializationError']);
    expect(trail.head()).toEqual(head);
    expect(sink.entries()).toHaveLength(1);
  });

  it('refuses to append when the sink head moved under it, and continues after reload', () => {
    const sink = new MemoryAuditSink();
    const clock = new TestClock();
    const a = new AuditTrail(clock, sink);
    const b = new AuditTrail(clock, sink);
    a.append({ kind: 'intent', subject: 'O-1', reason: 'r' });
    expect(() => b.append({ kind: 'intent', subject: 'O-2', reason: 'r' })).toThrow(/\[AuditConflict\] audit entry seq 1 does not extend the stored head \(seq 1\)/);
    b.reload();
    b.append({ kind: 'intent', subject: 'O-2', reason: 'r' });
    expect(verifyAudit(sink.entries(), sink.anchor())).toEqual({ ok: true, count: 2, head: sink.anchor() });
  });
});

describe('verifyAudit', () => {
  it('accepts intact chains, with and without the anchor and any matching checkpoints', () => {
    fc.assert(
      fc.property(chainArb.chain(withCheckpoints), ([c, cps]) => {
        const ok = { ok: true, count: c.entries.length, head: c.anchor };
        expect(verifyAudit(c.entries, c.anchor, cps)).toEqual(ok);
        expect(verifyAudit(c.entries)).toEqual(ok);
      }),
    );
    expect(verifyAudit([], { seq: 0, hash: GENESIS_HASH })).toEqual({ ok: true, count: 0, head: { seq: 0, hash: GENESIS_HASH } });
  });

  it('names a change of any field of any entry (hash left stale)', () => {
    const fields: Field[] = [...CONTENT_FIELDS, 'seq', 'prevHash', 'hash'];
    fc.assert(
      fc.property(chainArb.chain(withCheckpoints), fc.nat(), fc.constantFrom(...fields), ([c, cps], at, field) => {
        const k = (at % c.entries.length) + 1;
        const tampered = c.entries.map((e) => (e.seq === k ? mutate(e, field, c.entries.length) : e));
        expect(verifyAudit(tampered, c.anchor, cps)).toMatchObject({ ok: false, seq: k, index: k - 1, problem: 'changed' });
        expect(verifyAudit(tampered)).toMatchObject({ ok: false, seq: k, problem: 'changed' });
      }),
    );
  });

  it('names a change of any field re-hashed in that entry alone', () => {
    fc.assert(
      fc.property(chainArb.chain(withCheckpoints), fc.nat(), fc.constantFrom<Field>(...CONTENT_FIELDS, 'prevHash', 'seq'), ([c, cps], at, field) => {
        const n = c.entries.length;
        const k = (at % n) + 1;
        const tampered = c.entries.map((e) => (e.seq === k ? rehash(mutate(e, field, n)) : e));
        const r = verifyAudit(tampered, c.anchor, cps);
        if (field === 'seq') expect(r).toMatchObject({ ok: false, seq: k, index: k - 1, problem: 'inserted' });
        else if (field === 'prevHash' || k < n) expect(r).toMatchObject({ ok: false, seq: k, problem: 'changed' });
        // the last entry re-hashed is a re-hashed tail of length one: bounded by the anchors below it
        else expect(r).toMatchObject({ ok: false, seq: boundBelow(k, [...cps, c.anchor]), problem: 'changed' });
      }),
    );
  });

  it('names a removed entry, the last one as truncation', () => {
    fc.assert(
      fc.property(chainArb, fc.nat(), (c, at) => {
        const n = c.entries.length;
        const k = (at % n) + 1;
        const tampered = c.entries.filter((e) => e.seq !== k);
        expect(verifyAudit(tampered, c.anchor)).toMatchObject({ ok: false, seq: k, index: k - 1, problem: k === n ? 'truncated' : 'removed' });
        // without the anchor, losing the tail is undetectable: that is what the anchor is for
        if (k < n) expect(verifyAudit(tampered)).toMatchObject({ ok: false, seq: k, problem: 'removed' });
        else expect(verifyAudit(tampered).ok).toBe(true);
      }),
    );
  });

  it('names the first position of two swapped entries', () => {
    fc.assert(
      fc.property(
        chainArb.filter((c) => c.entries.length >= 2),
        fc.nat(),
        fc.nat(),
        (c, x, y) => {
          const n = c.entries.length;
          const i = x % n;
          let j = y % n;
          if (j === i) j = (i + 1) % n;
          const [lo, hi] = i < j ? [i, j] : [j, i];
          const tampered = [...c.entries];
          [tampered[lo], tampered[hi]] = [tampered[hi] as AuditEntry, tampered[lo] as AuditEntry];
          expect(verifyAudit(tampered, c.anchor)).toMatchObject({ ok: false, seq: lo + 1, index: lo, problem: 'reordered' });
          expect(verifyAudit(tampered)).toMatchObject({ ok: false, seq: lo + 1, problem: 'reordered' });
        },
      ),
    );
  });

  it('names an inserted forged entry whose own hash is consistent', () => {
    fc.assert(
      fc.property(chainArb, fc.nat(), fieldsArb, fc.boolean(), fc.integer({ min: 1, max: 15 }), (c, at, f, plausible, claimed) => {
        const n = c.entries.length;
        const p = at % (n + 1);
        const prevHash = p === 0 ? GENESIS_HASH : (c.entries[p - 1] as AuditEntry).hash;
        const body = {
          seq: plausible ? p + 1 : claimed,
          tsNs: -1n,
          kind: f.kind,
          subject: f.subject,
          reason: f.reason,
          prevHash: plausible ? prevHash : flipHex(prevHash),
        };
        const forged: AuditEntry = { ...body, hash: auditEntryHash(body) };
        const tampered = [...c.entries.slice(0, p), forged, ...c.entries.slice(p)];
        expect(verifyAudit(tampered, c.anchor)).toMatchObject({ ok: false, seq: p + 1, index: p, problem: 'inserted' });
      }),
    );
  });

  it('catches a chain re-hashed from the changed entry on only through the anchors, bounded by the last one that matches', () => {
    fc.assert(
      fc.property(chainArb.chain(withCheckpoints), fc.nat(), fc.constantFrom(...CONTENT_FIELDS), ([c, cps], at, field) => {
        const n = c.entries.length;
        const k = (at % n) + 1;
        const tampered: AuditEntry[] = [];
        let prev = GENESIS_HASH;
        for (const e of c.entries) {
          const next = e.seq < k ? e : rehash({ ...(e.seq === k ? mutate(e, field, n) : e), prevHash: prev });
          tampered.push(next);
          prev = next.hash;
        }
        // every link holds: without an anchor the rewrite is invisible
        expect(verifyAudit(tampered).ok).toBe(true);
        const r = verifyAudit(tampered, c.anchor, cps);
        expect(r).toMatchObject({ ok: false, seq: boundBelow(k, [...cps, c.anchor]), problem: 'changed' });
        // with a checkpoint at every seq the change is pinned exactly
        const all = c.entries.map((e) => ({ seq: e.seq, hash: e.hash }));
        expect(verifyAudit(tampered, c.anchor, all)).toMatchObject({ ok: false, seq: k, index: k - 1, problem: 'changed' });
      }),
    );
  });

  it('names the lower seq when a broken last link has no later evidence (no anchor), and says so', () => {
    const { entries, anchor } = buildChain(
      [1, 2, 3].map((i) => ({ kind: 'fill', subject: `O-${i}`, reason: 'r' })),
      [0, 1, 1],
    );
    const last = rehash({ ...(entries[2] as AuditEntry), prevHash: 'a'.repeat(64) });
    const tampered = [...entries.slice(0, 2), last];
    expect(verifyAudit(tampered)).toMatchObject({ ok: false, seq: 2, index: 1, problem: 'changed', detail: expect.stringMatching(/cannot be told apart/) });
    expect(verifyAudit(tampered, anchor)).toMatchObject({ ok: false, seq: 3, index: 2, problem: 'changed' });
  });

  it('reports malformed entries and a genesis link that was rewritten', () => {
    const { entries, anchor } = buildChain(
      [1, 2, 3].map((i) => ({ kind: 'fill', subject: `O-${i}`, reason: 'r' })),
      [0, 1, 1],
    );
    const bad = (patch: Record<string, unknown>) => entries.map((e) => (e.seq === 2 ? ({ ...e, ...patch } as unknown as AuditEntry) : e));
    expect(verifyAudit(bad({ hash: 'xyz' }), anchor)).toMatchObject({ seq: 2, problem: 'malformed', detail: 'the entry at position 2: hash is not 64 lowercase hex digits' });
    expect(verifyAudit(bad({ tsNs: 5 }), anchor)).toMatchObject({ seq: 2, problem: 'malformed' });
    expect(verifyAudit(bad({ seq: 1.5 }), anchor)).toMatchObject({ seq: 2, problem: 'malformed' });
    expect(verifyAudit(bad({ event: { x: Number.NaN } }), anchor)).toMatchObject({ seq: 2, problem: 'malformed' });
    const first = rehash({ ...(entries[0] as AuditEntry), prevHash: 'f'.repeat(64) });
    expect(verifyAudit([first, ...entries.slice(1)], anchor)).toMatchObject({ seq: 1, index: 0, problem: 'changed' });
    expect(verifyAudit(entries, { seq: 5, hash: anchor.hash })).toMatchObject({ seq: 4, index: 3, problem: 'truncated', detail: expect.stringMatching(/entries seq 4\.\.5 were removed/) });
  });
});
