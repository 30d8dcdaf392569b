import WebSocket from 'ws';
import { NS, type Clock, type TimerId } from '../../core/clock.js';
import type { Rng } from '../../core/rng.js';
import { AlpacaError } from './errors.js';
import type { AlpacaLogger } from './rest.js';
import { backoffDelayNs, type BackoffOptions } from './resilience.js';

/** One stream's protocol, plugged into ResilientSocket. */
export interface SocketProtocol {
  /** Sends the opening messages (authentication) on a fresh socket. */
  open(send: (message: unknown) => void): void;
  /** Handles one parsed frame before the stream is ready; true once it is. @throws AlpacaError on a refusal */
  handshake(frame: unknown, send: (message: unknown) => void): boolean;
  /** Handles one parsed frame once the stream is ready. */
  message(frame: unknown): void;
  /** Called each time the stream becomes ready; `reconnect` is false the first time. */
  ready(reconnect: boolean): void;
}

/** Options of a ResilientSocket. */
export interface ResilientSocketOptions {
  readonly url: string;
  /** For logs and errors, e.g. `trading stream`. */
  readonly name: string;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly backoff?: BackoffOptions;
  /** Time allowed from connecting to ready, ms; default 10,000. */
  readonly handshakeTimeoutMs?: number;
  /** Ping interval, ms: a socket that has not answered the previous ping is dropped; default 15,000 (0 = off). */
  readonly pingIntervalMs?: number;
  readonly logger?: AlpacaLogger;
}

/**
 * A WebSocket that authenticates through its protocol and reconnects with exponential backoff (seeded
 * jitter) after every close or error, re-running the handshake, until `stop`.
 */
export class ResilientSocket {
  readonly #options: ResilientSocketOptions;
  readonly #protocol: SocketProtocol;
  #ws: WebSocket | undefined;
  #stopped = true;
  #everReady = false;
  #attempt = 0;
  #timer: TimerId | undefined;
  #reconnects = 0;

  constructor(options: ResilientSocketOptions, protocol: SocketProtocol) {
    this.#options = options;
    this.#protocol = protocol;
  }

  /** Times the stream became ready again after a drop. */
  get reconnects(): number {
    return this.#reconnects;
  }

  /** Whether a socket is open and past its handshake. */
  get isReady(): boolean {
    return this.#ws !== undefined && (this.#ws as WebSocket & { axonReady?: boolean }).axonReady === true;
  }

  /**
   * Connects and completes the handshake once; afterwards drops are repaired in the background.
   * @throws AlpacaError StreamError when the first connection or handshake fails
   */
  async start(): Promise<void> {
    this.#stopped = false;
    this.#everReady = false;
    try {
      await this.#connectOnce();
    } catch (e) {
      this.#stopped = true;
      throw e;
    }
  }

  /** Closes the socket and stops reconnecting. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#options.clock.cancelTimer(this.#timer);
    this.#timer = undefined;
    const ws = this.#ws;
    this.#ws = undefined;
    if (ws === undefined || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      ws.once('close', () => resolve());
      ws.terminate();
    });
  }

  /** Drops the current socket as a network fault would (the stream then reconnects). */
  drop(): void {
    this.#ws?.terminate();
  }

  #connectOnce(): Promise<void> {
    const o = this.#options;
    return new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(o.url, { handshakeTimeout: o.handshakeTimeoutMs ?? 10_000 });
      const tagged = ws as WebSocket & { axonReady?: boolean };
      this.#ws = ws;
      let settled = false;
      let alive = true;
      let ping: NodeJS.Timeout | undefined;
      const send = (m: unknown): void => ws.send(JSON.stringify(m));
      const fail = (e: Error): void => {
        if (settled) return;
        settled = true;
        reject(e);
        ws.terminate();
      };
      const timeout = setTimeout(() => fail(new AlpacaError('StreamError', `${o.name} at ${o.url}: no ready answer within ${o.handshakeTimeoutMs ?? 10_000} ms`)), o.handshakeTimeoutMs ?? 10_000);
      ws.on('open', () => {
        try {
          this.#protocol.open(send);
        } catch (e) {
          fail(e as Error);
        }
      });
      ws.on('pong', () => {
        alive = true;
      });
      ws.on('message', (data: WebSocket.RawData) => {
        let frame: unknown;
        try {
          frame = JSON.parse(data.toString());
        } catch {
          o.logger?.('warn', 'alpaca-stream-bad-frame', { stream: o.name, bytes: data.toString().length });
          return;
        }
        if (tagged.axonReady === true) {
          this.#protocol.message(frame);
          return;
        }
        let ready: boolean;
        try {
          ready = this.#protocol.handshake(frame, send);
        } catch (e) {
          fail(e as Error);
          return;
        }
        if (!ready) return;
        tagged.axonReady = true;
        settled = true;
        clearTimeout(timeout);
        const reconnect = this.#everReady;
        this.#everReady = true;
        this.#attempt = 0;
        if (reconnect) this.#reconnects++;
        const interval = o.pingIntervalMs ?? 15_000;
        if (interval > 0) {
          ping = setInterval(() => {
            if (!alive) {
              o.logger?.('warn', 'alpaca-stream-ping-timeout', { stream: o.name });
              ws.terminate();
              return;
            }
            alive = false;
            ws.ping();
          }, interval);
          ping.unref();
        }
        o.logger?.('info', reconnect ? 'alpaca-stream-reconnected' : 'alpaca-stream-ready', { stream: o.name });
        resolve();
        this.#protocol.ready(reconnect);
      });
      ws.on('error', (e: Error) => {
        o.logger?.('warn', 'alpaca-stream-error', { stream: o.name, error: e.message });
        fail(new AlpacaError('StreamError', `${o.name} at ${o.url}: ${e.message}`, { cause: e }));
      });
      ws.on('close', (code: number) => {
        clearTimeout(timeout);
        if (ping !== undefined) clearInterval(ping);
        tagged.axonReady = false;
        fail(new AlpacaError('StreamError', `${o.name} at ${o.url} closed (code ${code}) before it was ready`));
        if (this.#ws === ws) this.#ws = undefined;
        if (!this.#stopped && this.#everReady) {
          o.logger?.('warn', 'alpaca-stream-closed', { stream: o.name, code });
          this.#scheduleReconnect();
        }
      });
    });
  }

  #scheduleReconnect(): void {
    if (this.#stopped || this.#timer !== undefined) return;
    const o = this.#options;
    const delay = backoffDelayNs(this.#attempt++, o.rng, o.backoff ?? { baseNs: 100n * NS.ms, maxNs: 10n * NS.s });
    this.#timer = o.clock.setTimer(o.clock.now() + delay, () => {
      this.#timer = undefined;
      if (this.#stopped) return;
      this.#connectOnce().catch((e: unknown) => {
        o.logger?.('warn', 'alpaca-stream-reconnect-failed', { stream: o.name, attempt: this.#attempt, error: (e as Error).message });
        // the close handler does not reschedule while the stream was not ready: do it here
        if (this.#ws === undefined || this.#ws.readyState !== WebSocket.OPEN) this.#scheduleReconnect();
      });
    });
  }
}
