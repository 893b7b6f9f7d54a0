/**
 * A member of the assignee group marks a manual task done. Never the grantee: nobody completes
 * their own access. Completing a grant task activates the grant; a revoke task ends it.
 */
import { AccessError } from '../domain/errors.js';
import type { Grant, TaskRecord } from '../domain/records.js';
import { actorOf, personRef, type ActingPerson } from './acting-person.js';
import { nowIso, type Deps } from './context.js';
import { activateGrant, completeRevocation, notify } from './lifecycle.js';

export async function completeTask(deps: Deps, input: { actor: ActingPerson; taskId: string }): Promise<TaskRecord> {
  const task = await deps.store.getTask(input.taskId);
  if (!task) throw new AccessError('not_found', 'This task no longer exists.');
  const grant = await deps.store.getGrant(task.grantId);
  if (!grant) throw new AccessError('not_found', 'The grant of this task no longer exists.');
  assertTaskNeeded(task, grant);
  if (grant.holder.directoryId === input.actor.person.id)
    throw new AccessError(
      'not_assignee',
      'You cannot complete a task for your own access; another member of the group must.',
    );
  const [person, member] = await Promise.all([
    deps.directory.getPerson(input.actor.person.id),
    deps.directory.isMember(input.actor.person.id, task.assigneeGroup),
  ]);
  if (!person?.active || !member)
    throw new AccessError('not_assignee', `Only members of ${task.assigneeGroup} can complete this task.`);

  const now = nowIso(deps);
  const actor = actorOf(input.actor);
  return await deps.store.transaction(async (tx) => {
    // Re-checked under the write lock: the grant may have been revoked since the click arrived.
    const current = (await tx.getTask(task.id))!;
    assertTaskNeeded(current, (await tx.getGrant(grant.id))!);
    if (
      !(await tx.updateTask(task.id, ['open'], {
        status: 'done',
        completedAt: now,
        completedBy: personRef(input.actor),
      }))
    ) {
      throw new AccessError('stale_decision', 'This task was already marked done.');
    }
    await tx.appendAudit({
      at: now,
      actor,
      action: 'task.completed',
      requestId: grant.requestId,
      grantId: grant.id,
      details: { taskId: task.id, action: task.action },
    });
    // Every copy of the task message (one per group member) shows who did it.
    await notify(tx, now, `task-done:${task.id}`, {
      type: 'task.completed',
      recipient: { kind: 'group', group: task.assigneeGroup },
      taskId: task.id,
      grantId: grant.id,
    });
    const fresh = (await tx.getGrant(grant.id))!;
    if (task.action === 'grant')
      await activateGrant(tx, now, fresh, actor, { method: fresh.snapshot.provision.method, taskId: task.id });
    else await completeRevocation(tx, now, fresh, actor, { method: fresh.snapshot.provision.method, taskId: task.id });
    return (await tx.getTask(task.id))!;
  });
}

/**
 * A set-up task is needed only while its grant is being provisioned: once the grant was revoked
 * (or its holder offboarded) nobody may set the access up, whatever the task's message still shows.
 */
function assertTaskNeeded(task: TaskRecord, grant: Grant): void {
  if (task.status === 'done') throw new AccessError('stale_decision', 'This task was already marked done.');
  const ended = grant.status === 'revoking' || grant.status === 'revoked';
  if (task.status === 'cancelled' || (task.action === 'grant' && grant.status !== 'provisioning')) {
    const why = ended
      ? `${grant.holder.name}'s access was revoked (${(grant.revocationReason ?? 'revoked').replaceAll('_', ' ')}) before it was set up`
      : `the grant is ${grant.status.replaceAll('_', ' ')}`;
    throw new AccessError(
      'task_cancelled',
      `Your click changed nothing: this task is no longer needed, because ${why}. Do not set the access up; if you already did, remove it again.`,
    );
  }
}
