import type { VenueEvent } from '../../model/order.js';
import type { VenueEventHandler } from '../venue.js';

/**
 * A venue's event delivery: events queue in the order they were produced and are delivered to the
 * current handlers by `flush`; a handler that makes the venue produce more events gets them after the
 * current ones (no re-entrant delivery). Every handler sees every event even if one throws; the first
 * error is re-thrown once the queue is empty.
 */
export class EventOutbox {
  readonly #queue: VenueEvent[] = [];
  readonly #handlers: () => readonly VenueEventHandler[];
  #dispatching = false;

  constructor(handlers: () => readonly VenueEventHandler[]) {
    this.#handlers = handlers;
  }

  /** True while delivering or holding undelivered events (a venue must not be snapshotted then). */
  get busy(): boolean {
    return this.#dispatching || this.#queue.length !== 0;
  }

  get size(): number {
    return this.#queue.length;
  }

  push(event: VenueEvent): void {
    this.#queue.push(event);
  }

  /** Delivers every queued event (and those queued meanwhile); a no-op when already delivering. */
  flush(): void {
    if (this.#dispatching) return;
    this.#dispatching = true;
    let error: unknown;
    let failed = false;
    try {
      for (let i = 0; i < this.#queue.length; i++) {
        const event = this.#queue[i] as VenueEvent;
        for (const h of this.#handlers()) {
          try {
            h(event);
          } catch (e) {
            if (!failed) error = e;
            failed = true;
          }
        }
      }
    } finally {
      this.#queue.length = 0;
      this.#dispatching = false;
    }
    if (failed) throw error;
  }
}
