import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LiveClock, NS } from '../../core/clock.js';
import { Rng } from '../../core/rng.js';
import { AlpacaCredentials } from './credentials.js';
import type { AlpacaError } from './errors.js';
import { AlpacaRest, type AlpacaRestOptions } from './rest.js';
import { TokenBucket } from './resilience.js';

const KEY = 'AKRESTTESTKEY0001';
const SECRET = 'rest-test-secret-value-0123456789';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

/** A real loopback HTTP server answering through a replaceable handler, counting requests and connections. */
class Loopback {
  readonly server: Server;
  handler: Handler = (_q, _b, res) => json(res, 200, {});
  requests: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  connections = 0;
  constructor() {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        this.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        this.handler(req, body, res);
      });
    });
    this.server.on('connection', () => this.connections++);
  }
  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(options: Partial<AlpacaRestOptions> = {}): Promise<{ srv: Loopback; rest: AlpacaRest }> {
  const srv = new Loopback();
  const url = await srv.start();
  const clock = new LiveClock();
  const rest = new AlpacaRest({
    baseUrl: url,
    credentials: new AlpacaCredentials(KEY, SECRET),
    clock,
    rng: new Rng(5),
    timeoutMs: 300,
    retries: 3,
    backoff: { baseNs: 10n * NS.ms, maxNs: 50n * NS.ms },
    ...options,
  });
  cleanups.push(() => srv.stop(), () => rest.close());
  return { srv, rest };
}

async function failure(p: Promise<unknown>): Promise<AlpacaError> {
  try {
    await p;
  } catch (e) {
    return e as AlpacaError;
  }
  throw new Error('expected a rejection');
}

describe('AlpacaRest against a loopback server', () => {
  it('sends the key headers, JSON bodies and query strings over one keep-alive connection', async () => {
    const { srv, rest } = await setup({ connections: 1 });
    srv.handler = (req, body, res) => json(res, 200, { echo: body === '' ? null : (JSON.parse(body) as unknown), url: req.url });
    for (let i = 0; i < 5; i++) {
      const a = await rest.request<{ url: string }>('GET', '/v2/orders', { safety: 'safe', query: { status: 'open', limit: String(i), skip: undefined } });
      expect(a.data.url).toBe(`/v2/orders?status=open&limit=${i}`);
    }
    const post = await rest.request<{ echo: unknown }>('POST', '/v2/orders', { safety: 'unsafe', body: { symbol: 'SPY', qty: '1' } });
    expect(post.data.echo).toEqual({ symbol: 'SPY', qty: '1' });
    expect(srv.requests[0]?.headers['apca-api-key-id']).toBe(KEY);
    expect(srv.requests[0]?.headers['apca-api-secret-key']).toBe(SECRET);
    expect(srv.connections).toBe(1);
  });

  it('retries a safe GET through 5xx answers with backoff, and gives up with VenueUnavailable', async () => {
    const { srv, rest } = await setup();
    let n = 0;
    srv.handler = (_q, _b, res) => (++n < 3 ? json(res, 503, { code: 50010000, message: 'busy' }) : json(res, 200, { ok: true }));
    const a = await rest.request<{ ok: boolean }>('GET', '/v2/account', { safety: 'safe' });
    expect(a.data.ok).toBe(true);
    expect(a.attempts).toBe(3);
    srv.handler = (_q, _b, res) => json(res, 500, { code: 50010000, message: 'down' });
    srv.requests = [];
    const e = await failure(rest.request('GET', '/v2/account', { safety: 'safe' }));
    expect(e.code).toBe('VenueUnavailable');
    expect(e.message).toMatch(/GET \/v2\/account answered HTTP 500 4 times: down/);
    expect(srv.requests.length).toBe(4);
  });

  it('never repeats POST /v2/orders: a 5xx or a timeout is UnknownOutcome after exactly one request', async () => {
    const { srv, rest } = await setup();
    srv.handler = (_q, _b, res) => json(res, 500, { code: 50010000, message: 'internal error' });
    const e = await failure(rest.request('POST', '/v2/orders', { safety: 'unsafe', body: { client_order_id: 'x-1' } }));
    expect(e.code).toBe('UnknownOutcome');
    expect(e.message).toMatch(/may have been carried out/);
    expect(srv.requests.length).toBe(1);
    srv.requests = [];
    srv.handler = () => undefined; // never answers
    const t = await failure(rest.request('POST', '/v2/orders', { safety: 'unsafe', body: { client_order_id: 'x-2' } }));
    expect(t.code).toBe('UnknownOutcome');
    expect(t.message).toMatch(/timed out after 300 ms/);
    await new Promise((r) => setTimeout(r, 100));
    expect(srv.requests.length).toBe(1);
  });

  it('retries a safe request that times out, then fails with Timeout', async () => {
    const { srv, rest } = await setup({ retries: 1 });
    srv.handler = () => undefined;
    const e = await failure(rest.request('GET', '/v2/positions', { safety: 'safe' }));
    expect(e.code).toBe('Timeout');
    expect(srv.requests.length).toBe(2);
  });

  it('honours Retry-After on a 429: the retry waits, and the limiter grants nothing meanwhile', async () => {
    const { srv, rest } = await setup();
    const times: number[] = [];
    srv.handler = (_q, _b, res) => {
      times.push(performance.now());
      if (times.length === 1) json(res, 429, { code: 42910000, message: 'rate limit exceeded' }, { 'Retry-After': '1' });
      else json(res, 200, { ok: true });
    };
    const a = await rest.request<{ ok: boolean }>('GET', '/v2/account', { safety: 'safe' });
    expect(a.attempts).toBe(2);
    expect((times[1] as number) - (times[0] as number)).toBeGreaterThanOrEqual(950);
  });

  it('honours X-RateLimit-Reset when there is no Retry-After, and retries even an unsafe POST refused by 429', async () => {
    const { srv, rest } = await setup();
    const times: number[] = [];
    srv.handler = (_q, _b, res) => {
      times.push(performance.now());
      const reset = Math.ceil(Date.now() / 1000) + 1;
      if (times.length === 1) json(res, 429, { code: 42910000, message: 'slow down' }, { 'X-RateLimit-Reset': String(reset) });
      else json(res, 200, { id: 'o-1' });
    };
    const a = await rest.request<{ id: string }>('POST', '/v2/orders', { safety: 'unsafe', body: {} });
    expect(a.data.id).toBe('o-1');
    expect(a.attempts).toBe(2);
    expect((times[1] as number) - (times[0] as number)).toBeGreaterThanOrEqual(300);
  });

  it('opens the circuit after N consecutive failures, fails fast without sending, and closes after a good probe', async () => {
    const { srv, rest } = await setup({ retries: 0, breaker: { failureThreshold: 3, cooldownNs: 300n * NS.ms } });
    srv.handler = (_q, _b, res) => json(res, 502, { message: 'bad gateway' });
    for (let i = 0; i < 3; i++) expect((await failure(rest.request('GET', '/v2/account', { safety: 'safe' }))).code).toBe('VenueUnavailable');
    const sent = srv.requests.length;
    const open = await failure(rest.request('GET', '/v2/account', { safety: 'safe' }));
    expect(open.code).toBe('CircuitOpen');
    expect(srv.requests.length).toBe(sent);
    await new Promise((r) => setTimeout(r, 350));
    srv.handler = (_q, _b, res) => json(res, 200, { ok: true });
    expect((await rest.request<{ ok: boolean }>('GET', '/v2/account', { safety: 'safe' })).data.ok).toBe(true);
    expect(rest.breaker.state).toBe('closed');
  });

  it("maps 403/404/422 to refusal codes carrying Alpaca's message, with any echoed key redacted", async () => {
    const { srv, rest } = await setup();
    const answers: Record<string, [number, string]> = {
      'POST /v2/orders': [403, 'insufficient buying power'],
      'GET /v2/orders/nope': [404, 'order not found'],
      'POST /v2/orders?dup': [422, 'client_order_id must be unique'],
      'DELETE /v2/orders/o-1': [422, 'order is already in "filled" state'],
      'PATCH /v2/orders/o-1': [422, 'qty must be > 0'],
      'GET /v2/account': [401, `request is not authorized for key ${KEY} / ${SECRET}`],
    };
    srv.handler = (req, body, res) => {
      const key = `${req.method} ${req.url}${body.includes('dup') ? '?dup' : ''}`;
      const [status, message] = answers[key] ?? [500, 'unexpected'];
      json(res, status, { code: status * 100000, message });
    };
    const cases: [() => Promise<unknown>, string, RegExp][] = [
      [() => rest.request('POST', '/v2/orders', { safety: 'unsafe', body: {} }), 'InsufficientBuyingPower', /HTTP 403\): insufficient buying power/],
      [() => rest.request('GET', '/v2/orders/nope', { safety: 'safe' }), 'OrderNotFound', /order not found/],
      [() => rest.request('POST', '/v2/orders', { safety: 'unsafe', body: { dup: true } }), 'DuplicateClientOrderId', /client_order_id must be unique/],
      [() => rest.request('DELETE', '/v2/orders/o-1', { safety: 'safe' }), 'NotCancelable', /filled/],
      [() => rest.request('PATCH', '/v2/orders/o-1', { safety: 'unsafe', body: { qty: '0' } }), 'InvalidOrder', /qty must be > 0/],
      [() => rest.request('GET', '/v2/account', { safety: 'safe' }), 'Unauthorized', /not authorized/],
    ];
    for (const [p, code, message] of cases) {
      const e = await failure(p());
      expect(e.code).toBe(code);
      expect(e.message).toMatch(message);
      expect(e.message).not.toContain(KEY);
      expect(e.message).not.toContain(SECRET);
      expect(JSON.stringify(e)).not.toContain(SECRET);
    }
    // refusals are answers, not failures: one request each, circuit closed
    expect(srv.requests.length).toBe(cases.length);
    expect(rest.breaker.state).toBe('closed');
  });

  it('waits for rate-limit tokens: a 20/min limit with burst 2 lets 2 requests through at once, the third ~3.3 s later', async () => {
    const clock = new LiveClock();
    const { srv, rest } = await setup({ limiter: new TokenBucket({ perMinute: 20, burst: 2 }, clock), clock });
    srv.handler = (_q, _b, res) => json(res, 200, {});
    const t0 = performance.now();
    await Promise.all([0, 1, 2].map(() => rest.request('GET', '/v2/clock', { safety: 'safe' })));
    const times = srv.requests.map(() => performance.now() - t0);
    expect(srv.requests.length).toBe(3);
    expect(times[2] as number).toBeGreaterThan(3_000);
  });

  it('refuses what it could not send as configured: credentials with line breaks (named, never shown) and a bad keep-warm interval', () => {
    const base = { baseUrl: 'http://127.0.0.1:1', clock: new LiveClock(), rng: new Rng(1) };
    const bad = (): AlpacaRest => new AlpacaRest({ ...base, credentials: new AlpacaCredentials(KEY, `${SECRET}\r\nX-Injected: 1`) });
    expect(bad).toThrowError('[InvalidConfig] Alpaca credentials cannot be sent: invalid characters in header APCA-API-SECRET-KEY');
    try {
      bad();
    } catch (e) {
      expect(String((e as Error).message)).not.toContain(SECRET);
    }
    expect(() => new AlpacaRest({ ...base, credentials: new AlpacaCredentials(KEY, SECRET), keepWarmMs: -1 })).toThrowError('[InvalidConfig] keepWarmMs must be a non-negative number of ms, got -1');
    // 0 turns keep-warm off: accepted
    const off = new AlpacaRest({ ...base, credentials: new AlpacaCredentials(KEY, SECRET), keepWarmMs: 0 });
    expect(off.origin).toBe('http://127.0.0.1:1');
    void off.close();
  });
});
