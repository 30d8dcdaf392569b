import type { Clock } from '../../core/clock.js';
import { alpacaCredentialsFromEnv } from './credentials.js';
import { AlpacaError } from './errors.js';
import type { AlpacaBarFeedOptions } from './bar-feed.js';
import type { AlpacaVenueOptions } from './alpaca-venue.js';
import { defaultTradingStreamUrl } from './alpaca-venue.js';
import { ALPACA_LIVE_BASE_URL, ALPACA_PAPER_BASE_URL, DATA_STREAM_PATH, ENV_BASE_URL, ENV_DATA_STREAM_URL, ENV_DATA_URL, ENV_STREAM_URL } from './protocol.js';

/** Alpaca's market data REST host. */
export const ALPACA_DATA_URL = 'https://data.alpaca.markets';
/** Alpaca's market data stream (IEX feed). */
export const ALPACA_DATA_STREAM_URL = `wss://stream.data.alpaca.markets${DATA_STREAM_PATH}`;

/** Where an Alpaca configuration points. */
export interface AlpacaEndpoints {
  readonly baseUrl: string;
  readonly tradingStreamUrl: string;
  readonly dataUrl: string;
  readonly dataStreamUrl: string;
  /** Whether the trading URL is Alpaca's live endpoint (real money). */
  readonly live: boolean;
}

function urlFrom(env: NodeJS.ProcessEnv, name: string, fallback: string, protocols: readonly string[]): string {
  const v = env[name];
  const text = v === undefined || v.trim() === '' ? fallback : v.trim();
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new AlpacaError('InvalidConfig', `${name}=${JSON.stringify(text)} is not a URL`);
  }
  if (!protocols.includes(u.protocol)) throw new AlpacaError('InvalidConfig', `${name}=${JSON.stringify(text)} must use ${protocols.join(' or ')}`);
  return text;
}

/**
 * The endpoints from `APCA_API_BASE_URL` (default Alpaca's paper API), `APCA_API_STREAM_URL` (default the base
 * URL's `/stream`), `APCA_API_DATA_URL` and `APCA_API_DATA_STREAM_URL` (default Alpaca's data hosts; when the
 * base URL is a loopback paper server, the same host).
 * @throws AlpacaError InvalidConfig naming the variable with a bad URL
 */
export function alpacaEndpointsFromEnv(env: NodeJS.ProcessEnv = process.env): AlpacaEndpoints {
  const baseUrl = urlFrom(env, ENV_BASE_URL, ALPACA_PAPER_BASE_URL, ['http:', 'https:']);
  const base = new URL(baseUrl);
  const local = base.hostname === '127.0.0.1' || base.hostname === 'localhost' || base.hostname === '::1' || base.hostname === '[::1]';
  const localStream = `${base.protocol === 'https:' ? 'wss' : 'ws'}://${base.host}${DATA_STREAM_PATH}`;
  return {
    baseUrl,
    tradingStreamUrl: urlFrom(env, ENV_STREAM_URL, defaultTradingStreamUrl(baseUrl), ['ws:', 'wss:']),
    dataUrl: urlFrom(env, ENV_DATA_URL, local ? base.origin : ALPACA_DATA_URL, ['http:', 'https:']),
    dataStreamUrl: urlFrom(env, ENV_DATA_STREAM_URL, local ? localStream : ALPACA_DATA_STREAM_URL, ['ws:', 'wss:']),
    live: base.origin === new URL(ALPACA_LIVE_BASE_URL).origin,
  };
}

/**
 * Venue and bar feed options from the environment: endpoints as `alpacaEndpointsFromEnv`, keys from
 * `APCA_API_KEY_ID` / `APCA_API_SECRET_KEY`.
 * @throws AlpacaError MissingCredentials | InvalidConfig
 */
export function alpacaOptionsFromEnv(clock: Clock, env: NodeJS.ProcessEnv = process.env): { venue: AlpacaVenueOptions; feed: AlpacaBarFeedOptions; endpoints: AlpacaEndpoints } {
  const endpoints = alpacaEndpointsFromEnv(env);
  const credentials = alpacaCredentialsFromEnv(env);
  return {
    endpoints,
    venue: { baseUrl: endpoints.baseUrl, tradingStreamUrl: endpoints.tradingStreamUrl, credentials, clock },
    feed: { dataUrl: endpoints.dataUrl, dataStreamUrl: endpoints.dataStreamUrl, credentials, clock },
  };
}
