import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Json } from '@duckdb/node-api';
import { DataError } from './errors.js';

/** Result of a SQL query: column names and rows as JSON-safe values (BIGINT and timestamps as strings). */
export interface SqlResult {
  columns: string[];
  rows: Json[][];
}

function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

function hasBarFiles(dir: string): boolean {
  const root = join(dir, 'bars');
  if (!existsSync(root)) return false;
  return readdirSync(root, { recursive: true, encoding: 'utf8' }).some((f) => /\d{4}-\d{2}-\d{2}\.parquet$/.test(f) && !/(^|\/)\./.test(f));
}

/**
 * Runs SQL with DuckDB over the store in `store.dir`. The view `bars(symbol, open_time, open, high, low,
 * close, volume, open_time_ns, close_time_ns)` reads every day file; `open_time` is a TIMESTAMP_NS (UTC).
 * @throws DataError QueryFailed
 */
export async function querySql(store: { dir: string }, query: string): Promise<SqlResult> {
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  try {
    const source = hasBarFiles(store.dir)
      ? `SELECT regexp_extract(filename, '[\\\\/]bars[\\\\/]([^\\\\/]+)[\\\\/][^\\\\/]+$', 1) AS symbol, make_timestamp_ns(open_time_ns) AS open_time, open, high, low, close, volume, open_time_ns, close_time_ns
         FROM read_parquet(${sqlString(join(store.dir, 'bars', '*', '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9].parquet'))}, filename = true)`
      : `SELECT NULL::VARCHAR AS symbol, NULL::TIMESTAMP_NS AS open_time, NULL::DOUBLE AS open, NULL::DOUBLE AS high, NULL::DOUBLE AS low, NULL::DOUBLE AS close, NULL::DOUBLE AS volume, NULL::BIGINT AS open_time_ns, NULL::BIGINT AS close_time_ns WHERE false`;
    await con.run(`CREATE VIEW bars AS ${source}`);
    const reader = await con.runAndReadAll(query);
    return { columns: reader.columnNames(), rows: reader.getRowsJson() };
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError('QueryFailed', `query failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  } finally {
    con.closeSync();
    instance.closeSync();
  }
}
