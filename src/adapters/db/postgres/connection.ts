/**
 * Connecting to PostgreSQL: the pool, the migrations (applied at start under a lock, so replicas
 * starting together migrate once), the advisory lock keys, and how errors are read.
 */
import { fileURLToPath } from 'node:url';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import * as schema from './schema.js';

export type PgDb = NodePgDatabase<typeof schema>;

const PG_MIGRATIONS_FOLDER = fileURLToPath(new URL('../../../../drizzle/postgres', import.meta.url));

export interface PgOptions {
  /** Connections per process (reads run in parallel; transactions use one at a time). Default 10. */
  poolSize?: number;
  /** How long a statement waits for a lock another replica holds before it fails. Default 15 s. */
  lockTimeoutMs?: number;
  /**
   * A transaction left open this long without a statement is ended by the server, so a replica
   * frozen mid-transaction (stopped, not killed) cannot hold its locks for ever. Default 60 s.
   */
  idleInTransactionTimeoutMs?: number;
  /** Shown in pg_stat_activity. Default "access-bot". */
  applicationName?: string;
}

/**
 * Advisory lock keys: (namespace, key). Two-int keys keep these apart from any lock another
 * application takes on the same database with one bigint key.
 */
export const LOCKS = {
  /** Session lock held while migrations run. */
  migrations: 0x61630001,
  /** The audit chain's head: transaction lock, one key per chain. */
  auditChain: 0x61630002,
  /** A job subject (a person's membership of a group, a grant's webhook): see JobsQueue.claimJob. */
  jobSubject: 0x61630003,
  /** A meta key or another named value read to be written in the same transaction. */
  named: 0x61630004,
} as const;

/** The one audit chain this version keeps. */
export const MAIN_CHAIN = 0;

export function createPool(url: string, options: PgOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    application_name: options.applicationName ?? 'access-bot',
    lock_timeout: options.lockTimeoutMs ?? 15_000,
    idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs ?? 60_000,
    // A dead database fails a request within this, instead of queueing it for ever.
    connectionTimeoutMillis: 10_000,
    // Detect a peer that vanished (a failover) on idle connections.
    keepAlive: true,
  });
  // An idle connection that dies (the server restarted) is dropped by the pool; without a listener
  // the error would crash the process.
  pool.on('error', () => {});
  return pool;
}

export function drizzleOn(client: pg.Pool | pg.PoolClient): PgDb {
  return drizzle({ client, schema });
}

/**
 * Applies pending migrations, one replica at a time: a session-level advisory lock is held while
 * drizzle's migrator runs, so a replica starting at the same moment waits, then finds nothing to do.
 */
export async function migrateDatabase(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1, 0)', [LOCKS.migrations]);
    try {
      await migrate(drizzleOn(client), { migrationsFolder: PG_MIGRATIONS_FOLDER });
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, 0)', [LOCKS.migrations]);
    }
  } finally {
    client.release();
  }
}

/** PostgreSQL's SQLSTATE of an error from the driver (drizzle wraps it in `cause`). */
function sqlState(error: unknown): string | undefined {
  for (
    let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0;
    e && depth < 4;
    e = e.cause as typeof e, depth++
  ) {
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
  }
  return undefined;
}

/** The constraint a unique violation is about, or undefined for any other error. */
export function uniqueViolation(error: unknown): string | undefined {
  for (
    let e = error as { code?: unknown; constraint?: unknown; cause?: unknown } | undefined, depth = 0;
    e && depth < 4;
    e = e.cause as typeof e, depth++
  ) {
    if (e.code === '23505') return typeof e.constraint === 'string' ? e.constraint : '';
  }
  return undefined;
}

/**
 * Errors after which the whole transaction may simply run again: a serialization failure or a
 * deadlock (PostgreSQL chose this transaction as the victim and rolled it back), a lock or
 * statement timeout, or the connection lost before COMMIT was sent (nothing was committed).
 */
export function isTransient(error: unknown): boolean {
  const state = sqlState(error);
  if (state)
    return (
      state === '40001' ||
      state === '40P01' ||
      state === '55P03' ||
      state === '57014' ||
      state.startsWith('08') ||
      state === '57P01'
    );
  return isConnectionError(error);
}

function isConnectionError(error: unknown): boolean {
  for (
    let e = error as { code?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0;
    e && depth < 4;
    e = e.cause as typeof e, depth++
  ) {
    if (typeof e.code === 'string' && ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT'].includes(e.code))
      return true;
    if (
      typeof e.message === 'string' &&
      /Connection terminated|timeout exceeded when trying to connect/.test(e.message)
    )
      return true;
  }
  return false;
}

/** The URL without its password, for logs, /healthz and `store.location`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres (unparsable URL)';
  }
}
