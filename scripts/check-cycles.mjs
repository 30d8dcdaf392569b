#!/usr/bin/env node
// import-cycle and layering check over src/: exits 1 naming every cycle and every upward import
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, dirname, resolve, relative, sep } from 'node:path';

const root = resolve(process.argv[2] ?? 'src');

// layers from DESIGN.md: a module may import its own layer or lower ones, never a higher one
const LAYERS = {
  core: 0,
  model: 1,
  data: 2, indicators: 2, session: 2, matching: 2, analytics: 2,
  oms: 3, risk: 3, compliance: 3,
  strategy: 4, execution: 4, venues: 4,
  engine: 5,
  cli: 6, server: 6, report: 6,
  ml: 7, llm: 7, swarm: 7, defi: 7, exchange: 4,
};

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts') && !p.endsWith('.test.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const files = walk(root);
const graph = new Map();
const problems = [];
const importRe = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]|(?:^|\n)\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function layerOf(file) {
  const top = relative(root, file).split(sep)[0];
  return top.endsWith('.ts') ? { name: top, rank: 99 } : { name: top, rank: LAYERS[top] };
}

for (const file of files) {
  const src = readFileSync(file, 'utf8');
  const deps = [];
  for (const m of src.matchAll(importRe)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (!spec || !spec.startsWith('.')) continue;
    let target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
    if (!existsSync(target) && existsSync(join(target.replace(/\.ts$/, ''), 'index.ts'))) {
      target = join(target.replace(/\.ts$/, ''), 'index.ts');
    }
    if (!existsSync(target)) {
      problems.push(`unresolved import '${spec}' in ${relative(process.cwd(), file)}`);
      continue;
    }
    deps.push(target);
    const from = layerOf(file);
    const to = layerOf(target);
    if (from.rank === undefined) problems.push(`folder src/${from.name} has no layer in scripts/check-cycles.mjs`);
    else if (to.rank !== undefined && to.rank > from.rank && from.rank !== 99) {
      problems.push(`upward import: ${relative(process.cwd(), file)} (${from.name}) imports ${relative(process.cwd(), target)} (${to.name})`);
    }
  }
  graph.set(file, deps);
}

// tarjan's strongly connected components; any component of size > 1 (or a self-loop) is a cycle
let index = 0;
const stack = [];
const meta = new Map();
const cycles = [];
function strongConnect(v) {
  meta.set(v, { index, low: index, onStack: true });
  index++;
  stack.push(v);
  for (const w of graph.get(v) ?? []) {
    if (!meta.has(w)) {
      strongConnect(w);
      meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).low);
    } else if (meta.get(w).onStack) {
      meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).index);
    }
  }
  if (meta.get(v).low === meta.get(v).index) {
    const comp = [];
    let w;
    do {
      w = stack.pop();
      meta.get(w).onStack = false;
      comp.push(w);
    } while (w !== v);
    if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(comp);
  }
}
for (const f of files) if (!meta.has(f)) strongConnect(f);

for (const c of cycles) problems.push(`import cycle: ${c.map((f) => relative(process.cwd(), f)).join(' -> ')}`);
if (problems.length > 0) {
  for (const p of [...new Set(problems)]) console.error(p);
  process.exit(1);
}
console.log(`no import cycles or upward imports in ${files.length} files`);
