import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AxonError } from '../core/errors.js';
import { clientOrderId } from '../core/ids.js';
import { Price, Quantity } from '../core/decimal.js';
import { Money } from '../core/money.js';
import type { TradeId, VenueOrderId } from '../core/ids.js';
import { ORDER_TRANSITIONS, type OrderEventKind } from '../oms/transitions.js';
import {
  causeOfVenueEvent,
  ENGINE_ORDER_EVENTS,
  ENGINE_ORDER_STATES,
  ENGINE_ORDER_TRANSITIONS,
  engineEventOf,
  ExecutionError,
  isTerminalEngineState,
  nextEngineState,
  omsStatusKind,
  OrderTracker,
  type EngineOrderEvent,
  type EngineOrderState,
  type OrderTransition,
} from './order-states.js';

const id = clientOrderId('O1');
const at = (tsNs: bigint, reason = 'test') => ({ reason, tsNs, cause: { source: 'test' } });

function pairs(): [EngineOrderState, EngineOrderEvent, EngineOrderState][] {
  const out: [EngineOrderState, EngineOrderEvent, EngineOrderState][] = [];
  for (const from of ENGINE_ORDER_STATES) {
    for (const event of ENGINE_ORDER_EVENTS) {
      const to = ENGINE_ORDER_TRANSITIONS[from][event];
      if (to !== undefined) out.push([from, event, to]);
    }
  }
  return out;
}

describe('engine order transition table', () => {
  it('has a row for every state, and every target is a state', () => {
    expect(Object.keys(ENGINE_ORDER_TRANSITIONS).sort()).toEqual([...ENGINE_ORDER_STATES].sort());
    for (const [, event, to] of pairs()) {
      expect(ENGINE_ORDER_STATES).toContain(to);
      expect(ENGINE_ORDER_EVENTS).toContain(event);
    }
    expect(Object.isFrozen(ENGINE_ORDER_TRANSITIONS)).toBe(true);
    expect(Object.isFrozen(ENGINE_ORDER_TRANSITIONS.ACCEPTED)).toBe(true);
  });

  it('walks the seed lifecycle: limit, reprice, market', () => {
    const walk = (s: EngineOrderState, ...events: EngineOrderEvent[]) => events.reduce((st, e) => nextEngineState(st, e), s);
    expect(walk('PENDING', 'submit', 'ack', 'fill')).toBe('FILLED');
    expect(walk('PENDING', 'submit', 'ack', 'partialFill', 'partialFill', 'fill')).toBe('FILLED');
    expect(walk('PENDING', 'submit', 'ack', 'reprice', 'canceled')).toBe('CANCELED');
    expect(walk('PENDING', 'submit', 'ack', 'escalate', 'partialFill', 'canceled')).toBe('CANCELED');
    expect(walk('PENDING', 'submit', 'reject')).toBe('REJECTED');
  });

  it('lists the real-world oddities', () => {
    // a fill after the cancel was confirmed: the venue's fill stands
    expect(nextEngineState('CANCELED', 'fill')).toBe('FILLED');
    expect(nextEngineState('CANCELED', 'partialFill')).toBe('CANCELED');
    // fills while a reprice/escalation cancel is in flight are honoured
    expect(nextEngineState('REPRICING', 'partialFill')).toBe('REPRICING');
    expect(nextEngineState('ESCALATING', 'fill')).toBe('FILLED');
    // ack after the fill; a cancel refused because the order filled
    expect(nextEngineState('FILLED', 'ack')).toBe('FILLED');
    expect(nextEngineState('PARTIALLY_FILLED', 'ack')).toBe('PARTIALLY_FILLED');
    expect(nextEngineState('FILLED', 'cancelReject')).toBe('FILLED');
    // unknown outcome: stays SUBMITTED, never REJECTED
    expect(nextEngineState('SUBMITTED', 'timeout')).toBe('SUBMITTED');
    for (const s of ENGINE_ORDER_STATES) {
      const to = ENGINE_ORDER_TRANSITIONS[s].timeout;
      if (to !== undefined) expect(to).toBe(s);
    }
  });

  it('refuses every pair it does not list, with a stable code naming the order', () => {
    expect(() => nextEngineState('FILLED', 'partialFill', 'O9')).toThrowError(ExecutionError);
    try {
      nextEngineState('FILLED', 'partialFill', 'O9');
    } catch (e) {
      expect(e).toBeInstanceOf(AxonError);
      expect((e as ExecutionError).code).toBe('InvalidTransition');
      expect((e as ExecutionError).message).toBe('[InvalidTransition] order O9 in state FILLED cannot take event partialFill');
    }
    for (const e of ENGINE_ORDER_EVENTS) expect(() => nextEngineState('REJECTED', e)).toThrow(/InvalidTransition/);
    expect(() => nextEngineState('PENDING', 'fill')).toThrow(/InvalidTransition/);
    expect(() => nextEngineState('FILLED', 'canceled')).toThrow(/InvalidTransition/);
    expect(() => nextEngineState('REPRICING', 'reprice')).toThrow(/InvalidTransition/);
    expect(() => nextEngineState('ACCEPTED', 'submit')).toThrow(/InvalidTransition/);
    let refused = 0;
    for (const from of ENGINE_ORDER_STATES) {
      for (const event of ENGINE_ORDER_EVENTS) {
        if (ENGINE_ORDER_TRANSITIONS[from][event] === undefined) {
          expect(() => nextEngineState(from, event)).toThrow(ExecutionError);
          refused++;
        }
      }
    }
    expect(refused).toBeGreaterThan(40);
  });

  it('moves like the OMS table on every venue answer (mapped through omsStatusKind)', () => {
    const omsEvent: Partial<Record<EngineOrderEvent, OrderEventKind>> = {
      ack: 'acknowledge',
      partialFill: 'partialFill',
      fill: 'fill',
      canceled: 'cancel',
      reject: 'reject',
      expire: 'expire',
    };
    let checked = 0;
    for (const [from, event, to] of pairs()) {
      // an order never sent is cancelled by the request itself
      const oe = from === 'PENDING' && event === 'cancel' ? 'cancel' : omsEvent[event];
      for (const [hadFills, acked] of [
        [false, false],
        [false, true],
        [true, false],
        [true, true],
      ] as const) {
        if (hadFills && (from === 'PENDING' || from === 'SUBMITTED' || from === 'ACCEPTED')) continue;
        if (acked && (from === 'PENDING' || from === 'SUBMITTED')) continue;
        if (!acked && from === 'ACCEPTED') continue;
        if (!hadFills && from === 'PARTIALLY_FILLED') continue;
        // a venue rejects an order before it works, never one it has filled
        if (hadFills && event === 'reject') continue;
        const hasFills = hadFills || event === 'partialFill' || event === 'fill';
        const a = omsStatusKind(from, { hasFills: hadFills, acknowledged: acked });
        const b = omsStatusKind(to, { hasFills, acknowledged: acked || event === 'ack' });
        if (oe === undefined) {
          // local requests never change what the venue-side status is
          expect([from, event, a]).toEqual([from, event, b]);
          continue;
        }
        const omsTo = ORDER_TRANSITIONS[a][oe];
        // an answer the OMS does not list (late ack, repeated confirmation) must leave the kind alone
        if (omsTo === undefined) expect([from, event, a]).toEqual([from, event, b]);
        else expect([from, event, hadFills, acked, omsTo]).toEqual([from, event, hadFills, acked, b]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(40);
  });

  it('never leaves a terminal state except to FILLED by a late fill', () => {
    for (const [from, event, to] of pairs()) {
      if (!isTerminalEngineState(from) || from === to) continue;
      expect([from, event, to]).toEqual([from, 'fill', 'FILLED']);
    }
  });

  it('maps venue events onto engine events and audit causes', () => {
    const filled = {
      kind: 'filled' as const,
      clientOrderId: id,
      venueOrderId: 'V1' as VenueOrderId,
      tradeId: 'T1' as TradeId,
      symbol: 'AAPL',
      side: 'Buy' as const,
      lastQty: Quantity.of('4'),
      lastPx: Price.of('100.25'),
      commission: Money.of('0', 'USD'),
      liquiditySide: 'Maker' as const,
      leavesQty: Quantity.of('6'),
      tsEvent: 5n,
      tsInit: 5n,
    };
    expect(engineEventOf(filled)).toBe('partialFill');
    expect(engineEventOf({ ...filled, leavesQty: Quantity.of('0') })).toBe('fill');
    expect(causeOfVenueEvent(filled)).toEqual({ source: 'venue', kind: 'filled', tsEvent: '5', venueOrderId: 'V1', tradeId: 'T1', lastQty: '4', lastPx: '100.25', leavesQty: '6' });
    expect(engineEventOf({ kind: 'cancel-rejected', clientOrderId: id, reason: 'x', tsEvent: 1n, tsInit: 1n })).toBe('cancelReject');
    expect(engineEventOf({ kind: 'position-changed', symbol: 'AAPL', signedQty: '1', tsEvent: 1n, tsInit: 1n })).toBeUndefined();
  });
});

describe('OrderTracker', () => {
  it('reports every transition with from, to, event, reason, time and cause', () => {
    const seen: OrderTransition[] = [];
    const t = new OrderTracker((x) => seen.push(x));
    t.open(id);
    expect(t.state(id)).toBe('PENDING');
    t.apply(id, 'submit', at(1n, 'entry'));
    t.apply(id, 'ack', at(2n));
    t.apply(id, 'cancel', at(3n, 'give up'));
    expect(t.apply(id, 'fill', at(4n))).toBe('FILLED');
    expect(seen.map((x) => [x.from, x.event, x.to, x.tsNs])).toEqual([
      ['PENDING', 'submit', 'SUBMITTED', 1n],
      ['SUBMITTED', 'ack', 'ACCEPTED', 2n],
      ['ACCEPTED', 'cancel', 'ACCEPTED', 3n],
      ['ACCEPTED', 'fill', 'FILLED', 4n],
    ]);
    expect(seen[0]).toMatchObject({ clientOrderId: 'O1', reason: 'entry', cause: { source: 'test' } });
  });

  it('refuses unlisted transitions and unknown orders without changing state or reporting', () => {
    const seen: OrderTransition[] = [];
    const t = new OrderTracker((x) => seen.push(x));
    t.open(id);
    t.apply(id, 'submit', at(1n));
    expect(() => t.apply(id, 'submit', at(2n))).toThrow(/\[InvalidTransition\] order O1 in state SUBMITTED cannot take event submit/);
    expect(t.state(id)).toBe('SUBMITTED');
    expect(seen).toHaveLength(1);
    expect(() => t.apply(clientOrderId('nope'), 'ack', at(2n))).toThrow(/\[UnknownOrder\]/);
    expect(() => t.open(id)).toThrow(/\[DuplicateOrder\]/);
  });

  it('keeps the state when the audit callback throws', () => {
    const t = new OrderTracker(() => {
      throw new Error('disk full');
    });
    t.open(id);
    expect(() => t.apply(id, 'submit', at(1n))).toThrow('disk full');
    expect(t.state(id)).toBe('PENDING');
  });

  it('snapshots and restores all or nothing; forgets only terminal orders', () => {
    const t = new OrderTracker();
    t.open(clientOrderId('B'));
    t.open(clientOrderId('A'));
    t.apply(clientOrderId('A'), 'submit', at(1n));
    const snap = t.snapshot();
    expect(snap).toEqual({ A: 'SUBMITTED', B: 'PENDING' });
    expect(Object.keys(snap)).toEqual(['A', 'B']);
    const u = new OrderTracker();
    u.restore(JSON.parse(JSON.stringify(snap)) as typeof snap);
    expect(u.snapshot()).toEqual(snap);
    expect(() => u.restore({ A: 'SUBMITTED', C: 'DONE' } as never)).toThrow(/\[InvalidSnapshot\].*C.*"DONE"/);
    expect(u.snapshot()).toEqual(snap);
    expect(() => u.forget(clientOrderId('A'))).toThrow(/\[InvalidState\]/);
    // the same frozen object until a state changes (a checkpoint stores it once), a new one after each change
    const same = u.snapshot();
    expect(u.snapshot()).toBe(same);
    expect(Object.isFrozen(same)).toBe(true);
    u.apply(clientOrderId('A'), 'reject', at(2n));
    const rejected = u.snapshot();
    expect(rejected).not.toBe(same);
    expect(rejected).toEqual({ A: 'REJECTED', B: 'PENDING' });
    u.forget(clientOrderId('A'));
    expect(u.snapshot()).toEqual({ B: 'PENDING' });
    u.open(clientOrderId('C'));
    expect(u.snapshot()).toEqual({ B: 'PENDING', C: 'PENDING' });
    u.restore({ A: 'SUBMITTED' } as never);
    expect(u.snapshot()).toEqual({ A: 'SUBMITTED' });
    u.restore({ A: 'SUBMITTED', B: 'PENDING' } as never);
    expect(u.has(clientOrderId('A'))).toBe(true);
    u.apply(clientOrderId('A'), 'reject', at(2n));
    u.forget(clientOrderId('A'));
    expect(u.has(clientOrderId('A'))).toBe(false);
    expect(u.size).toBe(1);
  });

  it('property: random event sequences only ever visit listed transitions', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...ENGINE_ORDER_EVENTS), { maxLength: 40 }), (events) => {
        const seen: OrderTransition[] = [];
        const t = new OrderTracker((x) => seen.push(x));
        t.open(id);
        for (const [i, e] of events.entries()) {
          const before = t.state(id) as EngineOrderState;
          const listed = ENGINE_ORDER_TRANSITIONS[before][e];
          if (listed === undefined) {
            expect(() => t.apply(id, e, at(BigInt(i)))).toThrow(ExecutionError);
            expect(t.state(id)).toBe(before);
          } else {
            expect(t.apply(id, e, at(BigInt(i)))).toBe(listed);
          }
        }
        for (const x of seen) expect(ENGINE_ORDER_TRANSITIONS[x.from][x.event]).toBe(x.to);
      }),
      { numRuns: 300 },
    );
  });
});
