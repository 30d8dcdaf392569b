#!/usr/bin/env node
// npm writes lock entries only for the optional platform packages the registry it sees serves; the one
// reachable here lacks DuckDB's darwin/win32/arm64 builds, and `npm ci` then refuses the lock as out of
// sync. This adds a version-only entry (never installed on linux-x64) for each one missing.
// Run after `npm install` changes the lock: node scripts/fix-lock.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const PLATFORMS = {
  'darwin-arm64': ['darwin', 'arm64', null],
  'darwin-x64': ['darwin', 'x64', null],
  'linux-arm64': ['linux', 'arm64', 'glibc'],
  'linux-arm64-musl': ['linux', 'arm64', 'musl'],
  'linux-x64': ['linux', 'x64', 'glibc'],
  'linux-x64-musl': ['linux', 'x64', 'musl'],
  'win32-arm64': ['win32', 'arm64', null],
  'win32-x64': ['win32', 'x64', null],
};
let added = 0;
for (const [key, pkg] of Object.entries(lock.packages)) {
  if (!key.endsWith('node_modules/@duckdb/node-bindings')) continue;
  for (const [name, version] of Object.entries(pkg.optionalDependencies ?? {})) {
    const target = `${key}-${name.slice('@duckdb/node-bindings-'.length)}`;
    if (lock.packages[target] !== undefined) continue;
    const [os, cpu, libc] = PLATFORMS[name.slice('@duckdb/node-bindings-'.length)] ?? [];
    if (os === undefined) continue;
    lock.packages[target] = { version, cpu: [cpu], ...(libc ? { libc: [libc] } : {}), license: 'MIT', optional: true, os: [os] };
    added++;
  }
}
const sorted = {};
for (const k of Object.keys(lock.packages).sort((a, b) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0))) sorted[k] = lock.packages[k];
lock.packages = sorted;
writeFileSync('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`);
console.log(`added ${added} lock entries`);
