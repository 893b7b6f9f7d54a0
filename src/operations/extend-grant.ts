/**
 * Extending a grant: the offer ("You hold GitHub owner until 15:00; extend by up to 3h?"), and the
 * extension itself, within the role's `max_total` and under its extension approval rule.
 */
import { checkEligibility } from '../domain/evaluate.js';
import { AccessError } from '../domain/errors.js';
import { DURATION_PRESETS_SECONDS, describeDuration } from '../domain/duration.js';
import type { AccessRequest, Grant } from '../domain/records.js';
import { actorOf, personRef, type ActingPerson } from './acting-person.js';
import { addSeconds, newId, nowIso, type Deps } from './context.js';
import { resolveChainLive } from './directory-facts.js';
import { notify, startChain, startRevocation } from './lifecycle.js';
import { assertTextWithin, TEXT_LIMITS } from '../domain/text-limits.js';
import { expireGrantIfDue } from './revoke-grant.js';
import { findEntry } from './policy-lookup.js';
import type { StoreTx } from './ports.js';

export interface ExtensionOffer {
  grant: Grant;
  expiresAt: string | null;
  /** 0 when the grant cannot be extended (see `refusal`). */
  maxAddSeconds: number;
  choices: number[];
  approval: 'same' | 'auto' | null;
  /** Why no extension is possible, for a person to read. */
  refusal?: string;
}

/** What a holder may extend by now. Uses the role's current policy (the rule in force decides). */
export function extensionOffer(deps: Deps, grant: Grant): ExtensionOffer {
  const entry = deps.catalog.find(grant.app, grant.role);
  const rule = entry?.role.extension ?? null;
  const base = { grant, expiresAt: grant.expiresAt, choices: [] as number[] };
  if (grant.status === 'active' && grant.expiresAt && grant.expiresAt <= nowIso(deps)) {
    // Expired, even if the sweep has not ended it yet: the deadline holds when the click arrives.
    const what = `${entry?.app.name ?? grant.app} ${entry?.role.name ?? grant.role}`;
    return {
      ...base,
      maxAddSeconds: 0,
      approval: null,
      refusal: `Your ${what} access has expired; it can no longer be extended. Request it again instead.`,
    };
  }
  if (grant.status !== 'active' || !grant.expiresAt || !grant.activatedAt) {
    // An ended grant never becomes active again (Extend… pressed on a reminder after the expiry).
    const ended = grant.status === 'revoking' || grant.status === 'revoked' || grant.status === 'provisioning_failed';
    const what = `${entry?.app.name ?? grant.app} ${entry?.role.name ?? grant.role}`;
    const refusal = ended
      ? `Your ${what} access has ended; it can no longer be extended. Request it again instead.`
      : `Your ${what} access is still being set up; it can be extended once it is active.`;
    return { ...base, maxAddSeconds: 0, approval: null, refusal };
  }
  if (grant.breakGlass) {
    // Emergency access is capped; longer access goes through the approvers.
    return {
      ...base,
      maxAddSeconds: 0,
      approval: null,
      refusal: `Emergency access cannot be extended: ask for longer access with \`/access request ${grant.app} ${grant.role}\`.`,
    };
  }
  if (!entry || !rule) {
    // The views say until when it is held, in the reader's zone; the refusal says why it stops there.
    return {
      ...base,
      maxAddSeconds: 0,
      approval: null,
      refusal: 'This role cannot be extended: request it again after it ends.',
    };
  }
  const lifetime = (Date.parse(grant.expiresAt) - Date.parse(grant.activatedAt)) / 1000;
  const maxAddSeconds = Math.max(0, Math.floor(rule.maxTotalSeconds - lifetime));
  if (maxAddSeconds <= 0) {
    return {
      ...base,
      maxAddSeconds: 0,
      approval: rule.approval,
      refusal: `That is already the longest its policy allows (${describeDuration(rule.maxTotalSeconds)} in all).`,
    };
  }
  const choices = [...new Set([...DURATION_PRESETS_SECONDS.filter((s) => s < maxAddSeconds), maxAddSeconds])].sort(
    (a, b) => a - b,
  );
  return { ...base, maxAddSeconds, choices, approval: rule.approval };
}

/**
 * The offer, for the person pressing Extend: only the holder may see or take it (a forged or
 * forwarded button is refused with `not_holder`, like the extension itself).
 */
export async function extensionOfferFor(
  deps: Deps,
  input: { actor: ActingPerson; grantId: string },
): Promise<ExtensionOffer> {
  const grant = await deps.store.getGrant(input.grantId);
  if (!grant) throw new AccessError('not_found', 'This grant no longer exists.');
  if (grant.holder.directoryId !== input.actor.person.id)
    throw new AccessError('not_holder', 'Only the person who holds this access can extend it.');
  return extensionOffer(deps, grant);
}

export interface ExtendInput {
  actor: ActingPerson;
  grantId: string;
  addSeconds: number;
  justification?: string;
}

export type ExtendResult =
  | { kind: 'extended'; grant: Grant }
  | { kind: 'pending_approval'; request: AccessRequest }
  | { kind: 'already_pending'; request: AccessRequest };

export async function extendGrant(deps: Deps, input: ExtendInput): Promise<ExtendResult> {
  const grant = await deps.store.getGrant(input.grantId);
  if (!grant) throw new AccessError('not_found', 'This grant no longer exists.');
  if (grant.holder.directoryId !== input.actor.person.id)
    throw new AccessError('not_holder', 'Only the person who holds this access can extend it.');
  assertTextWithin(input.justification, TEXT_LIMITS.justification, 'The justification');
  const offer = extensionOffer(deps, grant);
  if (offer.refusal) {
    await expireGrantIfDue(deps, grant.id); // an expired grant's revocation starts now, not at the next sweep
    throw new AccessError('extension_not_allowed', offer.refusal, { expiresAt: grant.expiresAt });
  }
  if (!Number.isInteger(input.addSeconds) || input.addSeconds <= 0)
    throw new AccessError('invalid_duration', 'Choose how long to extend by.');
  if (input.addSeconds > offer.maxAddSeconds) {
    throw new AccessError(
      'extension_exceeds_limit',
      `You can extend by at most ${describeDuration(offer.maxAddSeconds)} (the policy allows ${describeDuration(grant.maxTotalSeconds ?? 0)} in all).`,
    );
  }
  const entry = findEntry(deps, grant.app, grant.role);
  const pending = await deps.store.findPendingRequest(grant.holder.directoryId, grant.app, grant.role);
  if (pending) return { kind: 'already_pending', request: pending };

  // Eligibility is checked again for every extension.
  const holder = await deps.directory.getPerson(grant.holder.directoryId);
  if (!holder) throw new AccessError('person_inactive', 'Your directory account no longer exists.');
  const eligibility = checkEligibility(entry.role, holder, await deps.directory.groupsOf(holder.id));
  if (!eligibility.eligible)
    throw new AccessError(
      'not_eligible',
      `You are no longer eligible for ${entry.app.name} ${entry.role.name}: ${eligibility.reason}.`,
    );
  if (entry.role.justification === 'required' && offer.approval === 'same' && !(input.justification ?? '').trim()) {
    throw new AccessError('justification_required', `${entry.app.name} ${entry.role.name} requires a justification.`);
  }

  const now = nowIso(deps);
  const actor = actorOf(input.actor);
  if (offer.approval === 'auto') {
    return await deps.store.transaction(async (tx) => {
      const request = extensionRequest(deps, now, grant, entry.version, input, 'approved');
      request.autoApproveRule = 'extension.approval: auto';
      request.grantedSeconds = input.addSeconds;
      request.decidedAt = now;
      // Lock order (ports.ts, Store): the grant before the audit chain.
      await tx.getGrant(grant.id);
      await tx.insertRequest(request);
      await tx.appendAudit({
        at: now,
        actor,
        action: 'request.submitted',
        requestId: request.id,
        grantId: grant.id,
        details: { kind: 'extension', addSeconds: input.addSeconds, justification: request.justification },
      });
      await tx.appendAudit({
        at: now,
        actor: { kind: 'system', component: 'policy' },
        action: 'request.autoApproved',
        requestId: request.id,
        grantId: grant.id,
        details: { rule: 'extension.approval: auto' },
      });
      await applyExtension(tx, now, grant.id, request, input.addSeconds);
      return { kind: 'extended' as const, grant: (await tx.getGrant(grant.id))! };
    });
  }

  // `approval: same`: the role's chain decides the extension like a new request.
  const chain = await resolveChainLive(deps.directory, entry.role, holder, deps.settings.adminGroup);
  if (!chain.satisfiable || chain.steps.length === 0)
    throw new AccessError(
      'unsatisfiable_chain',
      `No one can approve this extension: ${chain.reason ?? 'the chain is empty'}.`,
    );
  return await deps.store.transaction(async (tx) => {
    const request = extensionRequest(deps, now, grant, entry.version, input, 'pending_approval');
    request.currentStep = 0;
    request.stepCount = chain.steps.length;
    await tx.insertRequest(request);
    await tx.appendAudit({
      at: now,
      actor,
      action: 'request.submitted',
      requestId: request.id,
      grantId: grant.id,
      details: {
        kind: 'extension',
        addSeconds: input.addSeconds,
        justification: request.justification,
        chain: chain.steps.map((s) => s.label),
      },
    });
    await startChain(tx, now, request, chain.steps, deps.settings);
    return { kind: 'pending_approval' as const, request };
  });
}

function extensionRequest(
  deps: Deps,
  now: string,
  grant: Grant,
  version: string,
  input: ExtendInput,
  status: AccessRequest['status'],
): AccessRequest {
  return {
    id: newId(deps, 'req'),
    kind: 'extension',
    grantId: grant.id,
    requester: personRef(input.actor),
    app: grant.app,
    role: grant.role,
    policyName: grant.policyName,
    policyVersion: version,
    justification: (input.justification ?? '').trim(),
    requestedSeconds: input.addSeconds,
    grantedSeconds: null,
    status,
    autoApproveRule: null,
    currentStep: -1,
    stepCount: 0,
    createdAt: now,
    approvalDeadline: addSeconds(now, deps.settings.approvalTimeoutSeconds),
    decidedAt: null,
    decisionReason: null,
  };
}

/** Moves the grant's expiry by `seconds` (capped by max_total at the time of applying) and logs it. */
export async function applyExtension(
  tx: StoreTx,
  now: string,
  grantId: string,
  request: AccessRequest,
  seconds: number,
): Promise<void> {
  const grant = await tx.getGrant(grantId);
  if (!grant || grant.status !== 'active' || !grant.expiresAt || !grant.activatedAt) {
    await tx.appendAudit({
      at: now,
      actor: { kind: 'system', component: 'chain' },
      action: 'request.refused',
      requestId: request.id,
      grantId,
      details: { reason: `the grant is ${grant?.status ?? 'gone'}; the extension was not applied` },
    });
    return;
  }
  if (grant.expiresAt <= now) {
    // Approved after the grant expired (the sweep had not ended it yet): an expired grant is not revived.
    await tx.appendAudit({
      at: now,
      actor: { kind: 'system', component: 'chain' },
      action: 'request.refused',
      requestId: request.id,
      grantId,
      details: { reason: `the grant expired at ${grant.expiresAt}; the extension was not applied` },
    });
    await startRevocation(tx, now, grant, 'expired', { kind: 'system', component: 'sweep' }, null);
    return;
  }
  const cap =
    grant.maxTotalSeconds === null
      ? seconds
      : Math.max(0, grant.maxTotalSeconds - (Date.parse(grant.expiresAt) - Date.parse(grant.activatedAt)) / 1000);
  const added = Math.min(seconds, cap);
  const newExpiresAt = addSeconds(grant.expiresAt, added);
  await tx.updateGrant(grant.id, ['active'], { expiresAt: newExpiresAt, remindersSent: [] });
  await tx.insertExtension({
    id: `ext_${request.id.slice(4)}`,
    grantId: grant.id,
    requestId: request.id,
    addedSeconds: added,
    previousExpiresAt: grant.expiresAt,
    newExpiresAt,
    at: now,
  });
  await tx.appendAudit({
    at: now,
    actor: { kind: 'system', component: 'chain' },
    action: 'grant.extended',
    requestId: request.id,
    grantId: grant.id,
    details: { addedSeconds: added, previousExpiresAt: grant.expiresAt, newExpiresAt },
  });
  await notify(tx, now, `extended:${request.id}`, {
    type: 'grant.extended',
    recipient: { kind: 'person', directoryId: grant.holder.directoryId },
    grantId: grant.id,
    requestId: request.id,
  });
}
