/**
 * Access reviews through the operations, on a real SQLite file and the YAML directory: what the
 * Slack end-to-end test does not reach (remediate: report and the reconcile that verifies it, a
 * removal that fails, undecided items kept, schedule slots, the close by hand).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PermanentError } from '../../src/domain/errors.js';
import type { LoadedReview } from '../../src/domain/reviews/review-definition.js';
import type { ReviewItem } from '../../src/domain/reviews/review-records.js';
import { reconcile } from '../../src/operations/reconcile.js';
import { closeReview } from '../../src/operations/reviews/close-review.js';
import { decideReviewItem, keepRest, markSeen } from '../../src/operations/reviews/decide-review-item.js';
import { startReview, startScheduledReview } from '../../src/operations/reviews/start-review.js';
import { sweep } from '../../src/operations/sweep.js';
import { createHarness, type Harness } from '../support/lifecycle-harness.js';

const DAY = 86_400;
const REVIEW: LoadedReview = {
  id: 'helpdesk',
  name: 'Help desk membership',
  schedule: '0 9 1 * *',
  scope: { roles: [], groups: ['it-helpdesk'] },
  reviewer: { kind: 'manager' },
  fallbackReviewer: { kind: 'group', group: 'access-admins' },
  dueSeconds: 7 * DAY,
  remindersSeconds: [],
  undecided: 'keep',
  remediate: 'report',
  source: { file: 'policies/reviews/helpdesk.yml' },
};

let h: Harness;
beforeEach(() => {
  h = createHarness({
    reviews: [
      REVIEW,
      { ...REVIEW, id: 'helpdesk-remove', remediate: 'remove' },
      { ...REVIEW, id: 'helpdesk-admins', reviewer: { kind: 'group', group: 'access-admins' } },
    ],
  });
});
afterEach(async () => {
  await h.close();
});

const allEvents = () => h.store.auditEventsBetween('2000-01-01', '2100-01-01');

async function started(reviewId = 'helpdesk'): Promise<ReviewItem[]> {
  const { campaign } = await startReview(h.deps, {
    reviewId,
    by: { kind: 'system', component: 'test' },
    trigger: 'command_line',
  });
  return h.store.reviewItems(campaign.id, { after: -1, limit: 100 });
}

const itemOf = (items: ReviewItem[], email: string) => items.find((i) => i.holder.email === email)!;

async function revoke(item: ReviewItem, by: string, reason = 'not on the help desk any more'): Promise<void> {
  await decideReviewItem(h.deps, { actor: await h.as(by), itemId: item.id, decision: 'revoke', reason });
}

describe('access reviews: remediation, the close, schedules', () => {
  it('remediate: report asks the alerts channel, and the reconcile marks it removed once the membership is gone', async () => {
    const items = await started();
    expect(items.map((i) => i.holder.email)).toEqual(['ada@example.com', 'ian@example.com', 'priya@example.com']);
    await revoke(itemOf(items, 'ian@example.com'), 'priya@example.com');
    await h.runJobs();
    const reported = (await h.store.getReviewItem(itemOf(items, 'ian@example.com').id))!;
    expect(reported).toMatchObject({
      decision: 'revoke',
      remediation: 'pending',
      remediationDetail: 'reported for removal from it-helpdesk by hand',
    });
    const alerts = h.notifier.delivered
      .filter((d) => d.notification.type === 'alert')
      .map((d) => JSON.stringify(d.notification));
    expect(alerts.some((a) => a.includes('remove Ian Murdock (ian@example.com) from it-helpdesk by hand'))).toBe(true);
    // The bot did not touch the group.
    expect(await h.yaml.isMember('u-ian', 'it-helpdesk')).toBe(true);

    // Still a member: the reconcile leaves it pending.
    await reconcile(h.deps);
    expect((await h.store.getReviewItem(reported.id))!.remediation).toBe('pending');
    // Removed by hand in the directory: the next reconcile verifies it.
    h.clock.advance(3600);
    await h.yaml.removeFromGroup('u-ian', 'it-helpdesk');
    await reconcile(h.deps);
    const verified = (await h.store.getReviewItem(reported.id))!;
    expect(verified.remediation).toBe('removed');
    expect(verified.remediatedAt).toBe(h.clock.now().toISOString());
    const event = (await allEvents()).find((e) => e.seq === verified.remediationEventSeq)!;
    expect(event).toMatchObject({ action: 'reviewItem.remediated', actor: { kind: 'system', component: 'reconcile' } });
  });

  it('a removal the directory refuses is failed, told to the alerts channel, and later verified by the reconcile', async () => {
    const items = await started('helpdesk-remove');
    h.directory.failNext('removeFromGroup', new PermanentError('group it-helpdesk is not manageable'));
    await revoke(itemOf(items, 'ada@example.com'), 'marcus@example.com');
    await h.runJobs();
    const failed = (await h.store.getReviewItem(itemOf(items, 'ada@example.com').id))!;
    expect(failed.remediation).toBe('failed');
    expect(failed.remediationDetail).toContain('group it-helpdesk is not manageable');
    const alerts = h.notifier.delivered
      .filter((d) => d.notification.type === 'alert')
      .map((d) => JSON.stringify(d.notification));
    expect(alerts.some((a) => a.includes('the bot could not: group it-helpdesk is not manageable'))).toBe(true);
    expect(await h.yaml.isMember('u-ada', 'it-helpdesk')).toBe(true);
    await h.yaml.removeFromGroup('u-ada', 'it-helpdesk');
    await reconcile(h.deps);
    expect((await h.store.getReviewItem(failed.id))!.remediation).toBe('removed');
  });

  it('at the due time undecided items are kept (undecided: keep), and a decision after it is refused', async () => {
    const items = await started();
    await decideReviewItem(h.deps, {
      actor: await h.as('marcus@example.com'),
      itemId: itemOf(items, 'ada@example.com').id,
      decision: 'keep',
    });
    h.clock.advance(7 * DAY);
    await expect(
      decideReviewItem(h.deps, {
        actor: await h.as('priya@example.com'),
        itemId: itemOf(items, 'ian@example.com').id,
        decision: 'keep',
      }),
    ).rejects.toMatchObject({ code: 'review_closed' });
    await sweep(h.deps, { worker: 'test', baseDelaySeconds: 1, random: () => 0.999999 });
    const after = await h.store.reviewItems(items[0]!.campaignId, { after: -1, limit: 100 });
    expect(after.map((i) => [i.holder.email, i.decision, i.remediation])).toEqual([
      ['ada@example.com', 'keep', 'none'],
      ['ian@example.com', 'undecided', 'none'],
      ['priya@example.com', 'undecided', 'none'],
    ]);
    expect(await h.yaml.isMember('u-ian', 'it-helpdesk')).toBe(true);
    const left = (await allEvents()).filter((e) => e.action === 'reviewItem.leftUndecided');
    expect(left.map((e) => e.details.outcome)).toEqual(['kept', 'kept']);
    const closed = (await allEvents()).find((e) => e.action === 'review.closed')!;
    expect(closed.details).toMatchObject({ counts: { items: 3, kept: 1, undecided: 2, decidedOnTime: 1 } });
    // The sweep's own job pass published the summary, with the campaign's CSV.
    expect(h.notifier.reviewSummaries.map((s) => s.summary.counts.undecided)).toEqual([2]);
    expect(h.notifier.reviewSummaries[0]!.attachment?.summary.rows).toBe(3);
  });

  it('a schedule slot starts one campaign, however often it fires; a start that cannot run tells the alerts channel', async () => {
    const slot = '2026-04-01T07:00:00.000Z';
    const first = await startScheduledReview(h.deps, 'helpdesk', slot);
    expect(first?.campaign).toMatchObject({ trigger: 'schedule', slot, startedBy: 'system:schedule' });
    expect(await startScheduledReview(h.deps, 'helpdesk', slot)).toBeNull();
    await closeReview(h.deps, { campaignId: first!.campaign.id, by: { kind: 'system', component: 'test' } });
    // Closed, the same slot still does not run twice; the next slot does.
    expect(await startScheduledReview(h.deps, 'helpdesk', slot)).toBeNull();
    expect(await startScheduledReview(h.deps, 'helpdesk', '2026-05-01T07:00:00.000Z')).not.toBeNull();
    await h.runJobs();
    const alerts = h.notifier.delivered
      .filter((d) => d.notification.type === 'alert')
      .map((d) => JSON.stringify(d.notification));
    expect(
      alerts.filter((a) =>
        a.includes('The scheduled access review helpdesk (slot 2026-04-01T07:00:00.000Z) did not start'),
      ),
    ).toHaveLength(1);
    expect(await h.store.listReviewCampaigns({ reviewId: 'helpdesk' })).toHaveLength(2);
  });

  it('Keep the rest records for each item the time since that item was first seen, whatever its place in the list', async () => {
    // Grace (an access admin) reviews all three memberships. She saw Ada's and Priya's items in a
    // list shown to her; Ian's she never saw before her click.
    const items = await started('helpdesk-admins');
    const ada = itemOf(items, 'ada@example.com');
    const ian = itemOf(items, 'ian@example.com');
    const priya = itemOf(items, 'priya@example.com');
    const seenAt = h.clock.now().toISOString();
    await markSeen(h.deps, 'u-grace', [ada.id, priya.id]);
    h.clock.advance(30);

    const result = await keepRest(h.deps, {
      actor: await h.as('ciso@example.com'),
      campaignId: ada.campaignId,
      seen: { page: 0, size: 10 },
    });

    expect(result).toEqual({ kept: 3, skipped: [] });
    const decided = async (item: ReviewItem) => (await h.store.getReviewItem(item.id))!.secondsToDecision;
    // Ian's item comes between the two seen ones: his time is unknown, not zero, and Priya's is
    // not shortened by the click having marked the page seen.
    expect([await decided(ada), await decided(ian), await decided(priya)]).toEqual([30, null, 30]);
    const kept = (await allEvents()).filter((e) => e.action === 'reviewItem.kept');
    expect(kept.map((e) => [e.details.item, e.details.secondsToDecision, e.details.firstSeenAt])).toEqual([
      [ada.id, 30, seenAt],
      [ian.id, null, null],
      [priya.id, 30, seenAt],
    ]);
    // The click is Grace's first look at Ian's item: it is now recorded as seen.
    const ianSeen = (await h.store.assignmentsOf(ian.id)).find((a) => a.reviewerId === 'u-grace');
    expect(ianSeen?.firstSeenAt).toBe(h.clock.now().toISOString());
  });
});
