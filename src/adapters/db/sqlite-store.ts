/**
 * The store port on SQLite (drizzle + better-sqlite3). All SQL lives in this folder: one
 * repository per aggregate (requests, grants, tasks, break-glass reviews, delegations, identity and
 * policy versions, the audit log, the job queue, meta and leases, posted messages, access reviews),
 * composed here.
 *
 * Connections and transactions:
 * - Writes run on the writing connection, inside `transaction`, one transaction at a time (the
 *   TransactionGate): each starts with BEGIN IMMEDIATE, which takes the database write lock before
 *   the first read, so two processes cannot both read the same audit head (the audit chain's
 *   single-writer rule) and every read-then-write decision in a transaction is made under the lock.
 *   The callback's awaits only ever wait for this store's own methods, which run synchronously, so
 *   a transaction holds the lock for as long as its statements take.
 * - Reads outside a transaction never see a transaction in progress: while one is open on the
 *   writing connection (its callback awaiting), they run on a second, read-only connection, which
 *   in WAL mode sees the last commit; otherwise they run on the writing connection itself, whose
 *   page cache stays warm (SQLite drops a connection's cache when another one has committed).
 * - The write lock is taken asynchronously: when another process holds it, BEGIN IMMEDIATE fails
 *   at once (busy_timeout 0 on the writing connection) and is retried after a short sleep, up to
 *   the busy timeout, so a process waiting for the lock keeps serving its event loop (and two
 *   stores on one file in one process, as in the tests, cannot block each other's thread).
 */
import type Database from 'better-sqlite3';
import type { PostedMessages, Store, StoreReads, StoreTx } from '../../operations/ports.js';
import type { ExportSnapshot } from '../../operations/exports/export-ports.js';
import { AuditLog } from './audit-log.js';
import { AuditStreamRepo } from './audit-stream-repo.js';
import { BreakGlassRepo } from './break-glass-repo.js';
import { DelegationsRepo } from './delegations-repo.js';
import { SqliteExportSnapshot } from './export-reader.js';
import { GrantsRepo } from './grants-repo.js';
import { IdentityRepo } from './identity-repo.js';
import { JobsQueue } from './jobs-queue.js';
import { MetaRepo } from './meta-repo.js';
import { DEFAULT_BUSY_TIMEOUT_MS, isBusy, openReader, openWriter, type Connection } from './open-database.js';
import { PostedMessagesRepo } from './posted-messages-repo.js';
import { RequestsRepo } from './requests-repo.js';
import { ReviewsRepo } from './reviews-repo.js';
import type { SyncMessages } from './sync-port.js';
import { READS, WRITES, type RepoName as RoutedRepo, type Unrouted } from './store-routes.js';
import { TasksRepo } from './tasks-repo.js';
import { tableSizes } from './table-sizes.js';
import { StoreMisuseError } from '../../operations/operation-scope.js';
import { TransactionGate } from './transaction-gate.js';
import { WalCheckpointer, type CheckpointerOptions } from './wal-checkpointer.js';

/** The repositories over one connection. */
class Repos {
  readonly requests: RequestsRepo;
  readonly grants: GrantsRepo;
  readonly tasks: TasksRepo;
  readonly breakGlass: BreakGlassRepo;
  readonly delegations: DelegationsRepo;
  readonly identity: IdentityRepo;
  readonly audit: AuditLog;
  readonly stream: AuditStreamRepo;
  readonly jobs: JobsQueue;
  readonly meta: MetaRepo;
  readonly messages: PostedMessagesRepo;
  readonly reviews: ReviewsRepo;

  constructor(connection: Connection) {
    this.reviews = new ReviewsRepo(connection);
    this.requests = new RequestsRepo(connection);
    this.grants = new GrantsRepo(connection);
    this.tasks = new TasksRepo(connection);
    this.breakGlass = new BreakGlassRepo(connection);
    this.delegations = new DelegationsRepo(connection);
    this.identity = new IdentityRepo(connection);
    this.audit = new AuditLog(connection);
    this.stream = new AuditStreamRepo(connection);
    this.jobs = new JobsQueue(connection);
    this.meta = new MetaRepo(connection);
    this.messages = new PostedMessagesRepo(connection);
  }
}

type RepoName = Exclude<keyof Repos, 'messages'>;
// Every routed aggregate has a repository here.
const repos: [RoutedRepo] extends [RepoName] ? true : never = true;
void repos;

// Each method is answered by a repository whose synchronous twin has the same name (and, through
// the repositories' `implements SyncPort<...>`, the port's signature): checked here.
const routed: [Unrouted<Repos, typeof READS> | Unrouted<Repos, typeof WRITES>] extends [never] ? true : never = true;
void routed;

type AnyMethod = (...args: unknown[]) => unknown;

function method(repos: Repos, repo: RepoName, name: string): AnyMethod {
  const target = repos[repo] as unknown as Record<string, AnyMethod>;
  return target[name]!.bind(target);
}

/** A synchronous call as the port's promise: a thrown error becomes a rejection. */
function settle<T>(run: () => T): Promise<T> {
  try {
    return Promise.resolve(run());
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Write lock retry delays (ms): short at first, like SQLite's own busy handler. */
const LOCK_RETRY_MS = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100];

/** The store on a SQLite file. `SqliteStore.open` is the only way in; everything else sees the port. */
export type SqliteStore = Store;

export const SqliteStore = {
  open(path: string, options: SqliteStoreOptions = {}): Store {
    const writer = openWriter(path, options);
    try {
      const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
      const checkpointer = new WalCheckpointer(path, options.checkpoints);
      return new SqliteStoreImpl(writer, openReader(path, options), busyTimeoutMs, checkpointer).port();
    } catch (error) {
      writer.close();
      throw error;
    }
  },
};

export interface SqliteStoreOptions {
  busyTimeoutMs?: number;
  /** When the WAL checkpoint thread starts and stops (tests and benches). */
  checkpoints?: Partial<CheckpointerOptions>;
}

/** A transaction's handle: the port's methods over the writing connection, valid until it ends. */
interface TxHandle {
  open: boolean;
}

class SqliteStoreImpl {
  private readonly gate = new TransactionGate('SQLite');
  private readonly begin: Database.Statement;
  private readonly commit: Database.Statement;
  private readonly rollback: Database.Statement;
  private readonly reads: Repos;
  private readonly writes: Repos;
  /** The prototype of every transaction handle: each method runs the writing repository's twin. */
  private readonly txPrototype: object;
  private closed = false;

  constructor(
    private readonly writer: Connection,
    private readonly reader: Connection,
    private readonly busyTimeoutMs: number,
    private readonly checkpointer: WalCheckpointer,
  ) {
    this.begin = writer.sqlite.prepare('BEGIN IMMEDIATE');
    this.commit = writer.sqlite.prepare('COMMIT');
    this.rollback = writer.sqlite.prepare('ROLLBACK');
    this.reads = new Repos(reader);
    this.writes = new Repos(writer);
    const prototype: Record<string, unknown> = {};
    for (const [name, repo] of [...Object.entries(READS), ...Object.entries(WRITES)]) {
      const write = method(this.writes, repo, name);
      prototype[name] = function (this: TxHandle, ...args: unknown[]) {
        return settle(() => {
          if (!this.open) throw new StoreMisuseError(`tx.${name} was called after its transaction ended`);
          return write(...args);
        });
      };
    }
    this.txPrototype = prototype;
  }

  /**
   * A read outside a transaction: on the writing connection while no transaction is open on it,
   * else on the read-only one, which sees the last commit.
   */
  private read<T>(onWriter: () => T, onReader: () => T): Promise<T> {
    return settle(() => {
      if (this.writer.sqlite.inTransaction) return onReader();
      return this.onWriter(onWriter, onReader);
    });
  }

  /**
   * A read outside a transaction on the writing connection. That connection does not wait for
   * locks (busy_timeout 0); in the rare case a WAL read is refused (another process recovering the
   * WAL index), the read-only connection, which waits, answers instead.
   */
  private onWriter<T>(read: () => T, onReader: () => T): T {
    try {
      return read();
    } catch (error) {
      if (!isBusy(error)) throw error;
      return onReader();
    }
  }

  /** The port: reads outside transactions, writes through `transaction`. */
  port(): Store {
    const reads: Record<string, unknown> = {};
    for (const [name, repo] of Object.entries(READS)) {
      const onReader = method(this.reads, repo, name);
      const onWriter = method(this.writes, repo, name);
      reads[name] = (...args: unknown[]) =>
        this.read(
          () => onWriter(...args),
          () => onReader(...args),
        );
    }
    const store: Omit<Store, keyof StoreReads> = {
      kind: 'sqlite',
      readsWait: false,
      location: this.writer.sqlite.name,
      transaction: (fn) => this.transaction(fn),
      openSnapshot: () => this.openSnapshot(),
      messages: this.postedMessages(),
      tableSizes: () =>
        this.read(
          () => tableSizes(this.writer),
          () => tableSizes(this.reader),
        ),
      close: () => this.close(),
    };
    return { ...(reads as unknown as StoreReads), ...store };
  }

  private transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.gate.run(async () => {
      if (this.closed) throw new Error('the SQLite store is closed');
      await this.lock();
      this.writes.audit.forgetAppendedHead();
      const handle = Object.create(this.txPrototype) as TxHandle;
      handle.open = true;
      try {
        const result = await fn(handle as unknown as StoreTx);
        this.commit.run();
        this.checkpointer.afterCommit();
        return result;
      } catch (error) {
        // SQLite rolls some failures back itself (a full disk); then there is nothing left to undo.
        if (this.writer.sqlite.inTransaction) this.rollback.run();
        throw error;
      } finally {
        handle.open = false;
      }
    });
  }

  private async openSnapshot(): Promise<ExportSnapshot> {
    return SqliteExportSnapshot.open(this.writer.sqlite.name, { busyTimeoutMs: this.busyTimeoutMs });
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    await this.gate.close();
    this.closed = true;
    await this.checkpointer.close();
    this.reader.close();
    this.writer.close();
  }

  /** BEGIN IMMEDIATE, retried without blocking the event loop while another process writes. */
  private async lock(): Promise<void> {
    const deadline = Date.now() + this.busyTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        this.begin.run();
        return;
      } catch (error) {
        if (!isBusy(error) || Date.now() >= deadline) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS[Math.min(attempt, LOCK_RETRY_MS.length - 1)]));
    }
  }

  /** Reads like the port's; each write is a transaction of its own, through the same gate. */
  private postedMessages(): PostedMessages {
    const writes: SyncMessages = this.writes.messages;
    const read = <T>(run: (messages: SyncMessages) => T): Promise<T> =>
      this.read(
        () => run(this.writes.messages),
        () => run(this.reads.messages),
      );
    return {
      get: (slot) => read((m) => m.get(slot)),
      forRequest: (requestId) => read((m) => m.forRequest(requestId)),
      withSlotPrefix: (prefix) => read((m) => m.withSlotPrefix(prefix)),
      save: (message) => this.transaction(async () => writes.save(message)),
      touch: (slot, at) => this.transaction(async () => writes.touch(slot, at)),
      prune: (before, limit) => this.transaction(async () => writes.prune(before, limit)),
    };
  }
}
