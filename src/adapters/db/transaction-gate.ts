/**
 * One transaction at a time per store, for every store implementation.
 *
 * A store's write transactions run on one connection (SQLite) or must not wait on each other from
 * inside a process (PostgreSQL's audit-head lock): the gate lets them in one after the other, in
 * the order they asked, however their callbacks interleave on the event loop. A transaction
 * started from inside a running one would wait for itself: an operation's own store handle
 * (operations/operation-scope.ts) refuses that, and the store's own reads there, before they get
 * here.
 */
export class TransactionGate {
  private tail: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly name: string) {}

  /**
   * Runs `body` once every transaction that asked earlier has finished. The place in the queue is
   * taken synchronously, so transactions start in the order `run` was called.
   */
  async run<T>(body: () => Promise<T>): Promise<T> {
    if (this.closed) throw new Error(`the ${this.name} store is closed`);
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    try {
      return await body();
    } finally {
      release();
    }
  }

  /** Refuses new transactions and resolves once the ones already queued have finished. */
  async close(): Promise<void> {
    this.closed = true;
    await this.tail;
  }
}
