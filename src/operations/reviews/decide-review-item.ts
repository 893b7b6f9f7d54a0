/**
 * A reviewer decides an item: Keep, Revoke (with a reason), or Keep the rest of their list.
 * Authorisation comes from stored state and live directory data, never from the button: the
 * campaign must be open and not past its due time, the item undecided, the person active, not the
 * holder, and still what made them its reviewer (the holder's manager, the named user, a member
 * of the group). Two reviewers racing: the conditional update decides, and the loser is told.
 *
 * Each decision records how long after the reviewer first saw the item it came (the rubber-stamp
 * signal): the items of the page a click came from count as seen at the click, if not before, as
 * do items shown by `/access review`, the App Home, or a page turned to. A decision with no look
 * observed before it records no time (null) rather than zero.
 * Revoke on a grant starts its revocation (reason `review`) through the usual verified path; on
 * standing membership it queues the removal (`remediate: remove`) or reports it for a person
 * (`remediate: report`). Every reviewer whose list holds the item gets it updated.
 */
import { AccessError } from '../../domain/errors.js';
import type { Person } from '../../domain/person.js';
import type { ReviewCampaign, ReviewItem } from '../../domain/reviews/review-records.js';
import { accessLabel } from '../../domain/reviews/review-records.js';
import { whyNotReviewer, type DeciderFacts } from '../../domain/reviews/reviewers.js';
import { assertTextWithin, TEXT_LIMITS } from '../../domain/text-limits.js';
import { actorOf, personRef, type ActingPerson } from '../acting-person.js';
import { nowIso, type Deps } from '../context.js';
import { forEachLimited } from '../for-each-limited.js';
import { notify, notifyReviewChange } from '../lifecycle.js';
import type { StoreTx } from '../ports.js';
import { applyRevoke } from './review-remediation.js';

/** The items of the reviewer's list the click came from (a page of `size` items), seen at the click. */
export interface SeenPage {
  page: number;
  size: number;
}

export interface DecideInput {
  actor: ActingPerson;
  itemId: string;
  decision: 'keep' | 'revoke';
  reason?: string;
  seen?: SeenPage;
}

export interface DecideResult {
  item: ReviewItem;
  campaign: ReviewCampaign;
}

export async function decideReviewItem(deps: Deps, input: DecideInput): Promise<DecideResult> {
  const item = await deps.store.getReviewItem(input.itemId);
  if (!item) throw new AccessError('not_found', 'This review item no longer exists.');
  const campaign = (await deps.store.getReviewCampaign(item.campaignId))!;
  assertTextWithin(input.reason, TEXT_LIMITS.reason, 'The reason');
  const reason = (input.reason ?? '').trim();
  if (input.decision === 'revoke' && !reason) {
    throw new AccessError(
      'reason_required',
      'Please say why the access should go; the holder and the evidence keep your reason.',
    );
  }
  const now = nowIso(deps);
  assertOpen(campaign, now);
  assertPending(item);
  const why = whyNotReviewer(item, input.actor.person.id, await deciderFacts(deps, item, input.actor.person.id));
  if (why) throw refusal(item, why);

  return await deps.store.transaction(async (tx) => {
    const freshCampaign = (await tx.getReviewCampaign(campaign.id))!;
    assertOpen(freshCampaign, now);
    const fresh = (await tx.getReviewItem(item.id))!;
    assertPending(fresh);
    const me = input.actor.person.id;
    // When the person was first seen looking at the item, before this click.
    const firstSeen = (await tx.assignmentsOf(item.id)).find((a) => a.reviewerId === me)?.firstSeenAt ?? null;
    await markClickSeen(tx, freshCampaign.id, me, [item.id], input.seen, now);
    const decision = { decision: input.decision, reason: reason || null, firstSeen };
    if (!(await recordDecision(tx, deps, now, freshCampaign, fresh, input.actor, decision))) {
      throw new AccessError('stale_decision', 'Someone decided this item a moment ago; your click changed nothing.');
    }
    return { item: (await tx.getReviewItem(item.id))!, campaign: freshCampaign };
  });
}

export interface KeepRestResult {
  kept: number;
  /** Items the person may no longer decide (the live check), with why. */
  skipped: { item: ReviewItem; why: string }[];
}

/** "Keep the rest": every undecided item of the person's list in this campaign is kept, each checked live. */
export async function keepRest(
  deps: Deps,
  input: { actor: ActingPerson; campaignId: string; seen?: SeenPage },
): Promise<KeepRestResult> {
  const campaign = await deps.store.getReviewCampaign(input.campaignId);
  if (!campaign) throw new AccessError('not_found', 'This review no longer exists.');
  const now = nowIso(deps);
  assertOpen(campaign, now);
  const me = input.actor.person.id;
  const rest = (await deps.store.reviewerItems(campaign.id, me, { decision: ['pending'], limit: 100_000 })).map(
    (r) => r.item,
  );
  const allowed: ReviewItem[] = [];
  const skipped: KeepRestResult['skipped'] = [];
  await forEachLimited(rest, 5, undefined, async (item) => {
    const why = whyNotReviewer(item, me, await deciderFacts(deps, item, me));
    if (why) skipped.push({ item, why });
    else allowed.push(item);
  });
  const kept = await deps.store.transaction(async (tx) => {
    const fresh = (await tx.getReviewCampaign(campaign.id))!;
    assertOpen(fresh, now);
    // The list as it stands now, with when each item was first seen before this click: every item
    // keeps its own time, whatever its place in the list (marking the page seen comes after).
    const pending = new Map(
      (await tx.reviewerItems(campaign.id, me, { decision: ['pending'], limit: 100_000 })).map((r) => [r.item.id, r]),
    );
    const toKeep = allowed.filter((item) => pending.has(item.id)); // others were decided meanwhile
    await markClickSeen(
      tx,
      campaign.id,
      me,
      toKeep.map((item) => item.id),
      input.seen,
      now,
    );
    let n = 0;
    for (const item of toKeep.sort((a, b) => a.position - b.position)) {
      const { item: current, firstSeenAt } = pending.get(item.id)!;
      const decision = { decision: 'keep', reason: null, firstSeen: firstSeenAt } as const;
      if (await recordDecision(tx, deps, now, fresh, current, input.actor, decision)) n++;
    }
    return n;
  });
  return { kept, skipped };
}

/**
 * The person saw these items now (a list shown to them, a page they turned to): each one's first
 * look is recorded, once. Nothing is recorded for a closed campaign.
 */
export async function markSeen(
  deps: Pick<Deps, 'store' | 'clock'>,
  reviewerId: string,
  itemIds: readonly string[],
): Promise<void> {
  if (itemIds.length === 0) return;
  const now = deps.clock.now().toISOString();
  await deps.store.transaction((tx) => tx.markReviewItemsSeen(reviewerId, itemIds, now));
}

/**
 * The click is a look at the page it came from and at the items it decides: each one's first look
 * is recorded (once), after the decisions' times were read. Slack tells a bot nothing about reading
 * a DM, so the first click on a list is the first look the bot observes.
 */
async function markClickSeen(
  tx: StoreTx,
  campaignId: string,
  me: string,
  itemIds: readonly string[],
  seen: SeenPage | undefined,
  now: string,
): Promise<void> {
  const onPage = seen
    ? (await tx.reviewerItems(campaignId, me, { offset: seen.page * seen.size, limit: seen.size })).map(
        (r) => r.item.id,
      )
    : [];
  await tx.markReviewItemsSeen(me, [...new Set([...itemIds, ...onPage])], now);
}

/**
 * Records one decision, if the item is still undecided (false when someone else decided it first).
 * `firstSeen` is when the person was first seen looking at the item before this click: with none,
 * the decision's time is unknown (null), not zero, or every first click would count as a rubber stamp.
 */
async function recordDecision(
  tx: StoreTx,
  deps: Deps,
  now: string,
  campaign: ReviewCampaign,
  item: ReviewItem,
  acting: ActingPerson,
  { decision, reason, firstSeen }: { decision: 'keep' | 'revoke'; reason: string | null; firstSeen: string | null },
): Promise<boolean> {
  const secondsToDecision =
    firstSeen === null ? null : Math.max(0, Math.floor((Date.parse(now) - Date.parse(firstSeen)) / 1000));
  const patch = { decision, reason, decidedBy: personRef(acting), decidedAt: now, secondsToDecision };
  if (!(await tx.updateReviewItem(item.id, { decision: ['pending'] }, patch))) return false;
  await tx.appendAudit({
    at: now,
    actor: actorOf(acting),
    action: decision === 'keep' ? 'reviewItem.kept' : 'reviewItem.revoked',
    grantId: item.source.kind === 'grant' ? item.source.grantId : null,
    details: {
      review: campaign.reviewId,
      campaign: campaign.id,
      item: item.id,
      holder: { directoryId: item.holder.directoryId, email: item.holder.email },
      access: accessLabel(item.access),
      source: item.source.kind === 'grant' ? item.source.grantId : 'standing',
      reason,
      secondsToDecision,
      firstSeenAt: firstSeen,
    },
  });
  if (decision === 'revoke')
    await applyRevoke(tx, deps, now, campaign, item, {
      actor: actorOf(acting),
      by: acting.person.email,
      reason: reason ?? '',
    });
  await notifyReviewChange(tx, now, campaign.id, item.id, decision);
  return true;
}

function assertOpen(campaign: ReviewCampaign, now: string): void {
  if (campaign.status === 'closed') {
    throw new AccessError(
      'review_closed',
      `This review (${campaign.reviewName}) closed at ${campaign.closedAt}; your click changed nothing. Undecided items were handled as the review says.`,
    );
  }
  if (campaign.dueAt <= now) {
    throw new AccessError(
      'review_closed',
      `This review (${campaign.reviewName}) was due at ${campaign.dueAt} and is closing; your click changed nothing.`,
    );
  }
}

function assertPending(item: ReviewItem): void {
  if (item.decision === 'pending') return;
  const by = item.decidedBy ? ` by ${item.decidedBy.name}` : '';
  const what = item.decision === 'keep' ? 'kept' : item.decision === 'revoke' ? 'revoked' : 'left undecided';
  throw new AccessError(
    'stale_decision',
    `This item was already ${what}${by}${item.decidedAt ? ` at ${item.decidedAt}` : ''}; your click changed nothing.`,
  );
}

function refusal(item: ReviewItem, why: string): AccessError {
  if (why === 'nobody reviews their own access')
    return new AccessError('self_review', 'You cannot review your own access; another reviewer decides it.');
  return new AccessError(
    'not_a_reviewer',
    `You cannot decide ${item.holder.name}'s ${accessLabel(item.access)}: ${why}.`,
  );
}

/** The live facts the item's reviewer rule needs about this person. */
async function deciderFacts(deps: Deps, item: ReviewItem, deciderId: string): Promise<DeciderFacts> {
  const rule = item.reviewer.rule;
  const decider: Promise<Person | null> = deps.directory.getPerson(deciderId);
  switch (rule.kind) {
    case 'manager': {
      const [person, manager] = await Promise.all([decider, deps.directory.managerOf(item.holder.directoryId)]);
      return { decider: person, manager };
    }
    case 'user': {
      const [person, user] = await Promise.all([decider, deps.directory.findPerson(rule.user)]);
      return { decider: person, user };
    }
    case 'group': {
      const [person, inGroup] = await Promise.all([decider, deps.directory.isMember(deciderId, rule.group)]);
      return { decider: person, inGroup };
    }
  }
}

/**
 * The reviewer turned their list to `page`: what they look at now (the new page) and what the
 * click came from (the old one) count as seen, and their list is shown at the new page.
 */
export async function turnReviewPage(
  deps: Pick<Deps, 'store' | 'clock'>,
  input: { reviewerId: string; campaignId: string; from: SeenPage; to: number },
): Promise<void> {
  const now = deps.clock.now().toISOString();
  await deps.store.transaction(async (tx) => {
    const rows = [
      ...(await tx.reviewerItems(input.campaignId, input.reviewerId, {
        offset: input.from.page * input.from.size,
        limit: input.from.size,
      })),
      ...(await tx.reviewerItems(input.campaignId, input.reviewerId, {
        offset: input.to * input.from.size,
        limit: input.from.size,
      })),
    ];
    const campaign = await tx.getReviewCampaign(input.campaignId);
    if (campaign?.status === 'open')
      await tx.markReviewItemsSeen(
        input.reviewerId,
        rows.map((r) => r.item.id),
        now,
      );
    const recipient = { kind: 'person' as const, directoryId: input.reviewerId };
    await notify(tx, now, `review-updated:${input.campaignId}:${input.reviewerId}:page:${input.to}:${now}`, {
      type: 'review.updated',
      recipient,
      campaignId: input.campaignId,
    });
  });
}
