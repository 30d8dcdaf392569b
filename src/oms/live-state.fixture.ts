import type { OrderManagerState } from './manager.js';

/**
 * The engine's former checkpoint filter of an OMS snapshot (active orders and the retained history with
 * their fills and keys), copying the whole run first: the specification OrderManager.liveSnapshot() must
 * match byte for byte, and the peer its bench measures. Test and bench only.
 */
export function liveOmsState(state: OrderManagerState): OrderManagerState {
  const orders = new Set<string>();
  for (const o of state.active) orders.add(o.id);
  for (const o of state.history) orders.add(o.id);
  const fo = state.fillOrders;
  const keepFillIds: string[] = [];
  const keepOrderIds: string[] = [];
  const fillIds = new Set<string>();
  for (let i = 0; i < fo.orderIds.length; i++) {
    const id = fo.orderIds[i] as string;
    if (!orders.has(id)) continue;
    const f = fo.fillIds[i] as string;
    keepFillIds.push(f);
    keepOrderIds.push(id);
    fillIds.add(f);
  }
  const pf = state.portfolio.fills;
  const fills = { ids: [] as string[], data: [] as string[] };
  if (fillIds.size > 0) {
    for (let i = 0; i < pf.ids.length; i++) {
      const id = pf.ids[i] as string;
      if (!fillIds.has(id)) continue;
      fills.ids.push(id);
      fills.data.push(pf.data[i] as string);
    }
  }
  const keys = new Set<string>();
  for (const o of state.active) if (o.idempotencyKey !== undefined && o.idempotencyKey !== null) keys.add(o.idempotencyKey);
  for (const o of state.history) if (o.idempotencyKey !== undefined && o.idempotencyKey !== null) keys.add(o.idempotencyKey);
  return {
    ...state,
    portfolio: { ...state.portfolio, fills },
    idempotencyKeys: state.idempotencyKeys.filter((k) => keys.has(k)),
    fillOrders: { fillIds: keepFillIds, orderIds: keepOrderIds },
  };
}
