/**
 * What Revoke does, with proof that the access is gone:
 * - a grant: its revocation starts (reason `review`) through the usual path, whose effect runs as
 *   a job from the grant's provisioning snapshot and is recorded only once the provider confirms
 *   it; `completeRevocation` then marks the item removed, tied to the `grant.revoked` event.
 * - standing membership, `remediate: remove`: a job removes the person from the group through the
 *   directory, which reads the membership back (the one case where the bot removes what it did
 *   not add, because a reviewer decided it); audited as the reviewer's decision.
 * - standing membership, `remediate: report`: the alerts channel is asked to remove it by hand,
 *   and the reconcile schedule marks it removed once it finds the membership gone.
 */
import { systemActor, type Actor } from '../../domain/audit.js';
import { PermanentError } from '../../domain/errors.js';
import { accessLabel, type ReviewCampaign, type ReviewItem } from '../../domain/reviews/review-records.js';
import { OPEN_GRANT_STATUSES } from '../../domain/records.js';
import { nowIso, type Deps } from '../context.js';
import { alert, membershipSubject, notifyReviewChange, startRevocation } from '../lifecycle.js';
import type { StoreTx } from '../ports.js';
import { campaignTerms } from '../../domain/reviews/review-version.js';

export interface Revoker {
  actor: Actor;
  /** An email or `system:<component>`, for the grant's `revokedBy`. */
  by: string;
  reason: string;
}

/** Starts the removal an item's Revoke (or an undecided item revoked at the due time) asks for. */
export async function applyRevoke(
  tx: StoreTx,
  deps: Pick<Deps, 'settings'>,
  now: string,
  campaign: ReviewCampaign,
  item: ReviewItem,
  revoker: Revoker,
): Promise<void> {
  const note = `access review ${campaign.reviewName} (${campaign.id}): ${revoker.reason}`.slice(0, 1000);
  if (item.source.kind === 'grant') {
    const grant = await tx.getGrant(item.source.grantId);
    if (grant && grant.status !== 'revoked') {
      // Already being revoked (expiry, an admin): that revocation's confirmation settles the item too.
      if (grant.status !== 'revoking') await startRevocation(tx, now, grant, 'review', revoker.actor, note);
      await tx.updateReviewItem(
        item.id,
        {},
        { remediation: 'pending', remediationDetail: `revocation of grant ${grant.id} started` },
      );
      return;
    }
    const ended = grant ? await endedEvent(tx, grant.id) : undefined;
    await tx.updateReviewItem(
      item.id,
      {},
      {
        remediation: 'removed',
        remediatedAt: grant?.revokedAt ?? now,
        remediationEventSeq: ended ?? null,
        remediationDetail: grant
          ? `grant ${grant.id} had already ended (${grant.revocationReason ?? 'revoked'})`
          : 'the grant no longer exists',
      },
    );
    return;
  }
  if (item.access.kind !== 'group') return;
  const group = item.access.group;
  if (campaignTerms(campaign).remediate === 'remove') {
    await tx.enqueueJob(
      `review-remove:${item.id}`,
      { kind: 'reviewRemoval', itemId: item.id },
      now,
      membershipSubject(group, item.holder.directoryId),
    );
    await tx.updateReviewItem(
      item.id,
      {},
      { remediation: 'pending', remediationDetail: `removal from ${group} queued` },
    );
    return;
  }
  await tx.updateReviewItem(
    item.id,
    {},
    { remediation: 'pending', remediationDetail: `reported for removal from ${group} by hand` },
  );
  await tx.appendAudit({
    at: now,
    actor: revoker.actor,
    action: 'reviewItem.reportedForRemoval',
    details: { campaign: campaign.id, item: item.id, holder: item.holder.email, group },
  });
  await alert(
    tx,
    now,
    deps.settings.alertsChannel,
    `review-report:${item.id}`,
    `Access review ${campaign.reviewName}: remove ${item.holder.name} (${item.holder.email}) from ${group} by hand (${revoker.reason}). ` +
      'The bot marks it done once a reconcile finds the membership gone.',
  );
}

async function endedEvent(tx: StoreTx, grantId: string): Promise<number | undefined> {
  return (await tx.auditEventsFor({ grantId })).filter((e) => e.action === 'grant.revoked').at(-1)?.seq;
}

/**
 * The removal job of a standing membership (`remediate: remove`): through the directory, which
 * resolves only once the membership reads back gone. A membership the bot now holds for a grant
 * (granted after the review started) is not the reviewer's to take: that is reported instead.
 */
export async function executeReviewRemoval(deps: Deps, itemId: string): Promise<void> {
  const item = await deps.store.getReviewItem(itemId);
  if (!item || item.remediation !== 'pending' || item.access.kind !== 'group') return;
  const group = item.access.group;
  const holder = item.holder.directoryId;
  const ours = (
    await deps.store.grantsThroughGroup(group, { holderId: holder, status: [...OPEN_GRANT_STATUSES] })
  ).filter((g) => g.alreadyMember === false);
  if (ours.length > 0) {
    const grants = ours.map((g) => `${g.app}/${g.role} ${g.id}`).join(', ');
    await recordFailure(
      deps,
      item,
      `${item.holder.email} now holds ${group} through ${grants}, granted after the review started; revoke that grant, or remove the membership by hand`,
    );
    return;
  }
  await deps.directory.removeFromGroup(holder, group);
  const now = nowIso(deps);
  await deps.store.transaction(async (tx) => {
    const fresh = (await tx.getReviewItem(item.id))!;
    const detail = `removed from ${group} through the directory (${deps.directory.kind}); the membership read back gone`;
    const actor: Actor = fresh.decidedBy
      ? {
          kind: 'person',
          directoryId: fresh.decidedBy.directoryId,
          email: fresh.decidedBy.email,
          ...(fresh.decidedBy.slackId ? { slackId: fresh.decidedBy.slackId } : {}),
        }
      : systemActor('review');
    const settled = { remediation: 'removed' as const, remediatedAt: now, remediationDetail: detail };
    if (!(await tx.updateReviewItem(item.id, { remediation: ['pending', 'failed'] }, settled))) return;
    const event = await tx.appendAudit({
      at: now,
      actor,
      action: 'reviewItem.remediated',
      details: {
        campaign: item.campaignId,
        item: item.id,
        holder: item.holder.email,
        access: accessLabel(item.access),
        effect: 'removed by the bot on the review decision',
        decision: fresh.decision,
        verifiedAt: now,
      },
    });
    await tx.updateReviewItem(item.id, {}, { remediationEventSeq: event.seq });
    await notifyReviewChange(tx, now, item.campaignId, item.id, 'remediated');
  });
}

/** The job runner's failure hook: retry while worth it; then the item needs a person, and the alerts channel hears. */
export async function recordRemovalFailure(
  deps: Deps,
  itemId: string,
  error: unknown,
  attempts: number,
  maxAttempts: number,
): Promise<boolean> {
  const message = error instanceof Error ? error.message : String(error);
  if (!(error instanceof PermanentError) && attempts < maxAttempts) return true;
  const item = await deps.store.getReviewItem(itemId);
  if (item) await recordFailure(deps, item, `${message} (after ${attempts} attempt${attempts === 1 ? '' : 's'})`);
  return false;
}

async function recordFailure(deps: Deps, item: ReviewItem, why: string): Promise<void> {
  const now = nowIso(deps);
  await deps.store.transaction(async (tx) => {
    if (
      !(await tx.updateReviewItem(
        item.id,
        { remediation: ['pending'] },
        { remediation: 'failed', remediationDetail: why.slice(0, 1000) },
      ))
    )
      return;
    await tx.appendAudit({
      at: now,
      actor: systemActor('review'),
      action: 'reviewItem.remediationFailed',
      details: {
        campaign: item.campaignId,
        item: item.id,
        holder: item.holder.email,
        access: accessLabel(item.access),
        error: why,
      },
    });
    await alert(
      tx,
      now,
      deps.settings.alertsChannel,
      `review-removal-failed:${item.id}`,
      `An access review decided to remove ${item.holder.name} (${item.holder.email}) from ${accessLabel(item.access)}, and the bot could not: ${why}. ` +
        'Remove it by hand; the next reconcile marks it done once the membership is gone.',
    );
    await notifyReviewChange(tx, now, item.campaignId, item.id, 'failed');
  });
}

/**
 * For the reconcile schedule: standing memberships a review decided to remove and nobody verified
 * yet (reported for a person, or failed) are checked against the directory; gone means removed.
 */
export async function verifyReviewRemovals(deps: Deps, limit = 1000): Promise<{ checked: number; verified: number }> {
  const items = await deps.store.unverifiedRemovals(limit);
  let verified = 0;
  for (const item of items) {
    if (item.access.kind !== 'group') continue;
    let member: boolean;
    try {
      member = await deps.directory.isMember(item.holder.directoryId, item.access.group);
    } catch (error) {
      deps.logger.warn('reconcile: could not check a membership an access review removed; checked again next run', {
        item: item.id,
        error,
      });
      continue;
    }
    if (member) continue;
    const now = nowIso(deps);
    const group = item.access.group;
    const done = await deps.store.transaction(async (tx) => {
      const detail = `${item.remediationDetail ?? 'removal asked for'}; verified gone from ${group} by the reconcile at ${now}`;
      const settled = { remediation: 'removed' as const, remediatedAt: now, remediationDetail: detail.slice(0, 1000) };
      if (!(await tx.updateReviewItem(item.id, { remediation: ['pending', 'failed'] }, settled))) return false;
      const event = await tx.appendAudit({
        at: now,
        actor: systemActor('reconcile'),
        action: 'reviewItem.remediated',
        details: {
          campaign: item.campaignId,
          item: item.id,
          holder: item.holder.email,
          access: accessLabel(item.access),
          verifiedBy: 'reconcile: not a member',
        },
      });
      await tx.updateReviewItem(item.id, {}, { remediationEventSeq: event.seq });
      await notifyReviewChange(tx, now, item.campaignId, item.id, 'remediated');
      return true;
    });
    if (done) verified++;
  }
  return { checked: items.length, verified };
}
