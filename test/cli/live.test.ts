import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPaperUrl, liveUrls } from '../../src/cli/commands/live.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'axon.js');

function live(args: string[], env: Record<string, string | undefined>): { status: number | null; stdout: string; stderr: string } {
  const base = { ...process.env };
  delete base.APCA_API_KEY_ID;
  delete base.APCA_API_SECRET_KEY;
  delete base.APCA_API_BASE_URL;
  const r = spawnSync(process.execPath, [BIN, 'live', '--venue', 'alpaca', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...base, ...env }, timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('axon live: the guards before anything is sent', () => {
  it('knows paper venues: Alpaca paper and loopback; anything else is live', () => {
    expect(isPaperUrl('https://paper-api.alpaca.markets')).toBe(true);
    expect(isPaperUrl('http://127.0.0.1:8765')).toBe(true);
    expect(isPaperUrl('http://localhost:1')).toBe(true);
    expect(isPaperUrl('https://api.alpaca.markets')).toBe(false);
    expect(isPaperUrl('https://paper-api.alpaca.markets.evil.example')).toBe(false);
    expect(isPaperUrl('not a url')).toBe(false);
    expect(liveUrls({ APCA_API_BASE_URL: 'http://127.0.0.1:9000' })).toEqual({
      baseUrl: 'http://127.0.0.1:9000',
      tradingStreamUrl: undefined,
      dataStreamUrl: 'ws://127.0.0.1:9000/v2/iex',
      dataUrl: 'http://127.0.0.1:9000',
    });
    expect(liveUrls({}).dataStreamUrl).toBe('wss://stream.data.alpaca.markets/v2/iex');
  });

  it('refuses a live URL without --i-understand-live-trading, and a live URL with --paper, exit 2, keys never printed', () => {
    const env = { APCA_API_KEY_ID: 'AKSECRETKEYID123', APCA_API_SECRET_KEY: 'sEcReTvAlUe456', APCA_API_BASE_URL: 'https://api.alpaca.markets' };
    const r = live(['--symbol', 'SPY'], env);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('LiveTradingRefused');
    expect(r.stderr).toContain('--i-understand-live-trading');
    const p = live(['--paper', '--symbol', 'SPY', '--i-understand-live-trading'], env);
    expect(p.status).toBe(2);
    expect(p.stderr).toContain('--paper was given');
    for (const out of [r.stdout, r.stderr, p.stdout, p.stderr]) {
      expect(out).not.toContain('AKSECRETKEYID123');
      expect(out).not.toContain('sEcReTvAlUe456');
    }
  });

  it('refuses to start without keys in the environment, naming the variable', () => {
    const r = live(['--paper', '--symbol', 'SPY'], { APCA_API_BASE_URL: 'http://127.0.0.1:9' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('APCA_API_KEY_ID');
  });
});
