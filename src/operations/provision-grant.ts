/**
 * The provisioning and revocation effects, run as jobs after the state change committed, through
 * the provisioner of the grant's provisioning method (`Deps.provisioners`). This file owns what is
 * common to every method: the grant must still be in the state the job was for, the outcome is
 * logged and moves the grant on in one transaction, a method done by a person becomes a task, and
 * failures are counted and alerted. Each effect is safe to repeat: a retried add finds the person
 * already in the group; a retried webhook carries the same Idempotency-Key; a manual task is
 * created once per grant and action.
 */
import { systemActor } from '../domain/audit.js';
import { PermanentError } from '../domain/errors.js';
import type { Grant, TaskRecord } from '../domain/records.js';
import { newId, nowIso, type Deps } from './context.js';
import { activateGrant, alert, completeRevocation, notify } from './lifecycle.js';
import { provisionerFor } from './ports.js';

const provisioner = systemActor('provisioner');

export async function provisionGrant(deps: Deps, grantId: string): Promise<void> {
  const grant = await deps.store.getGrant(grantId);
  if (!grant || grant.status !== 'provisioning') return; // decided elsewhere (revoked, already active)
  const provision = grant.snapshot.provision; // the snapshot, never the current policy
  const outcome = await provisionerFor(deps.provisioners, provision).grant(grant, provision, deps);
  if (outcome.kind === 'task') return createTask(deps, grant, 'grant', outcome.assigneeGroup);
  const now = nowIso(deps);
  await deps.store.transaction(async (tx) => {
    const fresh = (await tx.getGrant(grant.id))!;
    await tx.appendAudit({ at: now, actor: provisioner, action: 'grant.provisioned', requestId: grant.requestId, grantId: grant.id, details: { method: provision.method, ...outcome.details } });
    await activateGrant(tx, now, fresh, provisioner, { method: provision.method });
  });
}

export async function executeRevocation(deps: Deps, grantId: string): Promise<void> {
  const grant = await deps.store.getGrant(grantId);
  if (!grant || grant.status !== 'revoking') return;
  const provision = grant.snapshot.provision; // the snapshot, never the current policy
  const outcome = await provisionerFor(deps.provisioners, provision).revoke(grant, provision, deps);
  if (outcome.kind === 'task') return createTask(deps, grant, 'revoke', outcome.assigneeGroup);
  const now = nowIso(deps);
  await deps.store.transaction(async (tx) => {
    const fresh = (await tx.getGrant(grant.id))!;
    if (outcome.kept) await tx.appendAudit({ at: now, actor: provisioner, action: 'grant.membershipKept', requestId: grant.requestId, grantId: grant.id, details: outcome.kept });
    await completeRevocation(tx, now, fresh, provisioner, outcome.details);
  });
}

async function createTask(deps: Deps, grant: Grant, action: 'grant' | 'revoke', assigneeGroup: string): Promise<void> {
  const now = nowIso(deps);
  await deps.store.transaction(async (tx) => {
    if (await tx.getTaskFor(grant.id, action)) return;
    const task: TaskRecord = { id: newId(deps, 'tsk'), grantId: grant.id, action, assigneeGroup, status: 'open', createdAt: now, completedBy: null, completedAt: null };
    await tx.insertTask(task);
    await tx.appendAudit({ at: now, actor: provisioner, action: 'task.created', requestId: grant.requestId, grantId: grant.id, details: { taskId: task.id, action, assigneeGroup } });
    await notify(tx, now, `task:${task.id}`, { type: 'task.assigned', recipient: { kind: 'group', group: assigneeGroup }, taskId: task.id, grantId: grant.id });
  });
}

/** Called by the job runner when an attempt fails. Returns whether to keep retrying. */
export async function recordEffectFailure(deps: Deps, kind: 'provision' | 'revoke', grantId: string, error: unknown, attempts: number, maxAttempts: number): Promise<boolean> {
  const message = error instanceof Error ? error.message : String(error);
  const permanent = error instanceof PermanentError;
  const now = nowIso(deps);
  return await deps.store.transaction(async (tx) => {
    const grant = await tx.getGrant(grantId);
    if (!grant) return false;
    const status = kind === 'provision' ? 'provisioning' : 'revoking';
    await tx.updateGrant(grant.id, [status], { failures: grant.failures + 1, lastError: message.slice(0, 1000) });
    if (kind === 'provision' && (permanent || attempts >= maxAttempts)) {
      await tx.updateGrant(grant.id, ['provisioning'], { status: 'provisioning_failed' });
      await tx.appendAudit({ at: now, actor: provisioner, action: 'grant.provisioningFailed', requestId: grant.requestId, grantId: grant.id, details: { attempts, error: message, permanent } });
      const tries = `${attempts} attempt${attempts === 1 ? '' : 's'}`;
      await alert(tx, now, deps.settings.alertsChannel, `provision-failed:${grant.id}`, `Setting up ${displayName(deps, grant)} for ${grant.holder.name} (${grant.holder.email}) failed after ${tries}: ${message}`, { grantId: grant.id, requestId: grant.requestId });
      await notify(tx, now, `provision-failed:${grant.id}`, { type: 'grant.provisioningFailed', recipient: { kind: 'person', directoryId: grant.holder.directoryId }, grantId: grant.id, requestId: grant.requestId });
      return false;
    }
    if (kind === 'provision' && grant.failures === 0) {
      // The first failure of several allowed: the requester hears of the delay now, not days later.
      await notify(tx, now, `provision-delayed:${grant.id}`, { type: 'grant.provisioningDelayed', recipient: { kind: 'person', directoryId: grant.holder.directoryId }, grantId: grant.id, requestId: grant.requestId });
    }
    if (kind === 'revoke') {
      // A revocation is never given up: it is retried until the provider confirms it, and the
      // alerts channel hears about it once it keeps failing.
      await tx.appendAudit({ at: now, actor: provisioner, action: 'grant.revocationFailed', requestId: grant.requestId, grantId: grant.id, details: { attempt: attempts, error: message, permanent } });
      if (grant.failures + 1 === REVOCATION_ALERT_AFTER) {
        await alert(tx, now, deps.settings.alertsChannel, `revoke-failing:${grant.id}`, `Removing ${displayName(deps, grant)} from ${grant.holder.name} (${grant.holder.email}) keeps failing (${attempts} attempts): ${message}. The bot keeps trying.`, { grantId: grant.id, requestId: grant.requestId });
      }
    }
    return true;
  });
}

export const REVOCATION_ALERT_AFTER = 3;

/** "Billing console Viewer": the names people know the access by (the ids are in the alert's context). */
function displayName(deps: Pick<Deps, 'catalog'>, grant: Grant): string {
  const entry = deps.catalog.find(grant.app, grant.role);
  return entry ? `${entry.app.name} ${entry.role.name}` : `${grant.app} ${grant.role}`;
}
