/**
 * One Okta budget for all replicas: three directories (three replicas), each with its own store
 * on one PostgreSQL database, share the rate-limit windows, so together they stay inside the org's
 * limit, and a window that answered 429 gets no further call from any of them until its reset.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PgStore } from '../../src/adapters/db/postgres/pg-store.js';
import { observe, reserve, SharedRateWindows } from '../../src/adapters/okta/shared-rate-windows.js';
import type { OktaDirectory } from '../../src/adapters/okta/okta-directory.js';
import type { Store } from '../../src/operations/ports.js';
import { createTestDatabase, truncateAll, type TestDatabase } from '../support/pg-test-db.js';
import { directoryFor } from './fixtures.js';
import { OktaStandIn } from './okta-stand-in.js';

describe('a shared rate-limit window', () => {
  const window = { limit: 600, remaining: 500, resetAt: 60_000, nextAt: 0, probeAt: 0, rate: 0, rateAt: 0 };

  it('lets one probe into a window nobody knows, and makes the others wait for its answer', () => {
    const first = reserve(undefined, 1_000, 50);
    expect(first.reservation).toEqual({ go: true, at: 1_000 });
    expect(reserve(first.window, 1_010, 50).reservation).toEqual({ go: false, retryInMs: 50 });
    // No answer within a second (the probe failed on the network): another probe may go.
    expect(reserve(first.window, 2_001, 50).reservation).toEqual({ go: true, at: 2_001 });
  });

  it('sends a burst at once while the budget outlasts the window, and spreads sustained work over what is left', () => {
    let w = observe(undefined, { limit: 600, remaining: 599, resetAt: 60_000, rateLimited: false });
    const at: number[] = [];
    for (let i = 0; i < 3; i++) {
      const next = reserve(w, 59_000, 50);
      w = next.window;
      if (next.reservation.go) at.push(next.reservation.at);
    }
    expect(at).toEqual([59_000, 59_000, 59_000]);
    // 900 requests asked for in the same millisecond, with 30 s and 300 requests left: 300 go (a
    // burst at once, the rest evenly spread to the reset), the others wait for the next window.
    w = { ...window, remaining: 300, resetAt: 60_000 };
    const slots: number[] = [];
    let waiting = 0;
    for (let i = 0; i < 900; i++) {
      const next = reserve(w, 30_000, 50);
      w = next.window;
      if (next.reservation.go) slots.push(next.reservation.at);
      else waiting++;
    }
    expect(slots).toHaveLength(300);
    expect(waiting).toBe(600);
    expect(slots.at(-1)!).toBeLessThan(60_000);
    const burst = slots.filter((t) => t === 30_000).length;
    expect(burst).toBeGreaterThan(1);
    expect(burst).toBeLessThan(20);
    const interval = 30_000 / (300 - burst);
    expect(Math.abs(slots.at(-1)! - slots.at(-101)! - 100 * interval)).toBeLessThan(interval);
  });

  it('never raises the budget an answer reported, and keeps none after a 429 until the reset', () => {
    let w = observe(undefined, { limit: 600, remaining: 100, resetAt: 60_000, rateLimited: false });
    w = observe(w, { limit: 600, remaining: 150, resetAt: 60_000, rateLimited: false });
    expect(w.remaining).toBe(100);
    w = observe(w, { limit: 600, remaining: 40, resetAt: 60_000, rateLimited: true });
    expect(w.remaining).toBe(0);
    expect(reserve(w, 30_000, 50).reservation).toEqual({ go: false, retryInMs: 30_050 });
    // The next window's first answer opens it again.
    w = observe(w, { limit: 600, remaining: 599, resetAt: 120_000, rateLimited: false });
    expect(reserve(w, 60_100, 50).reservation.go).toBe(true);
  });
});

describe('three replicas against one Okta org', () => {
  let database: TestDatabase;
  let okta: OktaStandIn;
  let url: string;
  let stores: Store[] = [];
  let replicas: OktaDirectory[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.drop();
  });

  beforeEach(async () => {
    await truncateAll(database.url);
    // 20 membership changes per 2-second window, aligned like Okta's per-minute windows.
    okta = new OktaStandIn({ rateLimits: { membership: { limit: 20, windowMs: 2_000 } } });
    okta.addGroup({ id: '00gteam', name: 'team' });
    for (let i = 0; i < 60; i++)
      okta.addUser({ id: `00u${i}`, email: `u${i}@example.com` }).addMember('00gteam', `00u${i}`);
    ({ url } = await okta.start());
    stores = await Promise.all([0, 1, 2].map(() => PgStore.open(database.url, { poolSize: 2 })));
    replicas = stores.map((store) => directoryFor(url, { sharedRateLimits: new SharedRateWindows(store) }));
  });

  afterEach(async () => {
    await okta.stop();
    for (const store of stores) await store.close();
  });

  it('stay inside the limit together: no 429, never more than the budget in one window, each removal once', async () => {
    await Promise.all(Array.from({ length: 60 }, (_, i) => replicas[i % 3]!.removeFromGroup(`00u${i}`, 'team')));
    const deletes = okta.matching('/api/v1/groups/00gteam/users/', 'DELETE');
    expect(deletes.filter((r) => r.status === 429)).toEqual([]);
    expect(deletes).toHaveLength(60);
    expect(okta.memberIds('00gteam')).toEqual([]);
    const perWindow = new Map<number, number>();
    for (const r of deletes)
      perWindow.set(Math.floor(r.at / 2_000), (perWindow.get(Math.floor(r.at / 2_000)) ?? 0) + 1);
    expect(Math.max(...perWindow.values())).toBeLessThanOrEqual(20);
  });

  it('send nothing more into a window that answered 429, whichever replica got it', async () => {
    // Another integration spent the window: the next membership call is answered 429, reset in 2 s.
    okta.failNext('/api/v1/groups/00gteam/users/', 1, 429, { method: 'DELETE', resetInSeconds: 2 });
    await Promise.all(Array.from({ length: 9 }, (_, i) => replicas[i % 3]!.removeFromGroup(`00u${i}`, 'team')));
    const deletes = okta.matching('/api/v1/groups/00gteam/users/', 'DELETE');
    const limited = deletes.filter((r) => r.status === 429);
    expect(limited).toHaveLength(1);
    // Every other call went after the reset the 429 announced.
    const resetAt = Math.ceil((limited[0]!.at + 2_000) / 1000) * 1000;
    expect(deletes.filter((r) => r.status !== 429).every((r) => r.at >= resetAt - 1000)).toBe(true);
    expect(okta.memberIds('00gteam')).toHaveLength(51);
  });
});
