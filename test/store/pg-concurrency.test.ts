/**
 * What PostgreSQL adds to the store contract for several replicas: replicas starting together on an
 * empty database migrate it once, and a transaction PostgreSQL rolls back to break a deadlock is
 * run again whole, so both sides of the deadlock commit.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { PgStore } from '../../src/adapters/db/postgres/pg-store.js';
import type { Store } from '../../src/operations/ports.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-test-db.js';
import { request } from './store-contract.js';

let database: TestDatabase | undefined;
const opened: Store[] = [];

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  await database?.drop();
  database = undefined;
});

async function query<T extends object>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

describe('PostgreSQL with several replicas', () => {
  it('migrates an empty database once when three replicas start on it together', async () => {
    database = await createTestDatabase({ empty: true });
    const stores = await Promise.all([1, 2, 3].map(() => PgStore.open(database!.url, { poolSize: 2 })));
    opened.push(...stores);
    const applied = await query<{ hash: string }>(database.url, 'SELECT hash FROM drizzle.__drizzle_migrations');
    expect(applied.length).toBeGreaterThan(0);
    expect(new Set(applied.map((m) => m.hash)).size).toBe(applied.length);
    // Every replica works on the one schema.
    await stores[0]!.transaction((tx) => tx.insertRequest(request('req_1')));
    for (const store of stores) expect((await store.getRequest('req_1'))?.status).toBe('pending_approval');
  }, 60_000);

  it('runs again, whole, the transaction PostgreSQL rolled back to break a deadlock, so both commit', async () => {
    database = await createTestDatabase();
    const [a, b] = await Promise.all([PgStore.open(database.url, { poolSize: 2 }), PgStore.open(database.url, { poolSize: 2 })]);
    opened.push(a!, b!);
    await a!.transaction(async (tx) => {
      await tx.insertRequest(request('req_1'));
      await tx.insertRequest(request('req_2', { requester: { directoryId: 'u-alan', email: 'alan@example.com', name: 'Alan Turing', slackId: null } }));
    });
    // Each transaction locks one request, waits until the other has locked the other one, then
    // reads it: a lock cycle. The second run of a callback does not wait (the other side is gone).
    const locked = { a: signal(), b: signal() };
    const runs = { a: 0, b: 0 };
    const cross = (store: Store, me: 'a' | 'b', first: string, second: string) =>
      store.transaction(async (tx) => {
        runs[me]++;
        await tx.getRequest(first);
        if (runs[me] === 1) {
          locked[me].resolve();
          await locked[me === 'a' ? 'b' : 'a'].promise;
        }
        await tx.getRequest(second);
        await tx.updateRequest(first, ['pending_approval'], { decisionReason: `${me} run ${runs[me]}` });
        return runs[me];
      });
    const results = await Promise.all([cross(a!, 'a', 'req_1', 'req_2'), cross(b!, 'b', 'req_2', 'req_1')]);

    // One of the two was the deadlock's victim and ran twice; both committed.
    expect(results.sort()).toEqual([1, 2]);
    expect(runs.a + runs.b).toBe(3);
    const reasons = [(await a!.getRequest('req_1'))!.decisionReason, (await a!.getRequest('req_2'))!.decisionReason];
    expect(reasons).toEqual([`a run ${runs.a}`, `b run ${runs.b}`]);
  }, 60_000);
});

function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
