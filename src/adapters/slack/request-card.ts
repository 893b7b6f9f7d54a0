/** Assembles the builders' view model of a request from stored state (never from a payload). */
import { autoApproveWords } from '../../../blocks/role-summary.js';
import type { PersonLabel, ProvisioningView, RequestCard } from '../../../blocks/view-models.js';
import type { Provision } from '../../domain/policy.js';
import type { AccessRequest, PersonRef, StepRecord } from '../../domain/records.js';
import type { Deps } from '../../operations/context.js';
import { describeProvision } from '../../domain/provisioning/methods.js';

/**
 * The request as a card for the builders. `timezone` is the reader's (the fallback text of every
 * date is in it); the bot's zone when the reader is a channel or unknown. `steps`: the request's
 * stored steps, when the caller read them already (for their approvers).
 */
export async function requestCard(
  deps: Pick<Deps, 'store' | 'catalog' | 'settings'>,
  requestOrId: AccessRequest | string,
  timezone?: string,
  steps?: readonly StepRecord[],
): Promise<RequestCard | undefined> {
  const request = typeof requestOrId === 'string' ? await deps.store.getRequest(requestOrId) : requestOrId;
  if (!request) return undefined;
  const entry = deps.catalog.find(request.app, request.role);
  const [decisions, grant] = await Promise.all([
    deps.store.getDecisions(request.id),
    request.grantId ? deps.store.getGrant(request.grantId) : deps.store.grantForRequest(request.id),
  ]);
  const review = grant?.breakGlass ? await deps.store.getBreakGlassReview(grant.id) : undefined;
  return {
    id: request.id,
    kind: request.kind,
    requester: personLabel(request.requester),
    appName: entry?.app.name ?? request.app,
    roleName: entry?.role.name ?? request.role,
    policyName: request.policyName,
    policyVersion: request.policyVersion,
    justification: request.justification,
    requestedSeconds: request.requestedSeconds,
    grantedSeconds: request.grantedSeconds,
    status: request.status,
    decisionReason: request.decisionReason,
    decidedAt: request.decidedAt,
    autoApproveRule: request.autoApproveRule,
    autoApproveWhy: request.autoApproveRule && entry ? autoApproveWords(entry.role) : null,
    currentStep: request.currentStep,
    steps: (steps ?? (await deps.store.getSteps(request.id))).map((s) => ({
      index: s.index,
      label: s.label,
      approver: s.step,
      required: s.required,
      status: s.status,
      approverCount: s.approvers.length,
      approverNames: s.approvers.map((a) => a.name),
      notifyChannel: s.notifyChannel,
      fallbackReason: s.fallbackReason,
      decisions: decisions
        .filter((d) => d.stepIndex === s.index)
        .map((d) => ({
          person: personLabel(d.approver),
          decision: d.decision,
          reason: d.reason,
          shortenedToSeconds: d.shortenedToSeconds,
          at: d.at,
          onBehalfOf: d.onBehalfOf ? personLabel(d.onBehalfOf) : null,
        })),
      startedAt: s.startedAt,
      escalatedAt: s.escalatedAt,
      escalationNames: s.escalationApprovers.map((a) => a.name),
    })),
    createdAt: request.createdAt,
    approvalDeadline: request.approvalDeadline,
    grant: grant
      ? {
          id: grant.id,
          status: grant.status,
          activatedAt: grant.activatedAt,
          expiresAt: grant.expiresAt,
          revocationReason: grant.revocationReason,
          revocationNote: grant.revocationNote,
          revokedBy: grant.revokedBy,
          lastError: grant.lastError,
          revokedAt: grant.revokedAt,
          extendable: (deps.catalog.find(grant.app, grant.role)?.role.extension ?? null) !== null,
          durationSeconds: grant.durationSeconds,
        }
      : null,
    // A grant is removed the way it was set up (its snapshot); before it exists, as the policy says now.
    provisioning: provisioningView(grant?.snapshot.provision ?? entry?.role.provision),
    reminderLeads: [...deps.settings.remindersSeconds],
    timezone: timezone ?? deps.settings.timezone,
    breakGlass: review
      ? {
          reviewers: review.reviewers,
          incident: review.incident,
          dueAt: review.dueAt,
          status: review.status,
          reviewer: review.reviewer ? personLabel(review.reviewer) : null,
          reason: review.reason,
          reviewedAt: review.reviewedAt,
        }
      : null,
  };
}

export function provisioningView(provision: Provision | undefined): ProvisioningView {
  const described = provision && describeProvision(provision);
  // A method a person carries out names the group they are in (its target).
  return described && !described.automatic
    ? { kind: 'manual', assigneeGroup: described.target }
    : { kind: 'automatic' };
}

/** A person as recorded on a request, grant or task, as the block builders label them. */
export function personLabel(person: PersonRef): PersonLabel {
  return { name: person.name, email: person.email, slackId: person.slackId ?? null, directoryId: person.directoryId };
}
