import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashTree, tempDir } from '../../test/data/util.js';
import { concatColumns } from './columns.js';
import type { BarColumns } from './columns.js';
import { exportCsv, formatDecimal } from './csv-export.js';
import { epochUnitNs, importCsv, parseBarsCsv, parseDecimal, readTextFile } from './csv-import.js';
import { DataError } from './errors.js';
import { BarStore } from './store.js';
import { formatIsoUtc } from './time.js';

const HEADER = 'datetime,open,high,low,close,volume';
const GOOD = [HEADER, '2011-01-03 14:30:00,10,11,9,10.5,100', '2011-01-03 14:31:00,10.5,11,10,10.75,200', '2011-01-03 14:32:00,10.75,12,10.5,11,300'];

let tmp: { dir: string; cleanup: () => void };
let store: BarStore;
beforeEach(() => {
  tmp = tempDir();
  store = new BarStore(join(tmp.dir, 'store'));
});
afterEach(() => tmp.cleanup());

function file(name: string, lines: string[]): string {
  const p = join(tmp.dir, name);
  writeFileSync(p, `${lines.join('\n')}\n`);
  return p;
}

async function all(symbol: string): Promise<BarColumns> {
  const parts: BarColumns[] = [];
  for await (const b of store.read(symbol)) parts.push(b);
  return concatColumns(parts);
}

/** Imports `lines` into a store that already holds GOOD, expects InvalidData naming line and field, and the store unchanged. */
async function expectBad(lines: string[], line: number, field: string, problem: RegExp): Promise<void> {
  await importCsv(file('seed.csv', GOOD), { symbol: 'SPY', store });
  const before = hashTree(store.dir);
  const path = file('bad.csv', lines);
  const err = await importCsv(path, { symbol: 'SPY', store, timeframe: '1m' }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(DataError);
  expect((err as DataError).code).toBe('InvalidData');
  const msg = (err as DataError).message;
  expect(msg).toContain(path);
  expect(msg).toContain(`row ${line}, field ${field}:`);
  expect(msg).toMatch(problem);
  expect(hashTree(store.dir)).toEqual(before);
}

const D = '2011-01-04 14:3';
describe('importCsv validation: every rule fails the whole file, names row and field, leaves the store unchanged', () => {
  it('non-numeric value', () => expectBad([HEADER, `${D}0:00,10,11,9,10,1`, `${D}1:00,10,abc,9,10,1`], 3, 'high', /not a number: "abc"/));
  it('empty value', () => expectBad([HEADER, `${D}0:00,10,11,9,,1`], 2, 'close', /is empty/));
  it('non-finite value', () => expectBad([HEADER, `${D}0:00,10,11,9,10,1`, `${D}1:00,10,1e999,9,10,1`], 3, 'high', /not a finite number/));
  it('price <= 0', () => expectBad([HEADER, `${D}0:00,10,11,9,10,1`, `${D}1:00,0,11,0,10,1`], 3, 'open', /open must be > 0, got 0/));
  it('high below open/close', () => expectBad([HEADER, `${D}0:00,10,9.5,9,10,1`], 2, 'high', /high 9.5 is below open 10/));
  it('low above open/close', () => expectBad([HEADER, `${D}0:00,10,11,10.5,11,1`], 2, 'low', /low 10.5 is above open 10/));
  it('negative volume', () => expectBad([HEADER, `${D}0:00,10,11,9,10,-5`], 2, 'volume', /volume must be >= 0, got -5/));
  it('timestamp out of order', () => expectBad([HEADER, `${D}1:00,10,11,9,10,1`, `${D}0:00,10,11,9,10,1`], 3, 'datetime', /out of order/));
  it('duplicated timestamp', () => expectBad([HEADER, `${D}0:00,10,11,9,10,1`, `${D}0:00,10,11,9,10,1`], 3, 'datetime', /duplicates the previous row/));
  it('bad timestamp text', () => expectBad([HEADER, `2011-13-04 14:30:00,10,11,9,10,1`], 2, 'datetime', /not a valid date/));
  it('wrong field count', () => expectBad([HEADER, `${D}0:00,10,11,9,10`], 2, 'row', /has 5 fields, the header has 6/));
  it('overlap with bars already in the store', () =>
    expectBad([HEADER, '2011-01-03 14:32:00,10,11,9,10,1', '2011-01-03 14:33:00,10,11,9,10,1'], 2, 'datetime', /overlaps bars already in the store \(SPY 2011-01-03 has bars up to 2011-01-03T14:32:00Z\)/));
  it('bar inside the previous bar\'s span', () => expectBad([HEADER, `${D}0:00,10,11,9,10,1`, `${D}1:00,10,11,9,10,1`, `${D}1:30,10,11,9,10,1`, `${D}2:00,10,11,9,10,1`], 4, 'datetime', /inside its 1m span/));

  it('collects many problems (up to 20 listed) and counts them all', async () => {
    const lines = [HEADER];
    for (let i = 0; i < 30; i++) lines.push(`2011-01-04 10:${String(i).padStart(2, '0')}:00,10,11,9,10,-1`);
    const err = (await importCsv(file('many.csv', lines), { symbol: 'SPY', store }).catch((e: unknown) => e)) as DataError;
    expect(err.message).toMatch(/30 bad rows, nothing imported/);
    expect(err.message).toContain('... and 10 more');
    expect(err.message).toContain('many.csv:21 field volume');
    expect(hashTree(store.dir)).toEqual({});
  });

  it('a file of another timeframe than the stored bars is InvalidInput naming the file', async () => {
    await importCsv(file('seed.csv', GOOD), { symbol: 'SPY', store });
    const before = hashTree(store.dir);
    const path = file('daily.csv', ['date,open,high,low,close,volume', '2011-02-01,1,1,1,1,1', '2011-02-02,1,1,1,1,1']);
    const err = (await importCsv(path, { symbol: 'SPY', store }).catch((e: unknown) => e)) as DataError;
    expect(err.code).toBe('InvalidInput');
    expect(err.message).toContain(`${path}: SPY is stored as 1m bars, this file has 1d bars`);
    expect(hashTree(store.dir)).toEqual(before);
  });

  it('a file without header is an error saying the header is missing', async () => {
    const err = (await importCsv(file('nohead.csv', GOOD.slice(1)), { symbol: 'SPY', store }).catch((e: unknown) => e)) as DataError;
    expect(err.code).toBe('InvalidData');
    expect(err.message).toMatch(/nohead.csv:1: the header is missing/);
  });

  it('a header lacking a column or with a bad first column is InvalidInput', async () => {
    await expect(importCsv(file('h1.csv', ['datetime,open,high,low,close', '2011-01-04 10:00,1,1,1,1']), { symbol: 'SPY', store })).rejects.toThrow(/lacks column volume/);
    await expect(importCsv(file('h2.csv', ['when,open,high,low,close,volume']), { symbol: 'SPY', store })).rejects.toThrow(/first column must be named datetime, timestamp or date/);
    await expect(importCsv(join(tmp.dir, 'missing.csv'), { symbol: 'SPY', store })).rejects.toThrow(/\[FileNotFound\] cannot read .*missing.csv: ENOENT/);
  });
});

describe('importCsv formats', () => {
  it('header names are case-insensitive, extra columns ignored, CRLF and gzip accepted', async () => {
    const p = join(tmp.dir, 'x.csv.gz');
    writeFileSync(p, gzipSync('Timestamp,Open,High,Low,Close,Adj Close,Volume\r\n2011-01-03T14:30:00Z,1,2,0.5,1.5,9,10\r\n2011-01-03T14:31:00Z,1,2,0.5,1.5,9,20\r\n'));
    const r = await importCsv(p, { symbol: 'SPY', store });
    expect(r).toMatchObject({ bars: 2, timeframe: '1m', first: '2011-01-03T14:30:00Z' });
    expect(Array.from((await all('SPY')).volume)).toEqual([10, 20]);
  });

  it('--bar-time end shifts the stamp back by one timeframe', async () => {
    const r = await importCsv(file('e.csv', GOOD), { symbol: 'SPY', store, barTime: 'end' });
    expect(r.first).toBe('2011-01-03T14:29:00Z');
    const c = await all('SPY');
    expect(formatIsoUtc(c.closeTimeNs[0] as bigint)).toBe('2011-01-03T14:30:00Z');
  });

  it('infers the timeframe from the most common gap and checks a given one', async () => {
    const lines = [HEADER, '2011-01-03 14:30:00,1,1,1,1,1', '2011-01-03 14:35:00,1,1,1,1,1', '2011-01-03 14:40:00,1,1,1,1,1', '2011-01-03 15:40:00,1,1,1,1,1'];
    expect(parseBarsCsv(lines.join('\n'), { symbol: 'X' }).bars.timeframe).toBe('5m');
    expect(() => parseBarsCsv(lines.join('\n'), { symbol: 'X', timeframe: '1m' })).toThrow(/timeframe 1m was given but the most common gap between rows says 5m/);
    expect(() => parseBarsCsv([HEADER, '2011-01-03 14:30:00,1,1,1,1,1', '2011-01-03 14:30:07,1,1,1,1,1'].join('\n'), { symbol: 'X' })).toThrow(/cannot infer the timeframe/);
    expect(() => parseBarsCsv([HEADER, '2011-01-03 14:30:00,1,1,1,1,1'].join('\n'), { symbol: 'X' })).toThrow(/single row; pass --timeframe/);
  });

  it('epoch seconds, ms, µs and ns are detected by magnitude', () => {
    const t = 1_294_065_000n; // 2011-01-03T14:30:00Z
    for (const [mul, unit] of [
      [1n, 1_000_000_000n],
      [1000n, 1_000_000n],
      [1_000_000n, 1000n],
      [1_000_000_000n, 1n],
    ] as const) {
      expect(epochUnitNs(t * mul)).toBe(unit);
      const text = ['timestamp,open,high,low,close,volume', `${t * mul},1,1,1,1,1`, `${(t + 60n) * mul},1,1,1,1,1`].join('\n');
      const { bars } = parseBarsCsv(text, { symbol: 'X', tz: 'America/New_York' });
      expect(formatIsoUtc(bars.openTimeNs[0] as bigint)).toBe('2011-01-03T14:30:00Z');
      expect(bars.timeframe).toBe('1m');
    }
  });

  it('an epoch value beyond int64 ns is a bad row, not a wrapped time', () => {
    const text = ['timestamp,open,high,low,close,volume', '1294065000000000000,1,1,1,1,1', '99999999999999999999,1,1,1,1,1'].join('\n');
    expect(() => parseBarsCsv(text, { symbol: 'X', timeframe: '1m', file: 'big.csv' })).toThrow(/big.csv:3 field timestamp: epoch value 99999999999999999999 is outside/);
  });

  it('ISO stamps with zones and fractional seconds', () => {
    const text = [HEADER, '2011-01-03T09:30:00-05:00,1,1,1,1,1', '2011-01-03T14:31:00.000Z,1,1,1,1,1', '2011-01-03T15:32:00+0100,1,1,1,1,1', '2011-01-03 14:33:00.5+00:00,1,1,1,1,1'].join('\n');
    const { bars } = parseBarsCsv(text, { symbol: 'X', timeframe: '1m', tz: 'Asia/Tokyo' });
    expect(Array.from(bars.openTimeNs, (t) => formatIsoUtc(t))).toEqual(['2011-01-03T14:30:00Z', '2011-01-03T14:31:00Z', '2011-01-03T14:32:00Z', '2011-01-03T14:33:00.500Z']);
  });

  it('naive stamps in America/New_York map to the right UTC across the 2011-03-13 DST change', () => {
    const text = [HEADER, '2011-03-12 09:30:00,1,1,1,1,1', '2011-03-13 01:59:00,1,1,1,1,1', '2011-03-13 03:00:00,1,1,1,1,1', '2011-03-14 09:30:00,1,1,1,1,1', '2011-11-06 01:30:00,1,1,1,1,1', '2011-11-06 01:45:00,1,1,1,1,1', '2011-11-06 01:15:00,1,1,1,1,1'].join('\n');
    const { bars } = parseBarsCsv(text, { symbol: 'X', tz: 'America/New_York', timeframe: '1m' });
    expect(Array.from(bars.openTimeNs, (t) => formatIsoUtc(t))).toEqual([
      '2011-03-12T14:30:00Z',
      '2011-03-13T06:59:00Z',
      '2011-03-13T07:00:00Z',
      '2011-03-14T13:30:00Z',
      // fall back: 01:30 and 01:45 are the first (EDT) occurrence; 01:15 after them must be the second (EST)
      '2011-11-06T05:30:00Z',
      '2011-11-06T05:45:00Z',
      '2011-11-06T06:15:00Z',
    ]);
  });

  it('a naive stamp inside a DST gap is a bad row', () => {
    expect(() => parseBarsCsv([HEADER, '2011-03-13 02:30:00,1,1,1,1,1'].join('\n'), { symbol: 'X', tz: 'America/New_York', timeframe: '1m', file: 'g.csv' })).toThrow(
      /g.csv:2 field datetime: "2011-03-13 02:30:00" does not exist in America\/New_York/,
    );
    expect(() => parseBarsCsv('x', { symbol: 'X', tz: 'Mars/Olympus' })).toThrow(/\[InvalidInput\] unknown time zone "Mars\/Olympus"/);
  });

  it('date-only rows are daily bars opening at local midnight in tz', async () => {
    const { bars } = parseBarsCsv(['date,open,high,low,close,volume', '2011-03-11,1,1,1,1,1', '2011-03-14,1,1,1,1,1', '2011-03-15,1,1,1,1,1'].join('\n'), { symbol: 'X', tz: 'America/New_York', barTime: 'end' });
    expect(bars.timeframe).toBe('1d');
    expect(Array.from(bars.openTimeNs, (t) => formatIsoUtc(t))).toEqual(['2011-03-11T05:00:00Z', '2011-03-14T04:00:00Z', '2011-03-15T04:00:00Z']);
  });

  it('the bundled S&P 500 daily file imports and exports the same values', async () => {
    const r = await importCsv('data/spx_1d_2000_2020.csv', { symbol: 'SPX', store });
    expect(r).toMatchObject({ bars: 5105, timeframe: '1d', first: '2000-01-03T00:00:00Z', last: '2020-04-17T00:00:00Z' });
    const chunks: string[] = [];
    await exportCsv(store, 'SPX', {}, (c) => void chunks.push(c));
    const out = chunks.join('').trimEnd().split('\n');
    const src = readTextFile('data/spx_1d_2000_2020.csv').trimEnd().split('\n');
    expect(out.length).toBe(src.length);
    const expected = src.slice(1).map((line) => {
      const a = line.split(',');
      return [`${a[0]}T00:00:00Z`, ...a.slice(1).map((x) => formatDecimal(Number(x)))].join(',');
    });
    expect(out.slice(1)).toEqual(expected);
  });
});

describe('import then export gives back every value exactly', () => {
  it('the whole bundled SPY minute file (stamps are bar END times in UTC)', async () => {
    const path = 'data/spy_1m_2011-01+03_utc.csv.gz';
    const r = await importCsv(path, { symbol: 'SPY', store, barTime: 'end' });
    expect(r.bars).toBe(31757);
    const chunks: string[] = [];
    const n = await exportCsv(store, 'SPY', {}, (c) => void chunks.push(c));
    expect(n).toBe(31757);
    const out = chunks.join('').trimEnd().split('\n');
    const src = readTextFile(path).trimEnd().split('\n');
    expect(out[0]).toBe('datetime,open,high,low,close,volume');
    expect(out.length).toBe(src.length);
    // the source numbers are already in shortest form, so the text must match exactly
    const expected = src.slice(1).map((line) => {
      const a = line.split(',');
      const end = Date.parse(`${(a[0] as string).replace(' ', 'T')}Z`);
      return [new Date(end - 60_000).toISOString().replace('.000Z', 'Z'), ...a.slice(1)].join(',');
    });
    expect(out.slice(1)).toEqual(expected);
    const values = (lines: string[]): number[] => lines.slice(1).flatMap((l) => l.split(',').slice(1).map(Number));
    expect(values(out)).toEqual(values(src));
  });

  it('formatDecimal never uses exponent notation and round-trips', () => {
    for (const x of [1e-7, 1.5e-10, 1e21, 1.2345678901234569e23, 0.1, 100, 126.35, 5e-324, 1.7976931348623157e308]) {
      const s = formatDecimal(x);
      expect(s).not.toMatch(/e/i);
      expect(Number(s)).toBe(x);
    }
    expect(formatDecimal(1e-7)).toBe('0.0000001');
    expect(formatDecimal(1.25e21)).toBe('1250000000000000000000');
    expect(formatDecimal(-2.5e-8)).toBe('-0.000000025');
  });
});

describe('CSV scanner fast paths', () => {
  it('parseDecimal equals Number() on every accepted text and refuses the rest (property)', () => {
    const digits = fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 0, maxLength: 24 });
    const decimal = fc
      .tuple(fc.constantFrom('', '+', '-'), digits, fc.option(digits), fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), digits)))
      .map(([sign, int, frac, exp]) => `${sign}${int}${frac === null ? '' : `.${frac}`}${exp === null ? '' : exp.join('')}`);
    fc.assert(
      fc.property(decimal, fc.constantFrom('', ',', ' x'), (text, tail) => {
        const padded = `${text}${tail}`;
        const got = parseDecimal(padded, 0, text.length);
        const syntaxOk = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text);
        if (syntaxOk) expect(Object.is(got, Number(text))).toBe(true);
        else expect(got).toBeNaN();
      }),
      { numRuns: 3000 },
    );
    for (const t of ['0.1', '126.35', '-0', '9007199254740993', '1e22', '1e23', '123456789012345678e-30', '4.9e-324', '1.7976931348623157e308', '2e308']) {
      expect(Object.is(parseDecimal(t, 0, t.length), Number(t))).toBe(true);
    }
    for (const t of ['', '.', '-', '1e', '1e+', '0x10', 'Infinity', '1.2.3', '1_0', '--1']) expect(parseDecimal(t, 0, t.length)).toBeNaN();
  });

  it('ISO stamps map to the exact epoch ns, before and after 1970 (property)', () => {
    const minMs = Date.UTC(1678, 0, 1);
    const maxMs = Date.UTC(2261, 11, 31);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: minMs / 1000, max: maxMs / 1000 }), { minLength: 2, maxLength: 20 }), fc.integer({ min: 0, max: 999_999_999 }), (secs, frac) => {
        const sorted = [...secs].sort((a, b) => a - b);
        const rows = sorted.map((s) => `${new Date(s * 1000).toISOString().slice(0, 19)}.${String(frac).padStart(9, '0')}Z,1,1,1,1,1`);
        const { bars } = parseBarsCsv([HEADER, ...rows].join('\n'), { symbol: 'X', timeframe: '1s' });
        const want = sorted.map((s) => BigInt(s) * 1_000_000_000n + BigInt(frac));
        expect(Array.from(bars.openTimeNs)).toEqual(want);
        expect(Array.from(bars.closeTimeNs)).toEqual(want.map((t) => t + 1_000_000_000n));
      }),
      { numRuns: 300 },
    );
  });

  it('an ISO stamp outside the int64 ns range (years 1677-2262) is a bad row, not a wrapped time', () => {
    expect(() => parseBarsCsv([HEADER, '2262-04-12 00:00:00,1,1,1,1,1', '2300-01-01 00:00:00,1,1,1,1,1'].join('\n'), { symbol: 'X', timeframe: '1d', file: 'far.csv' })).toThrow(
      /far.csv:2 field datetime: "2262-04-12 00:00:00" is outside the representable range[\s\S]*far.csv:3 field datetime: "2300-01-01 00:00:00" is outside/,
    );
    expect(() => parseBarsCsv([HEADER, '1600-01-01,1,1,1,1,1'].join('\n'), { symbol: 'X', timeframe: '1d' })).toThrow(/"1600-01-01" is outside the representable range/);
    const edge = parseBarsCsv([HEADER, '2262-04-11T23:47:16.854775Z,1,1,1,1,1'].join('\n'), { symbol: 'X', timeframe: '1s', barTime: 'end' });
    expect(edge.bars.closeTimeNs[0]).toBe(9_223_372_036_854_775_000n);
  });

  it('a line with a single field in a file without further commas stays a bad row', () => {
    const rows = [HEADER, '2011-01-03 14:30:00,1,1,1,1,1', ...Array.from({ length: 50 }, () => 'garbage')];
    expect(() => parseBarsCsv(rows.join('\n'), { symbol: 'X', timeframe: '1m', file: 'g.csv' })).toThrow(/50 bad rows[\s\S]*g.csv:3 field row: has 1 fields, the header has 6/);
  });
});
