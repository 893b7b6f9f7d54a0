/**
 * The database file as SQLite sees it, bypassing the store: for tests that tamper with rows (a
 * rewritten audit log, a justification written before trimming) or count them directly.
 */
import Database from 'better-sqlite3';

/** Runs `fn` on a separate connection to the file, closed afterwards. */
export function withRawSqlite<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}
