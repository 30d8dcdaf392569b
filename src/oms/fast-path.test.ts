import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Decimal } from '../core/decimal.js';
import { Rng } from '../core/rng.js';
import { TestClock } from '../core/clock.js';
import { Portfolio } from './portfolio.js';
import { OrderManager, seededUuid } from './manager.js';
import { limitOrder } from './order.js';

// the portfolio and the manager compute fills on (raw, precision) pairs; this reference does the
// same bookkeeping with Decimal objects, step by step as Decimal's own arithmetic table says
class ReferenceBook {
  cash = new Map<string, Decimal>();
  qty = Decimal.ZERO;
  basis = Decimal.ZERO;
  realized = Decimal.ZERO;
  apply(side: 'Buy' | 'Sell', price: Decimal, quantity: Decimal, fee: Decimal): void {
    const qty = side === 'Sell' ? quantity.neg() : quantity;
    const oldQty = this.qty;
    const oldBasis = this.basis;
    const notional = qty.mul(price);
    const newQty = oldQty.add(qty);
    let basis: Decimal;
    let realizedDelta = Decimal.ZERO;
    if (oldQty.isZero() || oldQty.sign() === qty.sign()) {
      basis = oldBasis.add(notional);
    } else {
      const closing = qty.abs().lt(oldQty.abs()) ? qty.abs() : oldQty.abs();
      const removed = closing.eq(oldQty.abs()) ? oldBasis : oldBasis.mul(closing).div(oldQty.abs(), oldBasis.precision);
      realizedDelta = closing.mul(price).mul(oldQty.sign()).sub(removed);
      basis = oldBasis.sub(removed);
      if (newQty.sign() === qty.sign() && !newQty.isZero()) basis = basis.add(newQty.mul(price));
    }
    if (newQty.isZero()) basis = Decimal.ZERO;
    this.cash.set('USD', (this.cash.get('USD') ?? Decimal.ZERO).sub(notional).sub(fee));
    this.qty = newQty;
    this.basis = basis;
    if (!realizedDelta.isZero()) this.realized = this.realized.add(realizedDelta);
  }
}

const decimalText = (maxDigits: number, maxPrecision: number) =>
  fc
    .tuple(fc.bigInt({ min: 1n, max: 10n ** BigInt(maxDigits) }), fc.integer({ min: 0, max: maxPrecision }))
    .map(([raw, p]) => Decimal.fromRaw(raw, p).toString());

const fillArb = fc.record({
  side: fc.constantFrom('Buy' as const, 'Sell' as const),
  price: decimalText(9, 16),
  quantity: decimalText(7, 16),
  fee: fc.option(decimalText(4, 6), { nil: undefined }),
  mark: fc.option(decimalText(8, 4), { nil: undefined }),
});

// raws clustered where the portfolio's safe-integer path meets its bigint fallback (products and sums
// around 2^53) and far beyond it
const edgeText = fc
  .tuple(fc.oneof(fc.bigInt({ min: 94_000_000n, max: 95_000_000n }), fc.bigInt({ min: 1n, max: 10n ** 20n }), fc.bigInt({ min: 9_007_199_254_000_000n, max: 9_007_199_255_000_000n })), fc.integer({ min: 0, max: 8 }))
  .map(([raw, p]) => Decimal.fromRaw(raw, p).toString());
const edgeFillArb = fc.record({
  side: fc.constantFrom('Buy' as const, 'Sell' as const),
  price: edgeText,
  quantity: edgeText,
  fee: fc.option(edgeText, { nil: undefined }),
  mark: fc.option(edgeText, { nil: undefined }),
});

describe('fast fill path equals Decimal arithmetic', () => {
  it.each([
    ['everyday decimals', fillArb],
    ['magnitudes around and far beyond 2^53', edgeFillArb],
  ])('cash, quantity, basis, realized PnL, value, equity and exposure match the reference after every fill (%s)', (_name, arb) => {
    fc.assert(
      fc.property(fc.array(arb, { minLength: 1, maxLength: 12 }), (fills) => {
        const p = new Portfolio({ accountType: 'margin', clock: new TestClock(0n) });
        p.deposit('USD', '1000');
        const ref = new ReferenceBook();
        ref.cash.set('USD', Decimal.of('1000'));
        let mark: Decimal | undefined;
        for (const [i, f] of fills.entries()) {
          p.applyFill({ fillId: `f${i}`, symbol: 'X-USD', side: f.side, price: f.price, quantity: f.quantity, ...(f.fee === undefined ? {} : { fee: f.fee }) });
          ref.apply(f.side, Decimal.of(f.price), Decimal.of(f.quantity), f.fee === undefined ? Decimal.ZERO : Decimal.of(f.fee));
          if (f.mark !== undefined) {
            p.setMark('X-USD', f.mark);
            mark = Decimal.of(f.mark);
          }
          const value = mark === undefined ? ref.basis : ref.qty.mul(mark);
          const cash = ref.cash.get('USD') as Decimal;
          expect(p.cash.USD).toBe(cash.toString());
          expect(p.positionQuantity('X-USD').toString()).toBe(ref.qty.toString());
          expect(p.costBasis('X-USD').toString()).toBe(ref.basis.toString());
          expect(p.realizedPnl('X-USD').toString()).toBe(ref.realized.toString());
          expect(p.positionValue('X-USD').toString()).toBe(value.toString());
          expect(p.equity('USD').eq(cash.add(value))).toBe(true);
          expect(p.grossExposure('USD').eq(value.abs())).toBe(true);
          expect(p.largestPositionValue('USD').eq(value.abs())).toBe(true);
          // replaying the same fill id with the same data is a no-op; other data is refused
          expect(p.applyFill({ fillId: `f${i}`, symbol: 'X-USD', side: f.side, price: f.price, quantity: f.quantity, ...(f.fee === undefined ? {} : { fee: f.fee }) })).toBe(false);
          expect(() => p.applyFill({ fillId: `f${i}`, symbol: 'X-USD', side: f.side, price: f.price, quantity: Decimal.of(f.quantity).add('1') })).toThrow(/\[Portfolio\].*different data/);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('order records carry the filled quantity, notional and average price of Decimal arithmetic', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(decimalText(6, 9), decimalText(3, 5)), { minLength: 1, maxLength: 6 }), (parts) => {
        const total = parts.reduce((a, [, q]) => a.add(q), Decimal.ZERO);
        const mgr = new OrderManager({ clock: new TestClock(0n), idGenerator: seededUuid(new Rng(3)), portfolio: { accountType: 'margin' } });
        const id = mgr.submit(limitOrder('X-USD', 'Buy', total, '1'));
        let qty = Decimal.ZERO;
        let notional = Decimal.ZERO;
        let pxPrecision = 0;
        for (const [i, [px, q]] of parts.entries()) {
          mgr.addFill({ orderId: id, fillId: `g${i}`, price: px, quantity: q });
          qty = qty.add(q);
          notional = notional.add(Decimal.of(px).mul(q));
          pxPrecision = Math.max(pxPrecision, Decimal.of(px).precision);
        }
        const rec = mgr.getOrder(id);
        expect(rec?.filledQty.toString()).toBe(qty.toString());
        expect(rec?.filledNotional.toString()).toBe(notional.toString());
        expect(rec?.status.kind).toBe('Filled');
        expect(rec?.status.filledQty).toBe(qty.toString());
        const avg = notional.div(qty, Math.min(30, pxPrecision + 8));
        const expected = parts.length === 1 ? Decimal.of(parts[0]?.[0] as string) : avg;
        expect(Decimal.of(rec?.status.avgPrice as string).eq(expected)).toBe(true);
        if (parts.length > 1) expect((rec?.status.avgPrice as string).split('.')[1]?.length ?? 0).toBeGreaterThanOrEqual(pxPrecision);
      }),
      { numRuns: 200 },
    );
  });

  it('seededUuid gives the byte layout of the original formatter for any seed', () => {
    const hex = (w: number) => (w >>> 0).toString(16).padStart(8, '0');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), (seed) => {
        const gen = seededUuid(new Rng(seed));
        const rng = new Rng(seed);
        for (let i = 0; i < 5; i++) {
          const w0 = rng.nextU32();
          const w1 = ((rng.nextU32() & 0xffff0fff) | 0x4000) >>> 0;
          const w2 = ((rng.nextU32() & 0x3fffffff) | 0x80000000) >>> 0;
          const w3 = rng.nextU32();
          const h1 = hex(w1);
          const h2 = hex(w2);
          const want = `${hex(w0)}-${h1.slice(0, 4)}-${h1.slice(4)}-${h2.slice(0, 4)}-${h2.slice(4)}${hex(w3)}`;
          expect(gen()).toBe(want);
        }
      }),
    );
    expect(seededUuid(new Rng(1))()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
