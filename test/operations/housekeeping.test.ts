import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobPayload } from '../../src/domain/records.js';
import { pruneOldRecords } from '../../src/operations/prune-records.js';
import { relinquishGrant } from '../../src/operations/revoke-grant.js';
import { submitRequest } from '../../src/operations/submit-request.js';
import { createHarness, type Harness } from '../support/lifecycle-harness.js';

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => await h.close());

const DAY = 86_400;
const alert = (n: number): JobPayload => ({
  kind: 'notify',
  notification: { type: 'alert', recipient: { kind: 'channel', channel: 'C0ACCESSOPS' }, text: `alert ${n}` },
});

/** `count` alerts sent now: finished jobs, each with its audit trail untouched. */
async function sentAlerts(count: number, from = 0): Promise<void> {
  const now = h.clock.now().toISOString();
  await h.store.transaction(async (tx) => {
    for (let i = from; i < from + count; i++) await tx.enqueueJob(`notify:alert:bulk-${i}`, alert(i), now);
  });
  const summary = await h.runJobs();
  expect(summary.done).toBe(count);
}

describe('housekeeping', () => {
  it('prunes in small batches, at most a few per pass, and leaves the rest for the next pass', async () => {
    await sentAlerts(25);
    h.clock.advance(91 * DAY);
    expect(await pruneOldRecords(h.deps, { batch: 10, maxBatches: 2 })).toEqual({ jobs: 20, messages: 0 });
    expect(await h.store.countJobs(['done'])).toBe(5);
    expect(await pruneOldRecords(h.deps, { batch: 10, maxBatches: 2 })).toEqual({ jobs: 5, messages: 0 });
    expect(await pruneOldRecords(h.deps, { batch: 10, maxBatches: 2 })).toEqual({ jobs: 0, messages: 0 });
  });

  it('keeps every job not finished and every audit event, however old', async () => {
    // A grant whose revocation fails for months: its revocation job stays, retried, until Okta confirms.
    const ada = await h.as('ada@example.com');
    const submitted = await submitRequest(h.deps, { requester: ada, app: 'github', role: 'member' });
    if (submitted.kind !== 'submitted') throw new Error(submitted.kind);
    await h.runJobs();
    const grant = (await h.store.grantForRequest(submitted.request.id))!;
    await relinquishGrant(h.deps, { actor: ada, grantId: grant.id });
    h.directory.failNext('removeFromGroup', new Error('Okta 500'), 1000);
    await h.runJobs();
    // Messages that wait: queued for a time long after the retention.
    await h.store.transaction((tx) =>
      tx.enqueueJob(
        'notify:alert:later',
        alert(-1),
        new Date(Date.parse(h.clock.now().toISOString()) + 200 * DAY * 1000).toISOString(),
      ),
    );
    await sentAlerts(10);
    const unfinished = (await h.store.listJobs({ status: ['pending', 'running'] })).map((j) => j.key).sort();
    expect(unfinished).toEqual(expect.arrayContaining([`revoke:${grant.id}`, 'notify:alert:later']));
    const events = await h.store.auditEvents({ limit: 10_000 });

    h.clock.advance(120 * DAY);
    const pruned = await pruneOldRecords(h.deps);
    expect(pruned.jobs).toBeGreaterThanOrEqual(10);
    expect((await h.store.listJobs({ status: ['pending', 'running'] })).map((j) => j.key).sort()).toEqual(unfinished);
    expect(await h.store.countJobs(['done', 'dead'])).toBe(0);
    expect(await h.store.auditEvents({ limit: 10_000 })).toEqual(events);
    expect((await h.store.getGrant(grant.id))!.status).toBe('revoking');
  });

  it('prunes nothing younger than the retention in settings.yml', async () => {
    await sentAlerts(3);
    h.clock.advance(h.deps.settings.retentionSeconds - 60);
    expect(await pruneOldRecords(h.deps)).toEqual({ jobs: 0, messages: 0 });
    h.clock.advance(120);
    expect(await pruneOldRecords(h.deps)).toEqual({ jobs: 3, messages: 0 });
  });
});
