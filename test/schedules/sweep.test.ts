import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/adapters/db/sqlite-store.js';
import { Catalog } from '../../src/domain/catalog.js';
import { TransientError } from '../../src/domain/errors.js';
import { REVOCATION_OVERDUE_AFTER_FAILURES, revocationOverdue } from '../../src/domain/revocation-overdue.js';
import type { Deps } from '../../src/operations/context.js';
import { REVOCATION_ALERT_AFTER } from '../../src/operations/provision-grant.js';
import { reviewRequest } from '../../src/operations/review-request.js';
import { submitRequest } from '../../src/operations/submit-request.js';
import { expireGrants } from '../../src/operations/revoke-grant.js';
import { sendReminders, sweep } from '../../src/operations/sweep.js';
import { createHarness, examplePolicies, type Harness } from '../support/lifecycle-harness.js';
import { person, seedGrants } from './support/seed.js';
import type { NotificationOf } from '../../src/domain/records.js';

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => await h.close());

const options = { baseDelaySeconds: 1, random: () => 0.999999 };
const sweepWith = (deps: Deps, worker = 'test') => sweep(deps, { worker, ...options });
const sweepNow = () => sweepWith(h.deps);

async function awsAdminFor(email: string) {
  const result = await submitRequest(h.deps, {
    requester: await h.as(email),
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
  return (await h.store.grantForRequest(result.request.id))!;
}

const revokedEvents = async (store: SqliteStore, grantId?: string) =>
  (await store.auditEvents({ limit: 100_000 })).filter(
    (e) => e.action === 'grant.revoked' && (!grantId || e.grantId === grantId),
  );
const removals = () => h.directory.calls.filter((c) => c.method === 'removeFromGroup');
const alerts = () =>
  h.notifier.delivered.filter(
    (d): d is { notification: NotificationOf<'alert'>; key: string } => d.notification.type === 'alert',
  );

describe('the sweep revokes expired grants', () => {
  it('revokes a grant once when it expires, with reason expired, and tells the holder', async () => {
    const grant = await awsAdminFor('ada@example.com');
    h.clock.advance(3600);
    await sweepNow();
    await sweepNow();
    h.clock.advance(600);
    await sweepNow();
    expect(await h.store.getGrant(grant.id)).toMatchObject({
      status: 'revoked',
      revocationReason: 'expired',
      revokedBy: 'system:sweep',
    });
    expect((await revokedEvents(h.store, grant.id)).map((e) => e.details.reason)).toEqual(['expired']);
    expect(removals().map((c) => c.args)).toEqual([['u-ada', 'aws-admins']]);
    expect(h.notifier.of('grant.revoked', 'u-ada')).toHaveLength(1);
  });

  it('revokes once when the process dies during the sweep: the dead worker’s job is taken over after its lock expires', async () => {
    const grant = await awsAdminFor('ada@example.com');
    h.clock.advance(3600);
    // The first process starts the revocation, claims the job, removes the person, and dies
    // before it records anything.
    expect(await expireGrants(h.deps)).toBe(1);
    const job = (await h.store.getJobByKey(`revoke:${grant.id}`))!;
    const now = h.clock.now().toISOString();
    expect(
      await h.store.transaction(
        async (tx) =>
          await tx.claimJob(job.id, 'dying', now, new Date(h.clock.now().getTime() + 300_000).toISOString()),
      ),
    ).toBe(true);
    await h.directory.removeFromGroup('u-ada', 'aws-admins');

    // The restarted process opens the same file.
    const restarted = SqliteStore.open(h.dbPath);
    const deps: Deps = { ...h.deps, store: restarted };
    try {
      h.clock.advance(60);
      const early = await sweepWith(deps, 'restarted');
      expect(early.jobs.ran).toBe(0); // still locked by the dead worker
      expect((await restarted.getGrant(grant.id))!.status).toBe('revoking');
      h.clock.advance(300);
      await sweepWith(deps, 'restarted');
      expect(await restarted.getGrant(grant.id)).toMatchObject({ status: 'revoked', revocationReason: 'expired' });
      // The removal ran twice (idempotent: the second found nothing to remove); the revocation is recorded once.
      expect(removals()).toHaveLength(2);
      expect(await revokedEvents(restarted, grant.id)).toHaveLength(1);
      expect(h.notifier.of('grant.revoked', 'u-ada')).toHaveLength(1);
      // The dead worker, were it to come back, can no longer record its claim.
      expect(
        await restarted.transaction(async (tx) => await tx.finishJob(job.id, 'dying', h.clock.now().toISOString())),
      ).toBe(false);
    } finally {
      await restarted.close();
    }
  });

  it('revokes each grant exactly once when two processes sweep the same database at the same time', async () => {
    const at = h.clock.now().toISOString();
    const ends = new Date(h.clock.now().getTime() + 3600_000).toISOString();
    const seeded = await seedGrants(
      h.store,
      Array.from({ length: 40 }, (_, i) => ({
        id: `grt_seed${String(i).padStart(3, '0')}`,
        holder: person(i),
        activatedAt: at,
        expiresAt: ends,
      })),
    );
    h.clock.advance(3601);
    const other = SqliteStore.open(h.dbPath);
    try {
      const [one, two] = await Promise.all([
        sweepWith(h.deps, 'proc-a'),
        sweepWith({ ...h.deps, store: other }, 'proc-b'),
        sweepWith(h.deps, 'proc-a2'),
      ]);
      expect(one.expiredGrants + two.expiredGrants).toBeLessThanOrEqual(40);
      await sweepWith({ ...h.deps, store: other }, 'proc-b');
      for (const g of seeded) expect((await h.store.getGrant(g.id))!.status).toBe('revoked');
      expect(await revokedEvents(h.store)).toHaveLength(40);
      expect(
        (await h.store.auditEvents({ limit: 100_000 })).filter((e) => e.action === 'grant.revocationStarted'),
      ).toHaveLength(40);
      expect(removals()).toHaveLength(40);
      expect(new Set(removals().map((c) => c.args[0])).size).toBe(40);
    } finally {
      await other.close();
    }
  });
});

describe('a revocation that keeps failing', () => {
  it('fails five times, shows as overdue and is alerted once, then is revoked when the directory recovers', async () => {
    const grant = await awsAdminFor('ada@example.com');
    h.directory.failNext('removeFromGroup', new TransientError('Okta 503'), 5);
    h.clock.advance(3600);
    const seen: { failures: number; overdue: boolean }[] = [];
    for (let i = 0; i < 5; i++) {
      await sweepNow();
      const g = (await h.store.getGrant(grant.id))!;
      seen.push({ failures: g.failures, overdue: revocationOverdue(g, h.clock.now().toISOString()).overdue });
      h.clock.advance(60); // past the longest backoff so far (16 s)
    }
    expect(seen).toEqual([
      { failures: 1, overdue: false },
      { failures: 2, overdue: false },
      { failures: 3, overdue: true },
      { failures: 4, overdue: true },
      { failures: 5, overdue: true },
    ]);
    // Never recorded as done while failing.
    expect(await revokedEvents(h.store, grant.id)).toHaveLength(0);
    expect((await h.store.getGrant(grant.id))!.status).toBe('revoking');
    const summary = await sweepNow(); // the sixth attempt succeeds
    expect(summary.overdueRevocations).toBe(0);
    await sweepNow();
    expect(await h.store.getGrant(grant.id)).toMatchObject({ status: 'revoked', revocationReason: 'expired' });
    expect(await revokedEvents(h.store, grant.id)).toHaveLength(1);
    expect(
      (await h.store.auditEventsFor({ grantId: grant.id })).filter((e) => e.action === 'grant.revocationFailed'),
    ).toHaveLength(5);
    expect(alerts().map((a) => [a.notification.recipient, a.notification.grantId])).toEqual([
      [{ kind: 'channel', channel: 'C0ACCESSOPS' }, grant.id],
    ]);
    expect(revocationOverdue((await h.store.getGrant(grant.id))!, h.clock.now().toISOString()).overdue).toBe(false);
  });

  it('is alerted again once a day while it stays overdue, and the runner never gives it up', async () => {
    const grant = await awsAdminFor('ada@example.com');
    h.directory.failNext('removeFromGroup', new TransientError('Okta 503'), 10_000);
    h.clock.advance(3600);
    for (let hour = 0; hour < 50; hour++) {
      await sweepNow();
      await sweepNow();
      h.clock.advance(3600);
    }
    const g = (await h.store.getGrant(grant.id))!;
    expect(g.status).toBe('revoking');
    expect(g.failures).toBeGreaterThan(10);
    const job = (await h.store.getJobByKey(`revoke:${grant.id}`))!;
    expect(job.status).toBe('pending'); // never dead
    expect(Date.parse(job.runAt) - h.clock.now().getTime()).toBeLessThanOrEqual(3600_000); // backoff capped at an hour
    // Day 0 (when it became overdue), day 1 and day 2 of the 50 hours: one alert each.
    const texts = alerts().map((a) => a.notification.text ?? '');
    expect(texts).toHaveLength(3);
    expect(texts[1]).toContain('Revocation overdue');
    expect(texts[1]).toContain('day 2');
    expect(texts[2]).toContain('day 3');
  });

  it('counts as overdue by age too, when no attempt failed (a hung provider), and for a manual task after a day', () => {
    const base = { status: 'revoking' as const, failures: 0, revocationStartedAt: '2026-03-02T09:00:00.000Z' };
    const okta = {
      ...base,
      snapshot: { provision: { method: 'okta_group' as const, group: 'g' }, policyName: 'p', policyVersion: 'v' },
    };
    const manual = {
      ...base,
      snapshot: { provision: { method: 'manual' as const, assigneeGroup: 'it' }, policyName: 'p', policyVersion: 'v' },
    };
    expect(revocationOverdue(okta, '2026-03-02T09:15:00.000Z').overdue).toBe(false);
    expect(revocationOverdue(okta, '2026-03-02T09:15:01.000Z').overdue).toBe(true);
    expect(revocationOverdue({ ...manual, failures: 5 }, '2026-03-02T20:00:00.000Z').overdue).toBe(false);
    expect(revocationOverdue(manual, '2026-03-03T09:00:01.000Z')).toMatchObject({
      overdue: true,
      why: 'the manual revocation task is still open',
    });
    expect(REVOCATION_OVERDUE_AFTER_FAILURES).toBe(REVOCATION_ALERT_AFTER);
  });
});

describe('reminders and approval timeouts', () => {
  it('sends each reminder once per lead time, however many sweeps run', async () => {
    const member = await (async () => {
      const result = await submitRequest(h.deps, {
        requester: await h.as('ada@example.com'),
        app: 'github',
        role: 'member',
        durationSeconds: 2 * 86400,
      });
      if (result.kind !== 'submitted') throw new Error(result.kind);
      await h.runJobs();
      return (await h.store.grantForRequest(result.request.id))!;
    })();
    for (let minutes = 0; minutes < 2 * 24 * 60; minutes += 30) {
      await sweepNow();
      h.clock.advance(1800);
    }
    expect(h.notifier.of('grant.reminder', 'u-ada').map((n) => [n.grantId, n.leadSeconds])).toEqual([
      [member.id, 86400],
      [member.id, 3600],
    ]);
    expect(
      (await h.store.auditEventsFor({ grantId: member.id })).filter((e) => e.action === 'grant.reminded'),
    ).toHaveLength(2);
  });

  it('does not starve grants behind a thousand already reminded ones', async () => {
    const at = h.clock.now().toISOString();
    const holder = (i: number) => ({ ...person(i), directoryId: `u-r${i}` });
    // 1,200 two-day grants all inside their "1 day left" window, the first 1,000 already reminded.
    const grants = Array.from({ length: 1200 }, (_, i) => ({
      id: `grt_r${String(i).padStart(5, '0')}`,
      holder: holder(i),
      activatedAt: new Date(Date.parse(at) - 86400_000).toISOString(),
      expiresAt: new Date(Date.parse(at) + 3600_000 * 20 + i * 1000).toISOString(),
    }));
    await seedGrants(h.store, grants, { audit: false });
    await h.store.transaction(async (tx) => {
      for (const g of grants.slice(0, 1000)) await tx.updateGrant(g.id, ['active'], { remindersSent: [86400] });
    });
    expect(await sendReminders(h.deps)).toBe(200);
    expect(await sendReminders(h.deps)).toBe(0);
  });

  it('expires a request nobody decided in time and updates every approval message it sent', async () => {
    // Step 2 asks three security engineers by DM (no channel), so there are several messages to settle.
    h.deps.catalog = new Catalog(
      examplePolicies({
        owner: {
          approval: [{ kind: 'manager' }, { kind: 'group', group: 'security-team', minApprovals: 2 }],
          autoApprove: undefined,
        },
      }),
    );
    const result = await submitRequest(h.deps, {
      requester: await h.as('ada@example.com'),
      app: 'github',
      role: 'owner',
      justification: 'release',
    });
    if (result.kind !== 'submitted') throw new Error(result.kind);
    await reviewRequest(h.deps, {
      actor: await h.as('marcus@example.com'),
      requestId: result.request.id,
      decision: 'approve',
    });
    await h.runJobs();
    h.clock.advance(72 * 3600 - 1);
    expect((await sweepNow()).expiredRequests).toBe(0);
    h.clock.advance(1);
    expect((await sweepNow()).expiredRequests).toBe(1);
    expect((await sweepNow()).expiredRequests).toBe(0);
    expect(await h.store.getRequest(result.request.id)).toMatchObject({ status: 'approval_expired', currentStep: -1 });
    const asked = h.notifier
      .of('approval.requested')
      .map((n) => (n.recipient.kind === 'person' ? n.recipient.directoryId : n.recipient.kind));
    const settled = h.notifier
      .of('approval.outcome')
      .map((n) => (n.recipient.kind === 'person' ? n.recipient.directoryId : n.recipient.kind));
    expect(asked.sort()).toEqual(['u-jordan', 'u-kim', 'u-marcus', 'u-sam']);
    expect(settled.sort()).toEqual(asked.sort());
    expect(h.notifier.of('request.expired', 'u-ada')).toHaveLength(1);
    expect(
      (await h.store.auditEventsFor({ requestId: result.request.id })).filter((e) => e.action === 'request.expired'),
    ).toHaveLength(1);
  });
});
