import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClock, NS } from '../core/clock.js';
import { Rng } from '../core/rng.js';
import type { Timeframe } from '../model/bar.js';
import type { Instrument } from '../model/instrument.js';
import type { StrategyFactory } from '../strategy/types.js';
import { resolveConfig, type EngineConfig } from './config.js';
import { Engine, MutableBar, type EngineHooks } from './engine.js';
import { MemoryLogger } from './logger.js';
import { backtestInstrument, buildVenue, calendarOf, stepBar } from './backtest.js';
import { StateStore } from './state/store.js';
import { configHash } from './state/codec.js';
import { decodeStateBinary, encodeStateBinary } from './state/binary.js';
import { verifyAuditRows } from '../compliance/verify.js';
import { readAuditAnchor, readAuditRows } from '../compliance/sqlite-sink.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const T0 = 1_709_649_000_000_000_000n;
const minute = (i: number) => T0 + BigInt(i) * NS.m;

const everyTenthLong: StrategyFactory = {
  name: 'every-tenth',
  description: 'enter on bars 5, 25, 45...; exit on bars 15, 35, 55...',
  params: {},
  create: (_params, ctx) => {
    // held, not read: checkpoints carry their state (packed into the symbol columns)
    ctx.indicators.sma(5);
    ctx.indicators.cross(3, 8);
    // strategy state, checkpointed with the symbol
    let seen = 0;
    return {
      onBar: (bar) => {
        seen++;
        return bar.index % 20 === 5 ? { action: 'enter-long', reason: 'tick' } : bar.index % 20 === 15 ? { action: 'exit', reason: 'tock' } : undefined;
      },
      snapshot: () => ({ seen }),
      restore: (state) => {
        seen = (state as { seen: number }).seen;
      },
    };
  },
};

function setup(overrides: Record<string, unknown>, dir: string, strategy: StrategyFactory = everyTenthLong, hooks?: EngineHooks, reuseRecords = true) {
  const config: EngineConfig = resolveConfig({ venue: { commission: 'none' }, session: { calendar: 'none' }, engine: { warmup_bars: 0 }, ...overrides });
  const instruments = new Map<string, Instrument>([['AAA', backtestInstrument('AAA', config)]]);
  const venue = buildVenue(config, [...instruments.values()]);
  void venue.connect();
  const clock = new TestClock(0n);
  const state = StateStore.open(join(dir, 'state.sqlite'), { configHash: configHash(config), create: true, createdNs: 0n, durability: 'process' });
  const logger = new MemoryLogger();
  const engine = new Engine({ config, clock, rng: new Rng(1), venue, instruments, calendarFor: calendarOf(config, '1m'), logger, state, strategy, reuseRecords, ...(hooks === undefined ? {} : { hooks }) });
  const pair = [Object.assign(new MutableBar(), { symbol: 'AAA', timeframe: '1m' as Timeframe }), Object.assign(new MutableBar(), { symbol: 'AAA', timeframe: '1m' as Timeframe })];
  let flip = 0;
  const feed = (i: number, close: number) => {
    const bar = pair[flip] as MutableBar & { timeframe: Timeframe };
    flip ^= 1;
    Object.assign(bar, { openTimeNs: minute(i), closeTimeNs: minute(i + 1), open: close, high: close, low: close, close, volume: 1000 });
    stepBar(clock, venue, engine, bar);
  };
  return { config, venue, engine, state, logger, feed };
}

describe('state safety', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'axon-safety-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reuses a symbol checkpoint record only while it is unchanged: every snapshot equals one built afresh', () => {
    // no strategy state and only packed indicators: the records are compared by the engine's own fields
    const plain: StrategyFactory = { ...everyTenthLong, name: 'every-tenth-plain', create: (p, ctx) => ({ onBar: everyTenthLong.create(p, ctx).onBar }) };
    // checkpoints every 7 bar times: each stored one (symbols packed ahead, at their last update) must equal
    // the snapshot taken by the hook just before it (packed afresh)
    const beforeCheckpoint: Record<string, unknown>[] = [];
    const overrides = { exits: { take_profit_pct: 0.5, stop_loss_pct: 0.4, brackets: true }, engine: { warmup_bars: 0, checkpoint_every: 7 } };
    const a = setup(overrides, mkdtempSync(join(dir, 'reuse-')), plain, {
      checkpoint: (engine) => void beforeCheckpoint.push(engine.snapshot()),
    });
    // the same run in an engine that builds every record afresh
    const b = setup(overrides, mkdtempSync(join(dir, 'fresh-')), plain, undefined, false);
    let checked = 0;
    let withTrade = 0;
    let reused = 0;
    let last: unknown;
    for (let i = 0; i < 400; i++) {
        const close = Math.round((100 + Math.sin(i / 3) * 0.9 + (i % 11) * 0.05) * 100) / 100;
        a.feed(i, close);
        b.feed(i, close);
        const got = a.engine.snapshot();
        const sparse = (got.symbols as { sparse: unknown[] }).sparse;
        if (sparse.length > 0 && sparse === last) reused++;
        last = sparse;
        if (sparse.some((r) => (r as { trade: unknown }).trade !== null)) withTrade++;
        const fresh = b.engine.snapshot();
        // decoded: a reused record is frozen and so encoded embedded, a fresh one inline
        expect(decodeStateBinary(encodeStateBinary(got))).toStrictEqual(decodeStateBinary(encodeStateBinary(fresh)));
        const want = beforeCheckpoint.shift();
        if (want !== undefined) {
          const stored = (a.state.loadCheckpoint()?.state as { engine: unknown }).engine;
          expect(stored).toStrictEqual(decodeStateBinary(encodeStateBinary(want)));
          checked++;
        }
    }
    // the run went through open trades with legs, exits and reuse of unchanged records
    expect(withTrade).toBeGreaterThan(40);
    expect(reused).toBeGreaterThan(20);
    expect(checked).toBeGreaterThan(50);
    expect(a.engine.snapshot().closedTrades).toBeGreaterThan(10);
  });

  it('restores its snapshot (symbol columns, packed indicators, sparse per-symbol extras) into a fresh engine byte for byte, and refuses damaged columns', () => {
    const a = setup({ exits: { take_profit_pct: 5, stop_loss_pct: 5, brackets: true } }, mkdtempSync(join(dir, 'snap-a-')));
    for (let i = 0; i < 27; i++) a.feed(i, 100 + (i % 7) * 0.25);
    const snap = a.engine.snapshot();
    const symbols = snap.symbols as { names: string[]; nums: Float64Array; packed: Float64Array; sparse: { i: number; legs: string[] }[] };
    expect(symbols.names).toEqual(['AAA']);
    expect(symbols.packed).toBeInstanceOf(Float64Array);
    // the shared closes (count + the last 8), then sma(5) and cross(3, 8) with their windows left out as
    // equal to those closes: negated count + count, partial, value; negated count + relation and two counts
    expect(symbols.packed.length).toBe(1 + 8 + 4 + 4);
    expect([symbols.packed[9], symbols.packed[13]]).toEqual([-3, -3]);
    // bar 25 entered and its bracket legs are live: the symbol has extras
    expect(symbols.sparse.length).toBe(1);
    expect(symbols.sparse[0]?.legs.length).toBe(2);
    expect((symbols.sparse[0] as unknown as { strategies: unknown }).strategies).toEqual([{ enabled: true, state: { seen: 27 } }]);
    const bytes = encodeStateBinary(snap);
    const decoded = decodeStateBinary(bytes) as Record<string, unknown>;
    const c = setup({ exits: { take_profit_pct: 5, stop_loss_pct: 5, brackets: true } }, mkdtempSync(join(dir, 'snap-c-')));
    const damaged = { ...decoded, symbols: { ...(decoded.symbols as object), nums: new Float64Array(3) } };
    expect(() => c.engine.restore(damaged)).toThrow(/checkpoint symbols: nums must be 5 float64 slots/);
    const cut = { ...decoded, symbols: { ...(decoded.symbols as object), packed: new Float64Array(symbols.packed.length + 2) } };
    expect(() => c.engine.restore(cut)).toThrow(/packed lengths add up to \d+ slots, the array has/);
    expect(() => c.engine.restore({ ...decoded, version: 2 })).toThrow(/version 2 is not 3/);
    a.engine.checkpoint();
    // equity and trade series come from state.sqlite: a fresh engine on a's store
    const instruments = new Map<string, Instrument>([['AAA', backtestInstrument('AAA', a.config)]]);
    const venue = buildVenue(a.config, [...instruments.values()]);
    const fresh = new Engine({ config: a.config, clock: new TestClock(0n), rng: new Rng(1), venue, instruments, strategy: everyTenthLong, calendarFor: calendarOf(a.config, '1m'), logger: new MemoryLogger(), state: a.state });
    fresh.restore(decodeStateBinary(bytes) as Record<string, unknown>);
    const again = fresh.snapshot();
    // the strategy's state came back with the symbol (its snapshot is taken afresh here)
    expect(((again.symbols as { sparse: { strategies: unknown }[] }).sparse[0] as { strategies: unknown }).strategies).toEqual([{ enabled: true, state: { seen: 27 } }]);
    // the resume audit entry moves the audit head; everything else is the same bytes
    expect(encodeStateBinary({ ...again, audit: null })).toEqual(encodeStateBinary({ ...snap, audit: null }));
  });

  it('writes every order intent before the venue sees it, audits every transition, checkpoints, and the chain verifies', () => {
    const d = mkdtempSync(join(dir, 'a-'));
    const h = setup({ engine: { warmup_bars: 0, checkpoint_every: 10 } }, d);
    const seenAtSubmit: boolean[] = [];
    const submit = h.venue.submit.bind(h.venue);
    h.venue.submit = (req) => {
      seenAtSubmit.push(h.state.intents().some((i) => i.clientOrderId === req.clientOrderId));
      return submit(req);
    };
    for (let i = 0; i < 60; i++) h.feed(i, 100 + (i % 7));
    expect(seenAtSubmit.length).toBe(6);
    expect(seenAtSubmit.every(Boolean)).toBe(true);
    const intents = h.state.intents();
    expect(intents.map((i) => i.status)).toEqual(['FILLED', 'FILLED', 'FILLED', 'FILLED', 'FILLED', 'FILLED']);
    expect(intents.map((i) => i.purpose)).toEqual(['entry', 'exit', 'entry', 'exit', 'entry', 'exit']);
    expect(h.state.fills()).toHaveLength(6);
    const cp = h.state.loadCheckpoint();
    // every 10 bar times, written when the next bar time begins: the last one covers bars 1..50
    expect(cp?.barCount).toBe(50);
    const rows = readAuditRows(h.state.db);
    // submit, ack, fill per order
    expect(rows.filter((r) => r.kind === 'transition')).toHaveLength(18);
    const entries = h.engine.audit.size;
    expect(entries).toBe(rows.length);
    h.state.close();
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'axon.js'), 'audit', 'verify', d, '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true });
    // tamper: change one reason; verify names that entry and exits 2
    const db = new Database(join(d, 'state.sqlite'));
    db.prepare('UPDATE audit SET reason = ? WHERE seq = 7').run('edited');
    db.close();
    const bad = spawnSync(process.execPath, [join(ROOT, 'bin', 'axon.js'), 'audit', 'verify', d], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr + bad.stdout).toMatch(/seq 7/);
  });

  it('reconciles: a venue-side position the engine did not cause halts it (default) or is adopted', async () => {
    for (const policy of ['halt', 'adopt'] as const) {
      const d = mkdtempSync(join(dir, `r-${policy}-`));
      const h = setup({ engine: { warmup_bars: 0, unknown_position: policy } }, d);
      for (let i = 0; i < 3; i++) h.feed(i, 100);
      h.venue.adjustPosition('AAA', '7');
      const report = await h.engine.reconcile('test');
      expect(report.corrections[0]).toMatch(/^AAA: venue holds 7/);
      // adopting moves no venue cash, so the engine's cash follows the venue's too
      if (policy === 'halt') {
        expect(report.halted).toBe(true);
        expect(h.engine.halted).toMatch(/unknown venue position 7 AAA/);
      } else {
        expect(report.halted).toBe(false);
        expect(h.engine.oms.portfolio.positionQuantity('AAA').toString()).toBe('7');
      }
      const rows = readAuditRows(h.state.db);
      expect(rows.some((r) => r.kind === 'correction' && r.subject === 'AAA')).toBe(true);
      expect(verifyAuditRows(rows, readAuditAnchor(h.state.db)).ok).toBe(true);
      h.state.close();
    }
  });

  it('reconciles: venue flat while the engine holds -> local position cleaned up; an order the venue never saw is closed as such', async () => {
    const d = mkdtempSync(join(dir, 'flat-'));
    const h = setup({ engine: { warmup_bars: 0 }, kill_switch: { daily_loss_pct: 100, weekly_loss_pct: 100 } }, d);
    for (let i = 0; i < 8; i++) h.feed(i, 100); // entry on bar 5, filled on bar 6
    expect(h.engine.oms.portfolio.positionQuantity('AAA').isPositive()).toBe(true);
    const held = h.engine.oms.portfolio.positionQuantity('AAA').toString();
    h.venue.adjustPosition('AAA', `-${held}`);
    const report = await h.engine.reconcile('test');
    expect(report.corrections[0]).toMatch(/venue is flat/);
    expect(h.engine.oms.portfolio.positionQuantity('AAA').isZero()).toBe(true);
    expect(h.engine.trades().at(-1)?.exitReason).toBe('reconciled: venue flat');
    // an order whose submit never reached the venue
    h.venue.submit = () => Promise.reject(new Error('socket closed'));
    for (let i = 8; i < 26; i++) h.feed(i, 100); // bar 25 signals an entry
    expect(h.engine.workingOrders()).toHaveLength(1);
    const r2 = await h.engine.reconcile('test');
    expect(r2.corrections.some((c) => c.includes('never placed'))).toBe(true);
    expect(h.engine.workingOrders()).toHaveLength(0);
    h.state.close();
    expect(existsSync(join(d, 'state.sqlite'))).toBe(true);
  });
});
