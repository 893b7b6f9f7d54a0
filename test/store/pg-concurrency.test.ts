/**
 * What PostgreSQL adds to the store contract for several replicas: replicas starting together on an
 * empty database migrate it once, and a transaction PostgreSQL rolls back to break a deadlock is
 * run again whole, so both sides of the deadlock commit.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { PgStore } from '../../src/adapters/db/postgres/pg-store.js';
import type { PersonRef } from '../../src/domain/records.js';
import { expireDelegations } from '../../src/operations/delegations.js';
import type { Store } from '../../src/operations/ports.js';
import { createHarness, type Harness } from '../support/lifecycle-harness.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-test-db.js';
import { grant, request } from './store-contract.js';

let database: TestDatabase | undefined;
const opened: Store[] = [];
const harnesses: Harness[] = [];

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  for (const h of harnesses.splice(0)) await h.close();
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
    const [a, b] = await Promise.all([
      PgStore.open(database.url, { poolSize: 2 }),
      PgStore.open(database.url, { poolSize: 2 }),
    ]);
    opened.push(a!, b!);
    await a!.transaction(async (tx) => {
      await tx.insertRequest(request('req_1'));
      await tx.insertRequest(
        request('req_2', {
          requester: { directoryId: 'u-alan', email: 'alan@example.com', name: 'Alan Turing', slackId: null },
        }),
      );
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

  it('ends a batch of delegations with every row locked before the audit chain: waiting for a row, it holds no audit lock', async () => {
    database = await createTestDatabase();
    const h = createHarness({ store: await PgStore.open(database.url, { poolSize: 2 }) });
    harnesses.push(h);
    const past = new Date(h.clock.now().getTime() - 60_000).toISOString();
    const person = (id: string): PersonRef => ({
      directoryId: id,
      email: `${id}@example.com`,
      name: id,
      slackId: null,
    });
    await h.store.transaction(async (tx) => {
      for (const [id, delegator] of [
        ['dlg_1', 'u-marcus'],
        ['dlg_2', 'u-margaret'],
      ] as const) {
        await tx.insertDelegation({
          id,
          delegator: person(delegator),
          delegate: person('u-kim'),
          startsAt: past,
          endsAt: past,
          status: 'active',
          createdAt: past,
          endedAt: null,
          endedReason: null,
        });
      }
    });
    // Another replica holds dlg_2 (its delegator turning it off, say) and will append to the audit chain.
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query(`SELECT id FROM delegations WHERE id = 'dlg_2' FOR UPDATE`);
      const ended = expireDelegations(h.deps);
      const otherPid = (await other.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const waiting = await waitFor(
        async () =>
          (
            await query<{ pid: number }>(
              database!.url,
              `SELECT pid FROM pg_locks WHERE NOT granted AND pid <> ${otherPid}`,
            )
          )[0]?.pid,
      );
      // The sweep waits for dlg_2 before its first audit event: the other side can take the chain's lock.
      const advisory = await query<{ n: string }>(
        database.url,
        `SELECT count(*) AS n FROM pg_locks WHERE pid = ${waiting} AND locktype = 'advisory' AND granted`,
      );
      expect(Number(advisory[0]!.n)).toBe(0);
      await other.query('COMMIT');
      expect(await ended).toBe(2);
    } finally {
      await other.end();
    }
    expect((await h.store.listDelegations({ status: ['ended'] })).map((d) => d.id).sort()).toEqual(['dlg_1', 'dlg_2']);
  }, 60_000);
  it('locks the grants lockGrants names until the transaction ends, and no others', async () => {
    database = await createTestDatabase();
    const store = await PgStore.open(database.url, { poolSize: 2 });
    opened.push(store);
    await store.transaction(async (tx) => {
      await tx.insertRequest(request('req_1'));
      await tx.insertRequest(request('req_2', { role: 'member' }));
      await tx.insertGrant(grant('grt_1', { requestId: 'req_1' }));
      await tx.insertGrant(grant('grt_2', { requestId: 'req_2' }));
    });
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    try {
      const locked = async (id: string) => {
        await other.query('BEGIN');
        try {
          await other.query(`SELECT id FROM grants WHERE id = '${id}' FOR UPDATE NOWAIT`);
          return false;
        } catch (error) {
          if ((error as { code?: string }).code !== '55P03') throw error; // lock_not_available
          return true;
        } finally {
          await other.query('ROLLBACK');
        }
      };
      await store.transaction(async (tx) => {
        await tx.lockGrants(['grt_1', 'missing']);
        expect(await locked('grt_1')).toBe(true);
        expect(await locked('grt_2')).toBe(false);
      });
      expect(await locked('grt_1')).toBe(false);
    } finally {
      await other.end();
    }
  }, 60_000);
});

/** Polls until `read` gives a value (the event waited for), for at most 20 s. */
async function waitFor<T>(read: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('waitFor: timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
