import { renameSync, writeFileSync } from 'node:fs';
import type { TradeRecord } from '../analytics/types.js';

/** camelCase keys to snake_case (summary.json). */
export function snakeKeys(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = v;
  return out;
}

/** Writes a whole file or nothing: a temp file renamed over the target. */
export function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

/** The trade list as CSV (trades.csv), exact decimal strings. */
export function tradeCsv(trades: readonly TradeRecord[]): string {
  const head = 'id,symbol,side,quantity,entry_time_ns,entry_price,exit_time_ns,exit_price,pnl,fees,exit_reason';
  const rows = trades.map((t) =>
    [t.id, t.symbol, t.side, t.quantity, t.entryTimeNs, t.entryPrice, t.exitTimeNs ?? '', t.exitPrice ?? '', t.pnl ?? '', t.fees, t.exitReason ?? '']
      .map((v) => {
        const s = String(v);
        return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
      })
      .join(','),
  );
  return `${[head, ...rows].join('\n')}\n`;
}
