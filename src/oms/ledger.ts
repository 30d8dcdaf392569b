// the OrderManager's access to its portfolio's applied-fill ledger, so a fill id costs one map entry
// and one lookup (the portfolio's) instead of a second map of fill id -> order id; filled in by
// Portfolio's static block; not exported from the module index
/** Fill ownership by OrderManager (`tag` is the manager's own token, so managers sharing a portfolio stay apart). */
export interface FillLedgerAccess {
  /** The order id `tag`'s manager recorded for an applied fill id, or undefined. */
  owner(portfolio: object, fillId: string, tag: object): string | undefined;
  /** Commits a prepared fill and records `owner` (an order id of `tag`'s manager) for its fill id. */
  commit(portfolio: object, prepared: unknown, tag: object, owner: string): void;
  /** Records `owner` for an applied fill id (restore); false when the fill id is not applied. */
  setOwner(portfolio: object, fillId: string, tag: object, owner: string): boolean;
  /** Every applied fill id `tag`'s manager owns with its order id, in the order applied. */
  owned(portfolio: object, tag: object): { fillIds: string[]; orderIds: string[] };
}

const missing = (): never => {
  throw new Error('oms ledger: portfolio.ts has not been loaded');
};

/** Set by Portfolio when its module loads. */
export const fillLedger: FillLedgerAccess = { owner: missing, commit: missing, setOwner: missing, owned: missing };
