import { execFileSync } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { Http1Headers, Http1Pool, REQUEST_WRITTEN_CHANNEL, type Http1Answer } from './http1.js';

// raw TCP servers on loopback answering with exact bytes, so every framing case is the one written here

interface Raw {
  server: Server;
  port: number;
  /** Request heads (and bodies) as received, per connection. */
  received: string[];
  connections: Socket[];
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A server that calls `answer` once per complete request (head + Content-Length body) on a connection. */
async function raw(answer: (socket: Socket, request: string, n: number) => void): Promise<Raw> {
  const r: Raw = { server: createServer(), port: 0, received: [], connections: [] };
  let n = 0;
  r.server.on('connection', (socket) => {
    r.connections.push(socket);
    let buf = '';
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const len = Number(/content-length: (\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
        if (buf.length < end + 4 + len) return;
        const req = buf.slice(0, end + 4 + len);
        buf = buf.slice(end + 4 + len);
        r.received.push(req);
        answer(socket, req, n++);
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((res) => r.server.listen(0, '127.0.0.1', () => res()));
  r.port = (r.server.address() as AddressInfo).port;
  cleanups.push(
    () =>
      new Promise<void>((res) => {
        for (const s of r.connections) s.destroy();
        r.server.close(() => res());
      }),
  );
  return r;
}

function pool(port: number, connections = 1): Http1Pool {
  const p = new Http1Pool({ host: '127.0.0.1', port, tls: false, connections });
  cleanups.push(() => p.close());
  return p;
}

const H = new Http1Headers({ accept: 'application/json', 'X-Key': 'k1' });

function send(p: Http1Pool, method: string, path: string, body?: string): Promise<Http1Answer & { sawHeaders: number }> {
  return new Promise((resolve, reject) => {
    let sawHeaders = 0;
    p.request(method, path, H, body, {
      onHeaders: (s) => (sawHeaders = s),
      onAnswer: (a) => resolve({ ...a, sawHeaders }),
      onError: reject,
    });
  });
}

/** Writes `text` one byte per write with pauses, so the client sees every split. */
async function dribble(socket: Socket, text: string): Promise<void> {
  for (const ch of Buffer.from(text, 'utf8')) {
    socket.write(Buffer.from([ch]));
    await new Promise((r) => setImmediate(r));
  }
}

describe('Http1Pool', () => {
  it('writes one well-formed request (Host, fixed headers, Content-Length of the UTF-8 body) and reads a Content-Length answer', async () => {
    const srv = await raw((s) => s.write('HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 11\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n{"ok":true}'));
    const p = pool(srv.port);
    const a = await send(p, 'POST', '/v2/orders?x=1', '{"sym":"é"}');
    expect(a).toEqual({ status: 201, headers: { 'content-type': 'application/json', 'content-length': '11', 'set-cookie': ['a=1', 'b=2'] }, text: '{"ok":true}', sawHeaders: 201 });
    expect(srv.received[0]).toBe(`POST /v2/orders?x=1 HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\naccept: application/json\r\nX-Key: k1\r\nContent-Length: 12\r\n\r\n{"sym":"é"}`.replace('é', Buffer.from('é').toString('latin1')));
  });

  it('decodes chunked bodies split at every byte, with extensions and trailers, and reuses the connection', async () => {
    const body = '{"a":"ü"}';
    const bytes = Buffer.from(body).length;
    const chunked = `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\n${body.slice(0, 4)}\r\n${(bytes - 4).toString(16)}\r\n${body.slice(4)}\r\n0\r\nX-Trailer: t\r\n\r\n`;
    const srv = await raw((s) => void dribble(s, chunked));
    const p = pool(srv.port);
    for (let i = 0; i < 3; i++) expect((await send(p, 'GET', `/x${i}`)).text).toBe(body);
    expect(srv.connections.length).toBe(1);
  });

  it('skips 1xx answers, reads a body until close when there is no length, and then opens a new connection', async () => {
    const srv = await raw((s, _r, n) => {
      if (n === 0) {
        s.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\npart one, ');
        setTimeout(() => s.end('part two'), 5);
      } else s.write('HTTP/1.1 204 No Content\r\n\r\n');
    });
    const p = pool(srv.port);
    const a = await send(p, 'GET', '/');
    expect([a.status, a.text]).toEqual([200, 'part one, part two']);
    const b = await send(p, 'DELETE', '/v2/orders/1');
    expect([b.status, b.text]).toEqual([204, '']);
    expect(srv.connections.length).toBe(2);
  });

  it('closes the connection after Connection: close, and after bytes nobody asked for', async () => {
    const srv = await raw((s, _r, n) => {
      if (n === 0) s.write('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na');
      else s.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nbEXTRA');
    });
    const p = pool(srv.port);
    expect((await send(p, 'GET', '/1')).text).toBe('a');
    expect((await send(p, 'GET', '/2')).text).toBe('b');
    expect((await send(p, 'GET', '/3')).text).toBe('b');
    expect(srv.connections.length).toBe(3);
  });

  it('fails a request whose answer is malformed or cut short, and goes on with a new connection', async () => {
    const srv = await raw((s, _r, n) => {
      if (n === 0) s.write('HTTP/2 200\r\n\r\n');
      else if (n === 1) s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
      else if (n === 2) s.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort');
      else s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
    const p = pool(srv.port);
    await expect(send(p, 'GET', '/')).rejects.toThrow('invalid HTTP response: not an HTTP/1.x status line: "HTTP/2 200"');
    await expect(send(p, 'GET', '/')).rejects.toThrow('invalid HTTP response: bad chunk size "zz"');
    await expect(send(p, 'GET', '/')).rejects.toThrow('the connection closed before the response was complete');
    expect((await send(p, 'GET', '/')).text).toBe('ok');
  });

  it('queues requests beyond its connections and serves them in order on the freed connection', async () => {
    const srv = await raw((s, req) => {
      const path = req.split(' ')[1] as string;
      setTimeout(() => s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${path.length}\r\n\r\n${path}`), 2);
    });
    const p = pool(srv.port, 2);
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => send(p, 'GET', `/q${i}`)));
    expect(answers.map((a) => a.text)).toEqual(['/q0', '/q1', '/q2', '/q3', '/q4', '/q5']);
    expect(srv.connections.length).toBe(2);
  });

  it('opens a new connection when the server closed an idle one', async () => {
    const srv = await raw((s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    const p = pool(srv.port);
    await send(p, 'GET', '/');
    (srv.connections[0] as Socket).end();
    await new Promise((r) => setTimeout(r, 20));
    expect((await send(p, 'GET', '/')).status).toBe(200);
    expect(srv.connections.length).toBe(2);
  });

  it('abort fails the request with its error and drops the connection; a waiting request then gets a new one', async () => {
    const srv = await raw((s, _r, n) => {
      if (n > 0) s.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    });
    const p = pool(srv.port);
    let failed: Error | undefined;
    const r = p.request('POST', '/v2/orders', H, '{}', { onHeaders: () => undefined, onAnswer: () => undefined, onError: (e) => (failed = e) });
    const waiting = send(p, 'GET', '/next');
    await new Promise((res) => setTimeout(res, 10));
    r.abort(new Error('no response headers within 10 ms'));
    expect(failed?.message).toBe('no response headers within 10 ms');
    expect((await waiting).status).toBe(200);
    expect(srv.connections.length).toBe(2);
  });

  it('refuses what cannot be written as is, before anything is sent', () => {
    const p = pool(1);
    const cb = { onHeaders: () => undefined, onAnswer: () => undefined, onError: () => undefined };
    expect(() => p.request('GET', '/a b', H, undefined, cb)).toThrow('invalid request path "/a b"');
    expect(() => p.request('GET', '/a\r\nX: y', H, undefined, cb)).toThrow('invalid request path');
    expect(() => p.request('GET', 'http://x/', H, undefined, cb)).toThrow('invalid request path');
    expect(() => p.request('G T', '/', H, undefined, cb)).toThrow('invalid HTTP method');
    expect(() => new Http1Headers({ 'X-A': 'v\r\nInjected: 1' })).toThrow('invalid characters in header X-A');
    expect(() => new Http1Headers({ 'Bad Name': 'v' })).toThrow('invalid header name "Bad Name"');
    expect(() => new Http1Headers({ 'Content-Length': '5' })).toThrow('header Content-Length is set by the connection pool');
    expect(JSON.stringify({ h: new Http1Headers({ 'APCA-API-SECRET-KEY': 'secret' }) })).not.toContain('secret');
  });

  it('reports on its channel once a request is on the socket, and close() fails what is in flight', async () => {
    const srv = await raw(() => undefined);
    const p = pool(srv.port);
    const seen: unknown[] = [];
    const on = (m: unknown): void => void seen.push(m);
    diagnostics.subscribe(REQUEST_WRITTEN_CHANNEL, on);
    try {
      const pending = send(p, 'POST', '/v2/orders', '{}');
      await new Promise((r) => setTimeout(r, 20));
      expect(seen).toEqual([{ method: 'POST', path: '/v2/orders' }]);
      expect(srv.received).toHaveLength(1);
      p.close();
      await expect(pending).rejects.toThrow('the connection pool was closed');
      await expect(send(p, 'GET', '/')).rejects.toThrow('the connection pool is closed');
    } finally {
      diagnostics.unsubscribe(REQUEST_WRITTEN_CHANNEL, on);
    }
  });

  it('speaks TLS: verifies the server against the given authority and refuses one it does not trust', async () => {
    // a throwaway self-signed certificate for 127.0.0.1 (openssl; the CI installs it)
    const dir = mkdtempSync(join(tmpdir(), 'axon-http1-tls-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const make = (name: string): { key: Buffer; cert: Buffer } => {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.crt`)], { stdio: 'ignore' });
      return { key: readFileSync(join(dir, `${name}.key`)), cert: readFileSync(join(dir, `${name}.crt`)) };
    };
    const good = make('axon-test');
    const other = make('other');
    const server = createTlsServer({ key: good.key, cert: good.cert }, (s) => {
      s.on('data', () => s.write('HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecure'));
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as AddressInfo).port;
    const trusted = new Http1Pool({ host: '127.0.0.1', port, tls: true, connections: 1, ca: good.cert });
    const untrusted = new Http1Pool({ host: '127.0.0.1', port, tls: true, connections: 1, ca: other.cert });
    cleanups.push(() => trusted.close(), () => untrusted.close());
    expect((await send(trusted, 'GET', '/')).text).toBe('secure');
    expect((await send(trusted, 'GET', '/')).text).toBe('secure');
    await expect(send(untrusted, 'GET', '/')).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
  });

  it('keeps the next request\'s connection warm against a server that closes idle ones, when mayRequest allows', async () => {
    // the server closes a connection 400 ms after its last answer; a warm GET goes out after 50 ms idle
    const run = async (mode: 'off' | 'on' | 'denied'): Promise<{ srv: Raw; asked: number }> => {
      const srv = await raw((s) => {
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
        const sock = s as Socket & { closer?: NodeJS.Timeout };
        clearTimeout(sock.closer);
        sock.closer = setTimeout(() => s.end(), 400);
      });
      let asked = 0;
      const mayRequest = (): boolean => {
        asked++;
        return mode === 'on';
      };
      const p = new Http1Pool({ host: '127.0.0.1', port: srv.port, tls: false, connections: 1, ...(mode === 'off' ? {} : { keepWarm: { everyMs: 50, path: '/v2/clock', headers: H, mayRequest } }) });
      cleanups.push(() => p.close());
      await send(p, 'POST', '/v2/orders', '{}');
      await new Promise((r) => setTimeout(r, 1200));
      await send(p, 'POST', '/v2/orders', '{}');
      return { srv, asked };
    };
    const gets = (r: Raw): number => r.received.filter((q) => q.startsWith('GET /v2/clock HTTP/1.1\r\n')).length;
    const off = await run('off');
    expect([off.srv.connections.length, gets(off.srv)]).toEqual([2, 0]);
    const denied = await run('denied');
    expect([denied.srv.connections.length, gets(denied.srv)]).toEqual([2, 0]);
    expect(denied.asked).toBeGreaterThan(0);
    const on = await run('on');
    expect(on.srv.connections.length).toBe(1);
    expect(gets(on.srv)).toBeGreaterThanOrEqual(5);
    expect(on.srv.received.at(-1)?.startsWith('POST /v2/orders')).toBe(true);
  });
});
