import { describe, expect, it } from 'vitest';
import { Decimal, Price } from '../core/decimal.js';
import { Money } from '../core/money.js';
import { makeInstrument } from '../model/instrument.js';
import { PositionSizer } from './sizer.js';
import { KillSwitch, periodKeys } from './kill-switch.js';
import { Cooldowns } from './cooldown.js';

const spy = makeInstrument({ id: 'SPY.XNYS', tickSize: '0.01', lotSize: '1', baseCurrency: 'SPY', quoteCurrency: 'USD' });
const usd = (s: string) => Money.of(s, 'USD');

describe('PositionSizer', () => {
  it('floors percent-of-equity to whole shares and caps by free cash', () => {
    const sizer = new PositionSizer({ mode: 'percent-equity', maxPositionPct: 10, fractional: false, fractionalLot: Decimal.of('0.001') });
    const d = sizer.size({ equity: usd('100000'), freeCash: usd('100000'), price: Price.of('127.87'), instrument: spy });
    // 10000 / 127.87 = 78.20...
    expect(d).toMatchObject({ kind: 'quantity' });
    if (d.kind !== 'quantity') throw new Error('unreachable');
    expect(d.quantity.toString()).toBe('78');
    expect(d.notional.toString()).toBe('9973.86 USD');
    const capped = sizer.size({ equity: usd('100000'), freeCash: usd('500'), price: Price.of('127.87'), instrument: spy });
    expect(capped.kind === 'quantity' && capped.quantity.toString()).toBe('3');
  });

  it('sizes fractional units to the lot', () => {
    const sizer = new PositionSizer({ mode: 'percent-equity', maxPositionPct: 50, fractional: true, fractionalLot: Decimal.of('0.001') });
    const d = sizer.size({ equity: usd('1000'), freeCash: usd('1000'), price: Price.of('300'), instrument: spy });
    expect(d.kind === 'quantity' && d.quantity.toString()).toBe('1.666');
  });

  it('all-cash fractional becomes a notional order', () => {
    const sizer = new PositionSizer({ mode: 'all-cash', maxPositionPct: 100, fractional: true, fractionalLot: Decimal.of('0.000001') });
    const d = sizer.size({ equity: usd('100000'), freeCash: usd('99999.999'), price: Price.of('1'), instrument: spy });
    expect(d).toEqual({ kind: 'notional', notional: usd('99999.999').round(3, 'floor') });
  });

  it('refuses with a reason: no equity, below one lot, below minimums', () => {
    const sizer = new PositionSizer({ mode: 'percent-equity', maxPositionPct: 1, fractional: false, fractionalLot: Decimal.of('1') });
    expect(sizer.size({ equity: usd('0'), freeCash: usd('0'), price: Price.of('10'), instrument: spy })).toMatchObject({ kind: 'none', reason: expect.stringMatching(/equity/) });
    expect(sizer.size({ equity: usd('1000'), freeCash: usd('1000'), price: Price.of('127.87'), instrument: spy })).toMatchObject({ kind: 'none', reason: expect.stringMatching(/less than one lot/) });
    const strict = makeInstrument({ id: 'X.XNYS', tickSize: '0.01', lotSize: '1', minQuantity: '100', minNotional: '1000', baseCurrency: 'X', quoteCurrency: 'USD' });
    const big = new PositionSizer({ mode: 'percent-equity', maxPositionPct: 100, fractional: false, fractionalLot: Decimal.of('1') });
    expect(big.size({ equity: usd('500'), freeCash: usd('500'), price: Price.of('1'), instrument: strict })).toMatchObject({ kind: 'none', reason: expect.stringMatching(/below minimum 100/) });
  });
});

describe('KillSwitch', () => {
  const day = 86_400_000_000_000n;
  it('blocks entries for the rest of the day after the daily loss, and resets next day', () => {
    const k = new KillSwitch({ dailyLossPct: 3, weeklyLossPct: undefined });
    const t0 = 1_296_518_400_000_000_000n; // 2011-02-01 00:00 UTC
    expect(k.update(t0, 100_000)).toBe(false);
    expect(k.update(t0 + 1n, 97_001)).toBe(false);
    expect(k.update(t0 + 2n, 96_999)).toBe(true);
    expect(k.update(t0 + 3n, 99_000)).toBe(true); // stays tripped the same day
    expect(k.reason()).toMatch(/daily loss limit 3%/);
    expect(k.update(t0 + day, 99_000)).toBe(false);
  });

  it('tracks the ISO week for the weekly limit and survives a snapshot', () => {
    expect(periodKeys(1_293_840_000_000_000_000n)).toEqual({ day: '2011-01-01', week: '2010-W52' });
    const k = new KillSwitch({ dailyLossPct: undefined, weeklyLossPct: 5 });
    const mon = 1_294_012_800_000_000_000n; // 2011-01-03, a Monday
    k.update(mon, 100_000);
    k.update(mon + day, 96_000);
    expect(k.update(mon + 2n * day, 94_900)).toBe(true);
    const copy = new KillSwitch({ dailyLossPct: undefined, weeklyLossPct: 5 });
    copy.restore(k.snapshot());
    expect(copy.update(mon + 3n * day, 99_000)).toBe(true);
    expect(copy.update(mon + 7n * day, 99_000)).toBe(false);
  });
});

describe('Cooldowns', () => {
  it('blocks re-entry for N bars of that symbol after a stop loss', () => {
    const c = new Cooldowns(3);
    c.onStopLoss('SPY', 10);
    expect(c.isCooling('SPY', 11)).toBe(true);
    expect(c.isCooling('SPY', 13)).toBe(true);
    expect(c.isCooling('QQQ', 11)).toBe(false);
    expect(c.isCooling('SPY', 14)).toBe(false);
    const none = new Cooldowns(0);
    none.onStopLoss('SPY', 1);
    expect(none.isCooling('SPY', 1)).toBe(false);
  });
});
