/** Daily and weekly loss limits, percent of the equity at the start of the day / week. */
export interface KillSwitchConfig {
  dailyLossPct: number | undefined;
  weeklyLossPct: number | undefined;
}

/** Serializable kill-switch state (for checkpoints). */
export interface KillSwitchState {
  dayKey: string;
  weekKey: string;
  dayStartEquity: number;
  weekStartEquity: number;
  trippedDaily: boolean;
  trippedWeekly: boolean;
}

/** Day key (UTC date) and ISO-week key for an epoch-ns time. */
export function periodKeys(timeNs: bigint): { day: string; week: string } {
  const ms = Number(timeNs / 1_000_000n);
  const d = new Date(ms);
  const day = d.toISOString().slice(0, 10);
  // iso week: thursday of this week decides the year
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const dow = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - dow);
  const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((t.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return { day, week: `${t.getUTCFullYear()}-W${String(week).padStart(2, '0')}` };
}

/**
 * Blocks new entries for the rest of the day (week) once equity falls more than the limit below the
 * day's (week's) starting equity. Exits are never blocked. Equity is a float: this is a guardrail
 * threshold, not a money path.
 */
export class KillSwitch {
  readonly #config: KillSwitchConfig;
  #s: KillSwitchState = { dayKey: '', weekKey: '', dayStartEquity: 0, weekStartEquity: 0, trippedDaily: false, trippedWeekly: false };

  constructor(config: KillSwitchConfig) {
    this.#config = config;
  }

  #dayEnd = -1n;

  /** Feeds the equity at `timeNs`; rolls the day and week. Returns true when entries are blocked. */
  update(timeNs: bigint, equity: number): boolean {
    const s = this.#s;
    if (timeNs >= this.#dayEnd || timeNs < this.#dayEnd - 86_400_000_000_000n) this.#roll(timeNs, equity);
    const { dailyLossPct, weeklyLossPct } = this.#config;
    if (dailyLossPct !== undefined && !s.trippedDaily && equity < s.dayStartEquity * (1 - dailyLossPct / 100)) s.trippedDaily = true;
    if (weeklyLossPct !== undefined && !s.trippedWeekly && equity < s.weekStartEquity * (1 - weeklyLossPct / 100)) s.trippedWeekly = true;
    return s.trippedDaily || s.trippedWeekly;
  }

  #roll(timeNs: bigint, equity: number): void {
    this.#dayEnd = (timeNs / 86_400_000_000_000n + 1n) * 86_400_000_000_000n;
    const s = this.#s;
    const keys = periodKeys(timeNs);
    if (keys.day !== s.dayKey) {
      s.dayKey = keys.day;
      s.dayStartEquity = equity;
      s.trippedDaily = false;
    }
    if (keys.week !== s.weekKey) {
      s.weekKey = keys.week;
      s.weekStartEquity = equity;
      s.trippedWeekly = false;
    }
  }

  get blocked(): boolean {
    return this.#s.trippedDaily || this.#s.trippedWeekly;
  }

  /** Why entries are blocked, or undefined. */
  reason(): string | undefined {
    if (this.#s.trippedWeekly) return `weekly loss limit ${this.#config.weeklyLossPct}% hit`;
    if (this.#s.trippedDaily) return `daily loss limit ${this.#config.dailyLossPct}% hit`;
    return undefined;
  }

  snapshot(): KillSwitchState {
    return { ...this.#s };
  }

  restore(state: KillSwitchState): void {
    this.#s = { ...state };
    this.#dayEnd = -1n;
  }
}
