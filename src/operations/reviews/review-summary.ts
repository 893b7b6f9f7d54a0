/**
 * A campaign's summary read from the store: the counts, each reviewer's progress, each decider's
 * decisions with the rubber-stamp signal, and the removals not verified yet. Read in batches, so a
 * campaign of any size is summarised in flat memory.
 */
import { AccessError } from '../../domain/errors.js';
import { accessLabel } from '../../domain/reviews/review-records.js';
import {
  addCounts,
  countItems,
  NO_COUNTS,
  RUBBER_STAMP_SECONDS,
  type DeciderLine,
  type RemovalLine,
  type ReviewSummary,
} from '../../domain/reviews/review-summary.js';
import type { Deps } from '../context.js';

const BATCH = 1000;
/** Removals listed in the summary before "and N more" (the CSV has all of them). */
const REMOVALS_SHOWN = 15;

export async function buildReviewSummary(deps: Pick<Deps, 'store'>, campaignId: string): Promise<ReviewSummary> {
  const campaign = await deps.store.getReviewCampaign(campaignId);
  if (!campaign) throw new AccessError('not_found', `There is no review campaign ${campaignId}.`);
  let counts = NO_COUNTS;
  const deciders = new Map<string, DeciderLine>();
  const removals: RemovalLine[] = [];
  let removalsNotShown = 0;
  for (let after = -1; ;) {
    const batch = await deps.store.reviewItems(campaign.id, { after, limit: BATCH });
    counts = addCounts(counts, countItems(campaign, batch));
    for (const item of batch) {
      if (item.decidedBy && (item.decision === 'keep' || item.decision === 'revoke')) {
        const line = deciders.get(item.decidedBy.directoryId) ?? {
          name: item.decidedBy.name,
          email: item.decidedBy.email,
          decided: 0,
          kept: 0,
          keptQuickly: 0,
        };
        line.decided++;
        if (item.decision === 'keep') {
          line.kept++;
          if (item.secondsToDecision !== null && item.secondsToDecision < RUBBER_STAMP_SECONDS) line.keptQuickly++;
        }
        deciders.set(item.decidedBy.directoryId, line);
      }
      if (item.remediation === 'pending' || item.remediation === 'failed') {
        if (removals.length < REMOVALS_SHOWN) {
          removals.push({
            holderName: item.holder.name,
            holderEmail: item.holder.email,
            access: accessLabel(item.access),
            status: item.remediation,
            detail: item.remediationDetail,
          });
        } else removalsNotShown++;
      }
    }
    if (batch.length < BATCH) break;
    after = batch.at(-1)!.position;
  }
  const progress = new Map((await deps.store.reviewerProgress(campaign.id)).map((p) => [p.reviewerId, p]));
  const reviewers = (await deps.store.reviewersOf(campaign.id)).map((r) => {
    const p = progress.get(r.reviewer.directoryId);
    return {
      name: r.reviewer.name,
      email: r.reviewer.email,
      assigned: p?.assigned ?? r.items,
      pending: p?.pending ?? 0,
      decided: p?.decided ?? 0,
    };
  });
  return {
    campaign,
    counts,
    reviewers,
    deciders: [...deciders.values()].sort((a, b) => b.keptQuickly - a.keptQuickly || a.email.localeCompare(b.email)),
    removals,
    removalsNotShown,
  };
}
