/** Rows per table of the SQLite store, for /healthz: one statement, one count per table. */
import { getTableName, isTable } from 'drizzle-orm';
import type { Connection } from './open-database.js';
import * as schema from './schema.js';

/** Every table of the schema, by its name in the database. */
const TABLES = Object.values(schema)
  .filter(isTable)
  .map((table) => getTableName(table))
  .sort();

export function tableSizes(c: Connection): Record<string, number> {
  const statement = c.prepared('tableSizes', () =>
    c.sqlite.prepare<[], Record<string, number>>(
      `select ${TABLES.map((name) => `(select count(*) from "${name}") as "${name}"`).join(', ')}`,
    ),
  );
  return { ...statement.get()! };
}
