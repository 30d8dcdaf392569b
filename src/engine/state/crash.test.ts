import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../core/rng.js';
import { crashState } from './crash-writer.fixture.js';
import { StateStore } from './store.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');
const writer = join(here, 'crash-writer.fixture.ts');
const KILLS = 24;
const HASH = 'crash-test-config';
const dir = mkdtempSync(join(tmpdir(), 'axon-crash-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface RunReport {
  intents: string[];
  checkpoints: number[];
  startBar: number;
  signal: NodeJS.Signals | null;
}

/** Starts the writer, kills it with SIGKILL `delayMs` after it reports ready, and returns what it reported. */
function runAndKill(file: string, delayMs: number): Promise<RunReport> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, file, HASH], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (timer === undefined && out.includes('ready ')) timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.stderr.on('data', (chunk: string) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      if (signal !== 'SIGKILL') {
        reject(new Error(`writer exited by itself (code ${code}, signal ${signal}): ${err}`));
        return;
      }
      const lines = out.split('\n').filter((l) => l !== '');
      const ready = lines.find((l) => l.startsWith('ready '));
      resolvePromise({
        intents: lines.filter((l) => l.startsWith('intent ')).map((l) => l.slice(7)),
        checkpoints: lines.filter((l) => l.startsWith('checkpoint ')).map((l) => Number(l.slice(11))),
        startBar: ready === undefined ? Number.NaN : Number(ready.slice(6)),
        signal,
      });
    });
  });
}

describe('StateStore under SIGKILL', () => {
  it(`keeps every reported intent and a verifiable last checkpoint across ${KILLS} kills at seeded moments`, async () => {
    const file = join(dir, 'state.sqlite');
    const rng = new Rng('state-crash-test');
    const reported = new Set<string>();
    let lastReportedCheckpoint = 0;
    let checkpointsSeen = 0;
    for (let run = 0; run < KILLS; run++) {
      const delayMs = rng.int(5, 250);
      const report = await runAndKill(file, delayMs);
      expect(report.signal).toBe('SIGKILL');
      // a restart resumes from the last checkpoint, which is never older than the last one reported
      if (run > 0) expect(report.startBar, `run ${run}`).toBeGreaterThanOrEqual(lastReportedCheckpoint);
      for (const id of report.intents) reported.add(id);
      for (const bar of report.checkpoints) lastReportedCheckpoint = Math.max(lastReportedCheckpoint, bar);
      checkpointsSeen += report.checkpoints.length;

      const store = StateStore.open(file, { configHash: HASH, create: false });
      try {
        const cp = store.loadCheckpoint();
        if (lastReportedCheckpoint > 0) {
          expect(cp, `run ${run}: a checkpoint was reported`).toBeDefined();
          expect(cp?.barCount ?? 0).toBeGreaterThanOrEqual(lastReportedCheckpoint);
        }
        if (cp !== undefined) {
          expect(cp.state, `run ${run}: checkpoint at bar ${cp.barCount}`).toStrictEqual(crashState(cp.barCount));
          expect(cp.audit).toEqual({ seq: cp.barCount, hash: `h${cp.barCount}` });
          lastReportedCheckpoint = Math.max(lastReportedCheckpoint, cp.barCount);
        }
        expect(store.listCheckpoints().length).toBeLessThanOrEqual(3);
        const stored = new Set(store.intents().map((r) => r.clientOrderId as string));
        const lost = [...reported].filter((id) => !stored.has(id));
        expect(lost, `run ${run}: intents reported but not stored`).toEqual([]);
      } finally {
        store.close();
      }
    }
    expect(reported.size).toBeGreaterThan(KILLS);
    expect(checkpointsSeen).toBeGreaterThanOrEqual(5);
  }, 300_000);
});
