import { Rng, type RngState } from '../../core/rng.js';
import { PaperServerError } from './errors.js';

/** Seeded fault rates of the paper server: probabilities in [0, 1], `delayMs` in ms. */
export interface FaultSpec {
  /** Probability that a trade_updates message is dropped (never sent). */
  readonly drop: number;
  /** Stream messages are delayed by a uniform 0..delayMs ms (order on each socket is kept, as TCP would). */
  readonly delayMs: number;
  /** Probability that a REST request is answered 429 before it is looked at. */
  readonly r429: number;
  /** Probability that a successful POST /v2/orders is answered 500 although the order was placed. */
  readonly r5xxPlaced: number;
  /** Probability that an order's `new` update is held back and sent after its next update (a fill). */
  readonly ackAfterFill: number;
  /** Probability per stream message that the socket is closed instead of sending it. */
  readonly disconnect: number;
}

/** No faults. */
export const NO_FAULTS: FaultSpec = Object.freeze({ drop: 0, delayMs: 0, r429: 0, r5xxPlaced: 0, ackAfterFill: 0, disconnect: 0 });

/** The `chaos` preset: every fault on at a moderate rate. */
export const CHAOS_FAULTS: FaultSpec = Object.freeze({ drop: 0.02, delayMs: 100, r429: 0.02, r5xxPlaced: 0.02, ackAfterFill: 0.05, disconnect: 0.005 });

const NAMES: Record<string, keyof FaultSpec> = {
  drop: 'drop',
  delay_ms: 'delayMs',
  r429: 'r429',
  r5xx_placed: 'r5xxPlaced',
  ack_after_fill: 'ackAfterFill',
  disconnect: 'disconnect',
};

/**
 * Parses a fault spec: comma-separated `name=value` items (drop, delay_ms, r429, r5xx_placed,
 * ack_after_fill, disconnect) and the preset `chaos`; later items override earlier ones.
 * @throws PaperServerError InvalidOption naming the bad item
 */
export function parseFaultSpec(text: string | undefined): FaultSpec {
  const spec: Record<keyof FaultSpec, number> = { ...NO_FAULTS };
  if (text === undefined || text.trim() === '' || text.trim() === 'none') return Object.freeze(spec);
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === 'chaos') {
      Object.assign(spec, CHAOS_FAULTS);
      continue;
    }
    const eq = item.indexOf('=');
    const name = eq < 0 ? item : item.slice(0, eq);
    const key = Object.hasOwn(NAMES, name) ? NAMES[name] : undefined;
    if (key === undefined) {
      throw new PaperServerError('InvalidOption', `fault spec item ${JSON.stringify(item)}: unknown fault ${JSON.stringify(name)} (one of chaos, ${Object.keys(NAMES).join(', ')})`);
    }
    const valueText = eq < 0 ? '' : item.slice(eq + 1).trim();
    const value = /^\d+(\.\d+)?$/.test(valueText) ? Number(valueText) : Number.NaN;
    if (key === 'delayMs') {
      if (!Number.isSafeInteger(value) || value > 60_000) throw new PaperServerError('InvalidOption', `fault spec item ${JSON.stringify(item)}: delay_ms must be an integer 0..60000`);
    } else if (!(value >= 0 && value <= 1)) {
      throw new PaperServerError('InvalidOption', `fault spec item ${JSON.stringify(item)}: ${name} must be a probability between 0 and 1`);
    }
    spec[key] = value;
  }
  return Object.freeze(spec);
}

/**
 * Draws the seeded fault decisions. A fault that is off never draws, so turning one fault on does not
 * change when the others fire for the same seed and request sequence.
 */
export class FaultInjector {
  readonly spec: FaultSpec;
  #rng: Rng;

  constructor(spec: FaultSpec, seed: number) {
    this.spec = spec;
    this.#rng = new Rng(`alpaca-paper-faults:${seed}`);
  }

  /** Whether any fault is on. */
  get active(): boolean {
    const s = this.spec;
    return s.drop > 0 || s.delayMs > 0 || s.r429 > 0 || s.r5xxPlaced > 0 || s.ackAfterFill > 0 || s.disconnect > 0;
  }

  #chance(p: number): boolean {
    return p > 0 && this.#rng.chance(p);
  }

  /** Answer this REST request 429. */
  reject429(): boolean {
    return this.#chance(this.spec.r429);
  }

  /** Answer this placed order 500. */
  fail5xxPlaced(): boolean {
    return this.#chance(this.spec.r5xxPlaced);
  }

  /** Hold this `new` update until the order's next update. */
  ackAfterFill(): boolean {
    return this.#chance(this.spec.ackAfterFill);
  }

  /** Drop this trade update. */
  drop(): boolean {
    return this.#chance(this.spec.drop);
  }

  /** Delay of one stream message, ms. */
  delayMs(): number {
    return this.spec.delayMs > 0 ? this.#rng.int(0, this.spec.delayMs) : 0;
  }

  /** Close the socket instead of sending this message. */
  disconnect(): boolean {
    return this.#chance(this.spec.disconnect);
  }

  /** The generator's state, persisted with the server's state. */
  snapshot(): RngState {
    return this.#rng.snapshot();
  }

  /** Continues the sequence from a persisted state. @throws CoreError InvalidArgument on a malformed state */
  restore(state: RngState): void {
    this.#rng = Rng.fromState(state);
  }
}

/** A version-4-layout UUID drawn from `rng` (deterministic for a seed, unique within one generator's sequence). */
export function uuidFrom(rng: Rng): string {
  const hex = (n: number): string => n.toString(16).padStart(8, '0');
  const a = hex(rng.nextU32());
  const b = hex(rng.nextU32());
  const c = hex(rng.nextU32());
  const d = hex(rng.nextU32());
  const variant = ((parseInt(c[0] as string, 16) & 0x3) | 0x8).toString(16);
  return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-${variant}${c.slice(1, 4)}-${c.slice(4)}${d}`;
}
