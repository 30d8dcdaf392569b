import { parquetMetadata, parquetRead } from 'hyparquet';
import type { FileMetaData } from 'hyparquet';
import { parseTimeframe } from '../model/bar.js';
import type { Timeframe } from '../model/bar.js';
import { allocColumns } from './columns.js';
import type { BarColumns } from './columns.js';
import { DataError } from './errors.js';

const DOUBLE_COLUMNS = ['open', 'high', 'low', 'close', 'volume'] as const;
/** Marks files written by encodeBarsParquet: one row group, one uncompressed PLAIN page per column. */
const LAYOUT_KEY = 'axon_layout';
const LAYOUT_PLAIN = 'plain-single-page-v1';
/** Column order of our files. */
const FAST_TARGETS = ['open_time_ns', 'close_time_ns', ...DOUBLE_COLUMNS] as const;
const MAGIC = new Uint8Array([0x50, 0x41, 0x52, 0x31]);

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const UTF8 = new TextEncoder();
/** Largest bar count of one file: page sizes are thrift i32 (8 bytes per value plus headers). */
const MAX_FILE_BARS = 1 << 27;

// thrift compact protocol type ids
const T_I32 = 5;
const T_I64 = 6;
const T_BINARY = 8;
const T_LIST = 9;
const T_STRUCT = 12;
// parquet enums
const TYPE_INT64 = 2;
const TYPE_DOUBLE = 5;
const REQUIRED = 0;
const ENCODING_PLAIN = 0;
const ENCODING_RLE = 3;
const CODEC_UNCOMPRESSED = 0;
const PAGE_DATA = 0;

/** A minimal thrift compact-protocol writer for the fixed structures of our files. */
class ThriftWriter {
  bytes: Uint8Array;
  pos = 0;
  #last: number[] = [];
  #field = 0;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity);
  }

  #ensure(extra: number): void {
    if (this.pos + extra <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.pos + extra));
    grown.set(this.bytes.subarray(0, this.pos));
    this.bytes = grown;
  }

  #byte(b: number): void {
    this.#ensure(1);
    this.bytes[this.pos++] = b;
  }

  /** unsigned varint of a non-negative safe integer */
  #varint(v: number): void {
    this.#ensure(10);
    while (v >= 0x80) {
      this.bytes[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.bytes[this.pos++] = v;
  }

  #header(id: number, type: number): void {
    const delta = id - this.#field;
    if (delta > 0 && delta <= 15) this.#byte((delta << 4) | type);
    else {
      this.#byte(type);
      this.#varint(id >= 0 ? id * 2 : -id * 2 - 1);
    }
    this.#field = id;
  }

  /** i32/i64 field with a non-negative safe-integer value (zigzag: 2v) */
  int(id: number, type: typeof T_I32 | typeof T_I64, v: number): void {
    this.#header(id, type);
    this.#varint(v * 2);
  }

  binary(id: number, b: Uint8Array): void {
    this.#header(id, T_BINARY);
    this.#varint(b.length);
    this.#ensure(b.length);
    this.bytes.set(b, this.pos);
    this.pos += b.length;
  }

  /** list field header; elements follow (structs via beginStruct/endStruct without ids) */
  list(id: number, elemType: number, size: number): void {
    this.#header(id, T_LIST);
    if (size < 15) this.#byte((size << 4) | elemType);
    else {
      this.#byte(0xf0 | elemType);
      this.#varint(size);
    }
  }

  listI32(v: number): void {
    this.#varint(v * 2);
  }

  listBinary(b: Uint8Array): void {
    this.#varint(b.length);
    this.#ensure(b.length);
    this.bytes.set(b, this.pos);
    this.pos += b.length;
  }

  /** opens a struct: as field `id`, or as a list element when `id` is undefined */
  beginStruct(id?: number): void {
    if (id !== undefined) this.#header(id, T_STRUCT);
    this.#last.push(this.#field);
    this.#field = 0;
  }

  endStruct(): void {
    this.#byte(0);
    this.#field = this.#last.pop() as number;
  }
}

function int64Bytes(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, v, true);
  return b;
}

const COLUMN_NAME_BYTES = FAST_TARGETS.map((n) => UTF8.encode(n));

/** Page header of one PLAIN, uncompressed v1 data page holding `n` REQUIRED 8-byte values. */
function pageHeader(n: number): Uint8Array {
  const w = new ThriftWriter(32);
  w.int(1, T_I32, PAGE_DATA);
  w.int(2, T_I32, 8 * n);
  w.int(3, T_I32, 8 * n);
  w.beginStruct(5);
  w.int(1, T_I32, n);
  w.int(2, T_I32, ENCODING_PLAIN);
  w.int(3, T_I32, ENCODING_RLE);
  w.int(4, T_I32, ENCODING_RLE);
  w.endStruct();
  w.endStruct();
  return w.bytes.slice(0, w.pos);
}

function copyValues(out: Uint8Array, at: number, values: BigInt64Array | Float64Array, n: number): void {
  if (LITTLE_ENDIAN) {
    out.set(new Uint8Array(values.buffer, values.byteOffset, 8 * n), at);
    return;
  }
  const view = new DataView(out.buffer, out.byteOffset + at, 8 * n);
  if (values instanceof BigInt64Array) for (let i = 0; i < n; i++) view.setBigInt64(8 * i, values[i] as bigint, true);
  else for (let i = 0; i < n; i++) view.setFloat64(8 * i, values[i] as number, true);
}

/**
 * Encodes bars as one Parquet file: one row group, one uncompressed PLAIN v1 data page per REQUIRED
 * column (the layout the fast reader below expects, readable by any Parquet reader), open-time
 * min/max statistics, and key-value metadata `axon_layout`, `symbol` and `timeframe`.
 * @throws DataError InvalidInput when `cols.length` is negative, not an integer, above 2^27 or above a column's length
 */
export function encodeBarsParquet(cols: BarColumns): Uint8Array {
  const n = cols.length;
  if (!Number.isInteger(n) || n < 0 || n > MAX_FILE_BARS) throw new DataError('InvalidInput', `${cols.symbol}: ${n} bars cannot go into one file (0..${MAX_FILE_BARS})`);
  const columns = [cols.openTimeNs, cols.closeTimeNs, cols.open, cols.high, cols.low, cols.close, cols.volume] as const;
  for (const [k, c] of columns.entries()) {
    if (c.length < n) throw new DataError('InvalidInput', `${cols.symbol}: column ${FAST_TARGETS[k] as string} has ${c.length} values, length says ${n}`);
  }
  const page = pageHeader(n);
  const chunk = page.length + 8 * n;
  const w = new ThriftWriter(1024);
  w.int(1, T_I32, 2);
  w.list(2, T_STRUCT, 1 + FAST_TARGETS.length);
  w.beginStruct();
  w.binary(4, UTF8.encode('root'));
  w.int(5, T_I32, FAST_TARGETS.length);
  w.endStruct();
  for (const [k, name] of COLUMN_NAME_BYTES.entries()) {
    w.beginStruct();
    w.int(1, T_I32, k < 2 ? TYPE_INT64 : TYPE_DOUBLE);
    w.int(3, T_I32, REQUIRED);
    w.binary(4, name);
    w.endStruct();
  }
  w.int(3, T_I64, n);
  w.list(4, T_STRUCT, 1);
  w.beginStruct();
  w.list(1, T_STRUCT, FAST_TARGETS.length);
  for (const [k, name] of COLUMN_NAME_BYTES.entries()) {
    const offset = 4 + k * chunk;
    w.beginStruct();
    w.int(2, T_I64, offset);
    w.beginStruct(3);
    w.int(1, T_I32, k < 2 ? TYPE_INT64 : TYPE_DOUBLE);
    w.list(2, T_I32, 1);
    w.listI32(ENCODING_PLAIN);
    w.list(3, T_BINARY, 1);
    w.listBinary(name);
    w.int(4, T_I32, CODEC_UNCOMPRESSED);
    w.int(5, T_I64, n);
    w.int(6, T_I64, chunk);
    w.int(7, T_I64, chunk);
    w.int(9, T_I64, offset);
    if (k === 0 && n > 0) {
      w.beginStruct(12);
      w.int(3, T_I64, 0);
      w.binary(5, int64Bytes(cols.openTimeNs[n - 1] as bigint));
      w.binary(6, int64Bytes(cols.openTimeNs[0] as bigint));
      w.endStruct();
    }
    w.endStruct();
    w.endStruct();
  }
  w.int(2, T_I64, FAST_TARGETS.length * chunk);
  w.int(3, T_I64, n);
  w.int(5, T_I64, 4);
  w.int(6, T_I64, FAST_TARGETS.length * chunk);
  w.endStruct();
  const kvs: [string, string][] = [
    [LAYOUT_KEY, LAYOUT_PLAIN],
    ['symbol', cols.symbol],
    ['timeframe', cols.timeframe],
  ];
  w.list(5, T_STRUCT, kvs.length);
  for (const [key, value] of kvs) {
    w.beginStruct();
    w.binary(1, UTF8.encode(key));
    w.binary(2, UTF8.encode(value));
    w.endStruct();
  }
  w.binary(6, UTF8.encode('axon-quant'));
  w.endStruct();
  const footer = w.bytes.subarray(0, w.pos);
  const body = 4 + FAST_TARGETS.length * chunk;
  const out = new Uint8Array(body + footer.length + 8);
  out.set(MAGIC, 0);
  for (const [k, values] of columns.entries()) {
    const at = 4 + k * chunk;
    out.set(page, at);
    copyValues(out, at + page.length, values, n);
  }
  out.set(footer, body);
  new DataView(out.buffer).setUint32(body + footer.length, footer.length, true);
  out.set(MAGIC, body + footer.length + 4);
  return out;
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


/**
 * Fast path for files this store writes (one row group, one uncompressed PLAIN page per REQUIRED
 * column, no dictionary): the values are the last 8*n bytes of each column chunk, copied once into
 * fresh typed arrays (one copy each). Returns undefined (use hyparquet) for anything else.
 */
function decodePlainFast(bytes: Uint8Array, md: FileMetaData, symbol: string, timeframe: Timeframe, n: number): BarColumns | undefined {
  if (kv(md, LAYOUT_KEY) !== LAYOUT_PLAIN) return undefined;
  if (md.row_groups.length !== 1) return n === 0 && md.row_groups.length === 0 ? allocColumns(symbol, timeframe, 0) : undefined;
  const rg = md.row_groups[0] as FileMetaData['row_groups'][number];
  const found = new Map<string, { start: number; end: number }>();
  for (const col of rg.columns) {
    const m = col.meta_data;
    if (m === undefined) return undefined;
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
      if ((FAST_TARGETS as readonly string[]).includes(name)) return undefined;
      continue;
    }
    const start = Number(m.data_page_offset);
    const end = start + Number(m.total_compressed_size);
    // one page: the chunk is a page header (tens of bytes) followed by the n values
    if (end > bytes.byteLength || end - start <= 8 * n || end - start > 8 * n + 256) return undefined;
    found.set(name, { start: end - 8 * n, end });
  }
  for (const name of FAST_TARGETS) if (!found.has(name)) return undefined;
  const schema = md.schema.filter((e) => (FAST_TARGETS as readonly string[]).includes(e.name));
  if (schema.some((e) => e.repetition_type !== 'REQUIRED')) return undefined;
  const view = (name: string): ArrayBuffer => {
    const { start, end } = found.get(name) as { start: number; end: number };
    // one copy into a fresh, aligned buffer (typed-array views need 8-byte alignment)
    return Uint8Array.prototype.slice.call(bytes, start, end).buffer as ArrayBuffer;
  };
  return {
    symbol,
    timeframe,
    length: n,
    openTimeNs: new BigInt64Array(view('open_time_ns')),
    closeTimeNs: new BigInt64Array(view('close_time_ns')),
    open: new Float64Array(view('open')),
    high: new Float64Array(view('high')),
    low: new Float64Array(view('low')),
    close: new Float64Array(view('close')),
    volume: new Float64Array(view('volume')),
  };
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
  const symbol = kv(md, 'symbol') ?? fallback.symbol;
  const fast = decodePlainFast(bytes, md, symbol, timeframe, n);
  if (fast !== undefined) return fast;
  const out = allocColumns(symbol, timeframe, n);
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
