/**
 * Who may decide a step, as the directory says now. Approvers are resolved when a step opens (and
 * when it escalates); when one decides, or is reminded, the rule that made them an approver must
 * still hold (L2): still in the step's group (or the admin group, for a fallback), still the
 * requester's manager, still in the escalation target. Delegations add people who decide for an
 * approver while the delegation is active; `usedPeople` is the one-person-one-step rule's memory.
 */
import { PermanentError } from '../domain/errors.js';
import type { Person } from '../domain/person.js';
import type { PeopleRule } from '../domain/policy.js';
import type { AccessRequest, DecisionRecord, Delegation, PersonRef, StepRecord } from '../domain/records.js';
import type { Deps } from './context.js';
import type { Directory, StoreReads } from './ports.js';

/** Everyone who may decide the step: its own approvers, then the people its escalation added. */
export function stepApprovers(step: StepRecord): PersonRef[] {
  const seen = new Set(step.approvers.map((a) => a.directoryId));
  return [...step.approvers, ...step.escalationApprovers.filter((a) => !seen.has(a.directoryId))];
}

export function isStepApprover(step: StepRecord, personId: string): boolean {
  return (
    step.approvers.some((a) => a.directoryId === personId) ||
    step.escalationApprovers.some((a) => a.directoryId === personId)
  );
}

/**
 * The people a request's decisions used up: each decider, and each approver someone decided for.
 * One person satisfies at most one step, whether they decided or their delegate did.
 */
export function usedPeople(decisions: readonly DecisionRecord[]): Set<string> {
  const used = new Set<string>();
  for (const d of decisions) {
    used.add(d.approver.directoryId);
    if (d.onBehalfOf) used.add(d.onBehalfOf.directoryId);
  }
  return used;
}

/** The decision that used this person up (theirs, or one made for them), if any. */
export function decisionUsing(decisions: readonly DecisionRecord[], personId: string): DecisionRecord | undefined {
  return decisions.find((d) => d.approver.directoryId === personId || d.onBehalfOf?.directoryId === personId);
}

/** Whether a delegation lets its delegate act now (active, and not past its end). */
export function delegationInForce(delegation: Delegation, now: string): boolean {
  return delegation.status === 'active' && delegation.startsAt <= now && now < delegation.endsAt;
}

/**
 * Null when the person may still decide the step by the rule that made them an approver, else
 * why not ("you are no longer in security-team"). `who` words it for the person asking ("you") or
 * about someone else ("Marcus Chen").
 */
export async function approverLeft(
  deps: Pick<Deps, 'directory' | 'settings'>,
  step: StepRecord,
  request: AccessRequest,
  personId: string,
  who = 'you',
): Promise<string | null> {
  const own = step.approvers.some((a) => a.directoryId === personId);
  const escalated = step.escalationApprovers.some((a) => a.directoryId === personId);
  const is = who === 'you' ? 'are' : 'is';
  let left: string | null = `${who} ${is} not an approver of this step`;
  if (own) {
    left = await ownRuleLeft(deps, step, request, personId, who, is);
    if (left === null) return null;
  }
  if (escalated && step.step.escalation) {
    const target = step.step.escalation.to;
    if (await inPeopleRule(deps.directory, target, personId)) return null;
    left =
      target.kind === 'group' ? `${who} ${is} no longer in ${target.group}` : `${who} ${is} no longer ${target.user}`;
  }
  return left;
}

async function ownRuleLeft(
  deps: Pick<Deps, 'directory' | 'settings'>,
  step: StepRecord,
  request: AccessRequest,
  personId: string,
  who: string,
  is: string,
): Promise<string | null> {
  if (step.fallbackReason) {
    return (await deps.directory.isMember(personId, deps.settings.adminGroup))
      ? null
      : `${who} ${is} no longer in ${deps.settings.adminGroup}`;
  }
  switch (step.step.kind) {
    case 'group':
      return (await deps.directory.isMember(personId, step.step.group))
        ? null
        : `${who} ${is} no longer in ${step.step.group}`;
    case 'manager': {
      const manager = await deps.directory.managerOf(request.requester.directoryId);
      return manager?.id === personId ? null : `${who} ${is} no longer ${request.requester.name}'s manager`;
    }
    case 'user':
      return null;
  }
}

/** Whether the person is one of the people a rule names, as the directory says now. */
export async function inPeopleRule(directory: Directory, rule: PeopleRule, personId: string): Promise<boolean> {
  if (rule.kind === 'group') return directory.isMember(personId, rule.group);
  const named = await directory.findPerson(rule.user);
  return named?.id === personId;
}

/** The people a rule names now (a group that does not exist names nobody). */
export async function peopleOf(directory: Directory, rule: PeopleRule): Promise<Person[]> {
  if (rule.kind === 'user') {
    const person = await directory.findPerson(rule.user);
    return person ? [person] : [];
  }
  try {
    return await directory.membersOf(rule.group);
  } catch (error) {
    // Only a definite "no such group" names nobody; an outage reaches the caller.
    if (error instanceof PermanentError) return [];
    throw error;
  }
}

/**
 * The delegation through which `delegateId` may decide `step` now, for whom: an active delegation
 * from one of the step's approvers who is not the requester and not used up on this request.
 * The first such approver wins (delegations oldest first).
 */
export async function delegationFor(
  reads: Pick<StoreReads, 'activeDelegationsTo'>,
  input: {
    delegateId: string;
    step: StepRecord;
    request: AccessRequest;
    decisions: readonly DecisionRecord[];
    now: string;
  },
): Promise<{ delegation: Delegation; usable: boolean } | undefined> {
  const delegations = (await reads.activeDelegationsTo(input.delegateId)).filter(
    (d) => delegationInForce(d, input.now) && isStepApprover(input.step, d.delegator.directoryId),
  );
  if (delegations.length === 0) return undefined;
  const used = usedPeople(input.decisions);
  const usable = delegations.find(
    (d) => d.delegator.directoryId !== input.request.requester.directoryId && !used.has(d.delegator.directoryId),
  );
  return usable ? { delegation: usable, usable: true } : { delegation: delegations[0]!, usable: false };
}

/** The people an approval ask also goes to: the delegates in force of these approvers (not the requester). */
export async function delegatesOf(
  reads: Pick<StoreReads, 'activeDelegationsBy'>,
  now: string,
  approverIds: readonly string[],
  requesterId: string,
): Promise<PersonRef[]> {
  const out: PersonRef[] = [];
  const asked = new Set(approverIds);
  const byDelegator = new Map((await reads.activeDelegationsBy(approverIds)).map((d) => [d.delegator.directoryId, d]));
  // In the approvers' order, so the asks (and their keys) come out as they did one read at a time.
  for (const id of approverIds) {
    const delegation = byDelegator.get(id);
    if (!delegation || !delegationInForce(delegation, now)) continue;
    const delegate = delegation.delegate;
    if (delegate.directoryId === requesterId || asked.has(delegate.directoryId)) continue;
    asked.add(delegate.directoryId);
    out.push(delegate);
  }
  return out;
}
