// execution: the engine's order state table (OrderTracker) against the OMS's bare table lookup, and a
// whole entry escalation (limit, 2 s timeout, cancel, reprice, fill) against the tracker transitions
// it makes, so the escalator's own cost is visible
import { TestClock } from '../../src/core/clock.js';
import { Price, Quantity } from '../../src/core/decimal.js';
import { clientOrderId, type ClientOrderId, type TradeId, type VenueOrderId } from '../../src/core/ids.js';
import { Money } from '../../src/core/money.js';
import type { VenueEvent } from '../../src/model/order.js';
import { transition, type OrderEventKind } from '../../src/oms/transitions.js';
import type { OrderStatusKind } from '../../src/oms/status.js';
import { EntryEscalator, OrderTracker, type EngineOrderEvent, type OrderPort } from '../../src/execution/index.js';
import type { BenchResult, BenchSuite } from '../harness.js';
import { pair } from '../harness.js';

const N = 20_000;
const ids: ClientOrderId[] = Array.from({ length: N }, (_, i) => clientOrderId(`B${i}`));
const cause = { source: 'bench' };
const LIFE: EngineOrderEvent[] = ['submit', 'ack', 'partialFill', 'fill'];
const OMS_LIFE: OrderEventKind[] = ['acknowledge', 'partialFill', 'fill'];

function trackerLifecycles(): number {
  let n = 0;
  const t = new OrderTracker(() => {
    n++;
  });
  for (const id of ids) {
    t.open(id);
    for (const e of LIFE) t.apply(id, e, { reason: e, tsNs: 0n, cause });
  }
  return n;
}

function omsLookups(): number {
  const states = new Map<string, OrderStatusKind>();
  let n = 0;
  for (const id of ids) {
    let s: OrderStatusKind = 'New';
    for (const e of OMS_LIFE) {
      s = transition(s, e);
      n++;
    }
    states.set(id, s);
  }
  return n + states.size;
}

function fill(id: ClientOrderId, t: number): VenueEvent {
  return {
    kind: 'filled',
    clientOrderId: id,
    venueOrderId: 'V' as VenueOrderId,
    tradeId: `T${t}` as TradeId,
    symbol: 'X',
    side: 'Buy',
    lastQty: Quantity.of('10'),
    lastPx: Price.of('100.25'),
    commission: Money.of('0', 'USD'),
    liquiditySide: 'Maker',
    leavesQty: Quantity.of('0'),
    tsEvent: 0n,
    tsInit: 0n,
  };
}

const M = 2_000;

function escalations(): number {
  const clock = new TestClock(0n);
  const tracker = new OrderTracker();
  let seq = 0;
  let done = 0;
  let esc: EntryEscalator | undefined;
  const port: OrderPort = {
    send: () => clientOrderId(`E${++seq}`),
    cancel: (id) => {
      (esc as EntryEscalator).onEvent({ kind: 'canceled', clientOrderId: id, venueOrderId: undefined, reason: 'ok', tsEvent: 0n, tsInit: 0n });
    },
    lastTrade: () => Price.of('100.50'),
  };
  for (let i = 0; i < M; i++) {
    esc = new EntryEscalator(
      { symbol: 'X', side: 'Buy', quantity: Quantity.of('10'), fairPrice: Price.of('100.004'), tickSize: Price.of('0.01') },
      { clock, port, tracker, callbacks: { onDone: () => done++ } },
    );
    const first = esc.start();
    esc.onEvent({ kind: 'accepted', clientOrderId: first, venueOrderId: 'V' as VenueOrderId, tsEvent: 0n, tsInit: 0n });
    clock.advance(2_000_000_000n);
    const second = esc.orderIds[1] as ClientOrderId;
    esc.onEvent({ kind: 'accepted', clientOrderId: second, venueOrderId: 'V' as VenueOrderId, tsEvent: 0n, tsInit: 0n });
    esc.onEvent(fill(second, i));
  }
  if (done !== M) throw new Error(`expected ${M} filled escalations, got ${done}`);
  return done;
}

// the same 7 transitions per entry that an escalation makes, straight through the tracker
const ENTRY_PATH: [number, EngineOrderEvent][] = [
  [0, 'submit'],
  [0, 'ack'],
  [0, 'reprice'],
  [0, 'canceled'],
  [1, 'submit'],
  [1, 'ack'],
  [1, 'fill'],
];

function trackerOnly(): number {
  const tracker = new OrderTracker();
  let seq = 0;
  for (let i = 0; i < M; i++) {
    const a = clientOrderId(`E${++seq}`);
    const b = clientOrderId(`E${++seq}`);
    tracker.open(a);
    tracker.open(b);
    for (const [k, e] of ENTRY_PATH) tracker.apply(k === 0 ? a : b, e, { reason: e, tsNs: 0n, cause });
  }
  return seq;
}

const suite: BenchSuite = {
  name: 'escalation',
  run(): BenchResult[] {
    const table = pair(trackerLifecycles, omsLookups, N, 9, 2);
    const esc = pair(escalations, trackerOnly, M, 9, 2);
    return [
      {
        name: 'OrderTracker: order lifecycles (open, submit, ack, partialFill, fill with audit callback)',
        unit: 'orders/s',
        median: table.subject,
        runs: 9,
        peer: 'OMS transition() lookups for the same lifecycle (no tracking, no callback)',
        peerMedian: table.peer,
        ratio: table.ratio,
        note: `${N} orders per run`,
      },
      {
        name: 'EntryEscalator: entries limit -> 2 s timeout -> cancel -> reprice -> fill',
        unit: 'entries/s',
        median: esc.subject,
        runs: 9,
        peer: 'the same 7 tracker transitions per entry without the escalator',
        peerMedian: esc.peer,
        ratio: esc.ratio,
        note: `${M} entries per run on a TestClock; decimals, timers and the port included`,
      },
    ];
  },
};

export default suite;
