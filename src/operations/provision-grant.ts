/**
 * The provisioning and revocation effects, run as jobs after the state change committed. Each is
 * safe to repeat: a retried add finds the person already in the group; a retried webhook carries
 * the same Idempotency-Key; a manual task is created once per grant and action.
 */
import { systemActor } from '../domain/audit.js';
import { PermanentError } from '../domain/errors.js';
import type { Grant, TaskRecord } from '../domain/records.js';
import { redactUrl } from '../domain/redact-url.js';
import { newId, nowIso, type Deps } from './context.js';
import { activateGrant, alert, completeRevocation, effectSubject, notify } from './lifecycle.js';
import type { StoreTx } from './ports.js';

const provisioner = systemActor('provisioner');

/*
 * Ordering of a grant's effects (security review H1). A revocation can start (a state change, in
 * one transaction) at any moment, also while the provisioning effect is in flight: Okta holding
 * the add for seconds, a webhook receiver answering slowly. Three rules keep "revocation wins":
 *
 * 1. Effects on one subject run one at a time, whoever runs them (the job pump, the sweep, the CLI,
 *    another process or replica): the job claim refuses while another job of the same subject
 *    holds a live lock (`StoreTx.claimJob`, state in the jobs table, not in process memory), and a
 *    running job renews its lock while the effect lasts (`run-jobs.ts`). So the revocation's
 *    removal waits for the add it overtook, and the runner that finished the add runs it next.
 * 2. After the effect, the outcome is recorded against the grant as it is *now*: a grant that left
 *    `provisioning` meanwhile is not activated; the add is logged as late, and the revocation
 *    (queued behind it) removes it.
 * 3. If the revocation's effect already ran (only when a worker stalled past its lock and another
 *    took the job over), a compensating revocation is queued behind the late add:
 *    `revoke:<grant>:after-provision`, which repeats the removal (or the revoke call).
 *
 * The membership Okta ends with is the one the last effect left, and the last effect is always the
 * revocation's.
 */
export async function provisionGrant(deps: Deps, grantId: string): Promise<void> {
  const grant = deps.store.getGrant(grantId);
  if (!grant || grant.status !== 'provisioning') return; // revoked (or decided) before the effect: nothing to do or undo
  const provision = grant.snapshot.provision;

  if (provision.method === 'okta_group') {
    let alreadyMember = grant.alreadyMember;
    if (alreadyMember === null) {
      // Recorded before the add, so a retry after a successful add cannot mistake our own
      // membership for one the person had before, and `null` always means "never added".
      const member = await deps.directory.isMember(grant.holder.directoryId, provision.group);
      alreadyMember = member && !heldThroughOurGrant(deps, grant.holder.directoryId, provision.group, grant.id);
      const recorded = deps.store.transaction((tx) => tx.updateGrant(grant.id, ['provisioning'], { alreadyMember }));
      if (!recorded) return; // the revocation overtook us before the add: nothing was added
    }
    // Resolves once the directory confirms the membership (read back): see the Directory port.
    await deps.directory.addToGroup(grant.holder.directoryId, provision.group);
    recordProvisioned(deps, grant, { method: 'okta_group', group: provision.group, alreadyMember, confirmed: true });
    return;
  }

  if (provision.method === 'webhook') {
    const expiresAt = new Date(deps.clock.now().getTime() + grant.durationSeconds * 1000).toISOString();
    const { status } = await deps.webhook.call(provision, webhookCall(grant, 'grant', expiresAt));
    recordProvisioned(deps, grant, { method: 'webhook', url: redactUrl(provision.url), status });
    return;
  }

  createTask(deps, grant, 'grant', provision.assigneeGroup);
}

/**
 * Whether the person's membership of the group is the bot's already: another open grant through
 * it added it (`alreadyMember: false`, or inherited). A grant that never added (null) or found the
 * person already there (true) does not make the membership ours.
 */
function heldThroughOurGrant(deps: Deps, holderId: string, group: string, exceptGrantId: string): boolean {
  return deps.store
    .grantsThroughGroup(group, { holderId, status: ['provisioning', 'active', 'revoking'] })
    .some((g) => g.id !== exceptGrantId && g.alreadyMember === false);
}

/** The effect landed: activate the grant, or, if it left `provisioning` meanwhile, log the late effect (rule 2 and 3 above). */
function recordProvisioned(deps: Deps, grant: Grant, details: Record<string, unknown>): void {
  const now = nowIso(deps);
  deps.store.transaction((tx) => {
    const fresh = tx.getGrant(grant.id)!;
    if (fresh.status === 'provisioning') {
      tx.appendAudit({ at: now, actor: provisioner, action: 'grant.provisioned', requestId: grant.requestId, grantId: grant.id, details });
      activateGrant(tx, now, fresh, provisioner, { method: details.method });
      return;
    }
    // Pending: the revocation's job waits behind this one (same subject) and runs next. Anything
    // else means its effect already ran before ours landed, so it must be repeated after it.
    const revocation = tx.getJobByKey(`revoke:${grant.id}`);
    const undo = fresh.status !== 'revoking' || revocation?.status !== 'pending';
    tx.appendAudit({ at: now, actor: provisioner, action: 'grant.provisioned', requestId: grant.requestId, grantId: grant.id, details: { ...details, late: true, grantStatus: fresh.status, undo: undo ? 'queued' : 'by the revocation' } });
    if (undo) tx.enqueueJob(`revoke:${grant.id}:after-provision`, { kind: 'revoke', grantId: grant.id, undoLateProvision: true }, now, effectSubject(grant));
  });
}

export async function executeRevocation(deps: Deps, grantId: string, options: { undoLateProvision?: boolean } = {}): Promise<void> {
  const grant = deps.store.getGrant(grantId);
  const undo = options.undoLateProvision === true;
  if (!grant) return;
  if (undo ? grant.status === 'provisioning' || grant.status === 'active' : grant.status !== 'revoking') return;
  const provision = grant.snapshot.provision; // the snapshot, never the current policy

  if (provision.method === 'okta_group') {
    const others = deps.store.otherGrantsThroughGroup(grant.holder.directoryId, provision.group, grant.id).filter((g) => g.status === 'active' || g.status === 'provisioning');
    const keep =
      grant.alreadyMember === null
        ? `${grant.holder.email} was never added to ${provision.group} for this grant (provisioning never reached the directory); a membership they have is not the bot's to take`
        : grant.alreadyMember
          ? `${grant.holder.email} was already a member of ${provision.group} before this grant`
          : others.length > 0
            ? `${grant.holder.email} holds another grant through ${provision.group} (${others.map((g) => `${g.app}/${g.role} ${g.id}`).join(', ')})`
            : null;
    // Done only when the provider confirms: removeFromGroup resolves once the membership reads back gone.
    if (!keep) await deps.directory.removeFromGroup(grant.holder.directoryId, provision.group);
    const now = nowIso(deps);
    const details = { group: provision.group, removed: !keep, confirmed: !keep };
    deps.store.transaction((tx) => {
      if (keep && grant.alreadyMember === false) {
        // The membership stays for the other grants and is theirs now: one still provisioning must
        // not mistake it for one the person had before the bot.
        for (const other of others) if (other.alreadyMember === null) tx.updateGrant(other.id, ['provisioning'], { alreadyMember: false });
      }
      if (undo) {
        tx.appendAudit({ at: now, actor: provisioner, action: 'grant.provisioningUndone', requestId: grant.requestId, grantId: grant.id, details: { ...details, ...(keep ? { why: keep } : {}) } });
        return;
      }
      const fresh = tx.getGrant(grant.id)!;
      if (keep) tx.appendAudit({ at: now, actor: provisioner, action: 'grant.membershipKept', requestId: grant.requestId, grantId: grant.id, details: { group: provision.group, why: keep } });
      completeRevocation(tx, now, fresh, provisioner, details);
    });
    return;
  }

  if (provision.method === 'webhook') {
    // The undo is a second revoke after a grant the receiver may have applied after the first:
    // a key of its own, so a receiver that dedupes by key applies it.
    const key = undo ? `${grant.id}:revoke:after-grant` : undefined;
    const { status } = await deps.webhook.call(provision, webhookCall(grant, 'revoke', grant.expiresAt), key ? { idempotencyKey: key } : undefined);
    const now = nowIso(deps);
    const details = { url: redactUrl(provision.url), status };
    deps.store.transaction((tx) => {
      if (undo) tx.appendAudit({ at: now, actor: provisioner, action: 'grant.provisioningUndone', requestId: grant.requestId, grantId: grant.id, details: { ...details, idempotencyKey: key } });
      else completeRevocation(tx, now, tx.getGrant(grant.id)!, provisioner, details);
    });
    return;
  }

  if (undo) return; // a manual task is not an effect that can land late
  revokeManually(deps, grant, provision.assigneeGroup);
}

/**
 * A manual grant ends. If its set-up task was done, a person removes the access (a revoke task).
 * If not, nobody set it up: the task is cancelled (every copy says it is no longer needed, and
 * its Done button goes) and the revocation completes without a revoke task.
 */
function revokeManually(deps: Deps, grant: Grant, assigneeGroup: string): void {
  const now = nowIso(deps);
  const cancelled = deps.store.transaction((tx) => {
    const task = tx.getTaskFor(grant.id, 'grant');
    if (task?.status === 'done') return false;
    if (task) cancelTask(tx, now, task, grant);
    completeRevocation(tx, now, tx.getGrant(grant.id)!, provisioner, { method: 'manual', removed: false, why: task ? 'the set-up task was never done; it is cancelled' : 'the access was never set up' });
    return true;
  });
  if (!cancelled) createTask(deps, grant, 'revoke', assigneeGroup);
}

/** Closes an open task that is no longer needed, audited, and updates every copy of its message. */
export function cancelTask(tx: StoreTx, now: string, task: TaskRecord, grant: Grant): boolean {
  if (!tx.updateTask(task.id, ['open'], { status: 'cancelled', completedAt: now })) return false;
  tx.appendAudit({ at: now, actor: provisioner, action: 'task.cancelled', requestId: grant.requestId, grantId: grant.id, details: { taskId: task.id, action: task.action, why: `the grant is ${grant.status === 'revoking' || grant.status === 'revoked' ? `revoked (${grant.revocationReason ?? 'revocation'})` : grant.status}` } });
  notify(tx, now, `task-cancelled:${task.id}`, { type: 'task.cancelled', recipient: { kind: 'group', group: task.assigneeGroup }, taskId: task.id, grantId: grant.id });
  return true;
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
    // Re-checked under the write lock: a grant revoked since the job started needs no set-up task.
    if (action === 'grant' && tx.getGrant(grant.id)?.status !== 'provisioning') return;
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
