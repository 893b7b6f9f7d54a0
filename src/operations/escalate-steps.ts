/**
 * Escalation: a step whose policy says `escalate_after` / `escalate_to`, still undecided that long
 * after it started, gets the escalation target's people as approvers too (the step's own
 * approvers stay). The sweep re-derives what is due from the database (`stepsDueToEscalate`),
 * reads the target live, and escalates each step once, in a transaction that re-checks it is still
 * open: the new approvers are asked, the earlier ones and the requester are told, and every copy
 * of the step's message shows it escalated. The chain's rules hold for the people added: never the
 * requester, nobody inactive, nobody who decided (or was stood in for on) another step.
 */
import { systemActor } from '../domain/audit.js';
import { peopleRuleLabel } from '../domain/break-glass.js';
import { describeDuration } from '../domain/duration.js';
import type { Person } from '../domain/person.js';
import type { StepRecord } from '../domain/records.js';
import { refOf } from './acting-person.js';
import { isStepApprover, peopleOf, usedPeople } from './approver-rules.js';
import { nowIso, type Deps } from './context.js';
import { askApprovers, notify, requesterRecipient, settleApprovalMessages } from './lifecycle.js';

const actor = systemActor('escalation');

export async function escalateSteps(deps: Deps, batch = 100): Promise<number> {
  let escalated = 0;
  const seen = new Set<string>();
  for (;;) {
    const now = nowIso(deps);
    const due = (await deps.store.stepsDueToEscalate(now, batch)).filter((s) => !seen.has(`${s.requestId}:${s.index}`));
    if (due.length === 0) return escalated;
    for (const step of due) {
      seen.add(`${step.requestId}:${step.index}`);
      if (await escalateStep(deps, step)) escalated++;
    }
    if (due.length < batch) return escalated;
  }
}

/** Escalates one due step; false when it was decided (or escalated) meanwhile. */
async function escalateStep(deps: Deps, due: StepRecord): Promise<boolean> {
  const escalation = due.step.escalation;
  // Read live before the transaction: who the target names now.
  const target: Person[] = escalation ? await peopleOf(deps.directory, escalation.to) : [];
  const now = nowIso(deps);
  return await deps.store.transaction(async (tx) => {
    // Lock order (ports.ts, Store): the request first, as a decision takes it, then its steps.
    const fresh = await tx.getRequest(due.requestId);
    const step = (await tx.getSteps(due.requestId)).find((s) => s.index === due.index);
    if (
      !step ||
      !fresh ||
      step.status !== 'open' ||
      step.escalatedAt !== null ||
      fresh.status !== 'pending_approval' ||
      fresh.currentStep !== step.index
    ) {
      // Nothing left to escalate: it is not due any more.
      if (step && step.escalatedAt === null)
        await tx.updateStep(step.requestId, step.index, [step.status], { escalateAt: null });
      return false;
    }
    if (!escalation) {
      await tx.updateStep(step.requestId, step.index, ['open'], { escalateAt: null });
      return false;
    }
    const used = usedPeople(await tx.getDecisions(fresh.id));
    const added: Person[] = [];
    const excluded: { email: string; reason: string }[] = [];
    for (const person of target) {
      if (added.some((p) => p.id === person.id)) continue;
      if (person.id === fresh.requester.directoryId) excluded.push({ email: person.email, reason: 'requester' });
      else if (!person.active) excluded.push({ email: person.email, reason: 'inactive' });
      else if (used.has(person.id)) excluded.push({ email: person.email, reason: 'decided another step' });
      else if (isStepApprover(step, person.id)) excluded.push({ email: person.email, reason: 'already an approver' });
      else added.push(person);
    }
    const escalationApprovers = added.map((p) => refOf(p));
    if (!(await tx.updateStep(step.requestId, step.index, ['open'], { escalatedAt: now, escalationApprovers })))
      return false;
    const to = peopleRuleLabel(escalation.to);
    await tx.appendAudit({
      at: now,
      actor,
      action: 'step.escalated',
      requestId: fresh.id,
      details: {
        step: step.index + 1,
        after: describeDuration(escalation.afterSeconds),
        to,
        added: added.map((p) => p.email),
        excluded,
        ...(added.length === 0 ? { note: 'nobody could be added: the step waits for its own approvers' } : {}),
      },
    });
    if (added.length === 0) return true;
    // The people added are asked by DM, even for a channel step: they may not be in that channel.
    await askApprovers(
      tx,
      now,
      fresh,
      step.index,
      null,
      added.map((p) => p.id),
    );
    // Every earlier copy of the step's message shows it escalated, and its earlier approvers hear it.
    await settleApprovalMessages(tx, now, fresh, step, 'escalated');
    const told = step.notifyChannel
      ? [{ kind: 'channel' as const, channel: step.notifyChannel }]
      : step.approvers.map((a) => ({ kind: 'person' as const, directoryId: a.directoryId }));
    for (const recipient of told) {
      const who = recipient.kind === 'channel' ? recipient.channel : recipient.directoryId;
      await notify(tx, now, `escalated:${fresh.id}:${step.index}:${who}`, {
        type: 'approval.escalated',
        recipient,
        requestId: fresh.id,
        stepIndex: step.index,
      });
    }
    await notify(tx, now, `step-escalated:${fresh.id}:${step.index}`, {
      type: 'step.escalated',
      recipient: requesterRecipient(fresh),
      requestId: fresh.id,
      stepIndex: step.index,
    });
    return true;
  });
}
