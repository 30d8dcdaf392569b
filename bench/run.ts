// npm run bench [-- <suite> ...]: runs bench/suites/<suite>.ts, prints a table, writes bench/results/<suite>.json
import { readdirSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchResult, BenchSuite } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(join(here, 'suites'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !available.includes(w));
if (unknown.length > 0) {
  console.error(`unknown suite(s): ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}

function fmt(x: number | undefined): string {
  if (x === undefined || Number.isNaN(x)) return '';
  if (Math.abs(x) >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (Math.abs(x) >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  return x.toPrecision(4);
}

mkdirSync(join(here, 'results'), { recursive: true });
for (const name of wanted.length > 0 ? wanted : available) {
  const mod = (await import(pathToFileURL(join(here, 'suites', `${name}.ts`)).href)) as { default: BenchSuite };
  console.log(`\n## ${name}`);
  const results: BenchResult[] = await mod.default.run();
  const rows = results.map((r) => [r.name, `${fmt(r.median)} ${r.unit}`, String(r.runs), r.peer ?? '', r.peerMedian === undefined ? '' : `${fmt(r.peerMedian)} ${r.unit}`, r.ratio === undefined ? '' : `${r.ratio.toFixed(3)}x`, r.note ?? '']);
  const head = ['benchmark', 'median', 'runs', 'peer', 'peer median', 'ratio', 'note'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  const file = join(here, 'results', `${name}.json`);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(results, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}
