/**
 * Starts a campaign of an access review: the population is read live (active grants of the roles
 * in scope from the store; every member of the groups in scope from the directory, all pages), one
 * item per holder and access, each given to its reviewer (resolved now, like an approval step's
 * approvers), then written in one transaction with the `review.started` event (count and hash of
 * the population) and one message job per reviewer. Nothing is written if anything fails before.
 *
 * At most one campaign of a review is open at a time, and a schedule slot starts at most one:
 * the store refuses the second (`review_open`), so two processes starting the same review at once
 * leave one campaign.
 */
import { AccessError, PermanentError } from '../../domain/errors.js';
import type { Person } from '../../domain/person.js';
import type { DecisionRecord, Grant, PersonRef } from '../../domain/records.js';
import type { LoadedReview, ReviewerRule } from '../../domain/reviews/review-definition.js';
import { canonicalReviewDefinition, reviewVersion } from '../../domain/reviews/review-version.js';
import { buildPopulation, populationHash, populationLine } from '../../domain/reviews/population.js';
import type {
  ReviewAssignment,
  ReviewCampaign,
  ReviewerRecord,
  ReviewItem,
  ReviewTrigger,
} from '../../domain/reviews/review-records.js';
import { assignReviewer, type ReviewerFacts } from '../../domain/reviews/reviewers.js';
import { refOf } from '../acting-person.js';
import { addSeconds, newId, nowIso, type Deps } from '../context.js';
import { forEachLimited } from '../for-each-limited.js';
import { alert, notify } from '../lifecycle.js';
import { forOperation } from '../operation-scope.js';
import { assertAdmin } from '../revoke-grant.js';
import { OPEN_GRANT_STATUSES } from '../../domain/records.js';
import { auditActor, actorText, type ReviewActor } from './review-actor.js';

export interface StartReviewInput {
  reviewId: string;
  by: ReviewActor;
  trigger: ReviewTrigger;
  /** The schedule slot (ISO) a scheduled start is for: one campaign per slot. */
  slot?: string;
  /** Directory reads in flight at once (the directory adapter paces them within its rate limit). Default 5. */
  concurrency?: number;
}

export interface StartedReview {
  campaign: ReviewCampaign;
  reviewers: number;
}

/** The review by id, or a refusal that lists the ones there are. */
export function findReview(deps: Pick<Deps, 'reviews'>, reviewId: string): LoadedReview {
  const review = deps.reviews.find(reviewId);
  if (review) return review;
  const known = deps.reviews.all().map((r) => r.id);
  const list = known.length ? `the reviews are ${known.join(', ')}` : 'no review is defined (policies/reviews/)';
  throw new AccessError('unknown_review', `There is no review named "${reviewId}": ${list}.`);
}

export async function startReview(deps: Deps, input: StartReviewInput): Promise<StartedReview> {
  const review = findReview(deps, input.reviewId);
  if (input.by.kind === 'admin') await assertAdmin(deps, input.by.admin);
  const open = await deps.store.listReviewCampaigns({ reviewId: review.id, status: ['open'], limit: 1 });
  if (open[0]) throw openAlready(open[0]);

  // Reading the population is one operation: a member's record and manager are read once in it.
  const { items, reviewers, assignments } = await readPopulation(forOperation(deps), review, input.concurrency ?? 5);
  const now = nowIso(deps);
  const campaignId = newId(deps, 'rvc');
  const hash = populationHash(items.map(populationLine));
  const campaign: ReviewCampaign = {
    id: campaignId,
    reviewId: review.id,
    reviewName: review.name,
    version: reviewVersion(review),
    definition: canonicalReviewDefinition(review),
    trigger: input.trigger,
    startedBy: actorText(input.by),
    slot: input.slot ?? null,
    status: 'open',
    startedAt: now,
    dueAt: addSeconds(now, review.dueSeconds),
    closedAt: null,
    closedBy: null,
    populationCount: items.length,
    populationHash: hash,
    rules: null,
  };
  const ready = items.map((item) => ({ ...item, campaignId }));
  const given = assignments.map((a) => ({ ...a, campaignId }));
  const people = reviewers.map((r) => ({ ...r, campaignId }));
  await deps.store.transaction(async (tx) => {
    await tx.insertReviewCampaign(campaign);
    await tx.insertReviewItems(ready);
    await tx.insertReviewAssignments(given);
    await tx.insertReviewers(people);
    await tx.appendAudit({
      at: now,
      actor: auditActor(input.by),
      action: 'review.started',
      details: {
        review: review.id,
        campaign: campaignId,
        version: campaign.version,
        definition: campaign.definition,
        trigger: input.trigger,
        slot: campaign.slot,
        population: {
          count: items.length,
          hash,
          hashOf: 'sha256 of sorted lines holder_okta_id TAB access TAB source, LF-joined',
        },
        reviewers: people.length,
        fallbacks: ready.filter((i) => i.reviewer.fallbackReason !== null).length,
        dueAt: campaign.dueAt,
        ...(input.by.kind === 'system' ? input.by.details : {}),
      },
    });
    for (const r of people) {
      const recipient = { kind: 'person' as const, directoryId: r.reviewer.directoryId };
      await notify(tx, now, `review-assigned:${campaignId}:${r.reviewer.directoryId}`, {
        type: 'review.assigned',
        recipient,
        campaignId,
      });
    }
  });
  return { campaign, reviewers: people.length };
}

function openAlready(c: ReviewCampaign): AccessError {
  return new AccessError(
    'review_open',
    `Review ${c.reviewId} is already running: campaign ${c.id}, started ${c.startedAt}, due ${c.dueAt}. Close it first (reviews close ${c.id}).`,
    { campaign: c.id },
  );
}

type Draft = Omit<ReviewItem, 'campaignId'>;

/** The live reads: who holds what, how they got it, and who reviews each item. */
async function readPopulation(
  deps: Deps,
  review: LoadedReview,
  concurrency: number,
): Promise<{
  items: Draft[];
  reviewers: Omit<ReviewerRecord, 'campaignId'>[];
  assignments: Omit<ReviewAssignment, 'campaignId'>[];
}> {
  const roleGrants: Grant[] = [];
  for (const r of review.scope.roles) {
    roleGrants.push(
      ...(await deps.store.listGrants({ status: ['active'], app: r.app, role: r.role, limit: 10_000_000 })),
    );
  }
  const groupMembers = new Map<string, Person[]>();
  const groupGrants = new Map<string, Grant[]>();
  for (const group of review.scope.groups) {
    // Every page: a review of a partial list would be no review at all, so a failed read fails the start.
    groupMembers.set(group, await deps.directory.membersOf(group));
    groupGrants.set(group, await deps.store.grantsThroughGroup(group, { status: [...OPEN_GRANT_STATUSES] }));
  }
  const requestIds = [...new Set([...roleGrants, ...[...groupGrants.values()].flat()].map((g) => g.requestId))];
  const decisions: Map<string, DecisionRecord[]> = requestIds.length
    ? await deps.store.decisionsFor(requestIds)
    : new Map();
  const population = buildPopulation(review, { roleGrants, groupMembers, groupGrants, decisions });

  const facts = await reviewerFacts(
    deps,
    review,
    population.map((p) => p.holder.directoryId),
    concurrency,
  );
  const items: Draft[] = [];
  const assignments: Omit<ReviewAssignment, 'campaignId'>[] = [];
  const reviewers = new Map<string, { ref: PersonRef; items: number }>();
  population.forEach((entry, position) => {
    const assigned = assignReviewer(review, entry.holder.directoryId, {
      ...facts.shared,
      manager: facts.managers.get(entry.holder.directoryId) ?? null,
    });
    const id = newId(deps, 'rvi');
    items.push({
      id,
      position,
      holder: entry.holder,
      access: entry.access,
      source: entry.source,
      reviewer: assigned.reviewer,
      decision: 'pending',
      reason: null,
      decidedBy: null,
      decidedAt: null,
      secondsToDecision: null,
      remediation: 'none',
      remediationDetail: null,
      remediatedAt: null,
      remediationEventSeq: null,
    });
    for (const person of assigned.people) {
      assignments.push({ itemId: id, reviewerId: person.id, position, firstSeenAt: null });
      const known = reviewers.get(person.id) ?? { ref: refOf(person), items: 0 };
      known.items++;
      reviewers.set(person.id, known);
    }
  });
  const records = [...reviewers.values()]
    .map((r) => ({ reviewer: r.ref, items: r.items, remindersSent: [] }))
    .sort((a, b) => a.reviewer.email.localeCompare(b.reviewer.email));
  return { items, reviewers: records, assignments };
}

/** What the reviewer rules need from the directory, read once per holder, person or group. */
async function reviewerFacts(
  deps: Deps,
  review: LoadedReview,
  holderIds: string[],
  concurrency: number,
): Promise<{ shared: Omit<ReviewerFacts, 'manager'>; managers: Map<string, Person | null> }> {
  const rules: ReviewerRule[] = [
    review.reviewer,
    review.fallbackReviewer,
    { kind: 'group', group: deps.settings.adminGroup },
  ];
  const users = new Map<string, Person | null>();
  const groupMembers = new Map<string, Person[]>();
  for (const rule of rules) {
    if (rule.kind === 'user' && !users.has(rule.user.toLowerCase()))
      users.set(rule.user.toLowerCase(), await deps.directory.findPerson(rule.user));
    if (rule.kind === 'group' && !groupMembers.has(rule.group)) {
      try {
        groupMembers.set(rule.group, await deps.directory.membersOf(rule.group));
      } catch (error) {
        // A reviewer group that no longer exists falls back; an outage fails the start.
        if (!(error instanceof PermanentError)) throw error;
      }
    }
  }
  const managers = new Map<string, Person | null>();
  if (rules.some((r) => r.kind === 'manager')) {
    const holders = [...new Set(holderIds)];
    await forEachLimited(holders, concurrency, undefined, async (id) => {
      managers.set(id, await deps.directory.managerOf(id));
    });
  }
  return { shared: { users, groupMembers, adminGroup: deps.settings.adminGroup }, managers };
}

/**
 * A review's schedule fired: its campaign starts, once per slot. When it cannot (one is still open,
 * or the directory did not answer), the alerts channel is told, since a quarterly review that
 * silently did not run is a finding; a person can start it by hand.
 */
export async function startScheduledReview(deps: Deps, reviewId: string, slot: string): Promise<StartedReview | null> {
  try {
    return await startReview(deps, {
      reviewId,
      by: { kind: 'system', component: 'schedule' },
      trigger: 'schedule',
      slot,
    });
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    deps.logger.warn('scheduled access review did not start', { review: reviewId, slot, error: why });
    const now = nowIso(deps);
    await deps.store.transaction((tx) =>
      alert(
        tx,
        now,
        deps.settings.alertsChannel,
        `review-start:${reviewId}:${slot}`,
        `The scheduled access review ${reviewId} (slot ${slot}) did not start: ${why} Start it by hand once that is resolved: \`access-bot reviews start ${reviewId}\` or \`/access review start ${reviewId}\`.`,
      ),
    );
    if (error instanceof AccessError) return null;
    throw error;
  }
}
