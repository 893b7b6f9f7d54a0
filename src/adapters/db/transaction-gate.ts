/**
 * One transaction at a time per store, for every store implementation.
 *
 * A store's write transactions run on one connection (SQLite) or must not wait on each other from
 * inside a process (PostgreSQL's audit-head lock): the gate lets them in one after the other, in
 * the order they asked, however their callbacks interleave on the event loop. While a transaction
 * runs, its callback's async context carries a marker, so a transaction started from inside it (or
 * an outer `store.getX` read that would not see the transaction's own writes) throws at once
 * instead of waiting for itself forever.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** A transaction started inside a running one, or the store used where the transaction should be. */
export class StoreMisuseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreMisuseError';
  }
}

interface Running {
  /** False once the transaction ended: work it started that outlives it is no longer "inside". */
  active: boolean;
}

export class TransactionGate {
  private tail: Promise<void> = Promise.resolve();
  private readonly context = new AsyncLocalStorage<Running>();
  private closed = false;

  constructor(private readonly name: string) {}

  /** True when called from inside a running transaction of this gate. */
  inside(): boolean {
    return this.context.getStore()?.active === true;
  }

  /** Throws when called from inside a running transaction: `what` names the misused call. */
  assertOutside(what: string): void {
    if (this.inside()) {
      throw new StoreMisuseError(
        `${what} was called inside a ${this.name} transaction: use the transaction's own methods (tx.…) there`,
      );
    }
  }

  /**
   * Runs `body` once every transaction that asked earlier has finished. The place in the queue is
   * taken synchronously, so transactions start in the order `run` was called.
   */
  async run<T>(body: () => Promise<T>): Promise<T> {
    if (this.inside())
      throw new StoreMisuseError(`a ${this.name} transaction was started inside another one; it would wait for itself`);
    if (this.closed) throw new Error(`the ${this.name} store is closed`);
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    const running: Running = { active: true };
    try {
      return await this.context.run(running, body);
    } finally {
      running.active = false;
      release();
    }
  }

  /** Refuses new transactions and resolves once the ones already queued have finished. */
  async close(): Promise<void> {
    this.closed = true;
    await this.tail;
  }
}
