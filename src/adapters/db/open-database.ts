import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { getTableName } from 'drizzle-orm';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { builtQuery, PreparedQuery, type QueryBuilder, type RowOf } from './prepared-query.js';
import * as schema from './schema.js';
import { placeholdersFor, toDriver } from './sync-port.js';

export type Db = BetterSQLite3Database<typeof schema>;

const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../../drizzle/sqlite', import.meta.url));

/** Statements a connection keeps (Connection.cached): far more than the code's queries have shapes. */
const MAX_STATEMENTS = 1000;

/**
 * WAL frames after which a commit checkpoints (copies the WAL's pages into the database file and
 * syncs both): SQLite's default is 1,000. A request writes about 60 pages, so at the default the
 * writing connection checkpointed every 16 requests or so, two fsyncs each, on the event loop; at
 * 10,000 (a WAL of up to 40 MB with 4 KiB pages) it does so a tenth as often, and a page that
 * several commits wrote in between is copied once (bench/lifecycle-bench.ts). Under load a
 * worker thread checkpoints long before this (WalCheckpointer): then this is the bound at which the
 * writer copies the little the worker has not, so that SQLite starts the WAL again from its start.
 */
export const WAL_CHECKPOINT_PAGES = 10_000;

/** How long a connection waits for a lock another process holds before giving up. */
export const DEFAULT_BUSY_TIMEOUT_MS = 15_000;

/**
 * One SQLite connection with its drizzle handle and its prepared statements. Statements belong to
 * the connection they were prepared on, so each connection keeps its own.
 */
export class Connection {
  private readonly statements = new Map<string, unknown>();
  /** SQLite's own prepare, below the statement cache (`cacheStatements`): a statement of our own. */
  private readonly prepareOwn: (source: string) => Database.Statement;

  constructor(
    readonly sqlite: Database.Database,
    readonly db: Db,
  ) {
    this.prepareOwn = uncachedPrepare.get(sqlite) ?? sqlite.prepare.bind(sqlite);
  }

  /**
   * A query drizzle builds once per connection under `key`, with placeholders, and better-sqlite3
   * runs directly (see PreparedQuery). Building a drizzle query costs far more than SQLite running
   * it (bench/sweep-bench.ts), so every query whose shape is fixed is built once and reused.
   */
  prepared<B extends QueryBuilder>(
    key: string,
    build: (db: Db) => B,
    options: { indexedBy?: string } = {},
  ): PreparedQuery<RowOf<B>> {
    return this.cached(key, () => {
      const { query, selected } = builtQuery(build(this.db));
      const text = options.indexedBy ? withIndex(query.sql, options.indexedBy) : query.sql;
      return new PreparedQuery<RowOf<B>>(this.prepareOwn(text), query, selected);
    });
  }

  /**
   * Inserts a row (as drizzle takes it: JSON as values, booleans as booleans) with a statement built
   * once per table and set of columns given; a column left out takes its default, as with drizzle.
   */
  insert<T extends SQLiteTable>(table: T, row: T['$inferInsert']): Database.RunResult {
    const values = toDriver(table, row);
    const columns = Object.keys(values);
    const statement = this.prepared(`insert:${getTableName(table)}:${columns.join()}`, (db) =>
      db.insert(table).values(placeholdersFor(table, columns)),
    );
    return statement.run(values);
  }

  /**
   * Anything built once per connection under `key` (a statement of plain SQL, say). Keys carry a
   * query's shape and limit; past MAX_STATEMENTS of them, an unusual one is built for its call only.
   */
  cached<T>(key: string, build: () => T): T {
    let statement = this.statements.get(key) as T | undefined;
    if (statement === undefined) {
      statement = build();
      if (this.statements.size < MAX_STATEMENTS) this.statements.set(key, statement);
    }
    return statement;
  }

  close(): void {
    if (this.sqlite.open) this.sqlite.close();
  }
}

/**
 * A select's SQL with the index its table is read through named (`INDEXED BY`): for a query whose
 * good plan SQLite's statistics can hide (drizzle has no way to write it).
 */
function withIndex(text: string, index: string): string {
  const from = /^(select .*? from "[a-z_]+")( where | order by | limit |$)/s.exec(text);
  if (!from) throw new Error(`cannot name an index in: ${text}`);
  return `${from[1]} indexed by "${index}"${text.slice(from[1]!.length)}`;
}

/**
 * Opens the SQLite file for writing, with the settings several processes need to share it safely,
 * and applies pending migrations. WAL lets readers run during a write. The busy timeout covers the
 * start-up (two processes migrating together); after it the connection waits for no lock: the
 * store takes the write lock itself, asynchronously (see SqliteStore.transaction), so a process
 * waiting for another one's write lock never blocks its own event loop.
 */
export function openWriter(path: string, options: { busyTimeoutMs?: number } = {}): Connection {
  if (path === ':memory:' || path === '') {
    throw new Error(
      'the SQLite store needs a file: it reads through a second connection, which an in-memory database does not have',
    );
  }
  restrictToOwner(path);
  const sqlite = new Database(path, { timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS });
  try {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma(`wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
    sqlite.pragma('foreign_keys = ON');
    cacheStatements(sqlite);
    const db = drizzle({ client: sqlite, schema });
    migrateWithRetry(db);
    sqlite.pragma('busy_timeout = 0');
    return new Connection(sqlite, db);
  } catch (error) {
    sqlite.close();
    throw error;
  }
}

/**
 * A read-only connection to the same file: reads outside a transaction run here while the store
 * has a transaction open on its writing connection, each statement on the latest committed state,
 * so none of them sees that transaction's writes.
 */
export function openReader(path: string, options: { busyTimeoutMs?: number } = {}): Connection {
  const sqlite = new Database(path, {
    readonly: true,
    fileMustExist: true,
    timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
  });
  cacheStatements(sqlite);
  return new Connection(sqlite, drizzle({ client: sqlite, schema }));
}

/**
 * The database holds the audit log, justifications and emails: readable by the bot's user only,
 * whatever the umask. A folder this creates is 0700; the file is created 0600 before SQLite opens
 * it, and SQLite gives its -wal and -shm files the database file's mode. A file an earlier version
 * left world-readable is tightened (when this user may; otherwise it is left as it is).
 */
function restrictToOwner(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (!existsSync(path)) {
    closeSync(openSync(path, 'a', 0o600));
    return;
  }
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      if (existsSync(file)) chmodSync(file, 0o600);
    } catch {
      // Not ours to change (another owner): SQLite still opens it if it can.
    }
  }
}

/**
 * drizzle's migrator opens a deferred transaction of its own. When two processes start together,
 * the second one's upgrade to a write lock fails at once (SQLITE_BUSY, which the busy timeout does
 * not cover for a read-then-write transaction in WAL mode); run it again and it finds the
 * migrations applied. Start-up only: the short synchronous wait blocks nothing else yet.
 */
function migrateWithRetry(db: Db, attempts = 5): void {
  for (let attempt = 1; ; attempt++) {
    try {
      migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
      return;
    } catch (error) {
      if (attempt >= attempts || !isBusy(error)) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50 * attempt);
    }
  }
}

export function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** Each connection's prepare from before `cacheStatements` replaced it. */
const uncachedPrepare = new WeakMap<Database.Database, (source: string) => Database.Statement>();

/**
 * The second statement cache, below drizzle. Queries whose shape varies (optional filters, IN
 * lists of any length) are built by drizzle on each call, and drizzle prepares a SQLite statement
 * for every query it runs; preparing costs more than running most of ours. This reuses one SQLite
 * statement per SQL text, unless it is busy (an open iterator), in which case a fresh one is
 * prepared. Fixed-shape queries skip both costs through `Connection.prepared`.
 */
function cacheStatements(sqlite: Database.Database): void {
  const prepare = sqlite.prepare.bind(sqlite);
  uncachedPrepare.set(sqlite, prepare);
  const cache = new Map<string, Database.Statement>();
  sqlite.prepare = ((source: string) => {
    const cached = cache.get(source);
    if (cached && !cached.busy) {
      // Modes are sticky on a statement: hand it back as a fresh prepare would be.
      if (cached.reader) cached.raw(false).pluck(false).expand(false);
      return cached;
    }
    const statement = prepare(source);
    if (!cached && cache.size < 500) cache.set(source, statement);
    return statement;
  }) as typeof sqlite.prepare;
}
