import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Decimal, Price, Quantity, divRound, priceFromFloat, shortestString, parseDecimal, formatDecimal } from './decimal.js';
import { Money } from './money.js';
import { AxonError } from './errors.js';

const decimalString = fc
  .tuple(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.integer({ min: 0, max: 12 }))
  .map(([raw, p]) => formatDecimal(raw, p));

describe('Decimal', () => {
  it('keeps scale like rust_decimal: 100000 - 50000 * 0.6 = 70000.0', () => {
    const cash = Decimal.of(100_000).sub(Decimal.of(50_000).mul('0.6'));
    expect(cash.toString()).toBe('70000.0');
  });

  it('parses and refuses', () => {
    expect(Decimal.of('-1.50').toString()).toBe('-1.50');
    expect(Decimal.of('1e-3').toString()).toBe('0.001');
    expect(Decimal.of('2.5E+2').toString()).toBe('250');
    expect(Decimal.of('.5').toString()).toBe('0.5');
    for (const bad of ['', '.', '-', '1.2.3', 'NaN', 'Infinity', ' 1', '1 ', '0x10', '1,5']) {
      expect(() => Decimal.of(bad), bad).toThrow(/\[InvalidDecimal\]/);
    }
    expect(() => Decimal.of(0.1)).toThrow(/\[InvalidDecimal\].*safe integer/);
  });

  it('round-trips string -> value -> string', () => {
    fc.assert(
      fc.property(decimalString, (s) => {
        expect(Decimal.of(s).toString()).toBe(s);
      }),
    );
  });

  it('addition is commutative and associative', () => {
    fc.assert(
      fc.property(decimalString, decimalString, decimalString, (a, b, c) => {
        const [x, y, z] = [Decimal.of(a), Decimal.of(b), Decimal.of(c)];
        expect(x.add(y).eq(y.add(x))).toBe(true);
        expect(x.add(y).add(z).eq(x.add(y.add(z)))).toBe(true);
        expect(x.add(y).sub(y).eq(x)).toBe(true);
      }),
    );
  });

  it('divides with half-even by default and the chosen mode', () => {
    expect(Decimal.of('1').div('3', 4).toString()).toBe('0.3333');
    expect(Decimal.of('2').div('3', 4).toString()).toBe('0.6667');
    expect(Decimal.of('0.125').round(2).toString()).toBe('0.12');
    expect(Decimal.of('0.135').round(2).toString()).toBe('0.14');
    expect(Decimal.of('-0.125').round(2).toString()).toBe('-0.12');
    expect(Decimal.of('-0.125').round(2, 'floor').toString()).toBe('-0.13');
    expect(Decimal.of('-0.125').round(2, 'ceil').toString()).toBe('-0.12');
    expect(Decimal.of('0.125').round(2, 'half-up').toString()).toBe('0.13');
    expect(() => Decimal.of('1').div('0')).toThrow(/\[DivisionByZero\]/);
    expect(divRound(-7n, 2n, 'half-even')).toBe(-4n);
    expect(divRound(7n, -2n, 'down')).toBe(-3n);
  });

  it('div is the inverse of mul when exact', () => {
    fc.assert(
      fc.property(decimalString, decimalString.filter((s) => !Decimal.of(s).isZero()), (a, b) => {
        const x = Decimal.of(a);
        const y = Decimal.of(b);
        const prod = x.mul(y);
        expect(prod.div(y, x.precision).eq(x)).toBe(true);
      }),
    );
  });

  it('compares by value across precisions', () => {
    expect(Decimal.of('1.0').eq('1.00')).toBe(true);
    expect(Decimal.of('1.01').gt('1.001')).toBe(true);
    expect(Decimal.of('-2').lt('-1.999')).toBe(true);
    expect(Decimal.of('1.500').normalize().toString()).toBe('1.5');
  });
});

describe('Price and Quantity', () => {
  it('round to a tick: floor, ceil and nearest are multiples of the tick', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        fc.constantFrom('0.01', '0.05', '0.25', '1', '0.0001', '5'),
        (raw, tick) => {
          const p = Price.fromRaw(raw, 6);
          const down = p.roundTo(tick, 'floor');
          const up = p.roundTo(tick, 'ceil');
          const near = p.roundTo(tick);
          for (const r of [down, up, near]) expect(r.isMultipleOf(tick)).toBe(true);
          expect(down.lte(p) && up.gte(p)).toBe(true);
          expect(up.sub(down).lte(tick)).toBe(true);
          expect(near.eq(down) || near.eq(up)).toBe(true);
        },
      ),
    );
    expect(Price.of('100.037').roundTo('0.05', 'floor').toString()).toBe('100.00');
    expect(Price.of('100.037').roundTo('0.05', 'ceil').toString()).toBe('100.05');
    expect(Price.of('100.025').roundTo('0.05').toString()).toBe('100.00');
    expect(Price.of('100.075').roundTo('0.05').toString()).toBe('100.10');
  });

  it('checks precision when asked', () => {
    expect(Price.of('1.5', 2).toString()).toBe('1.50');
    expect(() => Price.of('1.505', 2)).toThrow(/\[PrecisionExceeded\]/);
    expect(() => Quantity.of('-1')).toThrow(/\[NegativeQuantity\]/);
    expect(() => Quantity.of('1').sub('2')).toThrow(/\[NegativeQuantity\]/);
  });

  it('converts market-data floats through their shortest string', () => {
    expect(priceFromFloat(0.1 + 0.2, 2).toString()).toBe('0.30');
    expect(priceFromFloat(127.87, 2).toString()).toBe('127.87');
    expect(shortestString(1e21)).toBe('1000000000000000000000');
    expect(shortestString(1e-7)).toBe('0.0000001');
    expect(parseDecimal('1e-7')).toEqual([1n, 7]);
  });
});

describe('Money', () => {
  it('refuses mixed currencies with a stable code', () => {
    const usd = Money.of('10.50', 'USD');
    const eur = Money.of('1', 'EUR');
    expect(usd.add(Money.of('0.5', 'USD')).toString()).toBe('11.00 USD');
    let err: unknown;
    try {
      usd.add(eur);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AxonError);
    expect((err as AxonError).code).toBe('CurrencyMismatch');
    expect((err as AxonError).message).toMatch(/^\[CurrencyMismatch\] /);
    expect((err as AxonError).args[0]).toBe('CurrencyMismatch');
    expect(() => usd.compare(eur)).toThrow(/CurrencyMismatch/);
    expect(usd.eq(eur)).toBe(false);
  });

  it('parses and prints losslessly', () => {
    expect(Money.parse('70000.0 USDT').amountString()).toBe('70000.0');
    expect(Money.of('1', 'USD').mul('0.001').toString()).toBe('0.001 USD');
    expect(Money.of('10', 'USD').ratio(Money.of('4', 'USD'), 2).toString()).toBe('2.50');
  });
});
