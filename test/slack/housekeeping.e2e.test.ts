import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyChain } from '../../src/domain/audit.js';
import { TransientError } from '../../src/domain/errors.js';
import { sweep } from '../../src/operations/sweep.js';
import { createHealthCheck } from '../../src/health.js';
import { ACTION, holdActive } from './slack2-helpers.js';
import { hasAction, startSlackFixture, type SlackFixture } from './slack-fixture.js';

let fx: SlackFixture;
beforeEach(async () => {
  fx = await startSlackFixture();
});
afterEach(async () => {
  await fx.close();
});

const JOBS = { worker: 'housekeeping-e2e', baseDelaySeconds: 1, random: () => 0.999999 };
const DAY = 86_400;

/** The person's DM that says the access is theirs now (it carries I'm done while it lasts). */
function activeMessage(who: 'ada' | 'alan') {
  return fx.dms(who).find((m) => m.text.includes('You now have'))!;
}

describe('housekeeping: records older than the retention', () => {
  it('prunes the finished jobs and message records of ended access, and keeps every audit event and everything still open', async () => {
    // Ada's GitHub membership is given back at once: everything about it is finished.
    const adaGrant = await holdActive(fx, 'ada', 'github', 'member');
    await fx.click('ada', activeMessage('ada'), ACTION.relinquish);
    await fx.settle();
    expect((await fx.h.store.getGrant(adaGrant))!.status).toBe('revoked');
    const adaRequest = (await fx.h.store.getGrant(adaGrant))!.requestId;

    // Alan's billing access is being revoked, but the application refuses: the revocation waits
    // and retries, for months if it must.
    const alanGrant = await holdActive(fx, 'alan', 'billing', 'viewer');
    const alanRequest = (await fx.h.store.getGrant(alanGrant))!.requestId;
    fx.h.webhook.failNext(...Array.from({ length: 3 }, () => new TransientError('billing API 503')));
    await fx.click('alan', activeMessage('alan'), ACTION.relinquish);
    await fx.settle();
    expect((await fx.h.store.getGrant(alanGrant))!.status).toBe('revoking');
    // The message still shows I'm done: it changes when the revocation completes.
    const alanActive = activeMessage('alan');
    expect(hasAction(alanActive, ACTION.relinquish)).toBe(true);

    const adaMessages = await fx.h.store.messages.forRequest(adaRequest);
    const alanMessages = (await fx.h.store.messages.forRequest(alanRequest)).map((m) => m.slot).sort();
    expect(adaMessages.length).toBeGreaterThan(0);
    expect(alanMessages.length).toBeGreaterThan(0);
    const adaJobs = [
      `provision:${adaGrant}`,
      `revoke:${adaGrant}`,
      `notify:active:${adaGrant}`,
      `notify:revoked:${adaGrant}`,
    ];
    for (const key of adaJobs) expect((await fx.h.store.getJobByKey(key))?.status).toBe('done');
    const eventsBefore = await fx.h.store.auditEvents({ limit: 100_000 });
    const dmChannels = await fx.h.store.metaWithPrefix('slack:dm:');
    expect(dmChannels.length).toBeGreaterThan(0);
    const health = createHealthCheck(fx.h.deps, { tablesTtlMs: 0 });
    const sizesBefore = (await health()).body.tables!;

    // 89 days later nothing is old enough yet.
    fx.h.clock.advance(89 * DAY);
    expect((await sweep(fx.h.deps, JOBS)).pruned).toEqual({ jobs: 0, messages: 0 });

    // Past the retention (90 days in settings.yml): Ada's finished records go, Alan's open ones stay.
    fx.h.clock.advance(2 * DAY);
    const summary = await sweep(fx.h.deps, JOBS);
    expect(summary.pruned.jobs).toBeGreaterThanOrEqual(adaJobs.length);
    expect(summary.pruned.messages).toBe(adaMessages.length);
    for (const key of adaJobs) expect(await fx.h.store.getJobByKey(key)).toBeUndefined();
    expect(await fx.h.store.messages.forRequest(adaRequest)).toEqual([]);
    // (plus the overdue alert about it, posted meanwhile)
    expect((await fx.h.store.messages.forRequest(alanRequest)).map((m) => m.slot)).toEqual(
      expect.arrayContaining(alanMessages),
    );
    expect((await fx.h.store.getJobByKey(`revoke:${alanGrant}`))?.status).toBe('pending');
    // The DM channels are remembered still, and not one audit event went.
    expect(await fx.h.store.metaWithPrefix('slack:dm:')).toEqual(dmChannels);
    const eventsAfter = await fx.h.store.auditEvents({ limit: 100_000 });
    expect(eventsAfter.slice(0, eventsBefore.length)).toEqual(eventsBefore);
    expect(verifyChain(eventsAfter).ok).toBe(true);
    const sizesAfter = (await health()).body.tables!;
    expect(sizesAfter.jobs).toBeLessThan(sizesBefore.jobs!);
    // Ada's records went; the alerts about Alan's revocation posted meanwhile are all that came.
    const alerts = (await fx.h.store.messages.withSlotPrefix('job:notify:alert:')).length;
    expect(alerts).toBeGreaterThan(0);
    expect(sizesAfter.slack_messages).toBe(sizesBefore.slack_messages! - summary.pruned.messages + alerts);
    expect(sizesAfter.audit_events).toBeGreaterThanOrEqual(sizesBefore.audit_events!);

    // When the application finally answers, Alan's revocation completes and the messages kept for
    // it are brought up to date: the ended message arrives, the earlier ones lose their buttons.
    fx.h.clock.advance(DAY);
    await sweep(fx.h.deps, JOBS);
    await fx.settle();
    expect((await fx.h.store.getGrant(alanGrant))!.status).toBe('revoked');
    expect(fx.dms('alan').some((m) => m.text.includes('ended (relinquished)'))).toBe(true);
    const updated = fx.slack.workspace.findMessage(alanActive.channel, alanActive.ts)!;
    expect(hasAction(updated, ACTION.relinquish)).toBe(false);
    expect(updated.text).toContain('has ended');
  });
});
