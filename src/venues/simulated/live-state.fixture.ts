import { bookColumns, type SimulatedVenueLiveState, type SimulatedVenueState } from './simulated-venue.js';

/**
 * The engine's former checkpoint filter of a venue snapshot (working orders and the orders they link
 * to), copying every order of the run first: the specification SimulatedVenue.liveSnapshot() must match
 * byte for byte (books as columns), and the peer its bench measures. Test and bench only.
 */
export function liveVenueState(state: SimulatedVenueState): SimulatedVenueLiveState {
  return { ...filtered(state), books: bookColumns(state.books) };
}

function filtered(state: SimulatedVenueState): SimulatedVenueState {
  const keep = new Set<string>();
  const orders = state.orders;
  for (let i = 0; i < orders.length; i++) {
    const o = orders[i] as SimulatedVenueState['orders'][number];
    const s = o.status;
    if (s === 'pending' || s === 'open' || s === 'partially-filled') keep.add(o.clientOrderId);
  }
  if (keep.size === 0) return { ...state, orders: [] };
  const links: string[] = [];
  for (const o of orders) {
    if (!keep.has(o.clientOrderId)) continue;
    if (o.parent !== undefined) links.push(o.parent);
    if (o.sibling !== undefined) links.push(o.sibling);
  }
  for (const id of links) keep.add(id);
  return { ...state, orders: orders.filter((o) => keep.has(o.clientOrderId)) };
}
