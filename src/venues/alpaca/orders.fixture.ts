import type { AlpacaOrder } from './protocol.js';

/** An Alpaca order object as the API returns it, with `fields` replaced (tests). */
export function alpacaOrder(fields: Partial<AlpacaOrder>): AlpacaOrder {
  return {
    id: 'v-1',
    client_order_id: 'c-1',
    created_at: '2024-01-02T14:30:00.123456789Z',
    updated_at: '2024-01-02T14:30:00.123456789Z',
    submitted_at: '2024-01-02T14:30:00Z',
    filled_at: null,
    expired_at: null,
    canceled_at: null,
    failed_at: null,
    replaced_at: null,
    replaced_by: null,
    replaces: null,
    asset_id: 'a',
    symbol: 'SPY',
    asset_class: 'us_equity',
    notional: null,
    qty: '10',
    filled_qty: '0',
    filled_avg_price: null,
    order_class: '',
    order_type: 'limit',
    type: 'limit',
    side: 'buy',
    time_in_force: 'gtc',
    limit_price: '470.12',
    stop_price: null,
    status: 'new',
    extended_hours: false,
    legs: null,
    ...fields,
  };
}
