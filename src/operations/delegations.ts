/**
 * Delegating one's approvals while away: `/access delegate @person until DATE` and `/access
 * delegate off`. The delegate may decide what the delegator could (review-request.ts checks it when
 * they decide), while the delegation is in force; never their own request, never a step they (or
 * the person they stand in for) already satisfy. One active delegation per person: a new one
 * replaces the old. Every start and end is audited and both people hear of it; it ends by itself
 * at its end time (the sweep), and when either person leaves (offboarding) or is found inactive
 * when the delegate decides.
 */
import { systemActor, type Actor } from '../domain/audit.js';
import { AccessError } from '../domain/errors.js';
import type { Delegation, DelegationEndReason } from '../domain/records.js';
import { actorOf, personRef, refOf, type ActingPerson } from './acting-person.js';
import { decisionUsing, isStepApprover } from './approver-rules.js';
import { newId, nowIso, type Deps } from './context.js';
import { notify } from './lifecycle.js';
import type { StoreTx } from './ports.js';

/** The longest a delegation may run: a holiday, a parental leave's first months; never for good. */
const MAX_DELEGATION_DAYS = 90;
const DAY_MS = 86_400_000;

export interface DelegateInput {
  actor: ActingPerson;
  /** The delegate, by directory id (the Slack adapter found them from the person picked). */
  delegateId: string;
  /** The end (exclusive), an instant: the end of the day named, in the delegator's zone. */
  until: string;
}

export async function delegateApprovals(deps: Deps, input: DelegateInput): Promise<Delegation> {
  const now = nowIso(deps);
  const me = input.actor.person;
  // `details.field` names what is wrong (the delegate or the end), for a form's inline error.
  const wrong = (field: 'delegate' | 'until', message: string) =>
    new AccessError('invalid_delegation', message, { field });
  if (input.delegateId === me.id)
    throw wrong('delegate', 'Pick someone other than yourself to decide your approvals while you are away.');
  if (!(Date.parse(input.until) > Date.parse(now)))
    throw wrong('until', 'The delegation must end in the future: pick a later day.');
  if (Date.parse(input.until) - Date.parse(now) > MAX_DELEGATION_DAYS * DAY_MS) {
    throw wrong(
      'until',
      `A delegation lasts at most ${MAX_DELEGATION_DAYS} days; pick an earlier day (you can delegate again later).`,
    );
  }
  // Both people as the directory says now: an inactive delegate could never decide anything.
  const [meNow, delegate] = await Promise.all([
    deps.directory.getPerson(me.id),
    deps.directory.getPerson(input.delegateId),
  ]);
  if (!meNow?.active)
    throw new AccessError('person_inactive', 'Your directory account is not active, so you cannot delegate.');
  if (!delegate) throw wrong('delegate', 'That person is not in the directory.');
  if (!delegate.active)
    throw wrong('delegate', `${delegate.name}'s directory account is not active, so they cannot decide for you.`);
  const delegateSlack = (await deps.store.bindingForPerson(delegate.id))?.slackUserId ?? null;

  const delegation: Delegation = {
    id: newId(deps, 'dlg'),
    delegator: personRef(input.actor),
    delegate: refOf(delegate, delegateSlack),
    startsAt: now,
    endsAt: input.until,
    status: 'active',
    createdAt: now,
    endedAt: null,
    endedReason: null,
  };
  const actor = actorOf(input.actor);
  await deps.store.transaction(async (tx) => {
    const previous = await tx.activeDelegationBy(me.id, { lock: true });
    if (previous) await endDelegationTx(tx, now, previous, 'replaced', actor);
    await tx.insertDelegation(delegation);
    await tx.appendAudit({
      at: now,
      actor,
      action: 'delegation.created',
      details: {
        delegationId: delegation.id,
        delegate: delegate.email,
        delegateId: delegate.id,
        startsAt: now,
        endsAt: input.until,
      },
    });
    await notify(tx, now, `delegation-started:${delegation.id}`, {
      type: 'delegation.started',
      recipient: { kind: 'person', directoryId: delegate.id },
      delegationId: delegation.id,
    });
    await askDelegateForWaiting(tx, now, delegation);
  });
  return delegation;
}

/** `/access delegate off`: the delegator ends their delegation now. */
export async function endOwnDelegation(deps: Deps, input: { actor: ActingPerson }): Promise<Delegation> {
  const now = nowIso(deps);
  return await deps.store.transaction(async (tx) => {
    const active = await tx.activeDelegationBy(input.actor.person.id, { lock: true });
    if (!active) throw new AccessError('not_found', 'You have no delegation to end: your approvals come to you.');
    await endDelegationTx(tx, now, active, 'off', actorOf(input.actor));
    return (await tx.getDelegation(active.id))!;
  });
}

/** Ends one delegation in its own transaction (a delegate found a delegator inactive); false when it already ended. */
export async function endDelegation(
  deps: Pick<Deps, 'store' | 'clock'>,
  delegation: Delegation,
  reason: DelegationEndReason,
  actor: Actor,
): Promise<boolean> {
  const now = deps.clock.now().toISOString();
  return await deps.store.transaction((tx) => endDelegationTx(tx, now, delegation, reason, actor));
}

/** Ends a delegation: conditional on it being active, audited, and both people told. */
async function endDelegationTx(
  tx: StoreTx,
  now: string,
  delegation: Delegation,
  reason: DelegationEndReason,
  actor: Actor,
): Promise<boolean> {
  if (!(await tx.updateDelegation(delegation.id, ['active'], { status: 'ended', endedAt: now, endedReason: reason })))
    return false;
  await tx.appendAudit({
    at: now,
    actor,
    action: 'delegation.ended',
    details: {
      delegationId: delegation.id,
      delegator: delegation.delegator.email,
      delegate: delegation.delegate.email,
      reason,
      endsAt: delegation.endsAt,
    },
  });
  // The delegator who turned it off knows (the command answered them); the delegate must hear it.
  const told = reason === 'off' ? [delegation.delegate] : [delegation.delegate, delegation.delegator];
  for (const person of told) {
    await notify(tx, now, `delegation-ended:${delegation.id}:${person.directoryId}`, {
      type: 'delegation.ended',
      recipient: { kind: 'person', directoryId: person.directoryId },
      delegationId: delegation.id,
    });
  }
  return true;
}

/** Delegations whose end passed end now (the sweep). */
export async function expireDelegations(deps: Deps, batch = 200): Promise<number> {
  const now = nowIso(deps);
  let ended = 0;
  for (;;) {
    const due = await deps.store.expiredDelegations(now, batch);
    if (due.length === 0) return ended;
    const n = await deps.store.transaction(async (tx) => {
      let count = 0;
      // Lock order (ports.ts, Store): the batch's delegations before the first audit event.
      await lockDelegations(tx, due);
      for (const delegation of due)
        if (await endDelegationTx(tx, now, delegation, 'expired', systemActor('sweep'))) count++;
      return count;
    });
    ended += n;
    if (due.length < batch || n === 0) return ended;
  }
}

/** Locks these delegations in id order (PostgreSQL: `FOR UPDATE`), as a transaction's first step. */
export async function lockDelegations(tx: StoreTx, delegations: readonly Delegation[]): Promise<void> {
  if (delegations.length > 0) await tx.getDelegations(delegations.map((d) => d.id));
}

/**
 * A person left: every delegation they give or receive ends (inside the offboarding transaction,
 * which read and locked them with `lockDelegations` before its first audit event).
 */
export async function endDelegationsOf(
  tx: StoreTx,
  now: string,
  personId: string,
  involved: readonly Delegation[],
  actor: Actor,
): Promise<number> {
  let ended = 0;
  for (const delegation of involved) {
    const reason: DelegationEndReason =
      delegation.delegator.directoryId === personId ? 'delegator_inactive' : 'delegate_inactive';
    if (await endDelegationTx(tx, now, delegation, reason, actor)) ended++;
  }
  return ended;
}

/**
 * The approvals already waiting for the delegator go to the delegate too (their DM), except where
 * the delegate could not decide: their own request, or one where they (or the delegator) already
 * decided a step. Steps opened later ask the delegate as they open (`askApprovers`).
 */
async function askDelegateForWaiting(tx: StoreTx, now: string, delegation: Delegation): Promise<void> {
  const delegateId = delegation.delegate.directoryId;
  const waiting = await tx.requestsAwaiting(delegation.delegator.directoryId);
  const decisionsOf = await tx.decisionsFor(waiting.map((r) => r.id));
  for (const request of waiting) {
    if (request.requester.directoryId === delegateId) continue;
    const step = (await tx.getSteps(request.id)).find((s) => s.index === request.currentStep);
    if (!step || step.status !== 'open' || isStepApprover(step, delegateId)) continue;
    const decisions = decisionsOf.get(request.id) ?? [];
    if (decisionUsing(decisions, delegateId) || decisionUsing(decisions, delegation.delegator.directoryId)) continue;
    await notify(tx, now, `approval:${request.id}:${step.index}:${delegateId}`, {
      type: 'approval.requested',
      recipient: { kind: 'person', directoryId: delegateId },
      requestId: request.id,
      stepIndex: step.index,
    });
  }
}
