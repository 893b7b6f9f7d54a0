/**
 * `access-bot db copy --to <DATABASE_URL>`: moves a SQLite deployment (DATABASE_PATH) into an empty
 * PostgreSQL database in one pass.
 *
 * - The source is read in one read transaction (a consistent snapshot of the file), every table in
 *   insertion order; the target is migrated, checked empty (a database that holds any row is
 *   refused: nothing is merged or overwritten), and written in one transaction: it holds all of the
 *   copy or none of it.
 * - Every table of the SQLite schema is copied to its PostgreSQL twin, column by column, in the
 *   order the foreign keys need; a table or column with no twin stops the copy before anything is
 *   written (a schema change made to one store only).
 * - Serial ids (decisions, jobs, audit events) are kept, and their sequences moved past them; the
 *   audit log is copied as the text it was hashed from, so the chain verifies unchanged.
 */
import Database from 'better-sqlite3';
import { getTableConfig as pgTableConfig, type PgTable } from 'drizzle-orm/pg-core';
import { getTableConfig as sqliteTableConfig, type SQLiteTable } from 'drizzle-orm/sqlite-core';
import { drizzle as sqliteDrizzle } from 'drizzle-orm/better-sqlite3';
import { getTableColumns, is, sql, Table } from 'drizzle-orm';
import type pg from 'pg';
import type { ChainVerification } from '../../domain/audit.js';
import { verifyStoredChain } from '../../operations/verify-audit-chain.js';
import { AuditLog } from './audit-log.js';
import { Connection } from './open-database.js';
import { PgAuditLog } from './postgres/audit-log.js';
import { createPool, drizzleOn, migrateDatabase, redactUrl } from './postgres/connection.js';
import * as pgSchema from './postgres/schema.js';
import { PgSession } from './postgres/session.js';
import * as sqliteSchema from './schema.js';

export class CopyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CopyError';
  }
}

export interface CopyReport {
  target: string;
  /** Rows copied per table, in copy order. */
  tables: { table: string; rows: number }[];
  source: ChainVerification;
  copied: ChainVerification;
}

const BATCH = 500;

export async function copySqliteToPostgres(sqlitePath: string, targetUrl: string): Promise<CopyReport> {
  const pairs = tablePairs();
  let sqlite: Database.Database;
  try {
    sqlite = new Database(sqlitePath, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new CopyError(
      `cannot open the SQLite database ${sqlitePath}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const pool = createPool(targetUrl, { poolSize: 2, applicationName: 'access-bot db copy' });
  try {
    requireMigrated(sqlite, sqlitePath);
    await migrateDatabase(pool);
    await requireEmpty(
      pool,
      pairs.map((p) => pgTableConfig(p.target).name),
    );

    // One snapshot of the source for the whole copy.
    sqlite.exec('BEGIN');
    const source = await verifySqlite(sqlite);
    const client = await pool.connect();
    const tables: CopyReport['tables'] = [];
    try {
      await client.query('BEGIN');
      for (const pair of pairs) tables.push({ table: pair.name, rows: await copyTable(sqlite, client, pair) });
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
      sqlite.exec('COMMIT');
    }
    // Read back as the bot's replicas will read it.
    const copied = await verifyStoredChain(new PgAuditLog(new PgSession(pool, false)));
    return { target: redactUrl(targetUrl), tables, source, copied };
  } finally {
    sqlite.close();
    await pool.end();
  }
}

interface TablePair {
  name: string;
  source: SQLiteTable;
  target: PgTable;
  /** Column names (SQL) copied, the same on both sides. */
  columns: string[];
  /** The target's identity columns whose sequence must move past the copied ids. */
  identities: string[];
}

/** Every SQLite table with its PostgreSQL twin, parents before children; throws on any mismatch. */
function tablePairs(): TablePair[] {
  const targets = new Map<string, PgTable>();
  for (const value of Object.values(pgSchema))
    if (is(value, Table)) targets.set(pgTableConfig(value as PgTable).name, value as PgTable);
  const pairs = new Map<string, TablePair>();
  const problems: string[] = [];
  for (const value of Object.values(sqliteSchema)) {
    if (!is(value, Table)) continue;
    const source = value as SQLiteTable;
    const name = sqliteTableConfig(source).name;
    const target = targets.get(name);
    if (!target) {
      problems.push(`table ${name} has no PostgreSQL twin in src/adapters/db/postgres/schema.ts`);
      continue;
    }
    // A generated column (SQLite's jobs.key_order) is computed from the others, never copied.
    const sourceColumns = Object.values(getTableColumns(source))
      .filter((c) => !c.generated)
      .map((c) => c.name);
    const targetColumns = new Map(Object.values(getTableColumns(target)).map((c) => [c.name, c]));
    const missing = sourceColumns.filter((c) => !targetColumns.has(c));
    if (missing.length)
      problems.push(
        `table ${name}: column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} missing in PostgreSQL`,
      );
    const identities = [...targetColumns.values()]
      .filter((c) => (c as { generatedIdentity?: unknown }).generatedIdentity && sourceColumns.includes(c.name))
      .map((c) => c.name);
    pairs.set(name, { name, source, target, columns: sourceColumns, identities });
  }
  if (problems.length) throw new CopyError(`the two schemas differ, nothing was copied:\n  ${problems.join('\n  ')}`);
  // Parents first: a table is copied after every table its foreign keys point to.
  const ordered: TablePair[] = [];
  const visit = (pair: TablePair, path: Set<string>) => {
    if (ordered.includes(pair)) return;
    if (path.has(pair.name)) throw new CopyError(`foreign keys form a cycle through ${pair.name}`);
    path.add(pair.name);
    for (const fk of sqliteTableConfig(pair.source).foreignKeys) {
      const parent = pairs.get(sqliteTableConfig(fk.reference().foreignTable).name);
      if (parent && parent !== pair) visit(parent, path);
    }
    path.delete(pair.name);
    ordered.push(pair);
  };
  for (const pair of pairs.values()) visit(pair, new Set());
  return ordered;
}

function requireMigrated(sqlite: Database.Database, path: string): void {
  const found = sqlite
    .prepare(`SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'audit_events'`)
    .get() as { n: number };
  if (found.n === 0) throw new CopyError(`${path} holds no access-bot database (no audit log)`);
}

async function requireEmpty(pool: pg.Pool, tables: string[]): Promise<void> {
  const holding: string[] = [];
  for (const table of tables) {
    const { rows } = await pool.query(`SELECT EXISTS (SELECT 1 FROM ${quoteIdent(table)}) AS any`);
    if (rows[0]?.any) holding.push(table);
  }
  if (holding.length) {
    throw new CopyError(
      `the target database already holds data (${holding.join(', ')}); db copy only writes into an empty database, so nothing was copied`,
    );
  }
}

async function copyTable(sqlite: Database.Database, client: pg.PoolClient, pair: TablePair): Promise<number> {
  const db = drizzleOn(client);
  const insertionOrder = hasRowid(sqlite, pair.name) ? 'rowid' : primaryKeyOrder(pair.source);
  // The source's rows as SQLite stores them, in one pass over the snapshot; the target written
  // through drizzle (the SQLite schema reads JSON and booleans back as values, the PostgreSQL one
  // writes them), except the audit log's JSON, which is copied as the exact text.
  const rows = sqlite
    .prepare(
      `SELECT ${pair.columns.map(quoteIdent).join(', ')} FROM ${quoteIdent(pair.name)} ORDER BY ${insertionOrder}`,
    )
    .iterate() as IterableIterator<Record<string, unknown>>;
  const rawText = pair.name === 'audit_events' ? new Set(['actor', 'details']) : new Set<string>();
  const sourceColumns = getTableColumns(pair.source);
  const keyOf = new Map(Object.entries(sourceColumns).map(([key, column]) => [column.name, key]));
  const targetKeys = new Map(Object.entries(getTableColumns(pair.target)).map(([key, column]) => [column.name, key]));
  const toTarget = (raw: Record<string, unknown>) => {
    const out: Record<string, unknown> = {};
    for (const name of pair.columns) {
      const column = sourceColumns[keyOf.get(name)!]!;
      const value = raw[name];
      // The audit log's JSON goes in as the stored text itself (a bound parameter, not re-encoded).
      out[targetKeys.get(name)!] =
        value === null ? null : rawText.has(name) ? sql`${String(value)}` : column.mapFromDriverValue(value);
    }
    return out;
  };
  let copied = 0;
  let batch: Record<string, unknown>[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    await db.insert(pair.target).values(batch as never);
    copied += batch.length;
    batch = [];
  };
  // An insert that throws ends the loop, which closes the statement (for...of calls `return`).
  for (const raw of rows) {
    batch.push(toTarget(raw));
    if (batch.length === BATCH) await flush();
  }
  await flush();
  for (const column of pair.identities) {
    await client.query(
      `SELECT setval(pg_get_serial_sequence($1, $2), GREATEST((SELECT max(${quoteIdent(column)}) FROM ${quoteIdent(pair.name)}), 1), (SELECT count(*) > 0 FROM ${quoteIdent(pair.name)}))`,
      [pair.name, column],
    );
  }
  return copied;
}

function hasRowid(sqlite: Database.Database, table: string): boolean {
  try {
    sqlite.prepare(`SELECT rowid FROM ${quoteIdent(table)} LIMIT 1`).get();
    return true;
  } catch {
    return false;
  }
}

function primaryKeyOrder(table: SQLiteTable): string {
  const config = sqliteTableConfig(table);
  const keys =
    config.primaryKeys[0]?.columns.map((c) => c.name) ?? config.columns.filter((c) => c.primary).map((c) => c.name);
  return keys.map(quoteIdent).join(', ') || '1';
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The source's chain, read in the copy's snapshot the way the SQLite store reads it. */
function verifySqlite(sqlite: Database.Database): Promise<ChainVerification> {
  const log = new AuditLog(new Connection(sqlite, sqliteDrizzle({ client: sqlite, schema: sqliteSchema })));
  return verifyStoredChain({ auditEvents: async (options) => log.auditEvents(options) });
}
