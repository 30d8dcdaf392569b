// the OrderManager's access to its portfolio's applied-fill ledger, so a fill id costs one map entry
// and one lookup (the portfolio's) instead of a second map of fill id -> order id; filled in by
// Portfolio's static block; not exported from the module index
import type { Decimal, DecimalInput } from '../core/decimal.js';
import type { Side } from '../model/order.js';

/** What the OrderManager reads of a prepared fill. */
export interface LedgerFill {
  readonly price: Decimal;
}

/** An applied fill's record as the manager sees it: which order (of which manager's `tag`) took it. */
export interface LedgerRecord {
  readonly owner: string | undefined;
  readonly ownerTag: object | undefined;
  /** Rank in the portfolio's applied fills (the order applied). */
  readonly seq: number;
}

/** Fill ownership by OrderManager (`tag` is the manager's own token, so managers sharing a portfolio stay apart). */
export interface FillLedgerAccess {
  /**
   * Portfolio.prepareFill on the fill's fields, into the portfolio's one scratch object (valid until
   * the next prepare; commit it first); undefined for an already-applied duplicate.
   */
  prepare(
    portfolio: object,
    symbol: string,
    side: Side | undefined,
    price: DecimalInput,
    quantity: DecimalInput,
    fee: DecimalInput | undefined,
    feeCurrency: string | undefined,
    fillId: string,
    tsNs: bigint | undefined,
    /** What find(portfolio, fillId) returned just before (saves a second lookup). */
    known: LedgerRecord | undefined,
  ): LedgerFill | undefined;
  /** The record of an applied fill id, or undefined (one lookup serves the owner check and prepare). */
  find(portfolio: object, fillId: string): LedgerRecord | undefined;
  /** Commits a prepared fill and records `owner` (an order id of `tag`'s manager) for its fill id. */
  commit(portfolio: object, prepared: LedgerFill, tag: object, owner: string): void;
  /** Records `owner` for an applied fill id (restore); false when the fill id is not applied. */
  setOwner(portfolio: object, fillId: string, tag: object, owner: string): boolean;
  /**
   * Portfolio.snapshot(), and every applied fill id `tag`'s manager owns with its order id in the
   * order applied, from one pass over the fills.
   */
  snapshot<S>(portfolio: { snapshot(): S }, tag: object): { state: S; owned: { fillIds: string[]; orderIds: string[] } };
  /**
   * Portfolio.snapshot() with only `fillIds` (applied fill ids, in the order applied) as its applied
   * fills, without visiting the others.
   * @throws OmsError SerializationError when an id is not applied
   */
  snapshotWith<S>(portfolio: { snapshot(): S }, fillIds: readonly string[]): S;
  /**
   * A number that changes whenever the portfolio's state (cash, positions, marks, instruments, applied
   * fills and their owners) may have changed: equal numbers mean equal snapshots.
   */
  version(portfolio: object): number;
}

/**
 * Filled in by Portfolio's static block when portfolio.ts loads, which is before any OrderManager
 * exists (manager.ts imports Portfolio).
 */
export const fillLedger = {} as FillLedgerAccess;
