import { readFileSync } from 'node:fs';
import { parse as parseToml, TomlError } from 'smol-toml';
import { parseConfig, ConfigError, type Schema } from '../core/schema.js';

/** The resolved engine configuration (snake_case keys as in the TOML file). */
export interface EngineConfig {
  run: { cash: string; currency: string; seed: number; name: string };
  data: { files: string[]; store?: string; symbols: string[]; tz: string; bar_time: 'start' | 'end'; timeframe?: string; from?: string; to?: string };
  strategy: { name: string; params: Record<string, unknown> };
  instrument: { tick_size: string; lot_size: string; asset_class: 'equity' | 'crypto' | 'future' | 'fx' | 'index' };
  sizing: {
    /** 'percent-equity': at most max_position_pct of equity per position; 'all-cash': all free cash (peer-parity style) */
    mode: 'percent-equity' | 'all-cash';
    max_position_pct: number;
    fractional: boolean;
    /** lot for fractional sizing, as a decimal string */
    fractional_lot: string;
  };
  exits: { take_profit_pct?: number; stop_loss_pct?: number; brackets: boolean };
  kill_switch: { daily_loss_pct?: number; weekly_loss_pct?: number };
  execution: { entry: 'market' | 'escalate'; first_timeout_ms: number; second_timeout_ms: number; max_attempts: number; market_timeout: boolean };
  cooldown: { bars_after_stop: number };
  session: {
    calendar: string;
    warmup_minutes: number;
    eod_warning_minutes: number;
    eod_liquidation_minutes: number;
    allow_overnight: boolean;
  };
  engine: { warmup_bars: number; long_only: boolean; checkpoint_every: number; reconcile_every: number; unknown_position: 'halt' | 'adopt' };
  venue: {
    market_fill: 'next-open' | 'this-close';
    limit_fill: 'through' | 'touch';
    slippage_bps: number;
    commission: 'none' | 'per-share' | 'bps' | 'fixed';
    commission_rate: string;
    commission_min: string;
    latency_ns: number;
    volume_share?: number;
  };
  risk: {
    max_order_value?: string;
    max_position_per_instrument?: string;
    max_total_exposure?: string;
    max_leverage?: number;
    max_concentration?: number;
  };
}

/** The strict schema: unknown keys are errors, every problem is reported at once, defaults live here. */
export const ENGINE_SCHEMA: Schema = {
  run: {
    type: 'table',
    fields: {
      cash: { type: 'decimal', default: '100000', positive: true, doc: 'starting cash, quote currency' },
      currency: { type: 'string', default: 'USD', pattern: /^[A-Za-z0-9]{1,16}$/ },
      seed: { type: 'number', default: 1, integer: true, min: 0 },
      name: { type: 'string', default: 'backtest' },
    },
  },
  data: {
    type: 'table',
    fields: {
      files: { type: 'string[]', default: [] },
      store: { type: 'string' },
      symbols: { type: 'string[]', default: [] },
      tz: { type: 'string', default: 'UTC' },
      bar_time: { type: 'enum', values: ['start', 'end'], default: 'end' },
      timeframe: { type: 'enum', values: ['1s', '1m', '5m', '15m', '30m', '1h', '1d'] },
      from: { type: 'string' },
      to: { type: 'string' },
    },
  },
  strategy: {
    type: 'table',
    fields: {
      name: { type: 'string', default: 'vwap-reversion' },
      params: { type: 'record', default: {} },
    },
  },
  instrument: {
    type: 'table',
    fields: {
      tick_size: { type: 'decimal', default: '0.01', positive: true, doc: 'price increment of every backtest instrument; fills are rounded to it' },
      lot_size: { type: 'decimal', default: '1', positive: true, doc: 'quantity increment without fractional sizing' },
      asset_class: { type: 'enum', values: ['equity', 'crypto', 'future', 'fx', 'index'], default: 'equity' },
    },
  },
  sizing: {
    type: 'table',
    fields: {
      mode: { type: 'enum', values: ['percent-equity', 'all-cash'], default: 'percent-equity' },
      max_position_pct: { type: 'number', default: 10, min: 0, max: 100 },
      fractional: { type: 'boolean', default: false },
      fractional_lot: { type: 'decimal', default: '0.000000001', positive: true },
    },
  },
  exits: {
    type: 'table',
    fields: {
      take_profit_pct: { type: 'number', min: 0 },
      stop_loss_pct: { type: 'number', min: 0 },
      brackets: { type: 'boolean', default: true, doc: 'attach TP/SL legs at the venue when it supports brackets (layer 1); the per-bar check (layer 2) always runs' },
    },
  },
  execution: {
    type: 'table',
    fields: {
      entry: { type: 'enum', values: ['market', 'escalate'], default: 'market', doc: "'escalate': limit at the fair price, reprice halfway to the last trade, then market (the seed's policy)" },
      first_timeout_ms: { type: 'number', min: 1, integer: true, default: 2000 },
      second_timeout_ms: { type: 'number', min: 1, integer: true, default: 2000 },
      max_attempts: { type: 'number', min: 1, integer: true, default: 3 },
      market_timeout: { type: 'boolean', default: false, doc: 'cancel the final market order too when it has not filled in time (false: a bar backtest fills it at the next open)' },
    },
  },
  kill_switch: {
    type: 'table',
    fields: {
      daily_loss_pct: { type: 'number', min: 0, max: 100, default: 3 },
      weekly_loss_pct: { type: 'number', min: 0, max: 100, default: 6 },
    },
  },
  cooldown: { type: 'table', fields: { bars_after_stop: { type: 'number', integer: true, min: 0, default: 30 } } },
  session: {
    type: 'table',
    fields: {
      calendar: { type: 'string', default: 'auto', doc: "'auto' (from the instrument), 'none', 'XNYS', '24/7', 'XSHG'" },
      warmup_minutes: { type: 'number', min: 0, default: 15 },
      eod_warning_minutes: { type: 'number', min: 0, default: 30 },
      eod_liquidation_minutes: { type: 'number', min: 0, default: 1 },
      allow_overnight: { type: 'boolean', default: false },
    },
  },
  engine: {
    type: 'table',
    fields: {
      warmup_bars: { type: 'number', integer: true, min: 0, default: 50 },
      long_only: { type: 'boolean', default: true },
      checkpoint_every: { type: 'number', integer: true, min: 1, default: 100, doc: 'bar times between checkpoints to state.sqlite' },
      reconcile_every: { type: 'number', integer: true, min: 1, default: 20, doc: 'bar times (not bars of every symbol) between reconciliations' },
      unknown_position: { type: 'enum', values: ['halt', 'adopt'], default: 'halt', doc: 'what to do when the venue holds a position the engine does not know' },
    },
  },
  venue: {
    type: 'table',
    fields: {
      market_fill: { type: 'enum', values: ['next-open', 'this-close'], default: 'next-open' },
      limit_fill: { type: 'enum', values: ['through', 'touch'], default: 'through' },
      slippage_bps: { type: 'number', min: 0, default: 0 },
      commission: { type: 'enum', values: ['none', 'per-share', 'bps', 'fixed'], default: 'per-share' },
      commission_rate: { type: 'decimal', default: '0.005', min: '0' },
      commission_min: { type: 'decimal', default: '1', min: '0' },
      latency_ns: { type: 'number', integer: true, min: 0, default: 0 },
      volume_share: { type: 'number', min: 0, max: 1 },
    },
  },
  risk: {
    type: 'table',
    fields: {
      max_order_value: { type: 'decimal', min: '0' },
      max_position_per_instrument: { type: 'decimal', min: '0' },
      max_total_exposure: { type: 'decimal', min: '0' },
      max_leverage: { type: 'number', min: 0 },
      max_concentration: { type: 'number', min: 0, max: 1 },
    },
  },
};

/** Validates a parsed config object (e.g. from TOML or built in code). @throws ConfigError ConfigInvalid */
export function resolveConfig(input: unknown, source?: string): EngineConfig {
  return parseConfig<EngineConfig>(ENGINE_SCHEMA, input, source);
}

/** Reads and validates a TOML config file. @throws ConfigError ConfigInvalid (including TOML syntax errors, with line) */
export function loadConfigFile(path: string): EngineConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError([{ path: '(file)', message: `cannot read ${path}: ${(e as Error).message}` }], path);
  }
  return resolveConfig(parseTomlText(text, path), path);
}

/** Parses TOML text. @throws ConfigError ConfigInvalid naming the line and column */
export function parseTomlText(text: string, source: string): Record<string, unknown> {
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof TomlError) {
      throw new ConfigError([{ path: `(line ${e.line}, column ${e.column})`, message: e.message.split('\n')[0] ?? 'TOML syntax error' }], source);
    }
    throw e;
  }
}

/** Deep-merges `override` into `base` (tables merge, other values replace); for CLI flags over a config file. */
export function mergeConfig(base: Record<string, unknown>, override: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) {
    const b = out[k];
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && b !== null && typeof b === 'object' && !Array.isArray(b) && k !== 'params') {
      out[k] = mergeConfig(b as Record<string, unknown>, v as Record<string, unknown>);
    } else if (k === 'params' && b !== null && typeof b === 'object' && v !== null && typeof v === 'object') {
      out[k] = { ...(b as Record<string, unknown>), ...(v as Record<string, unknown>) };
    } else {
      out[k] = v;
    }
  }
  return out;
}
