/**
 * The provisioning and revocation effects, run as jobs after the state change committed, through
 * the provisioner of the grant's provisioning method (`Deps.provisioners`). This file owns what is
 * common to every method: the grant must still be in the state the job was for, the outcome is
 * recorded against the grant as it is when the effect landed (below), a method done by a person
 * becomes a task, and failures are counted and alerted. Each effect is safe to repeat: a retried
 * add finds the person already in the group; a retried webhook carries the same Idempotency-Key;
 * a manual task is created once per grant and action.
 */
import { systemActor } from '../domain/audit.js';
import { PermanentError } from '../domain/errors.js';
import { managedGroup } from '../domain/provisioning/methods.js';
import type { Grant, TaskRecord } from '../domain/records.js';
import { newId, nowIso, type Deps } from './context.js';
import { activateGrant, alert, completeRevocation, effectSubject, membershipSubject, notify } from './lifecycle.js';
import {
  provisionerFor,
  type EffectOutcome,
  type GrantPreparation,
  type GroupMembership,
  type ProvisionerContext,
  type StoreTx,
} from './ports.js';

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
 *    `revoke:<grant>:after-provision`, which repeats the removal (or the revoke call): the
 *    provisioner's `revoke` with `undo`.
 *
 * The membership Okta ends with is the one the last effect left, and the last effect is always the
 * revocation's.
 */
/**
 * What an effect that landed leaves to record: the job runner writes it in the transaction that
 * records the job's outcome (with the other jobs of its batch), after it has locked every grant
 * the batch's records change (`grantId`), before the first audit event.
 */
export interface EffectRecord {
  grantId: string;
  /** The grant's request: messages about it report the state this writes (run-jobs.ts waits for it). */
  requestId: string;
  write(tx: StoreTx, now: string): Promise<void>;
}

export async function provisionGrant(
  deps: Deps,
  grantId: string,
  commitBeforeEffect?: ProvisionerContext['commitBeforeEffect'],
): Promise<EffectRecord | undefined> {
  const grant = await deps.store.getGrant(grantId);
  if (!grant || grant.status !== 'provisioning') return; // revoked (or decided) before the effect: nothing to do or undo
  const provision = grant.snapshot.provision; // the snapshot, never the current policy
  const outcome = await provisionerFor(deps.provisioners, provision).grant(grant, provision, {
    store: deps.store,
    clock: deps.clock,
    ...(commitBeforeEffect ? { commitBeforeEffect } : {}),
  });
  if (outcome.kind === 'overtaken') return; // the revocation overtook it before anything was done
  if (outcome.kind === 'task') {
    await createTask(deps, grant, 'grant', outcome.assigneeGroup);
    return;
  }
  const details = { method: provision.method, ...outcome.details };
  return { grantId, requestId: grant.requestId, write: (tx, now) => recordProvisioned(tx, now, grant, details) };
}

/**
 * What the provisioning job of `grantId` records before its effect, read ahead (see
 * `Provisioner.prepareGrant`); nothing when its grant is no longer provisioning or has nothing to
 * record first.
 */
export async function prepareProvision(
  deps: Deps,
  grantId: string,
): Promise<{ grantId: string; write: GrantPreparation } | undefined> {
  const grant = await deps.store.getGrant(grantId);
  if (!grant || grant.status !== 'provisioning') return;
  const provision = grant.snapshot.provision;
  const write = await provisionerFor(deps.provisioners, provision).prepareGrant?.(grant, provision, deps);
  return write && { grantId, write };
}

/**
 * The effect landed: activate the grant, or, if it left `provisioning` meanwhile, log the late effect (rule 2 and 3
 * above). Until this commits, the job holds its subject's lock: the revocation waits behind it.
 */
async function recordProvisioned(
  tx: StoreTx,
  now: string,
  grant: Grant,
  details: Record<string, unknown>,
): Promise<void> {
  const fresh = (await tx.getGrant(grant.id))!;
  if (fresh.status === 'provisioning') {
    await tx.appendAudit({
      at: now,
      actor: provisioner,
      action: 'grant.provisioned',
      requestId: grant.requestId,
      grantId: grant.id,
      details,
    });
    await activateGrant(tx, now, fresh, provisioner, { method: details.method });
    return;
  }
  // Pending: the revocation's job waits behind this one (same subject) and runs next. Anything
  // else means its effect already ran before ours landed, so it must be repeated after it.
  const revocation = await tx.getJobByKey(`revoke:${grant.id}`);
  const undo = fresh.status !== 'revoking' || revocation?.status !== 'pending';
  await tx.appendAudit({
    at: now,
    actor: provisioner,
    action: 'grant.provisioned',
    requestId: grant.requestId,
    grantId: grant.id,
    details: { ...details, late: true, grantStatus: fresh.status, undo: undo ? 'queued' : 'by the revocation' },
  });
  if (undo) {
    const payload = { kind: 'revoke', grantId: grant.id, undoLateProvision: true } as const;
    await tx.enqueueJob(`revoke:${grant.id}:after-provision`, payload, now, effectSubject(grant));
  }
}

export async function executeRevocation(
  deps: Deps,
  grantId: string,
  options: { undoLateProvision?: boolean; readAhead?: RevocationRead } = {},
): Promise<EffectRecord | undefined> {
  const undo = options.undoLateProvision === true;
  const read = undo ? undefined : options.readAhead;
  const grant = read ? read.grant : await deps.store.getGrant(grantId);
  if (!grant) return;
  if (undo ? grant.status === 'provisioning' || grant.status === 'active' : grant.status !== 'revoking') return;
  const provision = grant.snapshot.provision; // the snapshot, never the current policy
  const outcome = await provisionerFor(deps.provisioners, provision).revoke(grant, provision, deps, {
    undo,
    ...(read?.keeping ? { keeping: read.keeping } : {}),
  });
  if (outcome.kind === 'overtaken') return;
  if (outcome.kind === 'task') {
    if (undo) return; // a manual task is not an effect that can land late
    await revokeByTask(deps, grant, outcome.assigneeGroup);
    return;
  }
  // The common case joins the job's outcome; a provisioner's bookkeeping changes other grants:
  // in a transaction of its own, which locks them first.
  if (!undo && !outcome.bookkeeping)
    return { grantId, requestId: grant.requestId, write: (tx, now) => recordRevoked(tx, now, grant, outcome, false) };
  const now = nowIso(deps);
  await deps.store.transaction((tx) => recordRevoked(tx, now, grant, outcome, undo));
}

/** A revocation's reads, done ahead with the rest of its batch (`RevocationReads`). */
interface RevocationRead {
  grant: Grant | undefined;
  /** The grants keeping the holder's membership of the group the grant's method manages (none: no such group). */
  keeping?: Grant[];
}

/**
 * What the revocations of a batch of jobs read before their effects (the grant, and for a method
 * that manages a group membership the grants keeping it), read for the whole batch at once: one
 * read of each kind instead of one per job (see run-jobs.ts, which reads them when the first held
 * revocation runs).
 *
 * Reading ahead is as safe as reading at the effect: the jobs of a batch have different subjects
 * (a subject is the membership, lifecycle.ts `effectSubject`), so no effect of the batch changes
 * what another one read; a revoking grant changes only through its own revocation; and whatever
 * changes a membership's grants meanwhile (a new grant, another revocation starting) queues a job
 * of the same subject, which runs after this one and reads them again. Only the first revocation
 * of a grant is read ahead: an undo runs on what the grant is when it runs.
 */
export class RevocationReads {
  private readonly reads = new Map<string, RevocationRead>();

  constructor(private readonly deps: Pick<Deps, 'store'>) {}

  /** Reads ahead for these grants, those not read yet. */
  async prepare(grantIds: readonly string[]): Promise<void> {
    const ids = [...new Set(grantIds)].filter((id) => !this.reads.has(id));
    if (ids.length === 0) return;
    const grants = await this.deps.store.getGrants(ids);
    const memberships = new Map<string, GroupMembership>();
    for (const grant of grants) {
      const membership = membershipOf(grant);
      if (membership) memberships.set(membershipSubject(membership.group, membership.holderId), membership);
    }
    const keeping = new Map<string, Grant[]>([...memberships.keys()].map((subject) => [subject, []]));
    for (const other of await this.deps.store.grantsKeepingMemberships([...memberships.values()])) {
      const membership = membershipOf(other);
      if (membership) keeping.get(membershipSubject(membership.group, membership.holderId))?.push(other);
    }
    for (const id of ids) this.reads.set(id, { grant: undefined });
    for (const grant of grants) {
      const membership = membershipOf(grant);
      const subject = membership && membershipSubject(membership.group, membership.holderId);
      this.reads.set(grant.id, { grant, ...(subject ? { keeping: keeping.get(subject) ?? [] } : {}) });
    }
  }

  /** Whether the grant was read ahead (and not taken yet). */
  has(grantId: string): boolean {
    return this.reads.has(grantId);
  }

  /** What was read ahead for the grant, once; undefined when nothing was. */
  take(grantId: string): RevocationRead | undefined {
    const read = this.reads.get(grantId);
    this.reads.delete(grantId);
    return read;
  }
}

/** The group membership a grant gives, when its method manages one. */
function membershipOf(grant: Grant): GroupMembership | null {
  const group = managedGroup(grant.snapshot.provision);
  return group === null ? null : { holderId: grant.holder.directoryId, group };
}

/**
 * The removal landed (or the access was kept on purpose): the revocation completes, or the late add is logged as
 * undone.
 */
async function recordRevoked(
  tx: StoreTx,
  now: string,
  grant: Grant,
  outcome: Extract<EffectOutcome, { kind: 'done' }>,
  undo: boolean,
): Promise<void> {
  const { details, kept } = outcome;
  {
    await outcome.bookkeeping?.(tx);
    if (undo) {
      await tx.appendAudit({
        at: now,
        actor: provisioner,
        action: 'grant.provisioningUndone',
        requestId: grant.requestId,
        grantId: grant.id,
        details: { ...details, ...kept },
      });
      return;
    }
    const fresh = (await tx.getGrant(grant.id))!;
    if (kept)
      await tx.appendAudit({
        at: now,
        actor: provisioner,
        action: 'grant.membershipKept',
        requestId: grant.requestId,
        grantId: grant.id,
        details: kept,
      });
    await completeRevocation(tx, now, fresh, provisioner, details);
  }
}

/**
 * A grant a person set up ends. If its set-up task was done, a person removes the access (a revoke
 * task). If not, nobody set it up: the task is cancelled (every copy says it is no longer needed,
 * and its Done button goes) and the revocation completes without a revoke task.
 */
async function revokeByTask(deps: Deps, grant: Grant, assigneeGroup: string): Promise<void> {
  const now = nowIso(deps);
  const cancelled = await deps.store.transaction(async (tx) => {
    const task = await tx.getTaskFor(grant.id, 'grant');
    if (task?.status === 'done') return false;
    if (task) await cancelTask(tx, now, task, grant);
    const why = task ? 'the set-up task was never done; it is cancelled' : 'the access was never set up';
    await completeRevocation(tx, now, (await tx.getGrant(grant.id))!, provisioner, {
      method: grant.snapshot.provision.method,
      removed: false,
      why,
    });
    return true;
  });
  if (!cancelled) await createTask(deps, grant, 'revoke', assigneeGroup);
}

/** Closes an open task that is no longer needed, audited, and updates every copy of its message. */
async function cancelTask(tx: StoreTx, now: string, task: TaskRecord, grant: Grant): Promise<boolean> {
  if (!(await tx.updateTask(task.id, ['open'], { status: 'cancelled', completedAt: now }))) return false;
  const status =
    grant.status === 'revoking' || grant.status === 'revoked'
      ? `revoked (${grant.revocationReason ?? 'revocation'})`
      : grant.status;
  await tx.appendAudit({
    at: now,
    actor: provisioner,
    action: 'task.cancelled',
    requestId: grant.requestId,
    grantId: grant.id,
    details: { taskId: task.id, action: task.action, why: `the grant is ${status}` },
  });
  await notify(tx, now, `task-cancelled:${task.id}`, {
    type: 'task.cancelled',
    recipient: { kind: 'group', group: task.assigneeGroup },
    taskId: task.id,
    grantId: grant.id,
  });
  return true;
}

async function createTask(deps: Deps, grant: Grant, action: 'grant' | 'revoke', assigneeGroup: string): Promise<void> {
  const now = nowIso(deps);
  await deps.store.transaction(async (tx) => {
    if (await tx.getTaskFor(grant.id, action)) return;
    // Re-checked under the write lock: a grant revoked since the job started needs no set-up task.
    if (action === 'grant' && (await tx.getGrant(grant.id))?.status !== 'provisioning') return;
    const task: TaskRecord = {
      id: newId(deps, 'tsk'),
      grantId: grant.id,
      action,
      assigneeGroup,
      status: 'open',
      createdAt: now,
      completedBy: null,
      completedAt: null,
    };
    await tx.insertTask(task);
    await tx.appendAudit({
      at: now,
      actor: provisioner,
      action: 'task.created',
      requestId: grant.requestId,
      grantId: grant.id,
      details: { taskId: task.id, action, assigneeGroup },
    });
    await notify(tx, now, `task:${task.id}`, {
      type: 'task.assigned',
      recipient: { kind: 'group', group: assigneeGroup },
      taskId: task.id,
      grantId: grant.id,
    });
  });
}

/** Called by the job runner when an attempt fails. Returns whether to keep retrying. */
export async function recordEffectFailure(
  deps: Deps,
  kind: 'provision' | 'revoke',
  grantId: string,
  error: unknown,
  attempts: number,
  maxAttempts: number,
): Promise<boolean> {
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
      await tx.appendAudit({
        at: now,
        actor: provisioner,
        action: 'grant.provisioningFailed',
        requestId: grant.requestId,
        grantId: grant.id,
        details: { attempts, error: message, permanent },
      });
      const tries = `${attempts} attempt${attempts === 1 ? '' : 's'}`;
      await alert(
        tx,
        now,
        deps.settings.alertsChannel,
        `provision-failed:${grant.id}`,
        `Setting up ${displayName(deps, grant)} for ${grant.holder.name} (${grant.holder.email}) failed after ${tries}: ${message}`,
        { grantId: grant.id, requestId: grant.requestId },
      );
      await notify(tx, now, `provision-failed:${grant.id}`, {
        type: 'grant.provisioningFailed',
        recipient: { kind: 'person', directoryId: grant.holder.directoryId },
        grantId: grant.id,
        requestId: grant.requestId,
      });
      return false;
    }
    if (kind === 'provision' && grant.failures === 0) {
      // The first failure of several allowed: the requester hears of the delay now, not days later.
      await notify(tx, now, `provision-delayed:${grant.id}`, {
        type: 'grant.provisioningDelayed',
        recipient: { kind: 'person', directoryId: grant.holder.directoryId },
        grantId: grant.id,
        requestId: grant.requestId,
      });
    }
    if (kind === 'revoke') {
      // A revocation is never given up: it is retried until the provider confirms it, and the
      // alerts channel hears about it once it keeps failing.
      await tx.appendAudit({
        at: now,
        actor: provisioner,
        action: 'grant.revocationFailed',
        requestId: grant.requestId,
        grantId: grant.id,
        details: { attempt: attempts, error: message, permanent },
      });
      if (grant.failures + 1 === REVOCATION_ALERT_AFTER) {
        await alert(
          tx,
          now,
          deps.settings.alertsChannel,
          `revoke-failing:${grant.id}`,
          `Removing ${displayName(deps, grant)} from ${grant.holder.name} (${grant.holder.email}) keeps failing (${attempts} attempts): ${message}. The bot keeps trying.`,
          { grantId: grant.id, requestId: grant.requestId },
        );
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
