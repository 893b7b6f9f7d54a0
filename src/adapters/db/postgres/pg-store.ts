/**
 * The store port on PostgreSQL (drizzle's pg dialect + node-postgres), for several replicas on one
 * database. One repository per aggregate in this folder, routed like SQLite's (../store-routes.ts).
 *
 * Concurrency, designed for PostgreSQL rather than borrowed from SQLite's one write lock:
 * - Isolation READ COMMITTED, on purpose: every statement reads the latest commit, so a
 *   transaction that waited for a lock then sees what the holder committed. Locks say what must
 *   not change under a transaction: a single-record read inside a transaction locks the record
 *   (`getRequest`, `getGrant`, `getTask`: `FOR UPDATE`; a meta key, a person's pending request for
 *   a role, an identity: a transaction-scoped advisory lock, which also covers a record that does
 *   not exist yet). Two approvers of one request, two replicas extending one grant, two first
 *   clicks of one person: the second waits for the first and decides on what it committed.
 *   (SERIALIZABLE would abort and retry instead of waiting; REPEATABLE READ would read the state
 *   from before the wait, the wrong one for a "re-check under the lock" operation.)
 * - The audit chain: appends serialise on one advisory lock per chain (audit-log.ts); nothing
 *   else waits for it.
 * - Jobs are claimed with `FOR UPDATE SKIP LOCKED`; jobs of one subject one at a time under the
 *   subject's lock (jobs-queue.ts). Leases and schedule slots are rows written conditionally.
 * - Conditional updates (`UPDATE ... WHERE status IN (...)`) keep one outcome per race: PostgreSQL
 *   re-checks the WHERE against a row a concurrent transaction changed before it updates it.
 * - A transaction that fails on a deadlock (PostgreSQL rolls one of the two back), a serialization
 *   failure, a lock timeout, or a connection lost before COMMIT was sent is retried whole: the
 *   callback runs again from the start on a fresh transaction, so it must only use the store (the
 *   port's rule already).
 * - Transactions of one store run one at a time (the TransactionGate, as on SQLite: the port
 *   promises it), each on a connection from the pool; reads outside transactions run in parallel
 *   on the pool and see committed data only.
 */
import type pg from 'pg';
import type { ExportSnapshot } from '../../../operations/exports/export-ports.js';
import type { PostedMessages, Store, StoreReads, StoreTx } from '../../../operations/ports.js';
import { READS, WRITES, type RepoName, type Unrouted } from '../store-routes.js';
import { tableSizesQuery } from '../table-sizes.js';
import { StoreMisuseError } from '../../../operations/operation-scope.js';
import { TransactionGate } from '../transaction-gate.js';
import { PgAuditLog } from './audit-log.js';
import { PgBreakGlassRepo } from './break-glass-repo.js';
import { PgAuditStreamRepo } from './audit-stream-repo.js';
import { createPool, isTransient, migrateDatabase, redactUrl, type PgOptions } from './connection.js';
import { PgDelegationsRepo } from './delegations-repo.js';
import { PgExportSnapshot } from './export-reader.js';
import { PgGrantsRepo } from './grants-repo.js';
import { PgIdentityRepo } from './identity-repo.js';
import { PgJobsQueue } from './jobs-queue.js';
import { PgMetaRepo } from './meta-repo.js';
import { PgPostedMessagesRepo } from './posted-messages-repo.js';
import { PgRequestsRepo } from './requests-repo.js';
import { PgReviewsRepo } from './reviews-repo.js';
import * as schema from './schema.js';
import { PgSession } from './session.js';
import { PgTasksRepo } from './tasks-repo.js';

/** The repositories over one session (the pool, or a transaction's connection). */
class Repos {
  readonly requests: PgRequestsRepo;
  readonly grants: PgGrantsRepo;
  readonly tasks: PgTasksRepo;
  readonly breakGlass: PgBreakGlassRepo;
  readonly delegations: PgDelegationsRepo;
  readonly identity: PgIdentityRepo;
  readonly audit: PgAuditLog;
  readonly stream: PgAuditStreamRepo;
  readonly jobs: PgJobsQueue;
  readonly meta: PgMetaRepo;
  readonly messages: PgPostedMessagesRepo;
  readonly reviews: PgReviewsRepo;

  constructor(readonly session: PgSession) {
    this.requests = new PgRequestsRepo(session);
    this.grants = new PgGrantsRepo(session);
    this.tasks = new PgTasksRepo(session);
    this.breakGlass = new PgBreakGlassRepo(session);
    this.delegations = new PgDelegationsRepo(session);
    this.identity = new PgIdentityRepo(session);
    this.audit = new PgAuditLog(session);
    this.stream = new PgAuditStreamRepo(session);
    this.jobs = new PgJobsQueue(session);
    this.meta = new PgMetaRepo(session);
    this.messages = new PgPostedMessagesRepo(session);
    this.reviews = new PgReviewsRepo(session);
  }
}

/** Rows per table of the PostgreSQL schema (see `Store.tableSizes`). */
const TABLE_SIZES = tableSizesQuery(schema, '::int');

const routed: [Unrouted<Repos, typeof READS> | Unrouted<Repos, typeof WRITES>] extends [never] ? true : never = true;
void routed;

type AnyMethod = (...args: unknown[]) => Promise<unknown>;

function method(repos: Repos, repo: RepoName, name: string): AnyMethod {
  const target = repos[repo] as unknown as Record<string, AnyMethod>;
  return target[name]!.bind(target);
}

export interface PgStoreOptions extends PgOptions {
  /** Attempts of a transaction that fails transiently (deadlock, lost connection). Default 5. */
  maxAttempts?: number;
  /** Apply pending migrations when opening (the bot does; `db copy` checks the target first). Default true. */
  migrate?: boolean;
}

/** The store on a PostgreSQL database. `PgStore.open` is the only way in; everything else sees the port. */
export const PgStore = {
  async open(url: string, options: PgStoreOptions = {}): Promise<Store> {
    const pool = createPool(url, options);
    try {
      if (options.migrate !== false) await migrateDatabase(pool);
      else await pool.query('SELECT 1');
      return new PgStoreImpl(pool, redactUrl(url), options.maxAttempts ?? 5).port();
    } catch (error) {
      await pool.end();
      throw error;
    }
  },
};

/** A transaction's handle: the port's methods over its connection, valid until it ends. */
interface TxHandle {
  open: boolean;
  repos: Repos;
}

/** What happened when a transaction failed: whether COMMIT had been sent (then its outcome is unknown). */
class CommitUnknownError extends Error {
  constructor(cause: unknown) {
    super(`the connection failed while committing; the transaction may or may not have committed: ${String(cause)}`, {
      cause,
    });
    this.name = 'CommitUnknownError';
  }
}

class PgStoreImpl {
  private readonly gate = new TransactionGate('PostgreSQL');
  private readonly reads: Repos;
  /** The repositories of each pooled connection, made once per connection. */
  private readonly txRepos = new WeakMap<pg.PoolClient, Repos>();
  private readonly txPrototype: object;
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly url: string,
    private readonly maxAttempts: number,
  ) {
    this.reads = new Repos(new PgSession(pool, false));
    const prototype: Record<string, unknown> = {};
    for (const [name, repo] of [...Object.entries(READS), ...Object.entries(WRITES)]) {
      prototype[name] = function (this: TxHandle, ...args: unknown[]) {
        if (!this.open)
          return Promise.reject(new StoreMisuseError(`tx.${name} was called after its transaction ended`));
        return method(this.repos, repo, name)(...args);
      };
    }
    this.txPrototype = prototype;
  }

  port(): Store {
    const reads: Record<string, unknown> = {};
    for (const [name, repo] of Object.entries(READS)) {
      reads[name] = method(this.reads, repo, name);
    }
    const store: Omit<Store, keyof StoreReads> = {
      kind: 'postgres',
      readsWait: true,
      location: this.url,
      transaction: (fn) => this.transaction(fn),
      openSnapshot: () => this.openSnapshot(),
      messages: this.postedMessages(),
      tableSizes: async () => {
        const { rows } = await this.pool.query<Record<string, number>>(TABLE_SIZES);
        return { ...rows[0]! };
      },
      close: () => this.close(),
    };
    return { ...(reads as unknown as StoreReads), ...store };
  }

  private transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.gate.run(async () => {
      for (let attempt = 1; ; attempt++) {
        if (this.closed) throw new Error('the PostgreSQL store is closed');
        try {
          return await this.attempt(fn);
        } catch (error) {
          if (attempt >= this.maxAttempts || error instanceof CommitUnknownError || !isTransient(error)) throw error;
          // Deadlock victims and lost connections: run the whole transaction again, after a short
          // jittered pause so two replicas that collided do not collide again at once.
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * 2 ** attempt));
        }
      }
    });
  }

  private async attempt<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    const handle = Object.create(this.txPrototype) as TxHandle;
    handle.repos = this.reposFor(client);
    handle.open = true;
    try {
      await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
      let result: T;
      try {
        result = await fn(handle as unknown as StoreTx);
      } catch (error) {
        handle.open = false;
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true; // the connection is gone; the server rolls back on its own
        }
        throw error;
      }
      handle.open = false;
      try {
        await client.query('COMMIT');
      } catch (error) {
        broken = true;
        // A COMMIT that failed on a constraint checked at commit rolled back: a plain failure. A
        // lost connection leaves the outcome unknown: never run the callback again then.
        if (isTransient(error) && !isSerialization(error)) throw new CommitUnknownError(error);
        throw error;
      }
      return result;
    } catch (error) {
      if (isTransient(error)) broken = true;
      throw error;
    } finally {
      handle.open = false;
      handle.repos.session.reset();
      client.release(broken);
    }
  }

  private reposFor(client: pg.PoolClient): Repos {
    let repos = this.txRepos.get(client);
    if (!repos) {
      repos = new Repos(new PgSession(client, true));
      this.txRepos.set(client, repos);
    }
    repos.session.reset();
    return repos;
  }

  private async openSnapshot(): Promise<ExportSnapshot> {
    return PgExportSnapshot.open(this.pool);
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    await this.gate.close();
    this.closed = true;
    await this.pool.end();
  }

  /** Reads like the port's; each write commits on its own. */
  private postedMessages(): PostedMessages {
    const reads = this.reads.messages;
    return {
      get: (slot) => reads.get(slot),
      forRequest: (requestId) => reads.forRequest(requestId),
      withSlotPrefix: (prefix) => reads.withSlotPrefix(prefix),
      // An upsert or an update of one row: atomic on its own, no transaction needed.
      save: (message) => reads.save(message),
      touch: (slot, at) => reads.touch(slot, at),
      // One DELETE of a batch: atomic on its own too.
      prune: (before, limit) => reads.prune(before, limit),
    };
  }
}

function isSerialization(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40001' || code === '40P01';
}
