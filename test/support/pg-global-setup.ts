/**
 * vitest globalSetup: one PostgreSQL server for the whole run (test/support/pg-server.ts), started
 * in the background while the first test files run; the files that need it wait for it
 * (`createTestDatabase`), each getting a fresh database.
 */
import type { TestProject } from 'vitest/node';
import { startPgServer, type PgServer } from './pg-server.js';
import { createTemplateDatabase } from './pg-test-db.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgServer: { adminUrl: string; logFile: string } | { error: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let server: PgServer | undefined;
  try {
    server = await startPgServer();
    await createTemplateDatabase(server.adminUrl);
    project.provide('pgServer', { adminUrl: server.adminUrl, logFile: server.logFile });
  } catch (error) {
    // The SQLite and unit tests still run; the PostgreSQL tests fail with this reason.
    project.provide('pgServer', { error: error instanceof Error ? error.message : String(error) });
  }
  return async () => {
    await server?.stop();
  };
}
