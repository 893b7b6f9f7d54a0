/**
 * An approver decides the open step of a request. Authorisation comes from stored state and live
 * directory data, never from the button: the step must be the open one, the person one of its
 * approvers (or one its escalation added, or the delegate of one), active, not the requester, and
 * not someone who decided an earlier step (nor stood in for someone who did). Deny beats allow;
 * the step is approved once `required` distinct people approve; the last step approves the
 * request. Two approvers racing: the write lock serialises them and the loser is told it is stale.
 */
import { checkEligibility, type ResolvedStep } from '../domain/evaluate.js';
import { AccessError } from '../domain/errors.js';
import { describeDuration } from '../domain/duration.js';
import { assertTextWithin, TEXT_LIMITS } from '../domain/text-limits.js';
import { expireRequest } from './expire-requests.js';
import type { Person } from '../domain/person.js';
import { systemActor } from '../domain/audit.js';
import type { AccessRequest, DecisionRecord, Delegation, PersonRef, StepRecord } from '../domain/records.js';
import { actorOf, personRef, type ActingPerson } from './acting-person.js';
import { nowIso, type Deps } from './context.js';
import { approverLeft, decisionUsing, delegationFor, isStepApprover, usedPeople } from './approver-rules.js';
import { endDelegation } from './delegations.js';
import { resolveStepLive } from './directory-facts.js';
import { applyExtension } from './extend-grant.js';
import { newGrant, notify, openStep, recordGrant, requesterRecipient, settleApprovalMessages } from './lifecycle.js';
import { findEntry } from './policy-lookup.js';
import type { StoreReads, StoreTx } from './ports.js';

export interface ReviewInput {
  actor: ActingPerson;
  requestId: string;
  /** The step the button was for; a click on an earlier step's message is stale. */
  stepIndex?: number;
  decision: 'approve' | 'deny';
  reason?: string;
  /** Approvers may shorten the duration, never lengthen it. */
  shortenToSeconds?: number;
}

export type ReviewResult =
  | { kind: 'step_approved'; request: AccessRequest; step: StepRecord; approvals: number; required: number }
  | { kind: 'request_approved'; request: AccessRequest; grantId: string | null }
  | { kind: 'denied'; request: AccessRequest }
  | { kind: 'no_longer_eligible'; request: AccessRequest; reason: string };

export async function reviewRequest(deps: Deps, input: ReviewInput): Promise<ReviewResult> {
  const request = await deps.store.getRequest(input.requestId);
  if (!request) throw new AccessError('not_found', 'This request no longer exists.');
  assertTextWithin(input.reason, TEXT_LIMITS.reason, 'The reason');
  // The deadline holds when the click arrives, not only when the sweep next runs: a late decision
  // expires the request right here, as the sweep would have.
  const arrived = nowIso(deps);
  if (request.status === 'pending_approval' && request.approvalDeadline <= arrived) {
    await deps.store.transaction(async (tx) => expireRequest(tx, arrived, (await tx.getRequest(request.id))!));
    throw deadlinePassed(request);
  }
  const { step, onBehalfOf, delegation } = await assertCanDecide(deps.store, request, input, arrived);
  const reason = (input.reason ?? '').trim();
  if (input.decision === 'deny' && !reason)
    throw new AccessError('reason_required', 'Please give a reason for the denial; the requester will see it.');
  const current = request.grantedSeconds ?? request.requestedSeconds;
  if (
    input.shortenToSeconds !== undefined &&
    (input.shortenToSeconds <= 0 || input.shortenToSeconds > current || !Number.isInteger(input.shortenToSeconds))
  ) {
    throw new AccessError(
      'invalid_duration',
      `An approver may shorten the duration, never lengthen it: choose at most ${describeDuration(current)}.`,
    );
  }

  // Live checks: the approver must still be active; the requester must still be eligible. A
  // delegate decides by the rule that made the person they stand in for an approver, who must
  // still be active and still hold it.
  const [approverNow, requesterNow, delegatorNow] = await Promise.all([
    deps.directory.getPerson(input.actor.person.id),
    deps.directory.getPerson(request.requester.directoryId),
    onBehalfOf ? deps.directory.getPerson(onBehalfOf.directoryId) : Promise.resolve(null),
  ]);
  if (!approverNow?.active)
    throw new AccessError('approver_inactive', 'Your directory account is not active, so you cannot decide requests.');
  if (onBehalfOf && delegation) {
    if (!delegatorNow?.active) {
      await endDelegation(deps, delegation, 'delegator_inactive', systemActor('delegation'));
      throw new AccessError(
        'approver_inactive',
        `${onBehalfOf.name}'s directory account is not active, so their delegation to you has ended.`,
      );
    }
    const gone = await approverLeft(deps, step, request, onBehalfOf.directoryId, onBehalfOf.name);
    if (gone)
      throw new AccessError(
        'not_an_approver',
        `You cannot decide step ${step.index + 1} (${step.label}) for ${onBehalfOf.name}: ${gone}.`,
      );
  } else {
    const left = await approverLeft(deps, step, request, input.actor.person.id);
    if (left)
      throw new AccessError(
        'not_an_approver',
        `You are no longer an approver of step ${step.index + 1} (${step.label}) of this request: ${left}.`,
      );
  }
  const entry = findEntry(deps, request.app, request.role);
  const eligibility = requesterNow
    ? checkEligibility(entry.role, requesterNow, await deps.directory.groupsOf(requesterNow.id))
    : { eligible: false, reason: `${request.requester.email} is no longer in the directory` };

  // The next step's approvers are resolved from live data when it starts, which may be now.
  const nextStep =
    input.decision === 'approve' && eligibility.eligible && requesterNow && request.currentStep + 1 < request.stepCount
      ? await resolveNext(deps, request, requesterNow, [
          input.actor.person.id,
          ...(onBehalfOf ? [onBehalfOf.directoryId] : []),
        ])
      : undefined;

  const now = nowIso(deps);
  const actor = actorOf(input.actor);
  return await deps.store.transaction(async (tx): Promise<ReviewResult> => {
    // Re-read under the write lock: whoever got here first decided; everyone else is stale.
    const fresh = (await tx.getRequest(request.id))!;
    // An extension's approval changes its grant: lock it now, before the audit chain (lock order).
    if (fresh.kind === 'extension' && fresh.grantId) await tx.getGrant(fresh.grantId);
    if (fresh.status === 'pending_approval' && fresh.approvalDeadline <= now) throw deadlinePassed(fresh);
    const checked = await assertCanDecide(tx, fresh, { ...input, stepIndex: step.index }, now);
    const freshStep = checked.step;
    // The person stood in for was checked live above: a different one now is a race lost.
    if (checked.onBehalfOf?.directoryId !== onBehalfOf?.directoryId) {
      throw new AccessError(
        'stale_decision',
        'Who you would decide for changed while your click was on its way; nothing was recorded. Please look again.',
      );
    }

    if (!eligibility.eligible) {
      await tx.updateRequest(fresh.id, ['pending_approval'], {
        status: 'denied',
        decidedAt: now,
        decisionReason: `requester no longer eligible: ${eligibility.reason}`,
        currentStep: -1,
      });
      await tx.updateStep(fresh.id, freshStep.index, ['open'], { status: 'closed', decidedAt: now });
      await tx.appendAudit({
        at: now,
        actor: { kind: 'system', component: 'policy' },
        action: 'request.denied',
        requestId: fresh.id,
        details: { reason: 'requester no longer eligible', eligibility: eligibility.reason },
      });
      await settleApprovalMessages(tx, now, fresh, freshStep, 'ineligible');
      await notify(tx, now, `denied:${fresh.id}`, {
        type: 'request.denied',
        recipient: requesterRecipient(fresh),
        requestId: fresh.id,
      });
      return { kind: 'no_longer_eligible', request: (await tx.getRequest(fresh.id))!, reason: eligibility.reason };
    }

    const decision: DecisionRecord = {
      requestId: fresh.id,
      stepIndex: freshStep.index,
      approver: personRef(input.actor),
      decision: input.decision,
      reason: reason || null,
      shortenedToSeconds: input.shortenToSeconds ?? null,
      at: now,
      onBehalfOf,
    };
    await tx.insertDecision(decision);
    const forWhom = onBehalfOf ? { onBehalfOf: onBehalfOf.email } : {};

    if (input.decision === 'deny') {
      await tx.updateStep(fresh.id, freshStep.index, ['open'], { status: 'denied', decidedAt: now });
      await tx.updateRequest(fresh.id, ['pending_approval'], {
        status: 'denied',
        decidedAt: now,
        decisionReason: reason,
        currentStep: -1,
      });
      await tx.appendAudit({
        at: now,
        actor,
        action: 'step.denied',
        requestId: fresh.id,
        details: { step: freshStep.index + 1, reason, ...forWhom },
      });
      await tx.appendAudit({
        at: now,
        actor,
        action: 'request.denied',
        requestId: fresh.id,
        details: { step: freshStep.index + 1, reason, ...forWhom },
      });
      await settleApprovalMessages(tx, now, fresh, freshStep, 'denied');
      await notify(tx, now, `denied:${fresh.id}`, {
        type: 'request.denied',
        recipient: requesterRecipient(fresh),
        requestId: fresh.id,
      });
      return { kind: 'denied', request: (await tx.getRequest(fresh.id))! };
    }

    const granted = Math.min(fresh.grantedSeconds ?? fresh.requestedSeconds, input.shortenToSeconds ?? Infinity);
    if (granted !== (fresh.grantedSeconds ?? fresh.requestedSeconds))
      await tx.updateRequest(fresh.id, ['pending_approval'], { grantedSeconds: granted });
    // The decisions read under the lock for the check, and this one: what a read back would give.
    const decisions = [...checked.decisions, decision];
    const approvals = decisions.filter((d) => d.stepIndex === freshStep.index && d.decision === 'approve').length;
    await tx.appendAudit({
      at: now,
      actor,
      action: 'step.approved',
      requestId: fresh.id,
      details: {
        step: freshStep.index + 1,
        approvals,
        required: freshStep.required,
        shortenedToSeconds: input.shortenToSeconds ?? null,
        ...forWhom,
      },
    });
    if (approvals < freshStep.required) {
      // A quorum step in progress: the shared message shows "1 of 2 approvals".
      await settleApprovalMessages(tx, now, fresh, freshStep, `progress-${approvals}`);
      return {
        kind: 'step_approved',
        request: (await tx.getRequest(fresh.id))!,
        step: freshStep,
        approvals,
        required: freshStep.required,
      };
    }

    await tx.updateStep(fresh.id, freshStep.index, ['open'], { status: 'approved', decidedAt: now });
    await settleApprovalMessages(tx, now, fresh, freshStep, 'approved');
    if (nextStep) {
      await tx.updateRequest(fresh.id, ['pending_approval'], { currentStep: nextStep.index });
      const advanced = (await tx.getRequest(fresh.id))!;
      await openStep(tx, now, advanced, nextStep, { kind: 'system', component: 'chain' }, deps.settings);
      await notify(tx, now, `step-approved:${fresh.id}:${freshStep.index}`, {
        type: 'step.approved',
        recipient: requesterRecipient(fresh),
        requestId: fresh.id,
        stepIndex: freshStep.index,
      });
      return { kind: 'step_approved', request: advanced, step: freshStep, approvals, required: freshStep.required };
    }
    return approveRequest(deps, tx, now, fresh, granted, decisions);
  });
}

async function approveRequest(
  deps: Deps,
  tx: StoreTx,
  now: string,
  /** The request as read under the write lock, still pending. */
  request: AccessRequest,
  seconds: number,
  /** The request's decisions, as read after this one was recorded: the approvers the audit event names. */
  decisions: readonly DecisionRecord[],
): Promise<ReviewResult> {
  const requestId = request.id;
  // An extension changes the grant it extends; any other request creates one, linked to it by the
  // same statement that approves it.
  const extended = request.kind === 'extension' ? request.grantId : null;
  const grant = extended
    ? undefined
    : newGrant(deps, now, request, findEntry(deps, request.app, request.role), seconds);
  const decided = {
    status: 'approved',
    grantedSeconds: seconds,
    decidedAt: now,
    currentStep: -1,
    ...(grant ? { grantId: grant.id } : {}),
  } as const;
  await tx.updateRequest(requestId, ['pending_approval'], decided);
  // What this transaction wrote, without reading it back.
  const approved: AccessRequest = { ...request, ...decided };
  await tx.appendAudit({
    at: now,
    actor: { kind: 'system', component: 'chain' },
    action: 'request.approved',
    requestId,
    details: {
      grantedSeconds: seconds,
      approvers: decisions.map(
        (d) => `${d.approver.email}${d.onBehalfOf ? ` for ${d.onBehalfOf.email}` : ''} (step ${d.stepIndex + 1})`,
      ),
    },
  });
  await notify(tx, now, `approved:${requestId}`, {
    type: 'request.approved',
    recipient: requesterRecipient(approved),
    requestId,
  });
  if (!grant) {
    await applyExtension(tx, now, extended!, approved, seconds);
    return { kind: 'request_approved', request: approved, grantId: extended };
  }
  await recordGrant(tx, now, grant, { kind: 'system', component: 'chain' });
  return { kind: 'request_approved', request: approved, grantId: grant.id };
}

interface DecisionRight {
  step: StepRecord;
  /** The approver the person decides for, as their delegate; null when they decide for themselves. */
  onBehalfOf: PersonRef | null;
  delegation: Delegation | null;
  /** The request's decisions so far, as read for the check (in the order they were recorded). */
  decisions: DecisionRecord[];
}

/**
 * The rules for deciding, once: the request is pending, the step is the open one, the person is
 * not the requester and may decide it (an approver of the step, or the delegate of one), and
 * neither they nor the approver they stand in for decided a step of this request already.
 */
async function assertCanDecide(
  reads: StoreReads,
  request: AccessRequest,
  input: ReviewInput,
  now: string,
): Promise<DecisionRight> {
  if (request.status !== 'pending_approval') {
    throw new AccessError(
      'stale_decision',
      `This request was already ${describeStatus(request.status)}; your click changed nothing.`,
      { status: request.status },
    );
  }
  if (input.stepIndex !== undefined && input.stepIndex !== request.currentStep) {
    throw new AccessError(
      'stale_decision',
      `Step ${input.stepIndex + 1} of this request was already decided; it is now at step ${request.currentStep + 1}.`,
    );
  }
  const me = input.actor.person.id;
  if (me === request.requester.directoryId)
    throw new AccessError('self_approval', 'You cannot decide your own request.');
  const step = (await reads.getSteps(request.id)).find((s) => s.index === request.currentStep);
  if (!step || step.status !== 'open') throw new AccessError('stale_decision', 'This step is no longer open.');
  const decisions = await reads.getDecisions(request.id);
  const mine = decisionUsing(decisions, me);
  if (mine) throw alreadyUsed(mine, me, step, decisions);
  if (isStepApprover(step, me)) return { step, onBehalfOf: null, delegation: null, decisions };

  // Not an approver: perhaps the delegate of one.
  const through = await delegationFor(reads, { delegateId: me, step, request, decisions, now });
  if (through?.usable)
    return { step, onBehalfOf: through.delegation.delegator, delegation: through.delegation, decisions };
  if (through) {
    const delegator = through.delegation.delegator;
    const used = decisionUsing(decisions, delegator.directoryId);
    const by = used && used.approver.directoryId !== delegator.directoryId ? `${used.approver.name} for them` : 'they';
    throw new AccessError(
      'already_decided_step',
      delegator.directoryId === request.requester.directoryId
        ? `This is ${delegator.name}'s own request: nobody decides it for them.`
        : `${delegator.name} is already used on this request (${by} decided step ${(used?.stepIndex ?? 0) + 1}), and one person approves at most one step.`,
    );
  }
  throw new AccessError(
    'not_an_approver',
    `You are not an approver of step ${step.index + 1} (${step.label}) of this request.`,
  );
}

function alreadyUsed(mine: DecisionRecord, me: string, step: StepRecord, decisions: DecisionRecord[]): AccessError {
  if (mine.approver.directoryId !== me) {
    // Someone decided for me while I was away.
    return new AccessError(
      'already_decided_step',
      `${mine.approver.name} already decided step ${mine.stepIndex + 1} of this request for you, as your delegate; one person approves at most one step.`,
    );
  }
  if (mine.stepIndex === step.index) {
    const approvals = decisions.filter((d) => d.stepIndex === step.index && d.decision === 'approve').length;
    return new AccessError(
      'already_decided_step',
      step.required > 1
        ? `You already approved this step (${approvals} of ${step.required} approvals so far).`
        : 'You already approved this step.',
    );
  }
  return new AccessError(
    'already_decided_step',
    `You already approved step ${mine.stepIndex + 1} of this request, and one person approves at most one step.`,
  );
}

function deadlinePassed(request: AccessRequest): AccessError {
  return new AccessError(
    'deadline_passed',
    `This request expired without a decision at ${request.approvalDeadline} (the approval timeout); your click changed nothing.`,
  );
}

async function resolveNext(
  deps: Deps,
  request: AccessRequest,
  requester: Person,
  deciders: string[],
): Promise<ResolvedStep> {
  const entry = findEntry(deps, request.app, request.role);
  if (entry.role.approval === 'auto')
    throw new AccessError('invalid_state', 'This role no longer has an approval chain.');
  const index = request.currentStep + 1;
  // Steps come from the request's own policy version as stored, not a policy edited since.
  const stored = (await deps.store.getSteps(request.id)).find((s) => s.index === index);
  const step = stored?.step ?? entry.role.approval[index];
  if (!step) throw new AccessError('invalid_state', 'The approval chain has no further step.');
  const decided = usedPeople(await deps.store.getDecisions(request.id));
  for (const id of deciders) decided.add(id);
  const adminGroup = deps.settings.adminGroup;
  return resolveStepLive(deps.directory, {
    role: entry.role,
    step,
    index,
    requester,
    adminGroup,
    decidedEarlier: decided,
  });
}

function describeStatus(status: AccessRequest['status']): string {
  switch (status) {
    case 'approved':
      return 'approved';
    case 'denied':
      return 'denied';
    case 'cancelled':
      return 'cancelled by the requester';
    case 'approval_expired':
      return 'expired without a decision';
    default:
      return status;
  }
}
