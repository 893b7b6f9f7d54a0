/**
 * Policy evaluation: a pure function of (policy, the requester's directory facts, the request, now).
 * Every outcome carries the rule and the fact that decided it, so `explain` can show its work.
 */
import { DURATION_PRESETS_SECONDS, describeDuration } from './duration.js';
import type { Person } from './person.js';
import type { AppPolicy, ApprovalStep, Role } from './policy.js';

/** What the directory says about the requester and the people a chain may ask. */
export interface DirectoryFacts {
  requester: Person;
  /** Names of the groups the requester belongs to. */
  requesterGroups: string[];
  /** The requester's manager, or null when the directory names none (or names someone unknown). */
  manager: Person | null;
  /** Members of every group a step names, and of the admin group. */
  groupMembers: Record<string, Person[]>;
  /** The person behind each `user:` step, or null when the directory does not know them. */
  users: Record<string, Person | null>;
  adminGroup: string;
}

export interface RequestInput {
  durationSeconds?: number;
  justification?: string;
}

export interface Exclusion {
  person: Person;
  reason: 'requester' | 'inactive' | 'decided_earlier_step';
}

export interface ResolvedStep {
  /** 0-based position in the chain. */
  index: number;
  step: ApprovalStep;
  /** "manager", "group security-team", "user ciso@example.com", with "admin fallback" appended when used. */
  label: string;
  /** Distinct approvals this step needs. */
  required: number;
  /** The people who may decide this step, after exclusions (and after the fallback, if any). */
  approvers: Person[];
  excluded: Exclusion[];
  /** Set when the step itself could not be satisfied and the admin group decides instead. */
  fallback?: { reason: string };
  /** Channel where one shared message replaces DMs to each approver. */
  notifyChannel?: string;
  /** False when even the admin fallback has fewer than `required` people. */
  satisfiable: boolean;
}

export interface DurationEvaluation {
  defaultSeconds: number;
  maxSeconds: number;
  /** Default first (pre-selected), then presets below the maximum, then the maximum. */
  choices: number[];
  requested: { seconds: number; ok: boolean; reason: string };
}

export interface ConditionCheck {
  condition: string;
  holds: boolean;
  fact: string;
}

export interface AutoApproveEvaluation {
  applies: boolean;
  rule: 'approval: auto' | 'auto_approve.when' | null;
  reason: string;
  conditions: ConditionCheck[];
}

export type Outcome = 'not_eligible' | 'invalid_request' | 'auto_approved' | 'needs_approval' | 'unsatisfiable';

export interface Evaluation {
  app: string;
  appName: string;
  role: string;
  roleName: string;
  policyName: string;
  policyVersion: string;
  requester: Person;
  at: string;
  eligibility: { eligible: boolean; reason: string; matchedGroup?: string };
  duration: DurationEvaluation;
  justification: { required: boolean; ok: boolean; reason: string };
  autoApprove: AutoApproveEvaluation;
  chain: ResolvedStep[];
  outcome: Outcome;
  /** One sentence: why this outcome. */
  summary: string;
}

/** The duration choices a requester is offered: default, presets below the maximum, the maximum. */
export function durationChoices(role: Role): number[] {
  const { defaultSeconds, maxSeconds } = role.duration;
  const set = new Set<number>([defaultSeconds]);
  for (const preset of DURATION_PRESETS_SECONDS) if (preset < maxSeconds) set.add(preset);
  set.add(maxSeconds);
  const rest = [...set].filter((s) => s !== defaultSeconds).sort((a, b) => a - b);
  return [defaultSeconds, ...rest];
}

export function checkEligibility(role: Role, requester: Person, requesterGroups: string[]): Evaluation['eligibility'] {
  if (!requester.active) {
    return {
      eligible: false,
      reason: `${requester.email} is not active in the directory (status ${requester.status})`,
    };
  }
  const mine = new Set(requesterGroups);
  const matchedGroup = role.eligibleGroups.find((g) => mine.has(g));
  if (matchedGroup) return { eligible: true, reason: `member of eligible group ${matchedGroup}`, matchedGroup };
  return {
    eligible: false,
    reason: `not a member of any eligible group (${role.eligibleGroups.join(', ')})`,
  };
}

function checkDuration(role: Role, requestedSeconds: number | undefined): DurationEvaluation {
  const { defaultSeconds, maxSeconds } = role.duration;
  const seconds = requestedSeconds ?? defaultSeconds;
  let requested: DurationEvaluation['requested'];
  if (!Number.isInteger(seconds) || seconds <= 0) {
    requested = { seconds, ok: false, reason: 'the duration must be a positive number of seconds' };
  } else if (seconds > maxSeconds) {
    requested = {
      seconds,
      ok: false,
      reason: `${describeDuration(seconds)} is longer than the maximum of ${describeDuration(maxSeconds)}`,
    };
  } else {
    requested = {
      seconds,
      ok: true,
      reason:
        requestedSeconds === undefined
          ? `the default, ${describeDuration(seconds)}`
          : `${describeDuration(seconds)}, within the maximum of ${describeDuration(maxSeconds)}`,
    };
  }
  return { defaultSeconds, maxSeconds, choices: durationChoices(role), requested };
}

function checkJustification(role: Role, justification: string | undefined): Evaluation['justification'] {
  const required = role.justification === 'required';
  const given = (justification ?? '').trim().length > 0;
  if (required && !given) return { required, ok: false, reason: 'this role requires a justification' };
  return { required, ok: true, reason: given ? 'given' : 'optional, none given' };
}

export function checkAutoApprove(
  role: Role,
  requesterGroups: string[],
  durationSeconds: number,
): AutoApproveEvaluation {
  if (role.approval === 'auto') {
    return {
      applies: true,
      rule: 'approval: auto',
      reason: 'the policy approves every eligible request',
      conditions: [],
    };
  }
  const when = role.autoApprove;
  if (!when) return { applies: false, rule: null, reason: 'no auto-approve rule', conditions: [] };
  const conditions: ConditionCheck[] = [];
  if (when.requesterGroups) {
    const mine = new Set(requesterGroups);
    const hit = when.requesterGroups.find((g) => mine.has(g));
    conditions.push({
      condition: `requester in any of ${when.requesterGroups.join(', ')}`,
      holds: hit !== undefined,
      fact: hit ? `member of ${hit}` : 'member of none of them',
    });
  }
  if (when.maxDurationSeconds !== undefined) {
    conditions.push({
      condition: `duration at most ${describeDuration(when.maxDurationSeconds)}`,
      holds: durationSeconds <= when.maxDurationSeconds,
      fact: `requested ${describeDuration(durationSeconds)}`,
    });
  }
  const applies = conditions.length > 0 && conditions.every((c) => c.holds);
  const failed = conditions.find((c) => !c.holds);
  return {
    applies,
    rule: applies ? 'auto_approve.when' : null,
    reason: applies
      ? 'every auto_approve condition holds'
      : failed
        ? `auto_approve does not apply: ${failed.condition} (${failed.fact})`
        : 'auto_approve has no conditions',
    conditions,
  };
}

function stepLabel(step: ApprovalStep): string {
  switch (step.kind) {
    case 'manager':
      return 'manager';
    case 'user':
      return `user ${step.user}`;
    case 'group':
      return `group ${step.group}`;
  }
}

function stepCandidates(step: ApprovalStep, facts: DirectoryFacts): { people: Person[]; missing?: string } {
  switch (step.kind) {
    case 'manager':
      return facts.manager
        ? { people: [facts.manager] }
        : { people: [], missing: `${facts.requester.email} has no manager in the directory` };
    case 'user': {
      const person = facts.users[step.user.toLowerCase()] ?? facts.users[step.user] ?? null;
      return person ? { people: [person] } : { people: [], missing: `${step.user} is not in the directory` };
    }
    case 'group': {
      const members = facts.groupMembers[step.group];
      return members ? { people: members } : { people: [], missing: `group ${step.group} is not in the directory` };
    }
  }
}

function exclude(
  people: Person[],
  requesterId: string,
  decidedEarlier: ReadonlySet<string>,
): { kept: Person[]; excluded: Exclusion[] } {
  const kept: Person[] = [];
  const excluded: Exclusion[] = [];
  const seen = new Set<string>();
  for (const person of people) {
    if (seen.has(person.id)) continue;
    seen.add(person.id);
    if (person.id === requesterId) excluded.push({ person, reason: 'requester' });
    else if (!person.active) excluded.push({ person, reason: 'inactive' });
    else if (decidedEarlier.has(person.id)) excluded.push({ person, reason: 'decided_earlier_step' });
    else kept.push(person);
  }
  return { kept, excluded };
}

/**
 * Resolves one step to concrete people, as it must be when the step starts: the requester,
 * inactive people and anyone who decided an earlier step are excluded; if fewer than the required
 * number remain, the admin group decides instead, and the reason is kept.
 */
export function resolveStep(
  step: ApprovalStep,
  index: number,
  facts: DirectoryFacts,
  decidedEarlier: ReadonlySet<string> = new Set(),
): ResolvedStep {
  const required = step.kind === 'group' ? step.minApprovals : 1;
  const label = stepLabel(step);
  const notifyChannel = step.kind === 'group' ? step.notify : undefined;
  const candidates = stepCandidates(step, facts);
  const { kept, excluded } = exclude(candidates.people, facts.requester.id, decidedEarlier);
  if (kept.length >= required) {
    return { index, step, label, required, approvers: kept, excluded, notifyChannel, satisfiable: true };
  }
  const why = candidates.missing ?? describeShortfall(step, required, kept.length, excluded);
  const admins = exclude(facts.groupMembers[facts.adminGroup] ?? [], facts.requester.id, decidedEarlier);
  return {
    index,
    step,
    label: `${label} (admin fallback: ${facts.adminGroup})`,
    required,
    approvers: admins.kept,
    excluded: [...excluded, ...admins.excluded],
    fallback: { reason: `${why}; the admin group ${facts.adminGroup} decides instead` },
    // The fallback asks admins directly: the step's channel is for the step's own group.
    notifyChannel: undefined,
    satisfiable: admins.kept.length >= required,
  };
}

function describeShortfall(step: ApprovalStep, required: number, available: number, excluded: Exclusion[]): string {
  const reasons = excluded.map((e) => `${e.person.email} (${e.reason.replaceAll('_', ' ')})`).join(', ');
  const because = reasons ? `; excluded: ${reasons}` : '';
  if (step.kind === 'group')
    return `group ${step.group} has ${available} eligible approver${available === 1 ? '' : 's'}, ${required} needed${because}`;
  if (step.kind === 'manager') return `the manager cannot approve${because}`;
  return `${step.user} cannot approve${because}`;
}

/**
 * Resolves the whole chain as it would start now. People who appear in several steps stay
 * candidates for each (one person satisfies at most one step, enforced when they decide), but the
 * chain is unsatisfiable when there are not enough distinct people for all steps together.
 */
export function resolveChain(
  role: Role,
  facts: DirectoryFacts,
): { steps: ResolvedStep[]; satisfiable: boolean; reason?: string } {
  if (role.approval === 'auto') return { steps: [], satisfiable: true };
  const steps = role.approval.map((step, index) => resolveStep(step, index, facts));
  const unsatisfied = steps.find((s) => !s.satisfiable);
  if (unsatisfied) {
    return {
      steps,
      satisfiable: false,
      reason: `step ${unsatisfied.index + 1} (${unsatisfied.label}) needs ${unsatisfied.required} approver(s) but only ${unsatisfied.approvers.length} can decide`,
    };
  }
  // At run time a step whose own people already decided earlier steps falls back to the admins,
  // so each step may be filled from its own approvers or the admin group.
  const admins = exclude(facts.groupMembers[facts.adminGroup] ?? [], facts.requester.id, new Set()).kept;
  const withFallback = steps.map((s) => ({
    required: s.required,
    approvers: s.fallback
      ? s.approvers
      : [...s.approvers, ...admins.filter((a) => !s.approvers.some((p) => p.id === a.id))],
  }));
  if (!distinctAssignmentExists(withFallback)) {
    return {
      steps,
      satisfiable: false,
      reason: 'there are not enough distinct approvers for every step (one person approves at most one step)',
    };
  }
  return { steps, satisfiable: true };
}

/**
 * Can each step get `required` distinct people, nobody used twice? An exact answer: a bipartite
 * matching of step seats to people by augmenting paths (a greedy pick can use up someone another
 * step needs: seats {a,b,c}x2, {a,b}x1, {c,d}x1 is satisfiable, but not if the first step takes a and b).
 */
export function distinctAssignmentExists(steps: Pick<ResolvedStep, 'required' | 'approvers'>[]): boolean {
  const seats = steps.flatMap((step) => Array.from({ length: step.required }, () => step.approvers.map((p) => p.id)));
  const seatOf = new Map<string, number>();
  const tryAssign = (seat: number, visited: Set<string>): boolean => {
    for (const id of seats[seat] ?? []) {
      if (visited.has(id)) continue;
      visited.add(id);
      const holder = seatOf.get(id);
      if (holder === undefined || tryAssign(holder, visited)) {
        seatOf.set(id, seat);
        return true;
      }
    }
    return false;
  };
  return seats.every((_, seat) => tryAssign(seat, new Set()));
}

/** Evaluates a request against a role's policy. Never throws for policy reasons: the outcome says. */
export function evaluate(
  app: AppPolicy,
  role: Role,
  policyVersion: string,
  facts: DirectoryFacts,
  request: RequestInput,
  now: Date,
): Evaluation {
  const eligibility = checkEligibility(role, facts.requester, facts.requesterGroups);
  const duration = checkDuration(role, request.durationSeconds);
  const justification = checkJustification(role, request.justification);
  const autoApprove = checkAutoApprove(role, facts.requesterGroups, duration.requested.seconds);
  const chain = autoApprove.applies ? { steps: [], satisfiable: true } : resolveChain(role, facts);

  let outcome: Outcome;
  let summary: string;
  if (!eligibility.eligible) {
    outcome = 'not_eligible';
    summary = `Not eligible: ${eligibility.reason}.`;
  } else if (!duration.requested.ok) {
    outcome = 'invalid_request';
    summary = `Invalid duration: ${duration.requested.reason}.`;
  } else if (!justification.ok) {
    outcome = 'invalid_request';
    summary = `Missing justification: ${justification.reason}.`;
  } else if (autoApprove.applies) {
    outcome = 'auto_approved';
    summary = `Approved automatically (${autoApprove.rule}): ${autoApprove.reason}.`;
  } else if (!chain.satisfiable) {
    outcome = 'unsatisfiable';
    summary = `No one can approve this request: ${chain.reason}.`;
  } else {
    outcome = 'needs_approval';
    const n = chain.steps.length;
    summary = `Eligible; needs ${n} approval step${n === 1 ? '' : 's'}: ${chain.steps.map((s) => s.label).join(' -> ')}.`;
  }

  return {
    app: app.app,
    appName: app.name,
    role: role.id,
    roleName: role.name,
    policyName: role.policy,
    policyVersion,
    requester: facts.requester,
    at: now.toISOString(),
    eligibility,
    duration,
    justification,
    autoApprove,
    chain: chain.steps,
    outcome,
    summary,
  };
}
