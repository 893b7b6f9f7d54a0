/**
 * A person asks for a role. The policy is evaluated against live directory data; the request,
 * its first step (with approvers resolved now), the audit events and the messages owed are one
 * transaction.
 */
import { AccessError } from '../domain/errors.js';
import { assertTextWithin, TEXT_LIMITS } from '../domain/text-limits.js';
import type { Evaluation } from '../domain/evaluate.js';
import { OPEN_GRANT_STATUSES, type AccessRequest, type Grant } from '../domain/records.js';
import { actorOf, personRef, type ActingPerson } from './acting-person.js';
import { addSeconds, newId, nowIso, type Deps } from './context.js';
import { evaluateLive } from './directory-facts.js';
import { extensionOffer, type ExtensionOffer } from './extend-grant.js';
import { createGrant, notify, requesterRecipient, startChain } from './lifecycle.js';
import { findEntry } from './policy-lookup.js';
import type { StoreReads } from './ports.js';

export interface SubmitInput {
  requester: ActingPerson;
  app: string;
  role: string;
  durationSeconds?: number;
  justification?: string;
}

export type SubmitResult =
  | { kind: 'submitted'; request: AccessRequest; evaluation: Evaluation; grant?: Grant }
  | { kind: 'already_pending'; request: AccessRequest }
  | { kind: 'extension_offer'; offer: ExtensionOffer };

export async function submitRequest(deps: Deps, input: SubmitInput): Promise<SubmitResult> {
  assertTextWithin(input.justification, TEXT_LIMITS.justification, 'The justification');
  const entry = findEntry(deps, input.app, input.role);
  const requester = input.requester.person;

  // A role already held becomes an extension offer; a pending request is pointed to, not repeated.
  // Emergency access is not extended: a request while it is held asks for the access properly.
  const held = await heldGrant(deps.store, requester.id, input.app, input.role);
  if (held) return { kind: 'extension_offer', offer: extensionOffer(deps, held) };
  const pending = await deps.store.findPendingRequest(requester.id, input.app, input.role);
  if (pending) return { kind: 'already_pending', request: pending };

  const now = nowIso(deps);
  const { evaluation } = await evaluateLive(deps.directory, {
    app: entry.app,
    role: entry.role,
    version: entry.version,
    requester,
    adminGroup: deps.settings.adminGroup,
    request: { durationSeconds: input.durationSeconds, justification: input.justification },
    now: new Date(now),
  });
  const actor = actorOf(input.requester);

  if (evaluation.outcome !== 'needs_approval' && evaluation.outcome !== 'auto_approved') {
    const error = refusal(evaluation);
    await deps.store.transaction(
      async (tx) =>
        await tx.appendAudit({
          at: now,
          actor,
          action: 'request.refused',
          details: {
            app: input.app,
            role: input.role,
            policy: entry.role.policy,
            version: entry.version,
            outcome: evaluation.outcome,
            reason: evaluation.summary,
          },
        }),
    );
    throw error;
  }

  const seconds = evaluation.duration.requested.seconds;
  const steps = evaluation.outcome === 'auto_approved' ? [] : evaluation.chain;
  const request: AccessRequest = {
    id: newId(deps, 'req'),
    kind: 'access',
    grantId: null,
    requester: personRef(input.requester),
    app: entry.app.app,
    role: entry.role.id,
    policyName: entry.role.policy,
    policyVersion: entry.version,
    justification: (input.justification ?? '').trim(),
    requestedSeconds: seconds,
    grantedSeconds: null,
    status: 'pending_approval',
    autoApproveRule: null,
    currentStep: steps.length ? 0 : -1,
    stepCount: steps.length,
    createdAt: now,
    approvalDeadline: addSeconds(now, deps.settings.approvalTimeoutSeconds),
    decidedAt: null,
    decisionReason: null,
  };

  return await deps.store.transaction(async (tx) => {
    // Re-checked under the write lock: a concurrent submit may have won (the unique index agrees).
    const raced = await tx.findPendingRequest(requester.id, request.app, request.role);
    if (raced) return { kind: 'already_pending' as const, request: raced };
    const heldNow = await heldGrant(tx, requester.id, request.app, request.role);
    if (heldNow) return { kind: 'extension_offer' as const, offer: extensionOffer(deps, heldNow) };

    await tx.insertRequest(request);
    await tx.appendAudit({
      at: now,
      actor,
      action: 'request.submitted',
      requestId: request.id,
      details: {
        app: request.app,
        role: request.role,
        policy: request.policyName,
        version: request.policyVersion,
        requestedSeconds: seconds,
        justification: request.justification,
        eligibility: evaluation.eligibility.reason,
        chain: steps.map((s) => s.label),
      },
    });

    if (evaluation.outcome === 'auto_approved') {
      const rule = evaluation.autoApprove.rule ?? 'approval: auto';
      await tx.updateRequest(request.id, ['pending_approval'], {
        status: 'approved',
        grantedSeconds: seconds,
        decidedAt: now,
        autoApproveRule: rule,
        decisionReason: evaluation.autoApprove.reason,
      });
      await tx.appendAudit({
        at: now,
        actor: { kind: 'system', component: 'policy' },
        action: 'request.autoApproved',
        requestId: request.id,
        details: { rule, reason: evaluation.autoApprove.reason, conditions: evaluation.autoApprove.conditions },
      });
      const approved = {
        ...request,
        status: 'approved' as const,
        grantedSeconds: seconds,
        autoApproveRule: rule,
        decidedAt: now,
      };
      const grant = await createGrant(deps, tx, now, approved, entry, seconds, { kind: 'system', component: 'policy' });
      await notify(tx, now, `approved:${request.id}`, {
        type: 'request.approved',
        recipient: requesterRecipient(request),
        requestId: request.id,
      });
      return { kind: 'submitted' as const, request: { ...approved, grantId: grant.id }, evaluation, grant };
    }

    await startChain(tx, now, request, steps, deps.settings);
    return { kind: 'submitted' as const, request, evaluation };
  });
}

/** An open grant of the role that a new request would extend (emergency access never is). */
export async function heldGrant(
  reads: StoreReads,
  holderId: string,
  app: string,
  role: string,
): Promise<Grant | undefined> {
  const open = await reads.listGrants({ holderId, app, role, status: [...OPEN_GRANT_STATUSES] });
  return open.find((g) => !g.breakGlass);
}

function refusal(evaluation: Evaluation): AccessError {
  switch (evaluation.outcome) {
    case 'not_eligible':
      return new AccessError(
        'not_eligible',
        `You are not eligible for ${evaluation.appName} ${evaluation.roleName}: ${evaluation.eligibility.reason}.`,
        { evaluation },
      );
    case 'unsatisfiable':
      return new AccessError('unsatisfiable_chain', evaluation.summary, { evaluation });
    default:
      if (!evaluation.duration.requested.ok)
        return new AccessError('invalid_duration', `Duration: ${evaluation.duration.requested.reason}.`, {
          evaluation,
        });
      return new AccessError(
        'justification_required',
        `${evaluation.appName} ${evaluation.roleName} requires a justification.`,
        { evaluation },
      );
  }
}
