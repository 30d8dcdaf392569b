import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { allocColumns } from '../../data/columns.js';
import { BarStore } from '../../data/store.js';
import { startPaperServer, type PaperServer, type PaperServerOptions, type PushedBar } from './server.js';

export const KEY = 'test-key-id';
export const SECRET = 'test-secret-key';
/** 2024-01-02 09:30 New York (a Tuesday session open), epoch ns. */
export const OPEN_NS = 1_704_205_800_000_000_000n;
export const MIN_NS = 60_000_000_000n;

export interface Reply {
  status: number;
  body: unknown;
  headers: Headers;
}

/** A temp directory removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'axon-paper-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Starts a server on `dir`/state.sqlite trading SPY; an option given as undefined is left out. */
export async function start(dir: string, over: { [K in keyof PaperServerOptions]?: PaperServerOptions[K] | undefined } = {}): Promise<PaperServer> {
  const merged: Record<string, unknown> = { stateFile: join(dir, 'state.sqlite'), keyId: KEY, secretKey: SECRET, symbols: ['SPY'], ...over };
  for (const k of Object.keys(merged)) if (merged[k] === undefined) delete merged[k];
  return startPaperServer(merged as unknown as PaperServerOptions);
}

export async function api(base: string, method: string, path: string, body?: unknown, keys: { key?: string; secret?: string } = { key: KEY, secret: SECRET }): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (keys.key !== undefined) headers['APCA-API-KEY-ID'] = keys.key;
  if (keys.secret !== undefined) headers['APCA-API-SECRET-KEY'] = keys.secret;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as unknown), headers: res.headers };
}

/** A one-minute bar at `i` minutes after OPEN_NS. */
export function bar(i: number, o: number, h: number, l: number, c: number, symbol = 'SPY', v = 1000): PushedBar {
  return { symbol, openTimeNs: OPEN_NS + BigInt(i) * MIN_NS, open: o, high: h, low: l, close: c, volume: v };
}

/** A WebSocket client that records every message (parsed JSON). */
export class StreamClient {
  readonly ws: WebSocket;
  readonly messages: unknown[] = [];
  closed = false;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on('message', (m) => this.messages.push(JSON.parse(String(m)) as unknown));
    this.ws.on('close', () => {
      this.closed = true;
    });
    this.ws.on('error', () => undefined);
  }

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
  }

  send(m: unknown): void {
    this.ws.send(JSON.stringify(m));
  }

  /** Resolves once `pred` holds for the messages received so far. */
  async until(pred: (messages: unknown[]) => boolean, timeoutMs = 5000): Promise<void> {
    const t0 = performance.now();
    while (!pred(this.messages)) {
      if (performance.now() - t0 > timeoutMs) throw new Error(`timed out; messages: ${JSON.stringify(this.messages).slice(0, 2000)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Trade update events (event names) for an order id, in arrival order. */
export function eventsOf(messages: unknown[], orderId?: string): string[] {
  const out: string[] = [];
  for (const m of messages as { stream?: string; data?: { event: string; order: { id: string } } }[]) {
    if (m.stream !== 'trade_updates' || m.data === undefined) continue;
    if (orderId === undefined || m.data.order.id === orderId) out.push(m.data.event);
  }
  return out;
}

/** A trading stream client, authenticated and listening to trade_updates. */
export async function tradingClient(url: string): Promise<StreamClient> {
  const c = new StreamClient(url);
  await c.open();
  c.send({ action: 'auth', key: KEY, secret: SECRET });
  c.send({ action: 'listen', data: { streams: ['trade_updates'] } });
  await c.until((ms) => ms.some((m) => (m as { stream?: string }).stream === 'listening'));
  return c;
}

/** Writes `minutes` one-minute bars per symbol from OPEN_NS into a new BarStore at `dir`. */
export async function writeStore(dir: string, symbols: string[], minutes: number): Promise<void> {
  const store = new BarStore(dir);
  for (const [k, s] of symbols.entries()) {
    const cols = allocColumns(s, '1m', minutes);
    for (let i = 0; i < minutes; i++) {
      const t = OPEN_NS + BigInt(i) * MIN_NS;
      const base = 100 + k * 50 + Math.sin(i / 7) * 2;
      cols.openTimeNs[i] = t;
      cols.closeTimeNs[i] = t + MIN_NS;
      cols.open[i] = Math.round(base * 100) / 100;
      cols.close[i] = Math.round((base + 0.1) * 100) / 100;
      cols.high[i] = Math.round((base + 0.5) * 100) / 100;
      cols.low[i] = Math.round((base - 0.5) * 100) / 100;
      cols.volume[i] = 1000 + i;
    }
    await store.write(cols);
  }
}
