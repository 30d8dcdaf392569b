import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { Decimal } from '../../src/core/decimal.js';

/**
 * The live crash test: the paper venue server and `axon live` as separate processes on loopback,
 * replaying two real SPY sessions fast. The engine is killed with SIGKILL at 50 seeded moments (some
 * from outside at random times, some from inside right after an order intent committed and before the
 * venue heard of it, some right after a bar's orders went out and before their checkpoint) and restarted each time; the venue server is killed and restarted too while the
 * engine runs. At the end: no client order id was ever sent twice, every venue fill is in the engine's
 * state exactly once (by execution id), positions and cash agree, and the audit chain verifies.
 */
const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'axon.js');
const SPY = join(ROOT, 'data', 'spy_1m_2011-01+03_utc.csv.gz');
const KEYS = { APCA_API_KEY_ID: 'crash-test-key', APCA_API_SECRET_KEY: 'crash-test-secret' };
const ENGINE_KILLS = Number(process.env.AXON_CRASH_KILLS ?? 50);
const SERVER_KILLS = 4;

function axonSync(args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, ...KEYS } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Proc {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
}

function start(args: string[], cwd: string, env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, ...KEYS, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
  const err: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => err.push(l));
  (child as unknown as { err: string[] }).err = err;
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, lines, exited };
}

async function waitFor<T>(what: string, get: () => T | undefined, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function api<T>(base: string, path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(base + path, { ...init, headers: { 'APCA-API-KEY-ID': KEYS.APCA_API_KEY_ID, 'APCA-API-SECRET-KEY': KEYS.APCA_API_SECRET_KEY, 'content-type': 'application/json' } });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

describe('live crash test: axon live + paper venue server, SIGKILLs of both', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'axon-crash-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(`${ENGINE_KILLS} engine kills and ${SERVER_KILLS} venue kills end with engine == venue, no id sent twice, every fill once, audit intact`, async () => {
    const imp = axonSync(['data', 'import', SPY, '--symbol', 'SPY', '--bar-time', 'end', '--store', 'store', '--json'], dir);
    expect(imp.status, imp.stderr).toBe(0);
    writeFileSync(
      join(dir, 'live.toml'),
      [
        '[data]',
        'symbols = ["SPY"]',
        '[strategy]',
        'name = "sma-cross"',
        'params = { fast = 3, slow = 8 }',
        '[session]',
        'calendar = "none"',
        '[engine]',
        'warmup_bars = 10',
        'reconcile_every = 30',
        '[exits]',
        'take_profit_pct = 0.15',
        'stop_loss_pct = 0.1',
        '',
      ].join('\n'),
    );
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const serverArgs = ['venue', 'serve', '--port', String(port), '--data', 'store', '--from', '2011-01-03T14:30:00Z', '--to', '2011-01-04T16:00:00Z', '--speed', '600', '--state', 'paper.sqlite', '--rate-limit', '5000'];
    const startServer = async (): Promise<Proc> => {
      const p = start(serverArgs, dir);
      await waitFor('the paper server', () => p.lines.find((l) => l.includes('"url"')), 20_000);
      return p;
    };
    const base = `http://127.0.0.1:${port}`;
    let server = await startServer();
    const engineEnv = { APCA_API_BASE_URL: base };
    const engineArgs = ['live', '--venue', 'alpaca', '--paper', '--config', 'live.toml', '--out', 'run'];
    const rng = new Rng('crash-test');
    let engine: Proc | undefined;
    const startEngine = async (env: Record<string, string> = {}): Promise<Proc> => {
      const p = start(engineArgs, dir, { ...engineEnv, ...env });
      await waitFor(
        'the engine to be ready',
        () => p.lines.find((l) => l.includes('"ready"')) ?? (p.child.exitCode !== null || p.child.signalCode !== null ? 'exited' : undefined),
        30_000,
      );
      return p;
    };
    let outside = 0;
    let inside = 0;
    let afterSend = 0;
    let serverKills = 0;
    const serverKillAt = new Set<number>(
      Array.from({ length: SERVER_KILLS }, (_, i) => {
        const k = Math.floor(((i + 1) * ENGINE_KILLS) / (SERVER_KILLS + 1));
        return k % 5 === 4 ? k - 1 : k; // only under an engine killed from outside
      }),
    );
    try {
      for (let k = 0; k < ENGINE_KILLS; k++) {
        // every fifth kill comes from inside: alternately right after an order intent is committed, before the
        // venue hears of it, and right after a bar's orders went out, before the checkpoint that covers them
        const fromInside = k % 5 === 4;
        engine = await startEngine(fromInside ? (k % 10 === 4 ? { AXON_LIVE_KILL_AFTER_INTENTS: '1' } : { AXON_LIVE_KILL_AFTER_SEND: '1' }) : {});
        if (fromInside) {
          const died = await Promise.race([engine.exited.then(() => true), sleep(4_000).then(() => false)]);
          if (died) {
            inside++;
            if (k % 10 !== 4) afterSend++;
          }
          else {
            engine.child.kill('SIGKILL');
            await engine.exited;
            outside++;
          }
        } else {
          await sleep(rng.int(150, 1_200));
          if (serverKillAt.has(k)) {
            // the venue dies under a running engine and comes back from its state file
            server.child.kill('SIGKILL');
            await server.exited;
            await sleep(rng.int(100, 600));
            server = await startServer();
            serverKills++;
            await sleep(rng.int(300, 900));
          }
          engine.child.kill('SIGKILL');
          await engine.exited;
          outside++;
        }
      }
      // the last start runs to the end of the replay and stops cleanly
      engine = await startEngine();
      for (;;) {
        const st = await api<{ done: boolean }>(base, '/admin/status');
        if (st.done) break;
        await sleep(250);
      }
      await sleep(2_500);
      engine.child.kill('SIGTERM');
      const code = await engine.exited;
      expect(code, (engine.child as unknown as { err: string[] }).err.join('\n')).toBe(0);
      expect(inside, 'kills between intent and ack').toBeGreaterThan(0);
      expect(outside + inside).toBe(ENGINE_KILLS);
      expect(serverKills).toBe(SERVER_KILLS);

      // no client order id ever reached the venue twice
      const status = await api<{ submissions: number; resubmitted_client_order_ids: string[] }>(base, '/admin/status');
      expect(status.resubmitted_client_order_ids).toEqual([]);
      expect(status.submissions).toBeGreaterThan(4);

      // every venue fill is in the engine's state exactly once, and nothing else is
      const venueFills: string[] = [];
      for (let token: string | undefined; ; ) {
        const page = await api<{ id: string }[]>(base, `/v2/account/activities/FILL?direction=asc&page_size=100${token === undefined ? '' : `&page_token=${encodeURIComponent(token)}`}`);
        venueFills.push(...page.map((a) => a.id.slice(a.id.indexOf('::') + 2)));
        if (page.length < 100) break;
        token = page[page.length - 1]!.id;
      }
      const db = new Database(join(dir, 'run', 'state.sqlite'), { readonly: true });
      const engineFills = (db.prepare('SELECT trade_id FROM fills').all() as { trade_id: string }[]).map((r) => r.trade_id);
      const intents = (db.prepare('SELECT client_order_id FROM intents').all() as { client_order_id: string }[]).map((r) => r.client_order_id);
      db.close();
      expect(venueFills.length).toBeGreaterThan(4);
      expect(new Set(engineFills).size).toBe(engineFills.length);
      const missing = venueFills.filter((f) => !engineFills.includes(f));
      const extra = engineFills.filter((f) => !venueFills.includes(f));
      const log = readFileSync(join(dir, 'run', 'engine.log'), 'utf8').split('\n');
      const related = log.filter((l) => [...missing, ...extra].some((id) => l.includes(id.replace(/^reconcile-/, '').slice(0, 36))) || l.includes('"error"') || l.includes('correction'));
      expect({ missing, extra }, related.slice(-40).join('\n')).toEqual({ missing: [], extra: [] });
      // each death right after a send left a journal entry, which the next start replayed without sending its
      // orders again (deaths from outside may land in that window too)
      const replays = log.filter((l) => l.includes('"journal-replayed"')).length;
      expect(replays, 'journal replays').toBeGreaterThanOrEqual(afterSend);
      if (afterSend > 0) expect(log.some((l) => l.includes('"order-not-resent"')), 'replayed orders not resent').toBe(true);
      expect(new Set(intents).size).toBe(intents.length);

      // positions and cash
      const summary = JSON.parse(readFileSync(join(dir, 'run', 'summary.json'), 'utf8')) as { cash: string; positions: Record<string, string>; starts: number; halted: string | null };
      expect(summary.halted).toBeNull();
      expect(summary.starts).toBe(ENGINE_KILLS + 1);
      const account = await api<{ cash: string }>(base, '/v2/account');
      expect(Decimal.of(summary.cash).eq(Decimal.of(account.cash)), `engine cash ${summary.cash}, venue ${account.cash}`).toBe(true);
      const positions = await api<{ symbol: string; qty: string }[]>(base, '/v2/positions');
      const venuePos = Object.fromEntries(positions.filter((p) => !Decimal.of(p.qty).isZero()).map((p) => [p.symbol, Decimal.of(p.qty).normalize().toString()]));
      const enginePos = Object.fromEntries(Object.entries(summary.positions).map(([s, q]) => [s, Decimal.of(q).normalize().toString()]));
      expect(enginePos).toEqual(venuePos);

      // the audit chain of every start verifies
      const audit = axonSync(['audit', 'verify', 'run', '--json'], dir);
      expect(audit.status, audit.stdout + audit.stderr).toBe(0);
    } finally {
      engine?.child.kill('SIGKILL');
      server.child.kill('SIGTERM');
      await server.exited;
    }
  }, 600_000);
});
