/**
 * One operation's view of the shared dependencies. One operation is what one person's click,
 * command or form submission sets off, or one job. The Slack listener router and the job runner
 * hand each operation `forOperation(deps)`:
 *
 * - its directory shares reads within the operation, and only within it (read-scope.ts);
 * - its store refuses what would go wrong inside the operation's own transaction: a second
 *   transaction started from inside it would wait for itself forever (the store runs one at a
 *   time), and a `store.getX` read would not see the transaction's own writes. Inside the callback
 *   the transaction's `tx` is the way to read and write.
 *
 * The scope is a plain object handed down rather than an ambient async context: Node's
 * AsyncLocalStorage keeps promise hooks on for the whole process once used, which every promise of
 * every request pays for. Each operation has its own handle, so while one operation's transaction
 * runs, another operation interleaved with it on the event loop reads and queues its own
 * transaction as usual: only the operation inside the transaction is refused.
 *
 * Work that is no one person's operation gets handles the same way (`withOwnStore`), one for each
 * strand of it that runs one step after another: each sweep phase, the job runner's own loop and
 * its lock heartbeat, each CLI command, each cron pass, each of reconcile's concurrent removals,
 * each audit stream loop and each of its lease renewals.
 * One handle shared by strands that run at once would refuse one strand's reads while another's
 * transaction runs, so work that fans out gives each branch a handle of its own.
 */
import type { Deps } from './context.js';
import type { PostedMessages, Store, StoreTx } from './ports.js';

/** A transaction started inside a running one, or the store used where the transaction should be. */
export class StoreMisuseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreMisuseError';
  }
}

/** The dependencies as one operation sees them (see above). Costs three small objects. */
export function forOperation(deps: Deps): Deps {
  return { ...deps, store: operationStore(deps.store), directory: deps.directory.forOperation() };
}

/**
 * The dependencies for work that is not one person's operation (see above): its own handle on the
 * store, and the directory as it is, reading live. A sweep phase or a command reads for many
 * people, and no decision should rest on data read for another.
 */
export function withOwnStore<D extends { store: Store }>(deps: D): D {
  return { ...deps, store: operationStore(deps.store) };
}

/** One operation's handle on a store; its methods are on a prototype made once per store. */
interface OperationStore {
  /** The operation's own transaction callback is running. */
  inTransaction: boolean;
  /** The guarded `messages`, made on first use. */
  guardedMessages?: PostedMessages;
}

const prototypes = new WeakMap<Store, object>();
/** The store a handle is on, kept on its prototype. */
const ROOT = Symbol('root store');

/**
 * `store` for one operation: refuses its own reads and a second transaction inside its transaction.
 * Given a handle, a sibling on the same store, not a handle on the handle: the parent would refuse
 * one child's reads while another child's transaction runs (a sweep's phases and its job runner,
 * under a command's handle).
 */
export function operationStore(storeOrHandle: Store): Store {
  const store = (storeOrHandle as { [ROOT]?: Store })[ROOT] ?? storeOrHandle;
  let prototype = prototypes.get(store);
  if (!prototype) prototypes.set(store, (prototype = operationPrototype(store)));
  const handle = Object.create(prototype) as OperationStore;
  handle.inTransaction = false;
  return handle as unknown as Store;
}

function operationPrototype(store: Store): object {
  const misuse = (what: string) =>
    new StoreMisuseError(
      `${what} was called inside a ${store.kind} transaction: use the transaction's own methods (tx.…) there`,
    );
  const prototype: Record<string | symbol, unknown> = Object.create(store) as Record<string, unknown>;
  prototype[ROOT] = store;
  // Every method of the store, inherited ones included (a test's Object.create wrapper).
  for (const name in store) {
    const value = (store as unknown as Record<string, unknown>)[name];
    if (typeof value !== 'function' || name === 'transaction') continue;
    const call = value as (...args: unknown[]) => Promise<unknown>;
    prototype[name] = function (this: OperationStore, ...args: unknown[]) {
      if (this.inTransaction) return Promise.reject(misuse(`store.${name}`));
      return call.apply(store, args);
    };
  }
  prototype.transaction = function <T>(this: OperationStore, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    if (this.inTransaction) {
      return Promise.reject(
        new StoreMisuseError(`a ${store.kind} transaction was started inside another one; it would wait for itself`),
      );
    }
    return store.transaction(async (tx) => {
      this.inTransaction = true;
      try {
        return await fn(tx);
      } finally {
        this.inTransaction = false;
      }
    });
  };
  Object.defineProperty(prototype, 'messages', {
    get(this: OperationStore): PostedMessages {
      return (this.guardedMessages ??= guardMessages(this, store.messages, misuse));
    },
  });
  return prototype;
}

function guardMessages(
  handle: OperationStore,
  messages: PostedMessages,
  misuse: (what: string) => StoreMisuseError,
): PostedMessages {
  const guarded: Record<string, unknown> = {};
  for (const name in messages) {
    const call = (messages as unknown as Record<string, unknown>)[name];
    if (typeof call !== 'function') continue;
    guarded[name] = (...args: unknown[]) =>
      handle.inTransaction
        ? Promise.reject(misuse(`store.messages.${name}`))
        : (call as (...a: unknown[]) => Promise<unknown>).apply(messages, args);
  }
  return guarded as unknown as PostedMessages;
}
