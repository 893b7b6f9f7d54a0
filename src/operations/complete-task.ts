/**
 * A member of the assignee group marks a manual task done. Never the grantee: nobody completes
 * their own access. Completing a grant task activates the grant; a revoke task ends it.
 */
import { AccessError } from '../domain/errors.js';
import type { TaskRecord } from '../domain/records.js';
import { actorOf, personRef, type ActingPerson } from './acting-person.js';
import { nowIso, type Deps } from './context.js';
import { activateGrant, completeRevocation, notify } from './lifecycle.js';

export async function completeTask(deps: Deps, input: { actor: ActingPerson; taskId: string }): Promise<TaskRecord> {
  const task = await deps.store.getTask(input.taskId);
  if (!task) throw new AccessError('not_found', 'This task no longer exists.');
  const grant = await deps.store.getGrant(task.grantId);
  if (!grant) throw new AccessError('not_found', 'The grant of this task no longer exists.');
  if (grant.holder.directoryId === input.actor.person.id) throw new AccessError('not_assignee', 'You cannot complete a task for your own access; another member of the group must.');
  const [person, member] = await Promise.all([deps.directory.getPerson(input.actor.person.id), deps.directory.isMember(input.actor.person.id, task.assigneeGroup)]);
  if (!person?.active || !member) throw new AccessError('not_assignee', `Only members of ${task.assigneeGroup} can complete this task.`);

  const now = nowIso(deps);
  const actor = actorOf(input.actor);
  return await deps.store.transaction(async (tx) => {
    if (!await tx.updateTask(task.id, ['open'], { status: 'done', completedAt: now, completedBy: personRef(input.actor) })) {
      throw new AccessError('stale_decision', 'This task was already marked done.');
    }
    await tx.appendAudit({ at: now, actor, action: 'task.completed', requestId: grant.requestId, grantId: grant.id, details: { taskId: task.id, action: task.action } });
    // Every copy of the task message (one per group member) shows who did it.
    await notify(tx, now, `task-done:${task.id}`, { type: 'task.completed', recipient: { kind: 'group', group: task.assigneeGroup }, taskId: task.id, grantId: grant.id });
    const fresh = (await tx.getGrant(grant.id))!;
    if (task.action === 'grant') await activateGrant(tx, now, fresh, actor, { method: 'manual', taskId: task.id });
    else await completeRevocation(tx, now, fresh, actor, { method: 'manual', taskId: task.id });
    return (await tx.getTask(task.id))!;
  });
}
