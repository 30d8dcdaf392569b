import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { daysFromCivil, formatDate, parseDate, weekday } from './civil.js';
import { SessionError } from './errors.js';
import { calendarFor } from './registry.js';
import { XnysCalendar } from './xnys.js';

const fixtures = new URL('../../fixtures/calendar/', import.meta.url);
const ns = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;

describe('XNYS against exchange_calendars (1990-01-02..2023-01-13)', () => {
  const rows = readFileSync(new URL('exchange_calendars_xnys.csv', fixtures), 'utf8').trim().split('\n').slice(1);
  const cal = new XnysCalendar();

  it('has exactly the fixture sessions, each with its UTC open and close', () => {
    expect(rows.length).toBe(8324);
    const expected = new Map<string, [string, string]>();
    for (const row of rows) {
      const [day, open, close, bs, be] = row.split(',');
      expect(bs).toBe('');
      expect(be).toBe('');
      expected.set((day as string).slice(0, 10), [open as string, close as string]);
    }
    let checked = 0;
    for (let d = parseDate('1990-01-01'); d <= parseDate('2023-01-13'); d++) {
      const date = formatDate(d);
      const s = cal.sessionOn(date);
      const want = expected.get(date);
      if (want === undefined) {
        if (s !== undefined) throw new Error(`${date}: we have a session, the fixture does not`);
        continue;
      }
      if (s === undefined) throw new Error(`${date}: the fixture has a session, we do not`);
      if (s.openNs !== ns(want[0]) || s.closeNs !== ns(want[1])) throw new Error(`${date}: ${s.openNs}-${s.closeNs} vs ${want[0]}-${want[1]}`);
      expect(s.breaks).toEqual([]);
      expect(s.earlyClose).toBe(!want[1].endsWith('T21:00:00Z') && !want[1].endsWith('T20:00:00Z'));
      checked++;
    }
    expect(checked).toBe(8324);
  });

  it('closes on every full-day holiday of pandas_market_calendars since 1990', () => {
    const lines = readFileSync(new URL('pmc_nyse_all_full_day_holidays_since_1928.csv', fixtures), 'utf8').trim().split('\n');
    let checked = 0;
    for (const line of lines) {
      const [m, d, y] = line.trim().split('/').map(Number) as [number, number, number];
      if (y < 1990) continue;
      const days = daysFromCivil(y, m, d);
      if (weekday(days) === 0 || weekday(days) === 6) continue;
      expect(cal.isTradingDay(formatDate(days)), formatDate(days)).toBe(false);
      checked++;
    }
    expect(checked).toBe(283);
  });
});

describe('XNYS hand-checked 2024-2027 (NYSE published schedule)', () => {
  const cal = calendarFor('XNYS');
  const holidays: Record<number, string[]> = {
    2024: ['01-01', '01-15', '02-19', '03-29', '05-27', '06-19', '07-04', '09-02', '11-28', '12-25'],
    2025: ['01-01', '01-09', '01-20', '02-17', '04-18', '05-26', '06-19', '07-04', '09-01', '11-27', '12-25'],
    2026: ['01-01', '01-19', '02-16', '04-03', '05-25', '06-19', '07-03', '09-07', '11-26', '12-25'],
    2027: ['01-01', '01-18', '02-15', '03-26', '05-31', '06-18', '07-05', '09-06', '11-25', '12-24'],
  };
  const early: Record<number, string[]> = {
    2024: ['07-03', '11-29', '12-24'],
    2025: ['07-03', '11-28', '12-24'],
    2026: ['11-27', '12-24'],
    2027: ['11-26'],
  };

  it.each([2024, 2025, 2026, 2027])('%i: holidays, early closes, and every other weekday 09:30-16:00', (year) => {
    const hol = new Set((holidays[year] as string[]).map((d) => `${year}-${d}`));
    const ec = new Set((early[year] as string[]).map((d) => `${year}-${d}`));
    let sessions = 0;
    for (let d = daysFromCivil(year, 1, 1); d < daysFromCivil(year + 1, 1, 1); d++) {
      const date = formatDate(d);
      const s = cal.sessionOn(date);
      const wd = weekday(d);
      if (wd === 0 || wd === 6 || hol.has(date)) {
        expect(s, date).toBeUndefined();
        continue;
      }
      expect(s, date).toBeDefined();
      const local = (t: bigint): string =>
        new Date(Number(t / 1_000_000n)).toLocaleTimeString('en-GB', { timeZone: 'America/New_York', hour: '2-digit', minute: '2-digit' });
      expect(local(s!.openNs), date).toBe('09:30');
      expect(local(s!.closeNs), date).toBe(ec.has(date) ? '13:00' : '16:00');
      expect(s!.earlyClose).toBe(ec.has(date));
      sessions++;
    }
    expect(sessions).toBe({ 2024: 252, 2025: 250, 2026: 251, 2027: 251 }[year]);
  });

  it('handles DST: 09:30 ET is 14:30 UTC in winter and 13:30 UTC in summer, switching on the right Sunday', () => {
    expect(cal.sessionOn('2024-03-08')!.openNs).toBe(ns('2024-03-08T14:30:00Z'));
    expect(cal.sessionOn('2024-03-11')!.openNs).toBe(ns('2024-03-11T13:30:00Z'));
    expect(cal.sessionOn('2024-11-01')!.closeNs).toBe(ns('2024-11-01T20:00:00Z'));
    expect(cal.sessionOn('2024-11-04')!.closeNs).toBe(ns('2024-11-04T21:00:00Z'));
    expect(cal.sessionOn('2024-11-04')!.preMarketStartNs).toBe(ns('2024-11-04T09:00:00Z'));
    expect(cal.sessionOn('2024-11-04')!.afterHoursEndNs).toBe(ns('2024-11-05T01:00:00Z'));
  });

  it('refuses years it does not know and malformed dates', () => {
    expect(() => cal.sessionOn('1989-12-29')).toThrowError(/\[OutOfRange\] XNYS: 1989-12-29 is outside/);
    expect(() => cal.sessionOn('2100-01-04')).toThrowError(SessionError);
    expect(() => cal.sessionOn('2024-02-30')).toThrowError(/\[InvalidDate\] no such date "2024-02-30"/);
    expect(() => cal.isTradingDay('24-01-01')).toThrowError(/\[InvalidDate\]/);
  });
});
