import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from './schema.js';

export type Db = BetterSQLite3Database<typeof schema>;

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../../drizzle', import.meta.url));

/**
 * Opens the SQLite file with the settings several processes need to share it safely, and applies
 * pending migrations. WAL lets readers run during a write; the busy timeout makes a second writer
 * wait for the lock instead of failing with SQLITE_BUSY.
 */
export function openDatabase(path: string, options: { busyTimeoutMs?: number } = {}): { sqlite: Database.Database; db: Db } {
  if (path !== ':memory:') restrictToOwner(path);
  const sqlite = new Database(path, { timeout: options.busyTimeoutMs ?? 15_000 });
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  cacheStatements(sqlite);
  const db = drizzle({ client: sqlite, schema });
  migrateWithRetry(db);
  return { sqlite, db };
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
 * migrations applied.
 */
function migrateWithRetry(db: Db, attempts = 5): void {
  for (let attempt = 1; ; attempt++) {
    try {
      migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
      return;
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      if (attempt >= attempts || !code.startsWith('SQLITE_BUSY')) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50 * attempt);
    }
  }
}

/**
 * drizzle prepares a statement for every query it runs; preparing costs more than running most of
 * ours. Reuse one prepared statement per SQL text, unless it is busy (an open iterator), in which
 * case a fresh one is prepared.
 */
function cacheStatements(sqlite: Database.Database): void {
  const prepare = sqlite.prepare.bind(sqlite);
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
