import { createHash } from 'node:crypto';
import { isFrozenData } from '../../core/frozen.js';
import { StateError } from './errors.js';

/**
 * The binary checkpoint encoding: the same values as encodeState (plain objects, arrays, strings,
 * numbers, bigints, booleans, null, undefined) plus Float64Array, written as one tag stream plus three side tables, so
 * numbers are never printed and no object is allocated per value.
 * | offset | size        | content                                                               |
 * |--------|-------------|-----------------------------------------------------------------------|
 * | 0      | 4           | magic "AXSB"                                                          |
 * | 4      | 2           | u16 format version (STATE_BINARY_VERSION)                             |
 * | 6      | 2           | u16 string coding: 0 UTF-16LE, 1 Latin-1 (version 2, all units < 256) |
 * | 8      | 4 x 6       | u32 slots, tag bytes, string count, length bytes, string bytes, 0     |
 * | 32     | 8 x slots   | 8-byte slots: float64 numbers and int64 bigints, little-endian        |
 * | ...    | tag bytes   | the value tree, depth first (tags below, varints are LEB128 unsigned)  |
 * | ...    | length bytes| varint UTF-16 length of each table string                             |
 * | ...    | string bytes| the table strings, UTF-16LE or Latin-1 (exact for any JS string, lone surrogates too) |
 * Tags: 0 null, 1 undefined, 2 false, 3 true, 4 number (next slot), 5 uint32 number (varint),
 * 6 string (varint table index), 7 int64 bigint (next slot), 8 other bigint (table index of its
 * decimal text), 9 array (varint length, elements), 10 number array (varint length, that many slots;
 * decodes to a plain number[]), 11 object ((varint key index + 1, value)* then 0), 12 Float64Array
 * (varint length, that many slots; decodes to a Float64Array, so packed indicator state is one copy),
 * 13 embedded (format version 2: varint byte length, then a complete encoding of its own, header and
 * string table included; decodes to its value): a value marked with core's `frozenData` is encoded
 * once on its own and its bytes are reused by every later checkpoint that holds it (an OMS's finished
 * orders, say), so unchanged immutable parts cost a copy, not a walk. 14 segment (format version 3: the
 * 32-byte SHA-256 of a complete encoding stored apart; decodes to its value): what an embedded value
 * becomes when the encoder is given a segment sink and its encoding is at least SEGMENT_MIN_BYTES, so a
 * store keeps one copy of a large unchanged part (an OMS or venue snapshot) for every checkpoint that
 * holds it instead of hashing and writing it again each time.
 * Strings are interned in first-use order, so the same value (with the same parts marked frozen)
 * always gives the same bytes. The file
 * sizes in the header must add up to the buffer's length exactly, and decoding must consume every slot,
 * tag and string: anything else is CheckpointCorrupt.
 */
export const STATE_BINARY_ENCODING = 'axon-state-bin-1';

/**
 * Format version written at offset 4; versions 1 (no embedded values) and 2 (no segments) are still
 * read; others are refused with SchemaMismatch.
 */
export const STATE_BINARY_VERSION = 3;

/** Embedded values whose encoding is at least this long become segments when a segment sink is given. */
export const SEGMENT_MIN_BYTES = 32 * 1024;

/** Receives each segment an encoding refers to: its SHA-256 (hex) and its complete encoding. */
export type SegmentSink = (sha256: string, bytes: Uint8Array) => void;

/** Returns the complete encoding of the segment with this SHA-256 (hex), or undefined when it is not stored. */
export type SegmentSource = (sha256: string) => Uint8Array | undefined;

const MAGIC = 0x42535841; // "AXSB" read as u32 little-endian
const HEADER = 32;
const MAX_DEPTH = 200;
const LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const T_NULL = 0;
const T_UNDEFINED = 1;
const T_FALSE = 2;
const T_TRUE = 3;
const T_NUMBER = 4;
const T_UINT = 5;
const T_STRING = 6;
const T_INT64 = 7;
const T_BIGINT_TEXT = 8;
const T_ARRAY = 9;
const T_NUMBERS = 10;
const T_OBJECT = 11;
const T_FLOAT64_ARRAY = 12;
const T_EMBED = 13;
const T_SEGMENT = 14;
const SHA_BYTES = 32;
/** Header u16 at offset 6: how the string data is stored (version 1 always UTF-16LE). */
const STRINGS_UTF16 = 0;
const STRINGS_LATIN1 = 1;
// eslint-disable-next-line no-control-regex
const NOT_LATIN1 = /[^\u0000-\u00ff]/;

type Path = (string | number)[];

function pathText(path: Path): string {
  let s = 'state';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : /^[A-Za-z_$][\w$]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`;
  return s;
}

function unencodable(path: Path, what: string): StateError {
  return new StateError('InvalidState', `${pathText(path)}: ${what} cannot be stored in a checkpoint; store a plain value (a decimal string, a number, a plain object)`);
}

function describe(v: object): string {
  const ctor = (Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null)?.constructor?.name;
  return ctor !== undefined && ctor !== '' ? `a ${ctor}` : 'an object with a custom prototype';
}

// encoder scratch, reused across calls: a checkpoint is ~1.5 MB and allocating it per value or per
// call cost more than the encoding itself
let slotBuf = new ArrayBuffer(1 << 16);
let f64 = new Float64Array(slotBuf);
let i64 = new BigInt64Array(slotBuf);
let nSlots = 0;
let tags = new Uint8Array(1 << 14);
let nTags = 0;
let strings: string[] = [];
let generation = 0;
let generations = 0;
// encodings of frozenData values, by identity: they cannot change, so neither can their bytes
const embedded = new WeakMap<object, Uint8Array>();
/** SHA-256 of an embedded encoding used as a segment (hex and raw), by the encoding's identity. */
const segmentIds = new WeakMap<Uint8Array, { readonly hex: string; readonly raw: Uint8Array }>();
/** Where the encoding in progress sends its segments; undefined: large frozen values are embedded. */
let segmentSink: SegmentSink | undefined;
/** True while a frozen value is encoded on its own: values inside it are written inline. */
let standalone = false;
let out = Buffer.allocUnsafeSlow(1 << 16);

/** Key list of an object shape seen before, with its keys' table indices + 1 in the current encoding. */
interface Shape {
  readonly keys: readonly string[];
  readonly index: Uint32Array;
  generation: number;
}
// keyed by an object's first key: comparing key lists (interned strings, pointer-equal) costs a few ns
// a key, a Map lookup per key ~20 ns, which was most of the encoding time
let shapes = new Map<string, Shape[]>();
let shapeCount = 0;
const MAX_SHAPE_KEYS = 64;
const MAX_SHAPES = 4096;

class Unencodable {
  constructor(readonly what: string) {}
}

function growSlots(need: number): void {
  let cap = f64.length * 2;
  while (cap < need) cap *= 2;
  const next = new ArrayBuffer(cap * 8);
  new Float64Array(next).set(f64.subarray(0, nSlots));
  slotBuf = next;
  f64 = new Float64Array(next);
  i64 = new BigInt64Array(next);
}

function growTags(need: number): void {
  let cap = tags.length * 2;
  while (cap < need) cap *= 2;
  const next = new Uint8Array(cap);
  next.set(tags.subarray(0, nTags));
  tags = next;
}

function putVarint(n: number): void {
  if (nTags + 5 > tags.length) growTags(nTags + 5);
  const t = tags;
  let p = nTags;
  while (n >= 0x80) {
    t[p++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  t[p++] = n;
  nTags = p;
}

function putTag(t: number): void {
  if (nTags === tags.length) growTags(nTags + 1);
  tags[nTags++] = t;
}

/**
 * String -> table index for the encoding in progress, kept across encodings so a string seen before costs
 * a lookup, not a Map insert (a fresh Map per checkpoint was most of the encoder's garbage): an entry
 * counts only when stamped with the current generation. One cache for top-level encodings and one for
 * encodeAlone, which runs in the middle of a top-level one, so neither overwrites the other's entries.
 */
interface InternCache {
  readonly map: Map<string, number>;
  /** generation stamps, float64 so they never wrap */
  gen: Float64Array;
  idx: Int32Array;
  /** most strings one encoding at this level used: the cache is cleared once it holds 4x that (plus slack) */
  most: number;
}
const INTERN_SLACK = 4096;
function internCache(): InternCache {
  return { map: new Map(), gen: new Float64Array(1024), idx: new Int32Array(1024), most: 0 };
}
const topCache = internCache();
const aloneCache = internCache();
let cache = topCache;

/**
 * Forgets a cache that holds over 4x the strings an encoding used (between encodings only): strings that come
 * and go (order ids) would otherwise pile up, keeping dead strings alive and every lookup slower.
 */
function trimCache(c: InternCache): void {
  if (c.map.size <= 4 * c.most + INTERN_SLACK) return;
  c.map.clear();
  c.gen = new Float64Array(1024);
  c.idx = new Int32Array(1024);
}

function intern(s: string): number {
  const c = cache;
  let slot = c.map.get(s);
  if (slot !== undefined && c.gen[slot] === generation) return c.idx[slot] as number;
  const i = strings.length;
  strings.push(s);
  if (slot === undefined) {
    slot = c.map.size;
    if (slot === c.gen.length) {
      const gen = new Float64Array(slot * 2);
      gen.set(c.gen);
      c.gen = gen;
      const idx = new Int32Array(slot * 2);
      idx.set(c.idx);
      c.idx = idx;
    }
    c.map.set(s, slot);
  }
  c.gen[slot] = generation;
  c.idx[slot] = i;
  return i;
}

function shapeOf(keys: string[]): Uint32Array | undefined {
  const n = keys.length;
  if (n === 0 || n > MAX_SHAPE_KEYS) return undefined;
  const first = keys[0] as string;
  let list = shapes.get(first);
  if (list === undefined) {
    if (shapeCount >= MAX_SHAPES) {
      shapes = new Map();
      shapeCount = 0;
    }
    list = [];
    shapes.set(first, list);
  }
  let shape: Shape | undefined;
  for (let s = 0; s < list.length && shape === undefined; s++) {
    const cand = list[s] as Shape;
    const ck = cand.keys;
    if (ck.length !== n) continue;
    let i = 1;
    while (i < n && ck[i] === keys[i]) i++;
    if (i === n) shape = cand;
  }
  if (shape === undefined) {
    if (list.length >= 8) return undefined;
    shape = { keys, index: new Uint32Array(n), generation: -1 };
    list.push(shape);
    shapeCount++;
  }
  if (shape.generation !== generation) {
    for (let i = 0; i < n; i++) shape.index[i] = intern(keys[i] as string) + 1;
    shape.generation = generation;
  }
  return shape.index;
}

function putNumber(v: number): void {
  if (v >>> 0 === v && (v !== 0 || 1 / v > 0)) {
    putTag(T_UINT);
    putVarint(v);
    return;
  }
  putTag(T_NUMBER);
  if (nSlots === f64.length) growSlots(nSlots + 1);
  f64[nSlots++] = v;
}

function putArray(v: unknown[], depth: number): void {
  const n = v.length;
  if (n >= 2 && typeof v[0] === 'number') {
    // packed in one pass; a non-number element rolls the slots back and the array goes element by element
    if (nSlots + n > f64.length) growSlots(nSlots + n);
    const dst = f64;
    const start = nSlots;
    let i = 0;
    for (; i < n; i++) {
      const x = v[i];
      if (typeof x !== 'number') break;
      dst[start + i] = x;
    }
    if (i === n) {
      putTag(T_NUMBERS);
      putVarint(n);
      nSlots = start + n;
      return;
    }
  }
  putTag(T_ARRAY);
  putVarint(n);
  for (let i = 0; i < n; i++) putValue(v[i], depth + 1);
}

function putValue(v: unknown, depth: number): void {
  switch (typeof v) {
    case 'number':
      putNumber(v);
      return;
    case 'string':
      putTag(T_STRING);
      putVarint(intern(v));
      return;
    case 'boolean':
      putTag(v ? T_TRUE : T_FALSE);
      return;
    case 'bigint':
      if (v >= INT64_MIN && v <= INT64_MAX) {
        putTag(T_INT64);
        if (nSlots === f64.length) growSlots(nSlots + 1);
        i64[nSlots++] = v;
      } else {
        putTag(T_BIGINT_TEXT);
        putVarint(intern(v.toString()));
      }
      return;
    case 'undefined':
      putTag(T_UNDEFINED);
      return;
    case 'object':
      break;
    default:
      throw new Unencodable(`a ${typeof v}`);
  }
  if (v === null) {
    putTag(T_NULL);
    return;
  }
  if (depth >= MAX_DEPTH) throw new Unencodable(`a value nested deeper than ${MAX_DEPTH} levels (a cycle?)`);
  // Object.isFrozen first: a flag check, cheaper than the WeakSet lookup for the many unfrozen objects
  if (!standalone && Object.isFrozen(v) && isFrozenData(v)) {
    let bytes = embedded.get(v);
    if (bytes === undefined) {
      bytes = encodeAlone(v);
      embedded.set(v, bytes);
    }
    if (segmentSink !== undefined && bytes.length >= SEGMENT_MIN_BYTES) {
      let id = segmentIds.get(bytes);
      if (id === undefined) {
        const digest = createHash('sha256').update(bytes).digest();
        id = { hex: digest.toString('hex'), raw: new Uint8Array(digest) };
        segmentIds.set(bytes, id);
      }
      segmentSink(id.hex, bytes);
      putTag(T_SEGMENT);
      if (nTags + SHA_BYTES > tags.length) growTags(nTags + SHA_BYTES);
      tags.set(id.raw, nTags);
      nTags += SHA_BYTES;
      return;
    }
    putTag(T_EMBED);
    putVarint(bytes.length);
    if (nTags + bytes.length > tags.length) growTags(nTags + bytes.length);
    tags.set(bytes, nTags);
    nTags += bytes.length;
    return;
  }
  if (Array.isArray(v)) {
    putArray(v, depth);
    return;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) {
    if (proto !== Float64Array.prototype) throw new Unencodable(describe(v));
    const arr = v as Float64Array;
    putTag(T_FLOAT64_ARRAY);
    putVarint(arr.length);
    if (nSlots + arr.length > f64.length) growSlots(nSlots + arr.length);
    f64.set(arr, nSlots);
    nSlots += arr.length;
    return;
  }
  const src = v as Record<string, unknown>;
  const keys = Object.keys(src);
  const index = shapeOf(keys);
  putTag(T_OBJECT);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    putVarint(index === undefined ? intern(k) + 1 : (index[i] as number));
    putValue(src[k], depth + 1);
  }
  putTag(0);
}

/**
 * A complete encoding of `v` on its own (own slots, tags and string table), copied out; the encoder's
 * state for the value around it is put aside and back.
 */
// encodeAlone's own scratch, kept between calls (it never nests): fresh buffers per call were most of a
// checkpoint's ArrayBuffers, which every scavenge has to sweep
let aloneSlotBuf = new ArrayBuffer(1024);
let aloneF64 = new Float64Array(aloneSlotBuf);
let aloneI64 = new BigInt64Array(aloneSlotBuf);
let aloneTags = new Uint8Array(1024);

function encodeAlone(v: object): Uint8Array {
  const saved = { slotBuf, f64, i64, nSlots, tags, nTags, strings, generation };
  slotBuf = aloneSlotBuf;
  f64 = aloneF64;
  i64 = aloneI64;
  nSlots = 0;
  tags = aloneTags;
  nTags = 0;
  strings = [];
  trimCache(aloneCache);
  cache = aloneCache;
  generation = ++generations;
  standalone = true;
  try {
    putValue(v, 0);
    if (strings.length > aloneCache.most) aloneCache.most = strings.length;
    return Uint8Array.prototype.slice.call(finish());
  } finally {
    standalone = false;
    // keep what the scratch grew to
    aloneSlotBuf = slotBuf;
    aloneF64 = f64;
    aloneI64 = i64;
    aloneTags = tags;
    slotBuf = saved.slotBuf;
    f64 = saved.f64;
    i64 = saved.i64;
    nSlots = saved.nSlots;
    tags = saved.tags;
    nTags = saved.nTags;
    strings = saved.strings;
    cache = topCache;
    generation = saved.generation;
  }
}

/** Finds the path of the first value the encoder refused (the fast path keeps no path). */
function locate(v: unknown, path: Path, depth: number): StateError | undefined {
  if (typeof v === 'function' || typeof v === 'symbol') return unencodable(path, `a ${typeof v}`);
  if (typeof v !== 'object' || v === null) return undefined;
  if (depth >= MAX_DEPTH) return unencodable(path, `a value nested deeper than ${MAX_DEPTH} levels (a cycle?)`);
  if (!Array.isArray(v)) {
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto === Float64Array.prototype) return undefined;
    if (proto !== Object.prototype && proto !== null) return unencodable(path, describe(v));
  }
  const entries: [string | number, unknown][] = Array.isArray(v) ? v.map((x, i): [number, unknown] => [i, x]) : Object.entries(v);
  for (const [k, x] of entries) {
    path.push(k);
    const e = locate(x, path, depth + 1);
    path.pop();
    if (e !== undefined) return e;
  }
  return undefined;
}

/**
 * Encodes into the module's reusable output buffer; the view is valid until the next call (the store
 * binds it at once, sparing a copy of the whole checkpoint). With `segments`, frozen values whose
 * encoding is at least SEGMENT_MIN_BYTES are written as references to segments given to it (each
 * reference once per occurrence; the bytes given are immutable and may be kept).
 * @throws StateError InvalidState naming the path of a value that cannot be stored
 */
export function encodeStateBinaryView(value: unknown, segments?: SegmentSink): Uint8Array {
  segmentSink = segments;
  nSlots = 0;
  nTags = 0;
  strings = [];
  trimCache(topCache);
  cache = topCache;
  generation = ++generations;
  try {
    putValue(value, 0);
    if (strings.length > topCache.most) topCache.most = strings.length;
  } catch (e) {
    if (e instanceof Unencodable) throw locate(value, [], 0) ?? unencodable([], e.what);
    throw e;
  } finally {
    segmentSink = undefined;
  }
  return finish();
}

/** Writes the header, slots, tags and string table of the value just put into `out`; returns the view. */
function finish(): Uint8Array {
  const lengthsStart = nTags;
  for (let i = 0; i < strings.length; i++) putVarint((strings[i] as string).length);
  const lengthBytes = nTags - lengthsStart;
  const stringCount = strings.length;
  const text = strings.join('');
  strings = [];
  // version 2: one byte a code unit when every one fits (checkpoints are mostly ASCII), else UTF-16LE
  const wide = NOT_LATIN1.test(text);
  const stringBytes = wide ? text.length * 2 : text.length;
  const total = HEADER + nSlots * 8 + nTags + stringBytes;
  if (out.length < total) out = Buffer.allocUnsafeSlow(Math.max(total, out.length * 2));
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt16LE(STATE_BINARY_VERSION, 4);
  out.writeUInt16LE(wide ? STRINGS_UTF16 : STRINGS_LATIN1, 6);
  out.writeUInt32LE(nSlots, 8);
  out.writeUInt32LE(lengthsStart, 12);
  out.writeUInt32LE(stringCount, 16);
  out.writeUInt32LE(lengthBytes, 20);
  out.writeUInt32LE(stringBytes, 24);
  out.writeUInt32LE(0, 28);
  out.set(new Uint8Array(slotBuf, 0, nSlots * 8), HEADER);
  if (!LITTLE_ENDIAN) out.subarray(HEADER, HEADER + nSlots * 8).swap64();
  out.set(tags.subarray(0, nTags), HEADER + nSlots * 8);
  if (stringBytes > 0) out.write(text, HEADER + nSlots * 8 + nTags, stringBytes, wide ? 'utf16le' : 'latin1');
  return out.subarray(0, total);
}

/**
 * Encodes a JSON-like value that may hold bigints, non-finite numbers and undefined in the binary
 * checkpoint encoding (see STATE_BINARY_ENCODING); the same value always gives the same bytes and the
 * input is never modified.
 * @throws StateError InvalidState naming the path of a value that cannot be stored
 */
export function encodeStateBinary(value: unknown): Buffer {
  return Buffer.from(encodeStateBinaryView(value));
}

function corrupt(detail: string): StateError {
  return new StateError('CheckpointCorrupt', `binary checkpoint state: ${detail}`);
}

// decoder cursor, module-level so the recursive reader needs no closure or object per value
let dTags: Uint8Array = new Uint8Array(0);
let dPos = 0;
let dEnd = 0;
let dF64: Float64Array = new Float64Array(0);
let dI64: BigInt64Array = new BigInt64Array(0);
let dSlot = 0;
let dStrings: string[] = [];
let dVersion = STATE_BINARY_VERSION;
let dSource: SegmentSource | undefined;

function readVarint(): number {
  let n = 0;
  let shift = 0;
  for (;;) {
    if (dPos >= dEnd) throw corrupt('the value tree ends in the middle of a number');
    const b = dTags[dPos++] as number;
    if (shift === 28 && b > 0x0f) throw corrupt(`a varint at tag byte ${dPos - 1} exceeds 32 bits`);
    n += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return n;
    shift += 7;
  }
}

function readSlot(what: string): number {
  if (dSlot >= dF64.length) throw corrupt(`${what} needs slot ${dSlot}, but there are ${dF64.length}`);
  return dSlot++;
}

function readString(): string {
  const i = readVarint();
  const s = dStrings[i];
  if (s === undefined) throw corrupt(`string ${i} is not in the table of ${dStrings.length}`);
  return s;
}

function readValue(depth: number): unknown {
  if (dPos >= dEnd) throw corrupt('the value tree ends early');
  const tag = dTags[dPos++] as number;
  switch (tag) {
    case T_NULL:
      return null;
    case T_UNDEFINED:
      return undefined;
    case T_FALSE:
      return false;
    case T_TRUE:
      return true;
    case T_NUMBER:
      return dF64[readSlot('a number')];
    case T_UINT: {
      const n = readVarint();
      if (n > 0xffffffff) throw corrupt(`a uint32 number holds ${n}`);
      return n;
    }
    case T_STRING:
      return readString();
    case T_INT64:
      return dI64[readSlot('a bigint')];
    case T_BIGINT_TEXT: {
      const s = readString();
      if (!/^-?(0|[1-9]\d*)$/.test(s)) throw corrupt(`a bigint holds ${JSON.stringify(s)}`);
      return BigInt(s);
    }
    case T_ARRAY: {
      if (depth >= MAX_DEPTH) throw corrupt(`values nested deeper than ${MAX_DEPTH} levels`);
      const n = readVarint();
      if (n > dEnd - dPos) throw corrupt(`an array of ${n} elements does not fit in the value tree`);
      const arr: unknown[] = new Array<unknown>(n);
      for (let i = 0; i < n; i++) arr[i] = readValue(depth + 1);
      return arr;
    }
    case T_NUMBERS: {
      const n = readVarint();
      if (dSlot + n > dF64.length) throw corrupt(`a number array of ${n} needs slots ${dSlot}..${dSlot + n - 1}, but there are ${dF64.length}`);
      const arr: number[] = new Array<number>(n);
      for (let i = 0; i < n; i++) arr[i] = dF64[dSlot + i] as number;
      dSlot += n;
      return arr;
    }
    case T_FLOAT64_ARRAY: {
      const n = readVarint();
      if (dSlot + n > dF64.length) throw corrupt(`a Float64Array of ${n} needs slots ${dSlot}..${dSlot + n - 1}, but there are ${dF64.length}`);
      const arr = dF64.slice(dSlot, dSlot + n);
      dSlot += n;
      return arr;
    }
    case T_OBJECT: {
      if (depth >= MAX_DEPTH) throw corrupt(`values nested deeper than ${MAX_DEPTH} levels`);
      const obj: Record<string, unknown> = {};
      for (;;) {
        const k = readVarint();
        if (k === 0) return obj;
        const key = dStrings[k - 1];
        if (key === undefined) throw corrupt(`key ${k - 1} is not in the table of ${dStrings.length}`);
        const value = readValue(depth + 1);
        // assigning "__proto__" would replace the prototype instead of adding a property
        if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
        else obj[key] = value;
      }
    }
    case T_EMBED: {
      if (dVersion < 2) throw corrupt(`an embedded value (tag ${T_EMBED}) in a version ${dVersion} state`);
      if (depth >= MAX_DEPTH) throw corrupt(`values nested deeper than ${MAX_DEPTH} levels`);
      const n = readVarint();
      if (n > dEnd - dPos) throw corrupt(`an embedded value of ${n} bytes does not fit in the value tree`);
      const sub = dTags.subarray(dPos, dPos + n);
      dPos += n;
      const saved = { dTags, dPos, dEnd, dF64, dI64, dSlot, dStrings, dVersion };
      try {
        return decodeAt(sub, depth + 1);
      } finally {
        ({ dTags, dPos, dEnd, dF64, dI64, dSlot, dStrings, dVersion } = saved);
      }
    }
    case T_SEGMENT: {
      if (dVersion < 3) throw corrupt(`a segment (tag ${T_SEGMENT}) in a version ${dVersion} state`);
      if (depth >= MAX_DEPTH) throw corrupt(`values nested deeper than ${MAX_DEPTH} levels`);
      if (SHA_BYTES > dEnd - dPos) throw corrupt('a segment reference does not fit in the value tree');
      const sha = Buffer.from(dTags.buffer, dTags.byteOffset + dPos, SHA_BYTES).toString('hex');
      dPos += SHA_BYTES;
      const bytes = dSource?.(sha);
      if (bytes === undefined) throw corrupt(`segment ${sha} is ${dSource === undefined ? 'referenced, but no segments were given' : 'not stored'}`);
      const actual = createHash('sha256').update(bytes).digest('hex');
      if (actual !== sha) throw corrupt(`segment ${sha} does not match its SHA-256 (computed ${actual})`);
      const saved = { dTags, dPos, dEnd, dF64, dI64, dSlot, dStrings, dVersion };
      try {
        return decodeAt(bytes, depth + 1);
      } finally {
        ({ dTags, dPos, dEnd, dF64, dI64, dSlot, dStrings, dVersion } = saved);
      }
    }
    default:
      throw corrupt(`unknown tag ${tag} at tag byte ${dPos - 1}`);
  }
}

/**
 * Decodes a binary checkpoint written by encodeStateBinary back to the exact value that was encoded
 * (numbers bit-identical, bigints, undefined and -0 kept).
 * `segments` gives the segments it refers to (each is checked against its SHA-256).
 * @throws StateError CheckpointCorrupt for a truncated, damaged or foreign buffer or a missing or
 * damaged segment, SchemaMismatch for another format version
 */
export function decodeStateBinary(buf: Uint8Array, segments?: SegmentSource): unknown {
  dSource = segments;
  try {
    return decodeAt(buf, 0);
  } finally {
    dSource = undefined;
    dTags = new Uint8Array(0);
    dF64 = new Float64Array(0);
    dI64 = new BigInt64Array(0);
    dStrings = [];
  }
}

/** Decodes one complete encoding (the whole buffer, or an embedded one at nesting `depth`). */
function decodeAt(buf: Uint8Array, depth: number): unknown {
  if (buf.length < HEADER) throw corrupt(`${buf.length} bytes is shorter than the ${HEADER}-byte header (truncated?)`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
  if (view.getUint32(0, true) !== MAGIC) throw corrupt('it does not start with "AXSB"; not an AXON binary state');
  const version = view.getUint16(4, true);
  if (version < 1 || version > STATE_BINARY_VERSION) {
    throw new StateError('SchemaMismatch', `binary checkpoint state has format version ${version}; this build reads versions 1 to ${STATE_BINARY_VERSION}`);
  }
  const slots = view.getUint32(8, true);
  const tagBytes = view.getUint32(12, true);
  const stringCount = view.getUint32(16, true);
  const lengthBytes = view.getUint32(20, true);
  const stringBytes = view.getUint32(24, true);
  const stringCoding = view.getUint16(6, true);
  if (stringCoding !== STRINGS_UTF16 && (version < 2 || stringCoding !== STRINGS_LATIN1)) throw corrupt(`string coding ${stringCoding} is not one this version ${version} state may have`);
  if (view.getUint32(28, true) !== 0) throw corrupt('reserved header bytes are not zero');
  const expected = HEADER + slots * 8 + tagBytes + lengthBytes + stringBytes;
  if (expected !== buf.length) throw corrupt(`${buf.length} bytes, but its header describes ${expected} (truncated or damaged)`);
  if (stringCoding === STRINGS_UTF16 && stringBytes % 2 !== 0) throw corrupt(`string data of ${stringBytes} bytes is not UTF-16`);
  const slotStart = buf.byteOffset + HEADER;
  let slotBytes: ArrayBuffer;
  let slotOffset: number;
  if (slotStart % 8 === 0 && LITTLE_ENDIAN) {
    slotBytes = buf.buffer as ArrayBuffer;
    slotOffset = slotStart;
  } else {
    const copy = new Uint8Array(slots * 8);
    copy.set(buf.subarray(HEADER, HEADER + slots * 8));
    if (!LITTLE_ENDIAN) Buffer.from(copy.buffer).swap64();
    slotBytes = copy.buffer;
    slotOffset = 0;
  }
  const tagStart = HEADER + slots * 8;
  const lengthsStart = tagStart + tagBytes;
  const dataStart = lengthsStart + lengthBytes;
  const table: string[] = new Array<string>(stringCount);
  const text = Buffer.from(buf.buffer, buf.byteOffset + dataStart, stringBytes).toString(stringCoding === STRINGS_UTF16 ? 'utf16le' : 'latin1');
  dTags = buf;
  dPos = lengthsStart;
  dEnd = dataStart;
  let at = 0;
  for (let i = 0; i < stringCount; i++) {
    const len = readVarint();
    if (at + len > text.length) throw corrupt(`string ${i} of ${len} units runs past the string data`);
    table[i] = text.slice(at, at + len);
    at += len;
  }
  if (dPos !== dataStart || at !== text.length) throw corrupt('the string table does not match its sizes');
  dF64 = new Float64Array(slotBytes, slotOffset, slots);
  dI64 = new BigInt64Array(slotBytes, slotOffset, slots);
  dSlot = 0;
  dStrings = table;
  dVersion = version;
  dPos = tagStart;
  dEnd = lengthsStart;
  const value = readValue(depth);
  if (dPos !== dEnd) throw corrupt(`${dEnd - dPos} tag bytes left after the value`);
  if (dSlot !== slots) throw corrupt(`${slots - dSlot} slots left after the value`);
  return value;
}
