import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TestClock } from '../core/clock.js';
import { AxonError } from '../core/errors.js';
import { makeInstrument } from '../model/instrument.js';
// tests may reach up a layer: the checkpoint codec is what the engine stores OMS state with
import { decodeState, encodeState } from '../engine/state/codec.js';
import { OrderManager, type OrderManagerState } from './manager.js';
import { Portfolio, type AccountType, type PortfolioState } from './portfolio.js';
import { limitOrder, marketOrder, notionalOrder } from './order.js';
import { makeOrderStatus } from './status.js';
import { OmsError } from './errors.js';
import { liveOmsState } from './live-state.fixture.js';

const SYMBOLS = ['BTC-USDT', 'ETH-USDT', 'SPY', 'AAPL'] as const;
const QTYS = ['1', '2', '0.5', '1.25', '0.750'] as const;
const FILL_QTYS = ['0.5', '0.25', '1', '0.125', '0.10', '2', '0.3'] as const;
const PRICES = ['100', '101.5', '99.25', '100.125', '98'] as const;
const MARKS = ['100', '102.50', '97.125', '110'] as const;

type Cmd =
  | { t: 'submit'; kind: 'limit' | 'market' | 'notional'; sym: number; sell: boolean; qty: number; px: number; key: number | null }
  | { t: 'batch'; n: number; key: number | null }
  | { t: 'ack' | 'reject' | 'expire'; o: number }
  | { t: 'cancel'; o: number; reason: boolean }
  | { t: 'fill'; o: number; id: number; qty: number; px: number; fee: number; final: boolean; bySymbol: boolean }
  | { t: 'replay'; back: number }
  | { t: 'mark'; sym: number; px: number }
  | { t: 'deposit' | 'withdraw'; usd: boolean };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('submit' as const), kind: fc.constantFrom('limit' as const, 'market' as const, 'notional' as const), sym: fc.nat(3), sell: fc.boolean(), qty: fc.nat(4), px: fc.nat(4), key: fc.option(fc.nat(6)) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('batch' as const), n: fc.integer({ min: 1, max: 3 }), key: fc.option(fc.nat(6)) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constantFrom('ack' as const, 'reject' as const, 'expire' as const), o: fc.nat(30) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('cancel' as const), o: fc.nat(30), reason: fc.boolean() }) },
  { weight: 8, arbitrary: fc.record({ t: fc.constant('fill' as const), o: fc.nat(30), id: fc.nat(40), qty: fc.nat(6), px: fc.nat(4), fee: fc.nat(3), final: fc.boolean(), bySymbol: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('replay' as const), back: fc.nat(10) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('mark' as const), sym: fc.nat(3), px: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constantFrom('deposit' as const, 'withdraw' as const), usd: fc.boolean() }) },
);

interface Setup {
  accountType: AccountType;
  historyLimit: number | undefined;
}

function build(setup: Setup, clock: TestClock, ids: () => string): OrderManager {
  return new OrderManager({
    clock,
    idGenerator: ids,
    ...(setup.historyLimit === undefined ? {} : { historyLimit: setup.historyLimit }),
    portfolio: {
      accountType: setup.accountType,
      defaultQuoteCurrency: 'USD',
      baseCurrency: 'USD',
      instruments: [makeInstrument({ id: 'AAPL.XNAS', tickSize: '0.01', lotSize: '0.001', baseCurrency: 'AAPL', quoteCurrency: 'USD' })],
    },
  });
}

function counter(): () => string {
  let n = 0;
  return () => `o${n++}`;
}

function outcome(fn: () => unknown): string {
  try {
    const v = fn();
    return `ok ${encodeState(v === undefined ? null : v)}`;
  } catch (e) {
    if (e instanceof AxonError) return `err ${e.message}`;
    throw e;
  }
}

/** Drives one manager through commands; everything it returns or throws goes to `log`. */
class Driver {
  readonly ids: string[] = [];
  readonly fills: Parameters<OrderManager['addFill']>[0][] = [];
  readonly log: string[] = [];
  constructor(
    public m: OrderManager,
    readonly clock: TestClock,
  ) {}

  order(i: number): string {
    return this.ids.length === 0 ? 'missing' : (this.ids[i % (this.ids.length + 1)] ?? 'missing');
  }

  step(c: Cmd): void {
    this.clock.advance(1_000n);
    const m = this.m;
    switch (c.t) {
      case 'submit':
        this.log.push(
          outcome(() => {
            const sym = SYMBOLS[c.sym] as string;
            const side = c.sell ? 'Sell' : 'Buy';
            const key = c.key === null ? undefined : `k${c.key}`;
            const order =
              c.kind === 'limit'
                ? limitOrder(sym, side, QTYS[c.qty] as string, PRICES[c.px] as string, key)
                : c.kind === 'market'
                  ? marketOrder(sym, side, QTYS[c.qty] as string, key)
                  : notionalOrder(sym, side, '150.50', QTYS[c.qty] as string, key);
            const id = m.submit(order);
            this.ids.push(id);
            return id;
          }),
        );
        break;
      case 'batch':
        this.log.push(
          outcome(() => {
            const orders = Array.from({ length: c.n }, (_, i) => limitOrder('ETH-USDT', 'Buy', '0.5', '100', c.key === null ? undefined : `k${c.key + i}`));
            const out = m.batchSubmit(orders);
            this.ids.push(...out);
            return out;
          }),
        );
        break;
      case 'ack':
      case 'reject':
      case 'expire': {
        const kind = c.t === 'ack' ? 'Acknowledged' : c.t === 'reject' ? 'Rejected' : 'Expired';
        this.log.push(outcome(() => m.updateStatus(this.order(c.o), makeOrderStatus(kind, c.t === 'reject' ? { reason: 'venue says no' } : {})).toDict()));
        break;
      }
      case 'cancel':
        this.log.push(outcome(() => m.cancel(this.order(c.o), c.reason ? 'user' : undefined).toDict()));
        break;
      case 'fill': {
        const orderId = this.order(c.o);
        const f: Parameters<OrderManager['addFill']>[0] = {
          orderId,
          fillId: `f${c.id}`,
          price: PRICES[c.px] as string,
          quantity: FILL_QTYS[c.qty] as string,
        };
        if (c.fee > 0) f.fee = c.fee === 1 ? '0.01' : '0.5';
        if (c.fee === 3) f.feeCurrency = 'BNB';
        if (c.final) f.final = true;
        if (c.bySymbol) f.symbol = m.getOrder(orderId)?.order.symbol ?? 'BTC-USDT';
        this.fills.push(f);
        this.log.push(outcome(() => m.addFill(f)));
        break;
      }
      case 'replay': {
        const f = this.fills[this.fills.length - 1 - (c.back % Math.max(1, this.fills.length))];
        if (f !== undefined) this.log.push(outcome(() => m.addFill(f)));
        break;
      }
      case 'mark':
        this.log.push(outcome(() => m.portfolio.setMark(SYMBOLS[c.sym] as string, MARKS[c.px] as string)));
        break;
      case 'deposit':
        this.log.push(outcome(() => m.deposit(c.usd ? 'USD' : 'USDT', '250.25')));
        break;
      case 'withdraw':
        this.log.push(outcome(() => m.portfolio.withdraw(c.usd ? 'USD' : 'USDT', '300')));
        break;
    }
  }

  /** Every observable of the manager, as one string. */
  observe(): string {
    const m = this.m;
    const p = m.portfolio;
    const out: unknown[] = [
      m.snapshotBalance().cash,
      Object.values(m.snapshotBalance().positions).map((x) => x.toDict()),
      m.activeCount(),
      m.historyCount(),
      m.activeOrders().map((r) => [r.id, r.status.toDict(), r.filledQty.toString(), r.filledNotional.toString(), r.createdAt, r.updatedAt]),
      p.positionCount(),
      p.isEmpty(),
    ];
    for (const id of [...this.ids, 'missing']) {
      const r = m.getOrder(id);
      out.push(
        r === undefined
          ? null
          : [r.id, r.order.symbol, r.order.side, r.order.orderType, r.order.quantity.toString(), r.order.price?.toString() ?? null, r.order.notional?.toString() ?? null, r.order.idempotencyKey ?? null, r.status.toDict(), r.filledQty.toString(), r.filledNotional.toString(), r.createdAt, r.updatedAt],
        m.getOrderStatus(id)?.toDict() ?? null,
      );
    }
    for (const ccy of ['USD', 'USDT', 'BNB']) {
      out.push(p.equity(ccy).toString(), p.equity(ccy, { 'BTC-USDT': '105.5', SPY: '99' }).toString(), p.grossExposure(ccy).toString(), p.largestPositionValue(ccy).toString(), p.cashBalance(ccy).toString());
    }
    for (const s of SYMBOLS) {
      out.push(p.position(s)?.toDict() ?? null, p.mark(s)?.toString() ?? null, p.costBasis(s).toString(), p.realizedPnl(s).toString(), p.unrealizedPnl(s).toString(), p.positionValue(s).toString());
    }
    for (let i = 0; i < 41; i++) out.push(p.hasFill(`f${i}`));
    return encodeState(out);
  }
}

const setupArb = fc.record({ accountType: fc.constantFrom<AccountType>('cash', 'margin'), historyLimit: fc.constantFrom(undefined, 0, 3) });

function fund(m: OrderManager): void {
  m.deposit('USDT', '1000');
  m.deposit('USD', '500.5');
  m.deposit('BNB', '1');
}

function roundTrip(state: OrderManagerState): OrderManagerState {
  return decodeState(encodeState(state)) as OrderManagerState;
}

describe('OrderManager snapshot/restore', () => {
  it('a run stopped at any point, round-tripped through the checkpoint codec and restored, equals the uninterrupted run', () => {
    fc.assert(
      fc.property(setupArb, fc.array(cmdArb, { minLength: 1, maxLength: 80 }), fc.nat(), (setup, cmds, cut) => {
        const k = cut % (cmds.length + 1);
        const clockA = new TestClock(1_000_000n);
        const a = new Driver(build(setup, clockA, counter()), clockA);
        fund(a.m);
        for (const c of cmds) a.step(c);

        const clockB = new TestClock(1_000_000n);
        const ids = counter();
        const b = new Driver(build(setup, clockB, ids), clockB);
        fund(b.m);
        for (const c of cmds.slice(0, k)) b.step(c);
        const before = b.observe();
        const text = encodeState(b.m.snapshot());
        // the process dies here; a new one builds the same manager and restores the checkpoint
        const restored = build(setup, clockB, ids);
        restored.restore(decodeState(text) as OrderManagerState);
        b.m = restored;
        expect(b.observe()).toBe(before);
        expect(encodeState(restored.snapshot())).toBe(text);
        for (const c of cmds.slice(k)) b.step(c);

        expect(b.log).toEqual(a.log);
        expect(b.observe()).toBe(a.observe());
        expect(encodeState(b.m.snapshot())).toBe(encodeState(a.m.snapshot()));
      }),
      { numRuns: 300 },
    );
  });

  it('the sequences reach every interesting path', () => {
    // guards the property above against a generator that never fills, dedupes or refuses
    const seen = new Set<string>();
    fc.assert(
      fc.property(setupArb, fc.array(cmdArb, { minLength: 1, maxLength: 80 }), (setup, cmds) => {
        const clock = new TestClock(0n);
        const d = new Driver(build(setup, clock, counter()), clock);
        fund(d.m);
        for (const c of cmds) d.step(c);
        for (const line of d.log) seen.add(line.startsWith('err') ? line.slice(4, line.indexOf(']') + 1) : line === 'ok false' ? 'dup' : line === 'ok true' ? 'fill' : 'ok');
        for (const id of d.ids) {
          const r = d.m.getOrder(id);
          if (r !== undefined) seen.add(`${r.status.kind}${r.order.notional === undefined ? '' : '-notional'}`);
        }
      }),
      { numRuns: 200, seed: 7 },
    );
    for (const want of ['fill', 'dup', '[DuplicateIdempotencyKey]', '[AlreadyTerminal]', '[InvalidTransition]', '[Portfolio]', '[OrderNotFound]', 'Filled', 'Filled-notional', 'Cancelled', 'PartiallyFilled', 'Rejected', 'Expired']) {
      expect(seen).toContain(want);
    }
  });

  it('keeps the newest historyLimit terminal orders while historyCount counts all, and a replayed fill of a dropped order is still a no-op', () => {
    const clock = new TestClock(0n);
    const m = build({ accountType: 'cash', historyLimit: 2 }, clock, counter());
    fund(m);
    const ids = ['a', 'b', 'c', 'd'].map((k) => m.submit(limitOrder('BTC-USDT', 'Buy', '1', '10', k)));
    for (const [i, id] of ids.entries()) m.addFill({ orderId: id, fillId: `x${i}`, price: '10', quantity: '1' });
    expect(m.historyCount()).toBe(4);
    expect(m.getOrder(ids[0] as string)).toBeUndefined();
    expect(m.getOrder(ids[1] as string)).toBeUndefined();
    expect(m.getOrder(ids[3] as string)?.status.kind).toBe('Filled');
    expect(m.addFill({ orderId: ids[0] as string, fillId: 'x0', price: '10', quantity: '1' })).toBe(false);
    expect(() => m.addFill({ orderId: ids[0] as string, fillId: 'x9', price: '10', quantity: '1' })).toThrowError('[OrderNotFound] order not found: o0');
    expect(() => m.submit(limitOrder('BTC-USDT', 'Buy', '1', '10', 'a'))).toThrowError(/DuplicateIdempotencyKey/);
    expect(m.snapshotBalance().cash.USDT).toBe('960');
    // a manager with a smaller limit keeps the newest of a restored history
    const small = build({ accountType: 'cash', historyLimit: 1 }, clock, counter());
    small.restore(roundTrip(m.snapshot()));
    expect(small.historyCount()).toBe(4);
    expect(small.getOrder(ids[2] as string)).toBeUndefined();
    expect(small.getOrder(ids[3] as string)?.status.kind).toBe('Filled');
    expect(() => new OrderManager({ historyLimit: -1 })).toThrowError('[SerializationError] historyLimit must be a non-negative integer, got -1');
  });

  it('holds no class instances and survives the codec exactly', () => {
    const clock = new TestClock(5n);
    const m = build({ accountType: 'margin', historyLimit: undefined }, clock, counter());
    fund(m);
    const id = m.submit(notionalOrder('BTC-USDT', 'Sell', '100.00', '1', 'n1'));
    m.addFill({ orderId: id, fillId: 'n-1', price: '99.5', quantity: '0.600', fee: '0.01' });
    m.portfolio.setMark('SPY', '401.10');
    const s = m.snapshot();
    // encodeState refuses any class instance (a Decimal, a Map), so this proves the state is plain
    expect(encodeState(s)).toContain('"createdAt":{"$n":"5"}');
    expect(roundTrip(s)).toEqual(s);
    expect(s.active[0]).toMatchObject({ id: 'o0', notional: '100.00', quantity: '1', filledQty: '0.600', filledNotional: '59.7000', lastFillPrice: '99.5', fillCount: 1, createdAt: 5n });
    expect(s.portfolio.positions.map((p) => [p.symbol, p.quantity, p.mark])).toEqual([
      ['BTC-USDT', '-0.600', null],
      ['SPY', '0', '401.10'],
    ]);
    expect(s.portfolio.fills).toEqual({ ids: ['n-1'], data: ['-0.600 99.5 0.01 USDT BTC-USDT'] });
  });
});

function codeAndMessage(fn: () => void): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof OmsError) return e.message;
    throw e;
  }
  return 'no error';
}

describe('restore refuses a malformed state with RecoveryFailed and changes nothing', () => {
  const clock = new TestClock(0n);
  const setup: Setup = { accountType: 'cash', historyLimit: undefined };
  function sample(): OrderManager {
    const m = build(setup, clock, counter());
    fund(m);
    const a = m.submit(limitOrder('BTC-USDT', 'Buy', '2', '100', 'key-a'));
    m.updateStatus(a, makeOrderStatus('Acknowledged'));
    m.addFill({ orderId: a, fillId: 'fa', price: '100', quantity: '1' });
    const b = m.submit(marketOrder('SPY', 'Buy', '1'));
    m.addFill({ orderId: b, fillId: 'fb', price: '50', quantity: '1' });
    m.portfolio.setMark('BTC-USDT', '101');
    return m;
  }
  type Mutator = (s: OrderManagerState) => void;
  const cases: [string, Mutator, string][] = [
    ['wrong version', (s) => ((s as { version: number }).version = 2), 'state.version: unsupported version 2; expected 1'],
    ['unknown key', (s) => ((s as unknown as Record<string, unknown>).extra = 1), 'state: unknown key "extra"'],
    ['missing key', (s) => delete (s as Partial<OrderManagerState>).fillOrders, 'state: missing key "fillOrders"'],
    ['bad decimal', (s) => ((s.active[0] as { filledQty: string }).filledQty = '1.0.0'), 'state.active[0].filledQty: expected a decimal string, got "1.0.0"'],
    ['number timestamp', (s) => ((s.active[0] as unknown as { createdAt: number }).createdAt = 5), 'state.active[0].createdAt: expected a bigint (epoch ns), got 5'],
    ['terminal order among the active', (s) => ((s.active[0] as { status: { kind: string } }).status.kind = 'Cancelled'), 'state.active[0].status.kind: a terminal status Cancelled in the active orders'],
    ['unknown status', (s) => ((s.history[0] as { status: { kind: string } }).status.kind = 'Done'), 'state.history[0].status.kind: expected one of New'],
    ['duplicate order id', (s) => ((s.history[0] as { id: string }).id = s.active[0]?.id ?? ''), 'state.history[0].id: order o0 appears twice'],
    ['overfilled order', (s) => Object.assign(s.active[0] as object, { filledQty: '3', status: { kind: 'PartiallyFilled', filledQty: '3', avgPrice: '100', reason: null } }), 'state.active[0].filledQty: filled 3 exceeds the order quantity 2'],
    ['fill count mismatch', (s) => ((s.active[0] as { fillCount: number }).fillCount = 2), 'state.fillOrders: order o0 has fillCount 2 but 1 fill ids'],
    ['key not recorded', (s) => s.idempotencyKeys.pop(), 'state.active[0].idempotencyKey: "key-a" is not among state.idempotencyKeys'],
    ['unknown fill', (s) => (s.fillOrders.fillIds[0] = 'zz'), 'state.fillOrders.fillIds[0]: fill "zz" is not among the portfolio\'s applied fills'],
    ['fill of an unknown order', (s) => (s.fillOrders.orderIds[0] = 'nope'), 'state.fillOrders.orderIds[0]: order nope of fill "fa" is unknown'],
    ['ragged fill columns', (s) => s.portfolio.fills.data.pop(), 'state.portfolio.fills.data: expected 2 elements, got 1'],
    ['bad fill data', (s) => (s.portfolio.fills.data[1] = '1 50 0 USD'), 'state.portfolio.fills.data[1]: expected "quantity price fee feeCurrency symbol", got "1 50 0 USD"'],
    ['zero fill price', (s) => (s.portfolio.fills.data[1] = '1 0.0 0 USD SPY'), 'state.portfolio.fills.data[1]: a fill price must be positive, got 0.0'],
    ['other account type', (s) => ((s.portfolio as { accountType: string }).accountType = 'margin'), 'state.portfolio.accountType: state is for a "margin" account but this portfolio is "cash"'],
    ['other instruments', (s) => (s.portfolio.instruments = []), 'state.portfolio.instruments: state has none but this portfolio has AAPL.XNAS (USD)'],
    ['other quote default', (s) => (s.portfolio.defaultQuoteCurrency = 'EUR'), 'state.portfolio.defaultQuoteCurrency: state has "EUR" but this portfolio has "USD"'],
    ['negative cash in a cash account', (s) => ((s.portfolio.cash[0] as [string, string])[1] = '-1'), 'state.portfolio.cash[0][1]: a cash account cannot hold negative USDT: -1'],
    ['bad currency', (s) => ((s.portfolio.cash[0] as [string, string])[0] = 'us d'), 'state.portfolio.cash[0][0]: invalid currency code: "us d"'],
    ['tampered position value', (s) => ((s.portfolio.positions[0] as { value: string }).value = '1'), 'state.portfolio.positions[0].value: 1 is not quantity x mark 101'],
    ['tampered aggregate', (s) => ((s.portfolio.aggregates[0] as [string, string, string])[1] = '7'), 'state.portfolio.aggregates[0][1]: net value 7 of USDT is not the sum of its position values 101'],
    ['short in a cash account', (s) => Object.assign(s.portfolio.positions[0] as object, { quantity: '-1', value: '-101' }), 'state.portfolio.positions[0].quantity: a cash account cannot be short BTC-USDT: -1'],
    ['duplicate fill id', (s) => (s.portfolio.fills.ids[1] = 'fa'), 'state.portfolio.fills.ids[1]: fill id "fa" appears twice'],
    ['not an object', (s) => ((s as unknown as { portfolio: unknown }).portfolio = 'x'), 'state.portfolio: expected an object, got "x"'],
  ];
  for (const [name, mutate, message] of cases) {
    it(name, () => {
      const m = sample();
      const target = sample();
      target.portfolio.setMark('ETH-USDT', '7');
      const before = encodeState(target.snapshot());
      const s = roundTrip(m.snapshot());
      mutate(s);
      const msg = codeAndMessage(() => target.restore(s));
      expect(msg).toContain(`[RecoveryFailed] OrderManager restore: ${message}`);
      expect(encodeState(target.snapshot())).toBe(before);
    });
  }

  it('Portfolio.restore checks on its own and names itself', () => {
    const p = new Portfolio({ accountType: 'margin' });
    p.deposit('USD', '10');
    const s = roundTrip(p.snapshot() as unknown as OrderManagerState) as unknown as PortfolioState;
    const q = new Portfolio({ accountType: 'margin' });
    q.deposit('EUR', '3');
    s.cash.push(['USD', '1']);
    expect(codeAndMessage(() => q.restore(s))).toBe('[RecoveryFailed] Portfolio restore: state.cash[1][0]: currency USD appears twice');
    expect(q.cash).toEqual({ EUR: '3' });
    s.cash.pop();
    q.restore(s);
    expect(q.cash).toEqual({ USD: '10' });
    expect(q.equity('USD').toString()).toBe('10');
    expect(() => q.swapIn(p.checkState(p.snapshot()))).toThrowError('[RecoveryFailed] Portfolio swapIn: the state was not checked by this portfolio');
  });

  it('keeps fill dedupe across a restore, for symbols with spaces too', () => {
    const p = new Portfolio({ accountType: 'margin', defaultQuoteCurrency: 'USD' });
    const fill = { fillId: 'x 1', symbol: 'MY SYM 2', side: 'Sell' as const, price: '12.50', quantity: '3', fee: '0.1' };
    expect(p.applyFill(fill)).toBe(true);
    const q = new Portfolio({ accountType: 'margin', defaultQuoteCurrency: 'USD' });
    q.restore(roundTrip(p.snapshot() as unknown as OrderManagerState) as unknown as PortfolioState);
    expect(q.applyFill(fill)).toBe(false);
    expect(() => q.applyFill({ ...fill, fee: '0.2' })).toThrowError('[Portfolio] fill x 1 was already applied with different data (MY SYM 2|-3|12.50|0.1|USD vs MY SYM 2|-3|12.50|0.2|USD)');
    expect(q.position('MY SYM 2')?.toDict()).toEqual(p.position('MY SYM 2')?.toDict());
    expect(q.cash).toEqual({ USD: '37.40' });
  });
});

/** JSON with bigints as strings: key order and every value count. */
function json(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));
}

const liveSetupArb = fc.record({ accountType: fc.constantFrom<AccountType>('cash', 'margin'), historyLimit: fc.constantFrom(undefined, 0, 1, 3, 256) });

describe('OrderManager liveSnapshot', () => {
  it('equals the engine liveOmsState of snapshot() at every step, byte for byte, with small and large history limits', () => {
    let compared = 0;
    let withDroppedFills = 0;
    let withDroppedKeys = 0;
    fc.assert(
      fc.property(liveSetupArb, fc.array(cmdArb, { minLength: 20, maxLength: 80 }), (setup, cmds) => {
        const clock = new TestClock(1_000_000n);
        const d = new Driver(build(setup, clock, counter()), clock);
        fund(d.m);
        for (const c of cmds) {
          d.step(c);
          const full = d.m.snapshot();
          const want = liveOmsState(full);
          const got = d.m.liveSnapshot();
          // unchanged since: the same frozen object (a checkpoint encoder reuses its bytes)
          expect(d.m.liveSnapshot()).toBe(got);
          expect(Object.isFrozen(got) && Object.isFrozen(got.active) && Object.isFrozen(got.portfolio)).toBe(true);
          expect(json(got)).toBe(json(want));
          expect(encodeState(got)).toBe(encodeState(want));
          compared++;
          if (want.portfolio.fills.ids.length < full.portfolio.fills.ids.length) withDroppedFills++;
          if (want.idempotencyKeys.length < full.idempotencyKeys.length) withDroppedKeys++;
        }
      }),
      { numRuns: 200 },
    );
    // the comparison must have covered states where liveSnapshot leaves fills out
    expect(withDroppedFills).toBeGreaterThan(compared / 10);
    expect(withDroppedKeys).toBeGreaterThan(compared / 20);
  });

  it('restored into a fresh manager, continues exactly as the engine checkpoint (and, with unlimited history, as the uninterrupted run)', () => {
    fc.assert(
      fc.property(liveSetupArb, fc.array(cmdArb, { minLength: 10, maxLength: 80 }), fc.nat(), (setup, cmds, cut) => {
        const k = cut % (cmds.length + 1);
        const clockA = new TestClock(1_000_000n);
        const a = new Driver(build(setup, clockA, counter()), clockA);
        fund(a.m);
        for (const c of cmds) a.step(c);

        const clockB = new TestClock(1_000_000n);
        let issued = 0;
        const idsB = (): string => `o${issued++}`;
        const b = new Driver(build(setup, clockB, idsB), clockB);
        fund(b.m);
        for (const c of cmds.slice(0, k)) b.step(c);
        const live = encodeState(b.m.liveSnapshot());
        const spec = encodeState(liveOmsState(b.m.snapshot()));
        expect(live).toBe(spec);

        // c restores the engine's checkpoint, b restores liveSnapshot(); both continue with the same ids
        const clockC = new TestClock(clockB.now());
        let issuedC = issued;
        const c = new Driver(build(setup, clockC, () => `o${issuedC++}`), clockC);
        c.ids.push(...b.ids);
        c.fills.push(...b.fills);
        c.m.restore(decodeState(spec) as OrderManagerState);
        const restored = build(setup, clockB, idsB);
        restored.restore(decodeState(live) as OrderManagerState);
        b.m = restored;
        expect(encodeState(b.m.liveSnapshot())).toBe(live);
        expect(b.observe()).toBe(c.observe());
        const logFrom = b.log.length;
        for (const cmd of cmds.slice(k)) {
          b.step(cmd);
          c.step(cmd);
          expect(encodeState(b.m.liveSnapshot())).toBe(encodeState(liveOmsState(b.m.snapshot())));
        }
        expect(b.log.slice(logFrom)).toEqual(c.log);
        expect(b.observe()).toBe(c.observe());
        expect(encodeState(b.m.snapshot())).toBe(encodeState(c.m.snapshot()));
        if (setup.historyLimit === undefined) {
          // nothing was dropped, so the checkpoint loses nothing: the continuation is the uninterrupted run's
          expect(b.log.slice(logFrom)).toEqual(a.log.slice(logFrom));
          expect(b.m.snapshotBalance()).toEqual(a.m.snapshotBalance());
          expect(encodeState(b.m.liveSnapshot())).toBe(encodeState(a.m.liveSnapshot()));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('holds only the retained orders\' fills and keys of a long run', () => {
    const clock = new TestClock(0n);
    const m = build({ accountType: 'margin', historyLimit: 3 }, clock, counter());
    m.deposit('USDT', '100000');
    for (let i = 0; i < 2000; i++) {
      const id = m.submit(limitOrder('BTC-USDT', i % 2 === 0 ? 'Buy' : 'Sell', '1', '10', `key${i}`));
      // every third order fills at once, the others in two halves; o1997 keeps its second half open
      m.addFill({ orderId: id, fillId: `a${i}`, price: '10', quantity: i % 3 === 0 ? '1' : '0.5' });
      if (i % 3 !== 0 && i !== 1997) m.addFill({ orderId: id, fillId: `b${i}`, price: '10.5', quantity: '0.5' });
    }
    const s = m.liveSnapshot();
    expect(s.active.map((o) => o.id)).toEqual(['o1997']);
    expect(s.history.map((o) => o.id)).toEqual(['o1996', 'o1998', 'o1999']);
    expect(s.fillOrders).toEqual({ fillIds: ['a1996', 'b1996', 'a1997', 'a1998', 'a1999', 'b1999'], orderIds: ['o1996', 'o1996', 'o1997', 'o1998', 'o1999', 'o1999'] });
    expect(s.portfolio.fills.ids).toEqual(s.fillOrders.fillIds);
    expect(s.portfolio.fills.data[1]).toBe('0.5 10.5 0 USDT BTC-USDT');
    expect(s.portfolio.fills.data[5]).toBe('-0.5 10.5 0 USDT BTC-USDT');
    expect(s.idempotencyKeys).toEqual(['key1996', 'key1997', 'key1998', 'key1999']);
    expect(s.historyCount).toBe(1999);
    expect(m.snapshot().portfolio.fills.ids).toHaveLength(2000 + 1332);
  });
});

describe('an id generator that repeats an id', () => {
  it('is refused with InvalidTransition and leaves the order holding that id (active or in history) untouched', () => {
    const clock = new TestClock(0n);
    const seq = ['x', 'y', 'x', 'y', 'z'];
    const m = new OrderManager({ clock, idGenerator: () => seq.shift() ?? 'none', portfolio: { accountType: 'margin' } });
    m.deposit('USDT', '100');
    expect(m.submit(limitOrder('BTC-USDT', 'Buy', '1', '10', 'k1'))).toBe('x');
    expect(m.submit(limitOrder('BTC-USDT', 'Buy', '2', '10'))).toBe('y');
    m.addFill({ orderId: 'y', fillId: 'fy', price: '10', quantity: '2' });
    const before = encodeState(m.snapshot());
    expect(() => m.submit(limitOrder('ETH-USDT', 'Sell', '5', '1', 'k2'))).toThrowError('[InvalidTransition] id generator returned an id already in use: x');
    expect(() => m.submit(limitOrder('ETH-USDT', 'Sell', '5', '1', 'k3'))).toThrowError('[InvalidTransition] id generator returned an id already in use: y');
    expect(encodeState(m.snapshot())).toBe(before);
    expect(m.getOrder('x')?.order.symbol).toBe('BTC-USDT');
    expect(m.getOrder('y')?.status.kind).toBe('Filled');
    expect(m.activeCount()).toBe(1);
    // the refused orders' keys stay free
    expect(m.submit(limitOrder('ETH-USDT', 'Sell', '5', '1', 'k2'))).toBe('z');
    expect(m.cancel('x').kind).toBe('Cancelled');
  });
});
