import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NS, TestClock } from '../core/clock.js';
import type { Bar } from '../model/bar.js';
import type { Instrument } from '../model/instrument.js';
import type { StrategyFactory } from '../strategy/types.js';
import type { SimulatedVenue } from '../venues/simulated/simulated-venue.js';
import { resolveConfig, type EngineConfig } from './config.js';
import { Engine, MutableBar } from './engine.js';
import { MemoryLogger } from './logger.js';
import { backtestInstrument, buildVenue, calendarOf, stepBar } from './backtest.js';
import { runLive, type BarFeed, type LiveResult } from './live.js';
import { StateStore } from './state/store.js';
import { Rng } from '../core/rng.js';

const T0 = 1_709_649_000_000_000_000n;
const minute = (i: number): bigint => T0 + BigInt(i) * NS.m;

const tickTock: StrategyFactory = {
  name: 'tick-tock',
  description: 'enter on bars 5, 25, 45...; exit on bars 15, 35, 55...',
  params: {},
  create: () => ({
    onBar: (bar) => (bar.index % 20 === 5 ? { action: 'enter-long', reason: 'tick' } : bar.index % 20 === 15 ? { action: 'exit', reason: 'tock' } : undefined),
  }),
};

function configFor(overrides: Record<string, unknown> = {}): EngineConfig {
  return resolveConfig({ data: { symbols: ['AAA'] }, venue: { commission: 'none' }, session: { calendar: 'none' }, engine: { warmup_bars: 0 }, ...overrides });
}

function barAt(i: number): Bar {
  const close = 100 + 10 * Math.sin(i / 7);
  return { symbol: 'AAA', timeframe: '1m', openTimeNs: minute(i), closeTimeNs: minute(i + 1), open: close - 0.5, high: close + 1, low: close - 1, close, volume: 1000 };
}

/**
 * A bar feed that a test drives: each push shows the bar to the in-process simulated venue first (it
 * matches resting orders, as a venue's own market does), then publishes it, and resolves once the runner
 * has handled it. Bars pushed while no runner listens are only published (history).
 */
class DrivenFeed implements BarFeed {
  readonly published: Bar[] = [];
  #onBars: ((bars: readonly Bar[]) => void) | undefined;
  #handled = 0;
  #waiters: { n: number; resolve: () => void }[] = [];
  constructor(readonly venue: SimulatedVenue) {}
  subscribe(_symbols: readonly string[], onBars: (bars: readonly Bar[]) => void): Promise<void> {
    this.#onBars = onBars;
    return Promise.resolve();
  }
  history(_symbols: readonly string[], fromNs: bigint, toNs: bigint): Promise<Bar[]> {
    return Promise.resolve(this.published.filter((b) => b.openTimeNs >= fromNs && b.openTimeNs < toNs));
  }
  close(): Promise<void> {
    this.#onBars = undefined;
    return Promise.resolve();
  }
  handled(): void {
    this.#handled++;
    for (const w of this.#waiters.splice(0)) {
      if (this.#handled >= w.n) w.resolve();
      else this.#waiters.push(w);
    }
  }
  async push(bar: Bar): Promise<void> {
    this.venue.onBar(bar);
    this.published.push(bar);
    const on = this.#onBars;
    if (on === undefined) return;
    const target = this.#handled + 1;
    const done = new Promise<void>((resolve) => this.#waiters.push({ n: target, resolve }));
    on([bar]);
    await done;
  }
}

async function live(dir: string, config: EngineConfig, venue: SimulatedVenue, feed: DrivenFeed, drive: () => Promise<void>, extra: Partial<Parameters<typeof runLive>[0]> = {}): Promise<LiveResult> {
  const stop = new AbortController();
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  const run = runLive({
    config,
    strategy: tickTock,
    runDir: dir,
    venue,
    feed,
    clock: new TestClock(T0),
    durability: 'process',
    signal: stop.signal,
    onReady: () => ready(),
    onBarsHandled: () => feed.handled(),
    ...extra,
  });
  await Promise.race([isReady, run]);
  await drive();
  stop.abort();
  return run;
}

/** The client order ids `venue` is sent from now on, in order (its submit is wrapped). */
function recordSubmits(venue: SimulatedVenue): string[] {
  const submitted: string[] = [];
  const submit = venue.submit.bind(venue);
  venue.submit = (r) => {
    submitted.push(r.clientOrderId);
    return submit(r);
  };
  return submitted;
}

/** The trades.csv rows of a run directory as [symbol, side, quantity, entry price, exit price, exit reason]. */
function tradeRows(dir: string): string[][] {
  return readFileSync(join(dir, 'trades.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','))
    .map((f) => [f[1], f[2], f[3], f[5], f[7], f[10]] as string[]);
}

describe('runLive (the live driver) against the simulated venue', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'axon-live-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  function backtestTrades(config: EngineConfig, n: number): string {
    const instruments = new Map<string, Instrument>([['AAA', backtestInstrument('AAA', config)]]);
    const venue = buildVenue(config, [...instruments.values()]);
    void venue.connect();
    const clock = new TestClock(0n);
    const engine = new Engine({ config, clock, rng: new Rng(1), venue, instruments, strategy: tickTock, calendarFor: calendarOf(config, '1m'), logger: new MemoryLogger() });
    const pair = [new MutableBar(), new MutableBar()];
    for (let i = 0; i < n; i++) {
      const bar = Object.assign(pair[i % 2] as MutableBar, barAt(i));
      stepBar(clock, venue, engine, bar as MutableBar & { timeframe: '1m' });
    }
    return JSON.stringify(engine.trades().map((t) => [t.side, t.quantity, t.entryPrice, t.exitPrice, t.exitReason]));
  }

  it('trades exactly as the backtest on the same bars, and writes its run files', async () => {
    const config = configFor();
    const dir = join(root, 'same');
    const venue = buildVenue(config, [backtestInstrument('AAA', config)]);
    const feed = new DrivenFeed(venue);
    const result = await live(dir, config, venue, feed, async () => {
      for (let i = 0; i < 120; i++) await feed.push(barAt(i));
    });
    expect(result.bars).toBe(120);
    expect(result.start).toBe(1);
    const trades = readFileSync(join(dir, 'trades.csv'), 'utf8').trim().split('\n');
    expect(trades.length - 1).toBe(6);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { trades: number; mode: string; final_equity: string };
    expect(summary.mode).toBe('live');
    expect(summary.trades).toBe(6);
    expect(JSON.stringify(tradeRows(dir).map((r) => r.slice(1)))).toBe(backtestTrades(config, 120));
    // the venue agrees with the engine
    const pos = await venue.positionReports();
    expect(pos.filter((p) => p.signedQty !== '0')).toEqual([]);
  });

  it('restarts from its checkpoint with new client order ids, catches up on missed bars without trading on them', async () => {
    const config = configFor();
    const dir = join(root, 'restart');
    const venue = buildVenue(config, [backtestInstrument('AAA', config)]);
    const feed = new DrivenFeed(venue);
    await live(dir, config, venue, feed, async () => {
      for (let i = 0; i < 27; i++) await feed.push(barAt(i)); // entered on bar 25 (index 25 -> i 24), filled on 26
    });
    expect((await venue.positionReports()).find((p) => p.symbol === 'AAA')?.signedQty).not.toBe('0');
    // down for bars 27..29: published, never seen by the engine
    for (let i = 27; i < 30; i++) await feed.push(barAt(i));
    const second = await live(dir, config, venue, feed, async () => {
      for (let i = 30; i < 60; i++) await feed.push(barAt(i));
    });
    expect(second.start).toBe(2);
    expect(second.bars).toBe(60);
    const store = StateStore.open(join(dir, 'state.sqlite'), { configHash: (await import('./state/codec.js')).configHash(config), create: false, durability: 'process' });
    const intents = store.intents();
    store.close();
    const ids = intents.map((i) => i.clientOrderId);
    expect(new Set(ids).size).toBe(ids.length);
    // the exit of the trade opened before the restart and later trades were made under the new namespace
    expect(intents.length).toBe(6);
    const lines = readFileSync(join(dir, 'trades.csv'), 'utf8').trim().split('\n').slice(1);
    expect(lines.length).toBe(3);
    expect((await venue.positionReports()).filter((p) => p.signedQty !== '0')).toEqual([]);
  });

  it('replays a bar task that died between its send and its checkpoint: same ids, nothing sent twice, the backtest\'s trades', async () => {
    const config = configFor();
    const dir = join(root, 'journal');
    const venue = buildVenue(config, [backtestInstrument('AAA', config)]);
    const feed = new DrivenFeed(venue);
    const submitted = recordSubmits(venue);
    let sends = 0;
    let next = 0;
    // the second bar task with an order dies once the order is out, before its checkpoint
    const died = live(dir, config, venue, feed, async () => {
      for (; next < 60 && sends < 2; next++) {
        await feed.push(barAt(next));
        // the task reports the bar handled when its orders leave; its checkpoint (and afterSend) follow a turn later
        await new Promise((r) => setImmediate(r));
      }
    }, {
      afterSend: () => {
        if (++sends === 2) throw new Error('died after the send');
      },
    });
    await expect(died).rejects.toThrow('died after the send');
    const hash = (await import('./state/codec.js')).configHash(config);
    let store = StateStore.open(join(dir, 'state.sqlite'), { configHash: hash, create: false, durability: 'process' });
    const journal = store.readJournal();
    store.close();
    expect(journal).toContain('"start":1');
    expect(submitted).toHaveLength(2);
    const second = await live(dir, config, venue, feed, async () => {
      for (; next < 60; next++) await feed.push(barAt(next));
    });
    expect(second.start).toBe(2);
    store = StateStore.open(join(dir, 'state.sqlite'), { configHash: hash, create: false, durability: 'process' });
    expect(store.readJournal()).toBeUndefined();
    const intents = store.intents().map((i) => i.clientOrderId);
    store.close();
    // the replayed order kept its id and was not sent again; every id reached the venue once
    expect(new Set(submitted).size).toBe(submitted.length);
    expect(intents.some((id) => id === submitted[1])).toBe(true);
    expect(new Set(intents).size).toBe(intents.length);
    const log = readFileSync(join(dir, 'engine.log'), 'utf8');
    expect(log).toContain('"journal-replayed"');
    expect(log.split('\n').some((l) => l.includes('"order-not-resent"') && l.includes(submitted[1] as string))).toBe(true);
    // the replay is the bar as it was first handled (strategy included): the trades are the backtest's
    expect(JSON.stringify(tradeRows(dir).map((r) => r.slice(1)))).toBe(backtestTrades(config, 60));
    expect((await venue.positionReports()).filter((p) => p.signedQty !== '0')).toEqual([]);
    // a damaged journal entry is refused at startup, naming the store, and left in place
    store = StateStore.open(join(dir, 'state.sqlite'), { configHash: hash, create: false, durability: 'process' });
    store.writeJournal('{"start":2,"bars":[["AAA","1","2",1,1,1,"x",1]]}');
    store.close();
    await expect(live(dir, config, venue, feed, () => Promise.resolve())).rejects.toMatchObject({ code: 'CheckpointCorrupt', message: expect.stringMatching(/state\.sqlite: the journal entry bar 0 has a price or volume that is not a finite number/) });
    store = StateStore.open(join(dir, 'state.sqlite'), { configHash: hash, create: false, durability: 'process' });
    expect(store.readJournal()).toContain('"x"');
    store.close();
  });

  it('replays a second symbol\'s bar of the checkpoint\'s own minute (two symbols, one message each)', async () => {
    const config = configFor({ data: { symbols: ['AAA', 'BBB'] } });
    const instruments = [backtestInstrument('AAA', config), backtestInstrument('BBB', config)];
    const both = (i: number): Bar[] => [barAt(i), { ...barAt(i), symbol: 'BBB', close: barAt(i).close + 1, high: barAt(i).high + 1, open: barAt(i).open + 1, low: barAt(i).low + 1 }];
    const run = async (dir: string, dieInBbbTask: boolean): Promise<{ submitted: string[]; trades: string[][] }> => {
      const venue = buildVenue(config, instruments);
      const feed = new DrivenFeed(venue);
      const submitted = recordSubmits(venue);
      const seq = Array.from({ length: 40 }, (_, i) => both(i)).flat();
      let last: Bar | undefined;
      let died = false;
      let j = 0;
      const drive = async (): Promise<void> => {
        for (; j < seq.length && !died; j++) {
          last = seq[j] as Bar;
          await feed.push(last);
          await new Promise((r) => setImmediate(r));
        }
      };
      const first = live(dir, config, venue, feed, drive, {
        afterSend: () => {
          // the BBB bar's task runs after the AAA bar of the same minute was checkpointed
          if (dieInBbbTask && !died && last?.symbol === 'BBB') {
            died = true;
            throw new Error('died after the send');
          }
        },
      });
      if (dieInBbbTask) {
        await expect(first).rejects.toThrow('died after the send');
        died = false;
        await live(dir, config, venue, feed, drive);
      } else await first;
      return { submitted, trades: tradeRows(dir) };
    };
    const plain = await run(join(root, 'two-plain'), false);
    const cut = await run(join(root, 'two-cut'), true);
    expect(readFileSync(join(root, 'two-cut', 'engine.log'), 'utf8')).toContain('"journal-replayed"');
    expect(new Set(cut.submitted).size).toBe(cut.submitted.length);
    expect(cut.trades).toEqual(plain.trades);
    expect(plain.trades.some((r) => r[0] === 'BBB')).toBe(true);
  });

  it('refuses an unusable state.sqlite, or starts flat and adopts the venue position when told to', async () => {
    const config = configFor({ engine: { warmup_bars: 0, unknown_position: 'adopt' } });
    const dir = join(root, 'bad');
    const venue = buildVenue(config, [backtestInstrument('AAA', config)]);
    const feed = new DrivenFeed(venue);
    await live(dir, config, venue, feed, async () => {
      for (let i = 0; i < 27; i++) await feed.push(barAt(i));
    });
    const path = join(dir, 'state.sqlite');
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length / 2) + 100));
    await expect(live(dir, config, venue, feed, () => Promise.resolve())).rejects.toMatchObject({ code: 'CheckpointCorrupt' });
    expect(existsSync(`${path}.unusable-1`)).toBe(false);
    const lines: string[] = [];
    const flat = await live(dir, config, venue, feed, async () => {
      for (let i = 27; i < 30; i++) await feed.push(barAt(i));
    }, { onBadCheckpoint: 'start-flat', echo: (l) => lines.push(l) });
    expect(existsSync(`${path}.unusable-1`)).toBe(true);
    expect(lines.some((l) => l.includes('state-unusable'))).toBe(true);
    expect(flat.start).toBe(1);
    expect(flat.summary.corrections).toBeGreaterThan(0);
  });
});
