/** Rows per table, for /healthz: one statement, one exact count per table of a store's schema. */
import { getTableName, isTable } from 'drizzle-orm';
import type { Connection } from './open-database.js';
import * as schema from './schema.js';

/**
 * The statement counting the rows of every table of a drizzle schema module, each as a column
 * named after its table (`cast`: how the count is made a plain number, `::int` on PostgreSQL,
 * whose count is a bigint).
 */
export function tableSizesQuery(tables: Record<string, unknown>, cast = ''): string {
  const names = Object.values(tables)
    .filter(isTable)
    .map((table) => getTableName(table))
    .sort();
  return `select ${names.map((name) => `(select count(*)${cast} from "${name}") as "${name}"`).join(', ')}`;
}

const SQLITE_TABLE_SIZES = tableSizesQuery(schema);

export function tableSizes(c: Connection): Record<string, number> {
  const statement = c.cached('tableSizes', () => c.sqlite.prepare<[], Record<string, number>>(SQLITE_TABLE_SIZES));
  return { ...statement.get()! };
}
