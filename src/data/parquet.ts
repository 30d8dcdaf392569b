import { parquetMetadata, parquetRead } from 'hyparquet';
import type { FileMetaData } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { parseTimeframe } from '../model/bar.js';
import type { Timeframe } from '../model/bar.js';
import { allocColumns } from './columns.js';
import type { BarColumns } from './columns.js';
import { DataError } from './errors.js';

const DOUBLE_COLUMNS = ['open', 'high', 'low', 'close', 'volume'] as const;
/** Marks files written by encodeBarsParquet: one row group, one uncompressed PLAIN page per column. */
const LAYOUT_KEY = 'axon_layout';
const LAYOUT_PLAIN = 'plain-single-page-v1';

/**
 * Encodes bars as one Parquet file (hyparquet-writer; PLAIN, uncompressed: the fastest to read here,
 * see src/data/README.md) with key-value metadata `symbol` and `timeframe`.
 */
export function encodeBarsParquet(cols: BarColumns): Uint8Array {
  const n = cols.length;
  const buf = parquetWriteBuffer({
    columnData: [
      { name: 'open_time_ns', data: cols.openTimeNs.subarray(0, n), type: 'INT64', nullable: false, encoding: 'PLAIN' },
      { name: 'close_time_ns', data: cols.closeTimeNs.subarray(0, n), type: 'INT64', nullable: false, encoding: 'PLAIN', statistics: false },
      ...DOUBLE_COLUMNS.map((name) => ({ name, data: cols[name].subarray(0, n), type: 'DOUBLE' as const, nullable: false, encoding: 'PLAIN' as const, statistics: false })),
    ],
    codec: 'UNCOMPRESSED',
    rowGroupSize: Math.max(n, 1),
    pageSize: Math.max(1 << 20, 8 * n + 4096),
    kvMetadata: [
      { key: LAYOUT_KEY, value: LAYOUT_PLAIN },
      { key: 'symbol', value: cols.symbol },
      { key: 'timeframe', value: cols.timeframe },
    ],
    createdBy: 'axon-quant',
  });
  return new Uint8Array(buf);
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes.buffer;
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
}

function metadataOf(file: ArrayBuffer, where: string): FileMetaData {
  try {
    return parquetMetadata(file);
  } catch (e) {
    throw new DataError('StoreCorrupt', `${where} is not a readable Parquet file: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

function kv(md: FileMetaData, key: string): string | undefined {
  return md.key_value_metadata?.find((e) => e.key === key)?.value;
}

/** Row count and last open time (epoch ns, from column statistics) of a bar file, without decoding it. @throws DataError StoreCorrupt */
export function barFileSummary(bytes: Uint8Array, where: string): { rows: number; lastOpenTimeNs: bigint | undefined; symbol: string | undefined; timeframe: string | undefined } {
  const md = metadataOf(toArrayBuffer(bytes), where);
  let last: bigint | undefined;
  for (const rg of md.row_groups) {
    const col = rg.columns.find((c) => c.meta_data?.path_in_schema[0] === 'open_time_ns');
    const max = col?.meta_data?.statistics?.max_value;
    if (typeof max === 'bigint' && (last === undefined || max > last)) last = max;
  }
  return { rows: Number(md.num_rows), lastOpenTimeNs: last, symbol: kv(md, 'symbol'), timeframe: kv(md, 'timeframe') };
}

const FAST_TARGETS = ['open_time_ns', 'close_time_ns', ...DOUBLE_COLUMNS] as const;

/**
 * Fast path for files this store writes (one row group, one uncompressed PLAIN page per REQUIRED
 * column, no dictionary): the values are the last 8*n bytes of each column chunk, copied straight into
 * the typed arrays. Returns false (use hyparquet) for anything else.
 */
function decodePlainFast(bytes: Uint8Array, md: FileMetaData, out: BarColumns): boolean {
  const n = out.length;
  if (kv(md, LAYOUT_KEY) !== LAYOUT_PLAIN) return false;
  if (md.row_groups.length !== 1) return n === 0 && md.row_groups.length === 0;
  const rg = md.row_groups[0] as FileMetaData['row_groups'][number];
  const found = new Map<string, { start: number; end: number }>();
  for (const col of rg.columns) {
    const m = col.meta_data;
    if (m === undefined) return false;
    const name = m.path_in_schema.join('.');
    const wantType = name.endsWith('_ns') ? 'INT64' : 'DOUBLE';
    if (
      m.type !== wantType ||
      m.codec !== 'UNCOMPRESSED' ||
      m.dictionary_page_offset !== undefined ||
      m.encodings.some((e) => e !== 'PLAIN') ||
      Number(m.num_values) !== n ||
      m.total_compressed_size !== m.total_uncompressed_size
    ) {
      if ((FAST_TARGETS as readonly string[]).includes(name)) return false;
      continue;
    }
    const start = Number(m.data_page_offset);
    const end = start + Number(m.total_compressed_size);
    // one page: the chunk is a page header (tens of bytes) followed by the n values
    if (end > bytes.byteLength || end - start <= 8 * n || end - start > 8 * n + 256) return false;
    found.set(name, { start: end - 8 * n, end });
  }
  for (const name of FAST_TARGETS) if (!found.has(name)) return false;
  const schema = md.schema.filter((e) => (FAST_TARGETS as readonly string[]).includes(e.name));
  if (schema.some((e) => e.repetition_type !== 'REQUIRED')) return false;
  for (const name of FAST_TARGETS) {
    const { start, end } = found.get(name) as { start: number; end: number };
    // copy into a fresh, aligned buffer; typed-array views need 8-byte alignment
    const raw = Uint8Array.prototype.slice.call(bytes, start, end).buffer;
    switch (name) {
      case 'open_time_ns':
        out.openTimeNs.set(new BigInt64Array(raw));
        break;
      case 'close_time_ns':
        out.closeTimeNs.set(new BigInt64Array(raw));
        break;
      default:
        out[name].set(new Float64Array(raw));
    }
  }
  return true;
}

/**
 * Decodes a bar file; `symbol`/`timeframe` come from its metadata, falling back to the arguments.
 * @throws DataError StoreCorrupt when the file is not a bar file
 */
export async function decodeBarsParquet(bytes: Uint8Array, where: string, fallback: { symbol: string; timeframe?: Timeframe }): Promise<BarColumns> {
  const file = toArrayBuffer(bytes);
  const md = metadataOf(file, where);
  const tfText = kv(md, 'timeframe') ?? fallback.timeframe;
  if (tfText === undefined) throw new DataError('StoreCorrupt', `${where} has no timeframe metadata`);
  let timeframe: Timeframe;
  try {
    timeframe = parseTimeframe(tfText);
  } catch (e) {
    throw new DataError('StoreCorrupt', `${where} has an unknown timeframe ${JSON.stringify(tfText)}`, { cause: e });
  }
  const n = Number(md.num_rows);
  const out = allocColumns(kv(md, 'symbol') ?? fallback.symbol, timeframe, n);
  if (decodePlainFast(bytes, md, out)) return out;
  const seen = new Map<string, number>();
  try {
    await parquetRead({
      file,
      metadata: md,
      onChunk: (chunk) => {
        const { columnName, columnData, rowStart, rowEnd } = chunk;
        const len = Math.min(rowEnd, n) - rowStart;
        if (len <= 0) return;
        let target: BigInt64Array | Float64Array;
        switch (columnName) {
          case 'open_time_ns':
            target = out.openTimeNs;
            break;
          case 'close_time_ns':
            target = out.closeTimeNs;
            break;
          case 'open':
          case 'high':
          case 'low':
          case 'close':
          case 'volume':
            target = out[columnName];
            break;
          default:
            return;
        }
        if (target instanceof BigInt64Array) {
          if (columnData instanceof BigInt64Array) target.set(columnData.subarray(0, len), rowStart);
          else for (let i = 0; i < len; i++) target[rowStart + i] = BigInt(columnData[i] as bigint | number);
        } else if (columnData instanceof Float64Array) target.set(columnData.subarray(0, len), rowStart);
        else for (let i = 0; i < len; i++) target[rowStart + i] = Number(columnData[i]);
        seen.set(columnName, (seen.get(columnName) ?? 0) + len);
      },
    });
  } catch (e) {
    throw new DataError('StoreCorrupt', `${where} could not be decoded: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  for (const name of ['open_time_ns', 'close_time_ns', ...DOUBLE_COLUMNS]) {
    if (seen.get(name) !== n) throw new DataError('StoreCorrupt', `${where} has ${seen.get(name) ?? 0} values in column ${name}, expected ${n}`);
  }
  return out;
}
