import { CoreError } from './errors.js';

/** A timer's handle, for cancelTimer. */
export type TimerId = number;

/** The injected source of time (epoch ns) and timers; engine code never reads the wall clock itself. */
export interface Clock {
  /** Current time, UNIX epoch nanoseconds. */
  now(): bigint;
  /** Calls `callback` once at `atNs` (epoch ns) or as soon after as the clock gets there. */
  setTimer(atNs: bigint, callback: (nowNs: bigint) => void): TimerId;
  /** Cancels a pending timer; a no-op for one that already fired. */
  cancelTimer(id: TimerId): void;
}

interface PendingTimer {
  id: TimerId;
  at: bigint;
  callback: (nowNs: bigint) => void;
}

/**
 * A clock that moves only when told to (backtests, tests). `advanceTo` fires due timers in time
 * order (ties in creation order), each at its own time, so timer logic is simulated exactly.
 */
export class TestClock implements Clock {
  #now: bigint;
  #nextId = 1;
  #timers: PendingTimer[] = [];

  constructor(startNs = 0n) {
    this.#now = startNs;
  }

  now(): bigint {
    return this.#now;
  }

  setTimer(atNs: bigint, callback: (nowNs: bigint) => void): TimerId {
    const id = this.#nextId++;
    const timer = { id, at: atNs, callback };
    // keep sorted by (at, id): insert after every timer at or before atNs
    let i = this.#timers.length;
    while (i > 0 && (this.#timers[i - 1] as PendingTimer).at > atNs) i--;
    this.#timers.splice(i, 0, timer);
    return id;
  }

  cancelTimer(id: TimerId): void {
    const i = this.#timers.findIndex((t) => t.id === id);
    if (i >= 0) this.#timers.splice(i, 1);
  }

  /** Number of timers not yet fired. */
  pendingTimers(): number {
    return this.#timers.length;
  }

  /** Time of the next pending timer, or undefined. */
  nextTimerAt(): bigint | undefined {
    return this.#timers[0]?.at;
  }

  /**
   * Moves time forward to `ns`, firing every timer due on the way. Time never goes backwards.
   * @throws CoreError ClockError when `ns` is before now
   */
  advanceTo(ns: bigint): void {
    if (ns < this.#now) throw new CoreError('ClockError', `time cannot go backwards: ${ns} < ${this.#now}`);
    for (;;) {
      const next = this.#timers[0];
      if (next === undefined || next.at > ns) break;
      this.#timers.shift();
      if (next.at > this.#now) this.#now = next.at;
      next.callback(this.#now);
    }
    this.#now = ns;
  }

  /** Moves time forward by `deltaNs`. */
  advance(deltaNs: bigint): void {
    this.advanceTo(this.#now + deltaNs);
  }
}

/** Wall-clock time: Date.now() anchored once, advanced by the monotonic hrtime so it never steps back. */
export class LiveClock implements Clock {
  readonly #anchorEpochNs: bigint;
  readonly #anchorHr: bigint;
  #nextId = 1;
  readonly #handles = new Map<TimerId, NodeJS.Timeout>();

  constructor() {
    this.#anchorEpochNs = BigInt(Date.now()) * 1_000_000n;
    this.#anchorHr = process.hrtime.bigint();
  }

  now(): bigint {
    return this.#anchorEpochNs + (process.hrtime.bigint() - this.#anchorHr);
  }

  setTimer(atNs: bigint, callback: (nowNs: bigint) => void): TimerId {
    const id = this.#nextId++;
    const delayMs = Math.max(0, Number((atNs - this.now()) / 1_000_000n));
    const handle = setTimeout(() => {
      this.#handles.delete(id);
      callback(this.now());
    }, delayMs);
    handle.unref?.();
    this.#handles.set(id, handle);
    return id;
  }

  cancelTimer(id: TimerId): void {
    const h = this.#handles.get(id);
    if (h !== undefined) clearTimeout(h);
    this.#handles.delete(id);
  }
}

/** Nanoseconds per unit, for readable arithmetic on epoch-ns values. */
export const NS = {
  us: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
  d: 86_400_000_000_000n,
} as const;

/** Epoch ns to an ISO-8601 UTC string (ms resolution, plus sub-ms digits when present). */
export function nsToIso(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const rest = ns % 1_000_000n;
  const iso = new Date(Number(ms)).toISOString();
  if (rest === 0n) return iso;
  return `${iso.slice(0, -1)}${rest.toString().padStart(6, '0').replace(/0+$/, '')}Z`;
}

/** ISO-8601 (with zone designator) to epoch ns. @throws CoreError InvalidArgument */
export function isoToNs(iso: string): bigint {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new CoreError('InvalidArgument', `not an ISO-8601 time: ${JSON.stringify(iso)}`);
  return BigInt(ms) * 1_000_000n;
}
