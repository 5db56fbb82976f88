// One budget, server-wide, for the bytes that connections hold unsent (queued in their outbox or
// in the socket's buffer). Each connection's own high-water mark bounds it alone; a thousand
// subscribers that stop reading would still hold a thousand marks (1,000 pushed RSS past 1.8 GB).
// When the sum goes over the budget, the connections holding the most are cut first.

export interface BudgetAccount {
  /** Bytes this connection holds unsent. */
  readonly unsent: number;
  /**
   * Sets what this connection holds unsent now (its queue plus the socket's `bufferedAmount`);
   * when that takes the sum over the budget, the connections holding the most are cut. `held`
   * (default `unsent`) is all it holds, for the metric, with frames it does not count yet (those a
   * window holds for a peer whose pong is not late).
   */
  set(unsent: number, held?: number): void;
  /** The connection is gone: its bytes no longer count. */
  close(): void;
}

export interface SubscriberBudget {
  readonly limitBytes: number;
  /** Bytes all open connections hold unsent, as counted against the budget. */
  readonly unsent: number;
  /** Bytes all open connections hold unsent, counted or not (keruta_ws_buffered_bytes). */
  readonly held: number;
  /**
   * Opens an account. `onOverBudget` is called (once) when the budget is exceeded and this
   * account holds the most; its bytes have stopped counting by then, and it must drop them.
   */
  open(onOverBudget: () => void): BudgetAccount;
}

interface Account extends BudgetAccount {
  bytes: number;
  heldBytes: number;
  closed: boolean;
  onOverBudget: () => void;
}

export function createSubscriberBudget(limitBytes: number): SubscriberBudget {
  const accounts = new Set<Account>();
  let total = 0;
  let heldTotal = 0;
  let cutting = false;

  /** Cuts the accounts holding the most until the rest fit. */
  const cutSlowest = (): void => {
    // A cut connection's callback may send (its error frame) and charge again: one loop at a time.
    if (cutting) return;
    cutting = true;
    try {
      while (total > limitBytes) {
        let slowest: Account | undefined;
        for (const account of accounts) if (slowest === undefined || account.bytes > slowest.bytes) slowest = account;
        if (slowest === undefined || slowest.bytes === 0) return;
        slowest.close();
        slowest.onOverBudget();
      }
    } finally {
      cutting = false;
    }
  };

  return {
    limitBytes,
    get unsent() {
      return total;
    },
    get held() {
      return heldTotal;
    },
    open(onOverBudget) {
      const account: Account = {
        bytes: 0,
        heldBytes: 0,
        closed: false,
        onOverBudget,
        get unsent() {
          return account.bytes;
        },
        set(unsent, held = unsent) {
          if (account.closed) return;
          heldTotal += held - account.heldBytes;
          account.heldBytes = held;
          total += unsent - account.bytes;
          account.bytes = unsent;
          if (unsent > 0 && total > limitBytes) cutSlowest();
        },
        close() {
          if (account.closed) return;
          account.closed = true;
          total -= account.bytes;
          account.bytes = 0;
          heldTotal -= account.heldBytes;
          account.heldBytes = 0;
          accounts.delete(account);
        },
      };
      accounts.add(account);
      return account;
    },
  };
}
