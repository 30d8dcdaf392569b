import { AxonError } from './errors.js';
import { Decimal } from './decimal.js';

/** A configuration problem: the dotted path and what is wrong. */
export interface ConfigProblem {
  path: string;
  message: string;
}

/** Raised when a configuration is invalid; `problems` lists every problem found, not only the first. */
export class ConfigError extends AxonError<'ConfigInvalid'> {
  override readonly name = 'ConfigError';
  readonly problems: readonly ConfigProblem[];
  constructor(problems: ConfigProblem[], source?: string) {
    const where = source === undefined ? '' : `${source}: `;
    super('ConfigInvalid', `${where}${problems.length} problem(s): ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
    this.problems = problems;
  }
}

/** A field of a strict schema. Decimal fields are kept as canonical strings (exact). */
export type Field =
  | { type: 'string'; default?: string; pattern?: RegExp; doc?: string }
  | { type: 'number'; default?: number; min?: number; max?: number; integer?: boolean; doc?: string }
  | { type: 'boolean'; default?: boolean; doc?: string }
  | { type: 'decimal'; default?: string; min?: string; positive?: boolean; doc?: string }
  | { type: 'enum'; values: readonly string[]; default?: string; doc?: string }
  | { type: 'string[]'; default?: readonly string[]; doc?: string }
  | { type: 'record'; doc?: string; default?: Record<string, unknown> }
  | { type: 'table'; fields: Schema; doc?: string; optional?: boolean };

/** A strict object schema: unknown keys are errors. */
export type Schema = Record<string, Field>;

function kindOf(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (v instanceof Date) return 'date';
  return typeof v;
}

/**
 * Validates `input` against `schema`, filling defaults; every problem is collected with its path.
 * Fields without a default and absent from the input are left undefined (optional).
 */
export function validate(schema: Schema, input: unknown, path = '', problems: ConfigProblem[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const obj = input === undefined ? {} : input;
  if (kindOf(obj) !== 'object') {
    problems.push({ path: path || '(root)', message: `expected a table, got ${kindOf(obj)}` });
    return out;
  }
  const record = obj as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!Object.hasOwn(schema, key)) {
      const known = Object.keys(schema).join(', ');
      problems.push({ path: path + key, message: `unknown key (known: ${known})` });
    }
  }
  for (const [key, field] of Object.entries(schema)) {
    const p = path + key;
    const v = record[key];
    if (field.type === 'table') {
      if (v === undefined && field.optional === true) continue;
      out[key] = validate(field.fields, v, `${p}.`, problems);
      continue;
    }
    if (v === undefined) {
      if (field.default !== undefined) out[key] = field.default;
      continue;
    }
    switch (field.type) {
      case 'string':
        if (typeof v !== 'string') problems.push({ path: p, message: `expected a string, got ${kindOf(v)}` });
        else if (field.pattern !== undefined && !field.pattern.test(v)) problems.push({ path: p, message: `invalid value ${JSON.stringify(v)}` });
        else out[key] = v;
        break;
      case 'number':
        if (typeof v !== 'number' || Number.isNaN(v)) problems.push({ path: p, message: `expected a number, got ${kindOf(v)}${typeof v === 'number' ? ' NaN' : ''}` });
        else if (!Number.isFinite(v)) problems.push({ path: p, message: 'must be finite' });
        else if (field.integer === true && !Number.isInteger(v)) problems.push({ path: p, message: `must be an integer, got ${v}` });
        else if (field.min !== undefined && v < field.min) problems.push({ path: p, message: `must be >= ${field.min}, got ${v}` });
        else if (field.max !== undefined && v > field.max) problems.push({ path: p, message: `must be <= ${field.max}, got ${v}` });
        else out[key] = v;
        break;
      case 'boolean':
        if (typeof v !== 'boolean') problems.push({ path: p, message: `expected true or false, got ${kindOf(v)}` });
        else out[key] = v;
        break;
      case 'decimal': {
        const text = typeof v === 'number' && Number.isFinite(v) ? String(v) : v;
        if (typeof text !== 'string' || !Decimal.isValid(text)) {
          problems.push({ path: p, message: `expected a decimal number (a string like "100000.00"), got ${JSON.stringify(v)}` });
          break;
        }
        const d = Decimal.of(text);
        if (field.positive === true && !d.isPositive()) problems.push({ path: p, message: `must be > 0, got ${text}` });
        else if (field.min !== undefined && d.lt(field.min)) problems.push({ path: p, message: `must be >= ${field.min}, got ${text}` });
        else out[key] = d.toString();
        break;
      }
      case 'enum':
        if (typeof v !== 'string' || !field.values.includes(v)) {
          problems.push({ path: p, message: `must be one of ${field.values.join(', ')}, got ${JSON.stringify(v)}` });
        } else out[key] = v;
        break;
      case 'string[]':
        if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) problems.push({ path: p, message: 'expected an array of strings' });
        else out[key] = [...(v as string[])];
        break;
      case 'record':
        if (kindOf(v) !== 'object') problems.push({ path: p, message: `expected a table, got ${kindOf(v)}` });
        else out[key] = { ...(v as Record<string, unknown>) };
        break;
    }
  }
  return out;
}

/** Validates and throws one ConfigError listing every problem. @throws ConfigError ConfigInvalid */
export function parseConfig<T>(schema: Schema, input: unknown, source?: string): T {
  const problems: ConfigProblem[] = [];
  const out = validate(schema, input, '', problems);
  if (problems.length > 0) throw new ConfigError(problems, source);
  return out as T;
}
