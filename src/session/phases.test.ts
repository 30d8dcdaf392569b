import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AlwaysOpenCalendar } from './always-open.js';
import { SessionError } from './errors.js';
import { calendarFor, CALENDAR_IDS } from './registry.js';
import { SessionPhase, type SessionCalendar } from './types.js';
import { XnysCalendar } from './xnys.js';
import { XshgCalendar } from './xshg.js';

const ns = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;
const MIN = 60_000_000_000n;
const data = new URL('../../data/', import.meta.url);

function bars(file: string): string[] {
  return gunzipSync(readFileSync(new URL(file, data))).toString('utf8').trim().split('\n').slice(1);
}

describe('XNYS phases', () => {
  const cal = new XnysCalendar();
  const at = (iso: string): string => cal.phaseAt(ns(iso));

  it('divides a regular day with half-open intervals [start, end)', () => {
    // 2024-06-03 (EDT, UTC-4)
    expect(at('2024-06-03T07:59:59.999Z')).toBe('CLOSED');
    expect(at('2024-06-03T08:00:00Z')).toBe('PRE_MARKET');
    expect(at('2024-06-03T13:29:59.999Z')).toBe('PRE_MARKET');
    expect(at('2024-06-03T13:30:00Z')).toBe('WARMUP');
    expect(at('2024-06-03T13:44:59Z')).toBe('WARMUP');
    expect(at('2024-06-03T13:45:00Z')).toBe('ACTIVE');
    expect(at('2024-06-03T19:29:59Z')).toBe('ACTIVE');
    expect(at('2024-06-03T19:30:00Z')).toBe('EOD_WARNING');
    expect(at('2024-06-03T19:58:59Z')).toBe('EOD_WARNING');
    expect(at('2024-06-03T19:59:00Z')).toBe('EOD_LIQUIDATION');
    expect(cal.phaseAt(ns('2024-06-03T20:00:00Z') - 1n)).toBe('EOD_LIQUIDATION');
    expect(at('2024-06-03T20:00:00Z')).toBe('AFTER_HOURS');
    expect(at('2024-06-03T23:59:59Z')).toBe('AFTER_HOURS');
    expect(at('2024-06-04T00:00:00Z')).toBe('CLOSED');
  });

  it('uses the early close for the EOD phases and keeps weekends and holidays CLOSED', () => {
    // 2024-11-29 closes 13:00 EST = 18:00 UTC
    expect(at('2024-11-29T17:29:59Z')).toBe('ACTIVE');
    expect(at('2024-11-29T17:30:00Z')).toBe('EOD_WARNING');
    expect(at('2024-11-29T17:59:00Z')).toBe('EOD_LIQUIDATION');
    expect(at('2024-11-29T18:00:00Z')).toBe('AFTER_HOURS');
    for (const t of ['2024-11-28T15:00:00Z', '2024-11-30T15:00:00Z', '2025-01-09T15:00:00Z', '2024-03-29T15:00:00Z']) expect(at(t), t).toBe('CLOSED');
  });

  it('follows configuration', () => {
    const c = calendarFor('XNYS', { warmupMinutes: 5, eodWarningMinutes: 10, eodLiquidationMinutes: 2, preMarketStart: null, afterHoursEnd: '17:00' });
    expect(c.phaseAt(ns('2024-06-03T13:29:00Z'))).toBe('CLOSED');
    expect(c.phaseAt(ns('2024-06-03T13:35:00Z'))).toBe('ACTIVE');
    expect(c.phaseAt(ns('2024-06-03T19:50:00Z'))).toBe('EOD_WARNING');
    expect(c.phaseAt(ns('2024-06-03T19:58:00Z'))).toBe('EOD_LIQUIDATION');
    expect(c.phaseAt(ns('2024-06-03T21:00:00Z'))).toBe('CLOSED');
    expect(() => calendarFor('XNYS', { warmupMinutes: -1, eodLiquidationMinutes: 40, preMarketStart: '4am', bogus: 1 } as never)).toThrowError(
      /\[InvalidConfig\] XNYS phase config: unknown key "bogus".*warmupMinutes must be.*eodLiquidationMinutes 40 must not exceed.*preMarketStart must be/,
    );
  });

  it('on the SPY minute data (bar END times, UTC) every regular session has exactly 390 bars in (open, close], across the 2011 DST change', () => {
    const perDay = new Map<string, number>();
    let active = 0;
    for (const line of bars('spy_1m_2011-01+03_utc.csv.gz')) {
      const end = ns(`${line.slice(0, 19).replace(' ', 'T')}Z`);
      const s = cal.sessionAt(end - 1n);
      if (s !== undefined) perDay.set(s.date, (perDay.get(s.date) ?? 0) + 1);
      if (cal.phaseAt(end) === SessionPhase.ACTIVE) active++;
    }
    expect(perDay.size).toBe(43);
    for (const [date, n] of perDay) expect(n, date).toBe(390);
    expect(cal.sessionOn('2011-03-11')!.openNs).toBe(ns('2011-03-11T14:30:00Z'));
    expect(cal.sessionOn('2011-03-14')!.openNs).toBe(ns('2011-03-14T13:30:00Z'));
    // bar ends 09:45..15:29 inclusive are ACTIVE: 345 per session
    expect(active).toBe(43 * 345);
  });

  it('sessionAt and nextSession', () => {
    const fri = cal.sessionOn('2024-03-28')!;
    expect(cal.sessionAt(fri.openNs)).toBe(fri);
    expect(cal.sessionAt(fri.closeNs)).toBeUndefined();
    expect(cal.sessionAt(fri.openNs - 1n)).toBeUndefined();
    // Good Friday and the weekend are skipped
    expect(cal.nextSession(fri.openNs).date).toBe('2024-04-01');
    expect(cal.nextSession(fri.openNs - 1n).date).toBe('2024-03-28');
    expect(cal.nextSession(ns('2001-09-10T21:00:00Z')).date).toBe('2001-09-17');
  });
});

describe('phaseAt cache', () => {
  it('gives the same phase as a fresh calendar for any sequence of times (property)', () => {
    const base = ns('2024-01-01T00:00:00Z');
    const cached = new XnysCalendar();
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 0n, max: 60n * 24n * 60n * MIN }), { minLength: 1, maxLength: 50 }), (offsets) => {
        for (const o of offsets) {
          const t = base + o;
          expect(cached.phaseAt(t)).toBe(new XnysCalendar().phaseAt(t));
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('XSHG', () => {
  const cal = new XshgCalendar();
  it('has a lunch BREAK and EOD phases before 15:00 Asia/Shanghai', () => {
    const at = (iso: string): string => cal.phaseAt(ns(iso));
    expect(at('2024-06-14T01:29:00Z')).toBe('CLOSED');
    expect(at('2024-06-14T01:30:00Z')).toBe('WARMUP');
    expect(at('2024-06-14T01:45:00Z')).toBe('ACTIVE');
    expect(at('2024-06-14T03:30:00Z')).toBe('BREAK');
    expect(at('2024-06-14T04:59:59Z')).toBe('BREAK');
    expect(at('2024-06-14T05:00:00Z')).toBe('ACTIVE');
    expect(at('2024-06-14T06:30:00Z')).toBe('EOD_WARNING');
    expect(at('2024-06-14T06:59:00Z')).toBe('EOD_LIQUIDATION');
    expect(at('2024-06-14T07:00:00Z')).toBe('CLOSED');
    const s = cal.sessionOn('2024-06-14')!;
    expect(s.breaks).toEqual([{ startNs: ns('2024-06-14T03:30:00Z'), endNs: ns('2024-06-14T05:00:00Z') }]);
  });

  it('matches the trading days and 240 bars a day of the 600000.SH minute data (2024-06-14..09-18)', () => {
    const perDay = new Map<string, number>();
    for (const line of bars('600000sh_1m_2024_cst.csv.gz')) {
      // naive Asia/Shanghai bar END time (UTC+8, no DST)
      const end = ns(`${line.slice(0, 19).replace(' ', 'T')}+08:00`);
      const s = cal.sessionAt(end - 1n);
      if (s === undefined) throw new Error(`bar ending ${line.slice(0, 19)} is outside every session`);
      expect(cal.phaseAt(end - 1n)).not.toBe('BREAK');
      perDay.set(s.date, (perDay.get(s.date) ?? 0) + 1);
    }
    const expected: string[] = [];
    for (let d = Date.UTC(2024, 5, 14); d <= Date.UTC(2024, 8, 18); d += 86_400_000) {
      const date = new Date(d).toISOString().slice(0, 10);
      if (cal.isTradingDay(date)) expected.push(date);
    }
    expect([...perDay.keys()]).toEqual(expected);
    for (const [date, n] of perDay) expect(n, date).toBe(240);
    expect(cal.isTradingDay('2024-09-16')).toBe(false);
  });

  it('refuses years without a bundled holiday list', () => {
    expect(() => cal.sessionOn('2025-01-02')).toThrowError(/\[OutOfRange\] XSHG: 2025-01-02 is outside the calendar's known years 2024..2024/);
  });
});

describe('24/7 and the registry', () => {
  it('24/7: one UTC-day session, every instant ACTIVE by default', () => {
    const cal: SessionCalendar = calendarFor('24/7');
    const s = cal.sessionOn('2024-08-08')!;
    expect(s.openNs).toBe(ns('2024-08-08T00:00:00Z'));
    expect(s.closeNs).toBe(ns('2024-08-09T00:00:00Z'));
    expect(cal.sessionAt(s.closeNs)!.date).toBe('2024-08-09');
    for (const t of ['2024-08-08T00:00:00Z', '2024-08-08T23:59:59Z', '2024-08-10T12:00:00Z']) expect(cal.phaseAt(ns(t))).toBe('ACTIVE');
    expect(cal.isTradingDay('2024-12-25')).toBe(true);
    expect(cal.nextSession(ns('2024-08-08T05:00:00Z')).date).toBe('2024-08-09');
  });

  it('24/7 phases are configurable (daily EOD liquidation)', () => {
    const cal = new AlwaysOpenCalendar({ eodWarningMinutes: 10, eodLiquidationMinutes: 5 });
    expect(cal.phaseAt(ns('2024-08-08T23:50:00Z'))).toBe('EOD_WARNING');
    expect(cal.phaseAt(ns('2024-08-08T23:55:00Z'))).toBe('EOD_LIQUIDATION');
    expect(cal.phaseAt(ns('2024-08-09T00:00:00Z'))).toBe('ACTIVE');
  });

  it('calendarFor knows its ids and names unknown ones', () => {
    expect(CALENDAR_IDS).toEqual(['XNYS', 'NYSE', 'XSHG', 'SSE', '24/7', 'CRYPTO']);
    expect(calendarFor('nyse').id).toBe('XNYS');
    expect(calendarFor('sse').id).toBe('XSHG');
    expect(calendarFor('crypto').id).toBe('24/7');
    expect(() => calendarFor('XLON')).toThrowError(SessionError);
    expect(() => calendarFor('XLON')).toThrowError('[UnknownCalendar] unknown calendar "XLON" (known: XNYS, NYSE, XSHG, SSE, 24/7, CRYPTO)');
  });
});
