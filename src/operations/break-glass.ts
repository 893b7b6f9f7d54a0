/**
 * Break-glass: emergency access for roles whose policy declares `break_glass`. Taken at once,
 * without approvers, through the normal provisioning path (the grant's job, the provisioner port),
 * capped at the rule's `max`; the security channel is alerted at once; a reviewer marks it
 * Justified or Not justified afterwards (Not justified revokes it if it is still active); nobody
 * reviewing within `review_within` alerts the admins, then daily until someone does. The grantee
 * never reviews their own. Every step is audited in the transaction that makes it.
 */
import { systemActor } from '../domain/audit.js';
import {
  checkBreakGlass,
  peopleRuleLabel,
  type BreakGlassCheck,
  type BreakGlassOutcome,
} from '../domain/break-glass.js';
import type { CatalogEntry } from '../domain/catalog.js';
import { describeDuration } from '../domain/duration.js';
import { AccessError } from '../domain/errors.js';
import type { Person } from '../domain/person.js';
import type { BreakGlassRule } from '../domain/policy.js';
import type { AccessRequest, BreakGlassReview, Grant } from '../domain/records.js';
import { assertTextWithin, TEXT_LIMITS } from '../domain/text-limits.js';
import { actorOf, personRef, type ActingPerson } from './acting-person.js';
import { inPeopleRule } from './approver-rules.js';
import { addSeconds, newId, nowIso, type Deps } from './context.js';
import { closePendingRequest, createGrant, notify, requesterRecipient, startRevocation } from './lifecycle.js';
import { findEntry } from './policy-lookup.js';
import type { StoreTx } from './ports.js';

export interface BreakGlassInput {
  requester: ActingPerson;
  app: string;
  role: string;
  durationSeconds?: number;
  justification?: string;
  /** An incident link or ticket id (optional). */
  incident?: string;
}

export interface BreakGlassResult {
  request: AccessRequest;
  grant: Grant;
  review: BreakGlassReview;
}

/** Who may take emergency access to a role now, from live directory data: the form's offer, or why not. */
export type BreakGlassOffer =
  | {
      kind: 'offered';
      entry: CatalogEntry;
      rule: BreakGlassRule;
      /** The person and their groups as the directory says now (an unknown person is inactive). */
      person: Person;
      groups: string[];
      /** The cap, the choices and the default this person is offered. */
      check: BreakGlassCheck;
    }
  | {
      kind: 'refused';
      code: 'break_glass_not_allowed' | 'already_held' | 'not_eligible';
      /** One sentence for the person, naming the role. */
      message: string;
      /** Refusals on the policy's grounds are audited when submitted (`request.refused`); a held grant is not. */
      audit?: { outcome: BreakGlassOutcome; reason: string };
    };

/**
 * The break-glass rules the form and the submission share: the role has a `break_glass` rule,
 * the person does not hold it already, and they are active and in one of its groups now.
 */
export async function breakGlassOfferFor(deps: Deps, person: Person, entry: CatalogEntry): Promise<BreakGlassOffer> {
  const what = `${entry.app.name} ${entry.role.name}`;
  const rule = entry.role.breakGlass;
  if (!rule) {
    return {
      kind: 'refused',
      code: 'break_glass_not_allowed',
      message: `${what} has no emergency access: ask for it with \`/access request ${entry.app.app} ${entry.role.id}\`.`,
      audit: { outcome: 'not_allowed', reason: 'the role has no break_glass rule' },
    };
  }
  if (await deps.store.findOpenGrant(person.id, entry.app.app, entry.role.id))
    return { kind: 'refused', code: 'already_held', message: alreadyHeld(what) };
  const [personNow, groups] = await Promise.all([
    deps.directory.getPerson(person.id),
    deps.directory.groupsOf(person.id),
  ]);
  const live = personNow ?? { ...person, active: false, status: 'gone' };
  const check = checkBreakGlass(entry.role, live, groups, {});
  if (check.outcome === 'not_allowed' || check.outcome === 'not_eligible') {
    return {
      kind: 'refused',
      code: 'not_eligible',
      message: `You may not use emergency access to ${what}: ${check.reason}.`,
      audit: { outcome: check.outcome, reason: check.reason },
    };
  }
  return { kind: 'offered', entry, rule, person: live, groups, check };
}

const alreadyHeld = (what: string) => `You already hold ${what}; emergency access would add nothing.`;

/** Takes emergency access: refused with the reason, or granted now and alerted. */
export async function invokeBreakGlass(deps: Deps, input: BreakGlassInput): Promise<BreakGlassResult> {
  assertTextWithin(input.justification, TEXT_LIMITS.justification, 'The justification');
  assertTextWithin(input.incident, TEXT_LIMITS.incident, 'The incident');
  const entry = findEntry(deps, input.app, input.role);
  const what = `${entry.app.name} ${entry.role.name}`;
  const requester = input.requester.person;
  const actor = actorOf(input.requester);
  const now = nowIso(deps);
  const refused = async (outcome: string, reason: string) =>
    await deps.store.transaction(
      async (tx) =>
        await tx.appendAudit({
          at: now,
          actor,
          action: 'request.refused',
          details: {
            kind: 'break_glass',
            app: entry.app.app,
            role: entry.role.id,
            policy: entry.role.policy,
            version: entry.version,
            outcome,
            reason,
          },
        }),
    );
  // Who may use it is decided now, from live directory data; then what they asked for.
  const offer = await breakGlassOfferFor(deps, requester, entry);
  if (offer.kind === 'refused') {
    if (offer.audit) await refused(offer.audit.outcome, offer.audit.reason);
    throw new AccessError(offer.code, offer.message);
  }
  const { rule } = offer;
  const check = checkBreakGlass(entry.role, offer.person, offer.groups, {
    durationSeconds: input.durationSeconds,
    justification: input.justification,
  });
  switch (check.outcome) {
    case 'allowed':
      break;
    case 'not_allowed':
    case 'not_eligible':
      // Decided by the offer above; the duration and justification do not change it.
      throw new Error(`break-glass eligibility changed within one check: ${check.reason}`);
    case 'invalid_duration':
      await refused(check.outcome, check.reason);
      throw new AccessError('invalid_duration', `Duration: ${check.reason}.`);
    case 'justification_required':
      await refused(check.outcome, check.reason);
      throw new AccessError(
        'justification_required',
        `Emergency access needs a justification: the reviewers read it afterwards.`,
      );
  }

  const seconds = check.seconds;
  const justification = (input.justification ?? '').trim();
  const incident = (input.incident ?? '').trim() || null;
  const request: AccessRequest = {
    id: newId(deps, 'req'),
    kind: 'break_glass',
    grantId: null,
    requester: personRef(input.requester),
    app: entry.app.app,
    role: entry.role.id,
    policyName: entry.role.policy,
    policyVersion: entry.version,
    justification,
    requestedSeconds: seconds,
    grantedSeconds: seconds,
    status: 'approved',
    autoApproveRule: null,
    currentStep: -1,
    stepCount: 0,
    createdAt: now,
    approvalDeadline: now,
    decidedAt: now,
    decisionReason: 'break-glass: emergency access without approval, reviewed afterwards',
  };
  const dueAt = addSeconds(now, rule.reviewWithinSeconds);
  return await deps.store.transaction(async (tx) => {
    if (await tx.findOpenGrant(requester.id, request.app, request.role))
      throw new AccessError('already_held', alreadyHeld(what));
    // A request for the same role still waiting for approvers is superseded: it would only grant again.
    const pending = await tx.findPendingRequest(requester.id, request.app, request.role);
    if (pending) await supersede(tx, now, pending, request.id);

    await tx.insertRequest(request);
    await tx.appendAudit({
      at: now,
      actor,
      action: 'request.submitted',
      requestId: request.id,
      details: {
        kind: 'break_glass',
        app: request.app,
        role: request.role,
        policy: request.policyName,
        version: request.policyVersion,
        requestedSeconds: seconds,
        justification,
        incident,
        eligibility: check.reason,
      },
    });
    const grant = await createGrant(deps, tx, now, request, entry, seconds, actor);
    const review: BreakGlassReview = {
      grantId: grant.id,
      requestId: request.id,
      reviewers: rule.reviewers,
      incident,
      createdAt: now,
      dueAt,
      status: 'pending',
      reviewer: null,
      reason: null,
      reviewedAt: null,
    };
    await tx.insertBreakGlassReview(review);
    await tx.appendAudit({
      at: now,
      actor,
      action: 'breakGlass.invoked',
      requestId: request.id,
      grantId: grant.id,
      details: {
        durationSeconds: seconds,
        maxSeconds: check.maxSeconds,
        justification,
        incident,
        reviewers: peopleRuleLabel(rule.reviewers),
        reviewDueAt: dueAt,
      },
    });
    await alertSecurity(deps, tx, now, grant.id, 'invoked');
    await notify(tx, now, `submitted:${request.id}`, {
      type: 'request.submitted',
      recipient: requesterRecipient(request),
      requestId: request.id,
    });
    return { request: { ...request, grantId: grant.id }, grant, review };
  });
}

/** The pending request for the same role ends: emergency access replaced it. */
async function supersede(tx: StoreTx, now: string, pending: AccessRequest, byRequestId: string): Promise<void> {
  const reason = 'superseded by emergency access (break-glass)';
  await closePendingRequest(tx, now, pending, {
    status: 'cancelled',
    reason,
    actor: systemActor('break-glass'),
    details: () => ({ reason, by: byRequestId }),
  });
}

/** The alert in the security channel: one message per grant, posted at once and updated as things move. */
async function alertSecurity(deps: Deps, tx: StoreTx, now: string, grantId: string, why: string): Promise<void> {
  await notify(tx, now, `break-glass:${grantId}:${why}`, {
    type: 'breakGlass.alert',
    recipient: { kind: 'channel', channel: deps.settings.securityChannel },
    grantId,
  });
}

export interface BreakGlassReviewInput {
  actor: ActingPerson;
  grantId: string;
  outcome: 'justified' | 'not_justified';
  reason?: string;
}

/**
 * A reviewer marks the access Justified or Not justified. Who may: the policy's reviewers (and the
 * admins, who are alerted when it is overdue), read live, never the grantee. Not justified needs a
 * reason, revokes the grant if it is still open, and alerts the security channel again.
 */
export async function reviewBreakGlass(deps: Deps, input: BreakGlassReviewInput): Promise<BreakGlassReview> {
  assertTextWithin(input.reason, TEXT_LIMITS.reason, 'The reason');
  const { review, grant } = await loadReview(deps, input.grantId);
  if (grant.holder.directoryId === input.actor.person.id)
    throw new AccessError('self_review', 'You cannot review your own emergency access: someone else must.');
  if (review.status !== 'pending') throw alreadyReviewed(review);
  const reason = (input.reason ?? '').trim();
  if (input.outcome === 'not_justified' && !reason) {
    throw new AccessError(
      'reason_required',
      'Say why it was not justified: the grantee and the security channel read it, and the audit log keeps it.',
    );
  }
  await assertMayReview(deps, input.actor, review);
  const now = nowIso(deps);
  const actor = actorOf(input.actor);
  return await deps.store.transaction(async (tx) => {
    const reviewed = await tx.updateBreakGlassReview(grant.id, ['pending'], {
      status: input.outcome,
      reviewer: personRef(input.actor),
      reason: reason || null,
      reviewedAt: now,
    });
    if (!reviewed) throw alreadyReviewed((await tx.getBreakGlassReview(grant.id))!);
    const fresh = (await tx.getGrant(grant.id))!;
    await tx.appendAudit({
      at: now,
      actor,
      action: 'breakGlass.reviewed',
      requestId: grant.requestId,
      grantId: grant.id,
      details: {
        outcome: input.outcome,
        reason: reason || null,
        grantStatus: fresh.status,
        dueAt: review.dueAt,
        late: review.dueAt < now,
      },
    });
    if (input.outcome === 'not_justified') {
      // Revoked if it is still open; the revocation is the same path as every other one.
      await startRevocation(tx, now, fresh, 'revoked', actor, `Emergency access not justified: ${reason}`);
      await notify(tx, now, `break-glass-not-justified:${grant.id}`, {
        type: 'breakGlass.notJustified',
        recipient: { kind: 'channel', channel: deps.settings.securityChannel },
        grantId: grant.id,
      });
    }
    await alertSecurity(deps, tx, now, grant.id, 'reviewed');
    await notify(tx, now, `break-glass-reviewed:${grant.id}`, {
      type: 'breakGlass.reviewed',
      recipient: { kind: 'person', directoryId: grant.holder.directoryId },
      grantId: grant.id,
      requestId: grant.requestId,
    });
    return (await tx.getBreakGlassReview(grant.id))!;
  });
}

/**
 * Revoke now, on the alert: a reviewer or an admin ends the emergency access at once, with a
 * reason. The review stays owed (was it justified?).
 */
export async function revokeBreakGlass(
  deps: Deps,
  input: { actor: ActingPerson; grantId: string; reason: string },
): Promise<Grant> {
  assertTextWithin(input.reason, TEXT_LIMITS.reason, 'The reason');
  const { review, grant } = await loadReview(deps, input.grantId);
  const reason = input.reason.trim();
  if (!reason)
    throw new AccessError(
      'reason_required',
      'A revocation needs a reason; it is shown to the holder and kept in the audit log.',
    );
  await assertMayReview(deps, input.actor, review);
  const now = nowIso(deps);
  return await deps.store.transaction(async (tx) => {
    const fresh = (await tx.getGrant(grant.id))!;
    if (!(await startRevocation(tx, now, fresh, 'revoked', actorOf(input.actor), reason))) {
      throw new AccessError(
        'stale_decision',
        `This access is already ${fresh.status.replaceAll('_', ' ')}; nothing to revoke.`,
      );
    }
    await alertSecurity(deps, tx, now, grant.id, 'revoked');
    return (await tx.getGrant(grant.id))!;
  });
}

async function loadReview(deps: Deps, grantId: string): Promise<{ review: BreakGlassReview; grant: Grant }> {
  const [review, grant] = await Promise.all([deps.store.getBreakGlassReview(grantId), deps.store.getGrant(grantId)]);
  if (!review || !grant) throw new AccessError('not_found', 'This emergency access no longer exists.');
  return { review, grant };
}

/** A reviewer named by the policy, or an admin; active; read live. */
async function assertMayReview(deps: Deps, actor: ActingPerson, review: BreakGlassReview): Promise<void> {
  const [person, reviewer, admin] = await Promise.all([
    deps.directory.getPerson(actor.person.id),
    inPeopleRule(deps.directory, review.reviewers, actor.person.id),
    deps.directory.isMember(actor.person.id, deps.settings.adminGroup),
  ]);
  if (!person?.active)
    throw new AccessError(
      'approver_inactive',
      'Your directory account is not active, so you cannot review or revoke access.',
    );
  if (!reviewer && !admin) {
    const who = review.reviewers.kind === 'group' ? `members of ${review.reviewers.group}` : review.reviewers.user;
    throw new AccessError(
      'not_a_reviewer',
      `Only the reviewers of this emergency access (${who}) or members of ${deps.settings.adminGroup} can do this.`,
    );
  }
}

function alreadyReviewed(review: BreakGlassReview): AccessError {
  const outcome = review.status === 'justified' ? 'Justified' : 'Not justified';
  return new AccessError(
    'stale_decision',
    `This emergency access was already reviewed: ${outcome}, by ${review.reviewer?.name ?? 'someone'}${review.reviewedAt ? ` at ${review.reviewedAt}` : ''}.`,
  );
}

const DAY_SECONDS = 86_400;

/**
 * Reviews nobody made within `review_within`: every admin is told, once when it becomes overdue
 * and then once a day while it stays so. The job key carries the day, so repeated passes (or two
 * processes) queue each alert once.
 */
export async function alertUnreviewedBreakGlass(deps: Deps, limit = 1000): Promise<number> {
  const now = nowIso(deps);
  let alerted = 0;
  for (const review of await deps.store.overdueBreakGlassReviews(now, limit)) {
    const day = Math.floor((Date.parse(now) - Date.parse(review.dueAt)) / 1000 / DAY_SECONDS);
    const key = `break-glass-overdue:${review.grantId}:day-${day}`;
    if (await deps.store.getJobByKey(`notify:${key}`)) continue;
    const queued = await deps.store.transaction(async (tx) => {
      const fresh = await tx.getBreakGlassReview(review.grantId);
      if (!fresh || fresh.status !== 'pending' || (await tx.getJobByKey(`notify:${key}`))) return false;
      await tx.appendAudit({
        at: now,
        actor: systemActor('sweep'),
        action: 'breakGlass.reviewOverdue',
        requestId: review.requestId,
        grantId: review.grantId,
        details: {
          dueAt: review.dueAt,
          day,
          overdueFor: describeDuration(Math.max(60, Math.floor((Date.parse(now) - Date.parse(review.dueAt)) / 1000))),
          alerted: deps.settings.adminGroup,
        },
      });
      await notify(tx, now, key, {
        type: 'breakGlass.overdue',
        recipient: { kind: 'group', group: deps.settings.adminGroup },
        grantId: review.grantId,
        day,
      });
      return true;
    });
    if (queued) alerted++;
  }
  return alerted;
}
