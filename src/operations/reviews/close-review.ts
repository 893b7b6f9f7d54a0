/**
 * Closes a campaign: at its due time (the sweep) or by hand (`reviews close`). Items nobody decided
 * become `undecided` and are kept or revoked as the review says; the rules are reviewed too (the
 * eligibility and approver groups of each sensitive role in scope, with their members now); the
 * `review.closed` event carries the counts; the summary goes to the security channel with the
 * evidence CSV; every reviewer's list says it closed. Clicks after this are refused.
 */
import { systemActor } from '../../domain/audit.js';
import { AccessError } from '../../domain/errors.js';
import { accessLabel, type ReviewCampaign, type RuleReviewed } from '../../domain/reviews/review-records.js';
import { addCounts, countItems, NO_COUNTS, type ReviewCounts } from '../../domain/reviews/review-summary.js';
import { nowIso, type Deps } from '../context.js';
import { notify, summaryKey } from '../lifecycle.js';
import type { StoreTx } from '../ports.js';
import { assertAdmin } from '../revoke-grant.js';
import { applyRevoke } from './review-remediation.js';
import { actorText, auditActor, type ReviewActor } from './review-actor.js';
import { campaignTerms } from '../../domain/reviews/review-version.js';

const BATCH = 500;

export async function closeReview(
  deps: Deps,
  input: { campaignId: string; by: ReviewActor },
): Promise<{ campaign: ReviewCampaign; counts: ReviewCounts }> {
  if (input.by.kind === 'admin') await assertAdmin(deps, input.by.admin);
  const campaign = await deps.store.getReviewCampaign(input.campaignId);
  if (!campaign) throw new AccessError('not_found', `There is no review campaign ${input.campaignId}.`);
  if (campaign.status === 'closed')
    throw new AccessError(
      'review_closed',
      `Campaign ${campaign.id} of ${campaign.reviewName} already closed at ${campaign.closedAt}.`,
    );
  const rules = await rulesReviewed(deps, campaign);
  const now = nowIso(deps);
  const actor = auditActor(input.by);
  const { undecided } = campaignTerms(campaign);
  // The campaign as this close leaves it: the conditional update below is the only change.
  const closing = { status: 'closed', closedAt: now, closedBy: actorText(input.by), rules } as const;
  const closed: ReviewCampaign = { ...campaign, ...closing };
  const counts = await deps.store.transaction(async (tx) => {
    if (!(await tx.updateReviewCampaign(campaign.id, ['open'], closing))) {
      throw new AccessError('review_closed', `Campaign ${campaign.id} of ${campaign.reviewName} closed a moment ago.`);
    }
    for (let after = -1; ;) {
      const batch = await tx.reviewItems(campaign.id, { after, limit: BATCH, decision: ['pending'] });
      for (const item of batch) {
        await tx.updateReviewItem(item.id, { decision: ['pending'] }, { decision: 'undecided' });
        await tx.appendAudit({
          at: now,
          actor: systemActor('review'),
          action: 'reviewItem.leftUndecided',
          grantId: item.source.kind === 'grant' ? item.source.grantId : null,
          details: {
            campaign: campaign.id,
            item: item.id,
            holder: item.holder.email,
            access: accessLabel(item.access),
            outcome: undecided === 'revoke' ? 'revoked' : 'kept',
          },
        });
        if (undecided === 'revoke') {
          const reason = `nobody decided it by the due time, and the review revokes undecided items`;
          await applyRevoke(tx, deps, now, closed, item, { actor: systemActor('review'), by: 'system:review', reason });
        }
      }
      if (batch.length < BATCH) break;
      after = batch.at(-1)!.position;
    }
    const totals = await countAll(tx, closed);
    await tx.appendAudit({
      at: now,
      actor,
      action: 'review.closed',
      details: {
        review: campaign.reviewId,
        campaign: campaign.id,
        population: { count: campaign.populationCount, hash: campaign.populationHash },
        dueAt: campaign.dueAt,
        undecided,
        counts: totals,
        rules,
      },
    });
    const channel = deps.settings.securityChannel;
    await notify(tx, now, summaryKey(campaign.id, 'closed'), {
      type: 'review.summary',
      recipient: { kind: 'channel', channel },
      campaignId: campaign.id,
    });
    for (const r of await tx.reviewersOf(campaign.id)) {
      const recipient = { kind: 'person' as const, directoryId: r.reviewer.directoryId };
      await notify(tx, now, `review-updated:${campaign.id}:${r.reviewer.directoryId}:closed`, {
        type: 'review.updated',
        recipient,
        campaignId: campaign.id,
      });
    }
    return totals;
  });
  return { campaign: closed, counts };
}

/** For the sweep: every campaign past its due time closes. */
export async function closeDueReviews(deps: Deps): Promise<number> {
  let closed = 0;
  for (const campaign of await deps.store.dueReviewCampaigns(nowIso(deps), 50)) {
    try {
      await closeReview(deps, { campaignId: campaign.id, by: { kind: 'system', component: 'sweep' } });
      closed++;
    } catch (error) {
      // Closed by another process a moment ago: nothing to do.
      if (error instanceof AccessError && error.code === 'review_closed') continue;
      throw error;
    }
  }
  return closed;
}

export async function countAll(reads: Pick<StoreTx, 'reviewItems'>, campaign: ReviewCampaign): Promise<ReviewCounts> {
  let counts = NO_COUNTS;
  for (let after = -1; ;) {
    const batch = await reads.reviewItems(campaign.id, { after, limit: BATCH });
    counts = addCounts(counts, countItems(campaign, batch));
    if (batch.length < BATCH) return counts;
    after = batch.at(-1)!.position;
  }
}

/**
 * The rules reviewed too (SOC 2 CC6.3): for each sensitive role in scope, who may ask for it
 * (eligibility groups) and who approves it (approver groups), each with its members now. A group
 * the directory cannot list is recorded with the error: the close does not wait for the directory.
 */
async function rulesReviewed(deps: Deps, campaign: ReviewCampaign): Promise<RuleReviewed[]> {
  const scope = campaignTerms(campaign).scopeRoles;
  const rules: RuleReviewed[] = [];
  const members = new Map<string, Promise<{ members: string[] | null; error?: string }>>();
  const membersOf = (group: string) => {
    let known = members.get(group);
    if (!known) {
      known = deps.directory.membersOf(group).then(
        // An inactive member still in a group is a finding of its own: shown with its status.
        (people) => ({ members: people.map((p) => (p.active ? p.email : `${p.email} (${p.status})`)).sort() }),
        (error: unknown) => ({ members: null, error: error instanceof Error ? error.message : String(error) }),
      );
      members.set(group, known);
    }
    return known;
  };
  for (const ref of scope) {
    const [app, role] = ref.split('/') as [string, string];
    const entry = deps.catalog.find(app, role);
    if (!entry || !entry.role.sensitive) continue;
    const groups: RuleReviewed['groups'] = [];
    for (const group of entry.role.eligibleGroups)
      groups.push({ group, use: 'eligibility', ...(await membersOf(group)) });
    if (entry.role.approval !== 'auto') {
      for (const step of entry.role.approval)
        if (step.kind === 'group')
          groups.push({ group: step.group, use: 'approval', ...(await membersOf(step.group)) });
    }
    rules.push({ app, role, roleName: entry.role.name, policy: entry.role.policy, version: entry.version, groups });
  }
  return rules;
}
