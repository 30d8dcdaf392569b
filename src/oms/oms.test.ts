import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Decimal, TestClock } from '../core/index.js';
import { makeInstrument as mkInst } from '../model/index.js';
import {
  ORDER_STATUS_KINDS,
  ORDER_TRANSITIONS,
  OmsError,
  OrderManager,
  Portfolio,
  canTransition,
  extendTransitions,
  isTerminalKind,
  limitOrder,
  makeOrderStatus,
  transition,
  type OrderEventKind,
  type OrderStatusKind,
} from './index.js';


function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof OmsError) return e.code;
    throw e;
  }
  return undefined;
}

const EVENTS: OrderEventKind[] = ['acknowledge', 'partialFill', 'fill', 'cancel', 'reject', 'expire'];

function funded(clock = new TestClock(1n)): OrderManager {
  const m = new OrderManager({ clock });
  m.deposit('USDT', 100_000);
  return m;
}

describe('transition table', () => {
  it('is data: every listed pair resolves, every other pair is InvalidTransition', () => {
    for (const from of ORDER_STATUS_KINDS) {
      for (const ev of EVENTS) {
        const to = ORDER_TRANSITIONS[from][ev];
        if (to === undefined) expect(codeOf(() => transition(from, ev))).toBe('InvalidTransition');
        else expect(transition(from, ev)).toBe(to);
      }
    }
    expect(codeOf(() => transition('Filled', 'partialFill'))).toBe('InvalidTransition');
    expect(transition('Cancelled', 'fill')).toBe('Filled');
    expect(Object.isFrozen(ORDER_TRANSITIONS.New)).toBe(true);
  });

  it('extends without forking', () => {
    const t = extendTransitions<OrderStatusKind, OrderEventKind, 'Submitted', 'submit' | 'accept'>(ORDER_TRANSITIONS, {
      New: { submit: 'Submitted' },
      Submitted: { accept: 'Acknowledged', reject: 'Rejected' },
    });
    expect(transition('New', 'submit', t)).toBe('Submitted');
    expect(transition('Submitted', 'accept', t)).toBe('Acknowledged');
    expect(transition('New', 'acknowledge', t)).toBe('Acknowledged');
    expect(canTransition('Submitted', 'fill', t)).toBe(false);
    expect(ORDER_TRANSITIONS.New).not.toHaveProperty('submit');
  });

  it('property: no random event sequence reaches a state the table does not allow', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...EVENTS), { maxLength: 30 }), (events) => {
        let state: OrderStatusKind = 'New';
        for (const ev of events) {
          const allowed = ORDER_TRANSITIONS[state][ev];
          let next: OrderStatusKind | undefined;
          try {
            next = transition(state, ev);
          } catch (e) {
            expect((e as OmsError).code).toBe('InvalidTransition');
          }
          expect(next).toBe(allowed);
          if (next !== undefined) state = next;
          expect(ORDER_STATUS_KINDS).toContain(state);
        }
      }),
    );
  });

  it('property: random OrderManager operations keep every status reachable by the table', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 25 }), (ops) => {
        const m = funded();
        const id = m.submit(limitOrder('BTC-USDT', 'Buy', 10, 100));
        let state: OrderStatusKind = 'New';
        let n = 0;
        for (const op of ops) {
          const before: OrderStatusKind = state;
          try {
            if (op === 0) m.updateStatus(id, makeOrderStatus('Acknowledged'));
            else if (op === 1) m.cancel(id);
            else if (op === 2) m.updateStatus(id, makeOrderStatus('Rejected', { reason: 'x' }));
            else if (op === 3) m.updateStatus(id, makeOrderStatus('Expired'));
            else if (op === 4) m.addFill({ orderId: id, fillId: `f${n++}`, price: 100, quantity: 3 });
            else m.addFill({ orderId: id, fillId: `f${n++}`, price: 100, quantity: 10 });
          } catch (e) {
            expect(['InvalidTransition', 'AlreadyTerminal']).toContain((e as OmsError).code);
          }
          state = (m.getOrder(id)?.status.kind ?? 'New') as OrderStatusKind;
          if (state !== before) expect(Object.values(ORDER_TRANSITIONS[before])).toContain(state);
          expect(m.getOrderStatus(id) === undefined).toBe(isTerminalKind(state));
        }
      }),
    );
  });
});

describe('OrderManager', () => {
  it('applies a fill that arrives after a cancel, and the status follows', () => {
    const m = funded();
    const a = m.submit(limitOrder('BTC-USDT', 'Buy', 1, 100));
    m.updateStatus(a, makeOrderStatus('Acknowledged'));
    m.addFill({ orderId: a, fillId: 'a1', price: 100, quantity: '0.25' });
    m.cancel(a, 'user');
    expect(m.addFill({ orderId: a, fillId: 'a2', price: 100, quantity: '0.25' })).toBe(true);
    expect(m.getOrder(a)?.status.toDict()).toEqual({ kind: 'Cancelled', filledQty: '0.50', avgPrice: '100', reason: 'user' });
    expect(m.addFill({ orderId: a, fillId: 'a3', price: 100, quantity: '0.50' })).toBe(true);
    expect(m.getOrder(a)?.status.kind).toBe('Filled');
    expect(m.snapshotPositions()['BTC-USDT']?.quantity).toBe('1.00');
  });

  it('dedupes fills by id: a replay is a no-op, a conflicting replay is refused', () => {
    const m = funded();
    const a = m.submit(limitOrder('BTC-USDT', 'Buy', 1, 100));
    const b = m.submit(limitOrder('BTC-USDT', 'Buy', 1, 100));
    expect(m.addFill({ orderId: a, fillId: 'x', price: 100, quantity: '0.5' })).toBe(true);
    const before = JSON.stringify(m.toDict());
    expect(m.addFill({ orderId: a, fillId: 'x', price: 100, quantity: '0.5' })).toBe(false);
    expect(JSON.stringify(m.toDict())).toBe(before);
    expect(codeOf(() => m.addFill({ orderId: a, fillId: 'x', price: 101, quantity: '0.5' }))).toBe('Portfolio');
    expect(codeOf(() => m.addFill({ orderId: b, fillId: 'x', price: 100, quantity: '0.5' }))).toBe('Portfolio');
    expect(JSON.stringify(m.toDict())).toBe(before);
  });

  it('leaves the order unchanged when the portfolio refuses the fill', () => {
    const m = new OrderManager({ clock: new TestClock(0n) });
    m.deposit('USDT', 50);
    const a = m.submit(limitOrder('BTC-USDT', 'Buy', 1, 100));
    const before = JSON.stringify(m.toDict());
    expect(codeOf(() => m.addFill({ orderId: a, fillId: 'f', price: 100, quantity: 1 }))).toBe('Portfolio');
    expect(JSON.stringify(m.toDict())).toBe(before);
    expect(m.getOrderStatus(a)?.kind).toBe('New');
    // the refused id was not recorded: a corrected fill with that id applies
    m.deposit('USDT', 50);
    expect(m.addFill({ orderId: a, fillId: 'f', price: 100, quantity: 1 })).toBe(true);
  });

  it('raises every OMS error code it uses', () => {
    const m = funded();
    const a = m.submit(limitOrder('BTC-USDT', 'Buy', 1, 100, 'k'));
    expect(codeOf(() => m.cancel('nope'))).toBe('OrderNotFound');
    expect(codeOf(() => m.updateStatus('nope', makeOrderStatus('Acknowledged')))).toBe('OrderNotFound');
    expect(codeOf(() => m.addFill({ orderId: 'nope', fillId: 'z', price: 1, quantity: 1 }))).toBe('OrderNotFound');
    expect(codeOf(() => m.submit(limitOrder('BTC-USDT', 'Buy', 1, 100, 'k')))).toBe('DuplicateIdempotencyKey');
    expect(codeOf(() => m.batchSubmit([limitOrder('A-B', 'Buy', 1, 1, 'q'), limitOrder('A-B', 'Buy', 1, 1, 'q')]))).toBe(
      'DuplicateIdempotencyKey',
    );
    expect(m.activeCount()).toBe(1);
    expect(codeOf(() => m.updateStatus(a, makeOrderStatus('New')))).toBe('InvalidTransition');
    expect(codeOf(() => m.updateStatus(a, makeOrderStatus('PartiallyFilled', { filledQty: 1, avgPrice: 1 })))).toBe('InvalidTransition');
    expect(codeOf(() => m.addFill({ orderId: a, fillId: 'o', price: 100, quantity: 2 }))).toBe('InvalidTransition');
    m.addFill({ orderId: a, fillId: 'p', price: 100, quantity: '0.5' });
    expect(codeOf(() => m.updateStatus(a, makeOrderStatus('Rejected')))).toBe('InvalidTransition');
    m.addFill({ orderId: a, fillId: 'q', price: 100, quantity: '0.5' });
    expect(codeOf(() => m.cancel(a))).toBe('AlreadyTerminal');
    expect(codeOf(() => m.updateStatus(a, makeOrderStatus('Acknowledged')))).toBe('AlreadyTerminal');
    expect(codeOf(() => m.addFill({ orderId: a, fillId: 'r', price: 100, quantity: '0.1' }))).toBe('AlreadyTerminal');
    expect(codeOf(() => limitOrder('BTC-USDT', 'Buy', '1.x', 1))).toBe('SerializationError');
    expect(codeOf(() => limitOrder('BTC-USDT', 'Hold', 1, 1))).toBe('SerializationError');
    expect(codeOf(() => limitOrder('BTC-USDT', 'Buy', 0, 1))).toBe('SerializationError');
    expect(codeOf(() => limitOrder('BTC-USDT', 'Buy', 0.5, 1))).toBe('SerializationError');
    expect(codeOf(() => makeOrderStatus('Done'))).toBe('SerializationError');
    expect(codeOf(() => makeOrderStatus('PartiallyFilled'))).toBe('SerializationError');
    expect(codeOf(() => m.deposit('USDT', -1))).toBe('Portfolio');
    expect(new OmsError('NetworkError', 'x').message).toBe('[NetworkError] x');
  });
});

describe('Portfolio', () => {
  it('cash account refuses negative cash and shorts; margin allows both', () => {
    const cash = new Portfolio({ clock: new TestClock(0n) });
    cash.deposit('USD', 100);
    expect(codeOf(() => cash.applyFill({ symbol: 'AAPL-USD', side: 'Sell', price: 10, quantity: 1 }))).toBe('Portfolio');
    expect(codeOf(() => cash.applyFill({ symbol: 'AAPL-USD', price: 10, quantity: 10, fee: '0.01' }))).toBe('Portfolio');
    expect(cash.toDict()).toEqual({ cash: { USD: '100' }, positions: {}, positionCount: 0 });
    const margin = new Portfolio({ accountType: 'margin', clock: new TestClock(0n) });
    margin.applyFill({ symbol: 'AAPL-USD', side: 'Sell', price: '10.5', quantity: 2 });
    expect(margin.cash.USD).toBe('21.0');
    expect(margin.positions['AAPL-USD']?.quantity).toBe('-2');
    margin.applyFill({ symbol: 'AAPL-USD', side: 'Buy', price: '9.5', quantity: 3 });
    expect(margin.positions['AAPL-USD']?.quantity).toBe('1');
    expect(margin.positions['AAPL-USD']?.avgPrice).toBe('9.5');
    expect(margin.realizedPnl('AAPL-USD').toString()).toBe('2.0');
    expect(margin.cash.USD).toBe('-7.5');
  });

  it('resolves symbols without a dash from instruments or defaultQuoteCurrency', () => {
    const spy = mkInst({ id: 'SPY.XNYS', tickSize: '0.01', lotSize: '1', baseCurrency: 'SPY', quoteCurrency: 'USD' });
    const p = new Portfolio({ instruments: [spy], clock: new TestClock(0n) });
    expect(p.quoteCurrency('SPY')).toBe('USD');
    expect(p.quoteCurrency('BTC-USDT')).toBe('USDT');
    expect(codeOf(() => p.quoteCurrency('QQQ'))).toBe('Portfolio');
    expect(new Portfolio({ defaultQuoteCurrency: 'EUR' }).quoteCurrency('SAP')).toBe('EUR');
    p.deposit('USD', 1000);
    p.applyFill({ symbol: 'SPY', side: 'Buy', price: '400.25', quantity: 2, fee: '1' });
    expect(p.cash.USD).toBe('198.50');
    p.setMark('SPY', '410.00');
    expect(p.positionValue('SPY').toString()).toBe('820.00');
    expect(p.unrealizedPnl('SPY').toString()).toBe('19.50');
    expect(p.equity('USD').toString()).toBe('1018.50');
    expect(p.grossExposure('USD').toString()).toBe('820.00');
    expect(p.equity('USD', { SPY: '390' }).toString()).toBe('978.50');
    expect(p.unrealizedPnl('SPY', { SPY: '390' }).toString()).toBe('-20.50');
  });

  it('property: cash changes equal minus fill notionals minus fees; realized PnL closes the books exactly', () => {
    const fillArb = fc.record({
      buy: fc.boolean(),
      qty: fc.integer({ min: 1, max: 5000 }),
      px: fc.integer({ min: 1, max: 2_000_000 }),
      fee: fc.integer({ min: 0, max: 500 }),
      sym: fc.constantFrom('BTC-USDT', 'ETH-USDT'),
    });
    fc.assert(
      fc.property(fc.array(fillArb, { maxLength: 40 }), (fills) => {
        const p = new Portfolio({ accountType: 'margin', clock: new TestClock(0n) });
        let notional = Decimal.ZERO;
        let fees = Decimal.ZERO;
        const qty: Record<string, Decimal> = {};
        for (const f of fills) {
          const q = Decimal.fromRaw(BigInt(f.qty), 3);
          const px = Decimal.fromRaw(BigInt(f.px), 2);
          const fee = Decimal.fromRaw(BigInt(f.fee), 4);
          p.applyFill({ symbol: f.sym, side: f.buy ? 'Buy' : 'Sell', price: px, quantity: q, fee });
          const signed = f.buy ? q : q.neg();
          notional = notional.add(signed.mul(px));
          fees = fees.add(fee);
          qty[f.sym] = (qty[f.sym] ?? Decimal.ZERO).add(signed);
        }
        const cash = p.cashBalance('USDT');
        expect(cash.eq(notional.neg().sub(fees))).toBe(true);
        let realized = Decimal.ZERO;
        let basis = Decimal.ZERO;
        for (const s of ['BTC-USDT', 'ETH-USDT']) {
          expect(p.positionQuantity(s).eq(qty[s] ?? Decimal.ZERO)).toBe(true);
          realized = realized.add(p.realizedPnl(s));
          basis = basis.add(p.costBasis(s));
        }
        // cash moved by fills = realized PnL - open cost basis, with no rounding residue
        expect(cash.add(fees).eq(realized.sub(basis))).toBe(true);
        expect(p.equity('USDT').eq(cash.add(basis))).toBe(true);
      }),
    );
  });

  it('property: fill dedupe is idempotent', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ id: fc.integer({ min: 0, max: 8 }), qty: fc.integer({ min: 1, max: 9 }) }), { maxLength: 30 }),
        (fills) => {
          const a = new Portfolio({ accountType: 'margin', clock: new TestClock(0n) });
          const b = new Portfolio({ accountType: 'margin', clock: new TestClock(0n) });
          const first = new Map<number, number>();
          for (const f of fills) if (!first.has(f.id)) first.set(f.id, f.qty);
          for (const f of fills) {
            const qty = first.get(f.id) ?? 0;
            a.applyFill({ fillId: `f${f.id}`, symbol: 'X-USD', side: 'Buy', price: 7, quantity: qty });
            a.applyFill({ fillId: `f${f.id}`, symbol: 'X-USD', side: 'Buy', price: 7, quantity: qty });
          }
          for (const [id, qty] of first) b.applyFill({ fillId: `f${id}`, symbol: 'X-USD', side: 'Buy', price: 7, quantity: qty });
          expect(a.toDict()).toEqual(b.toDict());
        },
      ),
    );
  });
});
