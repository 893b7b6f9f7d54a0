/** The store contract on SQLite: a file per test, each connection a store of its own. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/adapters/db/sqlite-store.js';
import type { Store } from '../../src/operations/ports.js';
import { describeStoreContract } from './store-contract.js';

describeStoreContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'store-contract-'));
  const path = join(dir, 'access.db');
  const opened: Store[] = [];
  return {
    async connect() {
      const store = SqliteStore.open(path);
      opened.push(store);
      return store;
    },
    async drop() {
      for (const store of opened) await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
