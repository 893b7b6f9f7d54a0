/** A fresh PostgreSQL database per test file (or per test), on the run's server (pg-global-setup.ts). */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createPool, migrateDatabase } from '../../src/adapters/db/postgres/connection.js';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

export function pgAdminUrl(): string {
  const server = inject('pgServer');
  if ('error' in server) throw new Error(`the test PostgreSQL server did not start: ${server.error}`);
  return server.adminUrl;
}

/** The migrated, empty database each test database is copied from (created once per run). */
const TEMPLATE = 'access_bot_template';

/** Creates the template: a database with every migration applied and no data. */
export async function createTemplateDatabase(adminUrl: string): Promise<void> {
  await admin(adminUrl, `DROP DATABASE IF EXISTS ${TEMPLATE}`);
  await admin(adminUrl, `CREATE DATABASE ${TEMPLATE}`);
  const pool = createPool(databaseUrl(adminUrl, TEMPLATE), { poolSize: 1 });
  try {
    await migrateDatabase(pool);
  } finally {
    await pool.end();
  }
}

/**
 * Creates a database and returns its URL; `drop` removes it (closing what still uses it). By
 * default it is a copy of the migrated template (fast; the store's own migration then finds
 * nothing to do); `empty: true` gives a database without even the tables (the migrations' test).
 */
export async function createTestDatabase(options: { adminUrl?: string; empty?: boolean } = {}): Promise<TestDatabase> {
  const adminUrl = options.adminUrl ?? pgAdminUrl();
  const name = `t_${randomBytes(6).toString('hex')}`;
  await admin(adminUrl, options.empty ? `CREATE DATABASE ${name}` : `CREATE DATABASE ${name} TEMPLATE ${TEMPLATE}`);
  return {
    url: databaseUrl(adminUrl, name),
    drop: () => admin(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function admin(adminUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Empties every table of the database (and restarts its identities): a fresh database, faster than a new one. */
export async function truncateAll(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(
      `SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public'`,
    );
    if (rows.length) await client.query(`TRUNCATE ${rows.map((r) => r.name).join(', ')} RESTART IDENTITY CASCADE`);
  } finally {
    await client.end();
  }
}
