/**
 * A role's policy in one line, evaluated for the person reading it: "automatic for you up to 1
 * day; longer needs your manager", never "(or automatic)" for someone it can never apply to. Pure:
 * the adapter passes the person's live groups and the names of people the chain names.
 */
import type { ApprovalStep, Role } from '../src/domain/policy.js';
import { duration, fromGroup, groupName, list } from './format.js';
import { LIMITS, truncate } from './limits.js';

/** A named approver (`user:` step) by email -> "Grace Hopper (CISO)", when the directory said. */
export type ApproverNames = Record<string, string>;

function stepWords(step: ApprovalStep, approverNames: ApproverNames): string {
  switch (step.kind) {
    case 'manager':
      return 'your manager';
    case 'user':
      return approverNames[step.user.toLowerCase()] ?? step.user;
    case 'group':
      return fromGroup(step.minApprovals, step.group);
  }
}

/** "your manager, then 2 people from Security team, then Grace Hopper (CISO)". */
function chainWords(steps: readonly ApprovalStep[], approverNames: ApproverNames = {}): string {
  return steps.map((s) => stepWords(s, approverNames)).join(', then ');
}

/** Whether the role's auto-approval can apply to someone in `groups` (at some duration). */
function autoFor(
  role: Role,
  groups: readonly string[],
): { applies: false } | { applies: true; upToSeconds: number | undefined } {
  const when = role.autoApprove;
  if (!when) return { applies: false };
  const inGroup = !when.requesterGroups || when.requesterGroups.some((g) => groups.includes(g));
  return inGroup ? { applies: true, upToSeconds: when.maxDurationSeconds } : { applies: false };
}

/**
 * The long form, for the request form and the App Home: who decides, for this person, and the
 * longest they may ask for.
 */
export function roleSummary(role: Role, groups: readonly string[], approverNames: ApproverNames = {}): string {
  const max = `up to ${duration(role.duration.maxSeconds)}`;
  if (role.approval === 'auto') return `Automatic, ${max}.`;
  const chain = chainWords(role.approval, approverNames);
  const auto = autoFor(role, groups);
  if (!auto.applies) return `Needs ${chain}; ${max}.`;
  if (auto.upToSeconds === undefined || auto.upToSeconds >= role.duration.maxSeconds)
    return `Automatic for you, ${max}.`;
  return `Automatic for you up to ${duration(auto.upToSeconds)}; longer (${max}) needs ${chain}.`;
}

/** The short form, for a select option's description (Slack allows 75 characters). */
export function roleSummaryShort(role: Role, groups: readonly string[]): string {
  const max = `up to ${duration(role.duration.maxSeconds)}`;
  if (role.approval === 'auto') return `automatic · ${max}`;
  const n = role.approval.length;
  const needs = n === 1 ? `needs ${stepWords(role.approval[0]!, {})}` : `needs ${n} approvals`;
  const auto = autoFor(role, groups);
  if (!auto.applies) return truncate(`${needs} · ${max}`, LIMITS.optionDescription);
  if (auto.upToSeconds === undefined || auto.upToSeconds >= role.duration.maxSeconds)
    return truncate(`automatic for you · ${max}`, LIMITS.optionDescription);
  return truncate(
    `automatic for you up to ${duration(auto.upToSeconds)}; longer ${needs} · ${max}`,
    LIMITS.optionDescription,
  );
}

/** Who the people a `user:` step names are, for summaries: "ciso@example.com" -> "Grace Hopper (CISO)". */
export function userSteps(role: Role): string[] {
  return role.approval === 'auto'
    ? []
    : role.approval.flatMap((s) => (s.kind === 'user' ? [s.user.toLowerCase()] : []));
}

/** Why a request of this role was approved without a chain, in words; null when it cannot be. */
export function autoApproveWords(role: Role): string | null {
  if (role.approval === 'auto') return 'every request for this role is approved at once';
  const when = role.autoApprove;
  if (!when) return null;
  const who = when.requesterGroups ? `members of ${list(when.requesterGroups.map(groupName))}` : 'everyone who may ask';
  return `it is automatic for ${who}${when.maxDurationSeconds !== undefined ? `, up to ${duration(when.maxDurationSeconds)}` : ''}`;
}
