/**
 * One Okta budget for all replicas: three directories (three replicas), each with its own store
 * on one PostgreSQL database, share the rate-limit windows, so together they stay inside the org's
 * limit, and a window that answered 429 gets no further call from any of them until its reset.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/adapters/db/sqlite-store.js';
import { PgStore } from '../../src/adapters/db/postgres/pg-store.js';
import { IN_FLIGHT_MAX_MS, observe, reserve, SharedRateWindows } from '../../src/adapters/okta/shared-rate-windows.js';
import type { OktaDirectory } from '../../src/adapters/okta/okta-directory.js';
import type { Store } from '../../src/operations/ports.js';
import { createTestDatabase, truncateAll, type TestDatabase } from '../support/pg-test-db.js';
import { directoryFor } from './fixtures.js';
import { OktaStandIn } from './okta-stand-in.js';

describe('a shared rate-limit window', () => {
  const window = {
    limit: 600,
    remaining: 500,
    resetAt: 60_000,
    nextAt: 0,
    probeAt: 0,
    rate: 0,
    rateAt: 0,
    inFlight: [],
  };

  it('lets one probe into a window nobody knows, and makes the others wait for its answer', () => {
    const first = reserve(undefined, 1_000, 50);
    expect(first.reservation).toEqual({ go: true, at: 1_000 });
    expect(reserve(first.window, 1_010, 50).reservation).toEqual({ go: false, retryInMs: 50 });
    // No answer within a second (the probe failed on the network): another probe may go.
    expect(reserve(first.window, 2_001, 50).reservation).toEqual({ go: true, at: 2_001 });
  });

  it('sends a burst at once while the budget outlasts the window, and spreads sustained work over what is left', () => {
    let w = observe(undefined, { limit: 600, remaining: 599, resetAt: 60_000, rateLimited: false }, 0);
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
    let w = observe(undefined, { limit: 600, remaining: 100, resetAt: 60_000, rateLimited: false }, 0);
    w = observe(w, { limit: 600, remaining: 150, resetAt: 60_000, rateLimited: false }, 0);
    expect(w.remaining).toBe(100);
    w = observe(w, { limit: 600, remaining: 40, resetAt: 60_000, rateLimited: true }, 0);
    expect(w.remaining).toBe(0);
    expect(reserve(w, 30_000, 50).reservation).toEqual({ go: false, retryInMs: 30_050 });
    // The next window's first answer opens it again.
    w = observe(w, { limit: 600, remaining: 599, resetAt: 120_000, rateLimited: false }, 60_100);
    expect(reserve(w, 60_100, 50).reservation.go).toBe(true);
  });
});

/**
 * Okta's fixed windows as the stand-in keeps them (aligned to multiples of the window's length), on
 * a clock the test moves: a request counts in the window it arrives in.
 */
class OktaWindows {
  private readonly used = new Map<number, number>();
  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}
  arrive(at: number) {
    const index = Math.floor(at / this.windowMs);
    const used = this.used.get(index) ?? 0;
    const rateLimited = used >= this.limit;
    if (!rateLimited) this.used.set(index, used + 1);
    return {
      limit: this.limit,
      remaining: rateLimited ? 0 : this.limit - used - 1,
      resetAt: (index + 1) * this.windowMs,
      rateLimited,
    };
  }
  arrivedIn(windowIndex: number): number {
    return this.used.get(windowIndex) ?? 0;
  }
}

describe('requests in flight across a window edge', () => {
  const clock = { ms: 0 };
  let dir: string;
  let store: Store;
  let shared: SharedRateWindows;
  let okta: OktaWindows;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'shared-budget-'));
    store = SqliteStore.open(join(dir, 'access.db'));
    shared = new SharedRateWindows(store, () => clock.ms);
    okta = new OktaWindows(20, 2_000);
    clock.ms = 1_000;
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Reserves one place now; the time it may go, or null when it has to wait for another window. */
  async function reserve(): Promise<number | null> {
    const reservation = await shared.reserve('membership', 50);
    return reservation.go ? reservation.at : null;
  }

  /** Opens the first window: a probe goes and its answer tells the budget (19 left of 20). */
  async function openFirstWindow(): Promise<void> {
    const at = await reserve();
    await shared.observe('membership', okta.arrive(at!));
  }

  /**
   * Three requests reserved 10 ms before the reset are still on their way when the next window's
   * probe answers: `early` of them arrived before the reset (their answers come back next), the
   * others arrive after the reset, once the window's further requests have been reserved. Returns
   * how many requests arrived in the second window, and how many of them Okta refused.
   */
  async function acrossTheEdge(early: number): Promise<{ arrived: number; refused: number }> {
    await openFirstWindow();
    clock.ms = 1_990;
    for (let i = 0; i < 3; i++) expect(await reserve()).toBe(1_990);
    const before = Array.from({ length: early }, () => okta.arrive(1_995));
    // The reset passed: the next window's probe goes, arrives at once, and its answer comes back first.
    clock.ms = 2_060;
    const probe = await reserve();
    expect(probe).toBe(2_060);
    const answers = [okta.arrive(probe!)];
    await shared.observe('membership', answers[0]!);
    clock.ms = 2_070;
    for (const answer of before) await shared.observe('membership', answer);
    // Everything the window lets go now, each at its slot.
    const slots: number[] = [];
    for (let at = await reserve(); at !== null; at = await reserve()) slots.push(at);
    for (let i = early; i < 3; i++) answers.push(okta.arrive(2_075));
    for (const at of slots) answers.push(okta.arrive(at));
    expect(Math.max(...slots)).toBeLessThan(4_000);
    return { arrived: answers.length, refused: answers.filter((a) => a.rateLimited).length };
  }

  it('charges the next window with the requests still in flight when its first answer comes back', async () => {
    // The three arrive after the reset: they count in the second window, with the probe.
    expect(await acrossTheEdge(0)).toEqual({ arrived: 20, refused: 0 });
  });

  it('gives a place back when a request in flight across the edge landed in the window before', async () => {
    // One of the three made it before the reset: the second window has room for one more.
    expect(await acrossTheEdge(1)).toEqual({ arrived: 20, refused: 0 });
  });

  it('stops counting a request that never came back once a request could not still be running', async () => {
    await openFirstWindow();
    clock.ms = 1_990;
    await reserve(); // its replica dies: no answer ever comes back
    clock.ms = 2_060;
    const probe = await reserve();
    await shared.observe('membership', okta.arrive(probe!));
    // The probe's answer came back; one request is still counted in flight.
    expect((await shared.all()).membership).toMatchObject({ remaining: 18, inFlight: [expect.any(Number)] });
    // A minute later the lost request is no longer charged to the window the next probe opens.
    clock.ms = 2_060 + IN_FLIGHT_MAX_MS;
    const later = await reserve();
    await shared.observe('membership', okta.arrive(later!));
    expect((await shared.all()).membership).toMatchObject({ remaining: 19, inFlight: [] });
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
