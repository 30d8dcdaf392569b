import { createHash } from 'node:crypto';
import { StateError } from './errors.js';

/**
 * The checkpoint encoding: JSON, with the values JSON cannot hold written as single-key tag objects.
 * | value                                   | encoded as                                   |
 * |-----------------------------------------|----------------------------------------------|
 * | bigint 123n                             | {"$n":"123"}                                 |
 * | NaN, Infinity, -Infinity, -0            | {"$f":"NaN"}, {"$f":"Infinity"}, ..., {"$f":"-0"} |
 * | undefined (property value or element)   | {"$u":1}                                     |
 * | array of >= 8 elements, all numbers     | {"$f64":"<base64 of float64 little-endian>"} |
 * | object key starting with "$"            | the key with one more "$" in front           |
 * Everything else (strings, finite numbers, booleans, null, plain arrays, plain objects) is plain JSON;
 * an object with a null prototype comes back as a plain object.
 * Decoding reverses each row exactly: a `$f64` array comes back as a plain number[] with the same bits,
 * which is also why long number arrays (indicator windows) are packed: 8 bytes each and no float
 * printing, which is most of the cost of JSON for indicator state. Anything else (a Map, a Date, a class
 * instance such as a Price, a function, a symbol, a cycle) is refused rather than silently changed.
 */
export const STATE_ENCODING = 'axon-state-json-1';

/** Arrays of at least this many numbers are packed as float64 (`$f64`). */
export const PACK_MIN_LENGTH = 8;

const MAX_DEPTH = 200;
const LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;
const UNDEFINED_TAG = Object.freeze({ $u: 1 });
const BIGINT_RE = /^-?(0|[1-9]\d*)$/;
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

type Path = (string | number)[];

function pathText(path: Path): string {
  let s = 'state';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : /^[A-Za-z_$][\w$]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`;
  return s;
}

function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  // assigning "__proto__" would replace the prototype instead of adding a property
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

function specialNumber(x: number): string | undefined {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0 && 1 / x < 0) return '-0';
  return undefined;
}

function unencodable(path: Path, what: string): StateError {
  return new StateError('InvalidState', `${pathText(path)}: ${what} cannot be stored in a checkpoint; store a plain value (a decimal string, a number, a plain object)`);
}

function describe(v: object): string {
  const ctor = (Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null)?.constructor?.name;
  return ctor !== undefined && ctor !== '' ? `a ${ctor}` : 'an object with a custom prototype';
}

let scratch = new Float64Array(256);
let scratchBytes = Buffer.from(scratch.buffer);

function packNumbers(arr: readonly number[]): string {
  const n = arr.length;
  if (n > scratch.length) {
    scratch = new Float64Array(Math.max(n, scratch.length * 2));
    scratchBytes = Buffer.from(scratch.buffer);
  }
  // one reused buffer: allocating a typed array per window cost more than the encoding itself
  for (let i = 0; i < n; i++) scratch[i] = arr[i] as number;
  if (!LITTLE_ENDIAN) scratchBytes.subarray(0, n * 8).swap64();
  return scratchBytes.toString('base64', 0, n * 8);
}

function allNumbers(arr: readonly unknown[]): boolean {
  for (let i = 0; i < arr.length; i++) if (typeof arr[i] !== 'number') return false;
  return true;
}

function encodeValue(v: unknown, path: Path, depth: number): unknown {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number': {
      const special = specialNumber(v);
      return special === undefined ? v : { $f: special };
    }
    case 'bigint':
      return { $n: v.toString() };
    case 'undefined':
      return UNDEFINED_TAG;
    case 'object':
      break;
    default:
      throw unencodable(path, `a ${typeof v}`);
  }
  if (v === null) return null;
  if (depth >= MAX_DEPTH) throw unencodable(path, `a value nested deeper than ${MAX_DEPTH} levels (a cycle?)`);
  if (Array.isArray(v)) {
    if (v.length >= PACK_MIN_LENGTH && allNumbers(v)) return { $f64: packNumbers(v as number[]) };
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const c: unknown = v[i];
      path.push(i);
      const e = encodeValue(c, path, depth + 1);
      path.pop();
      if (out === undefined && e !== c) out = v.slice(0, i);
      if (out !== undefined) out.push(e);
    }
    return out ?? v;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) throw unencodable(path, describe(v));
  const src = v as Record<string, unknown>;
  const keys = Object.keys(src);
  let out: Record<string, unknown> | undefined;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    const c = src[k];
    path.push(k);
    const e = encodeValue(c, path, depth + 1);
    path.pop();
    const ek = k.charCodeAt(0) === 36 ? `$${k}` : k;
    if (out === undefined && (e !== c || ek !== k)) {
      out = {};
      for (let j = 0; j < i; j++) setOwn(out, keys[j] as string, src[keys[j] as string]);
    }
    if (out !== undefined) setOwn(out, ek, e);
  }
  return out ?? v;
}

/**
 * Encodes a JSON-like value that may hold bigints, non-finite numbers and undefined as checkpoint JSON
 * (see STATE_ENCODING's table); the input is never modified.
 * @throws StateError InvalidState naming the path of a value that cannot be stored
 */
export function encodeState(value: unknown): string {
  return JSON.stringify(encodeValue(value, [], 0));
}

function corrupt(path: Path, detail: string): StateError {
  return new StateError('CheckpointCorrupt', `checkpoint state_json at ${pathText(path)}: ${detail}`);
}

function unpackNumbers(text: unknown, path: Path): number[] {
  if (typeof text !== 'string' || !BASE64_RE.test(text)) throw corrupt(path, '$f64 must be a base64 string');
  const buf = Buffer.from(text, 'base64');
  if (buf.length % 8 !== 0 || buf.length / 8 < PACK_MIN_LENGTH) throw corrupt(path, `$f64 holds ${buf.length} bytes, not a packed number array`);
  if (!LITTLE_ENDIAN) buf.swap64();
  const f = new Float64Array(buf.length / 8);
  new Uint8Array(f.buffer).set(buf);
  return Array.from(f);
}

function decodeTag(tag: string, body: unknown, path: Path): unknown {
  switch (tag) {
    case '$n':
      if (typeof body !== 'string' || !BIGINT_RE.test(body)) throw corrupt(path, `$n must be an integer string, got ${JSON.stringify(body)}`);
      return BigInt(body);
    case '$f':
      switch (body) {
        case 'NaN':
          return Number.NaN;
        case 'Infinity':
          return Infinity;
        case '-Infinity':
          return -Infinity;
        case '-0':
          return -0;
        default:
          throw corrupt(path, `$f must be NaN, Infinity, -Infinity or -0, got ${JSON.stringify(body)}`);
      }
    case '$u':
      if (body !== 1) throw corrupt(path, `$u must be 1, got ${JSON.stringify(body)}`);
      return undefined;
    case '$f64':
      return unpackNumbers(body, path);
    default:
      throw corrupt(path, `unknown tag ${JSON.stringify(tag)}`);
  }
}

function decodeValue(v: unknown, path: Path): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      path.push(i);
      v[i] = decodeValue(v[i], path);
      path.pop();
    }
    return v;
  }
  const src = v as Record<string, unknown>;
  const keys = Object.keys(src);
  let renamed = false;
  for (const k of keys) {
    if (k.charCodeAt(0) !== 36) continue;
    if (k.charCodeAt(1) !== 36) {
      if (keys.length !== 1) throw corrupt(path, `tag ${JSON.stringify(k)} shares its object with other keys`);
      return decodeTag(k, src[k], path);
    }
    renamed = true;
  }
  const out: Record<string, unknown> = renamed ? {} : src;
  for (const k of keys) {
    const dk = renamed && k.charCodeAt(0) === 36 ? k.slice(1) : k;
    path.push(dk);
    setOwn(out, dk, decodeValue(src[k], path));
    path.pop();
  }
  return out;
}

/**
 * Decodes checkpoint JSON written by encodeState back to the exact value that was encoded.
 * @throws StateError CheckpointCorrupt when the text is not valid checkpoint JSON
 */
export function decodeState(json: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (e) {
    throw new StateError('CheckpointCorrupt', `checkpoint state_json is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  return decodeValue(parsed, []);
}

/** SHA-256 of a string's UTF-8 bytes, lowercase hex. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function canonical(v: unknown, path: Path, dotted: string, ignore: ReadonlySet<string>, depth: number): string {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return JSON.stringify(v);
    case 'number': {
      const special = specialNumber(v);
      return special === undefined ? JSON.stringify(v) : `{"$f":"${special}"}`;
    }
    case 'bigint':
      return `{"$n":"${v.toString()}"}`;
    case 'undefined':
      return '{"$u":1}';
    case 'object':
      break;
    default:
      throw new StateError('InvalidArgument', `configuration ${pathText(path).replace(/^state/, '')}: a ${typeof v} cannot be hashed`);
  }
  if (v === null) return 'null';
  if (depth >= MAX_DEPTH) throw new StateError('InvalidArgument', `configuration nested deeper than ${MAX_DEPTH} levels (a cycle?)`);
  if (Array.isArray(v)) {
    const parts: string[] = [];
    for (let i = 0; i < v.length; i++) {
      path.push(i);
      parts.push(canonical(v[i], path, `${dotted}[${i}]`, ignore, depth + 1));
      path.pop();
    }
    return `[${parts.join(',')}]`;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) {
    throw new StateError('InvalidArgument', `configuration ${pathText(path).replace(/^state/, '')}: ${describe(v)} cannot be hashed; pass the resolved plain configuration`);
  }
  const src = v as Record<string, unknown>;
  const parts: string[] = [];
  for (const k of Object.keys(src).sort()) {
    const child = dotted === '' ? k : `${dotted}.${k}`;
    if (src[k] === undefined || ignore.has(child)) continue;
    path.push(k);
    parts.push(`${JSON.stringify(k.charCodeAt(0) === 36 ? `$${k}` : k)}:${canonical(src[k], path, child, ignore, depth + 1)}`);
    path.pop();
  }
  return `{${parts.join(',')}}`;
}

/**
 * Canonical JSON of a configuration: keys sorted (UTF-16 order) at every level, no whitespace, values
 * tagged as in encodeState (without float packing), undefined properties left out (the same as absent),
 * and the properties at the dotted paths in `ignoreKeys` (e.g. `output.dir`) left out.
 * @throws StateError InvalidArgument for values that are not plain configuration
 */
export function canonicalJson(config: unknown, ignoreKeys: readonly string[] = []): string {
  return canonical(config, [], '', new Set(ignoreKeys), 0);
}

/**
 * SHA-256 (hex) of the canonical JSON of the resolved configuration, leaving out the dotted paths in
 * `ignoreKeys` that do not affect results (an output directory, a progress flag).
 * @throws StateError InvalidArgument for values that are not plain configuration
 */
export function configHash(config: unknown, ignoreKeys: readonly string[] = []): string {
  return sha256Hex(canonicalJson(config, ignoreKeys));
}
