/**
 * End to end with real cron: two schedulers (two connections to one SQLite file, as two processes
 * would have) fire the bot's real schedules every second. The grant's expiry comes from moving a
 * clock that otherwise follows real time; the test waits for the pass that revokes it, not for a
 * fixed time.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBotScheduler } from '../../src/adapters/cron/bot-schedules.js';
import type { CronScheduler, PassOutcome } from '../../src/adapters/cron/scheduler.js';
import { SqliteStore } from '../../src/adapters/db/sqlite-store.js';
import type { Deps } from '../../src/operations/context.js';
import type { Clock } from '../../src/operations/ports.js';
import { reviewRequest } from '../../src/operations/review-request.js';
import { submitRequest } from '../../src/operations/submit-request.js';
import { createHarness, SETTINGS, type Harness } from '../support/lifecycle-harness.js';

class ShiftedClock implements Clock {
  offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}

let h: Harness;
let other: SqliteStore;
const schedulers: CronScheduler[] = [];
beforeEach(() => {
  h = createHarness();
  other = SqliteStore.open(h.dbPath);
});
afterEach(async () => {
  await Promise.all(schedulers.splice(0).map((s) => s.stop()));
  await other.close();
  await h.close();
});

describe('real cron schedules', () => {
  it('revoke an expired grant from a seconds schedule, once, with two processes on one database', async () => {
    const clock = new ShiftedClock();
    h.deps.clock = clock;
    h.deps.settings = {
      ...SETTINGS,
      sweepSchedule: '*/1 * * * * *',
      reconcileSchedule: '*/2 * * * * *',
      digestSchedule: '0 0 1 1 *',
    };
    const result = await submitRequest(h.deps, {
      requester: await h.as('ada@example.com'),
      app: 'aws',
      role: 'admin',
      justification: 'incident',
    });
    if (result.kind !== 'submitted') throw new Error(result.kind);
    await reviewRequest(h.deps, {
      actor: await h.as('marcus@example.com'),
      requestId: result.request.id,
      decision: 'approve',
    });
    await h.runJobs();
    const grant = (await h.store.grantForRequest(result.request.id))!;
    expect(grant.status).toBe('active');

    const depsB: Deps = { ...h.deps, store: other };
    const a = createBotScheduler(h.deps, { jobs: { baseDelaySeconds: 1 } }, { holder: 'proc-a' });
    const b = createBotScheduler(depsB, { jobs: { baseDelaySeconds: 1 } }, { holder: 'proc-b' });
    schedulers.push(a, b);
    const outcomes: (PassOutcome & { by: string })[] = [];
    const revoked = new Promise<PassOutcome>((resolve) => {
      for (const [scheduler, by] of [
        [a, 'proc-a'],
        [b, 'proc-b'],
      ] as const) {
        scheduler.onPass(async (outcome) => {
          outcomes.push({ ...outcome, by });
          if (
            outcome.name === 'sweep' &&
            outcome.status === 'ran' &&
            (await h.store.getGrant(grant.id))!.status === 'revoked'
          )
            resolve(outcome);
        });
      }
    });
    // Reconcile fires every 2 s: wait for one pass of it too, rather than assume the test took that long.
    const reconciled = new Promise<void>((resolve) => {
      for (const scheduler of [a, b])
        scheduler.onPass((o) => o.name === 'reconcile' && o.status === 'ran' && resolve());
    });
    a.start();
    b.start();
    // Let a few passes run with nothing due, then move past the expiry.
    await new Promise<void>((resolve) => {
      const off = a.onPass((o) => {
        if (o.name === 'sweep' && o.status === 'ran') {
          off();
          resolve();
        }
      });
    });
    expect((await h.store.getGrant(grant.id))!.status).toBe('active');
    clock.offsetMs = 3600_000;
    const pass = await revoked;
    await reconciled;

    expect(pass.status).toBe('ran');
    expect(await h.store.getGrant(grant.id)).toMatchObject({ status: 'revoked', revocationReason: 'expired' });
    expect(
      (await h.store.auditEventsFor({ grantId: grant.id })).filter((e) => e.action === 'grant.revoked'),
    ).toHaveLength(1);
    expect(h.directory.calls.filter((c) => c.method === 'removeFromGroup')).toHaveLength(1);
    expect(h.notifier.of('grant.revoked', 'u-ada')).toHaveLength(1);
    // Each tick ran in one process at most; the other found the lease held or the slot done.
    const ran = outcomes.filter((o) => o.name === 'sweep' && o.status === 'ran');
    const slots = ran.map((o) => o.slot!.toISOString());
    expect(new Set(slots).size).toBe(slots.length);
    expect(
      outcomes.some((o) => o.status === 'skipped' && (o.reason === 'lease_held' || o.reason === 'slot_done')),
    ).toBe(true);
    expect(outcomes.some((o) => o.name === 'reconcile' && o.status === 'ran')).toBe(true);
  });
});
