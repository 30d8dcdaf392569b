// A small HTTP/1.1 client for the REST adapter: kept-alive connections, one request at a time on each,
// the request written onto an idle connection's socket in the call that makes it.
//
// Why not node:http: on the order path (a bar's order committed -> its bytes on the socket), node's
// ClientRequest put ~0.35 ms between the call and the write on a warm kept-alive socket (the request
// is assigned its socket on the next tick and the engine's other work of that tick runs first; the
// OutgoingMessage machinery is a lot of code for a path that runs once a bar, so it is never hot).
// This client writes the request head and body with one socket.write in the caller's own turn.
// It speaks exactly what the adapter needs: no pipelining, no Expect, no upgrades, identity bodies
// (it sends no Accept-Encoding), Content-Length or chunked or until-close responses.
import diagnostics from 'node:diagnostics_channel';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/** Published right after a request's bytes were handed to the socket (`{ method, path }`). */
export const REQUEST_WRITTEN_CHANNEL = 'axon.http1.request.written';
const written = diagnostics.channel(REQUEST_WRITTEN_CHANNEL);

/** A complete answer: status, headers (lower-case names; a repeated header is a list) and the body as UTF-8 text. */
export interface Http1Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly text: string;
}

/** What a request reports, each at most once: headers then the answer, or an error. */
export interface Http1Callbacks {
  /** The status line and headers arrived (the body may follow). */
  onHeaders(status: number): void;
  onAnswer(answer: Http1Answer): void;
  onError(error: Error): void;
}

/** A request in flight. */
export interface Http1Request {
  /** Gives up on the request (a timeout): its connection is closed and onError gets `error`. */
  abort(error: Error): void;
}

/** Where to connect. */
export interface Http1PoolOptions {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /** Kept-alive connections at most (requests beyond wait in arrival order). */
  readonly connections: number;
  /** TLS: the certificate authorities to trust instead of Node's bundled ones (a private CA); default Node's. */
  readonly ca?: string | Buffer;
  /**
   * Keeps the connection the next request would take warm: once it has been idle `everyMs`, a GET of `path`
   * goes out on it (when `mayRequest()` allows, e.g. a rate-limit token is free; the answer is ignored), so a
   * server that closes idle connections does not make the next order pay a new TCP and TLS handshake.
   */
  readonly keepWarm?: { readonly everyMs: number; readonly path: string; readonly headers: Http1Headers; readonly mayRequest: () => boolean };
}

// a header name is a token; a value or a path has no control characters (so nothing can be smuggled
// into the head) and, as node:http requires, no characters outside Latin-1
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// eslint-disable-next-line no-control-regex
const BAD_VALUE = /[\u0000-\u0008\u000a-\u001f\u007f\u0100-\uffff]/;
// eslint-disable-next-line no-control-regex
const BAD_PATH = /[\u0000-\u0020\u007f-\uffff]/;
const CRLF2 = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
/** Longest response head accepted (status line and headers). */
const MAX_HEAD = 64 * 1024;

/**
 * Request headers checked and laid out once (a client's fixed headers: keys, accept, content type), so a
 * request only joins strings. The text holds whatever the headers hold: keep it as private as they are.
 */
export class Http1Headers {
  readonly #text: string;

  /** @throws Error for a header that cannot be written as is (not a token name, control characters, non-Latin-1) */
  constructor(headers: Readonly<Record<string, string>>) {
    let text = '';
    for (const name of Object.keys(headers)) {
      const value = headers[name] as string;
      if (!TOKEN.test(name)) throw new Error(`invalid header name ${JSON.stringify(name)}`);
      if (/^(host|content-length|connection|transfer-encoding)$/i.test(name)) throw new Error(`header ${name} is set by the connection pool`);
      if (BAD_VALUE.test(value)) throw new Error(`invalid characters in header ${name}`);
      text += `${name}: ${value}\r\n`;
    }
    this.#text = text;
  }

  static text(h: Http1Headers): string {
    return h.#text;
  }

  /** Never the values. */
  toJSON(): string {
    return '[Http1Headers]';
  }
}

interface Pending {
  readonly head: string;
  readonly body: string | undefined;
  readonly method: string;
  readonly path: string;
  readonly cb: Http1Callbacks;
  conn: Connection | undefined;
  done: boolean;
}

/** Reads one response at a time off a socket's bytes. */
class ResponseReader {
  #buf: Buffer = Buffer.alloc(0);
  #status = 0;
  #headers: Record<string, string | string[]> = {};
  #keepAlive = true;
  /** 'head' until the head is parsed, then how the body ends. */
  #mode: 'head' | 'length' | 'chunked' | 'close' | 'none' = 'head';
  #remaining = 0;
  #chunks: Buffer[] = [];
  #trailers = false;

  constructor(readonly method: string) {}

  /**
   * Takes bytes; returns the answer once complete (with whether the connection may be reused and
   * whether bytes followed it), 'headers' when the head just completed, or undefined for more input.
   * @throws Error on a malformed response
   */
  push(data: Buffer, onHeaders: (status: number) => void): { answer: Http1Answer; reusable: boolean } | undefined {
    this.#buf = this.#buf.length === 0 ? data : Buffer.concat([this.#buf, data]);
    for (;;) {
      if (this.#mode === 'head') {
        const end = this.#buf.indexOf(CRLF2);
        if (end < 0) {
          if (this.#buf.length > MAX_HEAD) throw new Error(`response head longer than ${MAX_HEAD} bytes`);
          return undefined;
        }
        this.#parseHead(this.#buf.toString('latin1', 0, end));
        this.#buf = this.#buf.subarray(end + 4);
        // 1xx: informational, the real answer follows
        if (this.#status < 200) {
          this.#mode = 'head';
          this.#headers = {};
          continue;
        }
        onHeaders(this.#status);
      }
      if (this.#mode === 'none') return this.#complete();
      if (this.#mode === 'length') {
        const take = Math.min(this.#remaining, this.#buf.length);
        if (take > 0) {
          this.#chunks.push(this.#buf.subarray(0, take));
          this.#buf = this.#buf.subarray(take);
          this.#remaining -= take;
        }
        return this.#remaining === 0 ? this.#complete() : undefined;
      }
      if (this.#mode === 'close') {
        if (this.#buf.length > 0) this.#chunks.push(this.#buf);
        this.#buf = Buffer.alloc(0);
        return undefined;
      }
      // chunked
      if (this.#remaining > 0) {
        const take = Math.min(this.#remaining, this.#buf.length);
        this.#chunks.push(this.#buf.subarray(0, take));
        this.#buf = this.#buf.subarray(take);
        this.#remaining -= take;
        if (this.#remaining > 0) return undefined;
        this.#remaining = -1; // the chunk's CRLF comes next
      }
      const eol = this.#buf.indexOf(CRLF);
      if (eol < 0) {
        if (this.#buf.length > MAX_HEAD) throw new Error('chunk header line too long');
        return undefined;
      }
      const line = this.#buf.toString('latin1', 0, eol);
      this.#buf = this.#buf.subarray(eol + 2);
      if (this.#remaining === -1) {
        if (line !== '') throw new Error('chunk data not followed by CRLF');
        this.#remaining = 0;
        continue;
      }
      if (this.#trailers) {
        if (line === '') return this.#complete();
        continue;
      }
      const size = line.split(';', 1)[0]?.trim() ?? '';
      if (!/^[0-9a-fA-F]{1,12}$/.test(size)) throw new Error(`bad chunk size ${JSON.stringify(line.slice(0, 40))}`);
      const n = parseInt(size, 16);
      if (n === 0) this.#trailers = true;
      else this.#remaining = n;
    }
  }

  /** The connection ended: completes an until-close body; anything else is incomplete (undefined). */
  end(): Http1Answer | undefined {
    if (this.#mode !== 'close') return undefined;
    this.#keepAlive = false;
    return this.#complete().answer;
  }

  #parseHead(text: string): void {
    const lines = text.split('\r\n');
    const m = /^HTTP\/1\.([01]) (\d{3})(?: .*)?$/.exec(lines[0] ?? '');
    if (m === null) throw new Error(`not an HTTP/1.x status line: ${JSON.stringify((lines[0] ?? '').slice(0, 60))}`);
    const minor = m[1];
    this.#status = Number(m[2]);
    const h: Record<string, string | string[]> = {};
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error(`malformed header line ${JSON.stringify(line.slice(0, 60))}`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      const had = h[name];
      h[name] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
    }
    this.#headers = h;
    const one = (name: string): string | undefined => {
      const v = h[name];
      return Array.isArray(v) ? v.join(', ') : v;
    };
    const connection = (one('connection') ?? '').toLowerCase();
    this.#keepAlive = minor === '1' ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
    if (this.#status < 200) return;
    const te = (one('transfer-encoding') ?? '').toLowerCase();
    const cl = one('content-length');
    if (this.method === 'HEAD' || this.#status === 204 || this.#status === 304) this.#mode = 'none';
    else if (te !== '') {
      if (!/(^|,)\s*chunked\s*$/.test(te)) throw new Error(`unsupported transfer-encoding ${JSON.stringify(te)}`);
      this.#mode = 'chunked';
    } else if (cl !== undefined) {
      if (!/^\d{1,15}$/.test(cl)) throw new Error(`bad content-length ${JSON.stringify(cl)}`);
      this.#remaining = Number(cl);
      this.#mode = 'length';
    } else {
      this.#mode = 'close';
      this.#keepAlive = false;
    }
  }

  #complete(): { answer: Http1Answer; reusable: boolean } {
    const body = this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks);
    const answer = { status: this.#status, headers: this.#headers, text: body.toString('utf8') };
    // bytes after the answer (no request was pending): the connection is out of step, never reuse it
    return { answer, reusable: this.#keepAlive && this.#buf.length === 0 };
  }
}

/** One kept-alive connection; `current` is its request in flight. */
class Connection {
  current: Pending | undefined;
  reader: ResponseReader | undefined;
  closed = false;
  /** performance.now() when it last became idle. */
  idleSince = 0;
  constructor(readonly socket: Socket) {}
}

/**
 * A pool of kept-alive HTTP/1.1 connections to one origin. A request takes the most recently used idle
 * connection and is written at once; without one it opens a connection (up to `connections`) or waits.
 */
export class Http1Pool {
  readonly #options: Http1PoolOptions;
  readonly #hostHeader: string;
  readonly #idle: Connection[] = [];
  readonly #all = new Set<Connection>();
  readonly #queue: Pending[] = [];
  #open = 0;
  #closed = false;
  #warmTimer: NodeJS.Timeout | undefined;

  constructor(options: Http1PoolOptions) {
    this.#options = options;
    const warm = options.keepWarm;
    if (warm !== undefined && (warm.path.charCodeAt(0) !== 47 || BAD_PATH.test(warm.path))) throw new Error(`invalid keep-warm path ${JSON.stringify(warm.path)}`);
    if (warm !== undefined && warm.everyMs > 0) {
      this.#warmTimer = setInterval(() => this.#warm(), Math.max(1, Math.floor(warm.everyMs / 4)));
      this.#warmTimer.unref();
    }
    const defaultPort = options.tls ? 443 : 80;
    const host = isIP(options.host) === 6 ? `[${options.host}]` : options.host;
    this.#hostHeader = options.port === defaultPort ? host : `${host}:${options.port}`;
  }

  /**
   * Sends `method path` with `headers` (Host, Content-Length and Connection are the pool's) and an
   * optional UTF-8 body.
   * @throws Error for a method or path that cannot be written as is (control characters, non-ASCII)
   */
  request(method: string, path: string, headers: Http1Headers, body: string | undefined, cb: Http1Callbacks): Http1Request {
    if (!TOKEN.test(method)) throw new Error(`invalid HTTP method ${JSON.stringify(method)}`);
    if (path.charCodeAt(0) !== 47 || BAD_PATH.test(path)) throw new Error(`invalid request path ${JSON.stringify(path)}`);
    const head =
      `${method} ${path} HTTP/1.1\r\nHost: ${this.#hostHeader}\r\n${Http1Headers.text(headers)}` +
      (body === undefined ? '\r\n' : `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`);
    const p: Pending = { head, body, method, path, cb, conn: undefined, done: false };
    if (this.#closed) {
      this.#fail(p, new Error('the connection pool is closed'));
    } else {
      const idle = this.#idle.pop();
      if (idle !== undefined) this.#start(idle, p);
      else if (this.#open < this.#options.connections) this.#start(this.#connect(), p);
      else this.#queue.push(p);
    }
    return {
      abort: (error: Error) => {
        if (p.done) return;
        const q = this.#queue.indexOf(p);
        if (q >= 0) this.#queue.splice(q, 1);
        if (p.conn !== undefined) this.#drop(p.conn);
        this.#fail(p, error);
      },
    };
  }

  /** Closes every connection; requests in flight or waiting fail. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#warmTimer);
    const closing = new Error('the connection pool was closed');
    for (const p of this.#queue.splice(0)) this.#fail(p, closing);
    for (const c of [...this.#all]) {
      const p = c.current;
      this.#drop(c);
      if (p !== undefined) this.#fail(p, closing);
    }
  }

  #connect(): Connection {
    const { host, port, tls, ca } = this.#options;
    const socket = tls
      ? tlsConnect({ host, port, ALPNProtocols: ['http/1.1'], ...(isIP(host) === 0 ? { servername: host } : {}), ...(ca === undefined ? {} : { ca }) })
      : netConnect({ host, port });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    const c = new Connection(socket);
    this.#open++;
    this.#all.add(c);
    socket.on('data', (d: Buffer) => this.#onData(c, d));
    socket.on('end', () => this.#onEnd(c));
    socket.on('error', (e: Error) => this.#onClose(c, e));
    socket.on('close', () => this.#onClose(c, new Error('the connection closed before the response was complete')));
    return c;
  }

  #start(c: Connection, p: Pending): void {
    p.conn = c;
    c.current = p;
    c.reader = new ResponseReader(p.method);
    c.socket.ref();
    // head and body in one write: on a connected socket with nothing queued, libuv hands the bytes to the
    // kernel before write returns (the channel reports then); otherwise once they were flushed
    const socket = c.socket;
    const text = p.body === undefined ? p.head : p.head + p.body;
    if (!written.hasSubscribers) {
      socket.write(text, 'utf8');
    } else {
      let published = false;
      const publish = (): void => {
        if (published) return;
        published = true;
        written.publish({ method: p.method, path: p.path });
      };
      const queued = socket.connecting || socket.writableLength > 0;
      socket.write(text, 'utf8', publish);
      if (!queued && socket.writableLength === 0) publish();
    }
  }

  #onData(c: Connection, d: Buffer): void {
    const p = c.current;
    const reader = c.reader;
    if (p === undefined || reader === undefined) {
      // bytes on an idle connection: nothing asked for them
      this.#drop(c);
      return;
    }
    let done: { answer: Http1Answer; reusable: boolean } | undefined;
    try {
      done = reader.push(d, (status) => {
        if (!p.done) p.cb.onHeaders(status);
      });
    } catch (e) {
      this.#drop(c);
      this.#fail(p, new Error(`invalid HTTP response: ${(e as Error).message}`));
      return;
    }
    if (done === undefined) return;
    c.current = undefined;
    c.reader = undefined;
    if (done.reusable && !this.#closed) this.#release(c);
    else this.#drop(c);
    this.#answer(p, done.answer);
  }

  #onEnd(c: Connection): void {
    const p = c.current;
    const answer = c.reader?.end();
    c.current = undefined;
    c.reader = undefined;
    this.#drop(c);
    if (p === undefined) return;
    if (answer !== undefined) this.#answer(p, answer);
    else this.#fail(p, new Error('the connection closed before the response was complete'));
  }

  #onClose(c: Connection, error: Error): void {
    const p = c.current;
    c.current = undefined;
    c.reader = undefined;
    this.#drop(c);
    if (p !== undefined) this.#fail(p, error);
  }

  /** Back to the idle list (or straight to a waiting request). */
  #release(c: Connection): void {
    const next = this.#queue.shift();
    if (next !== undefined) {
      this.#start(c, next);
      return;
    }
    // an idle connection does not keep the process alive
    c.socket.unref();
    c.idleSince = performance.now();
    this.#idle.push(c);
  }

  #drop(c: Connection): void {
    if (c.closed) return;
    c.closed = true;
    this.#open--;
    this.#all.delete(c);
    const i = this.#idle.indexOf(c);
    if (i >= 0) this.#idle.splice(i, 1);
    c.socket.destroy();
    // a waiting request gets a new connection in place of this one
    const next = this.#closed ? undefined : this.#queue.shift();
    if (next !== undefined) this.#start(this.#connect(), next);
  }

  /** keepWarm's tick: a GET on the connection a request would take next, once it has been idle long enough. */
  #warm(): void {
    const warm = this.#options.keepWarm;
    const c = this.#idle[this.#idle.length - 1];
    if (warm === undefined || c === undefined || this.#closed || performance.now() - c.idleSince < warm.everyMs || !warm.mayRequest()) return;
    this.#idle.pop();
    const head = `GET ${warm.path} HTTP/1.1\r\nHost: ${this.#hostHeader}\r\n${Http1Headers.text(warm.headers)}\r\n`;
    const ignore = (): void => undefined;
    this.#start(c, { head, body: undefined, method: 'GET', path: warm.path, cb: { onHeaders: ignore, onAnswer: ignore, onError: ignore }, conn: undefined, done: false });
  }

  #answer(p: Pending, a: Http1Answer): void {
    if (p.done) return;
    p.done = true;
    p.cb.onAnswer(a);
  }

  #fail(p: Pending, e: Error): void {
    if (p.done) return;
    p.done = true;
    p.cb.onError(e);
  }
}
