/**
 * Every way a grant ends goes through `startRevocation`: the holder is done with it, an admin
 * revokes it, it expires, the holder left the company. The effect itself is a job
 * (`executeRevocation`) that uses the grant's stored provisioning snapshot.
 */
import { systemActor, type Actor } from '../domain/audit.js';
import { AccessError } from '../domain/errors.js';
import { assertTextWithin, TEXT_LIMITS } from '../domain/text-limits.js';
import type { Grant } from '../domain/records.js';
import { actorOf, type ActingPerson } from './acting-person.js';
import { endDelegationsOf, lockDelegations } from './delegations.js';
import { nowIso, type Deps } from './context.js';
import {
  alert,
  completeRevocation,
  notify,
  requesterRecipient,
  settleApprovalMessages,
  startRevocation,
} from './lifecycle.js';

/** "I'm done": the holder gives the access back early. */
export async function relinquishGrant(deps: Deps, input: { actor: ActingPerson; grantId: string }): Promise<Grant> {
  const now = nowIso(deps);
  return await deps.store.transaction(async (tx) => {
    const grant = await tx.getGrant(input.grantId);
    if (!grant) throw new AccessError('not_found', 'This grant no longer exists.');
    if (grant.holder.directoryId !== input.actor.person.id)
      throw new AccessError('not_holder', 'Only the person who holds this access can give it back.');
    if (!(await startRevocation(tx, now, grant, 'relinquished', actorOf(input.actor), null))) {
      throw new AccessError('stale_decision', `This access is already ${grant.status}; nothing to give back.`);
    }
    return (await tx.getGrant(grant.id))!;
  });
}

/** An admin takes a grant away, with a reason. Admin membership is read live when the form arrives. */
export async function revokeGrantAsAdmin(
  deps: Deps,
  input: { actor: ActingPerson; grantId: string; reason: string },
): Promise<Grant> {
  assertTextWithin(input.reason, TEXT_LIMITS.reason, 'The reason');
  await assertAdmin(deps, input.actor);
  const reason = input.reason.trim();
  if (!reason)
    throw new AccessError(
      'reason_required',
      'A revocation needs a reason; it is shown to the holder and kept in the audit log.',
    );
  const now = nowIso(deps);
  return await deps.store.transaction(async (tx) => {
    const grant = await tx.getGrant(input.grantId);
    if (!grant) throw new AccessError('not_found', 'This grant no longer exists.');
    if (!(await startRevocation(tx, now, grant, 'revoked', actorOf(input.actor), reason))) {
      throw new AccessError('stale_decision', `This access is already ${grant.status}; nothing to revoke.`);
    }
    return (await tx.getGrant(grant.id))!;
  });
}

export async function assertAdmin(deps: Pick<Deps, 'directory' | 'settings'>, actor: ActingPerson): Promise<void> {
  const [person, admin] = await Promise.all([
    deps.directory.getPerson(actor.person.id),
    deps.directory.isMember(actor.person.id, deps.settings.adminGroup),
  ]);
  if (!person?.active || !admin)
    throw new AccessError('not_admin', `Only members of ${deps.settings.adminGroup} can do this.`);
}

/** Active grants past their expiry start revocation with reason `expired`. */
export async function expireGrants(deps: Deps, batch = 500): Promise<number> {
  const now = nowIso(deps);
  const actor = systemActor('sweep');
  let started = 0;
  for (;;) {
    const due = await deps.store.expiredGrants(now, batch);
    if (due.length === 0) return started;
    const n = await deps.store.transaction(async (tx) => {
      let started = 0;
      // Lock order (ports.ts, Store): the whole batch of grants before the first audit event.
      await tx.lockGrants(due.map((grant) => grant.id));
      for (const grant of due) if (await startRevocation(tx, now, grant, 'expired', actor, null)) started++;
      return started;
    });
    started += n;
    if (due.length < batch || n === 0) return started;
  }
}

/** Starts the revocation of one grant whose expiry has passed (what the sweep would do for it); false when not due. */
export async function expireGrantIfDue(deps: Deps, grantId: string): Promise<boolean> {
  const now = nowIso(deps);
  return await deps.store.transaction(async (tx) => {
    const grant = await tx.getGrant(grantId);
    if (!grant || grant.status !== 'active' || !grant.expiresAt || grant.expiresAt > now) return false;
    return await startRevocation(tx, now, grant, 'expired', systemActor('sweep'), null);
  });
}

/**
 * The person left (deactivated or suspended in the directory, or gone): every grant they hold ends
 * with reason `offboarded`, their pending requests are cancelled, and the delegations they give or
 * receive end.
 */
export async function offboardPerson(
  deps: Deps,
  input: { directoryId: string; source: string; status: string },
): Promise<{ grants: number; requests: number; delegations: number }> {
  const now = nowIso(deps);
  const actor: Actor = systemActor('offboarding');
  return await deps.store.transaction(async (tx) => {
    const grants = await tx.listGrants({
      holderId: input.directoryId,
      status: ['provisioning', 'active', 'provisioning_failed'],
    });
    const pending = await tx.listRequests({ requesterId: input.directoryId, status: ['pending_approval'] });
    const involved = await tx.activeDelegationsInvolving(input.directoryId);
    // Lock order (ports.ts, Store): every grant, request and delegation this changes, before the first audit event.
    await tx.lockGrants(grants.map((grant) => grant.id));
    for (const request of pending) await tx.getRequest(request.id);
    await lockDelegations(tx, involved);
    let ended = 0;
    for (const grant of grants)
      if (
        await startRevocation(tx, now, grant, 'offboarded', actor, `${input.source}: directory status ${input.status}`)
      )
        ended++;
    for (const request of pending) {
      if (
        !(await tx.updateRequest(request.id, ['pending_approval'], {
          status: 'cancelled',
          decidedAt: now,
          decisionReason: 'the requester was offboarded',
          currentStep: -1,
        }))
      )
        continue;
      const open = (await tx.getSteps(request.id)).find((s) => s.status === 'open');
      if (open) {
        await tx.updateStep(request.id, open.index, ['open'], { status: 'closed', decidedAt: now });
        await settleApprovalMessages(tx, now, request, open, 'cancelled');
      }
      await tx.appendAudit({
        at: now,
        actor,
        action: 'request.cancelled',
        requestId: request.id,
        details: { reason: 'offboarded', source: input.source },
      });
      await notify(tx, now, `cancelled:${request.id}`, {
        type: 'request.cancelled',
        recipient: requesterRecipient(request),
        requestId: request.id,
      });
    }
    // Whoever left neither decides for anyone nor has anyone decide for them.
    const delegations = await endDelegationsOf(tx, now, input.directoryId, involved, actor);
    return { grants: ended, requests: pending.length, delegations };
  });
}

/**
 * Someone removed the holder from the group by hand. The bot never adds them back: the grant ends
 * as `removed_externally` (nothing left to remove) and the alerts channel is told.
 */
export async function recordExternalRemoval(deps: Deps, input: { grantId: string; detail: string }): Promise<boolean> {
  const now = nowIso(deps);
  const actor = systemActor('reconcile');
  return await deps.store.transaction(async (tx) => {
    const grant = await tx.getGrant(input.grantId);
    if (!grant || grant.status !== 'active') return false;
    if (
      !(await tx.updateGrant(grant.id, ['active'], {
        status: 'revoking',
        revocationReason: 'removed_externally',
        revocationNote: input.detail,
        revokedBy: 'system:reconcile',
        revocationStartedAt: now,
      }))
    )
      return false;
    await completeRevocation(tx, now, (await tx.getGrant(grant.id))!, actor, { detail: input.detail, removed: false });
    await alert(
      tx,
      now,
      deps.settings.alertsChannel,
      `removed-externally:${grant.id}`,
      `${grant.holder.email} was removed from ${grant.app} ${grant.role} outside the bot (${input.detail}); the grant is ended and will not be re-added.`,
      { grantId: grant.id },
    );
    return true;
  });
}
