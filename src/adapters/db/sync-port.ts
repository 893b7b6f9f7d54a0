/**
 * The SQLite repositories run synchronously (better-sqlite3); the store port is asynchronous. A
 * repository implements the synchronous twin of the port methods it owns, and SqliteStore turns
 * them into the port's promise-returning methods in one place.
 */
import { getTableColumns, sql, type Column, type SQL, type Table } from 'drizzle-orm';
import type { PostedMessages, StoreTx } from '../../operations/ports.js';

export type Sync<F> = F extends (...args: infer A) => Promise<infer R> ? (...args: A) => R : never;

/** The synchronous twins of some of the port's methods. */
export type SyncPort<K extends keyof StoreTx> = { [P in K]: Sync<StoreTx[P]> };

export type SyncMessages = { [P in keyof PostedMessages]: Sync<PostedMessages[P]> };

/** Ids per `IN (...)` list: SQLite caps bound parameters (32,766 by default); chunks keep any list under it. */
export const CHUNK = 500;

/**
 * Placeholders for a statement prepared once (`insert().values(...)` or `update().set(...)`), one
 * per column named like the column's property. They are raw: the row is converted with `toDriver`
 * before each run, because drizzle's own conversion of a placeholder does not let NULL through (a
 * null boolean would be stored as false, a null JSON value as the text "null").
 */
export function placeholdersFor<T extends Table>(
  table: T,
  keys: readonly string[] = Object.keys(getTableColumns(table)),
): T['$inferInsert'] {
  const values: Record<string, SQL> = Object.fromEntries(keys.map((k) => [k, sql`${sql.placeholder(k)}`]));
  return values as T['$inferInsert'];
}

/** A row (or part of one) as SQLite stores it: JSON columns as text, booleans as 0/1, NULL as NULL. */
export function toDriver<T extends Table>(table: T, row: Partial<T['$inferSelect']>): Record<string, unknown> {
  const columns = getTableColumns(table) as Record<string, Column>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (value === undefined) continue;
    const column = columns[key];
    out[key] = value === null || !column ? value : column.mapToDriverValue(value);
  }
  return out;
}
