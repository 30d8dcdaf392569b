import { afterEach, beforeEach } from 'vitest';

// tests fail on unexpected console output (zod's rule): code logs through an injected logger
const methods = ['log', 'info', 'warn', 'error', 'debug'] as const;
let calls: string[] = [];
const originals = new Map<string, (...args: unknown[]) => void>();

beforeEach(() => {
  calls = [];
  for (const m of methods) {
    originals.set(m, console[m]);
    console[m] = (...args: unknown[]) => {
      calls.push(`console.${m}: ${args.map(String).join(' ')}`);
    };
  }
});

afterEach(() => {
  for (const m of methods) console[m] = originals.get(m) as (typeof console)[typeof m];
  if (calls.length > 0) throw new Error(`unexpected console output:\n${calls.join('\n')}`);
});
