/**
 * The store contract on PostgreSQL: each connection is a store (a replica) of its own. One database
 * for the file, emptied before each test (as fresh as a new one, and much faster to get).
 */
import { afterAll } from 'vitest';
import { PgStore } from '../../src/adapters/db/postgres/pg-store.js';
import type { Store } from '../../src/operations/ports.js';
import { createTestDatabase, truncateAll, type TestDatabase } from '../support/pg-test-db.js';
import { describeStoreContract } from './store-contract.js';

let database: TestDatabase | undefined;
afterAll(async () => database?.drop());

describeStoreContract('PostgreSQL', async () => {
  database ??= await createTestDatabase();
  await truncateAll(database.url);
  const url = database.url;
  const opened: Store[] = [];
  return {
    async connect() {
      const store = await PgStore.open(url, { poolSize: 4 });
      opened.push(store);
      return store;
    },
    async drop() {
      for (const store of opened) await store.close();
    },
  };
});
