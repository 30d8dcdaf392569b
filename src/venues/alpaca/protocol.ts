/**
 * The subset of Alpaca's Trading API v2 and Market Data API v2 that AXON speaks, as JSON shapes (from
 * Alpaca's public API reference). The adapter (`AlpacaVenue`) and the paper venue server
 * (`axon venue serve --protocol alpaca`) both build on these types, so the two ends cannot drift apart.
 * Decimal fields are strings on the wire, as Alpaca sends them; times are RFC 3339 strings in UTC.
 */

/** Header carrying the key id on every REST request. */
export const HEADER_KEY_ID = 'APCA-API-KEY-ID';
/** Header carrying the secret key on every REST request. */
export const HEADER_SECRET_KEY = 'APCA-API-SECRET-KEY';
/** Environment variable holding the key id (the only place keys come from). */
export const ENV_KEY_ID = 'APCA_API_KEY_ID';
/** Environment variable holding the secret key. */
export const ENV_SECRET_KEY = 'APCA_API_SECRET_KEY';
/** Environment variable with the trading REST base URL, e.g. `https://paper-api.alpaca.markets`. */
export const ENV_BASE_URL = 'APCA_API_BASE_URL';
/** Environment variable with the trading stream URL (default: the base URL's `/stream` over ws[s]). */
export const ENV_STREAM_URL = 'APCA_API_STREAM_URL';
/** Environment variable with the market data stream URL, e.g. `wss://stream.data.alpaca.markets/v2/iex`. */
export const ENV_DATA_STREAM_URL = 'APCA_API_DATA_STREAM_URL';
/** Environment variable with the market data REST base URL (historical bars), e.g. `https://data.alpaca.markets`. */
export const ENV_DATA_URL = 'APCA_API_DATA_URL';

/** Alpaca's public paper trading endpoint (an `axon live` target that needs no live-trading flag). */
export const ALPACA_PAPER_BASE_URL = 'https://paper-api.alpaca.markets';
/** Alpaca's live trading endpoint. */
export const ALPACA_LIVE_BASE_URL = 'https://api.alpaca.markets';

/** Path of the trading stream on the trading host. */
export const TRADING_STREAM_PATH = '/stream';
/** Path of the market data stream (IEX feed) on the data host. */
export const DATA_STREAM_PATH = '/v2/iex';

/** Default REST rate limit of an Alpaca account: requests per minute. */
export const DEFAULT_RATE_LIMIT_PER_MIN = 200;

export type AlpacaSide = 'buy' | 'sell';
export type AlpacaOrderType = 'market' | 'limit' | 'stop' | 'stop_limit';
export type AlpacaTimeInForce = 'day' | 'gtc' | 'opg' | 'cls' | 'ioc' | 'fok';
/** `''` is how Alpaca reports a simple order's class. */
export type AlpacaOrderClass = 'simple' | 'bracket' | 'oco' | 'oto' | '';

/** Order statuses Alpaca reports. */
export type AlpacaOrderStatus =
  | 'new'
  | 'partially_filled'
  | 'filled'
  | 'done_for_day'
  | 'canceled'
  | 'expired'
  | 'replaced'
  | 'pending_cancel'
  | 'pending_replace'
  | 'accepted'
  | 'pending_new'
  | 'accepted_for_bidding'
  | 'stopped'
  | 'rejected'
  | 'suspended'
  | 'calculated'
  | 'held';

/** Statuses after which an order never changes again. */
export const TERMINAL_STATUSES: ReadonlySet<AlpacaOrderStatus> = new Set<AlpacaOrderStatus>(['filled', 'canceled', 'expired', 'replaced', 'rejected', 'done_for_day']);

/** `POST /v2/orders` body. Exactly one of `qty` and `notional`. */
export interface AlpacaOrderRequest {
  symbol: string;
  qty?: string;
  notional?: string;
  side: AlpacaSide;
  type: AlpacaOrderType;
  time_in_force: AlpacaTimeInForce;
  limit_price?: string;
  stop_price?: string;
  extended_hours?: boolean;
  client_order_id?: string;
  order_class?: Exclude<AlpacaOrderClass, ''>;
  take_profit?: { limit_price: string };
  stop_loss?: { stop_price: string; limit_price?: string };
}

/** `PATCH /v2/orders/{id}` body (replace). */
export interface AlpacaReplaceRequest {
  qty?: string;
  time_in_force?: AlpacaTimeInForce;
  limit_price?: string;
  stop_price?: string;
  client_order_id?: string;
}

/** An order as Alpaca returns it (REST and inside trade updates). */
export interface AlpacaOrder {
  id: string;
  client_order_id: string;
  created_at: string;
  updated_at: string;
  submitted_at: string;
  filled_at: string | null;
  expired_at: string | null;
  canceled_at: string | null;
  failed_at: string | null;
  replaced_at: string | null;
  replaced_by: string | null;
  replaces: string | null;
  asset_id: string;
  symbol: string;
  asset_class: 'us_equity' | 'crypto';
  notional: string | null;
  qty: string | null;
  filled_qty: string;
  filled_avg_price: string | null;
  order_class: AlpacaOrderClass;
  order_type: AlpacaOrderType;
  type: AlpacaOrderType;
  side: AlpacaSide;
  time_in_force: AlpacaTimeInForce;
  limit_price: string | null;
  stop_price: string | null;
  status: AlpacaOrderStatus;
  extended_hours: boolean;
  /** Bracket / OCO / OTO legs when requested with `nested=true`, else null. */
  legs: AlpacaOrder[] | null;
}

/** `GET /v2/account`. */
export interface AlpacaAccount {
  id: string;
  account_number: string;
  status: 'ACTIVE' | 'ONBOARDING' | 'SUBMITTED' | 'ACCOUNT_UPDATED' | 'APPROVAL_PENDING' | 'REJECTED' | 'INACTIVE';
  currency: string;
  cash: string;
  portfolio_value: string;
  equity: string;
  last_equity: string;
  buying_power: string;
  long_market_value: string;
  short_market_value: string;
  initial_margin: string;
  maintenance_margin: string;
  daytrade_count: number;
  pattern_day_trader: boolean;
  trading_blocked: boolean;
  transfers_blocked: boolean;
  account_blocked: boolean;
  shorting_enabled: boolean;
  multiplier: string;
  created_at: string;
}

/** One element of `GET /v2/positions`. */
export interface AlpacaPosition {
  asset_id: string;
  symbol: string;
  exchange: string;
  asset_class: 'us_equity' | 'crypto';
  avg_entry_price: string;
  /** Signed: negative for a short. */
  qty: string;
  qty_available: string;
  side: 'long' | 'short';
  market_value: string;
  cost_basis: string;
  unrealized_pl: string;
  unrealized_plpc: string;
  current_price: string;
  lastday_price: string;
  change_today: string;
}

/** `GET /v2/clock`. */
export interface AlpacaClock {
  timestamp: string;
  is_open: boolean;
  next_open: string;
  next_close: string;
}

/** One element of `GET /v2/calendar?start=YYYY-MM-DD&end=YYYY-MM-DD`; times are America/New_York. */
export interface AlpacaCalendarDay {
  /** `YYYY-MM-DD` */
  date: string;
  /** `HH:MM` */
  open: string;
  /** `HH:MM` */
  close: string;
  session_open: string;
  session_close: string;
  settlement_date: string;
}

/**
 * One element of `GET /v2/account/activities/FILL?after=<RFC 3339>&direction=asc&page_size=&page_token=`:
 * how fills missed during a stream disconnect are found again. `id` is unique and ordered; the
 * next page starts after `page_token` = the last id seen.
 */
export interface AlpacaFillActivity {
  id: string;
  activity_type: 'FILL';
  transaction_time: string;
  type: 'fill' | 'partial_fill';
  price: string;
  qty: string;
  side: AlpacaSide;
  symbol: string;
  leaves_qty: string;
  order_id: string;
  cum_qty: string;
  order_status: AlpacaOrderStatus;
}

/** Error body of every non-2xx REST answer. */
export interface AlpacaErrorBody {
  code: number;
  message: string;
}

/** Alpaca's error codes by HTTP status (the `code` field of the body). */
export const ERROR_CODES = {
  forbidden: 40310000,
  notFound: 40410000,
  unprocessable: 42210000,
  rateLimited: 42910000,
  internal: 50010000,
  unauthorized: 40110000,
} as const;

/** Trade update event names on the trading stream. */
export type TradeUpdateEvent =
  | 'new'
  | 'fill'
  | 'partial_fill'
  | 'canceled'
  | 'expired'
  | 'done_for_day'
  | 'replaced'
  | 'rejected'
  | 'pending_new'
  | 'pending_cancel'
  | 'pending_replace'
  | 'stopped'
  | 'calculated'
  | 'suspended'
  | 'order_replace_rejected'
  | 'order_cancel_rejected';

/** The `data` of a `trade_updates` message. Fill events carry execution_id, price, qty, position_qty. */
export interface TradeUpdate {
  event: TradeUpdateEvent;
  /** Unique per execution: fills are deduplicated by it. */
  execution_id?: string;
  timestamp: string;
  /** Fill price of this execution. */
  price?: string;
  /** Quantity of this execution. */
  qty?: string;
  /** Signed position in the symbol after this execution. */
  position_qty?: string;
  order: AlpacaOrder;
}

/** Client -> server on the trading stream. */
export type TradingStreamRequest =
  | { action: 'auth'; key: string; secret: string }
  | { action: 'authenticate'; data: { key_id: string; secret_key: string } }
  | { action: 'listen'; data: { streams: string[] } };

/** Server -> client on the trading stream. */
export type TradingStreamMessage =
  | { stream: 'authorization'; data: { status: 'authorized' | 'unauthorized'; action: 'authenticate' } }
  | { stream: 'listening'; data: { streams: string[]; error?: string } }
  | { stream: 'trade_updates'; data: TradeUpdate };

/** Client -> server on the market data stream. */
export type DataStreamRequest =
  | { action: 'auth'; key: string; secret: string }
  | { action: 'subscribe'; bars?: string[]; trades?: string[]; quotes?: string[] }
  | { action: 'unsubscribe'; bars?: string[]; trades?: string[]; quotes?: string[] };

/** A minute bar on the market data stream; `t` is the bar's start time, prices are JSON numbers. */
export interface DataStreamBar {
  T: 'b';
  S: string;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
  t: string;
  n?: number;
  vw?: number;
}

/** Server -> client on the market data stream: every frame is a JSON array of these. */
export type DataStreamMessage =
  | { T: 'success'; msg: 'connected' | 'authenticated' }
  | { T: 'error'; code: number; msg: string }
  | { T: 'subscription'; trades: string[]; quotes: string[]; bars: string[] }
  | DataStreamBar;

/** Market data stream error codes. */
export const DATA_STREAM_ERRORS = {
  authFailed: 402,
  authTimeout: 404,
  notAuthenticated: 401,
  alreadyAuthenticated: 403,
  connectionLimit: 406,
  invalidSyntax: 400,
} as const;

/** One bar of `GET /v2/stocks/bars` (historical, on the data host). */
export interface HistoricalBar {
  t: string;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
  n?: number;
  vw?: number;
}

/**
 * `GET /v2/stocks/bars?symbols=A,B&timeframe=1Min&start=&end=&limit=&page_token=`: bars by symbol,
 * in time order; `next_page_token` is null on the last page.
 */
export interface HistoricalBarsResponse {
  bars: Record<string, HistoricalBar[]>;
  next_page_token: string | null;
}
