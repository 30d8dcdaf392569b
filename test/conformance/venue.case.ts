import { describe, expect, it } from 'vitest';
import { Price, Quantity } from '../../src/core/decimal.js';
import { clientOrderId, type ClientOrderId } from '../../src/core/ids.js';
import { Money } from '../../src/core/money.js';
import type { OrderFilled, OrderRequest, VenueEvent } from '../../src/model/order.js';
import type { Venue } from '../../src/venues/venue.js';

/** One bar the suite asks the harness to show the venue; decimal strings. */
export interface DriveBar {
  readonly open: string;
  readonly high: string;
  readonly low: string;
  readonly close: string;
  readonly volume?: string;
}

/**
 * What a venue's test file gives the conformance suite. The venue must be fresh (no orders, flat), trade
 * `symbol` with tick 0.01 and lot 1 quoted in `currency`, hold at least 1,000,000 of it, charge any
 * commission it likes (the suite reads it from fill events), and fill market orders on the next bar it
 * is shown (inside that bar's range) and limit orders on a bar that trades through the limit.
 */
export interface VenueUnderTest {
  readonly venue: Venue;
  readonly symbol: string;
  readonly currency: string;
  /** Starting cash in `currency`, exact decimal string. */
  readonly startingCash: string;
  /** Shows the venue one bar (the simulated venue: onBar; a paper server: its replay) and resolves once it is processed. */
  readonly drive?: (bar: DriveBar) => Promise<void>;
  readonly teardown?: () => Promise<void>;
}

interface Ctx {
  readonly t: VenueUnderTest;
  readonly events: VenueEvent[];
}

/** Polls `check` until it stops throwing (venues that deliver events asynchronously), up to 5 s. */
async function eventually(check: () => void | Promise<void>): Promise<void> {
  const deadline = performance.now() + 5_000;
  for (;;) {
    try {
      await check();
      return;
    } catch (e) {
      if (performance.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

function order(t: VenueUnderTest, id: string, fields: Partial<OrderRequest> & Pick<OrderRequest, 'side' | 'type'>): OrderRequest {
  return {
    clientOrderId: clientOrderId(id),
    symbol: t.symbol,
    quantity: Quantity.of('10'),
    timeInForce: 'GTC',
    tsInit: 0n,
    ...fields,
  };
}

const bar = (open: string, high: string, low: string, close: string): DriveBar => ({ open, high, low, close, volume: '1000000' });

function ofOrder(events: readonly VenueEvent[], id: string): VenueEvent[] {
  return events.filter((e) => 'clientOrderId' in e && e.clientOrderId === id);
}

function fillsOf(events: readonly VenueEvent[], id: string): OrderFilled[] {
  return ofOrder(events, id).filter((e): e is OrderFilled => e.kind === 'filled');
}

function filledQty(events: readonly VenueEvent[], id: string): bigint {
  return fillsOf(events, id).reduce((s, f) => s + Quantity.of(f.lastQty).round(8).raw, 0n);
}

async function positionOf(venue: Venue, symbol: string): Promise<string> {
  const p = (await venue.positionReports()).find((r) => r.symbol === symbol);
  return p === undefined ? '0' : Price.of(p.signedQty).normalize().toString();
}

/** Checks that fills of one order are consistent: leavesQty falls by lastQty each time, to the ordered quantity. */
function expectConsistentFills(events: readonly VenueEvent[], id: string, quantity: string): void {
  const fills = fillsOf(events, id);
  expect(fills.length).toBeGreaterThan(0);
  let leaves = Quantity.of(quantity);
  for (const f of fills) {
    leaves = leaves.sub(f.lastQty);
    expect(f.leavesQty.eq(leaves)).toBe(true);
    expect(f.lastQty.isPositive()).toBe(true);
  }
  expect(leaves.isZero()).toBe(true);
}

/**
 * Registers the vitest tests every Venue must pass (DESIGN.md: one conformance suite for all venues).
 * Tests that need market data are skipped when the harness has no `drive`; bracket tests run only
 * where `capabilities.brackets`, modify tests only where `capabilities.modify`.
 */
export function venueConformance(name: string, makeVenue: () => Promise<VenueUnderTest>): void {
  async function withVenue(fn: (c: Ctx) => Promise<void>): Promise<void> {
    const t = await makeVenue();
    const events: VenueEvent[] = [];
    const off = t.venue.onEvent((e) => events.push(e));
    await t.venue.connect();
    try {
      await fn({ t, events });
    } finally {
      off();
      await t.venue.disconnect();
      await t.teardown?.();
    }
  }

  async function drive(c: Ctx, b: DriveBar): Promise<void> {
    if (c.t.drive === undefined) throw new Error('unreachable: drive-less harnesses skip these tests');
    await c.t.drive(b);
  }

  describe(`venue conformance: ${name}`, () => {
    it('connects, disconnects and states its capabilities', async () => {
      const t = await makeVenue();
      await t.venue.connect();
      for (const k of ['brackets', 'oco', 'modify', 'fractional', 'shortSelling'] as const) {
        expect(typeof t.venue.capabilities[k]).toBe('boolean');
      }
      expect(t.venue.name.length).toBeGreaterThan(0);
      await t.venue.disconnect();
      await t.teardown?.();
    });

    it('starts flat with the starting cash and no orders', async () => {
      await withVenue(async ({ t }) => {
        expect(await t.venue.orderReports({ includeClosed: true })).toEqual([]);
        expect(await positionOf(t.venue, t.symbol)).toBe('0');
        const cash = (await t.venue.balanceReport()).balances.get(t.currency);
        expect(cash?.eq(Money.of(t.startingCash, t.currency))).toBe(true);
      });
    });

    it('acknowledges a market order, then fills it completely on the next bar with consistent quantities', async (ctx) => {
      await withVenue(async (c) => {
        if (c.t.drive === undefined) return ctx.skip();
        await drive(c, bar('100', '100.5', '99.5', '100'));
        await c.t.venue.submit(order(c.t, 'cf-m1', { side: 'Buy', type: 'Market' }));
        await eventually(() => expect(ofOrder(c.events, 'cf-m1').map((e) => e.kind)).toContain('accepted'));
        await drive(c, bar('101', '102', '100.5', '101.5'));
        await eventually(() => expect(filledQty(c.events, 'cf-m1')).toBe(10n * 10n ** 8n));
        const evs = ofOrder(c.events, 'cf-m1');
        expect(evs[0]?.kind).toBe('accepted');
        expectConsistentFills(c.events, 'cf-m1', '10');
        const accepted = evs[0];
        for (const f of fillsOf(c.events, 'cf-m1')) {
          expect(accepted?.kind === 'accepted' && f.venueOrderId === accepted.venueOrderId).toBe(true);
          expect(f.lastPx.gte('100.5') && f.lastPx.lte('102')).toBe(true);
          expect(f.side).toBe('Buy');
          expect(f.symbol).toBe(c.t.symbol);
        }
        const report = await c.t.venue.orderReport(clientOrderId('cf-m1'));
        expect(report?.status).toBe('filled');
        expect(report?.filledQty.eq(10)).toBe(true);
      });
    });

    it('rests a limit buy below the market until a bar trades through it, at the limit or better', async (ctx) => {
      await withVenue(async (c) => {
        if (c.t.drive === undefined) return ctx.skip();
        await drive(c, bar('100', '100.5', '99.5', '100'));
        await c.t.venue.submit(order(c.t, 'cf-l1', { side: 'Buy', type: 'Limit', limitPrice: Price.of('98.00') }));
        await drive(c, bar('100', '101', '99', '100'));
        await eventually(async () => expect((await c.t.venue.orderReport(clientOrderId('cf-l1')))?.status).toBe('open'));
        expect(fillsOf(c.events, 'cf-l1')).toEqual([]);
        const open = await c.t.venue.orderReports();
        expect(open.map((r) => r.clientOrderId)).toEqual(['cf-l1']);
        expect(open[0]?.limitPrice?.eq('98')).toBe(true);
        expect(open[0]?.filledQty.isZero()).toBe(true);
        await drive(c, bar('99', '99.5', '97', '97.5'));
        await eventually(() => expect(filledQty(c.events, 'cf-l1')).toBe(10n * 10n ** 8n));
        expectConsistentFills(c.events, 'cf-l1', '10');
        for (const f of fillsOf(c.events, 'cf-l1')) expect(f.lastPx.lte('98')).toBe(true);
        expect(await c.t.venue.orderReports()).toEqual([]);
      });
    });

    it('cancels a working limit order and reports it closed', async (ctx) => {
      await withVenue(async (c) => {
        if (c.t.drive === undefined) return ctx.skip();
        await drive(c, bar('100', '100.5', '99.5', '100'));
        await c.t.venue.submit(order(c.t, 'cf-c1', { side: 'Buy', type: 'Limit', limitPrice: Price.of('90') }));
        await eventually(() => expect(ofOrder(c.events, 'cf-c1').map((e) => e.kind)).toEqual(['accepted']));
        await c.t.venue.cancel(clientOrderId('cf-c1'));
        await eventually(() => expect(ofOrder(c.events, 'cf-c1').map((e) => e.kind)).toEqual(['accepted', 'canceled']));
        expect(await c.t.venue.orderReports()).toEqual([]);
        const closed = await c.t.venue.orderReports({ includeClosed: true });
        expect(closed.find((r) => r.clientOrderId === 'cf-c1')?.status).toBe('canceled');
        await drive(c, bar('90', '91', '80', '85'));
        expect(fillsOf(c.events, 'cf-c1')).toEqual([]);
      });
    });

    it('answers a cancel of an unknown order with cancel-rejected', async () => {
      await withVenue(async (c) => {
        await c.t.venue.cancel(clientOrderId('cf-nobody'));
        await eventually(() => expect(ofOrder(c.events, 'cf-nobody').map((e) => e.kind)).toEqual(['cancel-rejected']));
        const e = c.events.find((x) => x.kind === 'cancel-rejected');
        expect(e?.kind === 'cancel-rejected' && e.reason.length > 0).toBe(true);
      });
    });

    it('answers a cancel of a filled order with cancel-rejected', async (ctx) => {
      await withVenue(async (c) => {
        if (c.t.drive === undefined) return ctx.skip();
        await drive(c, bar('100', '100.5', '99.5', '100'));
        await c.t.venue.submit(order(c.t, 'cf-f1', { side: 'Buy', type: 'Market' }));
        await drive(c, bar('100', '101', '99', '100'));
        await eventually(() => expect(filledQty(c.events, 'cf-f1')).toBe(10n * 10n ** 8n));
        await c.t.venue.cancel(clientOrderId('cf-f1'));
        await eventually(() => expect(ofOrder(c.events, 'cf-f1').at(-1)?.kind).toBe('cancel-rejected'));
        expect((await c.t.venue.orderReport(clientOrderId('cf-f1')))?.status).toBe('filled');
      });
    });

    it('rejects a duplicate clientOrderId, naming the duplicate, and leaves the original working', async () => {
      await withVenue(async (c) => {
        await c.t.venue.submit(order(c.t, 'cf-d1', { side: 'Buy', type: 'Limit', limitPrice: Price.of('50') }));
        await c.t.venue.submit(order(c.t, 'cf-d1', { side: 'Buy', type: 'Limit', limitPrice: Price.of('51'), quantity: Quantity.of('3') }));
        await eventually(() => expect(ofOrder(c.events, 'cf-d1').map((e) => e.kind)).toEqual(['accepted', 'rejected']));
        const rej = ofOrder(c.events, 'cf-d1')[1];
        expect(rej?.kind === 'rejected' && /duplicate/i.test(rej.reason)).toBe(true);
        const r = await c.t.venue.orderReport(clientOrderId('cf-d1'));
        expect(r?.status).toBe('open');
        expect(r?.limitPrice?.eq('50')).toBe(true);
        expect(r?.quantity.eq(10)).toBe(true);
      });
    });

    it('rejects an order for a symbol it does not trade', async () => {
      await withVenue(async (c) => {
        await c.t.venue.submit({ ...order(c.t, 'cf-u1', { side: 'Buy', type: 'Limit', limitPrice: Price.of('10') }), symbol: 'NO_SUCH_SYMBOL' });
        await eventually(() => expect(ofOrder(c.events, 'cf-u1').map((e) => e.kind)).toEqual(['rejected']));
        expect(await c.t.venue.orderReports()).toEqual([]);
      });
    });

    it('keeps position and cash exact through a round trip, agreeing with the fill events', async (ctx) => {
      await withVenue(async (c) => {
        if (c.t.drive === undefined) return ctx.skip();
        await drive(c, bar('100', '100.5', '99.5', '100'));
        await c.t.venue.submit(order(c.t, 'cf-p1', { side: 'Buy', type: 'Market', quantity: Quantity.of('7') }));
        await drive(c, bar('100.37', '101', '100', '100.5'));
        await eventually(() => expect(filledQty(c.events, 'cf-p1')).toBe(7n * 10n ** 8n));
        expect(await positionOf(c.t.venue, c.t.symbol)).toBe('7');
        const pos = (await c.t.venue.positionReports()).find((p) => p.symbol === c.t.symbol);
        const buys = fillsOf(c.events, 'cf-p1');
        if (buys.length === 1) expect(pos?.avgPx?.eq(buys[0]?.lastPx as Price)).toBe(true);
        const report = await c.t.venue.orderReport(clientOrderId('cf-p1'));
        if (buys.length === 1) expect(report?.avgPx?.eq(buys[0]?.lastPx as Price)).toBe(true);
        await c.t.venue.submit(order(c.t, 'cf-p2', { side: 'Sell', type: 'Market', quantity: Quantity.of('7') }));
        await drive(c, bar('102.13', '103', '102', '102.5'));
        await eventually(() => expect(filledQty(c.events, 'cf-p2')).toBe(7n * 10n ** 8n));
        expect(await positionOf(c.t.venue, c.t.symbol)).toBe('0');
        let expected = Money.of(c.t.startingCash, c.t.currency);
        for (const f of [...buys, ...fillsOf(c.events, 'cf-p2')]) {
          const value = Money.of(f.lastPx.mul(f.lastQty), c.t.currency);
          expected = (f.side === 'Buy' ? expected.sub(value) : expected.add(value)).sub(f.commission);
        }
        const cash = (await c.t.venue.balanceReport()).balances.get(c.t.currency);
        expect(cash?.eq(expected), `cash ${String(cash)}, expected ${expected.toString()}`).toBe(true);
      });
    });

    it('gives every fill a unique tradeId and freezes its events', async (ctx) => {
      await withVenue(async (c) => {
        if (c.t.drive === undefined) return ctx.skip();
        await drive(c, bar('100', '100.5', '99.5', '100'));
        for (let i = 0; i < 4; i++) await c.t.venue.submit(order(c.t, `cf-t${i}`, { side: 'Buy', type: 'Market', quantity: Quantity.of('2') }));
        await drive(c, bar('100', '101', '99', '100'));
        await eventually(() => expect(c.events.filter((e) => e.kind === 'filled').length).toBeGreaterThanOrEqual(4));
        const ids = c.events.flatMap((e) => (e.kind === 'filled' ? [e.tradeId] : []));
        expect(new Set(ids).size).toBe(ids.length);
        for (const e of c.events) {
          expect(Object.isFrozen(e)).toBe(true);
          expect(typeof e.tsEvent).toBe('bigint');
          expect(typeof e.tsInit).toBe('bigint');
        }
      });
    });

    it('modifies a working limit order where capabilities.modify', async (ctx) => {
      await withVenue(async (c) => {
        if (!c.t.venue.capabilities.modify) return ctx.skip();
        await c.t.venue.submit(order(c.t, 'cf-x1', { side: 'Buy', type: 'Limit', limitPrice: Price.of('50') }));
        await c.t.venue.modify({ clientOrderId: clientOrderId('cf-x1'), limitPrice: Price.of('51.25'), quantity: Quantity.of('12') });
        await eventually(() => expect(ofOrder(c.events, 'cf-x1').map((e) => e.kind)).toEqual(['accepted', 'modified']));
        const m = ofOrder(c.events, 'cf-x1')[1];
        expect(m?.kind === 'modified' && m.limitPrice?.eq('51.25') === true && m.quantity.eq(12)).toBe(true);
        const r = await c.t.venue.orderReport(clientOrderId('cf-x1'));
        expect(r?.limitPrice?.eq('51.25')).toBe(true);
        expect(r?.quantity.eq(12)).toBe(true);
      });
    });

    describe('brackets', () => {
      async function enterWithBracket(c: Ctx, id: string): Promise<{ tp: ClientOrderId; sl: ClientOrderId }> {
        await drive(c, bar('100', '100.5', '99.5', '100'));
        await c.t.venue.submit(
          order(c.t, id, { side: 'Buy', type: 'Market', bracket: { takeProfit: Price.of('105'), stopLoss: Price.of('95') } }),
        );
        await drive(c, bar('100', '101', '99', '100'));
        await eventually(() => expect(filledQty(c.events, id)).toBe(10n * 10n ** 8n));
        let legs: { tp: ClientOrderId; sl: ClientOrderId } | undefined;
        await eventually(async () => {
          const open = (await c.t.venue.orderReports()).filter((r) => r.parentClientOrderId === id);
          expect(open.length).toBe(2);
          const tp = open.find((r) => r.type === 'Limit');
          const sl = open.find((r) => r.type === 'Stop' || r.type === 'StopLimit');
          expect(tp?.limitPrice?.eq('105')).toBe(true);
          expect(sl?.stopPrice?.eq('95')).toBe(true);
          for (const leg of open) {
            expect(leg.side).toBe('Sell');
            expect(leg.quantity.eq(10)).toBe(true);
          }
          legs = { tp: (tp as { clientOrderId: ClientOrderId }).clientOrderId, sl: (sl as { clientOrderId: ClientOrderId }).clientOrderId };
        });
        return legs as { tp: ClientOrderId; sl: ClientOrderId };
      }

      it('activates TP and SL legs after the entry fills; the TP filling cancels the SL', async (ctx) => {
        await withVenue(async (c) => {
          if (!c.t.venue.capabilities.brackets || c.t.drive === undefined) return ctx.skip();
          const { tp, sl } = await enterWithBracket(c, 'cf-b1');
          await drive(c, bar('101', '106', '100', '105.5'));
          await eventually(() => expect(filledQty(c.events, tp)).toBe(10n * 10n ** 8n));
          await eventually(() => expect(ofOrder(c.events, sl).at(-1)?.kind).toBe('canceled'));
          for (const f of fillsOf(c.events, tp)) expect(f.lastPx.gte('105')).toBe(true);
          expect(fillsOf(c.events, sl)).toEqual([]);
          expect(await positionOf(c.t.venue, c.t.symbol)).toBe('0');
          expect(await c.t.venue.orderReports()).toEqual([]);
        });
      });

      it('fills the SL leg at or below its stop when the market falls, cancelling the TP', async (ctx) => {
        await withVenue(async (c) => {
          if (!c.t.venue.capabilities.brackets || c.t.drive === undefined) return ctx.skip();
          const { tp, sl } = await enterWithBracket(c, 'cf-b2');
          await drive(c, bar('99', '99.5', '94', '94.5'));
          await eventually(() => expect(filledQty(c.events, sl)).toBe(10n * 10n ** 8n));
          await eventually(() => expect(ofOrder(c.events, tp).at(-1)?.kind).toBe('canceled'));
          for (const f of fillsOf(c.events, sl)) expect(f.lastPx.lte('95')).toBe(true);
          expect(await positionOf(c.t.venue, c.t.symbol)).toBe('0');
        });
      });

      it('cancelling one leg cancels the group and keeps the position', async (ctx) => {
        await withVenue(async (c) => {
          if (!c.t.venue.capabilities.brackets || c.t.drive === undefined) return ctx.skip();
          const { tp, sl } = await enterWithBracket(c, 'cf-b3');
          await c.t.venue.cancel(tp);
          await eventually(async () => {
            expect((await c.t.venue.orderReport(tp))?.status).toBe('canceled');
            expect((await c.t.venue.orderReport(sl))?.status).toBe('canceled');
          });
          expect(await positionOf(c.t.venue, c.t.symbol)).toBe('10');
          await drive(c, bar('99', '120', '80', '100'));
          expect(fillsOf(c.events, tp)).toEqual([]);
          expect(fillsOf(c.events, sl)).toEqual([]);
        });
      });
    });
  });
}
