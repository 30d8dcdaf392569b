// crash.test.ts runs this in a child process and kills it with SIGKILL: it records intents and writes
// checkpoints in a loop, reporting each on stdout only after the store call returned
import { writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { StateStore } from './store.js';

/** The deterministic state checkpointed at bar `bar`: 20 symbols with indicator windows, bigints and padding. */
export function crashState(bar: number): unknown {
  const symbols: Record<string, unknown> = {};
  for (let s = 0; s < 20; s++) {
    const windows: number[][] = [];
    for (let k = 0; k < 5; k++) windows.push(Array.from({ length: 30 }, (_, i) => 100 + Math.sin(bar * 7 + s * 31 + k * 3 + i)));
    symbols[`SYM${s}`] = { qty: `${bar % 13}.5`, lastNs: BigInt(bar) * 60_000_000_000n + BigInt(s), windows, ema: bar % 2 === 0 ? Number.NaN : bar / 3 };
  }
  return { bar, symbols, pad: `${bar}:`.repeat(40_000), killSwitch: bar % 7 === 0 };
}

function main(file: string, hash: string): void {
  const store = StateStore.open(file, { configHash: hash, create: true, createdNs: 0n });
  let bar = store.loadCheckpoint()?.barCount ?? 0;
  let next = store.intents().length;
  writeSync(1, `ready ${bar}\n`);
  for (;;) {
    bar++;
    const id = `C-${next++}`;
    store.recordIntent({ clientOrderId: id, symbol: 'SPY', side: bar % 2 === 0 ? 'Buy' : 'Sell', type: 'Market', quantity: '1', purpose: 'entry', reason: 'crash test', barIndex: bar, createdNs: BigInt(bar) });
    writeSync(1, `intent ${id}\n`);
    if (bar % 5 === 0) {
      store.writeCheckpoint({ barCount: bar, tsNs: BigInt(bar), state: crashState(bar), audit: { seq: bar, hash: `h${bar}` } });
      writeSync(1, `checkpoint ${bar}\n`);
    }
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, hash] = process.argv.slice(2);
  if (file === undefined || hash === undefined) throw new Error('usage: crash-writer.fixture.ts <state.sqlite> <config hash>');
  main(file, hash);
}
