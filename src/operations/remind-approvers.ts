/**
 * Approver reminders (`approver_reminders` in settings.yml): at each lead time after a step
 * started, its pending approvers hear it is still waiting for them: one DM each (with the
 * request's buttons), or one reply under the step's channel message. Never after the step is
 * decided (the sweep re-reads it in the transaction), never to someone who has decided (or been
 * stood in for) on the request, and never to someone who is no longer an approver by the live
 * directory. A lead time passed while the bot was down is not sent late on top of a later one:
 * only the latest one due is sent.
 */
import { systemActor } from '../domain/audit.js';
import type { AccessRequest, ChannelRecipient, PersonRecipient, StepRecord } from '../domain/records.js';
import { approverLeft, delegatesOf, stepApprovers, usedPeople } from './approver-rules.js';
import { addSeconds, nowIso, type Deps } from './context.js';
import { notify } from './lifecycle.js';

const actor = systemActor('sweep');

export async function remindApprovers(deps: Deps, batch = 100): Promise<number> {
  const leads = deps.settings.approverRemindersSeconds;
  let sent = 0;
  const seen = new Set<string>();
  for (;;) {
    const now = nowIso(deps);
    const due = (await deps.store.stepsDueForApproverReminder(now, batch)).filter(
      (s) => !seen.has(`${s.requestId}:${s.index}`),
    );
    if (due.length === 0) return sent;
    for (const step of due) {
      seen.add(`${step.requestId}:${step.index}`);
      sent += await remindStep(deps, step, leads);
    }
    if (due.length < batch) return sent;
  }
}

/** What is due for a step now: the lead to send (the latest reached), the ones it marks sent, and the next. */
function reminderPlan(step: Pick<StepRecord, 'startedAt' | 'remindersSent'>, leads: readonly number[], now: string) {
  const elapsed = (Date.parse(now) - Date.parse(step.startedAt ?? now)) / 1000;
  const unsent = leads.filter((l) => !step.remindersSent.includes(l));
  const reached = unsent.filter((l) => l <= elapsed);
  const next = unsent.filter((l) => l > elapsed).sort((a, b) => a - b)[0];
  return {
    lead: reached.length ? Math.max(...reached) : undefined,
    reached,
    nextAt: next !== undefined && step.startedAt ? addSeconds(step.startedAt, next) : null,
  };
}

async function remindStep(deps: Deps, due: StepRecord, leads: readonly number[]): Promise<number> {
  const request = await deps.store.getRequest(due.requestId);
  const now = nowIso(deps);
  const plan = reminderPlan(due, leads, now);
  if (!request || request.status !== 'pending_approval' || plan.lead === undefined) {
    // Nothing to send now (decided, or the settings changed): only the next time moves.
    await deps.store.transaction((tx) =>
      tx.updateStep(due.requestId, due.index, [due.status], { nextReminderAt: plan.nextAt }),
    );
    return 0;
  }
  const lead = plan.lead;
  const pending = await pendingApprovers(deps, request, due, lead);
  return await deps.store.transaction(async (tx) => {
    // Lock order (ports.ts, Store): the request before its step and the audit chain, as a decision
    // takes them (one updates the step after its audit event: holding the step first would deadlock).
    const fresh = await tx.getRequest(due.requestId);
    const step = (await tx.getSteps(due.requestId)).find((s) => s.index === due.index);
    if (
      !fresh ||
      fresh.status !== 'pending_approval' ||
      !step ||
      step.status !== 'open' ||
      JSON.stringify(step.remindersSent) !== JSON.stringify(due.remindersSent)
    )
      return 0;
    const remindersSent = [...new Set([...step.remindersSent, ...plan.reached])].sort((a, b) => a - b);
    if (!(await tx.updateStep(step.requestId, step.index, ['open'], { remindersSent, nextReminderAt: plan.nextAt })))
      return 0;
    // Those still pending when the reminder is recorded: a decision since the live read drops out.
    const used = usedPeople(await tx.getDecisions(request.id));
    const people = pending.filter((id) => !used.has(id));
    // Nobody left to remind (everyone decided or left the group): the channel is not pinged either.
    const recipients: (PersonRecipient | ChannelRecipient)[] = step.notifyChannel
      ? people.length
        ? [{ kind: 'channel', channel: step.notifyChannel }]
        : []
      : people.map((directoryId) => ({ kind: 'person', directoryId }));
    // A delegate in force decides for an approver who is away: they are reminded by DM too.
    for (const delegate of await delegatesOf(tx, now, people, request.requester.directoryId)) {
      if (!used.has(delegate.directoryId)) recipients.push({ kind: 'person', directoryId: delegate.directoryId });
    }
    await tx.appendAudit({
      at: now,
      actor,
      action: 'step.reminded',
      requestId: request.id,
      details: {
        step: step.index + 1,
        leadSeconds: lead,
        to: recipients.map((r) => (r.kind === 'channel' ? r.channel : r.directoryId)),
      },
    });
    for (const recipient of recipients) {
      const who = recipient.kind === 'channel' ? recipient.channel : recipient.directoryId;
      await notify(tx, now, `approval-reminder:${request.id}:${step.index}:${lead}:${who}`, {
        type: 'approval.reminder',
        recipient,
        requestId: request.id,
        stepIndex: step.index,
        leadSeconds: lead,
      });
    }
    return recipients.length;
  });
}

/**
 * The step's approvers who have not decided and are still approvers by the live directory. Read
 * before the transaction (the directory is never read inside one). People an escalation added are
 * reminded only of the time they have been asked: not at a lead the step reached before they were.
 */
async function pendingApprovers(deps: Deps, request: AccessRequest, step: StepRecord, lead: number): Promise<string[]> {
  const used = usedPeople(await deps.store.getDecisions(request.id));
  const remindedAt = step.startedAt ? addSeconds(step.startedAt, lead) : null;
  const out: string[] = [];
  for (const approver of stepApprovers(step)) {
    const id = approver.directoryId;
    if (used.has(id) || id === request.requester.directoryId) continue;
    const addedLater = !step.approvers.some((a) => a.directoryId === id) && step.escalatedAt !== null;
    if (addedLater && remindedAt !== null && remindedAt <= step.escalatedAt!) continue;
    const person = await deps.directory.getPerson(id);
    if (!person?.active) continue;
    if (await approverLeft(deps, step, request, id, approver.name)) continue;
    out.push(id);
  }
  return out;
}
