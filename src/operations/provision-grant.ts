/**
 * The provisioning and revocation effects, run as jobs after the state change committed. Each is
 * safe to repeat: a retried add finds the person already in the group; a retried webhook carries
 * the same Idempotency-Key; a manual task is created once per grant and action.
 */
import { systemActor } from '../domain/audit.js';
import { PermanentError } from '../domain/errors.js';
import type { Grant, TaskRecord } from '../domain/records.js';
import { newId, nowIso, type Deps } from './context.js';
import { activateGrant, alert, completeRevocation, notify } from './lifecycle.js';

const provisioner = systemActor('provisioner');

export async function provisionGrant(deps: Deps, grantId: string): Promise<void> {
  const grant = deps.store.getGrant(grantId);
  if (!grant || grant.status !== 'provisioning') return; // decided elsewhere (revoked, already active)
  const provision = grant.snapshot.provision;

  if (provision.method === 'okta_group') {
    let alreadyMember = grant.alreadyMember;
    if (alreadyMember === null) {
      // Recorded before the add, so a retry after a successful add cannot mistake our own
      // membership for one the person had before. Membership through another of our grants is ours.
      const member = await deps.directory.isMember(grant.holder.directoryId, provision.group);
      const ours = deps.store.otherGrantsThroughGroup(grant.holder.directoryId, provision.group, grant.id).length > 0;
      alreadyMember = member && !ours;
      deps.store.transaction((tx) => tx.updateGrant(grant.id, ['provisioning'], { alreadyMember }));
    }
    // Resolves once the directory confirms the membership (read back): see the Directory port.
    await deps.directory.addToGroup(grant.holder.directoryId, provision.group);
    const now = nowIso(deps);
    deps.store.transaction((tx) => {
      const fresh = tx.getGrant(grant.id)!;
      tx.appendAudit({ at: now, actor: provisioner, action: 'grant.provisioned', requestId: grant.requestId, grantId: grant.id, details: { method: 'okta_group', group: provision.group, alreadyMember, confirmed: true } });
      activateGrant(tx, now, fresh, provisioner, { method: 'okta_group' });
    });
    return;
  }

  if (provision.method === 'webhook') {
    const expiresAt = new Date(deps.clock.now().getTime() + grant.durationSeconds * 1000).toISOString();
    const { status } = await deps.webhook.call(provision, webhookCall(grant, 'grant', expiresAt));
    const now = nowIso(deps);
    deps.store.transaction((tx) => {
      const fresh = tx.getGrant(grant.id)!;
      tx.appendAudit({ at: now, actor: provisioner, action: 'grant.provisioned', requestId: grant.requestId, grantId: grant.id, details: { method: 'webhook', url: provision.url, status } });
      activateGrant(tx, now, fresh, provisioner, { method: 'webhook' });
    });
    return;
  }

  createTask(deps, grant, 'grant', provision.assigneeGroup);
}

export async function executeRevocation(deps: Deps, grantId: string): Promise<void> {
  const grant = deps.store.getGrant(grantId);
  if (!grant || grant.status !== 'revoking') return;
  const provision = grant.snapshot.provision; // the snapshot, never the current policy

  if (provision.method === 'okta_group') {
    const others = deps.store.otherGrantsThroughGroup(grant.holder.directoryId, provision.group, grant.id).filter((g) => g.status === 'active' || g.status === 'provisioning');
    const keep = grant.alreadyMember
      ? `${grant.holder.email} was already a member of ${provision.group} before this grant`
      : others.length > 0
        ? `${grant.holder.email} holds another grant through ${provision.group} (${others.map((g) => `${g.app}/${g.role} ${g.id}`).join(', ')})`
        : null;
    // Done only when the provider confirms: removeFromGroup resolves once the membership reads back gone.
    if (!keep) await deps.directory.removeFromGroup(grant.holder.directoryId, provision.group);
    const now = nowIso(deps);
    deps.store.transaction((tx) => {
      const fresh = tx.getGrant(grant.id)!;
      if (keep) tx.appendAudit({ at: now, actor: provisioner, action: 'grant.membershipKept', requestId: grant.requestId, grantId: grant.id, details: { group: provision.group, why: keep } });
      completeRevocation(tx, now, fresh, provisioner, { group: provision.group, removed: !keep, confirmed: !keep });
    });
    return;
  }

  if (provision.method === 'webhook') {
    const { status } = await deps.webhook.call(provision, webhookCall(grant, 'revoke', grant.expiresAt));
    const now = nowIso(deps);
    deps.store.transaction((tx) => completeRevocation(tx, now, tx.getGrant(grant.id)!, provisioner, { url: provision.url, status }));
    return;
  }

  createTask(deps, grant, 'revoke', provision.assigneeGroup);
}

function webhookCall(grant: Grant, action: 'grant' | 'revoke', expiresAt: string | null) {
  return {
    action,
    requestId: grant.requestId,
    grantId: grant.id,
    app: grant.app,
    role: grant.role,
    user: { email: grant.holder.email, oktaId: grant.holder.directoryId },
    expiresAt,
  };
}

function createTask(deps: Deps, grant: Grant, action: 'grant' | 'revoke', assigneeGroup: string): void {
  const now = nowIso(deps);
  deps.store.transaction((tx) => {
    if (tx.getTaskFor(grant.id, action)) return;
    const task: TaskRecord = { id: newId(deps, 'tsk'), grantId: grant.id, action, assigneeGroup, status: 'open', createdAt: now, completedBy: null, completedAt: null };
    tx.insertTask(task);
    tx.appendAudit({ at: now, actor: provisioner, action: 'task.created', requestId: grant.requestId, grantId: grant.id, details: { taskId: task.id, action, assigneeGroup } });
    notify(tx, now, `task:${task.id}`, { type: 'task.assigned', recipient: { kind: 'group', group: assigneeGroup }, taskId: task.id, grantId: grant.id });
  });
}

/** Called by the job runner when an attempt fails. Returns whether to keep retrying. */
export function recordEffectFailure(deps: Deps, kind: 'provision' | 'revoke', grantId: string, error: unknown, attempts: number, maxAttempts: number): boolean {
  const message = error instanceof Error ? error.message : String(error);
  const permanent = error instanceof PermanentError;
  const now = nowIso(deps);
  return deps.store.transaction((tx) => {
    const grant = tx.getGrant(grantId);
    if (!grant) return false;
    const status = kind === 'provision' ? 'provisioning' : 'revoking';
    tx.updateGrant(grant.id, [status], { failures: grant.failures + 1, lastError: message.slice(0, 1000) });
    if (kind === 'provision' && (permanent || attempts >= maxAttempts)) {
      tx.updateGrant(grant.id, ['provisioning'], { status: 'provisioning_failed' });
      tx.appendAudit({ at: now, actor: provisioner, action: 'grant.provisioningFailed', requestId: grant.requestId, grantId: grant.id, details: { attempts, error: message, permanent } });
      const tries = `${attempts} attempt${attempts === 1 ? '' : 's'}`;
      alert(tx, now, deps.settings.alertsChannel, `provision-failed:${grant.id}`, `Setting up ${displayName(deps, grant)} for ${grant.holder.name} (${grant.holder.email}) failed after ${tries}: ${message}`, { grantId: grant.id, requestId: grant.requestId });
      notify(tx, now, `provision-failed:${grant.id}`, { type: 'grant.provisioningFailed', recipient: { kind: 'person', directoryId: grant.holder.directoryId }, grantId: grant.id, requestId: grant.requestId });
      return false;
    }
    if (kind === 'provision' && grant.failures === 0) {
      // The first failure of several allowed: the requester hears of the delay now, not days later.
      notify(tx, now, `provision-delayed:${grant.id}`, { type: 'grant.provisioningDelayed', recipient: { kind: 'person', directoryId: grant.holder.directoryId }, grantId: grant.id, requestId: grant.requestId });
    }
    if (kind === 'revoke') {
      // A revocation is never given up: it is retried until the provider confirms it, and the
      // alerts channel hears about it once it keeps failing.
      tx.appendAudit({ at: now, actor: provisioner, action: 'grant.revocationFailed', requestId: grant.requestId, grantId: grant.id, details: { attempt: attempts, error: message, permanent } });
      if (grant.failures + 1 === REVOCATION_ALERT_AFTER) {
        alert(tx, now, deps.settings.alertsChannel, `revoke-failing:${grant.id}`, `Removing ${displayName(deps, grant)} from ${grant.holder.name} (${grant.holder.email}) keeps failing (${attempts} attempts): ${message}. The bot keeps trying.`, { grantId: grant.id, requestId: grant.requestId });
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
