/**
 * Break-glass: emergency access without waiting for approvers, for roles whose policy declares
 * `break_glass`. Pure: who may use it now, for how long, and on what grounds; each answer carries
 * the rule and the fact that decided it, like `evaluate()`.
 */
import { DURATION_PRESETS_SECONDS, describeDuration } from './duration.js';
import type { Person } from './person.js';
import type { BreakGlassRule, PeopleRule, Role } from './policy.js';

export type BreakGlassOutcome =
  'not_allowed' | 'not_eligible' | 'invalid_duration' | 'justification_required' | 'allowed';

export interface BreakGlassCheck {
  outcome: BreakGlassOutcome;
  /** One sentence: why this outcome. */
  reason: string;
  /** The duration it would be granted for (the default when none was asked). */
  seconds: number;
  /** The choices a person is offered: presets below the cap, then the cap; the default first. */
  choices: number[];
  defaultSeconds: number;
  maxSeconds: number;
  /** The eligible group that matched, when one did. */
  matchedGroup?: string;
}

/** The longest a break-glass grant of this role may last: its `max`, and never more than `duration.max`. */
export function breakGlassMaxSeconds(role: Role, rule: BreakGlassRule): number {
  return Math.min(rule.maxSeconds, role.duration.maxSeconds);
}

/** Who may use it: the rule's own groups, else the role's. */
function breakGlassGroups(role: Role, rule: BreakGlassRule): string[] {
  return rule.eligibleGroups ?? role.eligibleGroups;
}

/** The duration offered first: the role's default, when it is within the cap, else the cap. */
function breakGlassDefaultSeconds(role: Role, rule: BreakGlassRule): number {
  return Math.min(role.duration.defaultSeconds, breakGlassMaxSeconds(role, rule));
}

function breakGlassChoices(role: Role, rule: BreakGlassRule): number[] {
  const max = breakGlassMaxSeconds(role, rule);
  const defaultSeconds = breakGlassDefaultSeconds(role, rule);
  const rest = [...new Set([...DURATION_PRESETS_SECONDS.filter((s) => s < max), max])]
    .filter((s) => s !== defaultSeconds)
    .sort((a, b) => a - b);
  return [defaultSeconds, ...rest];
}

/**
 * Whether this person may take emergency access to the role now: the role must allow it, the
 * person be active and in one of its groups, the duration within the cap, and a justification given
 * (always required: the reviewers read it afterwards).
 */
export function checkBreakGlass(
  role: Role,
  requester: Person,
  requesterGroups: readonly string[],
  request: { durationSeconds?: number | undefined; justification?: string | undefined },
): BreakGlassCheck {
  const rule = role.breakGlass;
  if (!rule) {
    const base = { seconds: 0, choices: [], defaultSeconds: 0, maxSeconds: 0 };
    return { ...base, outcome: 'not_allowed', reason: 'the role has no break_glass rule' };
  }
  const maxSeconds = breakGlassMaxSeconds(role, rule);
  const defaultSeconds = breakGlassDefaultSeconds(role, rule);
  const seconds = request.durationSeconds ?? defaultSeconds;
  const base = { seconds, choices: breakGlassChoices(role, rule), defaultSeconds, maxSeconds };
  if (!requester.active) {
    return {
      ...base,
      outcome: 'not_eligible',
      reason: `${requester.email} is not active in the directory (status ${requester.status})`,
    };
  }
  const groups = breakGlassGroups(role, rule);
  const mine = new Set(requesterGroups);
  const matchedGroup = groups.find((g) => mine.has(g));
  if (!matchedGroup) {
    const whose = rule.eligibleGroups ? 'break_glass.eligible_groups' : 'eligible_groups';
    return { ...base, outcome: 'not_eligible', reason: `not a member of any group in ${whose} (${groups.join(', ')})` };
  }
  if (!Number.isInteger(seconds) || seconds <= 0) {
    return {
      ...base,
      matchedGroup,
      outcome: 'invalid_duration',
      reason: 'the duration must be a positive number of seconds',
    };
  }
  if (seconds > maxSeconds) {
    return {
      ...base,
      matchedGroup,
      outcome: 'invalid_duration',
      reason: `${describeDuration(seconds)} is longer than emergency access allows (${describeDuration(maxSeconds)})`,
    };
  }
  if (!(request.justification ?? '').trim()) {
    return {
      ...base,
      matchedGroup,
      outcome: 'justification_required',
      reason: 'emergency access always needs a justification: the reviewers read it afterwards',
    };
  }
  return {
    ...base,
    matchedGroup,
    outcome: 'allowed',
    reason: `member of ${matchedGroup}; ${describeDuration(seconds)}, within ${describeDuration(maxSeconds)}`,
  };
}

/** "group security-team", "user ciso@example.com": the rule as the audit log names it. */
export function peopleRuleLabel(rule: PeopleRule): string {
  return rule.kind === 'group' ? `group ${rule.group}` : `user ${rule.user}`;
}
