// indicators: streaming indicator updates on the SPY minute data vs trading-signals (same indicators,
// same data, interleaved), an SMA vs a plain-loop SMA (the ceiling), and XNYS phaseAt calls/s
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { ATR, BollingerBands, EMA, MACD, RSI, SMA, VWAP } from 'trading-signals';
import { pair, type BenchResult, type BenchSuite } from '../harness.js';
import { Atr, Bollinger, Ema, IndicatorSet, Macd, Rsi, Sma, Vwap } from '../../src/indicators/index.js';
import { XnysCalendar } from '../../src/session/index.js';

const lines = gunzipSync(readFileSync(new URL('../../data/spy_1m_2011-01+03_utc.csv.gz', import.meta.url)))
  .toString('utf8')
  .trim()
  .split('\n')
  .slice(1);
const n = lines.length;
const high = new Float64Array(n);
const low = new Float64Array(n);
const close = new Float64Array(n);
const volume = new Float64Array(n);
const endNs: bigint[] = [];
const candles: { high: number; low: number; close: number; volume: number }[] = [];
lines.forEach((l, i) => {
  const f = l.split(',');
  high[i] = Number(f[2]);
  low[i] = Number(f[3]);
  close[i] = Number(f[4]);
  volume[i] = Number(f[5]);
  candles.push({ high: high[i] as number, low: low[i] as number, close: close[i] as number, volume: volume[i] as number });
  endNs.push(BigInt(Date.parse(`${(f[0] as string).replace(' ', 'T')}Z`)) * 1_000_000n);
});

const PASSES = 10;
let sink = 0;

function ours7(): void {
  for (let p = 0; p < PASSES; p++) {
    const sma = new Sma(20);
    const ema = new Ema(20);
    const rsi = new Rsi(14);
    const atr = new Atr(14);
    const bb = new Bollinger(20, 2);
    const macd = new Macd(12, 26, 9);
    const vwap = new Vwap();
    for (let i = 0; i < n; i++) {
      const h = high[i] as number;
      const l = low[i] as number;
      const c = close[i] as number;
      sma.update(c);
      ema.update(c);
      rsi.update(c);
      atr.update(h, l, c);
      bb.update(c);
      macd.update(c);
      vwap.update(h, l, c, volume[i] as number);
    }
    sink += sma.value + ema.value + rsi.value + atr.value + bb.upper + macd.signal + vwap.value;
  }
}

function ourSet(): void {
  for (let p = 0; p < PASSES; p++) {
    const set = new IndicatorSet({ sma: 20, ema: 20, rsi: 14, atr: 14, bollinger: {}, macd: {}, vwap: {} });
    for (let i = 0; i < n; i++) set.update(candles[i] as (typeof candles)[number]);
    sink += set.sma(20).value;
  }
}

function peer7(): void {
  for (let p = 0; p < PASSES; p++) {
    const sma = new SMA(20);
    const ema = new EMA(20);
    const rsi = new RSI(14);
    const atr = new ATR(14);
    const bb = new BollingerBands(20, 2);
    const macd = new MACD(new EMA(12), new EMA(26), new EMA(9));
    const vwap = new VWAP();
    for (let i = 0; i < n; i++) {
      const c = close[i] as number;
      const candle = candles[i] as (typeof candles)[number];
      sma.update(c, false);
      ema.update(c, false);
      rsi.update(c, false);
      atr.update(candle, false);
      bb.update(c, false);
      macd.update(c, false);
      vwap.update(candle, false);
    }
    sink += (sma.getResult() ?? 0) + (vwap.getResult() ?? 0);
  }
}

function oursSma(): void {
  for (let p = 0; p < PASSES; p++) {
    const sma = new Sma(20);
    for (let i = 0; i < n; i++) sma.update(close[i] as number);
    sink += sma.value;
  }
}

function plainSma(): void {
  for (let p = 0; p < PASSES; p++) {
    const period = 20;
    let sum = 0;
    let last = 0;
    for (let i = 0; i < n; i++) {
      sum += close[i] as number;
      if (i >= period) sum -= close[i - period] as number;
      if (i >= period - 1) last = sum / period;
    }
    sink += last;
  }
}

function peerSma(): void {
  for (let p = 0; p < PASSES; p++) {
    const sma = new SMA(20);
    for (let i = 0; i < n; i++) sma.update(close[i] as number, false);
    sink += sma.getResult() ?? 0;
  }
}

const cal = new XnysCalendar();
cal.phaseAt(endNs[0] as bigint); // warm the session cache: the engine's steady state
function phases(): void {
  for (let p = 0; p < PASSES; p++) {
    let active = 0;
    for (let i = 0; i < n; i++) if (cal.phaseAt(endNs[i] as bigint) === 'ACTIVE') active++;
    sink += active;
  }
}

const fmt = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', hourCycle: 'h23', hour: 'numeric', minute: 'numeric' });
function naivePhases(): void {
  // a naive peer: wall-clock minutes via Intl per call, regular hours only, no holiday logic
  for (let p = 0; p < PASSES; p++) {
    for (let i = 0; i < n; i += 10) {
      const parts = fmt.formatToParts(new Date(Number((endNs[i] as bigint) / 1_000_000n)));
      const m = Number(parts[0]?.value) * 60 + Number(parts[2]?.value);
      if (m >= 585 && m < 930) sink++;
    }
  }
}

const suite: BenchSuite = {
  name: 'indicators',
  run(): BenchResult[] {
    const work = n * PASSES;
    const all = pair(ours7, peer7, work * 7, 7, 2);
    const set = pair(ourSet, peer7, work * 7, 7, 2);
    const sma = pair(oursSma, plainSma, work, 9, 2);
    const smaPeer = pair(oursSma, peerSma, work, 9, 2);
    const ph = pair(phases, naivePhases, work, 7, 2);
    // naivePhases makes every tenth call; scale its rate to calls/s
    const naiveRate = ph.peer / 10;
    if (sink === 42) process.stdout.write('');
    const note = `SPY 1m, ${n} bars x ${PASSES} passes`;
    return [
      { name: 'SMA+EMA+RSI+ATR+BB+MACD+VWAP updates', unit: 'updates/s', median: all.subject, runs: 7, peer: 'trading-signals 8.3', peerMedian: all.peer, ratio: all.ratio, note: `${note}; 7 indicator updates per bar` },
      { name: 'same 7 via IndicatorSet.update(bar)', unit: 'updates/s', median: set.subject, runs: 7, peer: 'trading-signals 8.3', peerMedian: set.peer, ratio: set.ratio, note },
      { name: 'Sma(20) vs plain-loop SMA (ceiling)', unit: 'updates/s', median: sma.subject, runs: 9, peer: 'plain loop over Float64Array', peerMedian: sma.peer, ratio: sma.ratio, note },
      { name: 'Sma(20) vs trading-signals SMA', unit: 'updates/s', median: smaPeer.subject, runs: 9, peer: 'trading-signals SMA', peerMedian: smaPeer.peer, ratio: smaPeer.ratio, note },
      { name: 'XNYS phaseAt on bar close times', unit: 'calls/s', median: ph.subject, runs: 7, peer: 'Intl formatToParts per call (no holidays)', peerMedian: naiveRate, ratio: ph.subject / naiveRate, note },
    ];
  },
};

export default suite;
