/**
 * Reminders before a campaign's due time, once per lead time, to the reviewers who still have
 * undecided items, and only to them: the sweep re-derives who is owed one from the database each
 * time (like the grants' reminders), and the message itself is skipped if the reviewer finished
 * before it went out.
 */
import { campaignTerms } from '../../domain/reviews/review-version.js';
import { nowIso, type Deps } from '../context.js';
import { notify } from '../lifecycle.js';

export async function sendReviewReminders(deps: Deps): Promise<number> {
  const now = nowIso(deps);
  const nowMs = Date.parse(now);
  let sent = 0;
  for (const campaign of await deps.store.listReviewCampaigns({ status: ['open'], limit: 1000 })) {
    const left = (Date.parse(campaign.dueAt) - nowMs) / 1000;
    if (left <= 0) continue;
    const reached = campaignTerms(campaign).remindersSeconds.filter((lead) => left <= lead);
    if (reached.length === 0) continue;
    const owed = (await deps.store.reviewerProgress(campaign.id)).filter((p) => p.pending > 0);
    if (owed.length === 0) continue;
    sent += await deps.store.transaction(async (tx) => {
      let n = 0;
      const reviewers = new Map((await tx.reviewersOf(campaign.id)).map((r) => [r.reviewer.directoryId, r]));
      for (const progress of owed) {
        const reviewer = reviewers.get(progress.reviewerId);
        if (!reviewer) continue;
        const due = reached.filter((lead) => !reviewer.remindersSent.includes(lead));
        if (due.length === 0) continue;
        // The shortest lead reached is the one to send; longer ones passed unsent are skipped.
        const lead = Math.min(...due);
        await tx.updateReviewer(campaign.id, progress.reviewerId, {
          remindersSent: [...new Set([...reviewer.remindersSent, ...due])],
        });
        await tx.appendAudit({
          at: now,
          actor: { kind: 'system', component: 'sweep' },
          action: 'review.reminded',
          details: {
            campaign: campaign.id,
            review: campaign.reviewId,
            reviewer: reviewer.reviewer.email,
            leadSeconds: lead,
            pending: progress.pending,
          },
        });
        const recipient = { kind: 'person' as const, directoryId: progress.reviewerId };
        await notify(tx, now, `review-reminder:${campaign.id}:${progress.reviewerId}:${lead}`, {
          type: 'review.reminder',
          recipient,
          campaignId: campaign.id,
          leadSeconds: lead,
        });
        n++;
      }
      return n;
    });
  }
  return sent;
}
