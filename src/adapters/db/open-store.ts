/**
 * The database the configuration names (migrated): the one place a store is chosen. PostgreSQL
 * when DATABASE_URL is set (loaded only then), else the SQLite file. A module of its own, so that a
 * command that needs only the database (`export` without --admin) loads the store and not the
 * whole runtime (runtime.ts: policies, provisioners, audit sinks).
 */
import type { Config } from '../../config.js';
import type { Logger, Store } from '../../operations/ports.js';
import { SqliteStore } from './sqlite-store.js';

/** With a logger, a failure of SQLite's checkpoint thread is logged there, else as a Node warning. */
export async function openStore(config: Pick<Config, 'databasePath' | 'postgres'>, logger?: Logger): Promise<Store> {
  if (config.postgres) {
    const { PgStore } = await import('./postgres/pg-store.js');
    return PgStore.open(config.postgres.url, { poolSize: config.postgres.poolSize });
  }
  const onError = logger
    ? (error: Error) =>
        logger.warn('the WAL checkpoint thread failed; the writing connection checkpoints alone from now on', {
          error: error.message,
        })
    : undefined;
  return SqliteStore.open(config.databasePath, { checkpoints: { onError } });
}
