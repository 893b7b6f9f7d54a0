/**
 * Transaction-side building blocks shared by the verbs: each writes a state change, its audit
 * event and the jobs it causes, inside the caller's transaction. No I/O happens here.
 */
import { systemActor, type Actor, type AuditEvent } from '../domain/audit.js';
import type { CatalogEntry } from '../domain/catalog.js';
import type { ResolvedStep } from '../domain/evaluate.js';
import type { Settings } from '../domain/policy.js';
import type {
  AccessRequest,
  ChannelRecipient,
  Grant,
  Notification,
  PersonRecipient,
  PersonRef,
  RevocationReason,
  StepRecord,
} from '../domain/records.js';
import { redactProvision } from '../domain/redact-url.js';
import { provisionMethod } from '../domain/provisioning/methods.js';
import { refOf } from './acting-person.js';
import { delegatesOf, stepApprovers } from './approver-rules.js';
import { addSeconds, newId, type Deps } from './context.js';
import type { StoreTx } from './ports.js';

export function notify(tx: StoreTx, now: string, key: string, notification: Notification): Promise<void> {
  return tx.enqueueJob(`notify:${key}`, { kind: 'notify', notification }, now);
}

export function requesterRecipient(request: AccessRequest): PersonRecipient {
  return { kind: 'person', directoryId: request.requester.directoryId };
}

/**
 * Writes a new request's chain: every step waiting, the first opened with its approvers resolved
 * now, and the requester told what lies ahead. The first step is inserted open (one statement, not
 * an insert and an update of the same row): nothing else can have opened it, the request is new.
 */
export async function startChain(
  tx: StoreTx,
  now: string,
  request: AccessRequest,
  chain: ResolvedStep[],
  settings: StepSettings,
): Promise<void> {
  const first = chain[0]!;
  const opened = openedStep(now, first, settings);
  await tx.insertSteps(
    chain.map((s) => ({
      requestId: request.id,
      index: s.index,
      step: s.step,
      label: s.label,
      required: s.required,
      status: 'waiting' as const,
      approvers: [],
      fallbackReason: null,
      notifyChannel: null,
      startedAt: null,
      decidedAt: null,
      escalateAt: null,
      escalatedAt: null,
      escalationApprovers: [],
      nextReminderAt: null,
      remindersSent: [],
      ...(s === first ? opened : {}),
    })),
  );
  await announceStep(tx, now, request, first, opened.approvers, { kind: 'system', component: 'chain' });
  await notify(tx, now, `submitted:${request.id}`, {
    type: 'request.submitted',
    recipient: requesterRecipient(request),
    requestId: request.id,
  });
}

/** What opening a step needs from the settings: when its approvers are reminded. */
export type StepSettings = Pick<Settings, 'approverRemindersSeconds'>;

/**
 * Opens a step with the approvers resolved for it now, logs the fallback if used, and asks them.
 * The step's escalation time and first approver reminder are set from now: the sweep finds them
 * by those times (`stepsDueToEscalate`, `stepsDueForApproverReminder`).
 */
export async function openStep(
  tx: StoreTx,
  now: string,
  request: AccessRequest,
  resolved: ResolvedStep,
  actor: Actor,
  settings: StepSettings,
): Promise<void> {
  const opened = openedStep(now, resolved, settings);
  if (!(await tx.updateStep(request.id, resolved.index, ['waiting'], opened))) return;
  await announceStep(tx, now, request, resolved, opened.approvers, actor);
}

/** A step's fields once open: its approvers as resolved now, its escalation and first reminder from now. */
function openedStep(now: string, resolved: ResolvedStep, settings: StepSettings) {
  const escalation = resolved.step.escalation;
  const firstReminder = settings.approverRemindersSeconds[0];
  return {
    status: 'open' as const,
    approvers: resolved.approvers.map((p) => refOf(p)),
    label: resolved.label,
    fallbackReason: resolved.fallback?.reason ?? null,
    notifyChannel: resolved.notifyChannel ?? null,
    startedAt: now,
    escalateAt: escalation ? addSeconds(now, escalation.afterSeconds) : null,
    nextReminderAt: firstReminder !== undefined ? addSeconds(now, firstReminder) : null,
  };
}

/** A step just opened: its audit events (started, the fallback if used) and its approvers asked. */
async function announceStep(
  tx: StoreTx,
  now: string,
  request: AccessRequest,
  resolved: ResolvedStep,
  approvers: PersonRef[],
  actor: Actor,
): Promise<void> {
  await tx.appendAudit({
    at: now,
    actor,
    action: 'step.started',
    requestId: request.id,
    details: {
      step: resolved.index + 1,
      of: request.stepCount,
      label: resolved.label,
      required: resolved.required,
      approvers: approvers.map((a) => a.email),
    },
  });
  if (resolved.fallback) {
    await tx.appendAudit({
      at: now,
      actor,
      action: 'step.fallbackUsed',
      requestId: request.id,
      details: { step: resolved.index + 1, reason: resolved.fallback.reason },
    });
  }
  await askApprovers(
    tx,
    now,
    request,
    resolved.index,
    resolved.notifyChannel ?? null,
    approvers.map((a) => a.directoryId),
  );
}

/**
 * Asks a step's approvers: one message in the step's channel, or a DM each. The delegates in force
 * of those approvers are asked by DM too, so an approver on holiday does not hold the step up.
 */
export async function askApprovers(
  tx: StoreTx,
  now: string,
  request: AccessRequest,
  stepIndex: number,
  channel: string | null,
  approverIds: string[],
): Promise<void> {
  const requestId = request.id;
  if (channel) {
    await notify(tx, now, `approval:${requestId}:${stepIndex}:channel`, {
      type: 'approval.requested',
      recipient: { kind: 'channel', channel },
      requestId,
      stepIndex,
    });
  } else {
    for (const directoryId of approverIds) {
      await notify(tx, now, `approval:${requestId}:${stepIndex}:${directoryId}`, {
        type: 'approval.requested',
        recipient: { kind: 'person', directoryId },
        requestId,
        stepIndex,
      });
    }
  }
  for (const delegate of await delegatesOf(tx, now, approverIds, request.requester.directoryId)) {
    const directoryId = delegate.directoryId;
    await notify(tx, now, `approval:${requestId}:${stepIndex}:${directoryId}`, {
      type: 'approval.requested',
      recipient: { kind: 'person', directoryId },
      requestId,
      stepIndex,
    });
  }
}

/** Every copy of a step's approval message shows the outcome (the adapter updates what it posted). */
export async function settleApprovalMessages(
  tx: StoreTx,
  now: string,
  request: AccessRequest,
  step: StepRecord,
  outcome: string,
): Promise<void> {
  // Every copy: the channel's, each approver's DM (with those the escalation added), and the DMs of
  // delegates (the notifier updates only what it posted).
  const recipients: (PersonRecipient | ChannelRecipient)[] = step.notifyChannel
    ? [
        { kind: 'channel', channel: step.notifyChannel },
        ...step.escalationApprovers.map((a): PersonRecipient => ({ kind: 'person', directoryId: a.directoryId })),
      ]
    : stepApprovers(step).map((a) => ({ kind: 'person', directoryId: a.directoryId }));
  for (const delegate of await delegatesOf(
    tx,
    now,
    stepApprovers(step).map((a) => a.directoryId),
    request.requester.directoryId,
  )) {
    recipients.push({ kind: 'person', directoryId: delegate.directoryId });
  }
  for (const recipient of recipients) {
    const who = recipient.kind === 'channel' ? recipient.channel : recipient.directoryId;
    await notify(tx, now, `outcome:${request.id}:${step.index}:${outcome}:${who}`, {
      type: 'approval.outcome',
      recipient,
      requestId: request.id,
      stepIndex: step.index,
    });
  }
}

/** How a request still waiting for approvers ends: withdrawn or superseded, or timed out. */
interface PendingRequestEnd {
  status: 'cancelled' | 'approval_expired';
  /** The request's decision reason. */
  reason: string;
  actor: Actor;
  /** The audit event's details, given the step that was open (if any). */
  details: (open: StepRecord | undefined) => Record<string, unknown>;
}

/**
 * Ends a request still waiting for approvers (cancelled by its requester or by emergency access, or
 * expired): its status, the open step closed and its approval messages showing the outcome, the
 * audit event, and the requester told. False, with nothing written, when it is no longer pending.
 */
export async function closePendingRequest(
  tx: StoreTx,
  now: string,
  request: AccessRequest,
  end: PendingRequestEnd,
): Promise<boolean> {
  if (
    !(await tx.updateRequest(request.id, ['pending_approval'], {
      status: end.status,
      decidedAt: now,
      decisionReason: end.reason,
      currentStep: -1,
    }))
  )
    return false;
  const outcome = end.status === 'cancelled' ? 'cancelled' : 'expired';
  const open = (await tx.getSteps(request.id)).find((s) => s.status === 'open');
  if (open) {
    await tx.updateStep(request.id, open.index, ['open'], { status: 'closed', decidedAt: now });
    await settleApprovalMessages(tx, now, request, open, outcome);
  }
  await tx.appendAudit({
    at: now,
    actor: end.actor,
    action: `request.${outcome}`,
    requestId: request.id,
    details: end.details(open),
  });
  await notify(tx, now, `${outcome}:${request.id}`, {
    type: `request.${outcome}`,
    recipient: requesterRecipient(request),
    requestId: request.id,
  });
  return true;
}

/** Creates the grant of an approved request, links the request to it and asks for it to be provisioned. */
export async function createGrant(
  deps: Deps,
  tx: StoreTx,
  now: string,
  request: AccessRequest,
  entry: CatalogEntry,
  seconds: number,
  actor: Actor,
): Promise<Grant> {
  const grant = newGrant(deps, now, request, entry, seconds);
  await tx.updateRequest(request.id, ['approved'], { grantId: grant.id });
  await recordGrant(tx, now, grant, actor);
  return grant;
}

/**
 * The grant an approved request creates, not written yet: a caller that updates the request anyway
 * links it in the same statement, then writes it with `recordGrant`.
 */
export function newGrant(deps: Deps, now: string, request: AccessRequest, entry: CatalogEntry, seconds: number): Grant {
  // Emergency access is never extended: a longer need goes through the approvers.
  const breakGlass = request.kind === 'break_glass';
  const extension = breakGlass ? null : entry.role.extension;
  return {
    id: newId(deps, 'grt'),
    requestId: request.id,
    holder: request.requester,
    app: request.app,
    role: request.role,
    policyName: request.policyName,
    policyVersion: request.policyVersion,
    sensitive: entry.role.sensitive,
    breakGlass,
    snapshot: { provision: entry.role.provision, policyName: request.policyName, policyVersion: request.policyVersion },
    alreadyMember: null,
    status: 'provisioning',
    durationSeconds: seconds,
    maxTotalSeconds: extension?.maxTotalSeconds ?? null,
    extensionApproval: extension?.approval ?? null,
    createdAt: now,
    activatedAt: null,
    expiresAt: null,
    revocationReason: null,
    revocationNote: null,
    revokedBy: null,
    revocationStartedAt: null,
    revokedAt: null,
    remindersSent: [],
    failures: 0,
    lastError: null,
  };
}

/** Writes a new grant (its request already linked to it), its audit event and its provisioning job. */
export async function recordGrant(tx: StoreTx, now: string, grant: Grant, actor: Actor): Promise<void> {
  await tx.insertGrant(grant);
  await tx.appendAudit({
    at: now,
    actor,
    action: 'grant.provisioningStarted',
    requestId: grant.requestId,
    grantId: grant.id,
    details: {
      method: grant.snapshot.provision.method,
      provision: redactProvision(grant.snapshot.provision),
      durationSeconds: grant.durationSeconds,
      ...(grant.breakGlass ? { breakGlass: true } : {}),
    },
  });
  await tx.enqueueJob(`provision:${grant.id}`, { kind: 'provision', grantId: grant.id }, now, effectSubject(grant));
}

/**
 * What a grant's provisioning and revocation act on: the holder's membership of the group its
 * method manages (`okta_group`: shared by every grant through that group), or else the grant
 * itself (a webhook call, a manual task).
 * Jobs of one subject never run at the same time, whichever process runs them (`StoreTx.claimJob`),
 * so a removal cannot run while an add of the same membership is still in flight.
 */
export function effectSubject(grant: Pick<Grant, 'id' | 'holder' | 'snapshot'>): string {
  const provision = grant.snapshot.provision;
  const group = provisionMethod(provision).managedGroup(provision);
  if (group === null) return `${provision.method}:${grant.id}`;
  return membershipSubject(group, grant.holder.directoryId);
}

/**
 * A person's membership of a directory group, as a job subject: the grants' effects through the
 * group and an access review's removal of a standing membership act on the same thing.
 */
export function membershipSubject(group: string, holderId: string): string {
  return `okta_group:${group}:${holderId}`;
}

/** Marks a grant active from now for its duration and tells the holder. */
export async function activateGrant(
  tx: StoreTx,
  now: string,
  grant: Grant,
  actor: Actor,
  details: Record<string, unknown>,
): Promise<boolean> {
  const expiresAt = addSeconds(now, grant.durationSeconds);
  const ok = await tx.updateGrant(grant.id, ['provisioning'], {
    status: 'active',
    activatedAt: now,
    expiresAt,
    failures: 0,
    lastError: null,
  });
  if (!ok) return false;
  await tx.appendAudit({
    at: now,
    actor,
    action: 'grant.activated',
    requestId: grant.requestId,
    grantId: grant.id,
    details: { expiresAt, durationSeconds: grant.durationSeconds, ...details },
  });
  await notify(tx, now, `active:${grant.id}`, {
    type: 'grant.active',
    recipient: { kind: 'person', directoryId: grant.holder.directoryId },
    grantId: grant.id,
    requestId: grant.requestId,
  });
  return true;
}

/**
 * Starts taking a grant away: the one path for expiry, relinquishing, admin revocation,
 * offboarding. The effect runs as a job from the stored provisioning snapshot.
 */
export async function startRevocation(
  tx: StoreTx,
  now: string,
  grant: Grant,
  reason: RevocationReason,
  actor: Actor,
  note: string | null,
): Promise<boolean> {
  const by = actor.kind === 'person' ? actor.email : `system:${actor.component}`;
  const ok = await tx.updateGrant(grant.id, ['active', 'provisioning', 'provisioning_failed'], {
    status: 'revoking',
    revocationReason: reason,
    revocationNote: note,
    revokedBy: by,
    revocationStartedAt: now,
    failures: 0,
    lastError: null,
  });
  if (!ok) return false;
  await tx.appendAudit({
    at: now,
    actor,
    action: 'grant.revocationStarted',
    requestId: grant.requestId,
    grantId: grant.id,
    details: { reason, note, method: grant.snapshot.provision.method },
  });
  await tx.enqueueJob(`revoke:${grant.id}`, { kind: 'revoke', grantId: grant.id }, now, effectSubject(grant));
  return true;
}

/** Records a finished revocation and tells the holder why (with Re-request, in Slack). */
export async function completeRevocation(
  tx: StoreTx,
  now: string,
  grant: Grant,
  actor: Actor,
  details: Record<string, unknown>,
): Promise<boolean> {
  const ok = await tx.updateGrant(grant.id, ['revoking'], { status: 'revoked', revokedAt: now, lastError: null });
  if (!ok) return false;
  const event = await tx.appendAudit({
    at: now,
    actor,
    action: 'grant.revoked',
    requestId: grant.requestId,
    grantId: grant.id,
    details: {
      reason: grant.revocationReason,
      note: grant.revocationNote,
      by: grant.revokedBy,
      method: grant.snapshot.provision.method,
      ...details,
    },
  });
  await notify(tx, now, `revoked:${grant.id}`, {
    type: 'grant.revoked',
    recipient: { kind: 'person', directoryId: grant.holder.directoryId },
    grantId: grant.id,
    requestId: grant.requestId,
  });
  await settleReviewItemsOfGrant(
    tx,
    now,
    grant,
    event,
    details.removed === false ? 'grant revoked; the group membership was kept (see grant.membershipKept)' : null,
  );
  return true;
}

/**
 * An access review revoked this grant (or it was undecided and the review revokes those): the
 * revocation is confirmed now, so the review item's removal is verified, tied to the
 * `grant.revoked` event, and the reviewers' lists and a closed review's summary say so.
 */
async function settleReviewItemsOfGrant(
  tx: StoreTx,
  now: string,
  grant: Grant,
  event: AuditEvent,
  kept: string | null,
): Promise<void> {
  for (const item of await tx.reviewItemsOfGrant(grant.id)) {
    const detail =
      kept ??
      `grant ${grant.id} revoked; the removal was confirmed by the ${grant.snapshot.provision.method} provisioner`;
    const patch = {
      remediation: 'removed' as const,
      remediatedAt: now,
      remediationEventSeq: event.seq,
      remediationDetail: detail,
    };
    if (!(await tx.updateReviewItem(item.id, { decision: ['revoke', 'undecided'], remediation: ['pending'] }, patch)))
      continue;
    await tx.appendAudit({
      at: now,
      actor: systemActor('review'),
      action: 'reviewItem.remediated',
      grantId: grant.id,
      details: {
        campaign: item.campaignId,
        item: item.id,
        holder: item.holder.email,
        verifiedBy: `grant.revoked #${event.seq}`,
        detail,
      },
    });
    await notifyReviewChange(tx, now, item.campaignId, item.id, 'remediated');
  }
}

/** Every reviewer's list that holds the item is brought up to date, and a closed campaign's summary too. */
export async function notifyReviewChange(
  tx: StoreTx,
  now: string,
  campaignId: string,
  itemId: string,
  what: string,
): Promise<void> {
  for (const a of await tx.assignmentsOf(itemId)) {
    const key = `review-updated:${campaignId}:${a.reviewerId}:${itemId}:${what}`;
    await notify(tx, now, key, {
      type: 'review.updated',
      recipient: { kind: 'person', directoryId: a.reviewerId },
      campaignId,
    });
  }
  // Once the campaign closed, its summary (posted to the channel chosen at the close) follows.
  const closed = await tx.getJobByKey(summaryJobKey(campaignId, 'closed'));
  if (closed?.payload.kind === 'notify' && closed.payload.notification.type === 'review.summary') {
    await notify(tx, now, summaryKey(campaignId, `${itemId}:${what}`), closed.payload.notification);
  }
}

/** The key of a campaign's summary job: `closed` when the campaign closes, then one per change. */
export function summaryKey(campaignId: string, change: string): string {
  return `review-summary:${campaignId}:${change}`;
}

function summaryJobKey(campaignId: string, change: string): string {
  return `notify:${summaryKey(campaignId, change)}`;
}

export function alert(
  tx: StoreTx,
  now: string,
  alertsChannel: string,
  key: string,
  text: string,
  ids: { grantId?: string; requestId?: string } = {},
): Promise<void> {
  return notify(tx, now, `alert:${key}`, {
    type: 'alert',
    recipient: { kind: 'channel', channel: alertsChannel },
    text,
    ...ids,
  });
}
